use kafka_derive::KafkaRecord;

#[derive(serde::Serialize)]
struct PaymentId(String);

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "payments")]
struct PaymentTaken {
    #[kafka(key)]
    id: PaymentId,
}

fn main() {}
