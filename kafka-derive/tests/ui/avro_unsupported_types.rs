use std::collections::HashMap;

use kafka_derive::KafkaRecord;

#[derive(KafkaRecord)]
#[kafka(topic = "metrics", format = "avro")]
struct Metrics {
    count: u64,
    by_code: HashMap<i32, i64>,
    point: (f64, f64),
    maybe: Option<Option<String>>,
    nested: Vec<Option<usize>>,
    digest: [u8; 32],
    flags: u8,
    ok: i64,
}

fn main() {}
