//! The producer's metrics, readable at any time as a typed snapshot
//! ([`KafkaProducer::metrics`](crate::KafkaProducer::metrics)). Names follow the Java
//! client's `producer-metrics` group where one exists.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters the producer updates; cheap atomics on the hot path.
#[derive(Debug, Default)]
pub(crate) struct ProducerMetrics {
    pub records_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub batches_sent: AtomicU64,
    pub requests_sent: AtomicU64,
    pub retries: AtomicU64,
    pub records_failed: AtomicU64,
    pub request_latency_total_us: AtomicU64,
    pub request_latency_max_us: AtomicU64,
    pub responses: AtomicU64,
    pub metadata_refreshes: AtomicU64,
    pub epoch_bumps: AtomicU64,
    pub throttle_total_ms: AtomicU64,
    pub throttle_max_ms: AtomicU64,
    pub throttled_responses: AtomicU64,
    pub batch_splits: AtomicU64,
    pub connections_created: AtomicU64,
    errors_by_kind: Mutex<BTreeMap<&'static str, u64>>,
}

impl ProducerMetrics {
    pub fn record_error(&self, kind: &'static str, records: u64) {
        self.records_failed.fetch_add(records, Ordering::Relaxed);
        let mut errors = self
            .errors_by_kind
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *errors.entry(kind).or_insert(0) += 1;
    }

    pub fn record_latency(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.request_latency_total_us
            .fetch_add(us, Ordering::Relaxed);
        self.request_latency_max_us.fetch_max(us, Ordering::Relaxed);
        self.responses.fetch_add(1, Ordering::Relaxed);
    }

    /// A Produce response asked this client to wait `throttle` (a quota, KIP-219).
    pub fn record_produce_throttle(&self, throttle: Duration) {
        let ms = u64::try_from(throttle.as_millis()).unwrap_or(u64::MAX);
        self.throttle_total_ms.fetch_add(ms, Ordering::Relaxed);
        self.throttle_max_ms.fetch_max(ms, Ordering::Relaxed);
        self.throttled_responses.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(
        &self,
        buffer_total: usize,
        buffer_available: usize,
        waiting_threads: usize,
    ) -> MetricsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let responses = load(&self.responses);
        MetricsSnapshot {
            record_send_total: load(&self.records_sent),
            byte_total: load(&self.bytes_sent),
            batch_total: load(&self.batches_sent),
            request_total: load(&self.requests_sent),
            record_retry_total: load(&self.retries),
            record_error_total: load(&self.records_failed),
            errors_by_kind: self
                .errors_by_kind
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
            buffer_total_bytes: buffer_total,
            buffer_available_bytes: buffer_available,
            waiting_appends: waiting_threads,
            request_latency_avg: Duration::from_micros(
                load(&self.request_latency_total_us)
                    .checked_div(responses)
                    .unwrap_or(0),
            ),
            request_latency_max: Duration::from_micros(load(&self.request_latency_max_us)),
            metadata_refresh_total: load(&self.metadata_refreshes),
            producer_epoch_bump_total: load(&self.epoch_bumps),
            produce_throttle_time_avg: Duration::from_millis(
                load(&self.throttle_total_ms)
                    .checked_div(responses)
                    .unwrap_or(0),
            ),
            produce_throttle_time_max: Duration::from_millis(load(&self.throttle_max_ms)),
            produce_throttled_total: load(&self.throttled_responses),
            batch_split_total: load(&self.batch_splits),
            connection_creation_total: load(&self.connections_created),
        }
    }
}

/// A point-in-time view of the producer's metrics.
///
/// ```no_run
/// # async fn example(producer: kafka_core::KafkaProducer) {
/// let metrics = producer.metrics();
/// println!("{} records sent, {} failed", metrics.record_send_total, metrics.record_error_total);
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Records acknowledged by the broker (Java: `record-send-total`).
    pub record_send_total: u64,
    /// Bytes of record batches acknowledged, after compression (Java: `byte-total`).
    pub byte_total: u64,
    /// Record batches acknowledged.
    pub batch_total: u64,
    /// Produce requests sent (Java: `request-total`, Produce only).
    pub request_total: u64,
    /// Batches sent again after a retriable error (Java: `record-retry-total`, per batch).
    pub record_retry_total: u64,
    /// Records that failed for good (Java: `record-error-total`).
    pub record_error_total: u64,
    /// Failures by kind ([`KafkaError::kind_name`](crate::KafkaError::kind_name)), counted per batch or per send call.
    pub errors_by_kind: BTreeMap<&'static str, u64>,
    /// `buffer.memory` (Java: `buffer-total-bytes`).
    pub buffer_total_bytes: usize,
    /// Buffer bytes not held by any batch (Java: `buffer-available-bytes`).
    pub buffer_available_bytes: usize,
    /// Sends waiting for buffer space (Java: `waiting-threads`).
    pub waiting_appends: usize,
    /// Average time from writing a Produce request to its response (Java: `request-latency-avg`).
    pub request_latency_avg: Duration,
    /// Longest such time (Java: `request-latency-max`).
    pub request_latency_max: Duration,
    /// Metadata fetches completed.
    pub metadata_refresh_total: u64,
    /// Times the idempotent producer bumped its epoch to recover sequences.
    pub producer_epoch_bump_total: u64,
    /// Average time Produce responses asked this client to wait because of a
    /// quota, over all responses (Java: `produce-throttle-time-avg`).
    pub produce_throttle_time_avg: Duration,
    /// Longest such time (Java: `produce-throttle-time-max`).
    pub produce_throttle_time_max: Duration,
    /// Produce responses that throttled this client: the broker was not sent
    /// to for the time they gave (KIP-219).
    pub produce_throttled_total: u64,
    /// Batches split because the broker found them too large
    /// (`MESSAGE_TOO_LARGE`; Java: `batch-split-total`).
    pub batch_split_total: u64,
    /// Connections to brokers established, bootstrap ones included (Java:
    /// `connection-creation-total`).
    pub connection_creation_total: u64,
}
