//! A topic's partition queues, indexed by partition number ([`QueueTable`]).
//!
//! Every record looks its partition's queue up here. A topic's partitions
//! are only ever added, so the table only grows, and it is read without a
//! lock: in segments that double in size, each allocated once and never
//! moved, so a queue found stays where it is. (A read-locked vector cost
//! two atomic read-modify-writes per record, each one waiting for the
//! record's copy into its batch to leave the store buffer.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::PartitionQueue;

/// The queues of the first segment; each next segment has twice as many.
const FIRST_SEGMENT: usize = 8;

/// Enough segments for every partition number an `i32` can hold:
/// `FIRST_SEGMENT * (2^29 - 1)` slots exceed `i32::MAX`.
const SEGMENTS: usize = 29;

/// A topic's queues by partition number.
pub(crate) struct QueueTable {
    segments: [OnceLock<Box<[Mutex<PartitionQueue>]>>; SEGMENTS],
    /// One past the highest partition asked for: how far [`Self::iter`] goes.
    len: AtomicUsize,
}

impl Default for QueueTable {
    fn default() -> Self {
        QueueTable {
            segments: [const { OnceLock::new() }; SEGMENTS],
            len: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Debug for QueueTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueTable")
            .field("partitions", &self.len())
            .finish()
    }
}

/// The segment holding slot `index`, and the slot's place in it.
#[inline]
fn locate(index: usize) -> (usize, usize) {
    let bucket = index / FIRST_SEGMENT + 1;
    let segment = (usize::BITS - 1 - bucket.leading_zeros()) as usize;
    (segment, index - FIRST_SEGMENT * ((1 << segment) - 1))
}

impl QueueTable {
    /// The queue of `partition` (of partition 0 for a negative number, which
    /// the producer never appends to), made with every partition below it
    /// when the topic grew.
    #[inline]
    pub fn get(&self, partition: i32) -> &Mutex<PartitionQueue> {
        let index = usize::try_from(partition).unwrap_or(0);
        // SeqCst, as the accumulator's `closed` flag (see its `close`).
        if index >= self.len.load(Ordering::SeqCst) {
            self.len.fetch_max(index + 1, Ordering::SeqCst);
        }
        let (segment, offset) = locate(index);
        let slots = self.segments[segment].get_or_init(|| {
            (0..FIRST_SEGMENT << segment)
                .map(|_| Mutex::default())
                .collect()
        });
        &slots[offset]
    }

    /// How many partitions the table has queues for.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Every queue with its partition number, in partition order.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Mutex<PartitionQueue>)> {
        (0..self.len())
            .map_while(|index| i32::try_from(index).ok())
            .map(|partition| (partition, self.get(partition)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_number_has_one_slot() {
        let mut expected_segment = 0;
        let mut expected_offset = 0;
        for index in 0..10_000 {
            let (segment, offset) = locate(index);
            assert_eq!((segment, offset), (expected_segment, expected_offset));
            expected_offset += 1;
            if expected_offset == FIRST_SEGMENT << expected_segment {
                expected_segment += 1;
                expected_offset = 0;
            }
        }
        let (segment, offset) = locate(i32::MAX as usize);
        assert!(segment < SEGMENTS);
        assert!(offset < FIRST_SEGMENT << segment);
    }

    #[test]
    fn a_queue_stays_the_same_as_the_table_grows() {
        let table = QueueTable::default();
        assert_eq!(table.len(), 0);
        let first = table.get(2) as *const _;
        assert_eq!(table.len(), 3);
        table.get(40);
        assert_eq!(table.len(), 41);
        assert!(std::ptr::eq(table.get(2), first));
        // A lower partition does not shrink it.
        table.get(1);
        assert_eq!(table.len(), 41);
        let partitions: Vec<i32> = table.iter().map(|(p, _)| p).collect();
        assert_eq!(partitions, (0..41).collect::<Vec<_>>());
        assert!(std::ptr::eq(table.get(-1), table.get(0)));
    }
}
