//! The typed record the `ours-avro` and `template` clients send: a
//! `#[derive(KafkaRecord)]` struct with an Avro value, built per record from the
//! payload, as an application builds its events.

use anyhow::Context;
use bytes::Bytes;
use kafka_derive::KafkaRecord;

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
    pub key: Option<String>,
    /// The record's index in the run.
    pub sequence: i64,
    /// A small number, as events carry.
    pub amount_cents: i64,
    /// The text of the payload.
    pub note: String,
}

/// Bytes of the Avro value that are not the note: the two longs (zig-zag
/// varints) and the note's length.
pub const AVRO_OVERHEAD: usize = 8;

impl BenchEvent {
    /// The event for record `index` with this key and payload.
    pub fn new(index: u64, key: Option<&Bytes>, payload: &Bytes) -> anyhow::Result<BenchEvent> {
        let note = payload
            .get(..payload.len().saturating_sub(AVRO_OVERHEAD))
            .unwrap_or(&[]);
        Ok(BenchEvent {
            key: key
                .map(|k| std::str::from_utf8(k).map(str::to_owned))
                .transpose()
                .context("keys are ASCII")?,
            sequence: i64::try_from(index)?,
            amount_cents: 1_999 + i64::try_from(index % 1_000)?,
            note: std::str::from_utf8(note)
                .context("payloads are ASCII")?
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use kafka_record::{KafkaRecord, ValueFraming};

    use super::*;

    #[test]
    fn the_avro_value_is_about_as_long_as_the_payload() {
        let payload = Bytes::from(vec![b'x'; 100]);
        let key = Bytes::from_static(b"key-000001");
        let event = BenchEvent::new(999_999, Some(&key), &payload).unwrap();
        let record = event.to_producer_record("t", &ValueFraming::Raw).unwrap();
        let value = record.value.unwrap().len();
        assert!((98..=102).contains(&value), "{value}");
        assert_eq!(record.key.as_deref(), Some(&b"key-000001"[..]));
        assert_eq!(
            BenchEvent::new(0, None, &payload)
                .unwrap()
                .key_bytes()
                .unwrap(),
            None
        );
    }
}
