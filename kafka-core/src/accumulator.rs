//! The `RecordAccumulator`: per-partition queues of batches that `send` appends
//! to and the [`Sender`](crate::sender) drains (Java's `RecordAccumulator`).
//!
//! `send` does no network I/O: it appends the record to the last open batch of
//! its partition, or opens a new batch with memory reserved from
//! `buffer.memory`, and returns a [`DeliveryFuture`] tied to that batch. A batch
//! is *ready* when it is full, when it has waited `linger.ms`, during a flush or
//! close, or while appends wait for buffer space.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, SetOnce};
use tokio::time::Instant;

use crate::buffer_pool::{BufferPool, ReserveError};
use crate::config::ProducerConfig;
use crate::error::{KafkaError, SendError};
use crate::metrics::ProducerMetrics;
use crate::partitioner::{
    BuiltInPartitioner, BuiltInPartitionerOptions, PartitionChoice, PartitionLoad, TopicPartitions,
};
use crate::record::{LazyRecord, ProducerRecord, RecordMetadata, SentRecord};
use crate::record_batch::{
    ClosedBatch, Compression, CompressionRatioEstimator, DecodedRecord, RecordBatchBuilder,
    for_each_own_record,
};

/// What runs when a record completes: a callback that wants its metadata, or
/// one that also wants the record back. One box either way, so a full buffer of
/// small records keeps 40 bytes each for them.
pub(crate) trait OnComplete: Send + 'static {
    /// Whether the callback wants the record rebuilt from the batch on success.
    fn wants_record(&self) -> bool;

    /// Runs the callback; `record` is the record in its batch when it wants
    /// one and the batch was delivered.
    fn run(self: Box<Self>, result: Result<RecordMetadata, SendError>, record: Option<LazyRecord>);
}

/// A [`KafkaProducer::send_with_callback`](crate::KafkaProducer::send_with_callback) callback.
pub(crate) struct MetadataCallback<F>(pub F);

impl<F> OnComplete for MetadataCallback<F>
where
    F: FnOnce(Result<RecordMetadata, SendError>) + Send + 'static,
{
    fn wants_record(&self) -> bool {
        false
    }

    fn run(self: Box<Self>, result: Result<RecordMetadata, SendError>, _: Option<LazyRecord>) {
        (self.0)(result)
    }
}

/// A [`KafkaProducer::send_with_record_callback`](crate::KafkaProducer::send_with_record_callback) callback.
pub(crate) struct RecordCallback<F>(pub F);

impl<F> OnComplete for RecordCallback<F>
where
    F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
{
    fn wants_record(&self) -> bool {
        true
    }

    fn run(self: Box<Self>, result: Result<RecordMetadata, SendError>, record: Option<LazyRecord>) {
        (self.0)(result.map(|metadata| {
            let record = record.unwrap_or_else(|| {
                // A delivered batch is closed, so this is a bug; the record was
                // delivered all the same, so it is not reported as failed.
                tracing::error!(topic = %metadata.topic, partition = metadata.partition, offset = ?metadata.offset, "the acknowledged record's batch was not closed");
                LazyRecord::from(placeholder_record(&metadata.topic, metadata.partition))
            });
            SentRecord { record, metadata }
        }))
    }
}

/// What stands for a record its batch could not give back (only a bug does that).
fn placeholder_record(topic: &str, partition: i32) -> ProducerRecord {
    ProducerRecord {
        partition: Some(partition),
        ..ProducerRecord::tombstone(topic)
    }
}

/// A delivered batch's bytes, shared by the records handed back from it and
/// decoded once, when the first of them is read.
pub(crate) struct BatchRecords {
    topic: Arc<str>,
    partition: i32,
    bytes: Bytes,
    decoded: OnceLock<Vec<DecodedRecord>>,
}

impl BatchRecords {
    /// The record at `position`, as it was sent.
    pub(crate) fn record(&self, position: RecordPosition) -> ProducerRecord {
        let decoded = self.decoded.get_or_init(|| {
            let mut records = Vec::new();
            if let Err(e) = for_each_own_record(&self.bytes, &mut |r| records.push(r)) {
                tracing::error!(topic = %self.topic, partition = self.partition, error = %e, "cannot rebuild the records of a delivered batch");
            }
            records
        });
        match decoded.get(position.relative_offset as usize) {
            Some(record) => {
                position.restore(producer_record(&self.topic, self.partition, record.clone()))
            }
            None => placeholder_record(&self.topic, self.partition),
        }
    }
}

/// A decoded record of a batch for `topic`-`partition` as a [`ProducerRecord`]
/// with its partition and timestamp.
fn producer_record(topic: &str, partition: i32, record: DecodedRecord) -> ProducerRecord {
    ProducerRecord {
        topic: topic.to_owned(),
        partition: Some(partition),
        key: record.key,
        value: record.value,
        timestamp: Some(record.timestamp),
        headers: record.headers,
    }
}

/// Settings the accumulator needs, from the producer config.
#[derive(Clone, Debug)]
pub(crate) struct AccumulatorConfig {
    pub batch_size: usize,
    pub linger: Duration,
    pub compression: Compression,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    pub buffer_memory: usize,
    pub max_block: Duration,
    pub partitioner: BuiltInPartitionerOptions,
}

impl AccumulatorConfig {
    pub fn from_config(config: &ProducerConfig) -> Self {
        AccumulatorConfig {
            batch_size: config.batch_size(),
            linger: config.linger(),
            compression: config.compression(),
            retry_backoff: config.retry_backoff(),
            retry_backoff_max: config.retry_backoff_max(),
            buffer_memory: config.buffer_memory(),
            max_block: config.max_block(),
            partitioner: BuiltInPartitionerOptions::from_config(config),
        }
    }
}

/// How a batch ended.
#[derive(Debug)]
pub(crate) enum BatchOutcome {
    Delivered {
        base_offset: i64,
        /// -1 unless the topic uses LogAppendTime.
        log_append_time: i64,
    },
    Failed {
        error: KafkaError,
        /// The batch's records rebuilt from its bytes, to give each one back.
        records: Vec<Arc<ProducerRecord>>,
    },
}

/// Shared by a batch and the futures of its records (Java's `ProduceRequestResult`).
#[derive(Debug, Default)]
pub(crate) struct BatchCompletion {
    outcome: SetOnce<BatchOutcome>,
}

impl BatchCompletion {
    pub fn is_done(&self) -> bool {
        self.outcome.initialized()
    }

    pub async fn wait(&self) {
        self.outcome.wait().await;
    }
}

/// What one record's future needs to build its [`RecordMetadata`].
#[derive(Clone, Debug)]
struct RecordSlot {
    topic: Arc<str>,
    partition: i32,
    position: RecordPosition,
}

impl RecordSlot {
    fn resolve(&self, outcome: &BatchOutcome) -> Result<RecordMetadata, SendError> {
        self.position.resolve(&self.topic, self.partition, outcome)
    }
}

/// A record's place in its batch and its sizes: what its [`RecordMetadata`]
/// needs besides the batch's topic and partition. A callback is kept with this
/// alone (40 bytes a record with the callback), as a full buffer of small
/// records holds hundreds of thousands of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordPosition {
    timestamp: i64,
    relative_offset: u32,
    key_size: i32,
    value_size: i32,
    /// Whether the record named its partition and timestamp: a record rebuilt
    /// from the batch (which holds both) leaves them out when it did not.
    explicit_partition: bool,
    explicit_timestamp: bool,
}

impl RecordPosition {
    /// `record`, rebuilt from the batch, as the application sent it.
    fn restore(&self, mut record: ProducerRecord) -> ProducerRecord {
        if !self.explicit_partition {
            record.partition = None;
        }
        if !self.explicit_timestamp {
            record.timestamp = None;
        }
        record
    }

    /// The record rebuilt for a failure, restored when it needs to be.
    fn restore_shared(&self, record: &Arc<ProducerRecord>) -> Arc<ProducerRecord> {
        if self.explicit_partition && self.explicit_timestamp {
            record.clone()
        } else {
            Arc::new(self.restore(ProducerRecord::clone(record)))
        }
    }

    fn resolve(
        &self,
        topic: &str,
        partition: i32,
        outcome: &BatchOutcome,
    ) -> Result<RecordMetadata, SendError> {
        match outcome {
            BatchOutcome::Delivered {
                base_offset,
                log_append_time,
            } => Ok(RecordMetadata {
                topic: topic.to_owned(),
                partition,
                offset: (*base_offset >= 0).then(|| base_offset + i64::from(self.relative_offset)),
                timestamp: if *log_append_time >= 0 {
                    *log_append_time
                } else {
                    self.timestamp
                },
                serialized_key_size: self.key_size,
                serialized_value_size: self.value_size,
            }),
            BatchOutcome::Failed { error, records } => Err(SendError::shared(
                error.clone(),
                records
                    .get(self.relative_offset as usize)
                    .map(|record| self.restore_shared(record)),
            )),
        }
    }
}

/// Resolves to where the record landed, or to the error and the record.
///
/// Dropping it does not cancel the send: the record is still delivered
/// (fire-and-forget). Every future resolves, at the latest when the producer is
/// closed or dropped.
#[must_use = "await the future to learn the outcome, or drop it to fire and forget"]
pub struct DeliveryFuture {
    completion: Arc<BatchCompletion>,
    slot: RecordSlot,
    waiting: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl std::fmt::Debug for DeliveryFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryFuture")
            .field("topic", &self.slot.topic)
            .field("partition", &self.slot.partition)
            .field("done", &self.completion.is_done())
            .finish()
    }
}

impl DeliveryFuture {
    /// The partition the record was appended to.
    pub fn partition(&self) -> i32 {
        self.slot.partition
    }

    /// Whether the outcome is known already.
    pub fn is_done(&self) -> bool {
        self.completion.is_done()
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            if let Some(outcome) = this.completion.outcome.get() {
                return Poll::Ready(this.slot.resolve(outcome));
            }
            // The waiter is boxed only when someone actually waits (synchronous
            // style); fire-and-forget and callbacks never allocate it.
            let completion = this.completion.clone();
            let waiting = this
                .waiting
                .get_or_insert_with(|| Box::pin(async move { completion.wait().await }));
            match waiting.as_mut().poll(cx) {
                Poll::Ready(()) => this.waiting = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// One batch of records for one partition, from its first append to its outcome
/// (Java's `ProducerBatch`).
pub(crate) struct ProducerBatch {
    pub topic: Arc<str>,
    pub partition: i32,
    builder: Option<RecordBatchBuilder>,
    closed: Option<ClosedBatch>,
    record_count: u32,
    pub created: Instant,
    /// When the batch was last drained; linger and backoff count from here.
    pub last_attempt: Instant,
    /// Times the batch was sent.
    pub attempts: u32,
    /// Set while the batch waits to be retried.
    pub retry_at: Option<Instant>,
    /// Bytes reserved from `buffer.memory` for the batch, given back on completion.
    reserved: usize,
    /// Bytes reserved on top of `reserved` for a full batch's uncompressed
    /// records until they are compressed (see `settle_full_batch`).
    uncompressed_reservation: usize,
    completion: Arc<BatchCompletion>,
    callbacks: Vec<(RecordPosition, Box<dyn OnComplete>)>,
    /// Why closing the builder failed; the sender fails the batch with it.
    close_error: Option<KafkaError>,
    /// Idempotence: producer id, epoch and base sequence written into the batch.
    pub producer_state: Option<(i64, i16, i32)>,
    /// The batch went out and no definite answer came back (timeout, disconnect):
    /// it may have been written. Cleared by a definite answer to a later attempt
    /// (it decides whether a new epoch may resend it).
    pub fate_unknown: bool,
    /// Some attempt went out and no definite answer came back. Never cleared:
    /// even a later definite error does not prove the earlier attempt was not
    /// written, so the batch's failure is reported as "possibly written".
    pub maybe_written: bool,
    /// The batch is in a request whose answer has not come yet.
    pub in_flight: bool,
    pub last_error: Option<String>,
    /// Handed back to the accumulator when the batch completes.
    accounting: Option<Arc<Accounting>>,
    /// Set when the application waits on a flush that includes this batch.
    done: bool,
}

/// What the accumulator tracks of every unfinished batch: memory and flush waiters.
#[derive(Debug)]
pub(crate) struct Accounting {
    pool: Arc<BufferPool>,
    incomplete: Mutex<HashMap<usize, Arc<BatchCompletion>>>,
    metrics: Arc<ProducerMetrics>,
}

impl std::fmt::Debug for ProducerBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerBatch")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("records", &self.record_count)
            .field("attempts", &self.attempts)
            .field("producer_state", &self.producer_state)
            .finish()
    }
}

impl ProducerBatch {
    pub fn record_count(&self) -> u32 {
        self.record_count
    }

    /// The batch's encoded size once closed, or its estimate while open.
    pub fn size_in_bytes(&self) -> usize {
        match (&self.closed, &self.builder) {
            (Some(c), _) => c.size_in_bytes(),
            (None, Some(b)) => b.estimated_size_in_bytes(),
            (None, None) => 0,
        }
    }

    fn is_full(&self, batch_size: usize) -> bool {
        self.closed.is_some()
            || self
                .builder
                .as_ref()
                .is_some_and(|b| b.estimated_size_in_bytes() >= batch_size)
    }

    fn try_append(
        &mut self,
        timestamp: i64,
        record: &ProducerRecord,
        callback: &mut Option<Box<dyn OnComplete>>,
    ) -> Option<DeliveryFuture> {
        let builder = self.builder.as_mut()?;
        if !builder.try_append(
            timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        ) {
            return None;
        }
        let position = RecordPosition {
            timestamp,
            relative_offset: self.record_count,
            key_size: record.key.as_ref().map_or(-1, |k| len_i32(k.len())),
            value_size: record.value.as_ref().map_or(-1, |v| len_i32(v.len())),
            explicit_partition: record.partition.is_some(),
            explicit_timestamp: record.timestamp.is_some(),
        };
        self.record_count += 1;
        if let Some(cb) = callback.take() {
            self.callbacks.push((position, cb));
        }
        Some(DeliveryFuture {
            completion: self.completion.clone(),
            slot: RecordSlot {
                topic: self.topic.clone(),
                partition: self.partition,
                position,
            },
            waiting: None,
        })
    }

    /// Closes the open builder (compressing the records) so the bytes can go out.
    /// Returns the compression ratio achieved when this call compressed the batch.
    /// A failure is kept, so a later call (the sender's drain) reports it again.
    pub fn close(&mut self) -> Result<Option<f32>, KafkaError> {
        let Some(builder) = self.builder.take() else {
            return match &self.close_error {
                Some(error) => Err(error.clone()),
                None => Ok(None),
            };
        };
        let closed = builder.close().map_err(|e| {
            KafkaError::Internal(format!(
                "cannot encode the batch for {}-{}: {e}",
                self.topic, self.partition
            ))
        });
        let closed = match closed {
            Ok(closed) => closed,
            Err(error) => {
                self.close_error = Some(error.clone());
                return Err(error);
            }
        };
        let ratio = (closed.compression() != Compression::None).then(|| closed.compression_ratio());
        self.closed = Some(closed);
        // The uncompressed records are freed: so is their reservation.
        if let Some(accounting) = &self.accounting {
            accounting
                .pool
                .release(std::mem::take(&mut self.uncompressed_reservation));
        }
        Ok(ratio)
    }

    /// Bytes the open builder holds allocated beyond what is reserved for it.
    fn unreserved_bytes(&self) -> usize {
        self.builder.as_ref().map_or(0, |builder| {
            builder
                .allocated_bytes()
                .saturating_sub(self.reserved + self.uncompressed_reservation)
        })
    }

    /// Writes idempotence state into the closed batch (recomputing its CRC).
    pub fn set_producer_state(&mut self, producer_id: i64, epoch: i16, base_sequence: i32) {
        if let Some(closed) = self.closed.as_mut() {
            closed.set_producer_state(producer_id, epoch, base_sequence, false);
            self.producer_state = Some((producer_id, epoch, base_sequence));
        }
    }

    /// Forgets the idempotence state so the next drain assigns a new sequence.
    pub fn clear_producer_state(&mut self) {
        self.producer_state = None;
    }

    /// The encoded batch (closed first if needed).
    pub fn bytes(&self) -> Option<Bytes> {
        self.closed.as_ref().map(ClosedBatch::bytes)
    }

    /// Completes every record of the batch: runs callbacks, wakes futures, gives
    /// back the batch's memory.
    pub fn complete(mut self, outcome: BatchOutcome) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: BatchOutcome) {
        if self.done {
            return;
        }
        self.done = true;
        if let Some(accounting) = self.accounting.take() {
            match &outcome {
                BatchOutcome::Delivered { .. } => {
                    let m = &accounting.metrics;
                    m.records_sent
                        .fetch_add(u64::from(self.record_count), Ordering::Relaxed);
                    m.batches_sent.fetch_add(1, Ordering::Relaxed);
                    m.bytes_sent
                        .fetch_add(self.size_in_bytes() as u64, Ordering::Relaxed);
                }
                BatchOutcome::Failed { error, .. } => accounting
                    .metrics
                    .record_error(error.kind_name(), u64::from(self.record_count)),
            }
            accounting
                .pool
                .release(self.reserved + std::mem::take(&mut self.uncompressed_reservation));
            accounting
                .incomplete
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&(Arc::as_ptr(&self.completion) as usize));
        }
        // Callbacks that want their record get it from the batch (decoded when
        // read), so their callers did not have to keep it while it was in flight.
        let batch_records = if matches!(outcome, BatchOutcome::Delivered { .. })
            && self.callbacks.iter().any(|(_, cb)| cb.wants_record())
        {
            self.closed_bytes().map(|bytes| {
                Arc::new(BatchRecords {
                    topic: self.topic.clone(),
                    partition: self.partition,
                    bytes,
                    decoded: OnceLock::new(),
                })
            })
        } else {
            None
        };
        let _ = self.completion.outcome.set(outcome);
        // Set just above (or earlier, which `done` rules out): always there.
        let Some(outcome) = self.completion.outcome.get() else {
            return;
        };
        for (position, cb) in std::mem::take(&mut self.callbacks) {
            let result = position.resolve(&self.topic, self.partition, outcome);
            let record = batch_records
                .as_ref()
                .filter(|_| cb.wants_record())
                .map(|batch| LazyRecord::in_batch(batch.clone(), position));
            // A panicking callback must not take the sender task down with it.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb.run(result, record)))
                .is_err()
            {
                tracing::error!(topic = %self.topic, partition = self.partition, "a send callback panicked");
            }
        }
    }

    /// The error for every record, with the records rebuilt from the batch.
    /// A batch that may have been written fails as
    /// [`KafkaError::DeliveryUnknown`], never as "not sent".
    pub fn fail(mut self, error: KafkaError) {
        let error = self.truthful(error);
        let records = self.rebuild_records();
        tracing::debug!(topic = %self.topic, partition = self.partition, records = self.record_count, %error, "batch failed");
        self.finish(BatchOutcome::Failed { error, records });
    }

    /// The records of a failed batch, rebuilt from it.
    fn rebuild_records(&mut self) -> Vec<Arc<ProducerRecord>> {
        let mut records = Vec::with_capacity(self.record_count as usize);
        if let Some(bytes) = self.closed_bytes() {
            let this = &*self;
            let decoded = for_each_own_record(&bytes, &mut |decoded| {
                records.push(Arc::new(producer_record(
                    &this.topic,
                    this.partition,
                    decoded,
                )))
            });
            if let Err(e) = decoded {
                tracing::error!(topic = %self.topic, partition = self.partition, error = %e, "cannot rebuild the records of a failed batch");
            }
        }
        records
    }

    /// The batch's encoded bytes, closed first if needed; `None` when it
    /// cannot be closed.
    fn closed_bytes(&mut self) -> Option<Bytes> {
        if self.closed.is_none() && self.close().is_err() {
            return None;
        }
        self.bytes()
    }
}

impl ProducerBatch {
    /// `error`, or when some attempt of this batch went out without a definite
    /// answer, that error as the cause of [`KafkaError::DeliveryUnknown`].
    fn truthful(&self, error: KafkaError) -> KafkaError {
        if !(self.maybe_written || self.in_flight) || error.possibly_written() {
            return error;
        }
        KafkaError::DeliveryUnknown {
            topic: self.topic.to_string(),
            partition: self.partition,
            cause: Box::new(error),
        }
    }
}

impl Drop for ProducerBatch {
    // Every future resolves: a batch dropped without an outcome (the producer was
    // torn down, or its request abandoned by a forced close) fails its records
    // instead of leaving them hanging, as "possibly written" if it went out.
    fn drop(&mut self) {
        if !self.done {
            let error = self.truthful(KafkaError::ProducerClosed(
                "the producer was closed before an answer came for the record",
            ));
            let records = self.rebuild_records();
            tracing::error!(
                topic = %self.topic,
                partition = self.partition,
                records = self.record_count,
                %error,
                "batch abandoned without a definite outcome"
            );
            self.finish(BatchOutcome::Failed { error, records });
        }
    }
}

fn len_i32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// One partition's queue of batches, oldest first.
#[derive(Debug, Default)]
pub(crate) struct PartitionQueue {
    pub batches: VecDeque<ProducerBatch>,
}

/// The queues of one topic and its built-in partitioner.
#[derive(Debug)]
pub(crate) struct TopicQueues {
    pub name: Arc<str>,
    partitions: RwLock<Vec<Arc<Mutex<PartitionQueue>>>>,
    pub built_in: BuiltInPartitioner,
    /// How well this topic's batches compress, so a compressed batch is filled
    /// to about `batch.size` bytes after compression (Java's per-topic estimate).
    compression_ratio: Mutex<CompressionRatioEstimator>,
}

impl TopicQueues {
    /// Feeds the ratio a closed batch achieved into the estimate.
    pub fn observe_compression_ratio(&self, observed: f32) {
        lock(&self.compression_ratio).update(observed);
    }

    fn estimated_compression_ratio(&self) -> f32 {
        lock(&self.compression_ratio).estimate()
    }

    /// The queue for `partition`, growing the table when the topic grew.
    pub fn queue(&self, partition: i32) -> Arc<Mutex<PartitionQueue>> {
        let index = usize::try_from(partition).unwrap_or(0);
        if let Some(q) = self
            .partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(index)
        {
            return q.clone();
        }
        let mut partitions = self.partitions.write().unwrap_or_else(|p| p.into_inner());
        while partitions.len() <= index {
            partitions.push(Arc::default());
        }
        partitions[index].clone()
    }

    /// Every queue with its partition number.
    pub fn queues(&self) -> Vec<(i32, Arc<Mutex<PartitionQueue>>)> {
        self.partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .enumerate()
            .map(|(i, q)| (i32::try_from(i).unwrap_or(i32::MAX), q.clone()))
            .collect()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The accumulator (see the module docs).
#[derive(Debug)]
pub(crate) struct RecordAccumulator {
    pub config: AccumulatorConfig,
    /// foldhash: looked up for every record.
    topics: RwLock<HashMap<Arc<str>, Arc<TopicQueues>, foldhash::fast::RandomState>>,
    pub accounting: Arc<Accounting>,
    flushes_in_progress: AtomicUsize,
    appends_in_progress: AtomicUsize,
    closed: AtomicBool,
    /// Wakes the sender: a batch filled up, a flush began, memory is short.
    pub wakeup: Arc<Notify>,
}

impl RecordAccumulator {
    pub fn new(
        config: AccumulatorConfig,
        metrics: Arc<ProducerMetrics>,
        wakeup: Arc<Notify>,
    ) -> Self {
        RecordAccumulator {
            accounting: Arc::new(Accounting {
                pool: Arc::new(BufferPool::new(config.buffer_memory)),
                incomplete: Mutex::default(),
                metrics,
            }),
            config,
            topics: RwLock::default(),
            flushes_in_progress: AtomicUsize::new(0),
            appends_in_progress: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            wakeup,
        }
    }

    pub fn pool(&self) -> &BufferPool {
        &self.accounting.pool
    }

    pub fn topic(&self, topic: &str) -> Arc<TopicQueues> {
        if let Some(t) = self
            .topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(topic)
        {
            return t.clone();
        }
        let mut topics = self.topics.write().unwrap_or_else(|p| p.into_inner());
        topics
            .entry(Arc::from(topic))
            .or_insert_with(|| {
                Arc::new(TopicQueues {
                    name: Arc::from(topic),
                    partitions: RwLock::default(),
                    built_in: BuiltInPartitioner::new(topic, self.config.partitioner),
                    compression_ratio: Mutex::default(),
                })
            })
            .clone()
    }

    pub fn topics(&self) -> Vec<Arc<TopicQueues>> {
        self.topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Appends a record (see the module docs), waiting at most until `deadline` for
    /// buffer space.
    pub async fn append(
        &self,
        record: &ProducerRecord,
        timestamp: i64,
        choice: PartitionChoice,
        partitions: &TopicPartitions,
        deadline: Option<Instant>,
        mut callback: Option<Box<dyn OnComplete>>,
    ) -> Result<DeliveryFuture, KafkaError> {
        self.appends_in_progress.fetch_add(1, Ordering::AcqRel);
        let _guard = scopeguard(|| {
            self.appends_in_progress.fetch_sub(1, Ordering::AcqRel);
        });
        let topic = self.topic(&record.topic);
        let record_size = RecordBatchBuilder::estimate_record_size(
            record.key.as_ref().map_or(0, Bytes::len),
            record.value.as_ref().map_or(0, Bytes::len),
            &record.headers,
        );
        let mut reserved = 0usize;
        let result = loop {
            if self.closed.load(Ordering::Acquire) {
                break Err(KafkaError::ProducerClosed("send was called after close"));
            }
            let (partition, sticky) = match choice {
                PartitionChoice::Partition(p) => (p, None),
                PartitionChoice::Sticky => {
                    match topic.built_in.peek_current_partition(partitions) {
                        Some(s) => (s.partition(), Some(s)),
                        None => {
                            break Err(KafkaError::Internal(format!(
                                "no partition of topic '{}' is available",
                                record.topic
                            )));
                        }
                    }
                }
            };
            let queue = topic.queue(partition);
            {
                let mut q = lock(&queue);
                if sticky.is_some_and(|s| topic.built_in.is_partition_changed(s)) {
                    continue;
                }
                let appended = q
                    .batches
                    .back_mut()
                    .and_then(|b| b.try_append(timestamp, record, &mut callback));
                if appended.is_none()
                    && let Some(full) = q.batches.back_mut()
                {
                    self.settle_full_batch(&topic, full);
                }
                if appended.is_none() && reserved > 0 {
                    // Open a new batch with the memory we waited for.
                    let mut batch = self.new_batch(&topic, partition, record_size, reserved);
                    reserved = 0;
                    let future = batch.try_append(timestamp, record, &mut callback);
                    q.batches.push_back(batch);
                    let Some(future) = future else {
                        // An empty batch accepts any record; this cannot happen.
                        break Err(KafkaError::Internal(
                            "a new batch refused its first record".into(),
                        ));
                    };
                    self.after_append(&topic, &q, sticky, record_size, partitions, true);
                    break Ok(future);
                }
                if let Some(future) = appended {
                    self.after_append(&topic, &q, sticky, record_size, partitions, false);
                    break Ok(future);
                }
            }
            // A new batch is needed: reserve its memory without holding the queue lock.
            let size = self.config.batch_size.max(record_size);
            if !self.pool().try_reserve(size) {
                let wakeup = &self.wakeup;
                let deadline = deadline.unwrap_or_else(|| Instant::now() + self.config.max_block);
                // Boxed: the waiting future would otherwise make every send's
                // future larger, and futures are moved (copied) as they nest.
                match Box::pin(self.pool().reserve(size, deadline, || wakeup.notify_one())).await {
                    Ok(()) => {}
                    Err(ReserveError::LargerThanPool) => {
                        break Err(KafkaError::RecordExceedsBufferMemory {
                            size: record_size,
                            buffer_memory: self.config.buffer_memory,
                        });
                    }
                    Err(ReserveError::Timeout) => {
                        break Err(KafkaError::BufferExhausted {
                            max_block: self.config.max_block,
                            buffer_memory: self.config.buffer_memory,
                        });
                    }
                }
            }
            reserved = size;
        };
        if reserved > 0 {
            self.pool().release(reserved);
        }
        result
    }

    /// Keeps a batch that refused a record within `buffer.memory`. A compressed
    /// batch fills about `batch.size` / the compression ratio of uncompressed
    /// bytes, more than its reservation. If the pool has that surplus free, it is
    /// reserved and the sender compresses the batch when it drains it (in
    /// parallel with the appends); if not, the batch is compressed now, on the
    /// caller's thread (Java's `closeForRecordAppends`, where Java compresses
    /// every record as it is appended): a queued batch then holds about
    /// `batch.size` bytes, as its reservation counts.
    fn settle_full_batch(&self, topic: &TopicQueues, batch: &mut ProducerBatch) {
        let surplus = batch.unreserved_bytes();
        if surplus == 0 {
            return;
        }
        if self.pool().try_reserve(surplus) {
            batch.uncompressed_reservation += surplus;
        } else if let Ok(Some(ratio)) = batch.close() {
            topic.observe_compression_ratio(ratio);
        }
        // A failed close is kept in the batch, and the sender fails it on drain.
    }

    fn after_append(
        &self,
        topic: &TopicQueues,
        q: &PartitionQueue,
        sticky: Option<crate::partitioner::StickyPartition>,
        record_size: usize,
        partitions: &TopicPartitions,
        new_batch: bool,
    ) {
        let last_full = q
            .batches
            .back()
            .is_none_or(|b| b.is_full(self.config.batch_size));
        if let Some(sticky) = sticky {
            topic
                .built_in
                .update_partition_info(sticky, record_size, last_full, partitions);
        }
        // A full batch is ready now, whatever linger says; a new batch needs the
        // sender to arm its linger timer (Java wakes the sender for both).
        if last_full || new_batch {
            self.wakeup.notify_one();
        }
    }

    fn new_batch(
        &self,
        topic: &TopicQueues,
        partition: i32,
        record_size: usize,
        reserved: usize,
    ) -> ProducerBatch {
        let now = Instant::now();
        let mut builder = RecordBatchBuilder::new(
            self.config.compression,
            self.config.batch_size.max(record_size),
        );
        if self.config.compression != Compression::None {
            builder.set_estimated_compression_ratio(topic.estimated_compression_ratio());
        }
        let completion = Arc::new(BatchCompletion::default());
        lock(&self.accounting.incomplete)
            .insert(Arc::as_ptr(&completion) as usize, completion.clone());
        ProducerBatch {
            topic: topic.name.clone(),
            partition,
            builder: Some(builder),
            closed: None,
            record_count: 0,
            created: now,
            last_attempt: now,
            attempts: 0,
            retry_at: None,
            reserved,
            uncompressed_reservation: 0,
            completion,
            callbacks: Vec::new(),
            close_error: None,
            producer_state: None,
            fate_unknown: false,
            maybe_written: false,
            in_flight: false,
            last_error: None,
            accounting: Some(self.accounting.clone()),
            done: false,
        }
    }

    /// Whether every batch counts as ready now (flush, close, or memory waiters).
    pub fn drain_everything(&self) -> bool {
        self.flushes_in_progress.load(Ordering::Acquire) > 0
            || self.closed.load(Ordering::Acquire)
            || self.pool().waiters() > 0
    }

    /// Whether a batch at the head of a queue may go now, and if not, how long
    /// until it may.
    pub fn head_ready(
        &self,
        batch: &ProducerBatch,
        queue_len: usize,
        now: Instant,
    ) -> Result<(), Duration> {
        if let Some(retry_at) = batch.retry_at {
            return if retry_at <= now {
                Ok(())
            } else {
                Err(retry_at - now)
            };
        }
        let waited = now.saturating_duration_since(batch.created);
        if queue_len > 1
            || batch.is_full(self.config.batch_size)
            || self.drain_everything()
            || waited >= self.config.linger
        {
            Ok(())
        } else {
            Err(self.config.linger - waited)
        }
    }

    pub fn begin_flush(&self) {
        self.flushes_in_progress.fetch_add(1, Ordering::AcqRel);
        self.wakeup.notify_one();
    }

    pub fn end_flush(&self) {
        self.flushes_in_progress.fetch_sub(1, Ordering::AcqRel);
    }

    /// The batches not yet completed, for a flush to wait on.
    pub fn incomplete(&self) -> Vec<Arc<BatchCompletion>> {
        lock(&self.accounting.incomplete)
            .values()
            .cloned()
            .collect()
    }

    pub fn has_incomplete(&self) -> bool {
        !lock(&self.accounting.incomplete).is_empty()
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wakeup.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn appends_in_progress(&self) -> usize {
        self.appends_in_progress.load(Ordering::Acquire)
    }

    /// Puts a batch that must be retried back at the head of its queue, in
    /// sequence order (a retry never overtakes an older batch of its partition).
    pub fn reenqueue(&self, mut batch: ProducerBatch, now: Instant) {
        let backoff = retry_backoff(&self.config, batch.attempts);
        batch.retry_at = Some(now + backoff);
        let queue = self.topic(&batch.topic).queue(batch.partition);
        let mut q = lock(&queue);
        let position = match batch.producer_state {
            Some((_, _, seq)) => q
                .batches
                .iter()
                .position(|b| b.producer_state.is_none_or(|(_, _, s)| s > seq))
                .unwrap_or(q.batches.len()),
            None => 0,
        };
        q.batches.insert(position, batch);
    }

    /// Updates the adaptive partitioner with queue sizes (Java does it in `ready`).
    pub fn update_load_stats(&self, topic: &TopicQueues, loads: &[PartitionLoad], queues: usize) {
        topic.built_in.update_partition_load_stats(loads, queues);
    }

    /// Removes every batch (for a forced close), in no particular order.
    pub fn take_all(&self) -> Vec<ProducerBatch> {
        let mut all = Vec::new();
        for topic in self.topics() {
            for (_, queue) in topic.queues() {
                all.extend(lock(&queue).batches.drain(..));
            }
        }
        all
    }
}

/// Exponential backoff with ±20% jitter between `retry.backoff.ms` and
/// `retry.backoff.max.ms` (Java's `ExponentialBackoff` with jitter 0.2).
pub(crate) fn retry_backoff(config: &AccumulatorConfig, attempts: u32) -> Duration {
    exponential_backoff(
        config.retry_backoff,
        config.retry_backoff_max,
        attempts.saturating_sub(1),
    )
}

/// `initial * 2^exponent`, capped at `max`, with ±20% jitter.
pub(crate) fn exponential_backoff(initial: Duration, max: Duration, exponent: u32) -> Duration {
    let base = initial.as_secs_f64() * 2f64.powi(exponent.min(31) as i32);
    let capped = base.min(max.as_secs_f64().max(initial.as_secs_f64()));
    let jitter = 0.8 + fastrand::f64() * 0.4;
    Duration::from_secs_f64(capped * jitter)
}

/// Runs `f` when dropped (also when the append future is cancelled).
fn scopeguard<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    use crate::partitioner::{PartitionChoice, TopicPartitions};

    const TOPIC: &str = "memory";
    const BATCH_SIZE: usize = 16_384;

    fn accumulator(buffer_memory: usize) -> RecordAccumulator {
        let config = ProducerConfig::builder()
            .bootstrap_servers("localhost:9092")
            .compression(Compression::Lz4 { level: None })
            .build()
            .unwrap();
        let mut settings = AccumulatorConfig::from_config(&config);
        settings.batch_size = BATCH_SIZE;
        settings.buffer_memory = buffer_memory;
        let accumulator = RecordAccumulator::new(
            settings,
            Arc::new(ProducerMetrics::default()),
            Arc::new(Notify::new()),
        );
        // As after ~150 batches that compressed to a quarter: a full batch then
        // holds about 4 x batch.size of uncompressed records.
        let topic = accumulator.topic(TOPIC);
        for _ in 0..150 {
            topic.observe_compression_ratio(0.0);
        }
        assert!((topic.estimated_compression_ratio() - 0.25).abs() < 0.01);
        accumulator
    }

    fn record(i: usize) -> ProducerRecord {
        let value: Vec<u8> = (0..1_000)
            .map(|j| b"order-shipped:"[(i + j) % 14])
            .collect();
        ProducerRecord::new(TOPIC, Bytes::from(value))
    }

    /// Appends records to partition 0 until a second batch is opened; returns
    /// how many were appended.
    fn fill_first_batch(
        accumulator: &RecordAccumulator,
        callback: impl Fn(usize) -> Option<Box<dyn OnComplete>>,
    ) -> usize {
        let partitions = TopicPartitions::all_available(1);
        let deadline = Instant::now() + Duration::from_secs(10);
        let queue = accumulator.topic(TOPIC).queue(0);
        let mut appended = 0;
        while lock(&queue).batches.len() < 2 {
            let record = record(appended);
            let append = accumulator.append(
                &record,
                1_700_000_000_000,
                PartitionChoice::Partition(0),
                &partitions,
                Some(deadline),
                callback(appended),
            );
            let future = append.now_or_never().expect("an append that must not wait");
            drop(future.expect("appended"));
            appended += 1;
        }
        appended
    }

    #[test]
    fn a_full_compressed_batch_reserves_its_uncompressed_records_until_compressed() {
        let total = 1 << 20;
        let accumulator = accumulator(total);
        fill_first_batch(&accumulator, |_| None);
        let queue = accumulator.topic(TOPIC).queue(0);
        let mut q = lock(&queue);
        let first = &mut q.batches[0];
        // Left for the sender to compress, with every allocated byte reserved.
        assert!(first.bytes().is_none());
        let allocated = first.builder.as_ref().unwrap().allocated_bytes();
        assert!(allocated > 3 * BATCH_SIZE, "{allocated} bytes allocated");
        assert_eq!(first.reserved + first.uncompressed_reservation, allocated);
        assert_eq!(
            accumulator.pool().available(),
            total - allocated - BATCH_SIZE
        );

        // Compressing it (the sender's drain) gives the surplus back.
        assert!(first.close().unwrap().is_some());
        assert!(first.size_in_bytes() < BATCH_SIZE);
        assert_eq!(first.uncompressed_reservation, 0);
        assert_eq!(accumulator.pool().available(), total - 2 * BATCH_SIZE);
        drop(q);
        for batch in accumulator.take_all() {
            batch.complete(BatchOutcome::Delivered {
                base_offset: 0,
                log_append_time: -1,
            });
        }
        assert_eq!(accumulator.pool().available(), total);
    }

    #[test]
    fn a_full_compressed_batch_is_compressed_at_once_when_memory_is_short() {
        // Room for two batches' reservations, not for uncompressed records.
        let total = 2 * BATCH_SIZE;
        let accumulator = accumulator(total);
        fill_first_batch(&accumulator, |_| None);
        let queue = accumulator.topic(TOPIC).queue(0);
        let q = lock(&queue);
        let first = &q.batches[0];
        assert!(first.bytes().is_some(), "the appender compressed the batch");
        assert!(first.builder.is_none());
        assert!(first.size_in_bytes() < BATCH_SIZE);
        assert_eq!(first.uncompressed_reservation, 0);
        assert_eq!(accumulator.pool().available(), 0);
        drop(q);
        let mut batches = accumulator.take_all();
        assert_eq!(batches.len(), 2);
        // The sender's close of an already compressed batch is a no-op.
        assert_eq!(batches[0].close().unwrap(), None);
        for batch in batches {
            batch.fail(KafkaError::Internal("test".into()));
        }
        assert_eq!(accumulator.pool().available(), total);
    }

    #[test]
    fn callbacks_get_their_records_metadata() {
        assert!(std::mem::size_of::<(RecordPosition, Box<dyn OnComplete>)>() <= 40);
        let accumulator = accumulator(1 << 20);
        let results = Arc::new(Mutex::new(Vec::new()));
        let appended = fill_first_batch(&accumulator, |_| {
            let results = results.clone();
            Some(Box::new(MetadataCallback(move |result| {
                lock(&results).push(result)
            })))
        });
        let mut batches = accumulator.take_all();
        assert_eq!(batches.len(), 2);
        let second = batches.pop().unwrap();
        let first = batches.pop().unwrap();
        let first_count = first.record_count() as usize;
        assert_eq!(first_count + 1, appended);
        first.complete(BatchOutcome::Delivered {
            base_offset: 100,
            log_append_time: -1,
        });
        second.fail(KafkaError::Internal("test".into()));
        let results = lock(&results);
        assert_eq!(results.len(), appended);
        for (i, result) in results[..first_count].iter().enumerate() {
            let metadata = result.as_ref().unwrap();
            assert_eq!(metadata.topic, TOPIC);
            assert_eq!(metadata.partition, 0);
            assert_eq!(metadata.offset, Some(100 + i as i64));
            assert_eq!(metadata.timestamp, 1_700_000_000_000);
            assert_eq!(metadata.serialized_key_size, -1);
            assert_eq!(metadata.serialized_value_size, 1_000);
        }
        let failed = results[first_count].as_ref().unwrap_err();
        assert!(failed.to_string().contains("test"), "{failed}");
    }

    #[test]
    fn record_callbacks_get_their_records_back_as_sent() {
        let accumulator = accumulator(1 << 20);
        let sent = Arc::new(Mutex::new(Vec::new()));
        let metadata_only = Arc::new(Mutex::new(Vec::new()));
        // Every third record wants only its metadata: the rebuilt records must
        // still go to the right callbacks.
        let appended = fill_first_batch(&accumulator, |i| -> Option<Box<dyn OnComplete>> {
            if i % 3 == 2 {
                let metadata_only = metadata_only.clone();
                Some(Box::new(MetadataCallback(move |result| {
                    lock(&metadata_only).push(result)
                })))
            } else {
                let sent = sent.clone();
                Some(Box::new(RecordCallback(move |result| {
                    lock(&sent).push((i, result))
                })))
            }
        });
        let mut batches = accumulator.take_all();
        let second = batches.pop().unwrap();
        let first = batches.pop().unwrap();
        let first_count = first.record_count() as usize;
        first.complete(BatchOutcome::Delivered {
            base_offset: 7,
            log_append_time: -1,
        });
        second.fail(KafkaError::Internal("broker said no".into()));
        let sent = lock(&sent);
        assert_eq!(sent.len(), appended - appended / 3);
        assert_eq!(lock(&metadata_only).len(), appended / 3);
        for (i, result) in sent.iter() {
            if *i < first_count {
                let sent = result.as_ref().unwrap();
                // The record as the application built it: no partition or
                // timestamp of its own, so none in the rebuilt one.
                assert_eq!(sent.record, record(*i), "record {i}");
                assert_eq!(sent.metadata.offset, Some(7 + *i as i64));
                assert_eq!(sent.metadata.partition, 0);
            } else {
                let error = result.as_ref().unwrap_err();
                assert!(error.to_string().contains("broker said no"), "{error}");
                assert_eq!(error.record(), Some(&record(*i)));
            }
        }
    }

    #[test]
    fn a_rebuilt_record_keeps_the_partition_and_timestamp_it_named() {
        let accumulator = accumulator(1 << 20);
        let partitions = TopicPartitions::all_available(1);
        let named = ProducerRecord::new(TOPIC, "v")
            .with_key("k")
            .with_partition(0)
            .with_timestamp(1_600_000_000_000)
            .with_header("trace", "t-1");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let kept = sent.clone();
        let callback: Box<dyn OnComplete> =
            Box::new(RecordCallback(move |result| lock(&kept).push(result)));
        accumulator
            .append(
                &named,
                1_600_000_000_000,
                PartitionChoice::Partition(0),
                &partitions,
                None,
                Some(callback),
            )
            .now_or_never()
            .expect("no wait")
            .map(drop)
            .expect("appended");
        for batch in accumulator.take_all() {
            batch.complete(BatchOutcome::Delivered {
                base_offset: 0,
                log_append_time: -1,
            });
        }
        let sent = lock(&sent);
        assert_eq!(sent[0].as_ref().unwrap().record, named);
    }
}
