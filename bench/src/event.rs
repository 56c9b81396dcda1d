//! The typed record the `ours-avro` and `template` clients send: a
//! `#[derive(KafkaRecord)]` struct with an Avro value, made per record from
//! the text of the payload's line and key, as an application makes its events
//! from strings it holds.

use std::sync::Arc;

use anyhow::Context;
use kafka_derive::KafkaRecord;

use crate::payload::Payload;

/// A benchmark event. Its Avro value is about as long as the payload it is made
/// from: two small longs and the note (the payload less [`AVRO_OVERHEAD`] bytes).
#[derive(serde::Serialize, KafkaRecord)]
#[kafka(
    topic = "${kafka.topics.bench}",
    format = "avro",
    namespace = "kafka.bench"
)]
pub struct BenchEvent {
    /// The record key (not part of the value).
    #[kafka(key)]
    #[serde(skip)]
    pub key: Option<Arc<str>>,
    /// The record's index in the run.
    pub sequence: i64,
    /// A small number, as events carry.
    pub amount_cents: i64,
    /// The text of the payload.
    pub note: Arc<str>,
}

/// Bytes of the Avro value that are not the note: the two longs (zig-zag
/// varints) and the note's length.
pub const AVRO_OVERHEAD: usize = 8;

/// The text events are made of: each payload line's note and each key, read
/// as UTF-8 once, the first time a record uses it, and moved into each event
/// made from it afterwards ([`event`](EventTexts::event)) and back again once
/// it is sent ([`give_back`](EventTexts::give_back)).
///
/// The raw-bytes clients hand the payload's bytes to their producer as they
/// are; the typed clients likewise start from strings already made, so that
/// what they measure is making, encoding and sending the event, not checking
/// and copying the payload file's bytes into new strings on every record (about
/// 460 instructions a record under callgrind, 9% of the template client's).
///
/// The texts are moved, not shared: an application's event owns what it
/// carries. Cloning each text's `Arc` instead bumps a reference count in a
/// line of its own, one of 10,000, which the sending thread rarely has in its
/// cache; the atomic write waits for the line, and took about 10% of the
/// template client's perf samples (100-byte keyed records), a cost of this
/// harness and not of the template. The raw clients' payloads share one
/// buffer's count for the same reason (see [`Payloads`](crate::payload::Payloads)).
#[derive(Debug, Default)]
pub struct EventTexts {
    notes: Vec<Option<Arc<str>>>,
    keys: Vec<Option<Arc<str>>>,
}

impl EventTexts {
    /// No text read yet.
    pub fn new() -> EventTexts {
        EventTexts::default()
    }

    /// The event for record `index` with `payload`'s key and value, holding
    /// the texts of its line and key until [`give_back`](Self::give_back)
    /// returns them (an event not given back leaves them to be made again).
    pub fn event(&mut self, index: u64, payload: Payload<'_>) -> anyhow::Result<BenchEvent> {
        let key = match payload.key {
            Some(key) => {
                Some(take_text(&mut self.keys, payload.key_number, key).context("keys are UTF-8")?)
            }
            None => None,
        };
        // The Avro value is as long as the payload: the note is shorter by
        // what the rest of the event adds.
        let value = payload.value;
        let note = value
            .get(..value.len().saturating_sub(AVRO_OVERHEAD))
            .unwrap_or(&[]);
        let note = take_text(&mut self.notes, payload.line, note).context("payloads are UTF-8")?;
        Ok(BenchEvent {
            key,
            sequence: i64::try_from(index)?,
            amount_cents: 1_999 + i64::try_from(index % 1_000)?,
            note,
        })
    }

    /// Puts the texts of `event`, made from `payload`, back in their slots.
    pub fn give_back(&mut self, payload: &Payload<'_>, event: BenchEvent) {
        let slots = [
            (&mut self.keys, payload.key_number, event.key),
            (&mut self.notes, payload.line, Some(event.note)),
        ];
        for (texts, slot, text) in slots {
            // The slot `event` took its text from: empty until given back.
            if let (Some(slot @ None), Some(text)) = (texts.get_mut(slot), text) {
                *slot = Some(text);
            }
        }
    }
}

/// Slot `slot` of `texts`, taken: `bytes` as text, made when the slot is empty.
fn take_text(
    texts: &mut Vec<Option<Arc<str>>>,
    slot: usize,
    bytes: &[u8],
) -> Result<Arc<str>, std::str::Utf8Error> {
    if texts.len() <= slot {
        texts.resize(slot + 1, None);
    }
    if let Some(made) = texts[slot].take() {
        return Ok(made);
    }
    Ok(Arc::from(std::str::from_utf8(bytes)?))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use kafka_record::{KafkaRecord, ValueFraming};

    use super::*;

    #[test]
    fn the_avro_value_is_about_as_long_as_the_payload() {
        let value = Bytes::from(vec![b'x'; 100]);
        let key = Bytes::from_static(b"key-000001");
        let payload = Payload {
            key: Some(&key),
            value: &value,
            key_number: 1,
            line: 3,
        };
        let mut texts = EventTexts::new();
        let event = texts.event(999_999, payload).unwrap();
        let record = event.to_producer_record("t", &ValueFraming::Raw).unwrap();
        let value_len = record.value.unwrap().len();
        assert!((98..=102).contains(&value_len), "{value_len}");
        assert_eq!(record.key.as_deref(), Some(&b"key-000001"[..]));
        let keyless = Payload {
            key: None,
            ..payload
        };
        assert_eq!(texts.event(0, keyless).unwrap().key_bytes().unwrap(), None);
    }

    #[test]
    fn events_reuse_the_text_of_their_line_and_key_once_given_back() {
        let (first, second) = (
            Bytes::from_static(b"first line text"),
            Bytes::from_static(b"second line"),
        );
        let key = Bytes::from_static(b"key-000007");
        let payload = |value, line| Payload {
            key: Some(&key),
            value,
            key_number: 7,
            line,
        };
        let mut texts = EventTexts::new();
        let a = texts.event(1, payload(&first, 5)).unwrap();
        let (note, key_text) = (a.note.clone(), a.key.clone().unwrap());
        texts.give_back(&payload(&first, 5), a);
        let b = texts.event(2, payload(&first, 5)).unwrap();
        assert!(Arc::ptr_eq(&b.note, &note));
        texts.give_back(&payload(&first, 5), b);
        let c = texts.event(3, payload(&second, 0)).unwrap();
        assert!(Arc::ptr_eq(c.key.as_ref().unwrap(), &key_text));
        assert_eq!((&*note, &*c.note), ("first l", "sec"));
        assert_eq!(c.sequence, 3);
        // Not given back: the next event of that key makes its text again.
        let d = texts.event(4, payload(&first, 5)).unwrap();
        assert!(!Arc::ptr_eq(d.key.as_ref().unwrap(), &key_text));
        assert_eq!(d.key.as_deref(), Some("key-000007"));
        let invalid = Bytes::from_static(b"\xff\xfe not UTF-8 at all");
        assert!(texts.event(5, payload(&invalid, 9)).is_err());
    }
}
