//! The failure journal keeps every field of every entry across reopening,
//! refuses what it cannot hold, and stays consistent under concurrent appends.

mod journal_common;

use std::sync::Arc;

use bytes::Bytes;
use journal_common::{bare_entry, frame_offsets, full_entry, read_all};
use kafka_core::{KafkaError, ProducerRecord, SendError};
use kafka_template::journal::{FailureJournal, JournalEntry, JournalError, MAX_ENTRY_BYTES};

#[test]
fn every_field_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failed.journal");
    let written: Vec<JournalEntry> = (0..20)
        .map(|i| {
            if i % 3 == 0 {
                bare_entry(i)
            } else {
                full_entry(i)
            }
        })
        .collect();
    {
        let journal = FailureJournal::open(&path).unwrap();
        for entry in &written {
            journal.append(entry).unwrap();
        }
        assert_eq!(journal.len(), 20);
        assert_eq!(read_all(&journal), written);
    }
    let journal = FailureJournal::open(&path).unwrap();
    let report = journal.open_report();
    assert_eq!(report.entries, 20);
    assert!(!report.created);
    assert!(report.torn_tail.is_none() && report.quarantine.is_none());
    let read = read_all(&journal);
    assert_eq!(read, written);
    // Null stays distinct from empty.
    assert_eq!(read[1].headers[1].value, None);
    assert_eq!(read[1].headers[2].value, Some(Bytes::new()));
    assert_eq!(read[0].key, None);
    assert_eq!(read[0].value, None);
}

#[test]
fn the_file_is_laid_out_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failed.journal");
    let journal = FailureJournal::open(&path).unwrap();
    let entry = JournalEntry {
        topic: "t".into(),
        partition: Some(1),
        key: None,
        value: Some(Bytes::from_static(b"v")),
        headers: vec![kafka_core::Header::null("h")],
        timestamp: None,
        error: "e".into(),
        failed_at_ms: 2,
    };
    journal.append(&entry).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut expected = b"KTJOURNL\0\0\0\x01".to_vec();
    let payload: Vec<u8> = [
        &[0, 0, 0, 0, 0, 0, 0, 2][..], // failed_at_ms
        &[0, 0, 0, 1, b't'],           // topic
        &[1, 0, 0, 0, 1],              // partition
        &[0],                          // timestamp absent
        &[0],                          // key null
        &[1, 0, 0, 0, 1, b'v'],        // value
        &[0, 0, 0, 1],                 // one header
        &[0, 0, 0, 1, b'h', 0],        // key "h", null value
        &[0, 0, 0, 1, b'e'],           // error
    ]
    .concat();
    expected.extend_from_slice(&[0xFA, 0x11, 0xED, 0x01]);
    let len = (payload.len() as u32).to_be_bytes();
    expected.extend_from_slice(&len);
    let crc = crc32c::crc32c_append(crc32c::crc32c(&len), &payload);
    expected.extend_from_slice(&crc.to_be_bytes());
    expected.extend_from_slice(&payload);
    assert_eq!(bytes, expected);
    assert_eq!(frame_offsets(&bytes), [12]);
}

#[test]
fn entries_come_from_failed_sends_and_go_back_as_the_same_records() {
    let record = ProducerRecord::new("orders", "{\"id\":9}")
        .with_key("order-9")
        .with_partition(4)
        .with_timestamp(1_650_000_000_000)
        .with_header("tenant", "acme");
    let error = KafkaError::Internal("gave up".into());
    let entry = JournalEntry::from_failed(&record, &error);
    assert_eq!(entry.error, "gave up");
    assert_eq!(entry.to_record(), record);
    let from_send = JournalEntry::from_send_error(&SendError::new(error, record.clone())).unwrap();
    assert_eq!(from_send.to_record(), record);
    assert_eq!(from_send.clone().into_record(), record);
    // Debug shows sizes, not the bytes.
    let debug = format!("{entry:?}");
    assert!(debug.contains("value_len: Some(8)"), "{debug}");
    assert!(!debug.contains("order-9"), "{debug}");
}

#[test]
fn append_all_writes_every_entry_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("j")).unwrap();
    let good: Vec<_> = (0..5).map(full_entry).collect();
    journal.append_all(&good).unwrap();
    let too_big = JournalEntry {
        value: Some(Bytes::from(vec![7u8; MAX_ENTRY_BYTES])),
        ..full_entry(99)
    };
    let batch = vec![full_entry(5), too_big];
    match journal.append_all(&batch) {
        Err(JournalError::EntryTooLarge { topic, size, max }) => {
            assert_eq!(topic, full_entry(99).topic);
            assert!(size > max);
            assert_eq!(max, MAX_ENTRY_BYTES);
        }
        other => panic!("expected EntryTooLarge, got {other:?}"),
    }
    assert_eq!(journal.len(), 5);
    assert_eq!(read_all(&journal), good);
    journal.append_all(&[]).unwrap();
    assert_eq!(journal.len(), 5);
}

#[test]
fn an_entry_just_under_the_limit_fits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let journal = FailureJournal::open(&path).unwrap();
    // Payload = 8 + (4+1) topic + 1 + 1 + 1 + (1+4+n) value + 4 + (4+0) error.
    let overhead = 8 + 5 + 1 + 1 + 1 + 5 + 4 + 4;
    let entry = JournalEntry {
        topic: "t".into(),
        partition: None,
        key: None,
        value: Some(Bytes::from(vec![1u8; MAX_ENTRY_BYTES - overhead])),
        headers: vec![],
        timestamp: None,
        error: String::new(),
        failed_at_ms: 0,
    };
    journal.append(&entry).unwrap();
    let reopened = FailureJournal::open(&path).unwrap();
    assert_eq!(read_all(&reopened), std::slice::from_ref(&entry));
    let one_more = JournalEntry {
        error: "x".into(),
        ..entry
    };
    assert!(matches!(
        journal.append(&one_more),
        Err(JournalError::EntryTooLarge { .. })
    ));
}

#[test]
fn concurrent_appends_from_many_threads_all_land_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let journal = Arc::new(FailureJournal::open(&path).unwrap());
    let threads: Vec<_> = (0..8u32)
        .map(|t| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    journal.append(&full_entry(t * 1000 + i)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let reopened = FailureJournal::open(&path).unwrap();
    let mut ids: Vec<i64> = read_all(&reopened)
        .iter()
        .map(|e| e.failed_at_ms - 1_700_000_100_000)
        .collect();
    assert_eq!(ids.len(), 200);
    // Each thread's entries keep their order.
    for t in 0..8 {
        let mine: Vec<_> = ids.iter().filter(|&&id| id / 1000 == t).collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
    }
    ids.sort_unstable();
    let expected: Vec<i64> = (0..8)
        .flat_map(|t| (0..25).map(move |i| t * 1000 + i))
        .collect();
    assert_eq!(ids, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_async_runs_off_the_runtime_and_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let journal = FailureJournal::open(&path).unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let journal = journal.clone();
            tokio::spawn(async move { journal.append_async(full_entry(i)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(FailureJournal::open(&path).unwrap().len(), 10);
}

#[test]
fn a_reader_sees_what_was_there_when_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("j")).unwrap();
    journal.append(&full_entry(0)).unwrap();
    let mut reader = journal.entries().unwrap();
    journal.append(&full_entry(1)).unwrap();
    assert_eq!(reader.next().unwrap().unwrap(), full_entry(0));
    assert!(reader.next().is_none());
    assert_eq!(read_all(&journal).len(), 2);
}

#[test]
fn clear_empties_the_journal_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let journal = FailureJournal::open(&path).unwrap();
    journal.append_all(&[full_entry(0), full_entry(1)]).unwrap();
    let clone = journal.clone();
    clone.clear().unwrap();
    assert!(journal.is_empty());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 12);
    journal.append(&full_entry(2)).unwrap();
    assert_eq!(
        read_all(&FailureJournal::open(&path).unwrap()),
        [full_entry(2)]
    );
    assert!(!dir.path().join("j.rewrite").exists());
}

#[test]
fn files_that_are_not_journals_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    for content in [
        &b"some config file\nwith lines\n"[..],
        b"KTJOURNx", // shorter than the header, and not a prefix of it
        b"\0\0\0\0\0\0\0\0\0\0\0\x01 more bytes after",
        b"KTJOURNX\0\0\0\x01",
    ] {
        let path = dir.path().join("other");
        std::fs::write(&path, content).unwrap();
        let error = FailureJournal::open(&path).unwrap_err();
        assert!(
            matches!(error, JournalError::NotAJournal { .. }),
            "{content:?}: {error:?}"
        );
        assert!(error.to_string().contains("left untouched"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), content);
    }
    let path = dir.path().join("future");
    std::fs::write(&path, b"KTJOURNL\0\0\0\x02").unwrap();
    match FailureJournal::open(&path).unwrap_err() {
        JournalError::UnsupportedVersion {
            version, supported, ..
        } => assert_eq!((version, supported), (2, 1)),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn io_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the journal file should be.
    let path = dir.path().join("is-a-dir");
    std::fs::create_dir(&path).unwrap();
    let error = FailureJournal::open(&path).unwrap_err();
    assert!(matches!(error, JournalError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("is-a-dir"), "{error}");
}

/// One writer per journal: a second open in this process shares the first's
/// file and position (nothing is written over), and a journal whose lock
/// another process holds is refused.
#[test]
fn one_writer_per_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failed.journal");
    let first = FailureJournal::open(&path).unwrap();
    let second = FailureJournal::open(&path).unwrap();
    let record = ProducerRecord::new("orders", "v");
    let failed = KafkaError::Internal("down".into());
    first
        .append(&JournalEntry::from_failed(&record, &failed))
        .unwrap();
    second
        .append(&JournalEntry::from_failed(&record, &failed))
        .unwrap();
    assert_eq!((first.len(), second.len()), (2, 2));
    drop((first, second));
    assert_eq!(FailureJournal::open(&path).unwrap().len(), 2, "both kept");

    // Another process's lock (a second open file description of the lock
    // file, as another process would hold).
    let lock_path = dir.path().join("failed.journal.lock");
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    match FailureJournal::open(&path) {
        Err(JournalError::InUse { path: p, lock }) => {
            assert_eq!((p, lock), (path.clone(), lock_path.clone()));
        }
        other => panic!("expected InUse, got {:?}", other.map(|j| j.len())),
    }
    drop(held);
    assert_eq!(FailureJournal::open(&path).unwrap().len(), 2);
}
