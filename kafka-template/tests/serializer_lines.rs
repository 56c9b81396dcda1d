//! Spring's `key-serializer` / `value-serializer` lines: accepted when the Java
//! class writes what the record type writes, an error naming the record type,
//! the field, the key as written and its file:line when it does not; unknown
//! classes are refused when the configuration loads, as are schema-registry
//! classes other than Confluent's KafkaAvroSerializer (tests/registry_avro.rs).

mod config_common;

use config_common::{ConfigDir, load_yaml_errors};
use kafka_template::{
    KafkaBytes, KafkaConfig, KafkaRecord, KafkaTemplate, MockProducer, RecordTypeError,
    SerializedPart, SerializerMismatch, TemplateError,
};
use serde::Serialize;

const STRING: &str = "org.apache.kafka.common.serialization.StringSerializer";
const LONG: &str = "org.apache.kafka.common.serialization.LongSerializer";
const BYTE_ARRAY: &str = "org.apache.kafka.common.serialization.ByteArraySerializer";
const JSON: &str = "org.springframework.kafka.support.serializer.JsonSerializer";

/// A JSON record with a String key.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "orders")]
struct OrderPlaced {
    #[kafka(key)]
    order_id: String,
    cents: i64,
}

/// A JSON record with an i64 key.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "accounts")]
struct AccountOpened {
    #[kafka(key)]
    account: i64,
}

#[derive(Serialize, KafkaBytes)]
struct PaymentId(String);

/// A newtype key.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "payments")]
struct PaymentTaken {
    #[kafka(key)]
    id: PaymentId,
}

/// An Avro record.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "shipments", format = "avro")]
struct Shipped {
    #[kafka(key)]
    parcel: String,
}

/// A keyless record.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "audit")]
struct AuditEntry {
    text: String,
}

fn load(yaml: &str) -> (ConfigDir, KafkaConfig) {
    let dir = ConfigDir::new();
    dir.write("application.yml", yaml);
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    (dir, config)
}

fn mock_template(config: KafkaConfig) -> kafka_template::KafkaTemplateBuilder {
    KafkaTemplate::mock_builder(MockProducer::new(3)).config(config)
}

fn build_error(builder: kafka_template::KafkaTemplateBuilder) -> TemplateError {
    match builder.build() {
        Ok(_) => panic!("expected the template to be refused"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn classes_that_write_what_the_record_types_write_are_accepted() {
    let (_dir, config) = load(&format!(
        "spring:\n  kafka:\n    producer:\n      key-serializer: {STRING}\n      value-serializer: {JSON}\n"
    ));
    let template = mock_template(config)
        .register::<OrderPlaced>()
        .register::<PaymentTaken>()
        .register::<AuditEntry>()
        .build()
        .expect("StringSerializer and JsonSerializer fit String keys and JSON values");
    let sent = template
        .send(&PaymentTaken {
            id: PaymentId("p-1".into()),
        })
        .await
        .expect("sent");
    assert_eq!(sent.producer_record.key.as_deref(), Some(&b"p-1"[..]));

    // The `kafka.` root, the Java property spelling, numeric keys and Avro
    // values sent as bytes.
    let (_dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {LONG}\n    properties:\n      value.serializer: {JSON}\n"
    ));
    mock_template(config)
        .register::<AccountOpened>()
        .build()
        .expect("LongSerializer fits an i64 key");
    let (_dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {STRING}\n    value-serializer: {BYTE_ARRAY}\n"
    ));
    mock_template(config)
        .register::<Shipped>()
        .build()
        .expect("ByteArraySerializer fits a value the derive encodes");
}

#[test]
fn a_key_serializer_that_disagrees_names_the_record_field_key_and_line() {
    let (dir, config) = load(&format!(
        "spring:\n  kafka:\n    bootstrap-servers: localhost:9092\n    producer:\n      key-serializer: {LONG}\n"
    ));
    let error = build_error(mock_template(config).register::<OrderPlaced>());
    let file = dir.file("application.yml");
    assert_eq!(
        error.to_string(),
        format!(
            "spring.kafka.producer.key-serializer: {LONG} (from {}:5) does not write the key of \
             record `OrderPlaced`: its key field `order_id` is written as a string (UTF-8); use \
             {STRING}, org.springframework.kafka.support.serializer.ToStringSerializer or \
             org.springframework.kafka.support.serializer.StringOrBytesSerializer there, or \
             remove the line (the record type decides the bytes)",
            file.display()
        )
    );
    let TemplateError::RecordTypes(problems) = &error else {
        panic!("{error:?}");
    };
    let [RecordTypeError::Serializer(mismatch)] = problems.as_slice() else {
        panic!("{problems:?}");
    };
    assert_eq!(mismatch.record_type, "OrderPlaced");
    assert_eq!(mismatch.config_key, "spring.kafka.producer.key-serializer");
    assert!(matches!(
        mismatch.part,
        SerializedPart::Key {
            fields: ["order_id"],
            ..
        }
    ));
}

#[test]
fn newtype_keys_numeric_keys_and_values_are_checked_too_all_problems_at_once() {
    let (dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {STRING}\n    value-serializer: {LONG}\n"
    ));
    let error = build_error(
        mock_template(config)
            .register::<AccountOpened>()
            .register::<PaymentTaken>()
            .register::<Shipped>(),
    );
    let origin = format!("{}", dir.file("application.yml").display());
    assert_eq!(
        error.to_string(),
        format!(
            "3 record types do not fit the configuration:\n  \
             - kafka.producer.key-serializer: {STRING} (from {origin}:3) does not write the key \
             of record `AccountOpened`: its key field `account` is written as an i64 (8 bytes \
             big-endian); use {LONG} there, or remove the line (the record type decides the \
             bytes)\n  \
             - kafka.producer.value-serializer: {LONG} (from {origin}:4) does not write the value \
             of record `PaymentTaken`: its value is JSON (serde_json); use {STRING}, {JSON} or \
             org.springframework.kafka.support.serializer.JacksonJsonSerializer there, or remove \
             the line (the record type decides the bytes)\n  \
             - kafka.producer.value-serializer: {LONG} (from {origin}:4) does not write the value \
             of record `Shipped`: its value is Avro binary that its #[derive(KafkaRecord)] \
             encodes; use {BYTE_ARRAY}, org.apache.kafka.common.serialization.BytesSerializer or \
             org.apache.kafka.common.serialization.ByteBufferSerializer there, or remove the line \
             (the record type decides the bytes)"
        )
    );
    // A keyless record fits any key serializer.
    let (_dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {LONG}\n"
    ));
    mock_template(config)
        .register::<AuditEntry>()
        .build()
        .expect("no key to disagree with");
}

#[test]
fn a_named_producer_uses_its_own_lines() {
    let (dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {STRING}\n  producers:\n    ledger:\n      key-serializer: {STRING}\n    audit:\n      key-serializer: {LONG}\n"
    ));
    mock_template(config.clone())
        .register::<OrderPlaced>()
        .build()
        .expect("the default producer's line fits");
    mock_template(config.clone())
        .producer("ledger")
        .register::<OrderPlaced>()
        .build()
        .expect("ledger's line fits");
    let error = build_error(
        mock_template(config)
            .producer("audit")
            .register::<OrderPlaced>(),
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "kafka.producers.audit.key-serializer: {LONG} (from {}:8) does not write the key of record `OrderPlaced`",
            dir.file("application.yml").display()
        )),
        "{message}"
    );
}

#[tokio::test]
async fn a_type_first_sent_without_registration_is_checked_at_that_send() {
    let (dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {LONG}\n"
    ));
    let mock = MockProducer::new(1);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(config)
        .build()
        .expect("nothing registered");
    let order = OrderPlaced {
        order_id: "o-1".into(),
        cents: 1,
    };
    for _ in 0..2 {
        let error = template.send(&order).await.expect_err("LongSerializer");
        assert_eq!(
            error.to_string(),
            format!(
                "cannot serialize the record for topic 'orders': kafka.producer.key-serializer: \
                 {LONG} (from {}:3) does not write the key of record `OrderPlaced`: its key field \
                 `order_id` is written as a string (UTF-8); use {STRING}, \
                 org.springframework.kafka.support.serializer.ToStringSerializer or \
                 org.springframework.kafka.support.serializer.StringOrBytesSerializer there, or \
                 remove the line (the record type decides the bytes)",
                dir.file("application.yml").display()
            )
        );
    }
    assert!(mock.history().is_empty());
    let error = template.topic_for::<OrderPlaced>().expect_err("checked");
    assert!(error.to_string().contains("`order_id`"), "{error}");
    template
        .send(&AccountOpened { account: 7 })
        .await
        .expect("an i64 key fits LongSerializer");
}

#[test]
fn unknown_classes_are_refused_at_load_with_the_accepted_ones() {
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producer:\n      key-serializer: StringSerializer\n      value-serializer: org.springframework.kafka.support.serializer.JsonSerde\n",
        &[],
    );
    let file = dir.file("application.yml");
    let accepted = kafka_template::record::JavaSerializer::known_classes().join(", ");
    assert_eq!(
        messages,
        [
            format!(
                "invalid value 'StringSerializer' for spring.kafka.producer.key-serializer (from \
                 {}:4): expected a Java serializer whose bytes this producer knows (the record \
                 types decide the bytes; the line must agree with them): {accepted}; did you mean \
                 {STRING}?",
                file.display()
            ),
            format!(
                "invalid value 'org.springframework.kafka.support.serializer.JsonSerde' for \
                 spring.kafka.producer.value-serializer (from {}:5): expected a Java serializer \
                 whose bytes this producer knows (the record types decide the bytes; the line \
                 must agree with them): {accepted}; did you mean {JSON}?",
                file.display()
            ),
        ]
    );
    assert!(accepted.starts_with(STRING), "{accepted}");
    assert!(accepted.contains(JSON), "{accepted}");
}

#[test]
fn registry_serializers_need_a_registry_url_and_protobuf_is_refused() {
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  producer:\n    value-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("missing kafka.properties.schema.registry.url: ")
            && messages[0].contains(&format!(
                "kafka.producer.value-serializer (from {}:3) names KafkaAvroSerializer",
                file.display()
            )),
        "{messages:?}"
    );
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  producer:\n    value-serializer: \
         io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer\n",
        &[],
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains(&format!(
            "kafka.producer.value-serializer (from {}:3) names KafkaJsonSchemaSerializer",
            dir.file("application.yml").display()
        )),
        "{messages:?}"
    );
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  producer:\n    value-serializer: \
         io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer\n",
        &[],
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with(&format!(
            "kafka.producer.value-serializer (from {}:3) is not supported: ",
            dir.file("application.yml").display()
        )),
        "{messages:?}"
    );
}

#[test]
fn the_mismatch_is_a_typed_error() {
    let (_dir, config) = load(&format!(
        "kafka:\n  producer:\n    key-serializer: {LONG}\n"
    ));
    let TemplateError::RecordTypes(problems) =
        build_error(mock_template(config).register::<PaymentTaken>())
    else {
        panic!("a record type problem");
    };
    let [RecordTypeError::Serializer(mismatch)] = problems.as_slice() else {
        panic!("{problems:?}");
    };
    let SerializerMismatch { fitting, class, .. } = &**mismatch;
    assert_eq!(*class, LONG);
    assert_eq!(fitting[0], STRING);
}

#[test]
fn a_line_from_the_environment_is_named_by_its_variable() {
    let dir = ConfigDir::new();
    dir.write("application.yml", "kafka:\n  client-id: shop\n");
    let config = dir
        .builder()
        .env_source([("SPRING_KAFKA_PRODUCER_KEY_SERIALIZER", LONG)])
        .load()
        .expect("a known class");
    let error = build_error(mock_template(config).register::<OrderPlaced>());
    assert_eq!(
        error.to_string(),
        format!(
            "spring.kafka.producer.key-serializer: {LONG} (from env SPRING_KAFKA_PRODUCER_KEY_SERIALIZER) \
             does not write the key of record `OrderPlaced`: its key field `order_id` is written \
             as a string (UTF-8); use {STRING}, \
             org.springframework.kafka.support.serializer.ToStringSerializer or \
             org.springframework.kafka.support.serializer.StringOrBytesSerializer there, or \
             remove the line (the record type decides the bytes)"
        )
    );
}
