use kafka_derive::KafkaBytes;

#[derive(KafkaBytes)]
struct OrderKey(String, i64);

#[derive(KafkaBytes)]
struct Marker;

#[derive(KafkaBytes)]
enum Region {
    Eu,
}

#[derive(KafkaBytes)]
#[kafka(topic = "ids")]
struct Tenant(String);

fn main() {}
