//! [`JournalReader`]: the entries of a journal, in the order they were written.

use std::fs::File;
use std::ops::Range;
use std::path::PathBuf;

use super::codec::FILE_HEADER_LEN;
use super::entry::JournalEntry;
use super::error::JournalError;
use super::frames::{FrameRead, FrameSource};

/// An iterator over the entries a journal held when
/// [`FailureJournal::entries`](super::FailureJournal::entries) was called, oldest
/// first. Entries appended later are not seen.
///
/// Each item is an entry or an error. A damaged frame (possible only if the
/// file was damaged after it was opened: opening repairs it) is logged as a
/// warning and yields one [`JournalError::Corrupt`], and the iteration ends
/// there; so does an I/O error.
///
/// ```
/// use kafka_core::{KafkaError, ProducerRecord};
/// use kafka_template::journal::{FailureJournal, JournalEntry};
///
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
/// for i in 0..3 {
///     let record = ProducerRecord::new("orders", format!("order {i}"));
///     journal.append(&JournalEntry::from_failed(&record, &KafkaError::Internal("down".into()))).unwrap();
/// }
/// let values: Vec<_> = journal
///     .entries()
///     .unwrap()
///     .map(|entry| entry.unwrap().value.unwrap())
///     .collect();
/// assert_eq!(values, ["order 0", "order 1", "order 2"]);
/// ```
pub struct JournalReader {
    path: PathBuf,
    source: FrameSource,
    pos: u64,
    end: u64,
    done: bool,
}

impl JournalReader {
    /// Reads the frames of `file` up to `end` (a frame boundary).
    pub(crate) fn new(path: PathBuf, file: File, end: u64) -> Result<Self, JournalError> {
        let source = FrameSource::new(file).map_err(|e| JournalError::io(&path, "read", e))?;
        Ok(JournalReader {
            path,
            source,
            pos: FILE_HEADER_LEN,
            end,
            done: false,
        })
    }

    /// The next entry with the byte range of its frame.
    pub(crate) fn next_frame(
        &mut self,
    ) -> Option<Result<(Range<u64>, JournalEntry), JournalError>> {
        if self.done || self.pos >= self.end {
            return None;
        }
        let start = self.pos;
        match self.source.read_frame(start, self.end) {
            Ok(FrameRead::Entry { entry, end }) => {
                self.pos = end;
                Some(Ok((start..end, entry)))
            }
            Ok(FrameRead::Damaged(reason)) => {
                self.done = true;
                tracing::warn!(
                    journal = %self.path.display(),
                    offset = start,
                    reason = %reason,
                    "failure journal {}: damaged entry at byte {start} ({reason}); stopped reading \
                     there (the file changed after it was opened; open it again to repair it)",
                    self.path.display()
                );
                Some(Err(JournalError::Corrupt {
                    path: self.path.clone(),
                    offset: start,
                    reason,
                }))
            }
            Err(e) => {
                self.done = true;
                Some(Err(JournalError::io(&self.path, "read", e)))
            }
        }
    }
}

impl Iterator for JournalReader {
    type Item = Result<JournalEntry, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame().map(|r| r.map(|(_, entry)| entry))
    }
}

impl std::fmt::Debug for JournalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalReader")
            .field("path", &self.path)
            .field("pos", &self.pos)
            .field("end", &self.end)
            .finish()
    }
}
