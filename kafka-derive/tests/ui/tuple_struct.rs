use kafka_derive::{AvroType, KafkaRecord};

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "ids")]
struct OrderId(String);

#[derive(AvroType)]
struct Marker;

fn main() {}
