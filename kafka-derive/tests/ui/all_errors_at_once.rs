use kafka_derive::KafkaRecord;

// Every problem in one struct is reported in one compile.
#[derive(serde::Serialize, KafkaRecord)]
#[kafka(format = "avro", retention = "7d")]
struct Everything {
    #[kafka(key)]
    a: String,
    #[kafka(key)]
    b: String,
    size: u64,
    #[kafka(timestamp, header)]
    at: i64,
}

fn main() {}
