use kafka_derive::KafkaRecord;

// Avro records have a schema already.
#[derive(KafkaRecord)]
#[kafka(topic = "a", format = "avro", json_schema)]
struct AvroWithJsonSchema {
    id: String,
}

// A flag, not a key = value.
#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "b", json_schema = "draft-07")]
struct JsonSchemaWithValue {
    id: String,
}

// The schema comes from schemars::JsonSchema, which this type does not derive.
#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "c", json_schema)]
struct JsonSchemaWithoutDerive {
    id: String,
}

fn main() {}
