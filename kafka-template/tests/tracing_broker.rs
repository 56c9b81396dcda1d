//! Tracing against the real broker: with `template.observation-enabled`
//! each send has a producer span, ended when the broker acknowledged the
//! record (also for `enqueue`, `enqueue_with_callback` and
//! `try_enqueue_with_callback`), and Kafka's own
//! console consumer finds a `traceparent` header whose trace id and span id
//! are that span's; with observation off the caller's span is propagated, and
//! with `template.trace-propagation-enabled: false` no header is written.
#![cfg(feature = "opentelemetry")]

mod config_common;

use opentelemetry::trace::{SpanContext, TraceContextExt, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tokio::sync::oneshot;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

use config_common::load_yaml;
use kafka_template::core::ProducerRecord;
use kafka_template::{KafkaRecord, KafkaTemplate};
use kafka_testkit::{ConsumedRecord, Kafka};

/// A derived record, which the template lends to the producer (no
/// `ProducerRecord` made), with an upstream's `traceparent` of its own.
#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "${app.topics.traced}", format = "json")]
struct Forwarded {
    #[kafka(key)]
    id: String,
    #[kafka(header = "traceparent")]
    upstream: String,
}

/// A template of the broker with these lines under `kafka.template:`, and a
/// linger long enough that nothing goes out before `flush`.
fn template(template_lines: &str) -> KafkaTemplate {
    template_of("tpl-traced-unused", template_lines)
}

/// [`template`] with `topic` as `app.topics.traced`, [`Forwarded`]'s topic.
fn template_of(topic: &str, template_lines: &str) -> KafkaTemplate {
    let (_dir, config) = load_yaml(
        &format!(
            "app:\n  topics:\n    traced: {topic}\nkafka:\n  bootstrap-servers: {}\n  \
             client-id: traced-orders\n  producer:\n    linger: 60s\n  template:\n{template_lines}",
            Kafka::get().bootstrap()
        ),
        &[],
    );
    KafkaTemplate::builder()
        .config(config)
        .build()
        .expect("template")
}

/// The partition and offset the span says its record landed at.
fn landed_at(span: &SpanData) -> Option<(String, i64)> {
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv: &&KeyValue| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    match (
        attribute("messaging.destination.partition.id")?,
        attribute("messaging.kafka.offset")?,
    ) {
        (partition, Value::I64(offset)) => Some((partition.as_str().into_owned(), offset)),
        _ => None,
    }
}

fn traceparent_of(record: &ConsumedRecord) -> Option<String> {
    record.header_str("traceparent")
}

fn w3c(context: &SpanContext) -> String {
    format!("00-{}-{}-01", context.trace_id(), context.span_id())
}

#[tokio::test]
async fn consumers_see_the_producer_spans_trace_and_span_ids() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    // As a service sets it up: the global provider makes the send spans (the
    // templates are built after this), the layer the caller's spans.
    opentelemetry::global::set_tracer_provider(provider.clone());
    // The spans are made on this (current-thread) runtime's thread.
    let _subscriber = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("orders"))),
    );
    let kafka = Kafka::get();
    let topic = kafka.create_topic("tpl-traced", 2, 1);
    let observed = template_of(&topic, "    observation-enabled: true\n");
    let plain = template("    observation-enabled: false\n");
    let silent = template("    trace-propagation-enabled: false\n");
    let sends = |name: &str| format!("send {topic}").eq(name);
    let finished = || {
        let mut spans = exporter.get_finished_spans().expect("spans");
        spans.retain(|span| sends(&span.name));
        spans
    };

    let checkout = tracing::info_span!("checkout");
    let (acked, heard) = oneshot::channel();
    // Every send runs inside the caller's `checkout` span.
    observed
        .enqueue_with_callback(
            ProducerRecord::new(topic.as_str(), "1").with_key("by-callback"),
            move |result| drop(acked.send(result.map(|sent| sent.record_metadata))),
        )
        .instrument(checkout.clone())
        .await
        .expect("buffered");
    let pending = observed
        .enqueue(ProducerRecord::new(topic.as_str(), "2").with_key("by-future"))
        .instrument(checkout.clone())
        .await
        .expect("buffered");
    // The plain call's parent is the span entered when it is called.
    let (plain_acked, plain_heard) = oneshot::channel();
    if let Err(pending) = checkout.in_scope(|| {
        observed.try_enqueue_with_callback(
            ProducerRecord::new(topic.as_str(), "4").with_key("by-plain-call"),
            move |result| {
                // The record handed back is the one sent, trace context included.
                let sent = result.map(|sent| {
                    let traceparent = sent
                        .producer_record
                        .headers
                        .iter()
                        .find(|h| h.key == "traceparent")
                        .and_then(|h| h.value.clone());
                    (sent.record_metadata, traceparent)
                });
                drop(plain_acked.send(sent))
            },
        )
    }) {
        pending.await.expect("buffered");
    }
    // A forwarded record with its upstream's traceparent: replaced by this
    // send's context, as OpenTelemetry's Java instrumentation does.
    drop(
        plain
            .enqueue(
                ProducerRecord::new(topic.as_str(), "5")
                    .with_key("forwarded")
                    .with_header(
                        "traceparent",
                        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                    ),
            )
            .instrument(checkout.clone())
            .await
            .expect("buffered"),
    );
    // Derived records, lent to the producer: their own `traceparent` is
    // replaced by the send span's, as a forwarded record's is.
    let upstream = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let derived = |id: &str| Forwarded {
        id: id.into(),
        upstream: upstream.into(),
    };
    drop(
        observed
            .enqueue(&derived("derived-by-future"))
            .instrument(checkout.clone())
            .await
            .expect("buffered"),
    );
    if let Err(pending) = checkout
        .in_scope(|| observed.try_enqueue_with_callback(&derived("derived-by-plain-call"), drop))
    {
        pending.await.expect("buffered");
    }
    for (template, key) in [(&plain, "caller-span"), (&silent, "silent")] {
        drop(
            template
                .enqueue(ProducerRecord::new(topic.as_str(), "3").with_key(key))
                .instrument(checkout.clone())
                .await
                .expect("buffered"),
        );
    }
    assert!(
        finished().is_empty(),
        "no span ends before its record's outcome is known"
    );
    for template in [&observed, &plain, &silent] {
        template.flush().await;
    }
    let by_callback = heard.await.expect("callback ran").expect("acknowledged");
    let by_future = pending.await.expect("acknowledged").record_metadata;
    let (by_plain_call, plain_traceparent) = plain_heard
        .await
        .expect("callback ran")
        .expect("acknowledged");
    let checkout_context = checkout.context().span().span_context().clone();
    drop(checkout);

    let spans = finished();
    assert_eq!(spans.len(), 5, "one span per observed send: {spans:#?}");
    let records = kafka.read_all(&topic, 8);
    assert_eq!(records.len(), 8, "{records:?}");
    for key in ["derived-by-future", "derived-by-plain-call"] {
        let record = records
            .iter()
            .find(|r| r.key_str().as_deref() == Some(key))
            .expect("the record landed");
        let span = spans
            .iter()
            .find(|span| landed_at(span) == Some((record.partition.to_string(), record.offset)))
            .expect("a span with the record's partition and offset");
        let traceparents: Vec<_> = record
            .headers
            .iter()
            .filter(|(name, _)| name == "traceparent")
            .collect();
        assert_eq!(traceparents.len(), 1, "{key}: {:?}", record.headers);
        assert_eq!(
            traceparent_of(record),
            Some(w3c(&span.span_context)),
            "{key}: the consumer continues the producer span"
        );
        assert_eq!(span.parent_span_id, checkout_context.span_id(), "{key}");
    }
    for (key, metadata) in [
        ("by-callback", &by_callback),
        ("by-future", &by_future),
        ("by-plain-call", &by_plain_call),
    ] {
        let record = records
            .iter()
            .find(|r| r.key_str().as_deref() == Some(key))
            .expect("the record landed");
        assert_eq!(
            (record.partition, Some(record.offset)),
            (metadata.partition, metadata.offset)
        );
        let span = spans
            .iter()
            .find(|span| landed_at(span) == Some((record.partition.to_string(), record.offset)))
            .expect("a span with the record's partition and offset");
        assert_eq!(
            traceparent_of(record),
            Some(w3c(&span.span_context)),
            "{key}: the consumer continues the producer span"
        );
        assert_eq!(span.span_context.trace_id(), checkout_context.trace_id());
        assert_eq!(span.parent_span_id, checkout_context.span_id());
        assert!(
            span.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "messaging.client.id"
                    && kv.value.as_str() == "traced-orders"),
            "{span:#?}"
        );
    }
    let plain_call_record = records
        .iter()
        .find(|r| r.key_str().as_deref() == Some("by-plain-call"))
        .expect("the record landed");
    assert_eq!(
        plain_traceparent.map(|v| String::from_utf8_lossy(&v).into_owned()),
        traceparent_of(plain_call_record),
        "the callback's record has the traceparent the consumer found"
    );
    let header_of = |key: &str| {
        records
            .iter()
            .find(|r| r.key_str().as_deref() == Some(key))
            .map(traceparent_of)
            .expect("the record landed")
    };
    assert_eq!(
        header_of("caller-span"),
        Some(w3c(&checkout_context)),
        "observation off: the caller's span goes on"
    );
    assert_eq!(header_of("silent"), None, "propagation off: no header");
    let forwarded = records
        .iter()
        .find(|r| r.key_str().as_deref() == Some("forwarded"))
        .expect("the record landed");
    let traceparents = forwarded
        .headers
        .iter()
        .filter(|(key, _)| key == "traceparent")
        .count();
    assert_eq!(traceparents, 1, "{:?}", forwarded.headers);
    assert_eq!(traceparent_of(forwarded), Some(w3c(&checkout_context)));
    for template in [observed, plain, silent] {
        template.close(std::time::Duration::from_secs(10)).await;
    }
}

/// A record that fails before it is buffered keeps the trace context it
/// would have been sent with: in the error handed back, and in the failure
/// journal, which replays it as it was.
#[tokio::test]
async fn a_record_refused_or_journaled_keeps_its_traceparent() {
    let provider = SdkTracerProvider::builder().build();
    let _subscriber = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("orders"))),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = kafka_template::FailureJournal::open(dir.path().join("failed.journal"))
        .expect("journal opens");
    let lines = "    observation-enabled: false\n";
    let (_dir, config) = load_yaml(
        &format!(
            "kafka:\n  bootstrap-servers: {}\n  producer:\n    properties:\n      \
             max.block.ms: 1000\n  template:\n{lines}",
            Kafka::get().bootstrap()
        ),
        &[],
    );
    let journaled = KafkaTemplate::builder()
        .config(config.clone())
        .failure_journal(journal.clone())
        .build()
        .expect("template");
    let plain = KafkaTemplate::builder()
        .config(config)
        .build()
        .expect("template");
    // No such topic: each send waits for its metadata, then fails.
    let topic = kafka_testkit::unique_name("tpl-traced-missing");
    let checkout = tracing::info_span!("checkout");
    let expected = w3c(checkout.context().span().span_context());
    let header = |headers: &[kafka_template::core::Header]| {
        headers
            .iter()
            .find(|h| h.key == "traceparent")
            .and_then(|h| h.value.as_deref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    for (template, key) in [(&journaled, "journaled"), (&plain, "refused")] {
        let pending = checkout
            .in_scope(|| {
                template.try_enqueue_with_callback(
                    ProducerRecord::new(topic.as_str(), "v").with_key(key),
                    |_| {},
                )
            })
            .expect_err("the topic's metadata must be waited for");
        let error = pending.await.expect_err("no such topic");
        let record = error.record().expect("the record comes back");
        assert_eq!(header(&record.headers), Some(expected.clone()), "{key}");
    }
    let entries: Vec<_> = journal
        .entries()
        .expect("journal reads")
        .collect::<Result<_, _>>()
        .expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(header(&entries[0].headers), Some(expected));
}
