//! Replay without a broker: entries appended while a replay runs are kept,
//! replays exclude each other, a clear wins over a running replay, and a
//! replay that delivers nothing leaves the file as it was.

use bytes::Bytes;
use kafka_core::Header;
use kafka_template::journal::{FailureJournal, JournalEntry, JournalError, replay_with};

fn entry(topic: &str, i: u32) -> JournalEntry {
    JournalEntry {
        topic: topic.to_owned(),
        partition: None,
        key: Some(Bytes::from(format!("key-{i}"))),
        value: Some(Bytes::from(format!("value-{i}"))),
        headers: vec![Header::new("seq", i.to_string())],
        timestamp: Some(1_700_000_000_000),
        error: format!("failure {i}"),
        failed_at_ms: 1_700_000_500_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_appended_during_a_replay_are_kept_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    journal.append_all(&[entry("t", 0), entry("t", 1)]).unwrap();
    let appender = journal.clone();
    let mut sent = Vec::new();
    let report = replay_with(&journal, |record| {
        sent.push(record.key.clone());
        // The application keeps failing while the replay runs.
        let appender = appender.clone();
        let late = entry("late", sent.len() as u32 + 100);
        async move {
            appender.append_async(late).await?;
            Ok::<(), JournalError>(())
        }
    })
    .await
    .unwrap();
    assert_eq!((report.sent, report.remaining), (2, 2));
    let left: Vec<_> = journal.entries().unwrap().map(Result::unwrap).collect();
    assert_eq!(left, [entry("late", 101), entry("late", 102)]);
    assert_eq!(
        sent.len(),
        2,
        "entries appended during the replay wait for the next"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replay_at_a_time_and_a_clear_during_a_replay_wins() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    journal.append(&entry("t", 0)).unwrap();
    let other = journal.clone();
    let report = replay_with(&journal, |_| {
        let other = other.clone();
        async move {
            let second = replay_with(&other, |_| async { Ok::<(), String>(()) }).await;
            assert!(
                matches!(second, Err(JournalError::ReplayConflict { .. })),
                "{second:?}"
            );
            other.clear().unwrap();
            Ok::<(), String>(())
        }
    })
    .await;
    match report {
        Err(JournalError::ReplayConflict { reason, .. }) => {
            assert!(reason.contains("cleared or rewritten"), "{reason}")
        }
        other => panic!("expected ReplayConflict, got {other:?}"),
    }
    assert!(journal.is_empty());
    // The replay ended: another may start.
    let report = replay_with(&journal, |_| async { Ok::<(), String>(()) })
        .await
        .unwrap();
    assert_eq!(report.attempted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_that_sends_nothing_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failed.journal");
    let journal = FailureJournal::open(&path).unwrap();
    journal.append_all(&[entry("t", 0), entry("t", 1)]).unwrap();
    let before = std::fs::read(&path).unwrap();
    let report = replay_with(&journal, |_| async { Err("still down") })
        .await
        .unwrap();
    assert_eq!((report.failed, report.remaining), (2, 2));
    assert_eq!(report.last_error.as_deref(), Some("still down"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_racing_replays_are_each_sent_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..150 {
                    let id = w * 1000 + i;
                    if i % 3 == 0 {
                        journal
                            .append_all(&[entry("t", id), entry("t", id + 500)])
                            .unwrap();
                    } else if i % 3 == 1 {
                        journal.append(&entry("t", id)).unwrap();
                    }
                }
            })
        })
        .collect();
    let mut sent: Vec<u32> = Vec::new();
    let mut replays = 0;
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        replay_with(&journal, |record| {
            let seq = &record.headers[0].value.as_ref().unwrap()[..];
            sent.push(std::str::from_utf8(seq).unwrap().parse().unwrap());
            async { Ok::<(), String>(()) }
        })
        .await
        .unwrap();
        replays += 1;
        if done {
            break;
        }
    }
    for writer in writers {
        writer.join().unwrap();
    }
    let mut expected: Vec<u32> = (0..4u32)
        .flat_map(|w| {
            (0..150).flat_map(move |i| {
                let id = w * 1000 + i;
                match i % 3 {
                    0 => vec![id, id + 500],
                    1 => vec![id],
                    _ => vec![],
                }
            })
        })
        .collect();
    expected.sort_unstable();
    sent.sort_unstable();
    eprintln!("{replays} replays");
    assert!(replays >= 2, "the appends did not race a replay");
    assert_eq!(sent, expected, "after {replays} replays");
    assert!(journal.is_empty());
    assert!(FailureJournal::open(journal.path()).unwrap().is_empty());
}
