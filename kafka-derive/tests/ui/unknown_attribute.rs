use kafka_derive::{AvroType, KafkaRecord};

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "orders", partitions = 3, formt = "avro")]
struct OrderPlaced {
    #[kafka(kye)]
    id: String,
    #[kafka(header = "tenant", optional)]
    tenant: String,
}

#[derive(AvroType)]
enum Status {
    #[kafka(fallback)]
    Unknown,
}

fn main() {}
