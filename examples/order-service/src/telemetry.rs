//! The service's traces: an OpenTelemetry tracer behind `tracing`, and a
//! span exporter that logs one line per span.
//!
//! With `kafka.template.observation-enabled: true` (Spring's
//! `spring.kafka.template.observation-enabled`) every send is a `send <topic>`
//! producer span, a child of the service's own span (`place-order`,
//! `ship-order`), and the record carries the send span's W3C `traceparent`
//! header, so a consumer in any language continues the trace. [`Tracing`]
//! installs an SDK tracer provider as the global one, whose tracer makes the
//! template's send spans, and `tracing-opentelemetry`'s layer, next to the
//! service's log output, which makes the service's own `tracing` spans
//! OpenTelemetry spans (the send spans' parents).
//!
//! Where the spans go: [`LogSpanExporter`] logs each finished span as one
//! line at info (target [`SPANS_TARGET`]): its name, trace id, span id, parent
//! span id, kind, status, duration and attributes, the ids as they appear in
//! the records' `traceparent` headers:
//!
//! ```text
//! INFO order_service::spans: send orders trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 parent_id=b7ad6b7169203331 kind=producer status=unset duration=3.2ms messaging.system=kafka messaging.destination.name=orders ...
//! ```
//!
//! Any other OpenTelemetry [`SpanExporter`] (OTLP with `opentelemetry-otlp`,
//! Zipkin, ...) plugs into [`Tracing::new`] instead. The SDK's standard
//! environment variables apply: `OTEL_SERVICE_NAME` (default
//! `order-service`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` /
//! `OTEL_TRACES_SAMPLER_ARG` (default: every trace sampled).
//!
//! Spans are exported in batches on the SDK's own thread; [`Tracing::shutdown`]
//! before the process exits exports the rest.

use std::fmt::Write as _;
use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::registry::LookupSpan;

/// The `tracing` target of [`LogSpanExporter`]'s lines: filter them with
/// `order_service::spans=info` (or `off`).
pub const SPANS_TARGET: &str = "order_service::spans";

/// The service name of the spans' resource unless `OTEL_SERVICE_NAME` says
/// otherwise, and the name of the tracer.
pub const SERVICE_NAME: &str = "order-service";

/// How long [`Tracing::shutdown`] waits for the last spans to be exported.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// An OpenTelemetry tracer provider exporting in batches, and the `tracing`
/// layer that turns the process's spans into its spans.
#[derive(Debug)]
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// A provider exporting every finished span through `exporter`
    /// ([`LogSpanExporter`] to log them), in batches on a thread of its own,
    /// made the global provider: build the templates after this.
    pub fn new<E: SpanExporter + 'static>(exporter: E) -> Tracing {
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name(SERVICE_NAME);
        }
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build();
        opentelemetry::global::set_tracer_provider(provider.clone());
        Tracing { provider }
    }

    /// The layer to add to the process's `tracing` subscriber: every span at
    /// `INFO` or above (the template's `send` spans, the service's own)
    /// becomes an OpenTelemetry span, whatever the log level of the output.
    /// The spans carry their fields as attributes, without `tracing`'s
    /// source location, thread and timing bookkeeping.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer(SERVICE_NAME))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(LevelFilter::INFO)
    }

    /// Exports every span finished so far.
    pub fn flush(&self) -> OTelSdkResult {
        self.provider.force_flush()
    }

    /// Exports the spans not exported yet and stops the provider: call it
    /// before the process exits, or the last batch is lost.
    pub fn shutdown(self) -> Result<(), OTelSdkError> {
        self.provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
    }
}

/// A [`SpanExporter`] that logs each span as one line at info, target
/// [`SPANS_TARGET`] (see [`span_line`]): traces to look at without a
/// collector.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSpanExporter;

impl SpanExporter for LogSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        for span in &batch {
            tracing::info!(target: SPANS_TARGET, "{}", span_line(span));
        }
        Ok(())
    }
}

/// One span as one line: `<name> trace_id=<32 hex> span_id=<16 hex>
/// parent_id=<16 hex or -> kind=<kind> status=<unset|ok|error> duration=<ms>`,
/// then `error="<description>"` for an error status, then every attribute as
/// `key=value` (a value with spaces, quotes or nothing in it quoted).
pub fn span_line(span: &SpanData) -> String {
    let context = &span.span_context;
    let parent = if span.parent_span_id == SpanId::INVALID {
        "-".to_owned()
    } else {
        span.parent_span_id.to_string()
    };
    let kind = match span.span_kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    };
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let mut line = format!(
        "{} trace_id={} span_id={} parent_id={parent} kind={kind} status={} duration={:.1}ms",
        span.name,
        context.trace_id(),
        context.span_id(),
        match &span.status {
            Status::Unset => "unset",
            Status::Ok => "ok",
            Status::Error { .. } => "error",
        },
        duration.as_secs_f64() * 1000.0,
    );
    if let Status::Error { description } = &span.status {
        let _ = write!(line, " error={}", quoted(description));
    }
    for KeyValue { key, value, .. } in &span.attributes {
        let value = match value {
            Value::String(text) => quoted(text.as_str()),
            other => other.to_string(),
        };
        let _ = write!(line, " {key}={value}");
    }
    line
}

/// `text` as it is, or quoted (Rust string escapes) when it has spaces,
/// quotes, control characters or nothing in it, so a line splits on spaces.
fn quoted(text: &str) -> String {
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        format!("{text:?}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceId, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(parent: SpanId, status: Status, attributes: Vec<KeyValue>) -> SpanData {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
                SpanId::from_hex("00f067aa0ba902b7").unwrap(),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id: parent,
            parent_span_is_remote: false,
            span_kind: SpanKind::Producer,
            name: "send orders".into(),
            start_time: start,
            end_time: start + Duration::from_micros(3_250),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: InstrumentationScope::builder(SERVICE_NAME).build(),
        }
    }

    #[test]
    fn a_span_is_one_line_with_the_ids_of_its_traceparent_and_its_attributes() {
        let line = span_line(&span(
            SpanId::from_hex("b7ad6b7169203331").unwrap(),
            Status::Unset,
            vec![
                KeyValue::new("messaging.system", "kafka"),
                KeyValue::new("messaging.kafka.offset", 42_i64),
                KeyValue::new("messaging.kafka.message.key", "order 7"),
                KeyValue::new("messaging.kafka.message.tombstone", true),
            ],
        ));
        assert_eq!(
            line,
            "send orders trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 \
             parent_id=b7ad6b7169203331 kind=producer status=unset duration=3.2ms \
             messaging.system=kafka messaging.kafka.offset=42 \
             messaging.kafka.message.key=\"order 7\" messaging.kafka.message.tombstone=true"
        );
    }

    #[test]
    fn a_root_span_has_no_parent_and_an_error_says_what_went_wrong_on_the_same_line() {
        let line = span_line(&span(
            SpanId::INVALID,
            Status::error("the broker said NOT_ENOUGH_REPLICAS\nretry"),
            vec![KeyValue::new("error.type", "NOT_ENOUGH_REPLICAS")],
        ));
        assert!(
            line.contains(" parent_id=- kind=producer status=error duration=3.2ms error=\"the broker said NOT_ENOUGH_REPLICAS\\nretry\" error.type=NOT_ENOUGH_REPLICAS"),
            "{line}"
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn values_are_quoted_only_when_they_would_not_split_on_spaces() {
        assert_eq!(quoted("order-00001"), "order-00001");
        assert_eq!(quoted(""), "\"\"");
        assert_eq!(quoted("a \"b\""), "\"a \\\"b\\\"\"");
        assert_eq!(quoted("tab\there"), "\"tab\\there\"");
    }
}
