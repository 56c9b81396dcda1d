//! [`JournalError`]: what can go wrong opening, writing, reading or replaying a
//! failure journal.

use std::path::PathBuf;

/// Why a failure-journal operation failed. Each variant names the file and says
/// what to do.
///
/// ```
/// use kafka_template::journal::{FailureJournal, JournalError};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("not-a-journal.txt");
/// std::fs::write(&path, "hello, I am somebody else's file").unwrap();
/// match FailureJournal::open(&path) {
///     Err(JournalError::NotAJournal { path: p }) => assert_eq!(p, path),
///     other => panic!("expected NotAJournal, got {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A file-system operation failed.
    #[error("failure journal {}: cannot {action}: {source}", path.display())]
    Io {
        /// The file (or directory) concerned.
        path: PathBuf,
        /// What was being done (`open`, `append to`, `fsync`, ...).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another process has the journal open (its lock file is held): two
    /// writers would overwrite each other's entries.
    #[error(
        "failure journal {} is open in another process (its lock file {} is held): \
         stop that process, or give this one a journal of its own",
        path.display(),
        lock.display()
    )]
    InUse {
        /// The journal.
        path: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The file exists but does not start with the journal's magic bytes, so it
    /// is not a failure journal; it is left untouched.
    #[error(
        "{} is not a failure journal (it does not start with the journal's magic bytes); \
         it was left untouched: choose another path or move the file away",
        path.display()
    )]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// The file is a failure journal of a format version this build cannot read.
    #[error(
        "failure journal {} has format version {version}, this build reads version {supported}; \
         replay it with the version that wrote it, or move it away",
        path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found in the file header.
        version: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// An entry is larger than a journal frame may be.
    #[error(
        "the journal entry for topic '{topic}' is {size} bytes encoded, more than the {max} bytes a \
         journal entry may take; such a record is larger than any broker accepts by default"
    )]
    EntryTooLarge {
        /// The entry's topic.
        topic: String,
        /// The encoded size in bytes.
        size: usize,
        /// The largest encoded entry allowed ([`MAX_ENTRY_BYTES`](super::MAX_ENTRY_BYTES)).
        max: usize,
    },
    /// Reading met a damaged entry (the file changed on disk after it was opened).
    #[error(
        "failure journal {} is damaged at byte {offset}: {reason}; entries after it were not read \
         (open the journal again to repair or quarantine it)",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damaged frame starts.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An earlier write failed and could not be rolled back, so the end of the
    /// file is no longer known to be valid; this handle refuses further writes.
    #[error(
        "failure journal {} refuses writes: an earlier write failed and could not be rolled back; \
         open the journal again (it repairs the tail)",
        path.display()
    )]
    Poisoned {
        /// The file.
        path: PathBuf,
    },
    /// Another replay of the same journal is running, or the journal was
    /// rewritten (cleared, replayed) while this replay ran.
    #[error("failure journal {}: {reason}", path.display())]
    ReplayConflict {
        /// The file.
        path: PathBuf,
        /// What conflicted.
        reason: &'static str,
    },
    /// The blocking task doing the file I/O did not finish (it panicked or the
    /// runtime is shutting down).
    #[error("failure journal {}: the blocking I/O task did not finish: {message}", path.display())]
    TaskFailed {
        /// The file.
        path: PathBuf,
        /// What the runtime reported.
        message: String,
    },
}

impl JournalError {
    pub(crate) fn io(path: &std::path::Path, action: &'static str, source: std::io::Error) -> Self {
        JournalError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}
