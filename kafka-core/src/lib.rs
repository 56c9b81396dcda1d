//! `kafka-core`: a pure-Rust Apache Kafka producer with the Java `KafkaProducer`'s
//! model, configuration names, defaults and delivery guarantees.
//!
//! The send path, in the Java client's terms: a [`ProducerRecord`] is serialized,
//! given a partition by the [`partitioner`], appended to a per-partition batch in
//! the accumulator, and a sender task drains ready batches per broker into
//! multi-partition Produce requests. See `ARCHITECTURE.md` at the repository root.

#![warn(missing_docs)]

mod accumulator;
#[doc(hidden)]
pub mod bench_support;
mod buffer_pool;
pub mod config;
pub mod error;
mod metadata;
pub mod metrics;
pub mod network;
pub mod partitioner;
mod producer;
pub mod protocol;
pub mod record;
pub mod record_batch;
mod sender;
mod transaction_manager;

pub use accumulator::DeliveryFuture;
pub use config::{Acks, ConfigError, ProducerConfig, ProducerConfigBuilder};
pub use error::{KafkaError, SendError};
pub use metrics::MetricsSnapshot;
pub use producer::{KafkaProducer, KafkaProducerBuilder};
pub use protocol::error_code::ErrorCode;
pub use record::{Header, LazyRecord, ProducerRecord, RecordMetadata, SentRecord};
pub use record_batch::Compression;
