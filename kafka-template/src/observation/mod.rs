//! Tracing of sends: a span per record (`template.observation-enabled`) and
//! the W3C trace context in its headers (`template.trace-propagation-enabled`).
//!
//! With the `opentelemetry` cargo feature (on by default) the send span is an
//! OpenTelemetry span, made with the tracer of the provider given to
//! [`KafkaTemplateBuilder::tracer_provider`](crate::KafkaTemplateBuilder::tracer_provider),
//! else of the global provider
//! ([`opentelemetry::global::set_tracer_provider`]) as it is when the
//! template is built. Its parent is the caller's current `tracing` span (through
//! `tracing-opentelemetry`), else the current OpenTelemetry context. The
//! provider's sampler decides at the start of the send: a span it drops costs
//! its ids and nothing else, and is still propagated (`traceparent` with the
//! sampled flag off), so that consumers follow the same decision.
//!
//! Without the feature, the send span is a `tracing` span at `INFO` with
//! target [`SEND_SPAN_TARGET`], for log subscribers; no header is written.
//!
//! Either way the span follows OpenTelemetry's messaging semantic conventions
//! ([`SEMCONV_VERSION`]) and ends when the record's outcome is known.

#[cfg(not(feature = "opentelemetry"))]
mod log;
#[cfg(feature = "opentelemetry")]
mod otel;
#[cfg(feature = "opentelemetry")]
mod span_names;
mod timer;

#[cfg(not(feature = "opentelemetry"))]
pub(crate) use log::{SendSpan, SendTracer, observe_send, record_outcome};
#[cfg(feature = "opentelemetry")]
pub(crate) use otel::{SendSpan, SendTracer, observe_send, record_outcome};
pub use timer::{DEFAULT_TEMPLATE_NAME, SEND_TIMER};
pub(crate) use timer::{SendTimers, SendTiming};

/// What watches one send: its span (when observation is on and the sampler
/// records it) and its timer (when observation is on). Small: nothing at all
/// without observation (the per-record path of most templates moves and
/// drops it), the timer alone for a send the sampler drops, shared only
/// with a span to end.
#[derive(Clone, Default)]
pub(crate) enum SendWatch {
    #[default]
    Idle,
    Timed(SendTiming),
    Watched(std::sync::Arc<Watched>),
}

pub(crate) struct Watched {
    span: SendSpan,
    timing: Option<SendTiming>,
}

impl SendWatch {
    #[inline]
    pub(crate) fn new(span: Option<SendSpan>, timing: Option<SendTiming>) -> Self {
        match (span, timing) {
            (None, None) => SendWatch::Idle,
            (None, Some(timing)) => SendWatch::Timed(timing),
            (Some(span), timing) => {
                SendWatch::Watched(std::sync::Arc::new(Watched { span, timing }))
            }
        }
    }

    /// Whether nothing watches the send.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self, SendWatch::Idle)
    }

    /// Records the outcome: on the span, which then ends with its last
    /// handle, and in the timer (`refused_at_once`: the producer refused the
    /// send instead of calling back, see [`SendTiming::finish`]).
    pub(crate) fn finish(
        &self,
        outcome: Result<&kafka_core::RecordMetadata, &kafka_core::KafkaError>,
        refused_at_once: bool,
    ) {
        match self {
            SendWatch::Idle => {}
            SendWatch::Timed(timing) => timing.finish(outcome.map(drop), refused_at_once),
            SendWatch::Watched(watched) => {
                if let Some(timing) = &watched.timing {
                    timing.finish(outcome.map(drop), refused_at_once);
                }
                record_outcome(&watched.span, outcome);
            }
        }
    }
}

/// The version of OpenTelemetry's semantic conventions whose messaging span
/// names and attributes the send span follows. Later versions (1.45 on) rename
/// some of them (`messaging.system.name`, `kafka.offset`,
/// `kafka.message.key`); the conventions are still marked *Development*, and
/// moving to a newer version would be a deliberate change.
pub const SEMCONV_VERSION: &str = "1.44.0";

/// The name of the instrumentation scope of the send spans (their tracer):
/// this crate's.
pub const INSTRUMENTATION_SCOPE: &str = "kafka-template";

/// The `tracing` target of the send span when the `opentelemetry` feature is
/// off: filter it with `kafka_template::send=info` (or `off`).
pub const SEND_SPAN_TARGET: &str = "kafka_template::send";

/// The header keys of the W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// See [`TRACEPARENT`].
pub const TRACESTATE: &str = "tracestate";

/// The length of a `traceparent` value (version 00): `00-` then 32 hex
/// digits of trace id, `-`, 16 of span id, `-` and 2 of flags.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
const TRACEPARENT_LEN: usize = 55;

/// The W3C trace context of one send, for its record's headers: handed to
/// the producer to write into the batch as it appends the record (no
/// `Header` made per record), or added to the record where it is kept.
#[derive(Debug)]
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) struct TraceHeaders {
    traceparent: [u8; TRACEPARENT_LEN],
    /// Empty when there is no trace state: no `tracestate` header then.
    tracestate: String,
}

#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
impl TraceHeaders {
    /// The headers as the producer takes them: the first `.1` of `.0`.
    pub(crate) fn headers(&self) -> ([(&'static str, &[u8]); 2], usize) {
        let headers = [
            (TRACEPARENT, &self.traceparent[..]),
            (TRACESTATE, self.tracestate.as_bytes()),
        ];
        (headers, if self.tracestate.is_empty() { 1 } else { 2 })
    }

    /// Takes out of `headers` those these replace, as OpenTelemetry's Kafka
    /// instrumentation sets a header (`remove(key).add(key, value)`): every
    /// `traceparent`, and every `tracestate` when these have one (the
    /// names compared as Kafka's consumers look them up, case and all).
    pub(crate) fn replace_in(&self, headers: &mut Vec<kafka_core::Header>) {
        let with_state = !self.tracestate.is_empty();
        headers.retain(|h| h.key != TRACEPARENT && !(with_state && h.key == TRACESTATE));
    }

    /// Adds the headers to `record`'s own, in place of those they replace.
    pub(crate) fn add_to(self, record: &mut kafka_core::ProducerRecord) {
        self.replace_in(&mut record.headers);
        record
            .headers
            .reserve_exact(if self.tracestate.is_empty() { 1 } else { 2 });
        record.headers.push(kafka_core::Header::new(
            TRACEPARENT,
            bytes::Bytes::copy_from_slice(&self.traceparent),
        ));
        if !self.tracestate.is_empty() {
            record
                .headers
                .push(kafka_core::Header::new(TRACESTATE, self.tracestate));
        }
    }
}

/// The key as the conventions want it: only a key that is text (UTF-8
/// without control characters); a binary key (a Java `LongSerializer` key,
/// Avro) has no canonical string form and is left out.
fn string_key(key: Option<&[u8]>) -> Option<&str> {
    let text = std::str::from_utf8(key?).ok()?;
    (!text.chars().any(char::is_control)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_keys_are_attributes() {
        assert_eq!(string_key(Some(b"order-1")), Some("order-1"));
        assert_eq!(string_key(Some("café".as_bytes())), Some("café"));
        assert_eq!(string_key(Some(&7_i64.to_be_bytes())), None);
        assert_eq!(string_key(Some(&[0xc3, 0x28])), None);
        assert_eq!(string_key(None), None);
    }
}
