//! `kafka-bench`: a side-by-side benchmark of Kafka producers on one machine.
//!
//! Each client runs as its own process (`bench-ours`, `bench-ours-avro`,
//! `bench-rdkafka`, `bench-confluent`, and Kafka's Java `ProducerPerformance`),
//! started by the driver `bench-run` through `bench-rusage`, which reports the
//! process's CPU time and peak RSS. The Rust clients share their argument
//! parsing, payloads, pacing and reporting through this library, so they differ
//! only in how they hand a record to their producer.

pub mod args;
pub mod collector;
pub mod core_client;
pub mod driver;
pub mod event;
pub mod floor;
pub mod payload;
pub mod rdkafka_config;
pub mod report;
pub mod runner;
pub mod rusage;
pub mod security;
pub mod stall;
pub mod template_client;
pub mod tracker;
