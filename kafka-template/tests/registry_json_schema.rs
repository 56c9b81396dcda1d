//! Confluent's `KafkaJsonSchemaSerializer` lines with an in-process `mock://`
//! registry and the mock template: the record's JSON Schema (generated from
//! the struct with `#[kafka(json_schema)]`) registered with schema type JSON
//! under the subject strategy, keys and values in the Confluent frame
//! (`00`, the schema id, the JSON document).

mod config_common;

use config_common::{mock_registry, registry_config};
use kafka_template::record::schemars::JsonSchema;
use kafka_template::schema_registry::SchemaType;
use kafka_template::{
    KAFKA_JSON_SCHEMA_SERIALIZER, KafkaRecord, KafkaTemplate, MockProducer, RecordTypeError,
    TemplateError,
};
use serde::{Deserialize, Serialize};

/// A JSON record with a JSON Schema and a String key.
#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, KafkaRecord)]
#[schemars(crate = "kafka_template::record::schemars")]
#[kafka(topic = "shipments", json_schema)]
struct OrderShipped {
    #[kafka(key)]
    order_id: String,
    parcels: u32,
    carrier: Option<String>,
}

/// A JSON record without a JSON Schema.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "audit")]
struct AuditEntry {
    text: String,
}

/// An Avro record.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "orders", format = "avro")]
struct OrderPlaced {
    cents: i64,
}

fn framed(id: u32, json: &[u8]) -> Vec<u8> {
    [&[0][..], &id.to_be_bytes(), json].concat()
}

#[tokio::test]
async fn json_schema_records_are_registered_and_confluent_framed() {
    let (_dir, config) = registry_config(KAFKA_JSON_SCHEMA_SERIALIZER, "tpl-json-schema", "");
    let mock = MockProducer::new(3);
    let template = KafkaTemplate::mock_builder(mock.clone())
        .config(config)
        .build()
        .unwrap();
    let shipped = OrderShipped {
        order_id: "o-1".into(),
        parcels: 2,
        carrier: None,
    };
    template.send(&shipped).await.unwrap();

    let registry = mock_registry("tpl-json-schema");
    let value = registry.latest_version("shipments-value").unwrap();
    assert_eq!(value.schema.schema_type, SchemaType::Json);
    let schema: serde_json::Value = serde_json::from_str(&value.schema.schema).unwrap();
    assert_eq!(schema["title"], "OrderShipped");
    assert_eq!(schema["properties"]["parcels"]["type"], "integer");
    assert_eq!(
        schema["required"],
        serde_json::json!(["order_id", "parcels"])
    );
    let key = registry.latest_version("shipments-key").unwrap();
    assert_eq!(key.schema.schema_type, SchemaType::Json);
    let key_schema: serde_json::Value = serde_json::from_str(&key.schema.schema).unwrap();
    assert_eq!(key_schema["type"], "string");
    assert_eq!(key_schema["title"], "String");

    let sent = &mock.history()[0];
    assert_eq!(
        sent.value.as_deref(),
        Some(
            &framed(
                value.id,
                br#"{"order_id":"o-1","parcels":2,"carrier":null}"#
            )[..]
        )
    );
    assert_eq!(sent.key.as_deref(), Some(&framed(key.id, br#""o-1""#)[..]));
}

#[tokio::test]
async fn the_record_name_strategy_uses_the_schema_title() {
    let (_dir, config) = registry_config(
        KAFKA_JSON_SCHEMA_SERIALIZER,
        "tpl-json-strategy",
        "        value.subject.name.strategy: io.confluent.kafka.serializers.subject.TopicRecordNameStrategy\n",
    );
    KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<OrderShipped>()
        .build()
        .unwrap();
    let registry = mock_registry("tpl-json-strategy");
    assert!(registry.latest_version("shipments-OrderShipped").is_ok());
    assert!(registry.latest_version("shipments-value").is_err());
}

#[tokio::test]
async fn a_record_without_a_json_schema_or_not_json_is_refused_at_start() {
    let (_dir, config) = registry_config(KAFKA_JSON_SCHEMA_SERIALIZER, "tpl-json-missing", "");
    let error = KafkaTemplate::mock_builder(MockProducer::new(1))
        .config(config)
        .register::<AuditEntry>()
        .register::<OrderPlaced>()
        .build()
        .expect_err("no JSON Schema, and Avro is not JSON");
    let TemplateError::RecordTypes(problems) = &error else {
        panic!("{error:?}");
    };
    let message = error.to_string();
    assert!(
        matches!(
            problems.as_slice(),
            [
                RecordTypeError::NoJsonSchema { .. },
                RecordTypeError::Serializer(_)
            ]
        ),
        "{message}"
    );
    assert!(message.contains("#[kafka(json_schema)]"), "{message}");
    assert!(message.contains("`AuditEntry`"), "{message}");
    assert!(message.contains("`OrderPlaced`"), "{message}");
}
