use kafka_derive::KafkaRecord;

#[derive(serde::Serialize)]
struct OrderId {
    region: String,
    number: i64,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "orders")]
struct OrderPlaced {
    #[kafka(key)]
    id: OrderId,
}

fn main() {}
