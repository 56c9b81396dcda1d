//! [`ProducerListener`]: told of every record's outcome (Spring Kafka's
//! `ProducerListener`), with [`LoggingProducerListener`] as the default.

use kafka_core::{KafkaError, LazyRecord, ProducerRecord, RecordMetadata};

/// Observes the outcome of every record the template sends.
///
/// Runs on the producer's sender task, once per record: keep it short (count,
/// log, hand off to a channel). The failure journal, when configured, has
/// already stored a failed record when `on_error` runs.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use kafka_template::{ProducerListener, core::{KafkaError, LazyRecord, ProducerRecord, RecordMetadata}};
///
/// #[derive(Default)]
/// struct Counting { ok: AtomicU64, failed: AtomicU64 }
///
/// impl ProducerListener for Counting {
///     fn on_success(&self, _record: &LazyRecord, _metadata: &RecordMetadata) {
///         self.ok.fetch_add(1, Ordering::Relaxed);
///     }
///     fn on_error(&self, _record: Option<&ProducerRecord>, _error: &KafkaError) {
///         self.failed.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait ProducerListener: Send + Sync + 'static {
    /// The broker acknowledged `record`. It derefs to the [`ProducerRecord`]
    /// sent; one the producer hands back is decoded from its batch only when
    /// read, so a listener that needs only `metadata` pays nothing for it.
    fn on_success(&self, record: &LazyRecord, metadata: &RecordMetadata) {
        let _ = (record, metadata);
    }

    /// `record` failed for good (`None` when no record could be built, for
    /// example when serialization failed).
    fn on_error(&self, record: Option<&ProducerRecord>, error: &KafkaError) {
        let _ = (record, error);
    }
}

/// Logs failures at error level with topic, partition, key size and the error;
/// successes at trace level. Values are never logged (they may hold personal data).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoggingProducerListener;

impl ProducerListener for LoggingProducerListener {
    fn on_success(&self, _record: &LazyRecord, metadata: &RecordMetadata) {
        tracing::trace!(
            topic = %metadata.topic,
            partition = metadata.partition,
            offset = ?metadata.offset,
            "record sent"
        );
    }

    fn on_error(&self, record: Option<&ProducerRecord>, error: &KafkaError) {
        match record {
            Some(record) => tracing::error!(
                topic = %record.topic,
                partition = ?record.partition,
                key_bytes = record.key.as_ref().map(|k| k.len()),
                value_bytes = record.value.as_ref().map(|v| v.len()),
                %error,
                "failed to send record"
            ),
            None => tracing::error!(%error, "failed to send record"),
        }
    }
}
