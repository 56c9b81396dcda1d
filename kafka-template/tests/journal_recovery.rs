//! Opening a damaged journal: a torn tail (cut short, garbage after it, a
//! damaged last entry) is logged, cut off, and appends continue after the
//! intact entries; damage before intact entries is quarantined, not dropped.

mod journal_common;

use std::path::Path;

use journal_common::{capture_logs, frame_offsets, full_entry, read_all};
use kafka_template::journal::{FailureJournal, JournalError, OpenReport};

/// A journal file holding `n` entries; returns its bytes.
fn write_journal(path: &Path, n: u32) -> Vec<u8> {
    let journal = FailureJournal::open(path).unwrap();
    for i in 0..n {
        journal.append(&full_entry(i)).unwrap();
    }
    std::fs::read(path).unwrap()
}

/// Opens `path`, checks that exactly the first `kept` entries are there and
/// that an append after them reads back, and returns the report and the logs.
fn open_and_check(path: &Path, kept: u32) -> (OpenReport, String) {
    let (journal, logs) = capture_logs(|| FailureJournal::open(path));
    let journal = journal.unwrap();
    let expected: Vec<_> = (0..kept).map(full_entry).collect();
    assert_eq!(read_all(&journal), expected);
    assert_eq!(journal.len(), u64::from(kept));
    journal.append(&full_entry(1000)).unwrap();
    let report = journal.open_report().clone();
    drop(journal);
    let (reopened, second_logs) = capture_logs(|| FailureJournal::open(path));
    let reopened = reopened.unwrap();
    assert!(
        second_logs.is_empty(),
        "the repaired file opens cleanly: {second_logs}"
    );
    let mut expected = expected;
    expected.push(full_entry(1000));
    assert_eq!(read_all(&reopened), expected);
    (report, logs)
}

#[test]
fn a_last_entry_cut_at_any_byte_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let whole = write_journal(&path, 3);
    let last = *frame_offsets(&whole).last().unwrap();
    for cut in last + 1..whole.len() {
        std::fs::write(&path, &whole[..cut]).unwrap();
        let (report, logs) = open_and_check(&path, 2);
        let tail = report.torn_tail.expect("a torn tail");
        assert_eq!(tail.offset, last as u64, "cut at {cut}");
        assert_eq!(tail.bytes, (cut - last) as u64, "cut at {cut}");
        assert!(report.quarantine.is_none());
        assert_eq!(report.entries, 2);
        assert!(logs.contains("WARN"), "{logs}");
        assert!(logs.contains(&path.display().to_string()), "{logs}");
        assert!(
            logs.contains(&format!("torn tail of {} bytes at byte {last}", cut - last)),
            "{logs}"
        );
    }
    // Cut exactly at an entry boundary: nothing to repair.
    std::fs::write(&path, &whole[..last]).unwrap();
    let (report, logs) = open_and_check(&path, 2);
    assert!(report.torn_tail.is_none(), "{report:?}");
    assert!(logs.is_empty(), "{logs}");
}

#[test]
fn garbage_after_the_last_entry_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let whole = write_journal(&path, 4);
    let garbage_kinds: Vec<Vec<u8>> = vec![
        vec![0; 4096],                              // zeros, as a crash can leave
        (0..=255u8).cycle().take(10_000).collect(), // a counting pattern
        vec![
            0xFA, 0x11, 0xED, 0x01, 0, 0, 0, 5, 1, 2, 3, 4, 9, 9, 9, 9, 9,
        ], // a marker, a bad CRC
        vec![0xFA, 0x11, 0xED, 0x01, 0xFF, 0xFF, 0xFF, 0xFF], // a marker, a huge length
        vec![0xFA],                                 // one byte
    ];
    for garbage in garbage_kinds {
        let mut bytes = whole.clone();
        bytes.extend_from_slice(&garbage);
        std::fs::write(&path, &bytes).unwrap();
        let (report, logs) = open_and_check(&path, 4);
        let tail = report.torn_tail.expect("a torn tail");
        assert_eq!(tail.offset, whole.len() as u64);
        assert_eq!(tail.bytes, garbage.len() as u64);
        assert!(logs.contains("WARN"), "{logs}");
    }
}

#[test]
fn any_damaged_byte_of_the_last_entry_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let whole = write_journal(&path, 3);
    let last = *frame_offsets(&whole).last().unwrap();
    for at in last..whole.len() {
        let mut bytes = whole.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let (report, logs) = open_and_check(&path, 2);
        let tail = report.torn_tail.expect("a torn tail");
        assert_eq!(tail.offset, last as u64, "byte {at}");
        assert_eq!(tail.bytes, (whole.len() - last) as u64, "byte {at}");
        assert!(
            logs.contains("checksum mismatch")
                || logs.contains("no frame marker")
                || logs.contains("runs past the end")
                || logs.contains("limit"),
            "byte {at}: {logs}"
        );
    }
}

#[test]
fn damage_before_intact_entries_is_quarantined_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.journal");
    let whole = write_journal(&path, 5);
    let offsets = frame_offsets(&whole);
    // Damage the payload of the second entry and the length of the fourth.
    let mut bytes = whole.clone();
    bytes[offsets[1] + 20] ^= 0xFF;
    bytes[offsets[3] + 5] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();

    let (journal, logs) = capture_logs(|| FailureJournal::open(&path));
    let journal = journal.unwrap();
    let report = journal.open_report().clone();
    let quarantine = report.quarantine.expect("quarantined");
    assert!(report.torn_tail.is_none());
    assert_eq!(report.entries, 3);
    assert_eq!(quarantine.entries_kept, 3);
    let damaged: Vec<_> = quarantine
        .damaged
        .iter()
        .map(|d| (d.offset as usize, d.end() as usize))
        .collect();
    assert_eq!(
        damaged,
        [(offsets[1], offsets[2]), (offsets[3], offsets[4])]
    );
    // The damaged file is kept byte for byte, next to the journal.
    assert_eq!(std::fs::read(&quarantine.copy).unwrap(), bytes);
    assert_eq!(quarantine.copy.parent(), path.parent());
    let copy_name = quarantine.copy.file_name().unwrap().to_string_lossy();
    assert!(
        copy_name.starts_with("orders.journal.corrupt-"),
        "{copy_name}"
    );
    // The journal holds every intact entry, in order, and takes appends.
    assert_eq!(
        read_all(&journal),
        [full_entry(0), full_entry(2), full_entry(4)]
    );
    journal.append(&full_entry(5)).unwrap();
    assert_eq!(FailureJournal::open(&path).unwrap().len(), 4);
    // Logged as an error naming the copy and the ranges.
    assert!(logs.contains("ERROR"), "{logs}");
    assert!(logs.contains(&copy_name.to_string()), "{logs}");
    assert!(
        logs.contains(&format!(
            "{} bytes at byte {}",
            offsets[2] - offsets[1],
            offsets[1]
        )),
        "{logs}"
    );
    assert!(!dir.path().join("orders.journal.rewrite").exists());
}

#[test]
fn damage_in_the_middle_and_a_torn_tail_together_are_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let whole = write_journal(&path, 4);
    let offsets = frame_offsets(&whole);
    let mut bytes = whole.clone();
    bytes[offsets[0] + 13] ^= 0x04;
    bytes.truncate(whole.len() - 3);
    std::fs::write(&path, &bytes).unwrap();
    let (journal, _) = capture_logs(|| FailureJournal::open(&path));
    let journal = journal.unwrap();
    let quarantine = journal.open_report().quarantine.clone().unwrap();
    assert_eq!(quarantine.damaged.len(), 2);
    assert_eq!(
        quarantine.damaged[1].end(),
        bytes.len() as u64,
        "the tail is part of it"
    );
    assert_eq!(read_all(&journal), [full_entry(1), full_entry(2)]);
}

#[test]
fn a_header_cut_short_is_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    for len in 0..12 {
        std::fs::write(&path, &b"KTJOURNL\0\0\0\x01"[..len]).unwrap();
        let (journal, logs) = capture_logs(|| FailureJournal::open(&path));
        let journal = journal.unwrap();
        let report = journal.open_report();
        assert!(report.created);
        assert_eq!(report.torn_tail.is_some(), len > 0, "len {len}");
        assert_eq!(logs.contains("header was cut short"), len > 0, "{logs}");
        journal.append(&full_entry(0)).unwrap();
        assert_eq!(
            read_all(&FailureJournal::open(&path).unwrap()),
            [full_entry(0)]
        );
    }
}

#[test]
fn a_reader_stops_at_damage_made_after_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let whole = write_journal(&path, 3);
    let offsets = frame_offsets(&whole);
    let journal = FailureJournal::open(&path).unwrap();
    let mut bytes = whole.clone();
    bytes[offsets[1] + 30] ^= 0x02;
    // Rewrite in place (same inode), as a damaged disk would.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
        .unwrap();
    let (items, logs) = capture_logs(|| journal.entries().unwrap().collect::<Vec<_>>());
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap(), &full_entry(0));
    match &items[1] {
        Err(JournalError::Corrupt { offset, reason, .. }) => {
            assert_eq!(*offset, offsets[1] as u64);
            assert_eq!(reason, "checksum mismatch");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(
        logs.contains("WARN") && logs.contains("stopped reading"),
        "{logs}"
    );
}
