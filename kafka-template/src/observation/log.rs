//! The send span as a `tracing` span, for log subscribers: what observation
//! is without the `opentelemetry` feature (there is no trace context to
//! write, so nothing is propagated).

use kafka_core::{KafkaError, RecordMetadata, RecordRef};
use tracing::Span;
use tracing::field::Empty;

use super::{SEND_SPAN_TARGET, TraceHeaders, string_key};

/// Where send spans go: `tracing`'s subscriber, which decides by target and
/// level.
#[derive(Debug, Default)]
pub(crate) struct SendTracer;

impl SendTracer {
    /// The one there is.
    pub(crate) fn global() -> SendTracer {
        SendTracer
    }
}

/// The span of one send; it ends when its last handle drops.
pub(crate) type SendSpan = Span;

/// Starts the span of sending `record` when `tracer` is given (observation
/// is on) and a subscriber wants it.
pub(crate) fn observe_send(
    tracer: Option<&SendTracer>,
    record: &RecordRef<'_>,
    client_id: Option<&str>,
    _propagate: bool,
    _trace: &mut Option<TraceHeaders>,
) -> Option<SendSpan> {
    tracer?;
    let span = tracing::info_span!(
        target: SEND_SPAN_TARGET,
        "send",
        otel.name = %format_args!("send {}", record.topic),
        otel.kind = "producer",
        otel.status_description = Empty,
        messaging.system = "kafka",
        messaging.operation.type = "send",
        messaging.operation.name = "send",
        messaging.destination.name = %record.topic,
        messaging.destination.partition.id = record.partition.map(tracing::field::display),
        messaging.kafka.offset = Empty,
        messaging.kafka.message.key = string_key(record.key),
        // Conditionally required: only when true.
        messaging.kafka.message.tombstone = record.value.is_none().then_some(true),
        messaging.client.id = client_id,
        error.type = Empty,
    );
    (!span.is_disabled()).then_some(span)
}

/// Records the outcome on `span`: where the record landed, or why it failed.
pub(crate) fn record_outcome(span: &SendSpan, outcome: Result<&RecordMetadata, &KafkaError>) {
    match outcome {
        Ok(metadata) => {
            span.record(
                "messaging.destination.partition.id",
                tracing::field::display(metadata.partition),
            );
            if let Some(offset) = metadata.offset {
                span.record("messaging.kafka.offset", offset);
            }
        }
        Err(error) => {
            span.record("error.type", error.kind_name());
            span.record("otel.status_description", tracing::field::display(error));
        }
    }
}
