//! Opening a journal file: create it, check its header, scan its frames, and
//! repair what a crash or a damaged disk left (see "Recovery" in the
//! [module docs](super)).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::codec::{self, FILE_HEADER_LEN, MAGIC, VERSION};
use super::entry::now_ms;
use super::error::JournalError;
use super::frames::{FrameRead, FrameSource};
use super::fsutil;

/// What [`FailureJournal::open`](super::FailureJournal::open) found and
/// repaired.
///
/// ```
/// use kafka_template::journal::FailureJournal;
///
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
/// let report = journal.open_report();
/// assert!(report.created);
/// assert_eq!(report.entries, 0);
/// assert!(report.torn_tail.is_none() && report.quarantine.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// Intact entries the journal holds after opening.
    pub entries: u64,
    /// The file was new (or empty) and got its header.
    pub created: bool,
    /// A damaged end of the file (a write cut short by a crash) that was
    /// skipped and truncated away. Logged as a warning.
    pub torn_tail: Option<DamagedRange>,
    /// Damage before intact entries: the file was preserved under another name
    /// and the journal rewritten with every intact entry. Logged as an error.
    pub quarantine: Option<Quarantine>,
}

/// A byte range of the journal file that did not hold intact entries.
///
/// ```
/// use kafka_template::journal::DamagedRange;
///
/// // Opening a journal reports it (`OpenReport::torn_tail`, `Quarantine`).
/// fn describe(range: &DamagedRange) -> String {
///     format!("bytes {}..{}: {}", range.offset, range.end(), range.reason)
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DamagedRange {
    /// Where the range starts, in bytes from the start of the file.
    pub offset: u64,
    /// How long it is.
    pub bytes: u64,
    /// What was wrong with the first frame in it.
    pub reason: String,
}

impl DamagedRange {
    /// The offset just past the range.
    ///
    pub fn end(&self) -> u64 {
        self.offset + self.bytes
    }
}

/// A journal damaged in the middle, set aside.
///
/// ```
/// use kafka_core::ProducerRecord;
/// use kafka_template::journal::{FailureJournal, JournalEntry};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("failed.journal");
/// let journal = FailureJournal::open(&path).unwrap();
/// for value in ["first", "second", "third"] {
///     let record = ProducerRecord::new("orders", value);
///     journal.append(&JournalEntry::from_record_and_message(&record, "down")).unwrap();
/// }
/// drop(journal);
///
/// // Damage a byte of the second entry's value on disk.
/// let mut bytes = std::fs::read(&path).unwrap();
/// let at = bytes.windows(6).position(|w| w == b"second").unwrap();
/// bytes[at] ^= 0x20;
/// std::fs::write(&path, &bytes).unwrap();
///
/// let journal = FailureJournal::open(&path).unwrap();
/// let quarantine = journal.open_report().quarantine.clone().unwrap();
/// assert_eq!(quarantine.entries_kept, 2);
/// assert_eq!(std::fs::read(&quarantine.copy).unwrap(), bytes); // preserved as it was
/// let values: Vec<_> = journal.entries().unwrap().map(|e| e.unwrap().value.unwrap()).collect();
/// assert_eq!(values, ["first", "third"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quarantine {
    /// Where the damaged file was preserved, byte for byte
    /// (`<name>.corrupt-<unix millis>`).
    pub copy: PathBuf,
    /// The ranges that held no intact entry.
    pub damaged: Vec<DamagedRange>,
    /// Intact entries carried over into the rewritten journal.
    pub entries_kept: u64,
}

/// An opened, repaired journal file.
pub(crate) struct Opened {
    pub(crate) file: File,
    pub(crate) end: u64,
    pub(crate) report: OpenReport,
}

pub(crate) fn open_journal(path: &Path) -> Result<Opened, JournalError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .map_err(|e| JournalError::io(dir, "create the directory of the journal", e))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| JournalError::io(path, "open or create", e))?;
    let len = file_len(&file, path)?;
    let mut report = OpenReport::default();
    if len < FILE_HEADER_LEN {
        start_fresh(&mut file, path, len, &mut report)?;
        return Ok(Opened {
            file,
            end: FILE_HEADER_LEN,
            report,
        });
    }
    check_header(&mut file, path)?;
    let source_file = file
        .try_clone()
        .map_err(|e| JournalError::io(path, "read", e))?;
    let scan = FrameSource::new(source_file)
        .and_then(|mut source| scan(&mut source, len))
        .map_err(|e| JournalError::io(path, "read", e))?;
    report.entries = scan.entries;
    let end = match scan.damaged.as_slice() {
        [] => len,
        [tail] if tail.end() == len => {
            truncate_torn_tail(&file, path, tail, scan.entries)?;
            let end = tail.offset;
            report.torn_tail = Some(tail.clone());
            end
        }
        _ => {
            let quarantine = quarantine(path, scan)?;
            report.quarantine = Some(quarantine);
            file = fsutil::open_read_write(path)?;
            file_len(&file, path)?
        }
    };
    Ok(Opened { file, end, report })
}

fn file_len(file: &File, path: &Path) -> Result<u64, JournalError> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| JournalError::io(path, "read the size of", e))
}

/// A file shorter than the header: new, or its creation was cut short. Anything
/// else that short is someone else's file.
fn start_fresh(
    file: &mut File,
    path: &Path,
    len: u64,
    report: &mut OpenReport,
) -> Result<(), JournalError> {
    let mut existing = Vec::new();
    file.read_to_end(&mut existing)
        .map_err(|e| JournalError::io(path, "read", e))?;
    let header = codec::file_header();
    if !header.starts_with(&existing) {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
        });
    }
    if len > 0 {
        tracing::warn!(
            journal = %path.display(),
            bytes = len,
            "failure journal {}: the file header was cut short ({len} of {FILE_HEADER_LEN} bytes, \
             a crash while creating it); writing it again",
            path.display()
        );
        report.torn_tail = Some(DamagedRange {
            offset: 0,
            bytes: len,
            reason: "file header cut short".to_owned(),
        });
    }
    let mut write = || -> io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.sync_all()
    };
    write().map_err(|e| JournalError::io(path, "write the header of", e))?;
    fsutil::sync_parent_dir(path)?;
    report.created = true;
    Ok(())
}

fn check_header(file: &mut File, path: &Path) -> Result<(), JournalError> {
    let mut header = [0u8; FILE_HEADER_LEN as usize];
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut header))
        .map_err(|e| JournalError::io(path, "read the header of", e))?;
    let (magic, version) = header.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
        });
    }
    let version = u32::from_be_bytes([version[0], version[1], version[2], version[3]]);
    if version != VERSION {
        return Err(JournalError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
            supported: VERSION,
        });
    }
    Ok(())
}

/// Where the intact frames are.
struct Scan {
    /// Consecutive intact frames, in file order.
    runs: Vec<Range<u64>>,
    /// What lies between and after them.
    damaged: Vec<DamagedRange>,
    entries: u64,
}

fn scan(source: &mut FrameSource, len: u64) -> io::Result<Scan> {
    let mut scan = Scan {
        runs: Vec::new(),
        damaged: Vec::new(),
        entries: 0,
    };
    let mut pos = FILE_HEADER_LEN;
    let mut run_start = pos;
    while pos < len {
        match source.read_frame(pos, len)? {
            FrameRead::Entry { end, .. } => {
                scan.entries += 1;
                pos = end;
            }
            FrameRead::Damaged(reason) => {
                if pos > run_start {
                    scan.runs.push(run_start..pos);
                }
                let next = source.next_intact_frame(pos, len)?.unwrap_or(len);
                scan.damaged.push(DamagedRange {
                    offset: pos,
                    bytes: next - pos,
                    reason,
                });
                pos = next;
                run_start = next;
            }
        }
    }
    if pos > run_start {
        scan.runs.push(run_start..pos);
    }
    Ok(scan)
}

/// The last write was cut short (or its bytes never reached the disk): cut the
/// file back to the end of the last intact entry so appends follow it.
fn truncate_torn_tail(
    file: &File,
    path: &Path,
    tail: &DamagedRange,
    entries: u64,
) -> Result<(), JournalError> {
    tracing::warn!(
        journal = %path.display(),
        offset = tail.offset,
        bytes_skipped = tail.bytes,
        reason = %tail.reason,
        "failure journal {}: skipped a torn tail of {} bytes at byte {} ({}), the end of a write \
         cut short by a crash; the {entries} entries before it are intact; truncating the file there",
        path.display(),
        tail.bytes,
        tail.offset,
        tail.reason,
    );
    file.set_len(tail.offset)
        .and_then(|()| file.sync_all())
        .map_err(|e| JournalError::io(path, "truncate the torn tail of", e))
}

/// Damage with intact entries after it: nothing may be dropped silently, so the
/// file is preserved as `<name>.corrupt-<millis>` and the journal rewritten with
/// every intact entry, in order.
fn quarantine(path: &Path, scan: Scan) -> Result<Quarantine, JournalError> {
    let copy = preserve_copy(path)?;
    let mut source = File::open(&copy).map_err(|e| JournalError::io(&copy, "open", e))?;
    fsutil::replace_journal(path, |out| {
        for run in &scan.runs {
            fsutil::copy_range(&mut source, run, out)?;
        }
        Ok(())
    })?;
    let ranges: Vec<String> = scan
        .damaged
        .iter()
        .map(|d| format!("{} bytes at byte {} ({})", d.bytes, d.offset, d.reason))
        .collect();
    tracing::error!(
        journal = %path.display(),
        copy = %copy.display(),
        entries_kept = scan.entries,
        "failure journal {} is damaged before intact entries: {}; the damaged file was preserved \
         as {} and the journal rewritten with the {} intact entries; inspect or delete the copy",
        path.display(),
        ranges.join(", "),
        copy.display(),
        scan.entries,
    );
    Ok(Quarantine {
        copy,
        damaged: scan.damaged,
        entries_kept: scan.entries,
    })
}

/// Keeps the damaged file under a new name: a hard link (no copy, and `path`
/// itself is replaced atomically afterwards), or a copy where links fail.
fn preserve_copy(path: &Path) -> Result<PathBuf, JournalError> {
    let stamp = now_ms();
    let mut copy = fsutil::with_suffix(path, &format!(".corrupt-{stamp}"));
    let mut n = 1;
    while copy.exists() {
        copy = fsutil::with_suffix(path, &format!(".corrupt-{stamp}-{n}"));
        n += 1;
    }
    if fs::hard_link(path, &copy).is_err() {
        fs::copy(path, &copy)
            .and_then(|_| File::open(&copy)?.sync_all())
            .map_err(|e| JournalError::io(&copy, "preserve the damaged journal as", e))?;
    }
    fsutil::sync_parent_dir(&copy)?;
    Ok(copy)
}
