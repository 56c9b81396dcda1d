//! The order service's traces against a real broker: with its
//! `application.yml` (observation on) and the tracer it installs, every
//! record Kafka's own console consumer reads back carries a `traceparent`
//! whose trace id and span id are those of an exported `send <topic>`
//! producer span, with the record's partition and offset, whose parent is the
//! `place-order` / `ship-order` span of that order.
//!
//! One test per binary: the `tracing` subscriber is global to the process
//! (the sends' spans end on the producer's threads).

use std::collections::HashMap;

use kafka_template::KafkaConfig;
use kafka_testkit::{ConsumedRecord, Kafka, unique_name};
use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use order_service::telemetry::Tracing;
use order_service::{OrderService, sample_order};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv: &&KeyValue| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|v| v.as_str().into_owned())
}

/// The trace id and span id of a W3C `traceparent` (`00-<trace>-<span>-<flags>`).
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "not a traceparent: {traceparent}");
    assert_eq!(parts[0], "00", "version: {traceparent}");
    assert_eq!(parts[3], "01", "sampled: {traceparent}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_carries_the_traceparent_of_an_exported_send_span() {
    const ORDERS: u32 = 6;
    let exporter = InMemorySpanExporter::default();
    let traces = Tracing::new(exporter.clone());
    tracing_subscriber::registry().with(traces.layer()).init();

    let kafka = Kafka::get();
    let orders_topic = kafka.create_topic("traced-orders", 3, 1);
    let audit_topic = kafka.create_topic("traced-audit", 1, 1);
    let shipments_topic = kafka.create_topic("traced-shipments", 2, 1);
    let config = KafkaConfig::builder()
        .dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
        .profiles(Vec::<String>::new())
        .env_source([("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap())])
        .override_value("kafka.client-id", unique_name("order-service-traces"))
        .override_value("app.topics.orders", &orders_topic)
        .override_value("app.topics.audit", &audit_topic)
        .override_value("app.topics.shipments", &shipments_topic)
        .load()
        .expect("configuration");
    let service = OrderService::from_config(config).expect("the service starts");
    for n in 0..ORDERS {
        service.place_order(sample_order(n)).await.expect("placed");
        if n % 2 == 0 {
            service
                .ship_order(&format!("order-{n:05}"), &format!("TRACK-{n}"), "acme")
                .await
                .expect("shipped");
        }
    }
    for template in service.templates() {
        assert_eq!(template.close(std::time::Duration::from_secs(10)).await, 0);
    }
    traces.flush().expect("the spans are exported");
    let spans = exporter.get_finished_spans().expect("exported spans");
    let by_id: HashMap<String, &SpanData> = spans
        .iter()
        .map(|span| (span.span_context.span_id().to_string(), span))
        .collect();

    // What Kafka's console consumer finds.
    let shipments = ORDERS.div_ceil(2) as usize;
    let read: Vec<(ConsumedRecord, &str)> = [
        (&orders_topic, ORDERS as usize, "place-order"),
        (&audit_topic, ORDERS as usize, "place-order"),
        (&shipments_topic, shipments, "ship-order"),
    ]
    .into_iter()
    .flat_map(|(topic, expected, operation)| {
        let records = kafka.read_all(topic, expected);
        assert_eq!(records.len(), expected, "{topic}: {records:?}");
        records.into_iter().map(move |r| (r, operation))
    })
    .collect();

    let mut trace_of_order: HashMap<String, String> = HashMap::new();
    for (record, operation) in &read {
        let where_ = format!("{}-{}@{}", record.topic, record.partition, record.offset);
        let traceparent = record
            .header_str("traceparent")
            .unwrap_or_else(|| panic!("{where_}: no traceparent in {:?}", record.headers));
        let (trace_id, span_id) = ids(&traceparent);
        let span = by_id
            .get(&span_id)
            .unwrap_or_else(|| panic!("{where_}: span {span_id} was not exported: {spans:#?}"));
        assert_eq!(
            span.span_context.trace_id().to_string(),
            trace_id,
            "{where_}"
        );
        assert_eq!(span.name, format!("send {}", record.topic), "{where_}");
        assert_eq!(span.span_kind, SpanKind::Producer, "{where_}");
        assert_eq!(
            attribute(span, "messaging.kafka.offset"),
            Some(&Value::I64(record.offset)),
            "{where_}"
        );
        assert_eq!(
            text(span, "messaging.destination.partition.id"),
            Some(record.partition.to_string()),
            "{where_}"
        );
        let key = record.key_str().expect("a text key");
        assert_eq!(
            text(span, "messaging.kafka.message.key").as_deref(),
            Some(key.as_str())
        );
        // Its parent: the service's operation on that order, in the same trace.
        let parent = by_id
            .get(&span.parent_span_id.to_string())
            .unwrap_or_else(|| panic!("{where_}: the parent of {span:#?} was not exported"));
        assert_eq!(parent.name, *operation, "{where_}");
        assert_eq!(parent.span_context.trace_id(), span.span_context.trace_id());
        assert_eq!(text(parent, "order.id").as_deref(), Some(key.as_str()));
        if *operation == "place-order" {
            // The order and its audit line: one trace.
            let trace = trace_of_order
                .entry(key.clone())
                .or_insert(trace_id.clone());
            assert_eq!(*trace, trace_id, "{key}: order and audit line in one trace");
        }
    }
    assert_eq!(trace_of_order.len(), ORDERS as usize);
    let sends = spans.iter().filter(|s| s.name.starts_with("send ")).count();
    assert_eq!(sends, read.len(), "one send span per record");
    traces.shutdown().expect("the provider shuts down");
}
