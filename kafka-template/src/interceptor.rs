//! [`ProducerInterceptor`]: changes or observes what the template sends without
//! touching the application's code (Java's `ProducerInterceptor`).

use kafka_core::{KafkaError, ProducerRecord, RecordMetadata};

/// Sees every record before it is sent, and every outcome.
///
/// Interceptors run in the order they were added. `on_send` runs on the calling
/// task before the record is partitioned; `on_acknowledgement` on the sender
/// task, so keep it short.
///
/// ```
/// use kafka_template::{ProducerInterceptor, core::ProducerRecord};
///
/// /// Stamps every record with the service that sent it.
/// struct Origin;
///
/// impl ProducerInterceptor for Origin {
///     fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
///         record.with_header("origin", "order-service")
///     }
/// }
/// ```
pub trait ProducerInterceptor: Send + Sync + 'static {
    /// May change the record (add headers, rewrite the topic...); returns the
    /// record to send.
    fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
        record
    }

    /// Observes the outcome: metadata on success, the error otherwise.
    fn on_acknowledgement(&self, result: Result<&RecordMetadata, &KafkaError>) {
        let _ = result;
    }
}
