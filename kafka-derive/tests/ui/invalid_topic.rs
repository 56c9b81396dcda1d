use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "${app.topics.orders:orders")]
struct Unclosed {
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "orders placed")]
struct Space {
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "${:orders}")]
struct NoKey {
    id: String,
}

fn main() {}
