//! Tracing of sends: a span per record (`template.observation-enabled`) and
//! the W3C trace context in its headers (`template.trace-propagation-enabled`).
//!
//! The span follows OpenTelemetry's messaging semantic conventions
//! ([`SEMCONV_VERSION`]); it is a `tracing` span, so an application that
//! installs no subscriber (or filters the target out) pays one callsite check
//! per send. Its OpenTelemetry name and kind travel in the `otel.name` and
//! `otel.kind` fields, which `tracing-opentelemetry`'s layer reads.

use kafka_core::{KafkaError, ProducerRecord, RecordMetadata};
use tracing::Span;
use tracing::field::Empty;

/// The version of OpenTelemetry's semantic conventions whose messaging span
/// names and attributes the send span follows. Later versions (1.45 on) rename
/// some of them (`messaging.system.name`, `kafka.offset`,
/// `kafka.message.key`); the conventions are still marked *Development*, and
/// moving to a newer version would be a deliberate change.
pub const SEMCONV_VERSION: &str = "1.44.0";

/// The `tracing` target of the send span: filter it with
/// `kafka_template::send=info` (or `off`).
pub const SEND_SPAN_TARGET: &str = "kafka_template::send";

/// The header keys of the W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// See [`TRACEPARENT`].
pub const TRACESTATE: &str = "tracestate";

/// The span of one send: `send <topic>`, kind producer, with what is known
/// before the broker answers. Its parent is the caller's current span.
pub(crate) fn send_span(record: &ProducerRecord, client_id: Option<&str>) -> Span {
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
        messaging.destination.partition.id = Empty,
        messaging.kafka.offset = Empty,
        messaging.kafka.message.key = string_key(record.key.as_deref()),
        messaging.kafka.message.tombstone = Empty,
        messaging.client.id = client_id,
        error.type = Empty,
    );
    if !span.is_disabled() {
        if let Some(partition) = record.partition {
            span.record(
                "messaging.destination.partition.id",
                tracing::field::display(partition),
            );
        }
        // Conditionally required: only when true.
        if record.value.is_none() {
            span.record("messaging.kafka.message.tombstone", true);
        }
    }
    span
}

/// The key as the conventions want it: only a key that is text (UTF-8
/// without control characters); a binary key (a Java `LongSerializer` key,
/// Avro) has no canonical string form and is left out.
fn string_key(key: Option<&[u8]>) -> Option<&str> {
    let text = std::str::from_utf8(key?).ok()?;
    (!text.chars().any(char::is_control)).then_some(text)
}

/// Records the outcome on `span`: where the record landed, or why it failed
/// (`error.type` is [`KafkaError::kind_name`]: the broker's error code name,
/// such as `NOT_ENOUGH_REPLICAS`, or the client's kind, such as
/// `delivery_timeout`). The span ends when its last handle is dropped.
pub(crate) fn record_outcome(span: &Span, outcome: Result<&RecordMetadata, &KafkaError>) {
    if span.is_disabled() {
        return;
    }
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
            // A description sets the OpenTelemetry status to error.
            span.record("otel.status_description", tracing::field::display(error));
        }
    }
}

/// Writes the W3C trace context of `span` (the send span), else of the
/// caller's current span, into `record`'s headers: `traceparent`, and
/// `tracestate` when it is not empty. Nothing when there is no valid span
/// context, and nothing when the record already has a `traceparent` (the
/// caller's own context wins, with its `tracestate`).
#[cfg(feature = "opentelemetry")]
pub(crate) fn inject_trace_context(record: &mut ProducerRecord, span: Option<&Span>) {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    if record
        .headers
        .iter()
        .any(|h| h.key.eq_ignore_ascii_case(TRACEPARENT))
    {
        return;
    }
    let valid = |cx: opentelemetry::Context| cx.span().span_context().is_valid().then_some(cx);
    let context = span
        .filter(|span| !span.is_disabled())
        .and_then(|span| valid(span.context()))
        .or_else(|| valid(Span::current().context()));
    if let Some(context) = context {
        opentelemetry_sdk::propagation::TraceContextPropagator::new()
            .inject_context(&context, &mut HeaderInjector(&mut record.headers));
    }
}

/// Without the `opentelemetry` feature there is no trace context to write.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn inject_trace_context(_record: &mut ProducerRecord, _span: Option<&Span>) {}

/// Record headers as an OpenTelemetry [`Injector`](opentelemetry::propagation::Injector).
#[cfg(feature = "opentelemetry")]
struct HeaderInjector<'a>(&'a mut Vec<kafka_core::Header>);

#[cfg(feature = "opentelemetry")]
impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // The propagator always sets `tracestate`; an empty one says nothing.
        if !value.is_empty() {
            self.0.push(kafka_core::Header::new(key, value));
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{
        SpanContext, SpanKind, Status, TraceContextExt, TracerProvider as _,
    };
    use opentelemetry::{KeyValue, Value};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::transaction::tests::config;
    use crate::{KafkaTemplate, MockProducer};

    /// `tracing` with an OpenTelemetry layer exporting to memory, for this
    /// thread while the guard lives.
    struct Traced {
        exporter: InMemorySpanExporter,
        _provider: SdkTracerProvider,
        _guard: tracing::subscriber::DefaultGuard,
    }

    impl Traced {
        fn new() -> Traced {
            let exporter = InMemorySpanExporter::default();
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter.clone())
                .build();
            let subscriber = tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
            Traced {
                exporter,
                _provider: provider,
                _guard: tracing::subscriber::set_default(subscriber),
            }
        }

        /// The finished spans with this OpenTelemetry name.
        fn spans(&self, name: &str) -> Vec<SpanData> {
            let mut spans = self.exporter.get_finished_spans().expect("exported spans");
            spans.retain(|span| span.name == name);
            spans
        }
    }

    fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
        span.attributes
            .iter()
            .find(|kv: &&KeyValue| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn text(span: &SpanData, key: &str) -> Option<String> {
        attribute(span, key).map(|v| v.as_str().into_owned())
    }

    fn template(mock: &MockProducer, pairs: &[(&str, &str)]) -> KafkaTemplate {
        KafkaTemplate::mock_builder(mock.clone())
            .config(config(pairs))
            .build()
            .expect("template")
    }

    fn traceparent(span: &SpanContext) -> String {
        format!("00-{}-{}-01", span.trace_id(), span.span_id())
    }

    const OBSERVED: (&str, &str) = ("kafka.template.observation-enabled", "true");

    #[tokio::test]
    async fn a_send_span_follows_the_messaging_conventions_and_is_the_records_parent_context() {
        let traced = Traced::new();
        let mock = MockProducer::new(3);
        let template = template(&mock, &[OBSERVED]);
        let request = tracing::info_span!("request");
        let sent = template
            .send(ProducerRecord::new("orders", "v").with_key("o-1"))
            .instrument(request.clone())
            .await
            .expect("sent");
        let request_id = request.context().span().span_context().span_id();
        drop(request);

        let spans = traced.spans("send orders");
        assert_eq!(spans.len(), 1, "{spans:#?}");
        let span = &spans[0];
        assert_eq!(span.span_kind, SpanKind::Producer);
        assert_eq!(
            span.parent_span_id, request_id,
            "the caller's span is the parent"
        );
        assert_eq!(span.status, Status::Unset);
        for (key, expected) in [
            ("messaging.system", "kafka"),
            ("messaging.operation.type", "send"),
            ("messaging.operation.name", "send"),
            ("messaging.destination.name", "orders"),
            ("messaging.kafka.message.key", "o-1"),
        ] {
            assert_eq!(text(span, key).as_deref(), Some(expected), "{key}");
        }
        assert_eq!(
            text(span, "messaging.destination.partition.id"),
            Some(sent.record_metadata.partition.to_string())
        );
        assert_eq!(
            attribute(span, "messaging.kafka.offset"),
            Some(&Value::I64(sent.record_metadata.offset.expect("an offset")))
        );
        for absent in [
            "error.type",
            "messaging.kafka.message.tombstone",
            "messaging.client.id",
        ] {
            assert_eq!(attribute(span, absent), None, "{absent}");
        }
        // The record carries the send span's context, for the consumer.
        let history = mock.history();
        if cfg!(feature = "opentelemetry") {
            assert_eq!(
                history[0].header_str(TRACEPARENT),
                Some(traceparent(&span.span_context))
            );
            assert_eq!(
                history[0].header_str(TRACESTATE),
                None,
                "no empty tracestate"
            );
        } else {
            assert!(history[0].headers.is_empty());
        }
    }

    #[tokio::test]
    async fn a_failed_send_ends_its_span_with_the_error() {
        let traced = Traced::new();
        let mock = MockProducer::new(1);
        mock.fail_next(KafkaError::Broker {
            topic: "orders".into(),
            partition: 0,
            code: kafka_core::ErrorCode::NOT_ENOUGH_REPLICAS,
            message: None,
        });
        let template = template(&mock, &[OBSERVED]);
        let error = template
            .send(ProducerRecord::new("orders", "v"))
            .await
            .expect_err("the mock fails it");

        let spans = traced.spans("send orders");
        assert_eq!(spans.len(), 1, "{spans:#?}");
        let span = &spans[0];
        assert_eq!(
            text(span, "error.type").as_deref(),
            Some("NOT_ENOUGH_REPLICAS")
        );
        assert_eq!(
            span.status,
            Status::error(error.error().to_string()),
            "the status says what went wrong"
        );
        assert_eq!(attribute(span, "messaging.kafka.offset"), None);
    }

    #[tokio::test]
    async fn a_callback_send_has_its_span_too_and_tombstones_and_binary_keys_are_told() {
        let traced = Traced::new();
        let mock = MockProducer::new(1);
        let template = template(&mock, &[OBSERVED]);
        let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let outcomes = heard.clone();
        let mut tombstone =
            ProducerRecord::new("ledger", "").with_key(42_i64.to_be_bytes().to_vec());
        tombstone.value = None;
        template
            .enqueue_with_callback(tombstone, move |result| {
                outcomes.lock().unwrap().push(result.is_ok());
            })
            .await
            .expect("buffered");
        assert_eq!(*heard.lock().unwrap(), [true]);
        let spans = traced.spans("send ledger");
        assert_eq!(spans.len(), 1, "{spans:#?}");
        assert_eq!(
            attribute(&spans[0], "messaging.kafka.message.tombstone"),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            attribute(&spans[0], "messaging.kafka.message.key"),
            None,
            "a binary key has no string form"
        );
    }

    #[tokio::test]
    async fn a_send_in_a_transaction_has_its_span() {
        let traced = Traced::new();
        let mock = MockProducer::new(1);
        let template = template(&mock, &[OBSERVED]);
        template
            .execute_in_transaction(|tx| async move {
                tx.send(ProducerRecord::new("payments", "v").with_key("p-1"))
                    .await
                    .map(drop)
            })
            .await
            .expect("committed");
        let spans = traced.spans("send payments");
        assert_eq!(spans.len(), 1, "{spans:#?}");
        assert_eq!(
            attribute(&spans[0], "messaging.kafka.offset"),
            Some(&Value::I64(0))
        );
    }

    /// A record the producer refuses before buffering it (too large) ends
    /// its span with the error; the producer's client id is on the span.
    #[tokio::test]
    async fn a_record_refused_before_buffering_ends_its_span_with_the_error() {
        let traced = Traced::new();
        let template = KafkaTemplate::builder()
            .config(config(&[
                OBSERVED,
                ("kafka.bootstrap-servers", "127.0.0.1:1"),
                ("kafka.client-id", "refusing"),
                ("kafka.producer.properties.max.request.size", "1024"),
            ]))
            .build()
            .expect("template");
        let error = template
            .send(ProducerRecord::new("orders", vec![0_u8; 4096]))
            .await
            .expect_err("too large");
        assert!(
            matches!(error.error(), KafkaError::RecordTooLarge { .. }),
            "{error}"
        );
        let spans = traced.spans("send orders");
        assert_eq!(spans.len(), 1, "{spans:#?}");
        assert_eq!(
            text(&spans[0], "error.type").as_deref(),
            Some("record_too_large")
        );
        assert_eq!(
            text(&spans[0], "messaging.client.id").as_deref(),
            Some("refusing")
        );
        assert!(matches!(spans[0].status, Status::Error { .. }));
    }

    #[test]
    fn only_text_keys_are_attributes() {
        assert_eq!(string_key(Some(b"order-1")), Some("order-1"));
        assert_eq!(string_key(Some("café".as_bytes())), Some("café"));
        assert_eq!(string_key(Some(&7_i64.to_be_bytes())), None);
        assert_eq!(string_key(Some(&[0xc3, 0x28])), None);
        assert_eq!(string_key(None), None);
    }

    #[cfg(feature = "opentelemetry")]
    #[tokio::test]
    async fn without_observation_the_callers_span_is_propagated() {
        let traced = Traced::new();
        let mock = MockProducer::new(1);
        let template = template(&mock, &[]);
        let request = tracing::info_span!("request");
        template
            .send(ProducerRecord::new("orders", "v"))
            .instrument(request.clone())
            .await
            .expect("sent");
        let caller = request.context().span().span_context().clone();
        drop(request);
        assert!(traced.spans("send orders").is_empty(), "observation is off");
        assert_eq!(
            mock.history()[0].header_str(TRACEPARENT),
            Some(traceparent(&caller))
        );
    }

    #[cfg(feature = "opentelemetry")]
    #[tokio::test]
    async fn the_callers_trace_state_travels_and_its_own_traceparent_is_kept() {
        use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

        let _traced = Traced::new();
        let mock = MockProducer::new(1);
        let template = template(&mock, &[OBSERVED]);
        let upstream = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_key_value([("vendor", "v1")]).unwrap(),
        );
        let request = tracing::info_span!("request");
        request
            .set_parent(opentelemetry::Context::new().with_remote_span_context(upstream))
            .expect("parent set");
        let own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        async {
            template
                .send(ProducerRecord::new("orders", "a"))
                .await
                .expect("sent");
            template
                .send(ProducerRecord::new("orders", "b").with_header(TRACEPARENT, own))
                .await
                .expect("sent");
        }
        .instrument(request)
        .await;
        let history = mock.history();
        let propagated = history[0].header_str(TRACEPARENT).expect("a traceparent");
        assert!(
            propagated.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "the upstream trace goes on: {propagated}"
        );
        assert_eq!(
            history[0].header_str(TRACESTATE).as_deref(),
            Some("vendor=v1")
        );
        let kept: Vec<_> = history[1].headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(
            kept,
            [TRACEPARENT],
            "nothing added to the caller's own context"
        );
        assert_eq!(history[1].header_str(TRACEPARENT).as_deref(), Some(own));
    }

    #[tokio::test]
    async fn no_header_when_propagation_is_off_or_there_is_no_span_context() {
        let mock = MockProducer::new(1);
        // No OpenTelemetry layer at all: no span context to write.
        let template_on = template(&mock, &[OBSERVED]);
        template_on
            .send(ProducerRecord::new("orders", "v"))
            .instrument(tracing::info_span!("request"))
            .await
            .expect("sent");
        // A layer, and a span, but propagation off.
        let traced = Traced::new();
        let template_off = template(
            &mock,
            &[
                OBSERVED,
                ("kafka.template.trace-propagation-enabled", "false"),
            ],
        );
        template_off
            .send(ProducerRecord::new("orders", "v"))
            .instrument(tracing::info_span!("request"))
            .await
            .expect("sent");
        assert_eq!(traced.spans("send orders").len(), 1, "still observed");
        // A layer, but no span at all (observation off, no caller's span).
        let template_plain = template(&mock, &[]);
        template_plain
            .send(ProducerRecord::new("orders", "v"))
            .await
            .expect("sent");
        for sent in mock.history() {
            assert!(sent.headers.is_empty(), "{:?}", sent.headers);
        }
    }
}
