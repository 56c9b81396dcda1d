use kafka_derive::{AvroType, KafkaRecord};

#[derive(AvroType)]
enum Payment {
    Card { last4: String },
    Cash(i64),
    Voucher,
}

#[derive(AvroType)]
enum Empty {}

#[derive(AvroType)]
enum TwoDefaults {
    #[kafka(default)]
    A,
    #[kafka(default)]
    B,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "statuses")]
enum Status {
    Active,
}

fn main() {}
