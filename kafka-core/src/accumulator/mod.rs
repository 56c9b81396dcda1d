//! The `RecordAccumulator`: per-partition queues of batches that `send` appends
//! to and the [`Sender`](crate::sender) drains (Java's `RecordAccumulator`).
//!
//! `send` does no network I/O: it appends the record to the last open batch of
//! its partition, or opens a new batch with memory reserved from
//! `buffer.memory`, and returns a [`DeliveryFuture`] tied to that batch (a send
//! with a callback gets none: the batch keeps its callback). A batch
//! is *ready* when it is full, when it has waited `linger.ms`, during a flush or
//! close, or while appends wait for buffer space.
//!
//! As in Java, the accumulator owns readiness and draining: [`ready`]
//! (`RecordAccumulator::ready`) names the leaders with a sendable head batch,
//! [`drain`](RecordAccumulator::drain) takes the head batches a broker leads
//! (closing and stamping each with its sequence), and retries, expiry and the
//! split of a batch the broker found too large go through it too. The queues
//! themselves are private to this module.
//!
//! Files: `batch.rs` (`ProducerBatch`), `completion.rs` (the completion a batch
//! shares with its `DeliveryFuture`s, callbacks), `lazy.rs` (records handed
//! back from a delivered batch's bytes).
//!
//! [`ready`]: RecordAccumulator::ready

mod batch;
mod callback;
mod completion;
mod lazy;
mod queue_table;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub(crate) use batch::{Accounting, ProducerBatch};
pub(crate) use callback::{Callbacks, PendingCallback};
pub use completion::DeliveryFuture;
pub(crate) use completion::{Appended, BatchCompletion, BatchOutcome};

use crate::buffer_pool::{BufferPool, ReserveError};
use crate::config::ProducerConfig;
use crate::error::KafkaError;
use crate::metadata::Cluster;
use crate::metrics::ProducerMetrics;
use crate::partitioner::{
    BuiltInPartitioner, BuiltInPartitionerOptions, PartitionChoice, PartitionLoad, TopicPartitions,
};
use crate::record::RecordRef;
use crate::record_batch::{Compression, CompressionRatioEstimator, RecordBatchBuilder};
use crate::transaction_manager::{TransactionManager, increment_sequence};
use queue_table::QueueTable;

/// What [`RecordAccumulator::ready`] found (Java's `ReadyCheckResult`).
#[derive(Debug, Default)]
pub(crate) struct ReadyCheck {
    /// Leaders of partitions with a sendable head batch.
    pub ready_nodes: BTreeSet<i32>,
    /// When a batch not sendable yet will be (linger, retry backoff).
    pub next_ready: Option<Instant>,
    /// Topics with queued batches for a partition without a known leader
    /// (Java's `unknownLeaderTopics`).
    pub unknown_leader_topics: Vec<Arc<str>>,
}

/// What [`RecordAccumulator::drain`] took for one broker.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    /// Closed, stamped batches for one Produce request, at most `max.request.size`.
    pub batches: Vec<ProducerBatch>,
    /// Batches of an older epoch that may have been written: resending them
    /// with a new sequence could duplicate them, so they must fail (as in Java).
    pub unsafe_retries: Vec<ProducerBatch>,
    /// Batches that could not be closed (encoded), with why: the sender fails
    /// them, so a transaction they belong to cannot commit without them.
    pub unencodable: Vec<(ProducerBatch, KafkaError)>,
    /// Some partition had a ready batch held back (an older retry of its
    /// partition is still in flight): look again after a backoff.
    pub held_back: bool,
}

/// A record to append, with what the producer worked out for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AppendRecord<'a> {
    /// The accumulator's queues of the record's topic.
    pub topic: &'a TopicQueues,
    pub record: &'a RecordRef<'a>,
    /// Headers written after the record's own (borrowed for the send).
    pub extra_headers: &'a [(&'a str, &'a [u8])],
    /// [`RecordBatchBuilder::estimate_record_size`] of the record.
    pub record_size: usize,
    /// The record's create time.
    pub timestamp: i64,
    pub choice: PartitionChoice,
    /// The partitioner's view of the topic.
    pub partitions: &'a TopicPartitions,
}

/// What [`RecordAccumulator::try_append_now`] came to.
#[derive(Debug)]
pub(crate) enum AppendNow {
    /// Appended (or failed for good).
    Done(Result<Appended, KafkaError>),
    /// A new batch must wait for `buffer.memory`: continue with
    /// [`RecordAccumulator::append_after_wait`].
    MustWait(PendingAppend),
}

/// An append waiting for the memory of a new batch.
#[derive(Debug)]
pub(crate) struct PendingAppend {
    /// The bytes the new batch needs.
    size: usize,
    _waiting: WaitingForMemory,
}

/// One try of [`RecordAccumulator::append_step`].
enum AppendStep {
    Done(Result<Appended, KafkaError>),
    /// A new batch of this many bytes is needed and the pool has not them free.
    NeedsMemory(usize, WaitingForMemory),
}

/// Counts an append among those waiting for the memory of a new batch, while
/// it lives (also when the append's future is dropped): a closing
/// producer's network thread waits for them (see
/// [`RecordAccumulator::appends_settled`]), and is woken when one ends.
#[derive(Debug)]
struct WaitingForMemory {
    accounting: Arc<Accounting>,
    wakeup: Arc<Notify>,
}

impl WaitingForMemory {
    fn new(accounting: &Arc<Accounting>, wakeup: &Arc<Notify>) -> WaitingForMemory {
        accounting.waiting_for_memory.fetch_add(1, Ordering::SeqCst);
        WaitingForMemory {
            accounting: Arc::clone(accounting),
            wakeup: Arc::clone(wakeup),
        }
    }
}

impl Drop for WaitingForMemory {
    fn drop(&mut self) {
        if self
            .accounting
            .waiting_for_memory
            .fetch_sub(1, Ordering::SeqCst)
            == 1
        {
            self.wakeup.notify_one();
        }
    }
}

/// Settings the accumulator needs, from the producer config.
#[derive(Clone, Debug)]
pub(crate) struct AccumulatorConfig {
    pub batch_size: usize,
    /// How long a batch waits before it counts as lingered: `linger.ms` less
    /// the timer's lateness (see [`lingered_after`]).
    pub lingered_after: Duration,
    pub compression: Compression,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    pub buffer_memory: usize,
    pub max_block: Duration,
    pub partitioner: BuiltInPartitionerOptions,
    /// Java's `guaranteeMessageOrder` (idempotence off and
    /// `max.in.flight.requests.per.connection=1`): a partition with a batch
    /// in flight sends nothing more until its answer, whichever broker leads
    /// it meanwhile. (With idempotence the sequences keep the order.)
    pub guarantee_order: bool,
}

impl AccumulatorConfig {
    pub fn from_config(config: &ProducerConfig) -> Self {
        AccumulatorConfig {
            batch_size: config.batch_size(),
            lingered_after: lingered_after(config.linger()),
            compression: config.compression(),
            retry_backoff: config.retry_backoff(),
            retry_backoff_max: config.retry_backoff_max(),
            buffer_memory: config.buffer_memory(),
            max_block: config.max_block(),
            partitioner: BuiltInPartitionerOptions::from_config(config),
            guarantee_order: !config.idempotence_enabled()
                && config.max_in_flight_requests_per_connection() == 1,
        }
    }
}

/// How late the sender's timer fires: tokio rounds a deadline up to its next
/// millisecond tick, and the poll's timeout up to a whole millisecond
/// (measured on a 5 ms sleep: 0.1 to 1.2 ms late, median 1.1 ms).
const TIMER_LATENESS: Duration = Duration::from_millis(1);

/// When a batch counts as lingered. `linger.ms` is an upper bound on how long
/// a record waits for company (Java's documentation), and the timer that ends
/// the wait fires up to [`TIMER_LATENESS`] late: the batch is due that much
/// early, so it leaves close to `linger.ms` rather than a millisecond past it
/// (as Java's millisecond clock also has it). A short linger gives up at most
/// half of itself, so it still batches.
fn lingered_after(linger: Duration) -> Duration {
    linger - TIMER_LATENESS.min(linger / 2)
}

/// Until when a retry backs off (Java's `shouldBackoff`): `None` once its
/// backoff passed, or when its partition has had a newer leader (epoch)
/// since its last attempt, which a retry need not wait for.
fn backing_off(batch: &ProducerBatch, leader_epoch: i32, now: Instant) -> Option<Instant> {
    let retry_at = batch.retry_at.filter(|at| *at > now)?;
    let leader_changed = leader_epoch >= 0 && leader_epoch > batch.attempt_leader_epoch;
    (!leader_changed).then_some(retry_at)
}

/// One partition's queue of batches, oldest first.
#[derive(Debug, Default)]
pub(crate) struct PartitionQueue {
    batches: VecDeque<ProducerBatch>,
    /// A batch of it is in flight and the order is guaranteed
    /// ([`AccumulatorConfig::guarantee_order`]): nothing more is sent.
    muted: bool,
}

impl PartitionQueue {
    /// Where a batch going back to the queue belongs: before the first batch
    /// with a higher sequence (or none yet) when it has a sequence, else at
    /// `unstamped` (the head, or after the parts queued before it).
    fn retry_position(&self, batch: &ProducerBatch, unstamped: usize) -> usize {
        match batch.producer_state {
            Some((_, _, seq)) => self
                .batches
                .iter()
                .position(|b| b.producer_state.is_none_or(|(_, _, s)| s > seq))
                .unwrap_or(self.batches.len()),
            None => unstamped.min(self.batches.len()),
        }
    }
}

/// The queues of one topic and its built-in partitioner.
#[derive(Debug)]
pub(crate) struct TopicQueues {
    pub name: Arc<str>,
    partitions: QueueTable,
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

    /// The queue for `partition`, the table grown when the topic grew.
    #[inline]
    fn queue(&self, partition: i32) -> &Mutex<PartitionQueue> {
        self.partitions.get(partition)
    }

    /// Every queue with its partition number.
    fn queues(&self) -> impl Iterator<Item = (i32, &Mutex<PartitionQueue>)> {
        self.partitions.iter()
    }

    /// How many partitions have a queue.
    fn queue_count(&self) -> usize {
        self.partitions.len()
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
    closed: AtomicBool,
    /// Rotates the partition a drain starts from, so no partition starves.
    drain_start: AtomicUsize,
    /// Wakes the sender: a batch filled up, a flush began, memory is short.
    pub wakeup: Arc<Notify>,
    /// Per broker, when it last had data ready and when it last could take
    /// it (Java's `nodeStats`): `partitioner.availability.timeout.ms` leaves
    /// out partitions of a broker whose data waited longer.
    node_latency: Mutex<HashMap<i32, NodeLatency>>,
}

/// Java's `NodeLatencyStats`: a broker's data has waited `ready - drain`.
#[derive(Clone, Copy, Debug)]
struct NodeLatency {
    ready: Instant,
    drain: Instant,
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
                waiting_for_memory: AtomicUsize::new(0),
            }),
            config,
            topics: RwLock::default(),
            flushes_in_progress: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            drain_start: AtomicUsize::new(0),
            wakeup,
            node_latency: Mutex::default(),
        }
    }

    /// A broker had data ready at `now`; `can_drain`: it could take a
    /// request then (Java's `updateNodeLatencyStats`).
    pub fn update_node_latency_stats(&self, node: i32, now: Instant, can_drain: bool) {
        if self.config.partitioner.availability_timeout.is_zero() {
            return;
        }
        let mut stats = lock(&self.node_latency);
        let entry = stats.entry(node).or_insert(NodeLatency {
            ready: now,
            drain: now,
        });
        entry.ready = now;
        if can_drain {
            entry.drain = now;
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
                    partitions: QueueTable::default(),
                    built_in: BuiltInPartitioner::new(topic, self.config.partitioner),
                    compression_ratio: Mutex::default(),
                })
            })
            .clone()
    }

    fn topics(&self) -> Vec<Arc<TopicQueues>> {
        self.topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Appends a record (see the module docs), waiting at most until `deadline` for
    /// buffer space.
    ///
    /// The same as [`try_append_now`](Self::try_append_now), then, when that
    /// must wait for memory, [`append_after_wait`](Self::append_after_wait).
    pub async fn append(
        &self,
        append: &AppendRecord<'_>,
        deadline: Option<Instant>,
        mut callback: impl PendingCallback,
    ) -> Result<Appended, KafkaError> {
        match self.try_append_now(append, &mut callback) {
            AppendNow::Done(result) => result,
            AppendNow::MustWait(pending) => {
                // Boxed: the waiting future would otherwise make every send's
                // future larger, and futures are moved (copied) as they nest.
                Box::pin(self.append_after_wait(pending, append, deadline, callback)).await
            }
        }
    }

    /// The append without waiting: appends to the open batch of the chosen
    /// partition, or opens a new batch when `buffer.memory` has room for it
    /// now. When a new batch must wait for memory, nothing is appended and
    /// [`AppendNow::MustWait`] hands over what
    /// [`append_after_wait`](Self::append_after_wait) continues with.
    /// `callback` is taken only when the record was appended.
    // Inlined into `send_now`, as is `append_step`: each call moved the
    // result (a `KafkaError`'s size) once more; about 60 instructions a
    // record together (callgrind, `scripts/bench --floor`).
    #[inline]
    pub fn try_append_now(
        &self,
        append: &AppendRecord<'_>,
        callback: &mut dyn PendingCallback,
    ) -> AppendNow {
        let mut reserved = 0;
        match self.append_step(append, callback, &mut reserved) {
            AppendStep::Done(result) => {
                if reserved > 0 {
                    self.pool().release(reserved);
                }
                AppendNow::Done(result)
            }
            AppendStep::NeedsMemory(size, waiting) => AppendNow::MustWait(PendingAppend {
                size,
                _waiting: waiting,
            }),
        }
    }

    /// Continues an append that [`try_append_now`](Self::try_append_now)
    /// could not finish: waits at most until `deadline` (else `max.block.ms`
    /// from now) for the memory of a new batch, then appends, as often as it
    /// takes (another appender may have used the memory first).
    pub async fn append_after_wait(
        &self,
        pending: PendingAppend,
        append: &AppendRecord<'_>,
        deadline: Option<Instant>,
        mut callback: impl PendingCallback,
    ) -> Result<Appended, KafkaError> {
        let PendingAppend {
            mut size,
            mut _waiting,
        } = pending;
        let deadline = deadline.unwrap_or_else(|| Instant::now() + self.config.max_block);
        let mut reserved = 0usize;
        let result = loop {
            let wakeup = &self.wakeup;
            // Only here, where the append may wait, is the wait timed (Java's
            // `bufferpool-wait-time`).
            let waiting_since = std::time::Instant::now();
            let outcome = self
                .pool()
                .reserve(size, deadline, || wakeup.notify_one())
                .await;
            self.accounting
                .metrics
                .record_buffer_wait(waiting_since.elapsed());
            match outcome {
                Ok(()) => {}
                Err(ReserveError::LargerThanPool) => {
                    break Err(KafkaError::RecordExceedsBufferMemory {
                        size: append.record_size,
                        buffer_memory: self.config.buffer_memory,
                    });
                }
                Err(ReserveError::Timeout) => {
                    self.accounting.metrics.record_buffer_exhausted();
                    break Err(KafkaError::BufferExhausted {
                        max_block: self.config.max_block,
                        buffer_memory: self.config.buffer_memory,
                    });
                }
            }
            reserved = size;
            match self.append_step(append, &mut callback, &mut reserved) {
                AppendStep::Done(result) => break result,
                AppendStep::NeedsMemory(more, still) => {
                    size = more;
                    // Still counted: the new count is made before the old
                    // one goes.
                    _waiting = still;
                }
            }
        };
        if reserved > 0 {
            self.pool().release(reserved);
        }
        result
    }

    /// One try at appending: to the open batch of the chosen partition, else
    /// to a new batch with the `reserved` memory, else with memory the pool
    /// has free now; [`AppendStep::NeedsMemory`] when it has not (nothing is
    /// reserved then). `reserved` is left at what is still reserved and unused.
    #[inline]
    fn append_step(
        &self,
        append: &AppendRecord<'_>,
        callback: &mut dyn PendingCallback,
        reserved: &mut usize,
    ) -> AppendStep {
        let AppendRecord {
            topic,
            record,
            record_size,
            choice,
            partitions,
            ..
        } = *append;
        loop {
            let (partition, sticky) = match choice {
                PartitionChoice::Partition(p) => (p, None),
                PartitionChoice::Sticky => {
                    match topic.built_in.peek_current_partition(partitions) {
                        Some(s) => (s.partition(), Some(s)),
                        None => {
                            return AppendStep::Done(Err(KafkaError::Internal(format!(
                                "no partition of topic '{}' is available",
                                record.topic
                            ))));
                        }
                    }
                }
            };
            {
                let mut q = lock(topic.queue(partition));
                // Checked under the queue's lock (as Java's `tryAppend` does):
                // a forced close takes every queued batch, each queue locked
                // in turn, and then the sender stops. An append that checked
                // before locking could lock the queue after that and open a
                // batch that nobody would send or fail.
                if self.closed.load(Ordering::SeqCst) {
                    return AppendStep::Done(Err(KafkaError::ProducerClosed(
                        "the record was not appended before the close began",
                    )));
                }
                // The open batch, found once: every question below is about it.
                let open = q.batches.back_mut();
                if let Some(s) = sticky {
                    if topic.built_in.is_partition_changed(s) {
                        continue;
                    }
                    // Java's `partitionChanged`: a switch put off while the
                    // last batch was open happens once every batch here is
                    // full (or sent), before this record joins the partition.
                    let all_full = open
                        .as_deref()
                        .is_none_or(|b| b.is_full(self.config.batch_size));
                    if all_full {
                        topic.built_in.update_partition_info(s, 0, true, partitions);
                        if topic.built_in.is_partition_changed(s) {
                            continue;
                        }
                    }
                }
                if let Some(batch) = open
                    && let Some(appended) = batch.try_append(append, callback)
                {
                    // The sticky partitioner counts what the batch grew by
                    // (Java's `appendedBytes`), not the record's upper bound:
                    // that is ~1.7x a 100-byte record's and made it switch
                    // before the batch filled, leaving a fragment batch at
                    // every switch.
                    let grown = match sticky {
                        Some(_) => batch.last_append_growth(),
                        None => 0,
                    };
                    let full = batch.is_full(self.config.batch_size);
                    self.after_append(topic, full, sticky, grown, partitions, false);
                    return AppendStep::Done(Ok(appended));
                }
                if let Some(full) = q.batches.back_mut() {
                    self.settle_full_batch(topic, full);
                }
                if *reserved > 0 {
                    // Open a new batch with the memory reserved for it.
                    let mut batch = self.new_batch(topic, partition, record_size, *reserved);
                    *reserved = 0;
                    let appended = batch.try_append(append, callback);
                    let grown = batch.size_in_bytes();
                    let full = batch.is_full(self.config.batch_size);
                    q.batches.push_back(batch);
                    let Some(appended) = appended else {
                        // An empty batch accepts any record; this cannot happen.
                        return AppendStep::Done(Err(KafkaError::Internal(
                            "a new batch refused its first record".into(),
                        )));
                    };
                    self.after_append(topic, full, sticky, grown, partitions, true);
                    return AppendStep::Done(Ok(appended));
                }
            }
            // A new batch is needed: reserve its memory without holding the queue lock.
            let size = self.config.batch_size.max(record_size);
            if !self.pool().try_reserve(size) {
                // Counted, then the flag read again (both SeqCst): the
                // network thread reads the flag before the count, so either
                // it waits for this append or this append sees the close.
                let waiting = WaitingForMemory::new(&self.accounting, &self.wakeup);
                if self.closed.load(Ordering::SeqCst) {
                    return AppendStep::Done(Err(KafkaError::ProducerClosed(
                        "the record was not appended before the close began",
                    )));
                }
                return AppendStep::NeedsMemory(size, waiting);
            }
            *reserved = size;
        }
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

    /// After a record joined the queue's last batch, now `last_full` or not.
    #[inline]
    fn after_append(
        &self,
        topic: &TopicQueues,
        last_full: bool,
        sticky: Option<crate::partitioner::StickyPartition>,
        appended_bytes: usize,
        partitions: &TopicPartitions,
        new_batch: bool,
    ) {
        if let Some(sticky) = sticky {
            topic
                .built_in
                .update_partition_info(sticky, appended_bytes, last_full, partitions);
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
        let completion = Arc::new(BatchCompletion::new(topic.name.clone(), partition));
        lock(&self.accounting.incomplete)
            .insert(Arc::as_ptr(&completion) as usize, completion.clone());
        ProducerBatch {
            topic: topic.name.clone(),
            partition,
            builder: Some(builder),
            closed: None,
            record_count: 0,
            max_record_size: 0,
            created: now,
            last_attempt: now,
            attempts: 0,
            retry_at: None,
            attempt_leader_epoch: -1,
            reserved,
            uncompressed_reservation: 0,
            completion,
            callbacks: Callbacks::default(),
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
    fn drain_everything(&self) -> bool {
        self.flushes_in_progress.load(Ordering::Acquire) > 0
            || self.closed.load(Ordering::Acquire)
            || self.pool().waiters() > 0
    }

    /// Whether a batch at the head of a queue may go now, and if not, how long
    /// until it may.
    fn head_ready(
        &self,
        batch: &ProducerBatch,
        queue_len: usize,
        leader_epoch: i32,
        now: Instant,
    ) -> Result<(), Duration> {
        if let Some(retry_at) = batch.retry_at {
            return match backing_off(batch, leader_epoch, now) {
                Some(_) => Err(retry_at - now),
                None => Ok(()),
            };
        }
        let waited = now.saturating_duration_since(batch.created);
        if queue_len > 1
            || batch.is_full(self.config.batch_size)
            || self.drain_everything()
            || waited >= self.config.lingered_after
        {
            Ok(())
        } else {
            Err(self.config.lingered_after - waited)
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

    /// Refuses appends from now on: each append reads the flag under its
    /// partition queue's lock, before it touches the queue (see
    /// [`appends_settled`](Self::appends_settled)).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wakeup.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// After [`close`](Self::close): waits until no append that found the
    /// producer open is still under way, by taking every queue's lock once.
    /// An append reads the `closed` flag under its queue's lock and, if the
    /// flag was not set, adds its record (and any new batch, to the
    /// incomplete ones) before letting go of it; an append that takes the
    /// lock after this does sees the flag and refuses the record. A queue
    /// or topic added after the sweep read the table is likewise made after
    /// the flag was set (the table's length and the topics' map are read
    /// and written SeqCst or under their lock), so its append refuses too.
    /// Then [`has_incomplete`](Self::has_incomplete) sees every batch that
    /// will ever hold a record. False while appends that found the producer
    /// open wait for memory. This was a shared count of every append in
    /// progress, two atomic writes each append; now only the rare append
    /// that waits is counted.
    pub fn appends_settled(&self) -> bool {
        debug_assert!(self.is_closed());
        for topic in self.topics() {
            for (_, queue) in topic.queues() {
                drop(lock(queue));
            }
        }
        // An append waiting for a new batch's memory counted itself before
        // it read the flag: the close waits for it, as for Java's
        // `appendsInProgress`.
        self.accounting.waiting_for_memory.load(Ordering::SeqCst) == 0
    }

    /// Puts a batch that must be retried back at the head of its queue, in
    /// sequence order (a retry never overtakes an older batch of its partition).
    pub fn reenqueue(&self, mut batch: ProducerBatch, now: Instant) {
        let backoff = retry_backoff(&self.config, batch.attempts);
        batch.retry_at = Some(now + backoff);
        let topic = self.topic(&batch.topic);
        let mut q = lock(topic.queue(batch.partition));
        let position = q.retry_position(&batch, 0);
        q.batches.insert(position, batch);
    }

    /// Java's `splitAndReenqueue`: a batch the broker refused as too large
    /// (`MESSAGE_TOO_LARGE`, `RECORD_LIST_TOO_LARGE`) goes back to the head of
    /// its queue as two halves, in record order. With idempotence the halves
    /// take over the batch's sequence range (the first keeps its base
    /// sequence), so the batches after it stay in sequence. Returns how many
    /// parts were queued, or the batch when it cannot be split (one record).
    pub fn split_and_reenqueue(
        &self,
        batch: ProducerBatch,
        tm: Option<&mut TransactionManager>,
    ) -> Result<usize, Box<ProducerBatch>> {
        let (topic, partition, state) =
            (batch.topic.clone(), batch.partition, batch.producer_state);
        let mut parts = batch.split()?;
        if let (Some(tm), Some((pid, epoch, seq))) = (tm, state)
            && tm.holds_sequences_of(&topic, partition, pid, epoch)
        {
            let mut next = seq;
            let mut bases = Vec::with_capacity(parts.len());
            for part in &mut parts {
                part.set_producer_state(pid, epoch, next, tm.is_transactional());
                bases.push(next);
                next = increment_sequence(next, part.record_count());
            }
            tm.split(&topic, partition, (pid, epoch, seq), &bases);
        }
        let count = parts.len();
        let queues = self.topic(&topic);
        let mut q = lock(queues.queue(partition));
        for (i, part) in parts.into_iter().enumerate() {
            let position = q.retry_position(&part, i);
            q.batches.insert(position, part);
        }
        drop(q);
        self.wakeup.notify_one();
        Ok(count)
    }

    /// Java's `RecordAccumulator.ready`: leaders with a sendable head batch, the
    /// next time one becomes sendable, and whether some leader is unknown. Also
    /// feeds the adaptive partitioner with queue sizes (as Java does here).
    pub fn ready(&self, cluster: &Cluster, now: Instant) -> ReadyCheck {
        let mut check = ReadyCheck::default();
        let node_latency = if self.config.partitioner.availability_timeout.is_zero() {
            HashMap::new()
        } else {
            lock(&self.node_latency).clone()
        };
        let stalled_for = |leader: i32| {
            node_latency.get(&leader).map_or(Duration::ZERO, |n| {
                n.ready.saturating_duration_since(n.drain)
            })
        };
        for topic in self.topics() {
            let meta = cluster.topics.get(&*topic.name);
            let queue_count = topic.queue_count();
            let mut loads = Vec::with_capacity(queue_count);
            for (partition, queue) in topic.queues().take(queue_count) {
                let q = lock(queue);
                let known = meta.and_then(|m| m.partitions.get(usize::try_from(partition).ok()?));
                let leader_epoch = known.map_or(-1, |p| p.leader_epoch);
                let Some(leader) = known.and_then(|p| p.leader) else {
                    if !q.batches.is_empty()
                        && check.unknown_leader_topics.last() != Some(&topic.name)
                    {
                        check.unknown_leader_topics.push(topic.name.clone());
                    }
                    continue;
                };
                loads.push(PartitionLoad {
                    partition,
                    queue_size: q.batches.len(),
                    leader_stalled_for: stalled_for(leader),
                });
                let Some(head) = q.batches.front().filter(|_| !q.muted) else {
                    continue;
                };
                match self.head_ready(head, q.batches.len(), leader_epoch, now) {
                    Ok(()) => {
                        check.ready_nodes.insert(leader);
                    }
                    Err(wait) => {
                        let at = now + wait;
                        check.next_ready = Some(check.next_ready.map_or(at, |n| n.min(at)));
                    }
                }
            }
            // As Java's `partitionReady`: weighted only while every
            // partition has a queue (partitions just added have none, and
            // stale weights would never choose them).
            if meta.is_some_and(|m| m.partitions.len() == queue_count) {
                topic
                    .built_in
                    .update_partition_load_stats(&loads, queue_count);
            } else {
                topic.built_in.clear_partition_load_stats();
            }
        }
        check
    }

    /// Java's `RecordAccumulator.drain` for one broker: the head batch of each
    /// partition `node` leads, up to `max_size` bytes, starting from a
    /// partition that rotates so none starves. Each batch is closed
    /// (compressed) and, with idempotence (`tm`), stamped with its producer id,
    /// epoch and sequence. A retry goes only when it is the oldest batch in
    /// flight of its partition, so retries keep their order.
    pub fn drain(
        &self,
        cluster: &Cluster,
        node: i32,
        max_size: usize,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
    ) -> Drained {
        let mut drained = Drained::default();
        let mut size = 0usize;
        let mut candidates = Vec::new();
        let topics = self.topics();
        for topic in &topics {
            let meta = cluster.topics.get(&*topic.name);
            for (partition, queue) in topic.queues() {
                let Some(known) =
                    meta.and_then(|m| m.partitions.get(usize::try_from(partition).ok()?))
                else {
                    continue;
                };
                if known.leader == Some(node) {
                    candidates.push((queue, known.leader_epoch));
                }
            }
        }
        if candidates.is_empty() {
            return drained;
        }
        let start = self.drain_start.fetch_add(1, Ordering::Relaxed) % candidates.len();
        'partitions: for i in 0..candidates.len() {
            let (queue, leader_epoch) = candidates[(start + i) % candidates.len()];
            let mut q = lock(queue);
            if q.muted {
                continue;
            }
            let Some(head) = q.batches.front_mut() else {
                continue;
            };
            // As Java's drain: any head batch of a ready broker goes (linger
            // counts only in `ready`), except one backing off before a retry.
            if backing_off(head, leader_epoch, now).is_some() {
                continue;
            }
            if let Some(tm) = tm.as_deref_mut()
                && !tm.may_send_in_transaction(&head.topic, head.partition)
            {
                // Not in the transaction yet: AddPartitionsToTxn goes first.
                drained.held_back = true;
                continue;
            }
            if let Some(tm) = tm.as_deref()
                && head.producer_state.is_none()
                && !tm.may_send_new(&head.topic, head.partition)
            {
                drained.held_back = true;
                continue;
            }
            if let Some(tm) = tm.as_deref()
                && let Some((pid, epoch, seq)) = head.producer_state
            {
                if !tm.holds_sequences_of(&head.topic, head.partition, pid, epoch) {
                    // Its partition restarted under a new epoch.
                    if head.fate_unknown {
                        // It may have been written under the old epoch: resending
                        // with a new sequence could duplicate it.
                        if let Some(batch) = q.batches.pop_front() {
                            drained.unsafe_retries.push(batch);
                        }
                        continue;
                    }
                    head.clear_producer_state();
                    // Stamped anew, it is a first batch of the new epoch: one
                    // at a time until the broker acknowledged one (as new ones).
                    if !tm.may_send_new(&head.topic, head.partition) {
                        drained.held_back = true;
                        continue;
                    }
                } else if !tm.may_send_retry(&head.topic, head.partition, seq) {
                    drained.held_back = true;
                    continue;
                }
            }
            if !drained.batches.is_empty() && size + head.size_in_bytes() > max_size {
                break 'partitions;
            }
            let Some(mut batch) = q.batches.pop_front() else {
                continue;
            };
            q.muted = self.config.guarantee_order;
            drop(q);
            match batch.close() {
                Ok(Some(ratio)) => self.topic(&batch.topic).observe_compression_ratio(ratio),
                Ok(None) => {}
                Err(error) => {
                    // Never in flight: its partition may send again.
                    if self.config.guarantee_order {
                        lock(queue).muted = false;
                    }
                    drained.unencodable.push((batch, error));
                    continue;
                }
            }
            if let Some(tm) = tm.as_deref_mut()
                && batch.producer_state.is_none()
            {
                let (pid, epoch) = tm.producer_id_and_epoch();
                let seq = tm.assign_sequence(&batch.topic, batch.partition, batch.record_count());
                batch.set_producer_state(pid, epoch, seq, tm.is_transactional());
            }
            batch.attempts += 1;
            batch.attempt_leader_epoch = leader_epoch;
            batch.in_flight = true;
            batch.last_attempt = now;
            batch.retry_at = None;
            size += batch.size_in_bytes();
            drained.batches.push(batch);
        }
        drained
    }

    /// The answer (or failure) of `batch`'s request came: its partition may
    /// send again ([`AccumulatorConfig::guarantee_order`]).
    pub fn unmute(&self, batch: &ProducerBatch) {
        if !self.config.guarantee_order {
            return;
        }
        lock(self.topic(&batch.topic).queue(batch.partition)).muted = false;
    }

    /// Takes the batches still queued past `delivery_timeout` (Java's
    /// `expiredBatches`); the sender fails them.
    pub fn expired_batches(&self, now: Instant, delivery_timeout: Duration) -> Vec<ProducerBatch> {
        let mut expired = Vec::new();
        for topic in self.topics() {
            for (_, queue) in topic.queues() {
                let mut q = lock(queue);
                // Batches are queued oldest first (retries go back to the front).
                while q
                    .batches
                    .front()
                    .is_some_and(|b| now >= b.created + delivery_timeout)
                {
                    if let Some(batch) = q.batches.pop_front() {
                        expired.push(batch);
                    }
                }
            }
        }
        expired
    }

    /// Removes every batch (for a forced close), in no particular order.
    pub fn take_all(&self) -> Vec<ProducerBatch> {
        let mut all = Vec::new();
        for topic in self.topics() {
            for (_, queue) in topic.queues() {
                all.extend(lock(queue).batches.drain(..));
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
    // Java's `ExponentialBackoff(initial, 2, max, 0.2)`: a maximum at or
    // below the initial value makes it constant, without jitter; the jittered
    // value never exceeds the maximum.
    let initial = initial.min(max);
    if max <= initial {
        return initial;
    }
    let (initial_s, max_s) = (initial.as_secs_f64(), max.as_secs_f64());
    let exponent_max = (max_s / initial_s.max(0.001)).log2();
    let term = initial_s * 2f64.powf(f64::from(exponent).min(exponent_max));
    let jitter = 0.8 + fastrand::f64() * 0.4;
    Duration::from_secs_f64((term * jitter).min(max_s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ProducerRecord;
    use bytes::Bytes;
    use futures_util::FutureExt;

    use crate::error::SendError;
    use crate::partitioner::{PartitionChoice, TopicPartitions};
    use crate::record::SentRecord;

    use super::completion::Callback;
    use std::sync::Mutex;

    const TOPIC: &str = "memory";
    const BATCH_SIZE: usize = 16_384;

    /// An lz4 accumulator of `buffer_memory` bytes whose topic compresses
    /// to a quarter.
    fn accumulator(buffer_memory: usize) -> RecordAccumulator {
        let accumulator = plain_accumulator(|settings| {
            settings.compression = Compression::Lz4 { level: None };
            settings.batch_size = BATCH_SIZE;
            settings.buffer_memory = buffer_memory;
        });
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

    /// Completes every queued batch as delivered at offset 0.
    fn deliver_queued(accumulator: &RecordAccumulator) {
        for batch in accumulator.take_all() {
            batch.complete(BatchOutcome::Delivered {
                base_offset: 0,
                log_append_time: -1,
            });
        }
    }

    /// The append of `record` to partition 0 of `topic`.
    fn to_partition_0<'a>(
        topic: &'a TopicQueues,
        record: &'a RecordRef<'a>,
        timestamp: i64,
        partitions: &'a TopicPartitions,
    ) -> AppendRecord<'a> {
        AppendRecord {
            topic,
            record,
            extra_headers: &[],
            record_size: record.size_upper_bound(&[]),
            timestamp,
            choice: PartitionChoice::Partition(0),
            partitions,
        }
    }

    /// Appends `record` to partition 0, which must not wait for memory;
    /// returns its future when `callback` is `()`.
    fn append_now(
        accumulator: &RecordAccumulator,
        record: &ProducerRecord,
        timestamp: i64,
        callback: impl PendingCallback,
    ) -> Appended {
        let partitions = TopicPartitions::all_available(1);
        let topic = accumulator.topic(&record.topic);
        let record_lent = record.as_record_ref();
        let append = to_partition_0(&topic, &record_lent, timestamp, &partitions);
        accumulator
            .append(&append, None, callback)
            .now_or_never()
            .expect("no wait")
            .expect("appended")
    }

    /// Appends records to partition 0 until a second batch is opened; returns
    /// how many were appended.
    fn fill_first_batch(
        accumulator: &RecordAccumulator,
        callback: impl Fn(usize) -> Option<Callback>,
    ) -> usize {
        let partitions = TopicPartitions::all_available(1);
        let deadline = Instant::now() + Duration::from_secs(10);
        let topic = accumulator.topic(TOPIC);
        let queue = topic.queue(0);
        let mut appended = 0;
        while lock(queue).batches.len() < 2 {
            let record = record(appended);
            let record_lent = record.as_record_ref();
            let append = to_partition_0(&topic, &record_lent, 1_700_000_000_000, &partitions);
            let append = accumulator.append(&append, Some(deadline), callback(appended));
            let future = append.now_or_never().expect("an append that must not wait");
            drop(future.expect("appended"));
            appended += 1;
        }
        appended
    }

    fn metadata() -> crate::metadata::Metadata {
        crate::metadata::Metadata::new(
            Duration::from_secs(300),
            Duration::from_secs(300),
            Duration::from_millis(100),
        )
    }

    /// A cluster where node 1 leads partitions 0 and 1 of `topic` and node 2
    /// leads partition 2.
    fn two_leader_cluster(topic: &str) -> Arc<Cluster> {
        use crate::protocol::messages::MetadataBroker;
        let mut response = crate::metadata::one_topic_response(topic, 3, 1);
        response.brokers.push(MetadataBroker {
            node_id: 2,
            host: "localhost".into(),
            port: 9093,
            rack: None,
        });
        response.topics[0].partitions[2].leader_id = 2;
        let metadata = metadata();
        metadata.update(&response);
        metadata.cluster()
    }

    /// An accumulator with the producer's defaults (no compression), then
    /// `configure`d.
    fn plain_accumulator(configure: impl FnOnce(&mut AccumulatorConfig)) -> RecordAccumulator {
        let config = ProducerConfig::builder()
            .bootstrap_servers("localhost:9092")
            .build()
            .unwrap();
        let mut settings = AccumulatorConfig::from_config(&config);
        configure(&mut settings);
        RecordAccumulator::new(
            settings,
            Arc::new(ProducerMetrics::default()),
            Arc::new(Notify::new()),
        )
    }

    fn adaptive_accumulator(availability_timeout: Duration) -> RecordAccumulator {
        plain_accumulator(|settings| {
            settings.partitioner.availability_timeout = availability_timeout
        })
    }

    /// Appends one record to `partition` of `topic`.
    fn append_to(accumulator: &RecordAccumulator, topic: &str, partition: i32) {
        let record = ProducerRecord::new(topic, "v");
        let partitions = TopicPartitions::all_available(3);
        let queues = accumulator.topic(topic);
        let record_lent = record.as_record_ref();
        let append = AppendRecord {
            choice: PartitionChoice::Partition(partition),
            ..to_partition_0(&queues, &record_lent, 1_700_000_000_000, &partitions)
        };
        let appended = accumulator.append(&append, None, ()).now_or_never();
        drop(appended.expect("no wait").expect("appended"));
    }

    #[test]
    fn a_leader_whose_data_waited_past_the_availability_timeout_is_not_weighted() {
        let accumulator = adaptive_accumulator(Duration::from_secs(2));
        let cluster = two_leader_cluster("t");
        for partition in 0..3 {
            append_to(&accumulator, "t", partition);
        }
        let start = Instant::now();
        let later = start + Duration::from_secs(3);
        // Node 1 takes requests; node 2's data has waited 3 s.
        for at in [start, later] {
            accumulator.update_node_latency_stats(1, at, true);
        }
        accumulator.update_node_latency_stats(2, start, true);
        accumulator.update_node_latency_stats(2, later, false);
        accumulator.ready(&cluster, later);
        let built_in = &accumulator.topic("t").built_in;
        assert_eq!(built_in.weighted_partitions(), Some(vec![0, 1]));

        // Node 2 drains again: all partitions are candidates (equal queues,
        // no weights at all).
        accumulator.update_node_latency_stats(2, later, true);
        accumulator.ready(&cluster, later);
        assert_eq!(built_in.weighted_partitions(), None);
    }

    #[test]
    fn load_stats_are_dropped_while_partitions_added_have_no_queue() {
        let accumulator = adaptive_accumulator(Duration::ZERO);
        let cluster = two_leader_cluster("t");
        append_to(&accumulator, "t", 0);
        append_to(&accumulator, "t", 0);
        append_to(&accumulator, "t", 2);
        let now = Instant::now();
        accumulator.ready(&cluster, now);
        let built_in = &accumulator.topic("t").built_in;
        assert!(built_in.weighted_partitions().is_some(), "unequal queues");

        // The topic grows to 6 partitions: the 3 new ones have no queue yet,
        // and weights over the old ones alone would never choose them.
        let mut grown = crate::metadata::one_topic_response("t", 6, 1);
        grown.topics[0].partitions[5].leader_id = 1;
        let metadata = metadata();
        metadata.update(&grown);
        accumulator.ready(&metadata.cluster(), now);
        assert_eq!(built_in.weighted_partitions(), None);
    }

    /// KIP-794 as Java counts it: the bytes the batch grew by. With records
    /// coming faster than batches are sent, a partition switches at twice
    /// `batch.size` (Java's cap), so it holds two full batches, not a full
    /// one and a fragment (counting the records' upper bound, ~1.7x a
    /// 100-byte record's size, switched at ~1.2 batches).
    #[test]
    fn the_sticky_partition_switches_without_leaving_a_fragment_batch() {
        let accumulator = plain_accumulator(|settings| {
            settings.batch_size = BATCH_SIZE;
            settings.partitioner.sticky_batch_size = BATCH_SIZE;
        });
        let partitions = TopicPartitions::all_available(8);
        let queues = accumulator.topic("sticky");
        let record = ProducerRecord::new("sticky", Bytes::from(vec![b'x'; 100]));
        // The switch is a new sticky choice (drawn at random: it may be the
        // same partition), decided after the append that fills the quota.
        let sticky = || {
            queues
                .built_in
                .peek_current_partition(&partitions)
                .expect("a sticky partition")
        };
        let first = sticky();
        let mut appended = 0;
        while sticky() == first {
            let record_lent = record.as_record_ref();
            let append = AppendRecord {
                choice: PartitionChoice::Sticky,
                ..to_partition_0(&queues, &record_lent, 1_700_000_000_000, &partitions)
            };
            let done = accumulator.append(&append, None, ()).now_or_never();
            drop(done.expect("no wait").expect("appended"));
            appended += 1;
            assert!(appended < 1_000, "never switched");
        }
        let queue = lock(queues.queue(first.partition()));
        let counts: Vec<u32> = queue
            .batches
            .iter()
            .map(ProducerBatch::record_count)
            .collect();
        // (A new draw may pick the same partition again: only its first
        // two batches are the first choice's.)
        assert!(counts.len() >= 2, "{counts:?}");
        assert!(
            counts[1] * 10 >= counts[0] * 9,
            "switched after {appended} records, leaving a fragment batch: {counts:?}"
        );
    }

    #[test]
    fn a_switch_put_off_by_an_open_batch_happens_once_the_batch_is_sent() {
        let accumulator = plain_accumulator(|settings| {
            settings.batch_size = 1_000;
            settings.partitioner.sticky_batch_size = 1_000;
        });
        let partitions = TopicPartitions::all_available(8);
        let queues = accumulator.topic("sticky");
        let record = ProducerRecord::new("sticky", Bytes::from(vec![b'x'; 600]));
        let append_one = || {
            let record_lent = record.as_record_ref();
            let append = AppendRecord {
                choice: PartitionChoice::Sticky,
                ..to_partition_0(&queues, &record_lent, 1_700_000_000_000, &partitions)
            };
            let appended = accumulator.append(&append, None, ()).now_or_never();
            drop(appended.expect("no wait").expect("appended"));
            accumulator
                .take_all()
                .into_iter()
                .map(|batch| {
                    let partition = batch.partition;
                    batch.complete(BatchOutcome::Delivered {
                        base_offset: 0,
                        log_append_time: -1,
                    });
                    partition
                })
                .collect::<Vec<_>>()
        };
        // Each record is sent (linger passed) before its batch fills: the
        // second brings the partition past sticky_batch_size, with its batch
        // still open, so the switch waits; the third, finding every batch
        // sent, goes to another partition (Java's `partitionChanged`), not
        // to the same one until twice the size.
        let sticky = || {
            queues
                .built_in
                .peek_current_partition(&partitions)
                .expect("a sticky partition")
        };
        let first = append_one();
        let second = append_one();
        assert_eq!(first, second, "below the batch size: the same partition");
        let before = sticky();
        let third = append_one();
        let after = sticky();
        // (The new partition is drawn at random, and may be the same one.)
        assert_ne!(after, before, "switched once the open batch was sent");
        assert_eq!(third, [after.partition()]);
    }

    #[test]
    fn a_batch_is_due_a_timer_tick_before_linger_ms() {
        assert_eq!(
            lingered_after(Duration::from_millis(5)),
            Duration::from_millis(4)
        );
        // A short linger gives up half of itself, no more; none stays none.
        assert_eq!(
            lingered_after(Duration::from_millis(1)),
            Duration::from_micros(500)
        );
        assert_eq!(lingered_after(Duration::ZERO), Duration::ZERO);

        let mut accumulator = accumulator(1 << 20);
        accumulator.config.lingered_after = lingered_after(Duration::from_millis(5));
        drop(append_now(
            &accumulator,
            &record(0),
            1_700_000_000_000,
            Some::<Callback>(Box::new(drop)),
        ));
        let topic = accumulator.topic(TOPIC);
        let queue = lock(topic.queue(0));
        let head = queue.batches.front().expect("a batch");
        let at = |ms: f64| head.created + Duration::from_secs_f64(ms / 1_000.0);
        assert_eq!(
            accumulator.head_ready(head, 1, -1, at(1.0)),
            Err(Duration::from_millis(3)),
            "the sender is woken for it 4 ms after it opened"
        );
        assert_eq!(accumulator.head_ready(head, 1, -1, at(4.0)), Ok(()));
    }

    /// Java's `closeForRecordAppends`: a record that does not fit closes the
    /// open batch, so a smaller record sent after it cannot slip into that
    /// batch ahead of it while it waits for a new batch's memory.
    #[test]
    fn a_record_waiting_for_memory_is_not_overtaken_by_a_smaller_one() {
        let accumulator = plain_accumulator(|settings| {
            settings.batch_size = BATCH_SIZE;
            settings.buffer_memory = BATCH_SIZE;
        });
        let partitions = TopicPartitions::all_available(1);
        let topic = accumulator.topic(TOPIC);
        let small = ProducerRecord::new(TOPIC, Bytes::from(vec![b's'; 100]));
        drop(append_now(&accumulator, &small, 1_700_000_000_000, ()));
        // Larger than the room left, and the pool's one batch is taken.
        let large = ProducerRecord::new(TOPIC, Bytes::from(vec![b'l'; BATCH_SIZE - 150]));
        let large_lent = large.as_record_ref();
        let append = to_partition_0(&topic, &large_lent, 1_700_000_000_001, &partitions);
        assert!(matches!(
            accumulator.try_append_now(&append, &mut ()),
            AppendNow::MustWait(_)
        ));
        let small_lent = small.as_record_ref();
        let later = to_partition_0(&topic, &small_lent, 1_700_000_000_002, &partitions);
        assert!(
            matches!(
                accumulator.try_append_now(&later, &mut ()),
                AppendNow::MustWait(_)
            ),
            "the smaller record went into the batch ahead of the waiting one"
        );
        assert_eq!(lock(topic.queue(0)).batches[0].record_count(), 1);
    }

    /// Java's `shouldBackoff`: a retry backs off until its time, unless its
    /// partition has had a newer leader since its last attempt.
    #[test]
    fn a_retry_backs_off_unless_its_partition_has_a_newer_leader() {
        let accumulator = accumulator(1 << 20);
        drop(append_now(
            &accumulator,
            &record(0),
            1_700_000_000_000,
            Some::<Callback>(Box::new(drop)),
        ));
        let topic = accumulator.topic(TOPIC);
        let mut queue = lock(topic.queue(0));
        let head = queue.batches.front_mut().expect("a batch");
        let now = head.created;
        head.attempts = 1;
        head.attempt_leader_epoch = 4;
        head.retry_at = Some(now + Duration::from_secs(30));
        let head = &*head;
        assert_eq!(backing_off(head, 4, now), head.retry_at, "same leader");
        assert_eq!(backing_off(head, -1, now), head.retry_at, "epoch unknown");
        assert_eq!(backing_off(head, 5, now), None, "a newer leader");
        assert_eq!(backing_off(head, 4, now + Duration::from_secs(31)), None);
        assert_eq!(accumulator.head_ready(head, 1, 5, now), Ok(()));
        assert_eq!(
            accumulator.head_ready(head, 1, 4, now),
            Err(Duration::from_secs(30))
        );
    }

    /// An append refuses once the accumulator is closed, also one that has
    /// memory reserved for a new batch (the second pass of an append that
    /// waited for memory): after a forced close has taken the queued
    /// batches, the batch it opened would be left with nobody to send or
    /// fail it.
    #[test]
    fn an_append_with_memory_for_a_new_batch_is_refused_after_close() {
        let accumulator = accumulator(4 * BATCH_SIZE);
        let record = record(0);
        let partitions = TopicPartitions::all_available(1);
        let topic = accumulator.topic(TOPIC);
        let record_lent = record.as_record_ref();
        let append = to_partition_0(&topic, &record_lent, 1_700_000_000_000, &partitions);
        accumulator.close();
        assert!(accumulator.pool().try_reserve(BATCH_SIZE));
        let mut reserved = BATCH_SIZE;
        let refused = accumulator.append_step(&append, &mut (), &mut reserved);
        assert!(matches!(
            refused,
            AppendStep::Done(Err(KafkaError::ProducerClosed(_)))
        ));
        assert!(accumulator.take_all().is_empty(), "no batch was opened");
        // The reservation is the caller's to release.
        assert_eq!(reserved, BATCH_SIZE);
    }

    /// An accumulator of one batch's memory, that batch open on partition 0
    /// of "waits", and an append to partition 1 waiting for memory.
    fn one_append_waiting() -> (RecordAccumulator, PendingAppend) {
        let accumulator = plain_accumulator(|settings| {
            settings.batch_size = 1_024;
            settings.buffer_memory = 1_024;
        });
        let record = ProducerRecord::new("waits", Bytes::from_static(b"v"));
        let (lent, partitions) = (record.as_record_ref(), TopicPartitions::all_available(2));
        let topic = accumulator.topic("waits");
        let to = |partition| AppendRecord {
            choice: PartitionChoice::Partition(partition),
            ..to_partition_0(&topic, &lent, 1_700_000_000_000, &partitions)
        };
        assert!(matches!(
            accumulator.try_append_now(&to(0), &mut ()),
            AppendNow::Done(Ok(_))
        ));
        let AppendNow::MustWait(pending) = accumulator.try_append_now(&to(1), &mut ()) else {
            panic!("no memory for a second batch");
        };
        (accumulator, pending)
    }

    /// An append waiting for the memory of a new batch holds the close up
    /// until it ends (refused then: the close began), as Java's
    /// `appendsInProgress` does; so does one whose future is dropped.
    #[tokio::test]
    async fn the_close_waits_for_an_append_waiting_for_memory() {
        let (accumulator, pending) = one_append_waiting();
        accumulator.close();
        assert!(!accumulator.appends_settled(), "an append still waits");
        // The first batch goes out and frees its memory: the waiting append
        // gets it, finds the producer closed and gives up.
        deliver_queued(&accumulator);
        let record = ProducerRecord::new("waits", Bytes::from_static(b"v"));
        let (lent, partitions) = (record.as_record_ref(), TopicPartitions::all_available(2));
        let topic = accumulator.topic("waits");
        let append = AppendRecord {
            choice: PartitionChoice::Partition(1),
            ..to_partition_0(&topic, &lent, 1_700_000_000_000, &partitions)
        };
        let refused = accumulator
            .append_after_wait(pending, &append, None, ())
            .await;
        assert!(matches!(refused, Err(KafkaError::ProducerClosed(_))));
        assert!(accumulator.appends_settled());
        assert!(!accumulator.has_incomplete());

        let (accumulator, pending) = one_append_waiting();
        accumulator.close();
        assert!(!accumulator.appends_settled());
        drop(pending);
        assert!(accumulator.appends_settled());
        deliver_queued(&accumulator);
    }

    /// Appends race the close on several threads, to queues and topics made
    /// during the race too: once the close has begun and the appends have
    /// settled, the batches taken hold every record whose append succeeded,
    /// and no append adds one afterwards (the sender stops then, and such a
    /// record would never be sent or failed).
    #[test]
    fn every_append_accepted_before_the_close_settles_is_in_a_batch_then() {
        const THREADS: usize = 4;
        const PARTITIONS: i32 = 64;
        for round in 0..200 {
            let accumulator = plain_accumulator(|settings| {
                settings.batch_size = 64;
                settings.buffer_memory = 1 << 30;
            });
            let partitions = TopicPartitions::all_available(PARTITIONS as usize);
            let started = AtomicUsize::new(0);
            let (accepted, taken) = std::thread::scope(|scope| {
                let appenders: Vec<_> = (0..THREADS)
                    .map(|thread| {
                        let (accumulator, partitions, started) =
                            (&accumulator, &partitions, &started);
                        scope.spawn(move || {
                            let mut accepted = 0usize;
                            for i in 0usize.. {
                                // A new topic now and then, and higher
                                // partitions as it goes: queues made in the race.
                                let name = format!("race-{round}-{thread}-{}", i / 500);
                                let record = ProducerRecord::new(name, Bytes::from_static(b"v"));
                                let lent = record.as_record_ref();
                                let topic = accumulator.topic(&record.topic);
                                let partition = i32::try_from(i % 500).unwrap() % PARTITIONS;
                                let append = AppendRecord {
                                    choice: PartitionChoice::Partition(partition),
                                    ..to_partition_0(&topic, &lent, 1_700_000_000_000, partitions)
                                };
                                started.fetch_add(1, Ordering::Relaxed);
                                match accumulator.try_append_now(&append, &mut ()) {
                                    AppendNow::Done(Ok(_)) => accepted += 1,
                                    AppendNow::Done(Err(KafkaError::ProducerClosed(_))) => {
                                        return accepted;
                                    }
                                    other => panic!("{other:?}"),
                                }
                            }
                            accepted
                        })
                    })
                    .collect();
                while started.load(Ordering::Relaxed) < 200 {
                    std::hint::spin_loop();
                }
                accumulator.close();
                assert!(accumulator.appends_settled());
                // What the sender's last look sees (it stops when this is
                // empty): no batch may join it afterwards.
                let incomplete = accumulator.incomplete().len();
                let accepted: usize = appenders.into_iter().map(|a| a.join().unwrap()).sum();
                assert_eq!(
                    accumulator.incomplete().len(),
                    incomplete,
                    "round {round}: a batch was opened after the close settled"
                );
                let mut taken = 0usize;
                for batch in accumulator.take_all() {
                    taken += batch.record_count() as usize;
                    batch.fail(KafkaError::ProducerClosed("the test ended"));
                }
                (accepted, taken)
            });
            let late = accumulator.take_all();
            assert!(
                late.is_empty(),
                "round {round}: batches appended after the close settled"
            );
            assert_eq!(accepted, taken, "round {round}");
        }
    }

    #[test]
    fn a_batch_stays_incomplete_until_its_callbacks_have_run() {
        // A producer dropped while the last callbacks run must wait for them
        // (it checks for incomplete batches), or the process ends under them.
        let accumulator = accumulator(1 << 20);
        let accounting = accumulator.accounting.clone();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        let callback: Callback = Box::new(move |_| {
            let incomplete = lock(&accounting.incomplete).len();
            lock(&kept).push(incomplete);
        });
        drop(append_now(
            &accumulator,
            &record(0),
            1_700_000_000_000,
            Some(callback),
        ));
        deliver_queued(&accumulator);
        assert_eq!(*lock(&seen), vec![1], "incomplete while the callback ran");
        assert!(!accumulator.has_incomplete());
    }

    #[test]
    fn a_split_batchs_futures_and_callbacks_follow_their_records_into_the_parts() {
        let total = 1 << 20;
        let accumulator = accumulator(total);
        let called = Arc::new(Mutex::new(Vec::new()));
        let mut futures = Vec::new();
        // Records sent with a callback (odd) and without, whose futures tell
        // (even): both halves hold some of each.
        for i in 0..11 {
            let called = called.clone();
            let callback: Callback = Box::new(move |result: Result<SentRecord, SendError>| {
                lock(&called).push((i, result.map(|sent| sent.metadata)))
            });
            let appended = if i % 2 == 0 {
                append_now(&accumulator, &record(i), 1_700_000_000_000, ())
            } else {
                append_now(&accumulator, &record(i), 1_700_000_000_000, Some(callback))
            };
            assert_eq!(appended.is_some(), i % 2 == 0, "a future for record {i}");
            futures.extend(appended.map(|future| (i, future)));
        }
        let mut batches = accumulator.take_all();
        assert_eq!(batches.len(), 1);
        let mut batch = batches.pop().unwrap();
        batch.close().unwrap();
        assert_eq!(accumulator.split_and_reenqueue(batch, None).unwrap(), 2);
        assert!(futures.iter().all(|(_, f)| !f.is_done()));
        let parts = accumulator.take_all();
        let counts: Vec<u32> = parts.iter().map(ProducerBatch::record_count).collect();
        assert_eq!(counts, vec![6, 5], "halves, in record order");
        let mut parts = parts.into_iter();
        parts.next().unwrap().complete(BatchOutcome::Delivered {
            base_offset: 100,
            log_append_time: -1,
        });
        parts
            .next()
            .unwrap()
            .fail(KafkaError::Internal("second half failed".into()));
        assert_eq!(futures.len(), 6);
        for (i, future) in futures {
            let result = future.now_or_never().expect("resolved");
            if i < 6 {
                assert_eq!(result.unwrap().offset, Some(100 + i as i64), "record {i}");
            } else {
                let error = result.unwrap_err();
                assert_eq!(error.record(), Some(&record(i)), "record {i} given back");
            }
        }
        let mut called = lock(&called).clone();
        called.sort_by_key(|(i, _)| *i);
        assert_eq!(called.len(), 5, "every callback ran once");
        for (i, result) in &called {
            assert_eq!(result.is_ok(), *i < 6, "record {i}");
        }
        assert!(!accumulator.has_incomplete());
        assert_eq!(accumulator.pool().available(), total);
    }

    #[test]
    fn a_full_compressed_batch_reserves_its_uncompressed_records_until_compressed() {
        let total = 1 << 20;
        let accumulator = accumulator(total);
        fill_first_batch(&accumulator, |_| None);
        let topic = accumulator.topic(TOPIC);
        let mut q = lock(topic.queue(0));
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
        deliver_queued(&accumulator);
        assert_eq!(accumulator.pool().available(), total);
    }

    #[test]
    fn a_full_compressed_batch_is_compressed_at_once_when_memory_is_short() {
        // Room for two batches' reservations, not for uncompressed records.
        let total = 2 * BATCH_SIZE;
        let accumulator = accumulator(total);
        fill_first_batch(&accumulator, |_| None);
        let topic = accumulator.topic(TOPIC);
        let q = lock(topic.queue(0));
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
        let accumulator = accumulator(1 << 20);
        let results = Arc::new(Mutex::new(Vec::new()));
        let appended = fill_first_batch(&accumulator, |_| {
            let results = results.clone();
            Some(Box::new(move |result: Result<SentRecord, SendError>| {
                lock(&results).push(result.map(|sent| sent.metadata))
            }))
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
    fn callbacks_get_their_records_back_as_sent() {
        let accumulator = accumulator(1 << 20);
        let sent = Arc::new(Mutex::new(Vec::new()));
        let appended = fill_first_batch(&accumulator, |i| -> Option<Callback> {
            let sent = sent.clone();
            Some(Box::new(move |result| lock(&sent).push((i, result))))
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
        assert_eq!(sent.len(), appended);
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
        let named = ProducerRecord::new(TOPIC, "v")
            .with_key("k")
            .with_partition(0)
            .with_timestamp(1_600_000_000_000)
            .with_header("trace", "t-1");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let kept = sent.clone();
        let callback: Callback = Box::new(move |result| lock(&kept).push(result));
        drop(append_now(
            &accumulator,
            &named,
            1_600_000_000_000,
            Some(callback),
        ));
        deliver_queued(&accumulator);
        let sent = lock(&sent);
        assert_eq!(sent[0].as_ref().unwrap().record, named);
    }

    #[test]
    fn backoff_follows_javas_exponential_backoff() {
        let ms = Duration::from_millis;
        for _ in 0..200 {
            // retry.backoff.ms above retry.backoff.max.ms: the maximum, constant.
            assert_eq!(exponential_backoff(ms(2000), ms(1000), 0), ms(1000));
            assert_eq!(exponential_backoff(ms(2000), ms(1000), 7), ms(1000));
            // Defaults: 100 ms +-20%, then never above the 1 s maximum.
            let first = exponential_backoff(ms(100), ms(1000), 0);
            assert!((ms(80)..=ms(120)).contains(&first), "{first:?}");
            assert!(exponential_backoff(ms(100), ms(1000), 10) <= ms(1000));
            assert!(exponential_backoff(ms(100), ms(1000), 10) >= ms(800));
        }
    }
}
