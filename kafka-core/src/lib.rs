//! `kafka-core`: a pure-Rust Apache Kafka producer with the Java `KafkaProducer`'s
//! model, configuration names, defaults and delivery guarantees.
//!
//! The send path, in the Java client's terms: a [`ProducerRecord`] is serialized,
//! given a partition by the [`partitioner`], appended to a per-partition batch in
//! the [`accumulator`], and a [`sender`] task drains ready batches per broker into
//! multi-partition Produce requests. See `ARCHITECTURE.md` at the repository root.

#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod kafka_record;
pub mod network;
pub mod partitioner;
pub mod protocol;
pub mod record;
pub mod record_batch;

pub use config::ProducerConfig;
pub use record::{Header, ProducerRecord, RecordMetadata};
