//! [`BuiltInPartitioner`]: Java 4.x's uniform sticky partitioner (KIP-794) for
//! records without a partition or (used) key, one per topic.
//!
//! It sticks to one partition until about `batch.size` bytes were produced to it,
//! then switches to another partition, chosen uniformly among the partitions with a
//! leader, or, with adaptive partitioning, weighted towards partitions whose
//! queues are shorter (so faster brokers get more data). With
//! `partitioner.availability.timeout.ms`, partitions whose leader has not been
//! drained for longer than that are left out of the weighted choice.
//!
//! The accumulator drives it, as Java's `RecordAccumulator` does:
//!
//! 1. [`peek_current_partition`](BuiltInPartitioner::peek_current_partition) to
//!    learn which partition's queue to lock;
//! 2. lock that queue;
//! 3. [`is_partition_changed`](BuiltInPartitioner::is_partition_changed) under the
//!    lock: if another thread switched meanwhile, unlock and start over;
//! 4. append the record;
//! 5. [`update_partition_info`](BuiltInPartitioner::update_partition_info), still
//!    under the lock, with the appended bytes; `enable_switch` is true only when the
//!    append started a new batch, so switches line up with batch boundaries.
//!
//! Steps 3-5 under the queue lock make the update race-free; the hot path (steps 1,
//! 3 and 5 without a switch) is a few atomic operations.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::TopicPartitions;
use crate::config::ProducerConfig;

/// The settings of the built-in partitioner, from the producer config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltInPartitionerOptions {
    /// Bytes to produce to a partition before switching (`batch.size`, at least 1).
    pub sticky_batch_size: usize,
    /// `partitioner.adaptive.partitioning.enable`.
    pub adaptive: bool,
    /// `partitioner.availability.timeout.ms` (zero: disabled).
    pub availability_timeout: Duration,
}

impl BuiltInPartitionerOptions {
    /// The options `config` asks for.
    pub fn from_config(config: &ProducerConfig) -> Self {
        BuiltInPartitionerOptions {
            // Java: `Math.max(1, batch.size)`; `batch.size=0` still switches.
            sticky_batch_size: config.batch_size().max(1),
            adaptive: config.partitioner_adaptive_partitioning(),
            availability_timeout: config.partitioner_availability_timeout(),
        }
    }
}

/// The current sticky partition as seen by one [`peek`]; hand it back to
/// [`is_partition_changed`] and [`update_partition_info`].
///
/// [`peek`]: BuiltInPartitioner::peek_current_partition
/// [`is_partition_changed`]: BuiltInPartitioner::is_partition_changed
/// [`update_partition_info`]: BuiltInPartitioner::update_partition_info
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StickyPartition {
    /// `epoch << 32 | partition`; epochs start at 1 so that 0 means "none yet".
    state: u64,
}

impl StickyPartition {
    fn new(epoch: u32, partition: i32) -> Self {
        StickyPartition {
            state: (u64::from(epoch) << 32) | u64::from(partition as u32),
        }
    }

    /// The partition to append to.
    pub fn partition(self) -> i32 {
        self.state as u32 as i32
    }

    fn epoch(self) -> u32 {
        (self.state >> 32) as u32
    }
}

/// One partition's queue as the accumulator saw it during its ready check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionLoad {
    /// The partition (one with a known leader).
    pub partition: i32,
    /// Batches queued for it.
    pub queue_size: usize,
    /// How long its leader has had data ready without being drained (Java's
    /// `readyTimeMs - drainTimeMs` of the leader node; zero when unknown).
    pub leader_stalled_for: Duration,
}

/// Cumulative frequency table for the weighted choice (Java's `PartitionLoadStats`).
#[derive(Debug)]
struct LoadStats {
    /// Running sums of `max_queue + 1 - queue`; strictly increasing.
    cumulative: Vec<u64>,
    partition_ids: Vec<i32>,
}

/// Java 4.x's built-in (uniform sticky, adaptive) partitioner for one topic.
///
/// ```
/// use kafka_core::partitioner::{BuiltInPartitioner, BuiltInPartitionerOptions, TopicPartitions};
/// use std::time::Duration;
///
/// let options = BuiltInPartitionerOptions {
///     sticky_batch_size: 100,
///     adaptive: true,
///     availability_timeout: Duration::ZERO,
/// };
/// let partitioner = BuiltInPartitioner::new("orders", options);
/// let topic = TopicPartitions::all_available(4);
///
/// let sticky = partitioner.peek_current_partition(&topic).unwrap();
/// // 60 bytes: not enough to switch.
/// partitioner.update_partition_info(sticky, 60, true, &topic);
/// assert!(!partitioner.is_partition_changed(sticky));
/// // 120 bytes in total, and the append started a new batch: switch.
/// partitioner.update_partition_info(sticky, 60, true, &topic);
/// assert!(partitioner.is_partition_changed(sticky));
/// ```
#[derive(Debug)]
pub struct BuiltInPartitioner {
    topic: String,
    options: BuiltInPartitionerOptions,
    /// The current [`StickyPartition`] state, 0 before the first peek.
    current: AtomicU64,
    /// Bytes appended to the current sticky partition.
    produced_bytes: AtomicUsize,
    /// Set by the accumulator's ready check; read only when switching.
    load_stats: RwLock<Option<Arc<LoadStats>>>,
}

impl BuiltInPartitioner {
    /// A partitioner for `topic`.
    pub fn new(topic: impl Into<String>, options: BuiltInPartitionerOptions) -> Self {
        BuiltInPartitioner {
            topic: topic.into(),
            options: BuiltInPartitionerOptions {
                sticky_batch_size: options.sticky_batch_size.max(1),
                ..options
            },
            current: AtomicU64::new(0),
            produced_bytes: AtomicUsize::new(0),
            load_stats: RwLock::new(None),
        }
    }

    /// The topic this partitioner serves.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The options in effect.
    pub fn options(&self) -> BuiltInPartitionerOptions {
        self.options
    }

    /// The current sticky partition, choosing one if there is none yet. `None` when
    /// the topic has no partitions.
    pub fn peek_current_partition(&self, topic: &TopicPartitions) -> Option<StickyPartition> {
        let state = self.current.load(Ordering::Acquire);
        if state != 0 {
            return Some(StickyPartition { state });
        }
        let first = StickyPartition::new(1, self.next_partition(topic)?);
        match self
            .current
            .compare_exchange(0, first.state, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Some(first),
            // Another thread chose first.
            Err(state) => Some(StickyPartition { state }),
        }
    }

    /// Whether another thread switched partitions since `sticky` was peeked. Call
    /// it holding the queue lock of `sticky.partition()`.
    pub fn is_partition_changed(&self, sticky: StickyPartition) -> bool {
        self.current.load(Ordering::Acquire) != sticky.state
    }

    /// Counts `appended_bytes` towards the sticky partition and switches to the next
    /// one once `sticky_batch_size` bytes were produced and `enable_switch` is set
    /// (the append started a new batch), or unconditionally once twice that much was
    /// produced. Call it holding the queue lock of `sticky.partition()`; a stale
    /// `sticky` is ignored.
    pub fn update_partition_info(
        &self,
        sticky: StickyPartition,
        appended_bytes: usize,
        enable_switch: bool,
        topic: &TopicPartitions,
    ) {
        if self.is_partition_changed(sticky) {
            return;
        }
        let produced = self
            .produced_bytes
            .fetch_add(appended_bytes, Ordering::AcqRel)
            .saturating_add(appended_bytes);
        let batch = self.options.sticky_batch_size;
        // Switching only at batch boundaries avoids fractional batches with a high
        // linger.ms; the 2x cap bounds how long a partition can be kept when batches
        // stay open (Java's reasoning in `updatePartitionInfo`).
        if (produced >= batch && enable_switch) || produced >= batch.saturating_mul(2) {
            let Some(partition) = self.next_partition(topic) else {
                return;
            };
            let epoch = sticky.epoch().wrapping_add(1).max(1);
            // Reset before publishing: nobody appends to the next partition before it is
            // published, and every holder of the old state is behind our queue lock.
            self.produced_bytes.store(0, Ordering::Release);
            let next = StickyPartition::new(epoch, partition);
            let _ = self.current.compare_exchange(
                sticky.state,
                next.state,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            tracing::trace!(topic = %self.topic, partition, produced, "switching sticky partition");
        }
    }

    /// Java's `updatePartitionLoadStats`, called from the accumulator's ready check
    /// with the queue of every partition that has a known leader.
    /// `partition_queue_count` is the number of partition queues the accumulator holds
    /// for the topic, leaderless ones included.
    ///
    /// Partitions whose leader stalled longer than the availability timeout (when it
    /// is not zero) are left out. Weighting is dropped (uniform choice) when adaptive
    /// partitioning is off, when fewer than 2 queues exist, when no partition is left,
    /// or when all queues are equally long and none was left out.
    ///
    /// The accumulator should call [`clear_partition_load_stats`] instead while it
    /// does not hold a queue for every partition of the topic: a partition without a
    /// queue would never be chosen.
    ///
    /// [`clear_partition_load_stats`]: Self::clear_partition_load_stats
    pub fn update_partition_load_stats(
        &self,
        loads: &[PartitionLoad],
        partition_queue_count: usize,
    ) {
        let stats = if self.options.adaptive {
            self.load_stats_for(loads, partition_queue_count)
        } else {
            None
        };
        self.store_load_stats(stats);
    }

    /// The partitions the load statistics weigh, if there are any.
    #[cfg(test)]
    pub(crate) fn weighted_partitions(&self) -> Option<Vec<i32>> {
        let stats = self.load_stats.read().unwrap_or_else(|e| e.into_inner());
        stats.as_ref().map(|s| s.partition_ids.clone())
    }

    /// Drops the load statistics: the next switch picks uniformly.
    pub fn clear_partition_load_stats(&self) {
        self.store_load_stats(None);
    }

    fn store_load_stats(&self, stats: Option<LoadStats>) {
        let mut slot = self.load_stats.write().unwrap_or_else(|e| e.into_inner());
        *slot = stats.map(Arc::new);
    }

    fn load_stats_for(
        &self,
        loads: &[PartitionLoad],
        partition_queue_count: usize,
    ) -> Option<LoadStats> {
        let timeout = self.options.availability_timeout;
        let available: Vec<&PartitionLoad> = loads
            .iter()
            .filter(|load| timeout.is_zero() || load.leader_stalled_for <= timeout)
            .collect();
        if available.is_empty() || partition_queue_count < 2 {
            return None;
        }
        let max = available.iter().map(|l| l.queue_size).max().unwrap_or(0);
        let all_equal = available.iter().all(|l| l.queue_size == max);
        if all_equal && available.len() == partition_queue_count {
            return None;
        }
        let max_plus_one = (max as u64).saturating_add(1);
        let mut running = 0u64;
        let cumulative = available
            .iter()
            .map(|l| {
                running = running.saturating_add(max_plus_one - l.queue_size as u64);
                running
            })
            .collect();
        tracing::trace!(topic = %self.topic, ?cumulative, "partition load stats");
        Some(LoadStats {
            cumulative,
            partition_ids: available.iter().map(|l| l.partition).collect(),
        })
    }

    /// The partition to switch to (Java's `nextPartition`).
    fn next_partition(&self, topic: &TopicPartitions) -> Option<i32> {
        let random = u64::from(fastrand::u32(..) & 0x7fff_ffff);
        let stats = self
            .load_stats
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(stats) = stats
            && let Some(partition) = weighted_choice(&stats, random)
            && topic.contains(partition)
        {
            return Some(partition);
        }
        let available = topic.available_partitions();
        if available.is_empty() {
            // No leader known anywhere: pick among all partitions, as Java does.
            let count = u64::try_from(topic.partition_count())
                .ok()
                .filter(|c| *c > 0)?;
            i32::try_from(random % count).ok()
        } else {
            let index = usize::try_from(random % available.len() as u64).ok()?;
            available.get(index).copied()
        }
    }
}

/// The partition whose cumulative frequency range holds `random`: the first entry
/// strictly greater than `random % total`.
fn weighted_choice(stats: &LoadStats, random: u64) -> Option<i32> {
    let total = *stats.cumulative.last()?;
    if total == 0 {
        return None;
    }
    let point = random % total;
    let index = stats.cumulative.partition_point(|&c| c <= point);
    stats.partition_ids.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(sticky_batch_size: usize, adaptive: bool) -> BuiltInPartitionerOptions {
        BuiltInPartitionerOptions {
            sticky_batch_size,
            adaptive,
            availability_timeout: Duration::ZERO,
        }
    }

    fn load(partition: i32, queue_size: usize) -> PartitionLoad {
        PartitionLoad {
            partition,
            queue_size,
            leader_stalled_for: Duration::ZERO,
        }
    }

    /// Appends `bytes` per record until the partitioner switches; returns the
    /// partition it stuck to and how many bytes went there.
    fn fill_until_switch(
        p: &BuiltInPartitioner,
        topic: &TopicPartitions,
        bytes: usize,
    ) -> (i32, usize) {
        let sticky = p.peek_current_partition(topic).unwrap();
        let mut sent = 0;
        while !p.is_partition_changed(sticky) {
            p.update_partition_info(sticky, bytes, true, topic);
            sent += bytes;
        }
        (sticky.partition(), sent)
    }

    #[test]
    fn sticks_until_batch_size_bytes_then_switches() {
        let p = BuiltInPartitioner::new("t", options(1000, false));
        let topic = TopicPartitions::all_available(8);
        for _ in 0..50 {
            let (partition, sent) = fill_until_switch(&p, &topic, 100);
            assert!((0..8).contains(&partition));
            assert_eq!(sent, 1000);
        }
    }

    #[test]
    fn switch_waits_for_a_new_batch_but_not_beyond_twice_the_batch_size() {
        let p = BuiltInPartitioner::new("t", options(1000, false));
        let topic = TopicPartitions::all_available(4);
        let sticky = p.peek_current_partition(&topic).unwrap();
        // 1500 bytes into a batch that is still open: no switch yet.
        p.update_partition_info(sticky, 1500, false, &topic);
        assert!(!p.is_partition_changed(sticky));
        // A record that starts a new batch allows the switch.
        p.update_partition_info(sticky, 10, true, &topic);
        assert!(p.is_partition_changed(sticky));

        let sticky = p.peek_current_partition(&topic).unwrap();
        p.update_partition_info(sticky, 1999, false, &topic);
        assert!(!p.is_partition_changed(sticky));
        // Twice the batch size switches even inside a batch.
        p.update_partition_info(sticky, 1, false, &topic);
        assert!(p.is_partition_changed(sticky));
    }

    #[test]
    fn stale_updates_are_ignored() {
        let p = BuiltInPartitioner::new("t", options(100, false));
        let topic = TopicPartitions::all_available(4);
        let old = p.peek_current_partition(&topic).unwrap();
        p.update_partition_info(old, 100, true, &topic);
        let new = p.peek_current_partition(&topic).unwrap();
        assert_ne!(old, new);
        p.update_partition_info(old, 1_000_000, true, &topic);
        assert!(!p.is_partition_changed(new));
        assert_eq!(p.produced_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn spreads_batches_uniformly_over_available_partitions() {
        let p = BuiltInPartitioner::new("t", options(100, false));
        // Partition 2 has no leader: it must never be chosen.
        let topic = TopicPartitions::new(5, [0, 1, 3, 4]);
        let mut counts = [0u32; 5];
        for _ in 0..8000 {
            let (partition, _) = fill_until_switch(&p, &topic, 100);
            counts[usize::try_from(partition).unwrap()] += 1;
        }
        assert_eq!(counts[2], 0, "{counts:?}");
        for (partition, count) in counts.iter().enumerate().filter(|(p, _)| *p != 2) {
            // 2000 expected per partition; the standard deviation is about 39.
            assert!(
                (1700..2300).contains(count),
                "partition {partition}: {counts:?}"
            );
        }
    }

    #[test]
    fn without_any_leader_all_partitions_are_candidates() {
        let p = BuiltInPartitioner::new("t", options(1, false));
        let topic = TopicPartitions::new(3, []);
        let mut seen = [false; 3];
        for _ in 0..300 {
            let (partition, _) = fill_until_switch(&p, &topic, 1);
            seen[usize::try_from(partition).unwrap()] = true;
        }
        assert_eq!(seen, [true; 3]);
        let empty = TopicPartitions::new(0, []);
        assert_eq!(
            BuiltInPartitioner::new("u", options(1, false)).peek_current_partition(&empty),
            None
        );
    }

    #[test]
    fn adaptive_weighting_prefers_shorter_queues() {
        let p = BuiltInPartitioner::new("t", options(100, true));
        let topic = TopicPartitions::all_available(3);
        // Queue sizes 0, 3, 1 give weights 4, 1, 3 (Java's example: CFT 4 5 8).
        p.update_partition_load_stats(&[load(0, 0), load(1, 3), load(2, 1)], 3);
        let stats = p.load_stats.read().unwrap().clone().unwrap();
        assert_eq!(stats.cumulative, [4, 5, 8]);
        assert_eq!(
            (0..8)
                .map(|r| weighted_choice(&stats, r).unwrap())
                .collect::<Vec<_>>(),
            [0, 0, 0, 0, 1, 2, 2, 2]
        );

        let mut counts = [0u32; 3];
        for _ in 0..8000 {
            let (partition, _) = fill_until_switch(&p, &topic, 100);
            counts[usize::try_from(partition).unwrap()] += 1;
        }
        // Expected 4000 / 1000 / 3000.
        assert!((3700..4300).contains(&counts[0]), "{counts:?}");
        assert!((800..1200).contains(&counts[1]), "{counts:?}");
        assert!((2700..3300).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn load_stats_follow_javas_rules_for_when_to_weight() {
        let p = BuiltInPartitioner::new("t", options(100, true));
        let has_stats = || p.load_stats.read().unwrap().is_some();

        // Equal queues and nothing excluded: uniform.
        p.update_partition_load_stats(&[load(0, 2), load(1, 2)], 2);
        assert!(!has_stats());
        // Equal queues but partition 2 has no leader: weighted among the rest.
        p.update_partition_load_stats(&[load(0, 2), load(1, 2)], 3);
        assert!(has_stats());
        // A single queue: uniform.
        p.update_partition_load_stats(&[load(0, 5)], 1);
        assert!(!has_stats());
        // No partition with a leader: uniform.
        p.update_partition_load_stats(&[], 3);
        assert!(!has_stats());
        p.update_partition_load_stats(&[load(0, 1), load(1, 2)], 2);
        assert!(has_stats());
        p.clear_partition_load_stats();
        assert!(!has_stats());

        // Adaptive partitioning off: never weighted.
        let uniform = BuiltInPartitioner::new("t", options(100, false));
        uniform.update_partition_load_stats(&[load(0, 0), load(1, 9)], 2);
        assert!(uniform.load_stats.read().unwrap().is_none());
    }

    #[test]
    fn availability_timeout_excludes_stalled_leaders() {
        let mut opts = options(100, true);
        opts.availability_timeout = Duration::from_millis(500);
        let p = BuiltInPartitioner::new("t", opts);
        let topic = TopicPartitions::all_available(3);
        let stalled = PartitionLoad {
            leader_stalled_for: Duration::from_millis(501),
            ..load(1, 0)
        };
        let slow_but_ok = PartitionLoad {
            leader_stalled_for: Duration::from_millis(500),
            ..load(2, 0)
        };
        p.update_partition_load_stats(&[load(0, 0), stalled, slow_but_ok], 3);
        for _ in 0..500 {
            let (partition, _) = fill_until_switch(&p, &topic, 100);
            assert_ne!(partition, 1);
        }

        // Without the timeout the stalled leader stays a candidate.
        let p = BuiltInPartitioner::new("t", options(100, true));
        p.update_partition_load_stats(&[load(0, 0), stalled, slow_but_ok], 3);
        assert!(p.load_stats.read().unwrap().is_none());
    }

    #[test]
    fn concurrent_appends_count_every_byte_once() {
        // Threads follow the accumulator's protocol with a lock per partition queue.
        let p = Arc::new(BuiltInPartitioner::new("t", options(1000, false)));
        let topic = TopicPartitions::all_available(4);
        let queues: Arc<Vec<std::sync::Mutex<usize>>> =
            Arc::new((0..4).map(|_| std::sync::Mutex::new(0)).collect());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (p, topic, queues) = (Arc::clone(&p), topic.clone(), Arc::clone(&queues));
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        loop {
                            let sticky = p.peek_current_partition(&topic).unwrap();
                            let index = usize::try_from(sticky.partition()).unwrap();
                            let mut queue = queues[index].lock().unwrap();
                            if p.is_partition_changed(sticky) {
                                continue;
                            }
                            *queue += 10;
                            p.update_partition_info(sticky, 10, true, &topic);
                            break;
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let total: usize = queues.iter().map(|q| *q.lock().unwrap()).sum();
        assert_eq!(total, 4 * 10_000 * 10);
        // Every switch happened after exactly 1000 bytes, so the bytes since the last
        // switch are what is left over.
        assert_eq!(p.produced_bytes.load(Ordering::Relaxed), total % 1000);
    }
}
