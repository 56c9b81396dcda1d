use kafka_derive::KafkaRecord;

#[derive(serde::Serialize)]
struct Audit {
    by: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "orders", format = "avro")]
#[serde(rename_all = "kebab-case")]
struct OrderPlaced {
    order_id: String,
    #[serde(flatten)]
    audit: Audit,
    #[serde(rename = "orderId")]
    id_again: String,
    #[serde(rename = "orderId")]
    duplicate: String,
}

fn main() {}
