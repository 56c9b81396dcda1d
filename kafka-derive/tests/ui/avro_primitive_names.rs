use kafka_derive::{AvroType, KafkaRecord};

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "events", format = "avro")]
#[serde(rename = "string")]
struct Event {
    id: i64,
}

#[allow(non_camel_case_types)]
#[derive(serde::Serialize, AvroType)]
enum long {
    One,
}

fn main() {}
