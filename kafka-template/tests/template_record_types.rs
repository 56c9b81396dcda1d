//! Per record type, with the mock: the schema id resolver is asked once per
//! record type and topic, the mock gives values back typed, and
//! `TemplateError`'s `Debug` reads like its `Display`.

mod log_capture;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kafka_template::core::NetworkError;
use kafka_template::core::{KafkaError, ProducerRecord};
use kafka_template::record::avro::{AvroNamed, AvroSchema};
use kafka_template::record::{SchemaIdError, SchemaIdResolver, ValueReadError, serde_millis};
use kafka_template::{
    AvroFraming, AvroType, KafkaBytes, KafkaConfig, KafkaRecord, KafkaTemplate, MockProducer,
    TemplateError,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KafkaBytes)]
struct PaymentId(String);

/// An Avro record with nested, optional, enum, list and time fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KafkaRecord)]
#[kafka(topic = "payments", format = "avro", namespace = "com.shop")]
struct PaymentTaken {
    #[kafka(key)]
    id: String,
    amount: Amount,
    note: Option<String>,
    method: Method,
    tags: Vec<String>,
    #[kafka(timestamp)]
    #[serde(with = "serde_millis")]
    at: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroType)]
struct Amount {
    cents: i64,
    currency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, AvroType)]
enum Method {
    Card,
    Transfer,
}

/// A JSON record with a newtype key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KafkaRecord)]
#[kafka(topic = "refunds", type_id = "com.shop.Refund")]
struct RefundIssued {
    #[kafka(key)]
    payment: PaymentId,
    cents: i64,
}

fn payment(i: i64) -> PaymentTaken {
    PaymentTaken {
        id: format!("p-{i}"),
        amount: Amount {
            cents: 1000 + i,
            currency: "EUR".into(),
        },
        note: (i % 2 == 0).then(|| "even".to_owned()),
        method: if i % 2 == 0 {
            Method::Card
        } else {
            Method::Transfer
        },
        tags: vec!["a".into(); usize::try_from(i).unwrap_or(0)],
        at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
    }
}

/// A registry stand-in that counts its requests, takes a while to answer (as
/// a registry round trip does) and can be told to fail.
#[derive(Default)]
struct CountingRegistry {
    requests: AtomicUsize,
    failing: AtomicBool,
}

impl SchemaIdResolver for CountingRegistry {
    fn schema_id(&self, subject: &str, schema: &AvroSchema) -> Result<u32, SchemaIdError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        if self.failing.load(Ordering::SeqCst) {
            return Err(SchemaIdError {
                subject: subject.to_owned(),
                fingerprint: schema.fingerprint(),
                reason: "registry unavailable".to_owned(),
            });
        }
        Ok(if subject == "payments-value" { 41 } else { 0 })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_resolver_is_asked_once_per_type_even_by_concurrent_first_sends() {
    let registry = Arc::new(CountingRegistry::default());
    let mock = MockProducer::new(3);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .avro_framing(AvroFraming::Confluent(registry.clone()))
        .build()
        .expect("template");
    let sends = (0..8).map(|i| {
        let template = template.clone();
        tokio::spawn(async move { template.send(&payment(i)).await.map(drop) })
    });
    for send in futures_util_join(sends).await {
        send.expect("task").expect("sent");
    }
    assert_eq!(registry.requests.load(Ordering::SeqCst), 1);
    for i in 8..12 {
        template.send(&payment(i)).await.expect("sent");
    }
    assert_eq!(registry.requests.load(Ordering::SeqCst), 1, "kept");
    let history = mock.history();
    assert_eq!(history.len(), 12);
    for record in &history {
        assert_eq!(record.value.as_deref().unwrap()[..5], [0, 0, 0, 0, 41]);
    }
    let mut read: Vec<PaymentTaken> = history
        .iter()
        .map(|r| r.value_as().expect("reads back"))
        .collect();
    read.sort_by_key(|p| p.amount.cents);
    assert_eq!(read, (0..12).map(payment).collect::<Vec<_>>());
}

/// Awaits every handle (tokio has no `join_all` of its own).
async fn futures_util_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await);
    }
    out
}

#[tokio::test]
async fn a_registered_type_is_resolved_at_build_and_a_failure_is_not_kept() {
    let registry = Arc::new(CountingRegistry::default());
    let template = KafkaTemplate::mock_builder(MockProducer::new(1))
        .avro_framing(AvroFraming::Confluent(registry.clone()))
        .register::<PaymentTaken>()
        .build()
        .expect("template");
    assert_eq!(registry.requests.load(Ordering::SeqCst), 1, "at build");
    for i in 0..3 {
        template.send(&payment(i)).await.expect("sent");
    }
    assert_eq!(registry.requests.load(Ordering::SeqCst), 1);

    // Unavailable at build: a startup error naming the record and subject.
    let down = Arc::new(CountingRegistry::default());
    down.failing.store(true, Ordering::SeqCst);
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .avro_framing(AvroFraming::Confluent(down.clone()))
        .register::<PaymentTaken>()
        .build()
        .expect_err("no id");
    let fingerprint = PaymentTaken::avro_schema().unwrap().fingerprint();
    assert_eq!(
        error.to_string(),
        format!(
            "record `PaymentTaken`: no schema id for subject `payments-value` (schema \
             fingerprint {fingerprint:#018x}): registry unavailable"
        )
    );

    // Unavailable at a first send: that send fails, the next one asks again.
    let template = KafkaTemplate::mock_builder(MockProducer::new(1))
        .avro_framing(AvroFraming::Confluent(down.clone()))
        .build()
        .expect("template");
    let before = down.requests.load(Ordering::SeqCst);
    let error = template.send(&payment(1)).await.expect_err("no id");
    assert!(
        error.to_string().contains("registry unavailable"),
        "{error}"
    );
    down.failing.store(false, Ordering::SeqCst);
    template.send(&payment(2)).await.expect("sent");
    template.send(&payment(3)).await.expect("sent");
    assert_eq!(down.requests.load(Ordering::SeqCst), before + 2);
}

#[tokio::test]
async fn the_mock_gives_values_back_typed_in_every_framing() {
    for framing in [AvroFraming::SingleObject, AvroFraming::Raw] {
        let mock = MockProducer::new(2);
        let template = KafkaTemplate::mock_builder(mock.clone())
            .avro_framing(framing.clone())
            .build()
            .expect("template");
        template.send(&payment(4)).await.expect("sent");
        assert_eq!(
            mock.history()[0].value_as::<PaymentTaken>().unwrap(),
            payment(4),
            "{framing:?}"
        );
    }
    let mock = MockProducer::new(2);
    let template = KafkaTemplate::with_mock(mock.clone());
    let refund = RefundIssued {
        payment: PaymentId("p-9".into()),
        cents: 250,
    };
    template.send(&refund).await.expect("sent");
    let sent = &mock.history()[0];
    assert_eq!(sent.key_str().as_deref(), Some("p-9"));
    assert_eq!(sent.value_as::<RefundIssued>().unwrap(), refund);

    // The wrong type: an error naming it, not a panic.
    let error = sent.value_as::<PaymentTaken>().unwrap_err();
    assert!(matches!(error, ValueReadError::Frame { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "record `PaymentTaken`: expected a value in the Avro single-object framing: it does not \
         start with the marker C3 01 (29 bytes)"
    );
    template
        .send(ProducerRecord::new("refunds", "not json").with_key("k"))
        .await
        .expect("sent");
    let error = mock.history()[1]
        .value_as::<RefundIssued>()
        .expect_err("not JSON");
    assert!(
        error
            .to_string()
            .starts_with("record `RefundIssued`: the value is not its JSON: "),
        "{error}"
    );
}

#[test]
fn template_errors_debug_like_their_display_with_the_causes() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        "kafka:\n  producer:\n    key-serializer: org.apache.kafka.common.serialization.LongSerializer\n",
    )
    .expect("write");
    let config = KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("loads");
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<RefundIssued>()
        .build()
        .expect_err("LongSerializer for a String newtype");
    let display = error.to_string();
    assert!(
        display.contains("record `RefundIssued`: its key field `payment`"),
        "{display}"
    );
    assert_eq!(format!("{error:?}"), display, "no causes: Debug is Display");
    assert!(format!("{error:#?}").starts_with("RecordTypes(\n"));

    // With causes: each under "Caused by:", numbered when there are several,
    // and said once when the message already quotes it.
    let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    let error = TemplateError::Producer(KafkaError::Network(NetworkError::Connect {
        address: "localhost:1".into(),
        source: Arc::new(refused),
    }));
    assert_eq!(
        format!("{error:?}"),
        "cannot connect to broker localhost:1: connection refused"
    );
    let layered = std::io::Error::other(Layer(
        "proxy said no",
        Some(Box::new(Layer("route\nmissing", None))),
    ));
    let error = TemplateError::Producer(KafkaError::Network(NetworkError::Connect {
        address: "localhost:1".into(),
        source: Arc::new(layered),
    }));
    assert_eq!(
        format!("{error:?}"),
        "cannot connect to broker localhost:1: proxy said no\n\nCaused by:\n    route\n    missing"
    );
    let deeper = std::io::Error::other(Layer(
        "proxy said no",
        Some(Box::new(Layer(
            "route missing",
            Some(Box::new(Layer("no such host", None))),
        ))),
    ));
    let error = TemplateError::Producer(KafkaError::Network(NetworkError::Connect {
        address: "localhost:1".into(),
        source: Arc::new(deeper),
    }));
    assert_eq!(
        format!("{error:?}"),
        "cannot connect to broker localhost:1: proxy said no\n\nCaused by:\n    0: route missing\n    1: no such host"
    );
}

/// An error with an optional cause, to build chains.
#[derive(Debug)]
struct Layer(&'static str, Option<Box<Layer>>);

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Layer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|e| e as _)
    }
}

/// A JSON record without a `type_id`.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "notes")]
struct NoteAdded {
    text: String,
}

/// The config of a producer with Spring's JsonSerializer line and these
/// producer properties.
fn json_serializer_config(properties: &str) -> KafkaConfig {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "spring:\n  kafka:\n    producer:\n      value-serializer: org.springframework.kafka.support.serializer.JsonSerializer\n      properties:\n{properties}"
        ),
    )
    .expect("write");
    KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("loads")
}

#[test]
fn a_json_record_without_type_id_under_springs_json_serializer_is_warned_about() {
    let build = |properties: &str| {
        let config = json_serializer_config(properties);
        log_capture::capture_logs(|| {
            KafkaTemplate::mock_builder(MockProducer::new(1))
                .config(config)
                .register::<NoteAdded>()
                .build()
                .expect("builds")
        })
        .1
    };
    let logs = build("        linger.ms: 1\n");
    assert!(
        logs.contains("NoteAdded") && logs.contains("__TypeId__"),
        "{logs}"
    );
    // Not when the type headers are off.
    let logs = build("        spring.json.add.type.headers: false\n");
    assert!(!logs.contains("__TypeId__"), "{logs}");
}

/// A mock template whose `application.yml` has these producer properties.
fn with_producer_properties(properties: &str) -> (MockProducer, KafkaTemplate) {
    let mock = MockProducer::new(1);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(json_serializer_config(properties))
        .build()
        .expect("template");
    (mock, template)
}

#[tokio::test]
async fn springs_json_serializer_settings_shape_the_type_id_header() {
    let refund = RefundIssued {
        payment: PaymentId("p-1".into()),
        cents: 250,
    };
    // Mapped, as Spring's JsonSerializer writes a mapped class's token.
    let (mock, template) = with_producer_properties(
        "        spring.json.type.mapping: refund:com.shop.Refund,other:com.shop.Other\n",
    );
    template.send(&refund).await.unwrap();
    assert_eq!(
        mock.history()[0].header_str("__TypeId__").as_deref(),
        Some("refund")
    );
    // Left out.
    let (mock, template) =
        with_producer_properties("        spring.json.add.type.headers: false\n");
    template.send(&refund).await.unwrap();
    assert_eq!(mock.history()[0].header_str("__TypeId__"), None);
    assert_eq!(
        mock.history()[0].value_as::<RefundIssued>().unwrap(),
        refund
    );
    // As declared otherwise.
    let (mock, template) = with_producer_properties("        spring.json.add.type.headers: true\n");
    template.send(&refund).await.unwrap();
    assert_eq!(
        mock.history()[0].header_str("__TypeId__").as_deref(),
        Some("com.shop.Refund")
    );
}

/// A JSON-keyed record whose key class is declared for Spring consumers.
#[derive(Debug, PartialEq, Serialize, Deserialize, KafkaRecord)]
#[kafka(
    topic = "parcels",
    key_format = "json",
    key_type_id = "com.shop.ParcelKey",
    type_id = "com.shop.ParcelScanned"
)]
struct ParcelScanned {
    #[kafka(key)]
    warehouse: String,
    #[kafka(key)]
    parcel: u32,
}

/// The same without a declared key class.
#[derive(Serialize, KafkaRecord)]
#[kafka(
    topic = "parcels",
    key_format = "json",
    type_id = "com.shop.ParcelLost"
)]
struct ParcelLost {
    #[kafka(key)]
    warehouse: String,
}

/// The config of a producer with Spring's JsonSerializer as key and value
/// serializer, and these producer properties.
fn json_key_serializer_config(properties: &str) -> KafkaConfig {
    json_serializer_config(&format!(
        "        linger.ms: 1\n{properties}      key-serializer: org.springframework.kafka.support.serializer.JsonSerializer\n"
    ))
}

/// A mock template with [`json_key_serializer_config`].
fn with_json_key_serializer(properties: &str) -> (MockProducer, KafkaTemplate) {
    let mock = MockProducer::new(1);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(json_key_serializer_config(properties))
        .build()
        .expect("template");
    (mock, template)
}

#[tokio::test]
async fn a_json_key_carries_the_key_type_id_header_springs_json_serializer_writes() {
    let parcel = ParcelScanned {
        warehouse: "w1".into(),
        parcel: 7,
    };
    let headers = |mock: &MockProducer, name: &str| mock.history()[0].header_str(name);
    // As declared, beside the value's __TypeId__.
    let (mock, template) = with_json_key_serializer("");
    template.send(&parcel).await.unwrap();
    assert_eq!(
        headers(&mock, "__Key_TypeId__").as_deref(),
        Some("com.shop.ParcelKey")
    );
    assert_eq!(
        headers(&mock, "__TypeId__").as_deref(),
        Some("com.shop.ParcelScanned")
    );
    assert_eq!(
        mock.history()[0].key.as_deref(),
        Some(&br#"{"warehouse":"w1","parcel":7}"#[..])
    );
    // Spring's type mappings apply to key classes too.
    let (mock, template) = with_json_key_serializer(
        "        spring.json.type.mapping: parcelKey:com.shop.ParcelKey\n",
    );
    template.send(&parcel).await.unwrap();
    assert_eq!(
        headers(&mock, "__Key_TypeId__").as_deref(),
        Some("parcelKey")
    );
    assert_eq!(
        headers(&mock, "__TypeId__").as_deref(),
        Some("com.shop.ParcelScanned")
    );
    // Both left out with the type headers off.
    let (mock, template) =
        with_json_key_serializer("        spring.json.add.type.headers: false\n");
    template.send(&parcel).await.unwrap();
    assert_eq!(headers(&mock, "__Key_TypeId__"), None);
    assert_eq!(headers(&mock, "__TypeId__"), None);
}

#[test]
fn a_json_key_without_key_type_id_under_springs_json_serializer_is_warned_about() {
    let logs = |properties: &str| {
        log_capture::capture_logs(|| {
            KafkaTemplate::mock_builder(MockProducer::new(1))
                .config(json_key_serializer_config(properties))
                .register::<ParcelLost>()
                .build()
                .expect("builds")
        })
        .1
    };
    let warned = logs("");
    assert!(
        warned.contains("the key of `ParcelLost`") && warned.contains("__Key_TypeId__"),
        "{warned}"
    );
    assert!(!logs("        spring.json.add.type.headers: false\n").contains("__Key_TypeId__"));
}
