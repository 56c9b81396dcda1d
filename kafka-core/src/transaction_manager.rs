//! Idempotent producer state (Java's `TransactionManager`, idempotence part):
//! the producer id and epoch from InitProducerId, and per partition the next
//! sequence to assign, the last acknowledged sequence and the sequences in flight.
//!
//! Sequences are assigned when a batch is drained, so a batch keeps its sequence
//! across retries and the broker deduplicates a resend of a batch it already
//! wrote. When the sequence of a partition can no longer be trusted (a batch with
//! a sequence failed for good, `OUT_OF_ORDER_SEQUENCE_NUMBER`,
//! `UNKNOWN_PRODUCER_ID`), the producer bumps its epoch (KIP-360) once nothing is
//! in flight, and every partition starts again at sequence 0.
//!
//! Owned by the sender task alone, so it needs no locks. Transactions
//! (`transactional.id`) will extend this state machine.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// No producer id yet.
pub(crate) const NO_PRODUCER_ID: i64 = -1;

#[derive(Debug, Default)]
struct PartitionSequences {
    next: i32,
    last_acked: Option<i32>,
    in_flight: BTreeSet<i32>,
}

/// What to do about the producer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PidState {
    /// No id yet: InitProducerId must run before anything is drained.
    Uninitialized,
    /// Draining may proceed with this id and epoch.
    Ready,
    /// The epoch must be bumped once nothing is in flight.
    BumpNeeded,
}

#[derive(Debug)]
pub(crate) struct TransactionManager {
    producer_id: i64,
    epoch: i16,
    state: PidState,
    partitions: HashMap<(Arc<str>, i32), PartitionSequences>,
}

impl TransactionManager {
    pub fn new() -> Self {
        TransactionManager {
            producer_id: NO_PRODUCER_ID,
            epoch: -1,
            state: PidState::Uninitialized,
            partitions: HashMap::new(),
        }
    }

    pub fn state(&self) -> PidState {
        self.state
    }

    pub fn producer_id_and_epoch(&self) -> (i64, i16) {
        (self.producer_id, self.epoch)
    }

    /// A new id or epoch from InitProducerId: every partition restarts at 0.
    pub fn set_producer_id(&mut self, producer_id: i64, epoch: i16) {
        self.producer_id = producer_id;
        self.epoch = epoch;
        self.state = PidState::Ready;
        self.partitions.clear();
    }

    pub fn request_epoch_bump(&mut self, why: &str) {
        if self.state == PidState::Ready {
            tracing::info!(
                producer_id = self.producer_id,
                epoch = self.epoch,
                reason = why,
                "bumping the producer epoch"
            );
            self.state = PidState::BumpNeeded;
        }
    }

    /// Whether a batch stamped with this id and epoch belongs to the current one.
    pub fn is_current(&self, producer_id: i64, epoch: i16) -> bool {
        producer_id == self.producer_id && epoch == self.epoch
    }

    fn partition(&mut self, topic: &Arc<str>, partition: i32) -> &mut PartitionSequences {
        self.partitions
            .entry((topic.clone(), partition))
            .or_default()
    }

    /// Assigns the base sequence for a batch of `records` records (wrapping at
    /// `i32::MAX` as the protocol does).
    pub fn assign_sequence(&mut self, topic: &Arc<str>, partition: i32, records: u32) -> i32 {
        let seq = self.partition(topic, partition);
        let base = seq.next;
        seq.next = increment_sequence(base, records);
        seq.in_flight.insert(base);
        base
    }

    /// A retried batch may go only when it is the oldest in flight of its
    /// partition, so retries go out in their original order.
    pub fn may_send_retry(&self, topic: &Arc<str>, partition: i32, base_sequence: i32) -> bool {
        self.partitions
            .get(&(topic.clone(), partition))
            .and_then(|s| s.in_flight.first().copied())
            .is_none_or(|first| first == base_sequence)
    }

    /// Whether a batch without a sequence may be drained for the partition now.
    ///
    /// Until the broker has acknowledged a first batch of this epoch on the
    /// partition it holds no state for us there and accepts *any* first sequence;
    /// if the first batch failed (say `NOT_LEADER_OR_FOLLOWER` on a new topic)
    /// while a later one was in flight, the later one would be written first and
    /// the retried first batch would be out of order for ever. So one batch at a
    /// time until the first acknowledgement; after it the broker enforces order.
    pub fn may_send_new(&self, topic: &Arc<str>, partition: i32) -> bool {
        self.partitions
            .get(&(topic.clone(), partition))
            .is_none_or(|s| s.last_acked.is_some() || s.in_flight.is_empty())
    }

    /// The broker acknowledged the batch.
    pub fn acked(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32, records: u32) {
        let seq = self.partition(topic, partition);
        seq.in_flight.remove(&base_sequence);
        let last = increment_sequence(base_sequence, records.saturating_sub(1));
        seq.last_acked = Some(match seq.last_acked {
            Some(prev) if prev > last && prev - last < i32::MAX / 2 => prev,
            _ => last,
        });
    }

    /// A batch in flight was split (the broker found it too large): its parts,
    /// with these base sequences, take its place in flight.
    pub fn split(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32, parts: &[i32]) {
        let seq = self.partition(topic, partition);
        seq.in_flight.remove(&base_sequence);
        seq.in_flight.extend(parts.iter().copied());
    }

    /// The batch left the in-flight set without an acknowledgement.
    pub fn forget(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32) {
        self.partition(topic, partition)
            .in_flight
            .remove(&base_sequence);
    }

    /// Whether `OUT_OF_ORDER_SEQUENCE_NUMBER` for this batch only means an older
    /// batch of the partition failed first (then it is retried, not fatal).
    pub fn is_out_of_order_because_of_earlier_failure(
        &self,
        topic: &Arc<str>,
        partition: i32,
        base_sequence: i32,
    ) -> bool {
        match self.partitions.get(&(topic.clone(), partition)) {
            Some(s) => match s.last_acked {
                Some(last) => base_sequence != increment_sequence(last, 1),
                None => base_sequence != 0,
            },
            None => false,
        }
    }
}

/// `sequence + increment`, wrapping to 0 past `i32::MAX` (Java's
/// `DefaultRecordBatch.incrementSequence`).
pub(crate) fn increment_sequence(sequence: i32, increment: u32) -> i32 {
    let next = i64::from(sequence) + i64::from(increment);
    if next > i64::from(i32::MAX) {
        (next - i64::from(i32::MAX) - 1) as i32
    } else {
        next as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> Arc<str> {
        Arc::from("t")
    }

    #[test]
    fn sequences_advance_by_record_count_and_wrap() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, 0);
        assert_eq!(tm.assign_sequence(&topic(), 0, 10), 0);
        assert_eq!(tm.assign_sequence(&topic(), 0, 5), 10);
        assert_eq!(tm.assign_sequence(&topic(), 1, 5), 0);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    }

    #[test]
    fn retries_go_out_oldest_first() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, 0);
        let a = tm.assign_sequence(&topic(), 0, 10);
        let b = tm.assign_sequence(&topic(), 0, 10);
        assert!(tm.may_send_retry(&topic(), 0, a));
        assert!(!tm.may_send_retry(&topic(), 0, b));
        tm.acked(&topic(), 0, a, 10);
        assert!(tm.may_send_retry(&topic(), 0, b));
        // b failed with OUT_OF_ORDER while a was acked: b is next, so it is real.
        assert!(!tm.is_out_of_order_because_of_earlier_failure(&topic(), 0, b));
        let c = tm.assign_sequence(&topic(), 0, 1);
        assert!(tm.is_out_of_order_because_of_earlier_failure(&topic(), 0, c));
    }

    #[test]
    fn one_batch_at_a_time_until_the_partition_has_a_first_acknowledgement() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, 0);
        assert!(tm.may_send_new(&topic(), 0));
        let first = tm.assign_sequence(&topic(), 0, 10);
        assert!(
            !tm.may_send_new(&topic(), 0),
            "the first batch is unacknowledged"
        );
        assert!(
            tm.may_send_new(&topic(), 1),
            "other partitions are not held back"
        );
        tm.acked(&topic(), 0, first, 10);
        tm.assign_sequence(&topic(), 0, 10);
        assert!(
            tm.may_send_new(&topic(), 0),
            "pipelining once the broker has state"
        );
    }

    #[test]
    fn a_new_epoch_restarts_every_partition() {
        let mut tm = TransactionManager::new();
        assert_eq!(tm.state(), PidState::Uninitialized);
        tm.set_producer_id(7, 0);
        tm.assign_sequence(&topic(), 0, 10);
        tm.request_epoch_bump("test");
        assert_eq!(tm.state(), PidState::BumpNeeded);
        tm.set_producer_id(7, 1);
        assert_eq!(tm.assign_sequence(&topic(), 0, 1), 0);
        assert!(tm.is_current(7, 1));
        assert!(!tm.is_current(7, 0));
    }
}
