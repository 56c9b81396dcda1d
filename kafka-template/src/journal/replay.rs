//! Sending a journal's entries again: [`replay`] through a
//! [`KafkaProducer`], or [`replay_with`] any send function. After a replay
//! that ran to its end, the journal keeps only the entries that failed again
//! (and any appended meanwhile).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::ops::Range;

use kafka_core::{DeliveryFuture, KafkaError, KafkaProducer, ProducerRecord, SendError};

use super::entry::JournalEntry;
use super::error::JournalError;
use super::failure_journal::{FailureJournal, Snapshot};
use super::reader::JournalReader;

/// What a replay did.
///
/// ```
/// use kafka_template::journal::ReplayReport;
/// let report = ReplayReport::default();
/// assert_eq!(report.attempted, report.sent + report.failed);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayReport {
    /// Entries read from the journal and sent.
    pub attempted: u64,
    /// Entries the broker (or the send function) acknowledged; they were
    /// removed from the journal.
    pub sent: u64,
    /// Entries that failed again; they stay in the journal, with the error
    /// and time of their first failure.
    pub failed: u64,
    /// Entries the journal holds after the replay: those that failed again and
    /// any appended while the replay ran.
    pub remaining: u64,
    /// The last error seen, if any entry failed.
    pub last_error: Option<String>,
}

/// Records sent through [`replay`] but not yet acknowledged, at most: enough
/// to keep the producer's batches full, few enough to bound what is held.
const REPLAY_WINDOW: usize = 1024;
/// Entries read from the file per trip to the blocking pool.
const READ_BATCH_ENTRIES: usize = 256;
/// Bytes of keys and values read per trip to the blocking pool, about.
const READ_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Sends every entry of `journal` again through `producer`, in journal order,
/// and waits for each acknowledgement; then rewrites the journal (atomically)
/// to keep only the entries that failed again.
///
/// Records are pipelined (up to 1024 unacknowledged) so the producer batches
/// them; per partition they keep their journal order as far as the producer's
/// own ordering guarantees go. Each record keeps its topic, partition, key,
/// value, headers and timestamp. When a topic (or partition) is not found
/// within the producer's `max.block.ms`, its remaining entries fail at once
/// rather than each waiting again.
///
/// Delivery is at least once: if the replay stops early (an error, the future
/// dropped, a crash), nothing is removed from the journal, and records already
/// delivered are sent again by the next replay. Entries appended while a replay
/// runs are kept for the next one. Only one replay of a journal runs at a time
/// ([`JournalError::ReplayConflict`] otherwise).
///
/// ```no_run
/// use kafka_core::{KafkaProducer, ProducerConfig};
/// use kafka_template::journal::{FailureJournal, replay};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let journal = FailureJournal::open("/var/lib/orders/failed.journal")?;
/// let producer = KafkaProducer::new(ProducerConfig::builder().bootstrap_servers("localhost:9092").build()?)?;
/// let report = replay(&journal, &producer).await?;
/// println!("{} sent, {} failed again, {} left", report.sent, report.failed, report.remaining);
/// # Ok(())
/// # }
/// ```
pub async fn replay(
    journal: &FailureJournal,
    producer: &KafkaProducer,
) -> Result<ReplayReport, JournalError> {
    let mut run = ReplayRun::start(journal)?;
    let mut in_flight: VecDeque<(Range<u64>, DeliveryFuture)> = VecDeque::new();
    let mut unavailable = UnavailableTopics::default();
    while let Some(batch) = run.next_batch().await? {
        for (frame, entry) in batch {
            if let Some(skipped) = unavailable.check(&entry) {
                run.settle(frame, Err(skipped));
                continue;
            }
            match producer.send(entry.into_record()).await {
                Ok(delivery) => {
                    in_flight.push_back((frame, delivery));
                    if in_flight.len() >= REPLAY_WINDOW
                        && let Some((frame, delivery)) = in_flight.pop_front()
                    {
                        run.settle(frame, delivery.await.map(drop));
                    }
                }
                Err(failed) => {
                    unavailable.note(&failed);
                    run.settle(frame, Err(failed));
                }
            }
        }
    }
    while let Some((frame, delivery)) = in_flight.pop_front() {
        run.settle(frame, delivery.await.map(drop));
    }
    run.finish().await
}

/// Topics (or partitions) whose metadata did not come within `max.block.ms`
/// during this replay: their other entries fail at once instead of each
/// waiting `max.block.ms` again.
#[derive(Default)]
struct UnavailableTopics(HashMap<(String, Option<i32>), String>);

impl UnavailableTopics {
    fn note(&mut self, failed: &SendError) {
        let key = match failed.error() {
            KafkaError::MetadataTimeout {
                topic, partition, ..
            } => (topic.clone(), *partition),
            KafkaError::InvalidTopic { topic, .. } => (topic.clone(), None),
            _ => return,
        };
        self.0.insert(key, failed.to_string());
    }

    /// Why `entry` is not sent, if its topic or partition is known unavailable.
    fn check(&self, entry: &JournalEntry) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        [None, entry.partition]
            .into_iter()
            .find_map(|partition| self.0.get(&(entry.topic.clone(), partition)))
            .map(|reason| {
                format!("not sent: an earlier record to the same destination failed: {reason}")
            })
    }
}

/// Like [`replay`], with any send function: `send` gets each entry's record,
/// in journal order, and its future is awaited before the next entry is sent
/// (`Ok` removes the entry from the journal, `Err` keeps it).
///
/// For a dead-letter topic, another cluster, or a test double. Not a
/// template's `send` when that template journals into this same journal: an
/// entry that fails again would be kept and journaled anew, twice;
/// [`KafkaTemplate::replay_failure_journal`](crate::KafkaTemplate::replay_failure_journal)
/// replays a template's journal through its producer.
///
/// ```
/// use kafka_core::ProducerRecord;
/// use kafka_template::journal::{FailureJournal, JournalEntry, replay_with};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
/// for value in ["ok-1", "bad", "ok-2"] {
///     let record = ProducerRecord::new("orders", value);
///     journal.append(&JournalEntry::from_record_and_message(&record, "broker down")).unwrap();
/// }
///
/// let report = replay_with(&journal, |record: ProducerRecord| async move {
///     if record.value.as_deref() == Some(&b"bad"[..]) { Err("rejected again") } else { Ok(()) }
/// })
/// .await
/// .unwrap();
///
/// assert_eq!((report.sent, report.failed, report.remaining), (2, 1, 1));
/// let left = journal.entries().unwrap().next().unwrap().unwrap();
/// assert_eq!(left.value.as_deref(), Some(&b"bad"[..]));
/// assert_eq!(left.error, "broker down"); // the first failure's error is kept
/// # }
/// ```
pub async fn replay_with<F, Fut, E>(
    journal: &FailureJournal,
    mut send: F,
) -> Result<ReplayReport, JournalError>
where
    F: FnMut(ProducerRecord) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Display,
{
    let mut run = ReplayRun::start(journal)?;
    while let Some(batch) = run.next_batch().await? {
        for (frame, entry) in batch {
            let outcome = send(entry.into_record()).await;
            run.settle(frame, outcome);
        }
    }
    run.finish().await
}

/// One replay in progress: reads the snapshot in batches, tallies outcomes,
/// and rewrites the journal at the end.
struct ReplayRun {
    journal: FailureJournal,
    reader: Option<JournalReader>,
    end: u64,
    entries: u64,
    generation: u64,
    /// Frames that failed again, in the order they were settled (not
    /// always the journal's: a record refused at once settles before
    /// earlier ones still in flight), adjacent ones merged.
    kept: Vec<Range<u64>>,
    report: ReplayReport,
}

impl ReplayRun {
    fn start(journal: &FailureJournal) -> Result<Self, JournalError> {
        if !journal.begin_replay() {
            return Err(JournalError::ReplayConflict {
                path: journal.path().to_path_buf(),
                reason: "another replay of this journal is running",
            });
        }
        // From here on `Drop` ends the replay, whatever happens.
        let mut run = ReplayRun {
            journal: journal.clone(),
            reader: None,
            end: 0,
            entries: 0,
            generation: 0,
            kept: Vec::new(),
            report: ReplayReport::default(),
        };
        let Snapshot {
            reader,
            end,
            entries,
            generation,
        } = journal.snapshot()?;
        run.reader = Some(reader);
        (run.end, run.entries, run.generation) = (end, entries, generation);
        Ok(run)
    }

    /// The next entries of the snapshot with their frames; `None` at its end.
    async fn next_batch(
        &mut self,
    ) -> Result<Option<Vec<(Range<u64>, JournalEntry)>>, JournalError> {
        let Some(mut reader) = self.reader.take() else {
            return Ok(None);
        };
        let (reader, batch) = self
            .journal
            .blocking(move || {
                let mut batch = Vec::new();
                let mut bytes = 0;
                while batch.len() < READ_BATCH_ENTRIES && bytes < READ_BATCH_BYTES {
                    let Some(next) = reader.next_frame() else {
                        break;
                    };
                    let (frame, entry) = next?;
                    bytes += (frame.end - frame.start) as usize;
                    batch.push((frame, entry));
                }
                Ok((reader, batch))
            })
            .await?;
        if batch.is_empty() {
            return Ok(None);
        }
        self.reader = Some(reader);
        Ok(Some(batch))
    }

    fn settle<E: fmt::Display>(&mut self, frame: Range<u64>, outcome: Result<(), E>) {
        self.report.attempted += 1;
        match outcome {
            Ok(()) => self.report.sent += 1,
            Err(error) => {
                self.report.failed += 1;
                self.report.last_error = Some(error.to_string());
                match self.kept.last_mut() {
                    Some(last) if last.end == frame.start => last.end = frame.end,
                    _ => self.kept.push(frame),
                }
            }
        }
    }

    async fn finish(mut self) -> Result<ReplayReport, JournalError> {
        let mut report = std::mem::take(&mut self.report);
        if report.sent == 0 {
            // Nothing to remove: leave the file as it is.
            report.remaining = self.journal.len();
            return Ok(report);
        }
        let journal = self.journal.clone();
        let kept = in_journal_order(std::mem::take(&mut self.kept));
        let (end, entries, generation, failed) =
            (self.end, self.entries, self.generation, report.failed);
        report.remaining = self
            .journal
            .blocking(move || journal.rewrite_after_replay(end, entries, generation, &kept, failed))
            .await?;
        Ok(report)
    }
}

/// `frames` sorted by their place in the journal, adjacent ones merged: the
/// entries kept stay in the order they were appended.
fn in_journal_order(mut frames: Vec<Range<u64>>) -> Vec<Range<u64>> {
    frames.sort_unstable_by_key(|frame| frame.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(frames.len());
    for frame in frames {
        match merged.last_mut() {
            Some(last) if last.end == frame.start => last.end = frame.end,
            _ => merged.push(frame),
        }
    }
    merged
}

impl Drop for ReplayRun {
    fn drop(&mut self) {
        self.journal.end_replay();
    }
}

#[cfg(test)]
mod tests {
    use super::in_journal_order;

    #[test]
    fn kept_frames_go_back_in_journal_order_merged() {
        // Settled out of order: 40..60 was refused at once while 0..20 and
        // 20..40 were still in flight.
        let kept = vec![40..60, 80..90, 0..20, 20..40];
        assert_eq!(in_journal_order(kept), [0..60, 80..90]);
        assert_eq!(in_journal_order(Vec::new()), []);
    }
}
