use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(
    topic = "orders",
    type_id = "com.shop.Order",
    header(name = "source", value = "shop")
)]
#[kafka(header(name = "source", value = "web"), header(value = "x"))]
struct OrderPlaced {
    #[kafka(header = "__TypeId__")]
    kind: String,
    #[kafka(header = "")]
    empty: String,
}

fn main() {}
