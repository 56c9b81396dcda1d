//! The public types can cross threads and tasks as their users expect: the
//! producer is shared by every task of a service, errors travel through
//! `anyhow`/`Box<dyn Error + Send + Sync>` and futures run on multi-threaded
//! runtimes. A compile-time check: a type losing `Send` or `Sync` fails here.

use kafka_core::{
    ConfigError, DeliveryFuture, KafkaError, KafkaProducer, MetricsSnapshot, ProducerConfig,
    ProducerRecord, RecordMetadata, SendError, TransactionError,
};

fn shared<T: Send + Sync + 'static>() {}
fn sendable<T: Send + 'static>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn producer_records_and_errors_are_send_and_sync() {
    shared::<KafkaProducer>();
    shared::<ProducerConfig>();
    shared::<ProducerRecord>();
    shared::<RecordMetadata>();
    shared::<MetricsSnapshot>();
    // A future is polled by one task at a time: `Send` is what a spawn needs.
    sendable::<DeliveryFuture>();
    error::<KafkaError>();
    error::<SendError>();
    error::<ConfigError>();
    error::<TransactionError>();
}
