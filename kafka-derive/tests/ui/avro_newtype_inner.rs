use kafka_derive::AvroType;

#[derive(AvroType)]
struct Sequence(u64);

#[derive(AvroType)]
#[kafka(namespace = "com.shop")]
struct PaymentId(String);

fn main() {}
