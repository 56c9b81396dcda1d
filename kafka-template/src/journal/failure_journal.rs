//! [`FailureJournal`]: the handle to one journal file.

use std::fmt;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};

use super::codec::{self, FILE_HEADER_LEN, MAX_ENTRY_BYTES, TooLarge};
use super::entry::JournalEntry;
use super::error::JournalError;
use super::fsutil;
use super::reader::JournalReader;
use super::recovery::{self, OpenReport};

/// A durable, append-only file of records that failed for good, to send again
/// later (see the [module docs](super) for the format and the guarantees).
///
/// Cheap to clone: clones share one file and one lock, and are `Send + Sync`.
/// Every append is on disk (`fdatasync`) before it returns; concurrent appends
/// share writes and syncs (group commit).
///
/// ```
/// use kafka_core::{KafkaError, ProducerRecord};
/// use kafka_template::journal::{FailureJournal, JournalEntry};
///
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
/// let record = ProducerRecord::new("orders", "{\"id\":7}").with_key("order-7");
/// journal.append(&JournalEntry::from_failed(&record, &KafkaError::Internal("down".into()))).unwrap();
///
/// // Later, or after a restart:
/// let journal = FailureJournal::open(journal.path()).unwrap();
/// assert_eq!(journal.len(), 1);
/// let entry = journal.entries().unwrap().next().unwrap().unwrap();
/// assert_eq!(entry.to_record(), record);
/// ```
#[derive(Clone)]
pub struct FailureJournal {
    inner: Arc<Inner>,
}

/// The journals open in this process, by absolute path.
static OPEN_JOURNALS: Mutex<Vec<(PathBuf, Weak<Inner>)>> = Mutex::new(Vec::new());

/// Opens `<journal>.lock` (making the journal's directory) and locks it, or
/// [`JournalError::InUse`] when another process holds it.
fn lock_journal(path: &Path) -> Result<File, JournalError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| JournalError::io(dir, "create the directory of the journal", e))?;
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| JournalError::io(&lock_path, "open or create the lock file of", e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::InUse {
            path: path.to_owned(),
            lock: lock_path,
        }),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(JournalError::io(&lock_path, "lock the lock file of", e))
        }
    }
}

struct Inner {
    /// `<journal>.lock`, locked while this journal is open: one process
    /// writes a journal at a time.
    _lock: File,
    path: PathBuf,
    report: OpenReport,
    state: Mutex<State>,
    /// Signalled when a write finishes (its batch's outcome is set).
    written: Condvar,
    replaying: AtomicBool,
}

struct State {
    /// Opened read-write; every write seeks to `end` first.
    file: Arc<File>,
    /// The end of the last intact, synced frame.
    end: u64,
    entries: u64,
    /// Bumped whenever the file is replaced (clear, replay), so a replay can
    /// tell that the offsets it read no longer hold.
    generation: u64,
    /// A failed write could not be rolled back: bytes past `end` may be garbage.
    poisoned: bool,
    /// Frames of appends waiting for the next write.
    pending: Option<PendingWrite>,
    /// A thread is writing and syncing a batch, with the lock released.
    writing: bool,
}

/// Appends that arrived while another write was in progress: written together
/// with one write and one sync by whichever of their threads gets there first
/// (group commit).
#[derive(Default)]
struct PendingWrite {
    frames: Vec<u8>,
    count: u64,
    outcome: Arc<OnceLock<Result<(), WriteFailure>>>,
}

/// Why a batch was not written, shared by every append in it.
#[derive(Clone, Debug)]
enum WriteFailure {
    Io(io::ErrorKind, String),
    Poisoned,
}

impl WriteFailure {
    fn into_error(self, path: &Path) -> JournalError {
        match self {
            WriteFailure::Io(kind, message) => {
                JournalError::io(path, "append to", io::Error::new(kind, message))
            }
            WriteFailure::Poisoned => JournalError::Poisoned {
                path: path.to_path_buf(),
            },
        }
    }
}

/// Where a journal stood when a replay started reading it.
pub(crate) struct Snapshot {
    pub(crate) reader: JournalReader,
    pub(crate) end: u64,
    pub(crate) entries: u64,
    pub(crate) generation: u64,
}

impl FailureJournal {
    /// Opens the journal at `path`, creating it (and its directories) if needed.
    ///
    /// Existing content is scanned. A torn tail (an entry cut short by a crash)
    /// is logged as a warning and truncated away; damage followed by intact
    /// entries is logged as an error, the file preserved as
    /// `<name>.corrupt-<millis>` and the journal rewritten with every intact
    /// entry. [`open_report`](Self::open_report) tells what was found. A file
    /// that is not a journal is refused and left untouched.
    ///
    /// Only one process may have a journal open at a time: it holds
    /// `<journal>.lock` locked while the journal is open, and an open in
    /// another process fails with [`JournalError::InUse`]. A second open in
    /// the same process shares the first's file and position.
    ///
    /// ```
    /// use kafka_template::journal::FailureJournal;
    /// let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("nested/dir/failed.journal")).unwrap();
    /// assert!(journal.is_empty());
    /// assert!(journal.path().exists());
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref().to_path_buf();
        // One Inner per journal in this process: a second open shares the
        // first's file and write position rather than write over it.
        let key = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        let mut open = OPEN_JOURNALS.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|(_, inner)| inner.strong_count() > 0);
        if let Some(inner) = open
            .iter()
            .find(|(path, _)| *path == key)
            .and_then(|(_, inner)| inner.upgrade())
        {
            return Ok(FailureJournal { inner });
        }
        let lock = lock_journal(&path)?;
        let opened = recovery::open_journal(&path)?;
        let entries = opened.report.entries;
        let journal = FailureJournal {
            inner: Arc::new(Inner {
                _lock: lock,
                path,
                report: opened.report,
                state: Mutex::new(State {
                    file: Arc::new(opened.file),
                    end: opened.end,
                    entries,
                    generation: 0,
                    poisoned: false,
                    pending: None,
                    writing: false,
                }),
                written: Condvar::new(),
                replaying: AtomicBool::new(false),
            }),
        };
        open.push((key, Arc::downgrade(&journal.inner)));
        Ok(journal)
    }

    /// Appends one entry and syncs it to disk before returning.
    ///
    /// Blocks on file I/O; from async code use
    /// [`append_async`](Self::append_async). A failed write is rolled back, so
    /// the journal stays valid.
    ///
    /// ```
    /// # use kafka_core::{KafkaError, ProducerRecord};
    /// # use kafka_template::journal::{FailureJournal, JournalEntry};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// let entry = JournalEntry::from_failed(
    ///     &ProducerRecord::new("orders", "v"),
    ///     &KafkaError::Internal("down".into()),
    /// );
    /// journal.append(&entry).unwrap();
    /// assert_eq!(journal.len(), 1);
    /// ```
    pub fn append(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        self.append_all(std::slice::from_ref(entry))
    }

    /// Appends several entries with one write and one sync: all of them are on
    /// disk when it returns, or (on error) none is.
    ///
    /// ```
    /// # use kafka_core::ProducerRecord;
    /// # use kafka_template::journal::{FailureJournal, JournalEntry};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// let entries: Vec<_> = (0..10)
    ///     .map(|i| JournalEntry::from_record_and_message(&ProducerRecord::new("t", format!("{i}")), "batch expired"))
    ///     .collect();
    /// journal.append_all(&entries).unwrap();
    /// assert_eq!(journal.len(), 10);
    /// ```
    pub fn append_all(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut frames = Vec::new();
        for entry in entries {
            codec::encode_frame(entry, &mut frames).map_err(|TooLarge(size)| {
                JournalError::EntryTooLarge {
                    topic: entry.topic.clone(),
                    size,
                    max: MAX_ENTRY_BYTES,
                }
            })?;
        }
        let mut state = self.lock()?;
        if state.poisoned {
            return Err(WriteFailure::Poisoned.into_error(&self.inner.path));
        }
        let outcome = {
            let pending = state.pending.get_or_insert_with(PendingWrite::default);
            if pending.frames.is_empty() {
                pending.frames = frames;
            } else {
                pending.frames.extend_from_slice(&frames);
            }
            pending.count += entries.len() as u64;
            pending.outcome.clone()
        };
        loop {
            if let Some(outcome) = outcome.get() {
                return outcome
                    .clone()
                    .map_err(|failure| failure.into_error(&self.inner.path));
            }
            // Lead when no write is running: ours is still pending then.
            state = match (state.writing, state.pending.take()) {
                (false, Some(batch)) => self.write_batch(state, batch)?,
                (_, pending) => {
                    state.pending = pending;
                    self.wait(state)?
                }
            };
        }
    }

    /// [`append`](Self::append) on tokio's blocking thread pool, for async code
    /// (the file write and sync must not stall the runtime's workers).
    ///
    /// ```
    /// # use kafka_core::ProducerRecord;
    /// # use kafka_template::journal::{FailureJournal, JournalEntry};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// let entry = JournalEntry::from_record_and_message(&ProducerRecord::new("t", "v"), "down");
    /// journal.append_async(entry).await.unwrap();
    /// assert_eq!(journal.len(), 1);
    /// # }
    /// ```
    pub async fn append_async(&self, entry: JournalEntry) -> Result<(), JournalError> {
        let journal = self.clone();
        self.blocking(move || journal.append(&entry)).await
    }

    /// The entries the journal holds now, oldest first.
    ///
    /// ```
    /// # use kafka_core::ProducerRecord;
    /// # use kafka_template::journal::{FailureJournal, JournalEntry};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// journal.append(&JournalEntry::from_record_and_message(&ProducerRecord::new("t", "v"), "down")).unwrap();
    /// let entries: Vec<_> = journal.entries().unwrap().collect::<Result<_, _>>().unwrap();
    /// assert_eq!(entries[0].topic, "t");
    /// ```
    pub fn entries(&self) -> Result<JournalReader, JournalError> {
        Ok(self.snapshot()?.reader)
    }

    /// How many entries the journal holds.
    ///
    /// ```
    /// # use kafka_template::journal::FailureJournal;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// assert_eq!(journal.len(), 0);
    /// ```
    pub fn len(&self) -> u64 {
        self.lock().map_or(0, |s| s.entries)
    }

    /// Whether the journal holds no entry.
    ///
    /// ```
    /// # use kafka_template::journal::FailureJournal;
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert!(FailureJournal::open(dir.path().join("failed.journal")).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every entry (the file is replaced atomically by an empty
    /// journal). A replay running meanwhile then fails without rewriting.
    ///
    /// ```
    /// # use kafka_core::ProducerRecord;
    /// # use kafka_template::journal::{FailureJournal, JournalEntry};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// journal.append(&JournalEntry::from_record_and_message(&ProducerRecord::new("t", "v"), "down")).unwrap();
    /// journal.clear().unwrap();
    /// assert!(journal.is_empty());
    /// assert_eq!(FailureJournal::open(journal.path()).unwrap().len(), 0);
    /// ```
    pub fn clear(&self) -> Result<(), JournalError> {
        let mut state = self.lock_idle()?;
        fsutil::replace_journal(&self.inner.path, |_| Ok(()))?;
        self.reopen(&mut state, 0)
    }

    /// The journal file's path.
    ///
    /// ```
    /// # use kafka_template::journal::FailureJournal;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("failed.journal");
    /// assert_eq!(FailureJournal::open(&path).unwrap().path(), path);
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What opening found: entries, a torn tail skipped, damage quarantined.
    ///
    /// ```
    /// # use kafka_template::journal::FailureJournal;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    /// assert!(journal.open_report().torn_tail.is_none());
    /// ```
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, JournalError> {
        // Only a panic inside this module could poison the lock; treat the
        // state as unknown then.
        self.inner.state.lock().map_err(|_| JournalError::Poisoned {
            path: self.inner.path.clone(),
        })
    }

    fn wait<'a>(
        &'a self,
        state: MutexGuard<'a, State>,
    ) -> Result<MutexGuard<'a, State>, JournalError> {
        self.inner
            .written
            .wait(state)
            .map_err(|_| JournalError::Poisoned {
                path: self.inner.path.clone(),
            })
    }

    /// The lock, once no write is running (for rewrites of the file).
    fn lock_idle(&self) -> Result<MutexGuard<'_, State>, JournalError> {
        let mut state = self.lock()?;
        while state.writing {
            state = self.wait(state)?;
        }
        Ok(state)
    }

    /// Writes `batch` at the end with one write and one sync, releasing the
    /// lock meanwhile so more appends can gather for the next write. A failed
    /// write is cut off again, so the next one starts at a frame boundary.
    fn write_batch<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        batch: PendingWrite,
    ) -> Result<MutexGuard<'a, State>, JournalError> {
        let path = &self.inner.path;
        if state.poisoned {
            let _ = batch.outcome.set(Err(WriteFailure::Poisoned));
            self.inner.written.notify_all();
            return Ok(state);
        }
        state.writing = true;
        let (file, end) = (state.file.clone(), state.end);
        drop(state);

        let written = (|| -> io::Result<()> {
            (&*file).seek(SeekFrom::Start(end))?;
            (&*file).write_all(&batch.frames)?;
            file.sync_data()
        })();
        let rolled_back = written
            .as_ref()
            .err()
            .map(|_| file.set_len(end).and_then(|()| file.sync_all()));

        let mut state = self.lock()?;
        state.writing = false;
        let outcome = match written {
            Ok(()) => {
                state.end += batch.frames.len() as u64;
                state.entries += batch.count;
                Ok(())
            }
            Err(e) => {
                if let Some(Err(rollback)) = rolled_back {
                    state.poisoned = true;
                    tracing::error!(
                        journal = %path.display(),
                        "failure journal {}: a write failed ({e}) and could not be rolled back \
                         ({rollback}); refusing further writes until it is opened again",
                        path.display()
                    );
                }
                Err(WriteFailure::Io(e.kind(), e.to_string()))
            }
        };
        let _ = batch.outcome.set(outcome);
        self.inner.written.notify_all();
        Ok(state)
    }

    /// Runs blocking file work on tokio's blocking pool.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, JournalError>
    where
        F: FnOnce() -> Result<T, JournalError> + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
            Err(JournalError::TaskFailed {
                path: self.inner.path.clone(),
                message: e.to_string(),
            })
        })
    }

    /// A reader over what the journal holds now, with where it ends.
    pub(crate) fn snapshot(&self) -> Result<Snapshot, JournalError> {
        let state = self.lock()?;
        // Opened under the lock: no rewrite can rename the file in between.
        let file = File::open(&self.inner.path)
            .map_err(|e| JournalError::io(&self.inner.path, "open for reading", e))?;
        Ok(Snapshot {
            reader: JournalReader::new(self.inner.path.clone(), file, state.end)?,
            end: state.end,
            entries: state.entries,
            generation: state.generation,
        })
    }

    /// Marks a replay as running; `false` if one already is.
    pub(crate) fn begin_replay(&self) -> bool {
        !self.inner.replaying.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn end_replay(&self) {
        self.inner.replaying.store(false, Ordering::Release);
    }

    /// After a replay of everything up to `snapshot.end`: keeps only the frames
    /// in `kept` (those that failed again) and whatever was appended since the
    /// snapshot, replacing the file atomically. Returns the entries left.
    pub(crate) fn rewrite_after_replay(
        &self,
        snapshot_end: u64,
        snapshot_entries: u64,
        snapshot_generation: u64,
        kept: &[Range<u64>],
        kept_entries: u64,
    ) -> Result<u64, JournalError> {
        let mut state = self.lock_idle()?;
        if state.generation != snapshot_generation {
            return Err(JournalError::ReplayConflict {
                path: self.inner.path.clone(),
                reason: "the journal was cleared or rewritten while the replay ran; \
                         nothing was removed from it",
            });
        }
        let appended = snapshot_end..state.end;
        let appended_entries = state.entries - snapshot_entries;
        let mut source = File::open(&self.inner.path)
            .map_err(|e| JournalError::io(&self.inner.path, "open for reading", e))?;
        fsutil::replace_journal(&self.inner.path, |out| {
            for range in kept.iter().chain(std::iter::once(&appended)) {
                fsutil::copy_range(&mut source, range, out)?;
            }
            Ok(())
        })?;
        self.reopen(&mut state, kept_entries + appended_entries)?;
        Ok(state.entries)
    }

    /// Points the handle at a freshly written file holding `entries` entries.
    fn reopen(&self, state: &mut State, entries: u64) -> Result<(), JournalError> {
        let path = &self.inner.path;
        let file = fsutil::open_read_write(path)?;
        let end = file
            .metadata()
            .map_err(|e| JournalError::io(path, "read the size of", e))?
            .len();
        state.file = Arc::new(file);
        state.end = end.max(FILE_HEADER_LEN);
        state.entries = entries;
        state.generation += 1;
        // The new file was written whole and synced. Pending appends stay
        // pending: they follow the rewrite.
        state.poisoned = false;
        Ok(())
    }
}

impl fmt::Debug for FailureJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailureJournal")
            .field("path", &self.inner.path)
            .field("entries", &self.len())
            .finish()
    }
}
