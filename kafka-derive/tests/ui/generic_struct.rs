use kafka_derive::{AvroType, KafkaRecord};

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "envelopes")]
struct Envelope<T> {
    payload: T,
}

#[derive(AvroType)]
struct Borrowed<'a> {
    name: &'a str,
}

fn main() {}
