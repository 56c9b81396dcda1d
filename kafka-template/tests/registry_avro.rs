//! Confluent's `KafkaAvroSerializer` lines with an in-process `mock://`
//! registry and the mock template, as a service's unit tests would use them:
//! Confluent-framed keys and values, ids from the registry, subject name
//! strategies, registry keys checked with their file:line.

mod config_common;

use config_common::{ConfigDir, load_yaml_errors, mock_registry, registry_config};
use kafka_template::schema_registry::MockRegistry;
use kafka_template::{
    AvroFraming, KafkaRecord, KafkaTemplate, MockProducer, SentRecord, TemplateError,
};
use serde::{Deserialize, Serialize};

const AVRO: &str = "io.confluent.kafka.serializers.KafkaAvroSerializer";

/// An Avro record with a String key.
#[derive(Debug, PartialEq, Serialize, Deserialize, KafkaRecord)]
#[kafka(topic = "orders", format = "avro", namespace = "com.shop")]
struct OrderPlaced {
    #[kafka(key)]
    order_id: String,
    cents: i64,
}

/// A JSON record.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "audit")]
struct AuditEntry {
    text: String,
}

#[tokio::test]
async fn keys_and_values_are_confluent_framed_with_the_registry_ids() {
    let (_dir, config) = registry_config(AVRO, "tpl-unit", "");
    let mock = MockProducer::new(3);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(config)
        .build()
        .unwrap();
    let order = OrderPlaced {
        order_id: "o-1".into(),
        cents: 1999,
    };
    template.send(&order).await.unwrap();
    template.send(&order).await.unwrap();

    let registry = mock_registry("tpl-unit");
    let value_id = registry.latest_version("orders-value").unwrap().id;
    let key = registry.latest_version("orders-key").unwrap();
    assert_eq!(key.schema.schema, "\"string\"");
    let sent = &mock.history()[0];
    let value = sent.value.as_deref().unwrap();
    assert_eq!(value[0], 0);
    assert_eq!(
        u32::from_be_bytes(value[1..5].try_into().unwrap()),
        value_id
    );
    let mut expected_key = vec![0];
    expected_key.extend_from_slice(&key.id.to_be_bytes());
    expected_key.extend_from_slice(&[6, b'o', b'-', b'1']); // Avro string: zigzag(3), bytes
    assert_eq!(sent.key.as_deref(), Some(&expected_key[..]));
    assert_eq!(sent.value_as::<OrderPlaced>().unwrap(), order);
    assert!(
        registry
            .latest_version("orders-value")
            .unwrap()
            .schema
            .schema
            .contains("\"com.shop\"")
    );
}

#[tokio::test]
async fn registry_keys_under_the_common_properties_serve_the_producer() {
    MockRegistry::drop_scope("tpl-common");
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        &format!(
            "spring:\n  kafka:\n    properties:\n      schema.registry.url: mock://tpl-common\n    producer:\n      value-serializer: {AVRO}\n"
        ),
    );
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    let order = OrderPlaced {
        order_id: "o-2".into(),
        cents: 5,
    };
    let sent = sent_with(config, &order).await;
    // No key-serializer line: the key stays as the record type writes it.
    assert_eq!(sent.key.as_deref(), Some(&b"o-2"[..]));
    let id = mock_registry("tpl-common")
        .latest_version("orders-value")
        .unwrap()
        .id;
    assert_framed_value(&sent, id, &order);
}

/// What a mock template with `config` hands the producer for `order`.
async fn sent_with(config: kafka_template::KafkaConfig, order: &OrderPlaced) -> SentRecord {
    let mock = MockProducer::new(1);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(config)
        .build()
        .unwrap();
    template.send(order).await.unwrap();
    mock.history().remove(0)
}

/// The value is `order` in Confluent's frame with schema id `id`.
fn assert_framed_value(sent: &SentRecord, id: u32, order: &OrderPlaced) {
    assert_eq!(
        sent.value.as_deref().unwrap()[..5],
        [&[0u8][..], &id.to_be_bytes()].concat()[..]
    );
    assert_eq!(&sent.value_as::<OrderPlaced>().unwrap(), order);
}

#[tokio::test]
async fn subject_name_strategies_choose_the_subjects() {
    let (_dir, config) = registry_config(
        AVRO,
        "tpl-strategy",
        "        value.subject.name.strategy: io.confluent.kafka.serializers.subject.TopicRecordNameStrategy\n",
    );
    let template = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<OrderPlaced>()
        .build()
        .unwrap();
    drop(template);
    let registry = mock_registry("tpl-strategy");
    assert!(
        registry
            .latest_version("orders-com.shop.OrderPlaced")
            .is_ok()
    );
    assert!(registry.latest_version("orders-key").is_ok());
    assert!(registry.latest_version("orders-value").is_err());
}

#[tokio::test]
async fn a_record_name_strategy_refuses_a_key_that_is_not_a_record() {
    // As Confluent's RecordNameStrategy: "the message key must only be a
    // record schema". The String key's schema is "string", no record.
    for strategy in ["RecordNameStrategy", "TopicRecordNameStrategy"] {
        let scope = format!("tpl-unnamed-{strategy}");
        let (_dir, config) = registry_config(
            AVRO,
            &scope,
            &format!(
                "        key.subject.name.strategy: io.confluent.kafka.serializers.subject.{strategy}\n"
            ),
        );
        let error = KafkaTemplate::mock_builder(MockProducer::new(1))
            .config(config)
            .register::<OrderPlaced>()
            .build()
            .expect_err("a string key has no record name");
        let message = error.to_string();
        assert!(
            message.contains("OrderPlaced")
                && message.contains(&format!("key.subject.name.strategy is {strategy}"))
                && message.contains("\"string\"")
                && message.contains("TopicNameStrategy"),
            "{message}"
        );
        // Nothing registered under a subject named after the primitive.
        assert!(mock_registry(&scope).latest_version("string").is_err());
        assert!(
            mock_registry(&scope)
                .latest_version("orders-string")
                .is_err()
        );
    }
}

#[tokio::test]
async fn without_auto_register_an_unregistered_schema_is_refused_naming_the_subject() {
    let (_dir, config) = registry_config(
        AVRO,
        "tpl-no-auto",
        "        auto.register.schemas: false\n",
    );
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<OrderPlaced>()
        .build()
        .expect_err("nothing registered");
    let TemplateError::RecordTypes(problems) = &error else {
        panic!("{error:?}");
    };
    let message = error.to_string();
    assert_eq!(problems.len(), 1, "{message}");
    assert!(message.contains("`orders-value`"), "{message}");
    assert!(message.contains("auto.register.schemas=false"), "{message}");
}

#[tokio::test]
async fn a_json_record_under_kafka_avro_serializer_is_a_mismatch() {
    let (_dir, config) = registry_config(AVRO, "tpl-json", "");
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<AuditEntry>()
        .build()
        .expect_err("JSON is not Avro");
    let message = error.to_string();
    assert!(message.contains(AVRO), "{message}");
    assert!(message.contains("AuditEntry"), "{message}");
}

#[tokio::test]
async fn a_framing_chosen_in_code_cannot_contradict_kafka_avro_serializer() {
    for framing in [AvroFraming::SingleObject, AvroFraming::Raw] {
        let (_dir, config) = registry_config(AVRO, "tpl-framing", "");
        let error = KafkaTemplate::mock_builder(MockProducer::new(1))
            .config(config)
            .avro_framing(framing.clone())
            .build()
            .expect_err("a KafkaAvroDeserializer could not read these values");
        let message = error.to_string();
        assert!(message.contains("KafkaAvroSerializer"), "{message}");
        assert!(message.contains(&format!("{framing:?}")), "{message}");
    }
}

#[test]
fn bad_registry_settings_name_the_key_and_its_line_and_hide_secrets() {
    let (dir, messages) = load_yaml_errors(
        &format!(
            "spring:\n  kafka:\n    producer:\n      value-serializer: {AVRO}\n      properties:\n        schema.registry.url: http://r:8081\n        basic.auth.credentials.source: USER_INFO\n        basic.auth.user.info: no-colon-secret\n"
        ),
        &[],
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    let file = dir.file("application.yml");
    assert!(
        messages[0].contains(&format!(
            "spring.kafka.producer.properties.basic.auth.user.info (from {}:8)",
            file.display()
        )),
        "{messages:?}"
    );
    assert!(!messages[0].contains("no-colon-secret"), "{messages:?}");
}

/// A registry on loopback answering every request with schema id 7 after
/// `delay` (a slow or distant registry).
fn slow_registry(delay: std::time::Duration) -> String {
    scripted_registry(delay, "200 OK", r#"{"id":7}"#).0
}

/// A registry on loopback answering every request with `status` and `body`
/// after `delay`; counts the requests.
fn scripted_registry(
    delay: std::time::Duration,
    status: &'static str,
    body: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then the body (its Content-Length).
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                // Simulated latency of the registry.
                std::thread::sleep(delay);
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            });
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn asking_a_slow_registry_does_not_stall_the_runtimes_other_tasks() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let url = slow_registry(std::time::Duration::from_millis(600));
    let (_dir, config) = config_common::load_yaml(
        &format!(
            "spring:\n  kafka:\n    producer:\n      value-serializer: {AVRO}\n      properties:\n        schema.registry.url: {url}\n"
        ),
        &[],
    );
    let mock = MockProducer::new(1);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(config)
        .build()
        .unwrap();
    // Another task of the runtime's only worker: it must go on ticking
    // while the first send of a type waits for the registry.
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                ticks.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
    };
    tokio::task::yield_now().await;
    let before = ticks.load(Ordering::SeqCst);
    // Sent from a task of that worker too (the test's own body runs apart).
    let sending = tokio::spawn(async move {
        let order = OrderPlaced {
            order_id: "o-1".into(),
            cents: 100,
        };
        template.send(&order).await.map(drop)
    });
    sending.await.expect("the send task").expect("sent");
    let during = ticks.load(Ordering::SeqCst) - before;
    ticker.abort();
    assert!(
        during >= 10,
        "the other task ticked {during} times in 600 ms"
    );
    assert_eq!(
        &mock.history()[0].value.as_deref().unwrap()[..5],
        [0, 0, 0, 0, 7]
    );
}

/// First sends of one type that arrive together while the registry fails
/// share one attempt's failure: each does not wait for the attempts of
/// those before it (up to max.block.ms each) and ask again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_sends_share_one_failed_registry_attempt() {
    use std::sync::atomic::Ordering;

    let (url, requests) = scripted_registry(
        std::time::Duration::from_millis(1_000),
        "500 Internal Server Error",
        r#"{"error_code":50001,"message":"Error in the backend data store"}"#,
    );
    let (_dir, config) = config_common::load_yaml(
        &format!(
            "spring:\n  kafka:\n    producer:\n      value-serializer: {AVRO}\n      properties:\n        schema.registry.url: {url}\n        max.retries: 0\n"
        ),
        &[],
    );
    let template = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .build()
        .unwrap();
    let sends: Vec<_> = (0..4)
        .map(|i| {
            let template = template.clone();
            tokio::spawn(async move {
                let order = OrderPlaced {
                    order_id: format!("o-{i}"),
                    cents: 100,
                };
                template.send(&order).await.map(drop)
            })
        })
        .collect();
    for send in sends {
        let failed = send
            .await
            .expect("the send task")
            .expect_err("the registry fails");
        assert!(failed.to_string().contains("500"), "{failed}");
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "one attempt for the sends that waited on it"
    );
    // A later send tries again.
    let order = OrderPlaced {
        order_id: "o-later".into(),
        cents: 100,
    };
    template.send(&order).await.expect_err("still failing");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

/// `use.schema.id` applies without registration (which wins over it, as in
/// Confluent's serializers).
const FIXED_ID: &str = "        auto.register.schemas: false\n";

#[tokio::test]
async fn use_schema_id_frames_the_values_with_that_id() {
    let scope = "tpl-fixed-id";
    MockRegistry::drop_scope(scope);
    let yaml = |extra: &str| {
        format!(
            "spring:\n  kafka:\n    producer:\n      value-serializer: {AVRO}\n      properties:\n        schema.registry.url: mock://{scope}\n{extra}"
        )
    };
    // The record's schema registered (as a deployment pipeline would), and
    // another schema after it.
    let (_dir, config) = config_common::load_yaml(&yaml(""), &[]);
    KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<OrderPlaced>()
        .build()
        .unwrap();
    let registry = mock_registry(scope);
    let id = registry.latest_version("orders-value").unwrap().id;
    let other = registry
        .register(
            "audit-value",
            &kafka_template::schema_registry::Schema::avro(r#""string""#),
        )
        .unwrap();

    let (_dir, config) = config_common::load_yaml(
        &yaml(&format!("{FIXED_ID}        use.schema.id: {id}\n")),
        &[],
    );
    let order = OrderPlaced {
        order_id: "o-3".into(),
        cents: 7,
    };
    assert_framed_value(&sent_with(config, &order).await, id, &order);

    // The id of another schema: refused at start, naming the setting.
    let (_dir, config) = config_common::load_yaml(
        &yaml(&format!("{FIXED_ID}        use.schema.id: {other}\n")),
        &[],
    );
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<OrderPlaced>()
        .build()
        .expect_err("another schema's id");
    let message = error.to_string();
    assert!(
        message.contains(&format!("use.schema.id={other}")) && message.contains("orders-value"),
        "{message}"
    );
    // A value that is not an id is a configuration error with its line.
    let (_dir, messages) = load_yaml_errors(&yaml("        use.schema.id: latest\n"), &[]);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("use.schema.id") && m.contains("application.yml:7")),
        "{messages:?}"
    );
}

/// A record with a `Short` key (Java's type for `i16`).
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "shelves", format = "avro", namespace = "com.shop")]
struct ShelfCounted {
    #[kafka(key)]
    shelf: i16,
    items: i64,
}

#[tokio::test]
async fn a_short_key_is_refused_under_kafka_avro_serializer_as_java_refuses_it() {
    // Java's KafkaAvroSerializer: "Unsupported Avro type 'Short'".
    let (_dir, config) = registry_config(AVRO, "tpl-short-key", "");
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<ShelfCounted>()
        .build()
        .expect_err("no Avro schema for a Short key");
    let message = error.to_string();
    assert!(
        message.contains("ShelfCounted")
            && message.contains(AVRO)
            && message.contains("ShortSerializer"),
        "{message}"
    );
    assert!(
        mock_registry("tpl-short-key")
            .latest_version("shelves-key")
            .is_err()
    );
}

/// A schema registry and an OAuth token endpoint on one loopback HTTP
/// server: `POST /oauth/token` answers an unsigned JWT for `svc`, any other
/// request `{"id":5}` (a registration). Returns its URL and the requests.
fn registry_with_token_endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    const JWT: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdmMiLCJleHAiOjQxMDI0NDQ4MDB9.";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                request.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            request.push_str(&String::from_utf8_lossy(&body));
            let answer = if request.starts_with("POST /oauth/token ") {
                format!(r#"{{"access_token":"{JWT}","token_type":"Bearer","expires_in":3600}}"#)
            } else {
                r#"{"id":5}"#.to_owned()
            };
            seen.lock().expect("requests").push(request);
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_oauthbearer_inherit_takes_the_producers_oauth_login_for_the_registry() {
    // Confluent's SaslOauthCredentialProvider: the registry's token comes
    // from the client's own OAUTHBEARER settings.
    let (url, requests) = registry_with_token_endpoint();
    let yaml = format!(
        "spring:
  kafka:
    properties:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: OAUTHBEARER
      sasl.login.callback.handler.class: org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
      sasl.oauthbearer.token.endpoint.url: {url}/oauth/token
      sasl.jaas.config: org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=\"svc-orders\" clientSecret=\"oidc-secret\" scope=\"sr\";
    producer:
      value-serializer: {AVRO}
      properties:
        schema.registry.url: {url}
        bearer.auth.credentials.source: SASL_OAUTHBEARER_INHERIT
        bearer.auth.logical.cluster: lsrc-1
"
    );
    let (_dir, config) = config_common::load_yaml(&yaml, &[]);
    let order = OrderPlaced {
        order_id: "o-9".into(),
        cents: 1,
    };
    let sent = sent_with(config, &order).await;
    assert_framed_value(&sent, 5, &order);
    let requests = requests.lock().expect("requests").clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests[0].starts_with("POST /oauth/token ")
            && requests[0].ends_with("grant_type=client_credentials&scope=sr"),
        "{}",
        requests[0]
    );
    // svc-orders:oidc-secret
    assert!(
        requests[0].contains("authorization: Basic c3ZjLW9yZGVyczpvaWRjLXNlY3JldA==\r\n"),
        "{}",
        requests[0]
    );
    assert!(
        requests[1].starts_with("POST /subjects/orders-value/versions ")
            && requests[1].contains("authorization: Bearer eyJhbGciOiJub25lIn0.")
            && requests[1].contains("target-sr-cluster: lsrc-1\r\n"),
        "{}",
        requests[1]
    );

    // Without a token endpoint to inherit: the source named, with what it needs.
    let (_dir, messages) = load_yaml_errors(
        &format!(
            "spring:\n  kafka:\n    producer:\n      value-serializer: {AVRO}\n      properties:\n        schema.registry.url: {url}\n        bearer.auth.credentials.source: SASL_OAUTHBEARER_INHERIT\n"
        ),
        &[],
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("bearer.auth.credentials.source")
                && m.contains("sasl.oauthbearer.token.endpoint.url")),
        "{messages:?}"
    );
}
