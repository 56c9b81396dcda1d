use kafka_derive::KafkaBytes;

#[derive(KafkaBytes)]
struct Sequence(u64);

#[derive(KafkaBytes)]
struct Cents {
    value: std::time::Duration,
}

fn main() {}
