use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(format = "json")]
struct OrderPlaced {
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
struct OrderShipped {
    id: String,
}

fn main() {}
