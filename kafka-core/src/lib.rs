//! `kafka-core`: a pure-Rust Apache Kafka producer with the Java `KafkaProducer`'s
//! model, configuration names, defaults and delivery guarantees.
//!
//! The send path, in the Java client's terms: a [`ProducerRecord`] is serialized,
//! given a partition (Java's rules, or a [`Partitioner`] of yours), appended to a
//! per-partition batch in the accumulator, and a sender task drains ready batches
//! per broker into multi-partition Produce requests. See `ARCHITECTURE.md` at the
//! repository root.
//!
//! ## The `unstable` feature
//!
//! The wire protocol (`protocol`), connections (`network`), the RecordBatch
//! format (`record_batch`), the partitioning rules (`partitioner`) and a hot-path
//! driver (`bench_support`) are internals: private, and what an application
//! needs of them (the [`Partitioner`] trait, [`Compression`], [`ErrorCode`],
//! [`NetworkError`], [`TlsFailure`], [`TokenProvider`], ...) is re-exported at
//! the crate root. The `unstable` cargo feature makes the modules public for this
//! workspace's benchmarks, fuzz targets and protocol tests; it promises nothing
//! from one version to the next and is not meant for applications.

#![warn(missing_docs, missing_debug_implementations)]
// Every type the public API hands out can be named by users: a type of a
// private module that leaks out must be re-exported at the crate root.
#![warn(unnameable_types)]

mod accumulator;
#[cfg(feature = "unstable")]
#[doc(hidden)]
pub mod bench_support;
mod buffer_pool;
mod clock;
pub mod config;
pub mod error;
mod metadata;
pub mod metrics;
mod producer;
pub mod record;
mod sender;
mod telemetry;
mod topic_name;
pub mod transaction;
mod transaction_manager;

/// Declares the producer's internals: private modules, unless the `unstable`
/// feature (for this workspace's benchmarks, fuzz targets and protocol tests)
/// makes them public, with no promise of stability. What users need of them
/// is re-exported below. Private, parts of them serve only `unstable` users.
macro_rules! internal_modules {
    ($($name:ident),*) => {$(
        #[cfg(feature = "unstable")]
        pub mod $name;
        #[cfg(not(feature = "unstable"))]
        #[allow(dead_code, unused_imports)]
        mod $name;
    )*};
}

internal_modules!(network, partitioner, protocol, record_batch);

pub use accumulator::DeliveryFuture;
pub use config::{Acks, ConfigError, ProducerConfig, ProducerConfigBuilder};
pub use error::{KafkaError, SendError, TrySendError};
pub use metrics::{MetricKind, MetricValue, MetricsSnapshot, NodeMetrics, TopicMetrics};
pub use network::sasl::{
    AuthFailure, JaasConfig, OAuthBearer, OAuthToken, SaslMechanism, SaslSession, TokenProvider,
    oauthbearer::RefreshPolicy,
};
pub use network::{DisconnectReason, NetworkError, SecurityProtocol, TlsFailure};
pub use partitioner::{
    PartitionSource, Partitioner, PartitionerCluster, PartitionerError, TopicPartitions, murmur2,
    partition_for_key, to_positive,
};
pub use producer::{KafkaProducer, KafkaProducerBuilder};
pub use protocol::{ApiKey, DecodeError, EncodeError, ErrorCode, ErrorInfo};
pub use record::{Header, LazyRecord, ProducerRecord, RecordMetadata, RecordRef, SentRecord};
pub use record_batch::{Compression, RecordBatchError};
pub use topic_name::TopicName;
pub use transaction::{
    ConsumerGroupMetadata, OffsetAndMetadata, TopicPartition, TransactionError, TransactionProtocol,
};
