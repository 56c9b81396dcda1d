use kafka_derive::AvroType;

#[derive(AvroType)]
#[kafka(topic = "customers", format = "avro")]
struct Customer {
    #[kafka(key)]
    id: String,
    #[kafka(timestamp)]
    since: i64,
}

fn main() {}
