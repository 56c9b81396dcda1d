//! The `KafkaRecord` trait that `#[derive(KafkaRecord)]` implements, and its runtime support.
