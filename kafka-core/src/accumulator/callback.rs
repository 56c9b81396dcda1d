//! The application's per-record callbacks, kept by their batch until the
//! records' outcomes are known ([`Callbacks`]).
//!
//! A batch keeps its callbacks by closure type, in runs: consecutive records
//! sent with callbacks of one type (one call site, as a loop sending with a
//! callback has) go into one vector of those closures, unboxed. Boxing each
//! callback instead would allocate on the caller's thread and free on the
//! sender's, for every record: glibc malloc's slow path (the freeing thread's
//! cache fills and the allocating thread's runs dry), about a tenth of a small
//! record's CPU time.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::SendError;
use crate::record::{RecordPosition, SentRecord};

/// What a callback is called with.
pub(crate) type Outcome = Result<SentRecord, SendError>;

/// The most room a run has, in bytes: room for a 64 KiB batch of 100-byte
/// records with small callbacks. A batch opened by a slow producer may never
/// fill, and memory beside its buffer is not counted in `buffer.memory`.
/// Past it, a full run is followed by another of the same type (never grown:
/// growing copies every callback kept so far).
const MAX_RUN_BYTES: usize = 40 * 1024;

/// A send's callback before its record is appended: moved into the batch
/// that takes the record, or run at once with a send's refusal.
pub(crate) trait PendingCallback: Send {
    /// Runs the callback, if not moved already, with the refusal of its
    /// record (Java's `doSend` calls back with the exception it returns).
    fn refuse(&mut self, refusal: &SendError);

    /// Moves the callback, if not moved already, into `callbacks` for the
    /// record at `position`.
    fn append_to(&mut self, callbacks: &mut Callbacks, position: &RecordPosition);

    /// Whether the send waits on the record's [`DeliveryFuture`](super::DeliveryFuture).
    /// A send with a callback learns the outcome there: a future it would
    /// drop costs a share of the batch's completion, an atomic increment and
    /// decrement of a count the sender's thread writes too, per record.
    fn wants_future(&self) -> bool;
}

/// A send without a callback: its future tells the outcome.
impl PendingCallback for () {
    fn refuse(&mut self, _: &SendError) {}

    fn append_to(&mut self, _: &mut Callbacks, _: &RecordPosition) {}

    fn wants_future(&self) -> bool {
        true
    }
}

impl<F> PendingCallback for Option<F>
where
    F: FnOnce(Outcome) + Send + 'static,
{
    fn refuse(&mut self, refusal: &SendError) {
        // On the sending thread, inside the send call: a panic goes to
        // the caller, as Java's callback's exception leaves `send`.
        if let Some(callback) = self.take() {
            callback(Err(refusal.clone()));
        }
    }

    fn append_to(&mut self, callbacks: &mut Callbacks, position: &RecordPosition) {
        if let Some(callback) = self.take() {
            callbacks.push(*position, callback);
        }
    }

    fn wants_future(&self) -> bool {
        false
    }
}

/// A callback lent to an append that may fail: the lender runs it with the
/// refusal if the append did not take it.
impl<C: PendingCallback + ?Sized> PendingCallback for &mut C {
    fn refuse(&mut self, refusal: &SendError) {
        (**self).refuse(refusal);
    }

    fn append_to(&mut self, callbacks: &mut Callbacks, position: &RecordPosition) {
        (**self).append_to(callbacks, position);
    }

    fn wants_future(&self) -> bool {
        (**self).wants_future()
    }
}

/// A batch's callbacks with their records' positions, in the records' order.
#[derive(Default)]
pub(crate) struct Callbacks {
    runs: Vec<Box<dyn CallbackRun>>,
    /// How many records the batch is expected to hold: a run is made with
    /// room for the rest of them, not grown (copied) record by record.
    expected_records: usize,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("runs", &self.runs.len())
            .field("callbacks", &self.len())
            .finish()
    }
}

impl Callbacks {
    /// Sets how many records the batch is expected to hold.
    pub(crate) fn expect_records(&mut self, records: usize) {
        self.expected_records = records;
    }

    /// Keeps `callback` for the record at `position` (appended after every
    /// record kept so far).
    #[inline(always)]
    pub(crate) fn push<F>(&mut self, position: RecordPosition, callback: F)
    where
        F: FnOnce(Outcome) + Send + 'static,
    {
        // Inlined (the rare new run apart): the position and the callback
        // are copied once, into the run, rather than first into this call's
        // arguments, and only the common case's code sits on the send path.
        if let Some(run) = self
            .runs
            .last_mut()
            .and_then(|run| run.as_any_mut().downcast_mut::<Run<F>>())
            && run.0.len() < run.0.capacity()
        {
            run.0.push((position, callback));
            return;
        }
        self.push_to_new_run(position, callback);
    }

    /// [`push`](Self::push) when the last run is full or of another type.
    #[inline(never)]
    fn push_to_new_run<F>(&mut self, position: RecordPosition, callback: F)
    where
        F: FnOnce(Outcome) + Send + 'static,
    {
        // When the last run is of this type and full, the room of the next
        // one.
        let full_room = self
            .runs
            .last_mut()
            .and_then(|run| run.as_any_mut().downcast_mut::<Run<F>>())
            .map_or(0, |run| run.0.capacity());
        let most = (MAX_RUN_BYTES / size_of::<(RecordPosition, F)>().max(1)).max(1);
        // Room for the rest of the expected records; after a full run, at
        // least twice its room (the batch holds more than expected).
        let room = self
            .expected_records
            .saturating_sub(position.relative_offset as usize)
            .max(full_room.saturating_mul(2))
            .clamp(1, most);
        let mut entries = Vec::with_capacity(room);
        entries.push((position, callback));
        self.runs.push(Box::new(Run(entries)));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// How many callbacks are kept.
    pub(crate) fn len(&self) -> usize {
        self.runs.iter().map(|run| run.len()).sum()
    }

    /// Runs every callback, in the records' order, with the outcome
    /// `outcome_of` gives its record's position. A callback that panics does
    /// not keep the others from running; returns how many panicked.
    pub(crate) fn run_all(self, outcome_of: &mut dyn FnMut(&RecordPosition) -> Outcome) -> usize {
        self.runs
            .into_iter()
            .map(|run| run.run_all(outcome_of))
            .sum()
    }

    /// Takes the callbacks of the records before relative offset `end`, their
    /// offsets made relative to `first` (a split batch's part that starts at
    /// `first`); keeps the rest.
    pub(crate) fn take_before(&mut self, end: u32, first: u32) -> Callbacks {
        let mut taken = Callbacks::default();
        for run in &mut self.runs {
            if let Some(part) = run.take_before(end, first) {
                taken.runs.push(part);
            }
        }
        self.runs.retain(|run| run.len() > 0);
        taken
    }
}

/// Consecutive callbacks of one closure type, unboxed.
struct Run<F>(Vec<(RecordPosition, F)>);

/// What a batch does with a run without knowing its closure type.
trait CallbackRun: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn len(&self) -> usize;
    fn run_all(self: Box<Self>, outcome_of: &mut dyn FnMut(&RecordPosition) -> Outcome) -> usize;
    fn take_before(&mut self, end: u32, first: u32) -> Option<Box<dyn CallbackRun>>;
    #[cfg(test)]
    fn capacity(&self) -> usize;
}

impl<F> CallbackRun for Run<F>
where
    F: FnOnce(Outcome) + Send + 'static,
{
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn run_all(self: Box<Self>, outcome_of: &mut dyn FnMut(&RecordPosition) -> Outcome) -> usize {
        let mut panicked = 0;
        for (position, callback) in self.0 {
            let outcome = outcome_of(&position);
            // A panicking callback must not take the sender task down with it.
            if catch_unwind(AssertUnwindSafe(|| callback(outcome))).is_err() {
                panicked += 1;
            }
        }
        panicked
    }

    fn take_before(&mut self, end: u32, first: u32) -> Option<Box<dyn CallbackRun>> {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|(position, _)| position.relative_offset < end);
        self.0 = rest;
        if mine.is_empty() {
            return None;
        }
        let mine = mine
            .into_iter()
            .map(|(mut position, callback)| {
                position.relative_offset -= first;
                (position, callback)
            })
            .collect();
        Some(Box::new(Run(mine)))
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::error::KafkaError;
    use crate::record::ProducerRecord;

    fn position(relative_offset: u32) -> RecordPosition {
        RecordPosition {
            timestamp: 0,
            relative_offset,
            key_size: -1,
            value_size: 1,
            explicit_partition: false,
            explicit_timestamp: false,
        }
    }

    fn failure(offset: u32) -> Outcome {
        Err(SendError::new(
            KafkaError::Internal(format!("record {offset}")),
            ProducerRecord::new("t", "v"),
        ))
    }

    fn offset_of(outcome: Outcome) -> String {
        outcome.map(|_| String::new()).unwrap_err().to_string()
    }

    /// Keeps what each callback saw, tagged by the callback's kind.
    fn seen() -> Arc<Mutex<Vec<(char, String)>>> {
        Arc::new(Mutex::new(Vec::new()))
    }

    #[test]
    fn callbacks_of_several_types_run_once_each_in_the_records_order() {
        let seen = seen();
        let mut callbacks = Callbacks::default();
        callbacks.expect_records(10);
        for offset in 0..10u32 {
            let kept = seen.clone();
            // Three closure types, in runs of differing lengths.
            match offset {
                0..=3 | 8 => callbacks.push(position(offset), move |o: Outcome| {
                    kept.lock().unwrap().push(('a', offset_of(o)))
                }),
                4..=6 => {
                    let boxed: Box<dyn FnOnce(Outcome) + Send> =
                        Box::new(move |o| kept.lock().unwrap().push(('b', offset_of(o))));
                    Some(boxed).append_to(&mut callbacks, &position(offset));
                }
                _ => callbacks.push(position(offset), move |o: Outcome| {
                    kept.lock().unwrap().push(('c', offset_of(o)))
                }),
            }
        }
        assert_eq!(callbacks.len(), 10);
        assert_eq!(callbacks.runs.len(), 5, "a, b, c, a, c");
        let panicked = callbacks.run_all(&mut |p| failure(p.relative_offset));
        assert_eq!(panicked, 0);
        let seen = seen.lock().unwrap();
        let kinds: String = seen.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, "aaaabbbcac");
        for (offset, (_, message)) in seen.iter().enumerate() {
            assert!(message.contains(&format!("record {offset}")), "{message}");
        }
    }

    #[test]
    fn a_run_has_room_for_the_records_the_batch_is_expected_to_take() {
        let mut callbacks = Callbacks::default();
        callbacks.expect_records(600);
        callbacks.push(position(0), |_: Outcome| {});
        // A run of another type, from the 100th record: room for the rest.
        let other = String::new();
        callbacks.push(position(100), move |_: Outcome| drop(other));
        let rooms: Vec<usize> = callbacks.runs.iter().map(|run| run.capacity()).collect();
        assert!(rooms[0] >= 600 && rooms[1] >= 500, "{rooms:?}");
        // Tiny records, or large callbacks: capped in bytes.
        let mut callbacks = Callbacks::default();
        callbacks.expect_records(1 << 20);
        callbacks.push(position(0), |_: Outcome| {});
        let large = vec![0u64; 1];
        let padding = [0u64; 64];
        callbacks.push(position(1), move |_: Outcome| drop((large, padding.len())));
        let rooms: Vec<usize> = callbacks.runs.iter().map(|run| run.capacity()).collect();
        assert!(rooms[0] * 24 <= 2 * MAX_RUN_BYTES, "{rooms:?}");
        assert!(rooms[1] * (24 + 512) <= 2 * MAX_RUN_BYTES, "{rooms:?}");
    }

    #[test]
    fn a_full_run_is_followed_by_another_not_grown() {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut callbacks = Callbacks::default();
        // Fewer records expected than come: rooms of 3, then twice the last.
        callbacks.expect_records(3);
        for offset in 0..20u32 {
            let ran = ran.clone();
            callbacks.push(position(offset), move |outcome: Outcome| {
                assert!(offset_of(outcome).contains(&format!("record {offset}")));
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        let rooms: Vec<(usize, usize)> = callbacks
            .runs
            .iter()
            .map(|run| (run.len(), run.capacity()))
            .collect();
        assert_eq!(rooms.iter().map(|r| r.0).sum::<usize>(), 20);
        for (len, capacity) in &rooms[..rooms.len() - 1] {
            assert_eq!(len, capacity, "only the last run has room left: {rooms:?}");
        }
        assert!(rooms.len() <= 4, "3, 6, 12: {rooms:?}");
        // Large callbacks: each run within the cap, however many records.
        let mut large = Callbacks::default();
        large.expect_records(1 << 20);
        for offset in 0..200u32 {
            let padding = [0u64; 128];
            large.push(position(offset), move |_: Outcome| {
                std::hint::black_box(padding);
            });
        }
        assert!(large.runs.len() > 1);
        for run in &large.runs {
            assert!(
                run.capacity() * (24 + 1024) <= MAX_RUN_BYTES,
                "{}",
                run.capacity()
            );
        }
        assert_eq!(callbacks.run_all(&mut |p| failure(p.relative_offset)), 0);
        assert_eq!(ran.load(Ordering::SeqCst), 20);
    }

    #[test]
    fn a_pending_callback_is_appended_once_and_none_is_nothing() {
        let mut callbacks = Callbacks::default();
        let mut pending = Some(|_: Outcome| {});
        pending.append_to(&mut callbacks, &position(0));
        pending.append_to(&mut callbacks, &position(1));
        ().append_to(&mut callbacks, &position(2));
        assert!(pending.is_none());
        assert_eq!(callbacks.len(), 1);
    }

    #[test]
    fn a_panicking_callback_does_not_stop_the_others() {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut callbacks = Callbacks::default();
        for offset in 0..4u32 {
            let ran = ran.clone();
            callbacks.push(position(offset), move |_: Outcome| {
                ran.fetch_add(1, Ordering::SeqCst);
                assert!(offset != 1, "callback {offset} panics");
            });
        }
        assert_eq!(callbacks.run_all(&mut |p| failure(p.relative_offset)), 1);
        assert_eq!(ran.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn callbacks_dropped_unrun_drop_what_they_captured() {
        let captured = Arc::new(());
        let mut callbacks = Callbacks::default();
        for offset in 0..3 {
            let captured = captured.clone();
            callbacks.push(position(offset), move |_: Outcome| drop(captured));
        }
        assert_eq!(Arc::strong_count(&captured), 4);
        drop(callbacks);
        assert_eq!(Arc::strong_count(&captured), 1);
    }

    #[test]
    fn a_split_takes_the_callbacks_before_its_end_renumbered_from_its_first() {
        let seen = seen();
        let mut callbacks = Callbacks::default();
        for offset in 0..7u32 {
            let kept = seen.clone();
            if offset % 3 == 2 {
                callbacks.push(position(offset), move |o: Outcome| {
                    kept.lock().unwrap().push(('x', offset_of(o)))
                });
            } else {
                callbacks.push(position(offset), move |o: Outcome| {
                    kept.lock().unwrap().push(('y', offset_of(o)))
                });
            }
        }
        let first = callbacks.take_before(4, 0);
        let second = callbacks.take_before(7, 4);
        assert!(callbacks.is_empty());
        assert_eq!((first.len(), second.len()), (4, 3));
        // Each part numbers its records from 0.
        first.run_all(&mut |p| failure(p.relative_offset));
        second.run_all(&mut |p| failure(p.relative_offset + 100));
        let seen = seen.lock().unwrap();
        let messages: Vec<&str> = seen.iter().map(|(_, m)| m.as_str()).collect();
        let expected = ["0", "1", "2", "3", "100", "101", "102"];
        assert_eq!(messages.len(), expected.len());
        for (message, offset) in messages.iter().zip(expected) {
            assert!(message.contains(&format!("record {offset}")), "{message}");
        }
        let kinds: String = seen.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, "yyxyyxy");
    }
}
