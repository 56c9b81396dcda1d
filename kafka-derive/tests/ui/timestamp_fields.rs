use std::time::SystemTime;

use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "readings")]
struct Reading {
    #[kafka(timestamp)]
    taken_at: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "readings")]
struct TwoTimes {
    #[kafka(timestamp)]
    taken_at: SystemTime,
    #[kafka(timestamp)]
    stored_at: SystemTime,
}

fn main() {}
