//! Shared helpers for the failure-journal tests: sample entries and a capture
//! of the journal's log output.

#![allow(dead_code)] // each test binary uses a different part

use bytes::Bytes;
use kafka_core::Header;
use kafka_template::journal::{FailureJournal, JournalEntry};

#[path = "../log_capture/mod.rs"]
mod log_capture;
#[allow(unused_imports)] // each test binary uses a different part
pub use log_capture::capture_logs;

/// An entry with every field set, and the awkward cases: unicode topic, key
/// and error, a null header value, an empty header value, a repeated key.
pub fn full_entry(i: u32) -> JournalEntry {
    JournalEntry {
        topic: format!("주문-orders-{i}"),
        partition: Some(i as i32 % 7),
        key: Some(Bytes::from(format!("ключ-{i}"))),
        value: Some(Bytes::from(format!("{{\"id\":{i},\"name\":\"café ☕\"}}"))),
        headers: vec![
            Header::new("trace-id", format!("trace-{i}")),
            Header::null("null-header"),
            Header::new("empty", Bytes::new()),
            Header::new("trace-id", "repeated key"),
        ],
        timestamp: Some(1_700_000_000_000 + i64::from(i)),
        error: format!("broker rejected the batch: NOT_ENOUGH_REPLICAS ({i}) — ошибка"),
        failed_at_ms: 1_700_000_100_000 + i64::from(i),
    }
}

/// Every entry the journal holds, failing the test on any error.
pub fn read_all(journal: &FailureJournal) -> Vec<JournalEntry> {
    journal
        .entries()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// An entry with everything optional absent.
pub fn bare_entry(i: u32) -> JournalEntry {
    JournalEntry {
        topic: format!("t{i}"),
        partition: None,
        key: None,
        value: None,
        headers: Vec::new(),
        timestamp: None,
        error: String::new(),
        failed_at_ms: 0,
    }
}

/// Byte offsets where each frame of a journal file starts, found by walking
/// the format independently of the library (header 12 bytes, frame header 12
/// bytes with the payload length at 4..8, big-endian).
pub fn frame_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 12;
    while pos + 12 <= bytes.len() {
        offsets.push(pos);
        let len = u32::from_be_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 12 + len;
    }
    assert_eq!(pos, bytes.len(), "the test walked off the frames");
    offsets
}
