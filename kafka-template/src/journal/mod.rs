//! The failure journal: records that failed for good, kept durably in a file
//! to be sent again later ("record what failed for later processing").
//!
//! [`FailureJournal::append`] writes one framed [`JournalEntry`] (topic,
//! partition, key, value, headers, timestamp, the error and when it happened)
//! and syncs it to disk before returning. [`replay`] (or [`replay_with`] and any
//! send function) sends the entries again and then keeps only those that failed
//! again; a template replays its own journal with
//! [`KafkaTemplate::replay_failure_journal`](crate::KafkaTemplate::replay_failure_journal).
//! A crash in the middle of a write leaves a torn tail, which the next
//! [`FailureJournal::open`] detects, logs and cuts off; nothing in this module
//! panics on what it reads from the file.
//!
//! ```
//! use kafka_core::{KafkaError, ProducerRecord};
//! use kafka_template::journal::{FailureJournal, JournalEntry, replay_with};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let journal = FailureJournal::open(dir.path().join("orders.journal"))?;
//!
//! // Where a send failed for good (a callback, an awaited future):
//! let record = ProducerRecord::new("orders", "{\"id\":1}").with_key("order-1");
//! let error = KafkaError::Internal("brokers unreachable".into());
//! journal.append_async(JournalEntry::from_failed(&record, &error)).await?;
//!
//! // Later: send them again (here to a test double; `replay` takes a KafkaProducer).
//! let mut resent = Vec::new();
//! let report = replay_with(&journal, |record| {
//!     resent.push(record);
//!     async { Ok::<(), KafkaError>(()) }
//! })
//! .await?;
//! assert_eq!(report.sent, 1);
//! assert_eq!(resent, [record]);
//! assert!(journal.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # File format (version 1)
//!
//! All integers are **big-endian**, as in Kafka's own protocol.
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic `KTJOURNL` |
//! | 4 | format version, `1` |
//! | *then, per entry, a frame:* | |
//! | 4 | frame marker `FA 11 ED 01` |
//! | 4 | payload length *n* (at most [`MAX_ENTRY_BYTES`], 64 MiB) |
//! | 4 | CRC-32C (Castagnoli) of the 4 length bytes followed by the payload |
//! | *n* | payload |
//!
//! The payload, field by field (`str` and `bytes` are a u32 length then the
//! bytes, `str` being UTF-8; `opt<T>` is a presence byte, 0 or 1, then `T` if
//! 1; no bytes may follow the last field):
//!
//! | field | encoding |
//! |---|---|
//! | `failed_at_ms` | i64 |
//! | `topic` | str |
//! | `partition` | opt\<i32\> |
//! | `timestamp` | opt\<i64\> |
//! | `key` | opt\<bytes\> |
//! | `value` | opt\<bytes\> |
//! | `headers` | u32 count, then per header: key as str, value as opt\<bytes\> |
//! | `error` | str |
//!
//! The CRC covers the length too, so a damaged length is caught. The marker
//! lets [`FailureJournal::open`] find the next intact frame after a damaged
//! one without trying every byte offset. Every length read is checked against
//! the limit and against what is left of the file (or payload) before any
//! memory is reserved.
//!
//! # Durability
//!
//! Each append is a single `write` of whole frames (its own, or those of all
//! appends gathered meanwhile) at the end of the last intact frame, followed
//! by `fdatasync`; it returns only after that. Creating the file
//! writes and syncs the header and syncs the directory. A failed write is
//! rolled back by truncating to the previous end. Rewrites (replay, clear,
//! quarantine) write `<name>.rewrite`, sync it, rename it over the journal and
//! sync the directory, so a crash leaves the old file or the new one, whole.
//!
//! Appends within a process are serialized, with group commit: appends that
//! arrive while a write and sync are running are written together by the next
//! one, with one `write` and one `fdatasync`, so a burst of failures (a whole
//! batch expiring) costs a few syncs, not one per record. Each append still
//! returns only once its own frames are synced. Only one process may use a
//! journal at a time; stop the application before replaying its journal from
//! another process (the `replay_journal` example).
//!
//! # Recovery on open
//!
//! [`FailureJournal::open`] reads every frame. What it finds is in
//! [`FailureJournal::open_report`]:
//!
//! - **A torn tail**: the frames end in bytes that are not an intact frame
//!   (cut short, a CRC mismatch, garbage) and no intact frame follows. This is
//!   what a crash during an append leaves. The tail is logged as a warning
//!   (file, offset, bytes skipped, reason) and the file truncated to the end of
//!   the last intact entry, so new appends follow it. The entry lost was never
//!   acknowledged as written: its append had not returned.
//! - **Damage in the middle**: bytes that are not an intact frame, with intact
//!   frames after them. A crash cannot cause this (appends go only at the end);
//!   a damaged disk or a foreign write can. Truncating would throw away the
//!   good entries after the damage, and refusing to open would stop the
//!   application recording failures, so instead the damaged file is kept byte
//!   for byte as `<name>.corrupt-<unix millis>` (a hard link, or a copy), the
//!   journal is rewritten with every intact entry in order, and an error is
//!   logged naming the copy and the damaged ranges. Nothing is dropped
//!   silently: what could not be read is still in the copy.
//! - **Not a journal**: a file that does not start with the magic is refused
//!   with [`JournalError::NotAJournal`] and left untouched; a newer format
//!   version with [`JournalError::UnsupportedVersion`]. A file shorter than the
//!   header that is a prefix of it (a crash while creating it) gets its header
//!   again.
//!
//! Reading ([`FailureJournal::entries`]) meets damage only if the file changed
//! after opening: it logs a warning and yields one [`JournalError::Corrupt`],
//! then ends.

#![warn(missing_docs)]

mod codec;
mod entry;
mod error;
mod failure_journal;
mod frames;
mod fsutil;
mod reader;
mod recovery;
mod replay;

pub use codec::MAX_ENTRY_BYTES;
pub use entry::JournalEntry;
pub use error::JournalError;
pub use failure_journal::FailureJournal;
pub use reader::JournalReader;
pub use recovery::{DamagedRange, OpenReport, Quarantine};
pub use replay::{ReplayReport, replay, replay_with};
