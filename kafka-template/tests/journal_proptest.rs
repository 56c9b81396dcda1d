//! Properties of the failure journal: any entries round-trip; any bytes as a
//! journal file open and read without a panic; a damaged journal never yields
//! an entry that was not written, and a truncated one yields exactly the
//! entries that were whole.

mod journal_common;

use bytes::Bytes;
use journal_common::{capture_logs, frame_offsets};
use kafka_core::Header;
use kafka_template::journal::{FailureJournal, JournalEntry, JournalError};
use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from))
}

fn entry() -> impl Strategy<Value = JournalEntry> {
    let headers = proptest::collection::vec(
        (any::<String>(), bytes()).prop_map(|(key, value)| Header { key, value }),
        0..4,
    );
    (
        any::<String>(),
        any::<Option<i32>>(),
        bytes(),
        bytes(),
        headers,
        any::<Option<i64>>(),
        any::<String>(),
        any::<i64>(),
    )
        .prop_map(
            |(topic, partition, key, value, headers, timestamp, error, failed_at_ms)| {
                JournalEntry {
                    topic,
                    partition,
                    key,
                    value,
                    headers,
                    timestamp,
                    error,
                    failed_at_ms,
                }
            },
        )
}

fn entries() -> impl Strategy<Value = Vec<JournalEntry>> {
    proptest::collection::vec(entry(), 1..6)
}

/// Opens `bytes` as a journal file: the entries read, or the open error.
fn open_bytes(bytes: &[u8]) -> Result<(FailureJournal, Vec<JournalEntry>), JournalError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    std::fs::write(&path, bytes).unwrap();
    let journal = FailureJournal::open(&path)?;
    let read: Vec<JournalEntry> = journal.entries()?.collect::<Result<_, _>>()?;
    let reopened: Vec<JournalEntry> = FailureJournal::open(&path)?
        .entries()?
        .collect::<Result<_, _>>()?;
    assert_eq!(read, reopened, "a repaired journal reads the same again");
    journal.append(&JournalEntry {
        topic: "after".into(),
        partition: None,
        key: None,
        value: None,
        headers: vec![],
        timestamp: None,
        error: String::new(),
        failed_at_ms: 0,
    })?;
    let after = FailureJournal::open(&path)?
        .entries()?
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(
        after.len(),
        read.len() + 1,
        "appends follow the kept entries"
    );
    Ok((journal, read))
}

fn journal_bytes(entries: &[JournalEntry]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    FailureJournal::open(&path)
        .unwrap()
        .append_all(entries)
        .unwrap();
    std::fs::read(&path).unwrap()
}

fn is_subsequence(part: &[JournalEntry], whole: &[JournalEntry]) -> bool {
    let mut whole = whole.iter();
    part.iter().all(|p| whole.any(|w| w == p))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_entries_round_trip(written in entries()) {
        let (_, read) = open_bytes(&journal_bytes(&written)).unwrap();
        prop_assert_eq!(read, written);
    }

    #[test]
    fn any_bytes_open_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (result, _) = capture_logs(|| open_bytes(&bytes));
        match result {
            // A header cut short is repaired; random bytes are never entries.
            Ok((_, read)) => prop_assert!(read.is_empty()),
            Err(e) => prop_assert!(
                matches!(e, JournalError::NotAJournal { .. } | JournalError::UnsupportedVersion { .. }),
                "{e:?}"
            ),
        }
    }

    #[test]
    fn any_bytes_after_a_valid_header_open_without_panicking(
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
        marker_at in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        // Sprinkle frame markers so the resync path is exercised too.
        let mut bytes = b"KTJOURNL\0\0\0\x01".to_vec();
        let mut tail = tail;
        for at in marker_at {
            if tail.len() >= 4 {
                let i = at.index(tail.len() - 3);
                tail[i..i + 4].copy_from_slice(&[0xFA, 0x11, 0xED, 0x01]);
            }
        }
        bytes.extend_from_slice(&tail);
        let (result, _) = capture_logs(|| open_bytes(&bytes));
        prop_assert!(result.is_ok(), "{:?}", result.err());
    }

    #[test]
    fn damage_never_makes_up_entries(
        written in entries(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let mut bytes = journal_bytes(&written);
        for (at, mask) in flips {
            let i = 12 + at.index(bytes.len() - 12);
            bytes[i] ^= mask;
        }
        let (result, _) = capture_logs(|| open_bytes(&bytes));
        let (journal, read) = result.unwrap();
        prop_assert!(read.len() < written.len(), "a damaged entry was read");
        prop_assert!(is_subsequence(&read, &written));
        let report = journal.open_report();
        prop_assert!(report.torn_tail.is_some() || report.quarantine.is_some());
    }

    #[test]
    fn a_truncated_journal_keeps_exactly_the_whole_entries(
        written in entries(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = journal_bytes(&written);
        let cut = 12 + cut.index(bytes.len() - 12 + 1);
        let whole = frame_offsets(&bytes)
            .iter()
            .skip(1)
            .chain(std::iter::once(&bytes.len()))
            .filter(|&&end| end <= cut)
            .count();
        let (result, _) = capture_logs(|| open_bytes(&bytes[..cut]));
        let (journal, read) = result.unwrap();
        prop_assert_eq!(&read[..], &written[..whole]);
        let report = journal.open_report();
        prop_assert_eq!(report.quarantine.clone(), None);
        let at_boundary = cut == bytes.len() || frame_offsets(&bytes).contains(&cut);
        prop_assert_eq!(report.torn_tail.is_none(), at_boundary);
    }
}
