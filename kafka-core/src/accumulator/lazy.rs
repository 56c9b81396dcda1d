//! Lazy decoding: the records of a delivered batch handed back to callbacks
//! from the batch's bytes, decoded once, when the first of them is read.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::record::{ProducerRecord, RecordPosition, RecordSource};
use crate::record_batch::{DecodedRecord, for_each_own_record};

/// What stands for a record its batch could not give back (only a bug does that).
pub(super) fn placeholder_record(topic: &str, partition: i32) -> ProducerRecord {
    ProducerRecord {
        partition: Some(partition),
        ..ProducerRecord::tombstone(topic)
    }
}

/// A delivered batch's bytes, shared by the records handed back from it and
/// decoded once, when the first of them is read.
pub(super) struct BatchRecords {
    topic: Arc<str>,
    partition: i32,
    bytes: Bytes,
    decoded: OnceLock<Vec<DecodedRecord>>,
}

impl BatchRecords {
    pub(super) fn new(topic: Arc<str>, partition: i32, bytes: Bytes) -> Self {
        BatchRecords {
            topic,
            partition,
            bytes,
            decoded: OnceLock::new(),
        }
    }
}

impl RecordSource for BatchRecords {
    fn record(&self, position: RecordPosition) -> ProducerRecord {
        let decoded = self.decoded.get_or_init(|| {
            let mut records = Vec::new();
            if let Err(e) = for_each_own_record(&self.bytes, &mut |r| records.push(r)) {
                tracing::error!(topic = %self.topic, partition = self.partition, error = %e, "cannot rebuild the records of a delivered batch");
            }
            records
        });
        match decoded.get(position.relative_offset as usize) {
            Some(record) => {
                position.restore(producer_record(&self.topic, self.partition, record.clone()))
            }
            None => placeholder_record(&self.topic, self.partition),
        }
    }
}

/// A decoded record of a batch for `topic`-`partition` as a [`ProducerRecord`]
/// with its partition and timestamp.
pub(super) fn producer_record(
    topic: &str,
    partition: i32,
    record: DecodedRecord,
) -> ProducerRecord {
    ProducerRecord {
        topic: topic.to_owned(),
        partition: Some(partition),
        key: record.key,
        value: record.value,
        timestamp: Some(record.timestamp),
        headers: record.headers,
    }
}
