use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "shipments")]
struct Shipment {
    #[kafka(key)]
    warehouse: String,
    #[kafka(key)]
    parcel: i64,
    #[kafka(key)]
    route: String,
}

fn main() {}
