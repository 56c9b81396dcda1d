use kafka_derive::KafkaRecord;

#[derive(KafkaRecord)]
#[kafka(topic = "orders")]
struct OrderPlaced {
    id: String,
}

fn main() {}
