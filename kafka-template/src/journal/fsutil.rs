//! File-system steps the journal needs durable: syncing a directory after
//! creating or renaming in it, and replacing a file atomically.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::codec;
use super::error::JournalError;

/// Makes a creation or rename in `path`'s directory durable (a no-op where
/// directories cannot be opened, as on Windows).
pub(crate) fn sync_parent_dir(path: &Path) -> Result<(), JournalError> {
    #[cfg(unix)]
    {
        let dir = parent_dir(path);
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| JournalError::io(&dir, "fsync the directory of", e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Opens the journal file for reading and appending (positioning is explicit).
pub(crate) fn open_read_write(path: &Path) -> Result<File, JournalError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| JournalError::io(path, "open", e))
}

/// Replaces `path` with a new journal file: the file header, then what `fill`
/// writes. The new content goes to `<name>.rewrite`, is synced, and is renamed
/// over `path`, so a crash leaves either the old file or the new one, whole.
pub(crate) fn replace_journal<F>(path: &Path, fill: F) -> Result<(), JournalError>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    let temp = with_suffix(path, ".rewrite");
    let write = || -> io::Result<()> {
        let file = File::create(&temp)?;
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        out.write_all(&codec::file_header())?;
        fill(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&temp);
        return Err(JournalError::io(&temp, "write the rewritten journal", e));
    }
    fs::rename(&temp, path)
        .map_err(|e| JournalError::io(path, "rename the rewritten journal to", e))?;
    sync_parent_dir(path)
}

/// Copies `range` of `source` to `out`; an error if the file is shorter.
pub(crate) fn copy_range(
    source: &mut File,
    range: &Range<u64>,
    out: &mut impl Write,
) -> io::Result<()> {
    let len = range.end - range.start;
    source.seek(SeekFrom::Start(range.start))?;
    let copied = io::copy(&mut source.take(len), out)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the journal shrank while it was being rewritten",
        ));
    }
    Ok(())
}
