//! A write that fails part-way (here: the file-size limit, `ulimit -f`, cuts
//! it short with EFBIG) is rolled back: the append reports the error, the
//! journal stays valid, and later appends that fit succeed.
//!
//! The writer is this test binary run again under `sh -c 'ulimit -f ..'` with
//! `KT_JOURNAL_FSIZE_CHILD` set; SIGXFSZ is ignored so the write fails instead
//! of killing the process.

use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use kafka_template::journal::{FailureJournal, JournalEntry, JournalError};

const CHILD_ENV: &str = "KT_JOURNAL_FSIZE_CHILD";
const TEST_NAME: &str = "a_write_cut_short_is_rolled_back_and_appends_continue";

fn entry(i: u32, value_len: usize) -> JournalEntry {
    JournalEntry {
        topic: "t".into(),
        partition: None,
        key: Some(Bytes::from(format!("k{i}"))),
        value: Some(Bytes::from(vec![b'v'; value_len])),
        headers: vec![],
        timestamp: None,
        error: "e".into(),
        failed_at_ms: i64::from(i),
    }
}

#[test]
fn a_write_cut_short_is_rolled_back_and_appends_continue() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        run_child(Path::new(&path));
    }
    if !cfg!(unix) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let exe = std::env::current_exe().unwrap();
    // 2048 blocks is 1 MiB (512-byte blocks) or 2 MiB (1 KiB blocks): the
    // 4 MiB entry does not fit either way, the small ones do.
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -f 2048 && trap '' XFSZ && exec "$0" "$1" --exact --nocapture --test-threads=1"#)
        .arg(&exe)
        .arg(TEST_NAME)
        .env(CHILD_ENV, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("big append failed: failure journal"),
        "{stdout}"
    );
    assert!(stdout.contains("cannot append to"), "{stdout}");

    let journal = FailureJournal::open(&path).unwrap();
    let report = journal.open_report();
    assert!(
        report.torn_tail.is_none(),
        "the failed write was cut off: {report:?}"
    );
    let read: Vec<_> = journal.entries().unwrap().map(Result::unwrap).collect();
    assert_eq!(read, [entry(0, 1000), entry(2, 1000)]);
}

/// Appends a small entry, one too big for the size limit, and another small.
fn run_child(path: &Path) -> ! {
    let journal = FailureJournal::open(path).unwrap();
    journal.append(&entry(0, 1000)).unwrap();
    match journal.append(&entry(1, 4 << 20)) {
        Err(e @ JournalError::Io { .. }) => println!("big append failed: {e}"),
        other => println!("big append: unexpected {other:?}"),
    }
    journal.append(&entry(2, 1000)).unwrap();
    println!("small append after it: ok");
    std::process::exit(0)
}
