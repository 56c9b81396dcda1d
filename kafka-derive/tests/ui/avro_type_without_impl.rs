use kafka_derive::{AvroType, KafkaRecord};

// Forgot #[derive(AvroType)].
struct Customer {
    name: String,
}

#[derive(AvroType)]
struct Address {
    street: String,
}

#[derive(KafkaRecord)]
#[kafka(topic = "orders", format = "avro")]
struct OrderPlaced {
    customer: Customer,
    shipping: Option<Address>,
    seen: std::cell::Cell<i32>,
}

fn main() {}
