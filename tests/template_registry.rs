//! Registry Avro end to end: seed 004's Spring configuration (both serializer
//! lines `io.confluent.kafka.serializers.KafkaAvroSerializer`) with the broker
//! and a real schema registry (Apicurio's Confluent API, scripts/registry)
//! added; what lands is read by an independent Avro consumer through the
//! registry (Confluent's Python AvroDeserializer). Evolution, incompatible
//! schemas refused before any record is sent, a registry that is down, and the
//! number of registry requests over many sends. A registry served over HTTPS
//! (`scripts/registry start --tls`) trusted through a PKCS12 trust store, and
//! one whose CA is not trusted.

use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kafka_template::record::serde_millis;
use kafka_template::{AvroType, KafkaConfig, KafkaRecord, KafkaTemplate, TemplateError};
use kafka_testkit::Kafka;
use kafka_testkit::registry::{Registry, make_ca};
use order_service::{OrderPlaced, OrderService, sample_order};
use serde::Serialize;

mod v1 {
    use super::*;
    /// An order, version 1.
    #[derive(Clone, Serialize, KafkaRecord)]
    #[kafka(
        topic = "${app.topics.orders}",
        format = "avro",
        namespace = "com.shop.orders"
    )]
    pub struct OrderPlaced {
        #[kafka(key)]
        pub order_id: String,
        pub customer: Customer,
        pub amount_cents: i64,
        #[kafka(timestamp)]
        #[serde(with = "serde_millis")]
        pub placed_at: SystemTime,
    }

    #[derive(Clone, Serialize, AvroType)]
    #[kafka(namespace = "com.shop.orders")]
    pub struct Customer {
        pub id: i64,
        pub name: String,
    }
}

mod v2 {
    use super::*;
    /// Version 2: an optional field with a default (BACKWARD compatible).
    #[derive(Clone, Serialize, KafkaRecord)]
    #[kafka(
        topic = "${app.topics.orders}",
        format = "avro",
        namespace = "com.shop.orders"
    )]
    pub struct OrderPlaced {
        #[kafka(key)]
        pub order_id: String,
        pub customer: v1::Customer,
        pub amount_cents: i64,
        pub coupon: Option<String>,
        #[kafka(timestamp)]
        #[serde(with = "serde_millis")]
        pub placed_at: SystemTime,
    }
}

mod breaking {
    use super::*;
    /// A required field without a default: not BACKWARD compatible.
    #[derive(Clone, Serialize, KafkaRecord)]
    #[kafka(
        topic = "${app.topics.orders}",
        format = "avro",
        namespace = "com.shop.orders"
    )]
    pub struct OrderPlaced {
        #[kafka(key)]
        pub order_id: String,
        pub customer: v1::Customer,
        pub amount_cents: i64,
        pub warehouse: String,
    }
}

/// Seed 004's `application.yml`, as written, with the broker and registry
/// addresses and the topic added.
fn seed_004_config(bootstrap: &str, registry_url: &str, topic: &str, extra: &str) -> KafkaConfig {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = format!(
        "spring:
  application:
    name: kafka-practice

  kafka:
    bootstrap-servers: {bootstrap} # 1. 카프카 클러스터 접속 주소

    # 2. 프로듀서(Producer) 설정
    producer:
      # 메시지 Key/Value를 바이트로 변환하는 직렬화(Serializer) 클래스 지정
      key-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer
      value-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer
      properties:
        schema.registry.url: {registry_url}
{extra}
app:
  topics:
    orders: {topic}
"
    );
    std::fs::write(dir.path().join("application.yml"), yaml).expect("write config");
    KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("seed 004's configuration loads")
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH
        + Duration::from_millis(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64,
        )
}

fn order(i: usize) -> v1::OrderPlaced {
    v1::OrderPlaced {
        order_id: format!("o-{i}"),
        customer: v1::Customer {
            id: i as i64,
            name: format!("customer {i}"),
        },
        amount_cents: 100 + i as i64,
        placed_at: now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_sends_avro_that_an_independent_consumer_reads_through_the_registry() {
    let kafka = Kafka::get();
    let registry = Registry::get();
    let topic = kafka.create_topic("reg-orders", 3, 1);
    let config = seed_004_config(kafka.bootstrap(), registry.url(), &topic, "");
    // The order service's own record type.
    let template = KafkaTemplate::builder()
        .config(config)
        .register::<OrderPlaced>()
        .build()
        .expect("template starts");
    for n in 0..10 {
        template.send(&sample_order(n)).await.expect("sent");
    }
    let records = registry.avro_consume(kafka, &topic, 10);
    assert_eq!(records.len(), 10, "{records:?}");
    let mut keys: Vec<String> = records
        .iter()
        .map(|r| {
            r.key
                .as_ref()
                .and_then(|k| k.as_str())
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    keys.sort();
    let expected: Vec<String> = (0..10).map(|n| format!("order-{n:05}")).collect();
    assert_eq!(
        keys, expected,
        "keys are Avro strings read through the registry"
    );
    let third = records
        .iter()
        .find(|r| r.key.as_ref().and_then(|k| k.as_str()) == Some("order-00003"))
        .unwrap();
    let sample = sample_order(3);
    assert_eq!(third.value["amount_cents"], sample.amount_cents);
    assert_eq!(third.value["customer"]["name"], sample.customer.name);
    assert_eq!(third.value["coupon"], "WELCOME10");
    assert_eq!(third.value["items"][0]["sku"], sample.items[0].sku);
    assert!(third.value_schema_id.is_some() && third.key_schema_id.is_some());
    assert_eq!(registry.versions(&format!("{topic}-value")), vec![1]);
    assert_eq!(registry.versions(&format!("{topic}-key")), vec![1]);
}

/// The order service itself, run as its `main` runs it, with its `avro`
/// profile (seed 004's producer block, `schema.registry.url` from
/// `SCHEMA_REGISTRY_URL`): orders land as registry Avro that the independent
/// consumer reads; shipments, through the profile's second producer, stay
/// Spring JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_service_with_its_avro_profile_sends_orders_an_avro_consumer_reads() {
    let kafka = Kafka::get();
    let registry = Registry::get();
    let orders = kafka.create_topic("svc-orders-avro", 3, 1);
    let shipments = kafka.create_topic("svc-shipments", 1, 1);
    let audit = kafka.create_topic("svc-audit", 1, 1);
    let config = KafkaConfig::builder()
        .dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/order-service/config"
        ))
        .profiles(["avro"])
        .env_source([
            ("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap()),
            ("SCHEMA_REGISTRY_URL", registry.url()),
            ("APP_TOPICS_ORDERS", orders.as_str()),
            ("APP_TOPICS_SHIPMENTS", shipments.as_str()),
            ("APP_TOPICS_AUDIT", audit.as_str()),
        ])
        .load()
        .expect("the order service's avro profile loads");
    let service = OrderService::from_config(config).expect("the service starts");
    // Registered at start: both subjects exist before the first order.
    assert_eq!(registry.versions(&format!("{orders}-value")), vec![1]);
    assert_eq!(registry.versions(&format!("{orders}-key")), vec![1]);
    for n in 0..6 {
        let sent = service.place_order(sample_order(n)).await.expect("placed");
        assert_eq!(sent.record_metadata.topic, orders);
        if n % 2 == 0 {
            service
                .ship_order(&format!("order-{n:05}"), &format!("TRACK-{n}"), "acme")
                .await
                .expect("shipped");
        }
    }
    for template in service.templates() {
        assert_eq!(template.close(Duration::from_secs(10)).await, 0);
    }

    let records = registry.avro_consume(kafka, &orders, 6);
    assert_eq!(records.len(), 6, "{records:?}");
    for record in &records {
        let key = record.key.as_ref().and_then(|k| k.as_str()).unwrap_or("");
        let n: u32 = key.trim_start_matches("order-").parse().expect(key);
        let sample = sample_order(n);
        assert_eq!(record.value["order_id"], sample.order_id);
        assert_eq!(record.value["amount_cents"], sample.amount_cents);
        assert_eq!(record.value["tenant"], sample.tenant);
        assert_eq!(
            record.value["items"][0]["quantity"],
            sample.items[0].quantity
        );
        assert!(record.value_schema_id.is_some() && record.key_schema_id.is_some());
    }
    // Shipments: Spring JSON with __TypeId__, read by Kafka's own consumer.
    let shipped = kafka.read_all(&shipments, 3);
    assert_eq!(shipped.len(), 3, "{shipped:?}");
    assert!(
        shipped[0]
            .value_str()
            .unwrap()
            .contains("\"tracking_number\":\"TRACK-")
    );
    assert_eq!(
        shipped[0].header_str("__TypeId__").as_deref(),
        Some("com.shop.orders.OrderShipped")
    );
    assert_eq!(kafka.read_all(&audit, 6).len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evolution_registers_version_2_and_an_incompatible_change_is_refused_before_sending() {
    let kafka = Kafka::get();
    let registry = Registry::get();
    let topic = kafka.create_topic("reg-evolve", 1, 1);
    let subject = format!("{topic}-value");
    let config = || seed_004_config(kafka.bootstrap(), registry.url(), &topic, "");
    let t1 = KafkaTemplate::builder()
        .config(config())
        .register::<v1::OrderPlaced>()
        .build()
        .unwrap();
    t1.send(&order(1)).await.unwrap();
    registry.set_compatibility(&subject, "BACKWARD");

    let t2 = KafkaTemplate::builder()
        .config(config())
        .register::<v2::OrderPlaced>()
        .build()
        .expect("an optional field with a default is BACKWARD compatible");
    t2.send(&v2::OrderPlaced {
        order_id: "o-2".into(),
        customer: v1::Customer {
            id: 2,
            name: "two".into(),
        },
        amount_cents: 2,
        coupon: Some("SAVE".into()),
        placed_at: now(),
    })
    .await
    .unwrap();
    assert_eq!(registry.versions(&subject), vec![1, 2]);

    let refused = KafkaTemplate::builder()
        .config(config())
        .register::<breaking::OrderPlaced>()
        .build()
        .expect_err("a required field without default is refused under BACKWARD");
    let message = refused.to_string();
    assert!(
        matches!(refused, TemplateError::RecordTypes(_)),
        "{refused:?}"
    );
    assert!(message.contains(&format!("`{subject}`")), "{message}");
    assert!(message.contains("incompatible"), "{message}");
    assert_eq!(registry.versions(&subject), vec![1, 2]);

    // Not registered at build: the first send is refused, nothing is written.
    let lazy = KafkaTemplate::builder().config(config()).build().unwrap();
    let err = lazy
        .send(&breaking::OrderPlaced {
            order_id: "o-3".into(),
            customer: v1::Customer {
                id: 3,
                name: "three".into(),
            },
            amount_cents: 3,
            warehouse: "w".into(),
        })
        .await
        .expect_err("refused before sending");
    assert!(err.to_string().contains(&subject), "{err}");
    let records = registry.avro_consume(kafka, &topic, 2);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].value["coupon"], "SAVE");
    assert_ne!(records[0].value_schema_id, records[1].value_schema_id);
}

mod json {
    use super::*;
    use kafka_template::record::schemars::JsonSchema;

    /// A JSON record with a JSON Schema generated from the struct.
    #[derive(Clone, Serialize, JsonSchema, KafkaRecord)]
    #[schemars(crate = "kafka_template::record::schemars")]
    #[kafka(topic = "${app.topics.shipments}", json_schema)]
    pub struct Shipment {
        #[kafka(key)]
        pub order_id: String,
        pub parcels: Vec<Parcel>,
        pub carrier: Option<String>,
        pub insured: bool,
    }

    #[derive(Clone, Serialize, JsonSchema)]
    #[schemars(crate = "kafka_template::record::schemars")]
    pub struct Parcel {
        pub tracking_number: String,
        pub grams: u32,
    }
}

/// Confluent's `KafkaJsonSchemaSerializer` lines: the JSON Schema generated
/// from the struct is registered (schema type JSON) under `<topic>-value`,
/// keys and values go out in its wire format, and Confluent's Python
/// `JSONDeserializer` reads them through the registry, validating each
/// against the registered schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_schema_records_are_read_and_validated_by_an_independent_consumer() {
    let kafka = Kafka::get();
    let registry = Registry::get();
    let topic = kafka.create_topic("reg-json-schema", 2, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "spring:
  kafka:
    bootstrap-servers: {}
    producer:
      key-serializer: io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer
      value-serializer: io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer
      properties:
        schema.registry.url: {}
app:
  topics:
    shipments: {topic}
",
            kafka.bootstrap(),
            registry.url()
        ),
    )
    .expect("write config");
    let config = KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("the configuration loads");
    let template = KafkaTemplate::builder()
        .config(config)
        .register::<json::Shipment>()
        .build()
        .expect("template starts");
    let shipment = |i: u32| json::Shipment {
        order_id: format!("o-{i}"),
        parcels: (0..i % 3 + 1)
            .map(|p| json::Parcel {
                tracking_number: format!("T-{i}-{p}"),
                grams: 100 * (p + 1),
            })
            .collect(),
        carrier: i.is_multiple_of(2).then(|| "DHL".to_owned()),
        insured: !i.is_multiple_of(2),
    };
    for i in 0..5 {
        template.send(&shipment(i)).await.expect("sent");
    }
    assert_eq!(registry.versions(&format!("{topic}-value")), vec![1]);
    assert_eq!(registry.versions(&format!("{topic}-key")), vec![1]);

    let records = registry.json_consume(kafka, &topic, 5);
    assert_eq!(records.len(), 5, "{records:?}");
    for record in &records {
        assert!(record.value_schema_id.is_some() && record.key_schema_id.is_some());
        let key = record
            .key
            .as_ref()
            .and_then(|k| k.as_str())
            .expect("a JSON string key");
        let i: u32 = key.trim_start_matches("o-").parse().expect(key);
        let expected = serde_json::to_value(shipment(i)).unwrap();
        assert_eq!(record.value, expected);
    }
}

/// `schema.registry.ssl.truststore.*` lines trusting the PKCS12 store `p12`.
fn pkcs12_truststore(p12: &Path, password: &str) -> String {
    format!(
        "        schema.registry.ssl.truststore.location: {}
        schema.registry.ssl.truststore.type: PKCS12
        schema.registry.ssl.truststore.password: {password}
",
        p12.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_registry_is_trusted_through_a_pkcs12_truststore_and_another_ca_is_refused() {
    let kafka = Kafka::get();
    let registry = Registry::get_tls();
    assert!(registry.url().starts_with("https://"), "{}", registry.url());
    let tls = registry.tls().expect("an https registry");
    let topic = kafka.create_topic("reg-tls", 1, 1);
    let config = seed_004_config(
        kafka.bootstrap(),
        registry.url(),
        &topic,
        &pkcs12_truststore(&tls.truststore_p12(), tls.password()),
    );
    let template = KafkaTemplate::builder()
        .config(config)
        .register::<v1::OrderPlaced>()
        .build()
        .expect("the template registers its schemas over https");
    for i in 0..3 {
        template.send(&order(i)).await.expect("sent");
    }
    // Confluent's Python deserializer, trusting the same CA, reads them back
    // through the https registry.
    let records = registry.avro_consume(kafka, &topic, 3);
    assert_eq!(records.len(), 3, "{records:?}");
    let mut amounts: Vec<i64> = records
        .iter()
        .map(|r| r.value["amount_cents"].as_i64().unwrap())
        .collect();
    amounts.sort();
    assert_eq!(amounts, vec![100, 101, 102]);
    assert_eq!(registry.versions(&format!("{topic}-value")), vec![1]);

    // A trust store holding another CA: a TLS error naming the registry.
    let other = tempfile::tempdir().expect("temp dir");
    make_ca(other.path(), "other-ca-secret", &["unused"]);
    let config = seed_004_config(
        kafka.bootstrap(),
        registry.url(),
        &topic,
        &pkcs12_truststore(&other.path().join("truststore.p12"), "other-ca-secret"),
    );
    let err = KafkaTemplate::builder()
        .config(config)
        .register::<v1::OrderPlaced>()
        .build()
        .expect_err("a registry whose certificate is not trusted");
    let message = err.to_string();
    assert!(message.contains(registry.url()), "{message}");
    // Another CA of the same name: its signature does not verify.
    assert!(message.contains("TLS handshake failed"), "{message}");
    assert!(message.contains("invalid peer certificate"), "{message}");
    assert!(!message.contains("other-ca-secret"), "{message}");
    assert!(!format!("{err:?}").contains("other-ca-secret"));

    // The right store with a wrong password: named key, no password shown.
    let config = seed_004_config(
        kafka.bootstrap(),
        registry.url(),
        &topic,
        &pkcs12_truststore(&tls.truststore_p12(), "not-the-password"),
    );
    let err = KafkaTemplate::builder()
        .config(config)
        .register::<v1::OrderPlaced>()
        .build()
        .expect_err("a trust store that does not open");
    let message = err.to_string();
    assert!(
        message.contains("schema.registry.ssl.truststore.location"),
        "{message}"
    );
    assert!(message.contains("wrong password"), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
}

/// An OAuth token endpoint over HTTPS on loopback, with the harness CA's
/// `localhost` certificate in `tls_dir`, answering each client-credentials
/// request with an unsigned JWT for `svc-orders`; returns its URL and the
/// requests it got.
fn https_token_endpoint(tls_dir: &Path) -> (String, Arc<Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(tls_dir.join("registry.pem"))
        .expect("the registry's certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("PEM certificates");
    let key = PrivateKeyDer::from_pem_file(tls_dir.join("registry.key")).expect("its key");
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a server certificate"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "https://localhost:{}/oauth2/token",
        listener.local_addr().expect("address").port()
    );
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for socket in listener.incoming().map_while(Result::ok) {
            let Ok(connection) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                return;
            };
            let mut stream = rustls::StreamOwned::new(connection, socket);
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&request).contains("grant_type=client_credentials") {
                match std::io::Read::read(&mut stream, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            seen.lock()
                .expect("requests")
                .push(String::from_utf8_lossy(&request).into_owned());
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_secs();
            let claims = format!(r#"{{"sub":"svc-orders","iat":{now},"exp":{}}}"#, now + 3600);
            let token = format!(
                "{}.{}.",
                base64::Engine::encode(&b64, r#"{"alg":"none"}"#),
                base64::Engine::encode(&b64, claims)
            );
            let body =
                format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
            stream.conn.send_close_notify();
            let _ = std::io::Write::flush(&mut stream);
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_token_from_an_https_endpoint_trusted_through_the_registry_store() {
    // Confluent Cloud's OAuth set-up: bearer.auth.credentials.source=OAUTHBEARER,
    // the token fetched over TLS with the schema.registry.ssl.* trust store.
    let kafka = Kafka::get();
    let registry = Registry::get_tls();
    let tls = registry.tls().expect("an https registry");
    let tls_dir = tls.ca_pem().parent().expect("the TLS directory").to_owned();
    let (token_url, token_requests) = https_token_endpoint(&tls_dir);
    let topic = kafka.create_topic("reg-oauth", 1, 1);
    let extra = format!(
        "{}        bearer.auth.credentials.source: OAUTHBEARER
        bearer.auth.issuer.endpoint.url: {token_url}
        bearer.auth.client.id: orders-service
        bearer.auth.client.secret: oauth-secret-123
        bearer.auth.scope: schema_registry
",
        pkcs12_truststore(&tls.truststore_p12(), tls.password())
    );
    let config = seed_004_config(kafka.bootstrap(), registry.url(), &topic, &extra);
    let template = KafkaTemplate::builder()
        .config(config)
        .register::<v1::OrderPlaced>()
        .build()
        .expect("the template registers its schemas with an OAuth token");
    for i in 0..2 {
        template.send(&order(i)).await.expect("sent");
    }
    let records = registry.avro_consume(kafka, &topic, 2);
    assert_eq!(records.len(), 2, "{records:?}");
    // One token for the key's and the value's registrations.
    let requests = token_requests.lock().expect("requests").clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let b64 = base64::engine::general_purpose::STANDARD;
    let basic = base64::Engine::encode(&b64, "orders-service:oauth-secret-123");
    assert!(
        requests[0].contains(&format!("authorization: Basic {basic}\r\n")),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].ends_with("grant_type=client_credentials&scope=schema%5Fregistry"),
        "{}",
        requests[0]
    );
    assert!(!format!("{template:?}").contains("oauth-secret-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_is_a_clear_error_within_max_block_ms() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("reg-down", 1, 1);
    // A port that accepts connections and never answers: the worst case.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let config = seed_004_config(
        kafka.bootstrap(),
        &url,
        &topic,
        "        max.block.ms: 1500\n",
    );
    let started = Instant::now();
    let err = KafkaTemplate::builder()
        .config(config)
        .register::<v1::OrderPlaced>()
        .build()
        .expect_err("no registry, no start");
    let elapsed = started.elapsed();
    let message = err.to_string();
    assert!(message.contains("unreachable"), "{message}");
    assert!(message.contains(&format!("{topic}-")), "{message}");
    // Each of the key and value subjects is bounded by max.block.ms.
    assert!(
        elapsed < Duration::from_millis(2 * 1500 + 1000),
        "{elapsed:?}"
    );
    drop(silent);

    // Nothing listening at all: refused (after the retries and their backoffs).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = seed_004_config(
        kafka.bootstrap(),
        &format!("http://127.0.0.1:{port}"),
        &topic,
        "",
    );
    let err = KafkaTemplate::builder()
        .config(config)
        .register::<v1::OrderPlaced>()
        .build()
        .expect_err("no registry, no start");
    assert!(err.to_string().contains("schema.registry.url"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_registry_request_per_type_and_topic_over_100k_sends() {
    let kafka = Kafka::get();
    let registry = Registry::get();
    let topic = kafka.create_topic("reg-count", 3, 1);
    let config = seed_004_config(kafka.bootstrap(), registry.url(), &topic, "");
    let ids = kafka_template::RegistrySchemaIds::from_properties([(
        "schema.registry.url",
        registry.url(),
    )])
    .unwrap();
    let template = KafkaTemplate::builder()
        .config(config)
        .schema_registry(ids.clone())
        .build()
        .unwrap();
    let record = order(7);
    let mut pending = Vec::new();
    for _ in 0..100_000 {
        pending.push(template.enqueue(&record).await.expect("queued"));
        if pending.len() == 10_000 {
            for p in pending.drain(..) {
                p.await.expect("delivered");
            }
        }
    }
    for p in pending {
        p.await.expect("delivered");
    }
    // One for the value schema under <topic>-value, one for the key's under <topic>-key.
    assert_eq!(ids.client().requests(), 2);
    let last = registry.avro_consume_within(kafka, &topic, 1, Duration::from_secs(20));
    assert_eq!(last[0].value["amount_cents"], 107);
}
