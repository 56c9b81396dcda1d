use std::collections::HashMap;

use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "orders")]
struct OrderPlaced {
    #[kafka(header = "labels")]
    labels: HashMap<String, String>,
    #[kafka(header = "tags")]
    tags: Vec<String>,
}

fn main() {}
