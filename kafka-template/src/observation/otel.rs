//! The send span as an OpenTelemetry span, and the W3C trace context in the
//! record's headers.
//!
//! The span is made with OpenTelemetry's API rather than as a `tracing` span
//! bridged by `tracing-opentelemetry`: the sampler then decides before any
//! attribute is built, so a dropped span costs its ids, and only a recorded
//! one is kept until the acknowledgement. (A bridged span builds its data
//! and holds it in the subscriber's registry until it closes, sampled or not:
//! about 10 µs and 1.5 KB per record, measured.)

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use kafka_core::{KafkaError, RecordMetadata, RecordRef};
use opentelemetry::global::{BoxedSpan, BoxedTracer};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState, Tracer,
    TracerProvider,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{INSTRUMENTATION_SCOPE, TRACEPARENT_LEN, TraceHeaders, string_key};

/// The tracer the send spans come from.
pub(crate) struct SendTracer(BoxedTracer);

impl SendTracer {
    /// The tracer of `provider`.
    pub(crate) fn from_provider<P>(provider: &P) -> SendTracer
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        SendTracer(BoxedTracer::new(Box::new(
            provider.tracer_with_scope(scope()),
        )))
    }

    /// The tracer of the global provider, as it is now.
    pub(crate) fn global() -> SendTracer {
        SendTracer(opentelemetry::global::tracer_with_scope(scope()))
    }
}

impl fmt::Debug for SendTracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendTracer")
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(INSTRUMENTATION_SCOPE)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// The span of one send the sampler kept; shared by the outcome's callback
/// and the path of an error before the record is buffered, whichever comes.
#[derive(Clone)]
pub(crate) struct SendSpan(Arc<Mutex<BoxedSpan>>);

/// Starts the span of sending `record` when `tracer` is given (observation
/// is on) and, when `propagate`, sets `trace` to the trace context for its
/// headers: the send span's (sampled or not), else the caller's. Returns the
/// span when the sampler records it.
///
/// (`trace` is written in place: returned, it would be copied on every
/// record, there for nothing.)
pub(crate) fn observe_send(
    tracer: Option<&SendTracer>,
    record: &RecordRef<'_>,
    client_id: Option<&str>,
    propagate: bool,
    trace: &mut Option<TraceHeaders>,
) -> Option<SendSpan> {
    let Some(SendTracer(tracer)) = tracer else {
        if propagate {
            with_caller_context(|parent| {
                set_trace_headers(trace, parent.span().span_context());
            });
        }
        return None;
    };
    let parent = caller_context();
    let builder = tracer
        .span_builder(super::span_names::span_name(record.topic))
        .with_kind(SpanKind::Producer);
    let mut span = tracer.build_with_context(builder, &parent);
    // A tracer that makes no span of its own (no provider set) hands back
    // the parent's context: the caller's is propagated then.
    if propagate {
        set_trace_headers(trace, span.span_context());
    }
    if !span.is_recording() {
        return None;
    }
    span.set_attributes(attributes(record, client_id));
    Some(SendSpan(Arc::new(Mutex::new(span))))
}

/// What is known before the broker answers.
fn attributes(record: &RecordRef<'_>, client_id: Option<&str>) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(8);
    attributes.extend([
        KeyValue::new("messaging.system", "kafka"),
        KeyValue::new("messaging.operation.type", "send"),
        KeyValue::new("messaging.operation.name", "send"),
        KeyValue::new("messaging.destination.name", record.topic.to_owned()),
    ]);
    if let Some(partition) = record.partition {
        attributes.push(partition_id(partition));
    }
    if let Some(key) = string_key(record.key) {
        attributes.push(KeyValue::new("messaging.kafka.message.key", key.to_owned()));
    }
    // Conditionally required: only when true.
    if record.value.is_none() {
        attributes.push(KeyValue::new("messaging.kafka.message.tombstone", true));
    }
    if let Some(client_id) = client_id {
        attributes.push(KeyValue::new("messaging.client.id", client_id.to_owned()));
    }
    attributes
}

/// The conventions' partition id is a string.
fn partition_id(partition: i32) -> KeyValue {
    KeyValue::new("messaging.destination.partition.id", partition.to_string())
}

/// The caller's context: its current `tracing` span's (through
/// `tracing-opentelemetry`), else the current OpenTelemetry context. A
/// clone: the span is built outside the thread's context (a sampler or
/// processor may attach a context of its own).
fn caller_context() -> Context {
    if let Some(context) = tracing_span_context() {
        return context;
    }
    Context::current()
}

/// [`caller_context`] lent to `f`: the current OpenTelemetry context is not
/// cloned (the per-record path when only propagating).
fn with_caller_context<T>(f: impl FnOnce(&Context) -> T) -> T {
    match tracing_span_context() {
        Some(context) => f(&context),
        None => Context::map_current(f),
    }
}

/// The context of the current `tracing` span, if one is entered and has a
/// valid OpenTelemetry span context. Asks the subscriber first: a `Span`
/// handle, even of no span, costs more than that question.
fn tracing_span_context() -> Option<Context> {
    let entered =
        tracing::dispatcher::get_default(|dispatch| dispatch.current_span().id().is_some());
    if !entered {
        return None;
    }
    let context = tracing::Span::current().context();
    context.span().span_context().is_valid().then_some(context)
}

/// Records the outcome on `span` and ends it: where the record landed, or why
/// it failed (`error.type` is [`KafkaError::kind_name`]: the broker's error
/// code name, such as `NOT_ENOUGH_REPLICAS`, or the client's kind, such as
/// `delivery_timeout`, and the status says what went wrong).
pub(crate) fn record_outcome(span: &SendSpan, outcome: Result<&RecordMetadata, &KafkaError>) {
    let mut span = span.0.lock().unwrap_or_else(PoisonError::into_inner);
    match outcome {
        Ok(metadata) => {
            span.set_attribute(partition_id(metadata.partition));
            if let Some(offset) = metadata.offset {
                span.set_attribute(KeyValue::new("messaging.kafka.offset", offset));
            }
        }
        Err(error) => {
            span.set_attribute(KeyValue::new("error.type", error.kind_name()));
            span.set_status(Status::error(error.to_string()));
        }
    }
    span.end();
}

/// Sets `trace` to `context` as the headers of `record`: `traceparent`, and
/// `tracestate` when it is not empty; they replace the record's own (see
/// [`TraceHeaders::replace_in`]), as OpenTelemetry's Java instrumentation
/// does, so that a consumer continues from this send. Nothing when the
/// context is not valid.
fn set_trace_headers(trace: &mut Option<TraceHeaders>, context: &SpanContext) {
    if !context.is_valid() {
        return;
    }
    let state = context.trace_state();
    // Made in place (the 55 bytes are not copied into it), and asked for
    // its trace state only when it has one.
    let headers = trace.insert(TraceHeaders {
        traceparent: [b'-'; TRACEPARENT_LEN],
        tracestate: if *state == TraceState::NONE {
            String::new()
        } else {
            state.header()
        },
    });
    write_traceparent(&mut headers.traceparent, context);
}

/// Each byte's two lower-case hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [HEX[byte >> 4], HEX[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// Writes `00-<trace id>-<span id>-<flags>` into `out`: lower-case hex, flags only
/// the sampled bit (W3C Trace Context level 1, as OpenTelemetry's
/// `TraceContextPropagator` writes it). Written a byte's digit pair at a
/// time, without bounds checks: it is made for every record.
fn write_traceparent(out: &mut [u8; TRACEPARENT_LEN], context: &SpanContext) {
    let (version, rest) = out.split_at_mut(2);
    version.copy_from_slice(b"00");
    let (trace_id, rest) = rest[1..].split_at_mut(32);
    let (span_id, flags) = rest[1..].split_at_mut(16);
    let sampled = (context.trace_flags() & TraceFlags::SAMPLED).to_u8();
    let fields: [(&mut [u8], &[u8]); 3] = [
        (trace_id, &context.trace_id().to_bytes()),
        (span_id, &context.span_id().to_bytes()),
        (&mut flags[1..], &[sampled]),
    ];
    for (digits, bytes) in fields {
        for (pair, &byte) in digits.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
        }
    }
    // The separators: `out` may have held another traceparent.
    for at in [2, 35, 52] {
        out[at] = b'-';
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
        TracerProvider as _,
    };
    use opentelemetry::{KeyValue, Value};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::observation::{TRACEPARENT, TRACESTATE};
    use crate::transaction::tests::config;
    use crate::{KafkaTemplate, MockProducer};
    use kafka_core::ProducerRecord;

    /// `tracing` with an OpenTelemetry layer exporting to memory, for this
    /// thread while the guard lives.
    struct Traced {
        exporter: InMemorySpanExporter,
        provider: SdkTracerProvider,
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
                provider,
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

    /// A template on `mock` whose send spans go to `traced`'s provider.
    fn template(traced: &Traced, mock: &MockProducer, pairs: &[(&str, &str)]) -> KafkaTemplate {
        KafkaTemplate::mock_builder(mock.clone())
            .tracer_provider(&traced.provider)
            .config(config(pairs))
            .build()
            .expect("template")
    }

    fn w3c(span: &SpanContext) -> String {
        format!("00-{}-{}-01", span.trace_id(), span.span_id())
    }

    const OBSERVED: (&str, &str) = ("kafka.template.observation-enabled", "true");

    #[tokio::test]
    async fn a_send_span_follows_the_messaging_conventions_and_is_the_records_parent_context() {
        let traced = Traced::new();
        let mock = MockProducer::new(3);
        let template = template(&traced, &mock, &[OBSERVED]);
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
        assert_eq!(
            history[0].header_str(TRACEPARENT),
            Some(w3c(&span.span_context))
        );
        assert_eq!(
            history[0].header_str(TRACESTATE),
            None,
            "no empty tracestate"
        );
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
        let template = template(&traced, &mock, &[OBSERVED]);
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
        let template = template(&traced, &mock, &[OBSERVED]);
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
        let template = template(&traced, &mock, &[OBSERVED]);
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
            .tracer_provider(&traced.provider)
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

    #[tokio::test]
    async fn without_observation_the_callers_span_is_propagated() {
        let traced = Traced::new();
        let mock = MockProducer::new(1);
        let template = template(&traced, &mock, &[]);
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
            Some(w3c(&caller))
        );
    }

    #[tokio::test]
    async fn the_send_spans_context_replaces_a_records_own_as_javas_instrumentation_does() {
        let traced = Traced::new();
        let mock = MockProducer::new(1);
        let template = template(&traced, &mock, &[OBSERVED]);
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
        // A forwarded record: the headers of the record it was made from.
        let forwarded = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        async {
            template
                .send(ProducerRecord::new("orders", "a"))
                .await
                .expect("sent");
            template
                .send(
                    ProducerRecord::new("orders", "b")
                        .with_header(TRACEPARENT, forwarded)
                        .with_header(TRACESTATE, "old=1")
                        .with_header("tenant", "acme"),
                )
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
        // Replaced, not duplicated: one traceparent (this send's), one
        // tracestate (the context's), the record's other headers kept.
        let keys: Vec<_> = history[1].headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["tenant", TRACEPARENT, TRACESTATE]);
        let replaced = history[1].header_str(TRACEPARENT).expect("a traceparent");
        assert!(
            replaced.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && replaced != forwarded,
            "{replaced}"
        );
        assert_eq!(
            history[1].header_str(TRACESTATE).as_deref(),
            Some("vendor=v1")
        );
    }

    #[tokio::test]
    async fn no_header_when_propagation_is_off_or_there_is_no_span_context() {
        let mock = MockProducer::new(1);
        // No tracer provider and no OpenTelemetry layer: no span context.
        let untraced = KafkaTemplate::mock_builder(mock.clone())
            .tracer_provider(&opentelemetry::trace::noop::NoopTracerProvider::new())
            .config(config(&[OBSERVED]))
            .build()
            .expect("template");
        untraced
            .send(ProducerRecord::new("orders", "v"))
            .instrument(tracing::info_span!("request"))
            .await
            .expect("sent");
        // A provider, a layer and a span, but propagation off.
        let traced = Traced::new();
        let template_off = template(
            &traced,
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
        let template_plain = template(&traced, &mock, &[]);
        template_plain
            .send(ProducerRecord::new("orders", "v"))
            .await
            .expect("sent");
        for sent in mock.history() {
            assert!(sent.headers.is_empty(), "{:?}", sent.headers);
        }
    }

    /// A span the sampler drops is not recorded, but its context travels
    /// with the sampled flag off, in the caller's trace: consumers follow the
    /// producer's decision.
    /// A template on `mock` with observation on, its spans from `provider`.
    fn observed_template(mock: &MockProducer, provider: &SdkTracerProvider) -> KafkaTemplate {
        KafkaTemplate::mock_builder(mock.clone())
            .tracer_provider(provider)
            .config(config(&[OBSERVED]))
            .build()
            .expect("template")
    }

    #[tokio::test]
    async fn a_dropped_span_is_not_recorded_but_propagated_unsampled() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOff)
            .with_simple_exporter(exporter.clone())
            .build();
        let mock = MockProducer::new(1);
        let template = observed_template(&mock, &provider);
        let upstream = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::default(),
            true,
            TraceState::default(),
        );
        let _attached = opentelemetry::Context::new()
            .with_remote_span_context(upstream)
            .attach();
        template
            .send(ProducerRecord::new("orders", "v"))
            .await
            .expect("sent");
        assert!(exporter.get_finished_spans().unwrap().is_empty());
        let propagated = mock.history()[0]
            .header_str(TRACEPARENT)
            .expect("a traceparent");
        let parts: Vec<&str> = propagated.split('-').collect();
        assert_eq!(parts[0], "00");
        assert_eq!(
            parts[1], "4bf92f3577b34da6a3ce929d0e0e4736",
            "the caller's trace"
        );
        assert_ne!(parts[2], "00f067aa0ba902b7", "the send span's own id");
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "00", "not sampled");
    }

    /// The header is what OpenTelemetry's own propagator writes.
    #[test]
    fn traceparent_is_the_propagators() {
        use opentelemetry::propagation::TextMapPropagator;
        for flags in [
            TraceFlags::SAMPLED,
            TraceFlags::default(),
            TraceFlags::new(0xff),
        ] {
            let context = SpanContext::new(
                TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
                SpanId::from_hex("b7ad6b7169203331").unwrap(),
                flags,
                false,
                TraceState::from_key_value([("k", "v")]).unwrap(),
            );
            let mut written = std::collections::HashMap::new();
            opentelemetry_sdk::propagation::TraceContextPropagator::new().inject_context(
                &opentelemetry::Context::new().with_remote_span_context(context.clone()),
                &mut written,
            );
            let mut ours = [b'x'; TRACEPARENT_LEN];
            write_traceparent(&mut ours, &context);
            let ours = String::from_utf8(ours.to_vec()).expect("ASCII");
            assert_eq!(Some(&ours), written.get(TRACEPARENT));
            let mut record = ProducerRecord::new("t", "v");
            let mut trace = None;
            set_trace_headers(&mut trace, &context);
            trace.expect("a valid context").add_to(&mut record);
            let state = record
                .headers
                .iter()
                .find(|h| h.key == TRACESTATE)
                .and_then(|h| h.value.as_deref())
                .map(|v| String::from_utf8_lossy(v).into_owned());
            assert_eq!(state, written.get(TRACESTATE).cloned());
        }
    }

    /// A span processor whose `on_end` panics (an application's bug).
    #[derive(Debug)]
    struct PanickingProcessor;

    impl opentelemetry_sdk::trace::SpanProcessor for PanickingProcessor {
        fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
        fn on_end(&self, _: SpanData) {
            panic!("the span processor has a bug")
        }
        fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(
            &self,
            _: std::time::Duration,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            Ok(())
        }
    }

    /// The span's end runs the application's span processor: its panic is
    /// logged, and the record's outcome still reaches the caller (it came
    /// back as "producer closed", never sent, for a delivered record).
    #[tokio::test]
    async fn a_span_processor_that_panics_does_not_change_the_outcome() {
        let provider = SdkTracerProvider::builder()
            .with_span_processor(PanickingProcessor)
            .build();
        let mock = MockProducer::new(1);
        let template = observed_template(&mock, &provider);
        let sent = template
            .send(ProducerRecord::new("orders", "v"))
            .await
            .expect("delivered, whatever the span processor does");
        assert_eq!(sent.record_metadata.topic, "orders");
        assert_eq!(mock.history().len(), 1);
    }
}
