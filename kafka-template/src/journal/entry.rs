//! [`JournalEntry`]: one record that failed for good, with why and when.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kafka_core::{Header, KafkaError, ProducerRecord, SendError};

/// A record that could not be delivered: everything needed to send it again
/// (topic, partition, key, value, headers, timestamp), the error and when it
/// failed.
///
/// ```
/// use kafka_core::{KafkaError, ProducerRecord};
/// use kafka_template::journal::JournalEntry;
///
/// let record = ProducerRecord::new("orders", "{\"id\":1}").with_key("order-1");
/// let error = KafkaError::Internal("simulated".into());
/// let entry = JournalEntry::from_failed(&record, &error);
/// assert_eq!(entry.topic, "orders");
/// assert_eq!(entry.error, "simulated");
/// assert_eq!(entry.to_record(), record);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// The topic the record was sent to.
    pub topic: String,
    /// The partition it was sent to, if one was chosen or given.
    pub partition: Option<i32>,
    /// The key; `None` is a null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<Bytes>,
    /// The headers, in order.
    pub headers: Vec<Header>,
    /// The record's create time in milliseconds since the Unix epoch, if set.
    pub timestamp: Option<i64>,
    /// Why the record failed, as the producer reported it.
    pub error: String,
    /// When it failed, in milliseconds since the Unix epoch.
    pub failed_at_ms: i64,
}

impl JournalEntry {
    /// The entry for `record`, which failed with `error`, now.
    ///
    /// ```
    /// # use kafka_core::{KafkaError, ProducerRecord};
    /// # use kafka_template::journal::JournalEntry;
    /// let record = ProducerRecord::tombstone("users").with_key("u-7");
    /// let entry = JournalEntry::from_failed(&record, &KafkaError::Internal("boom".into()));
    /// assert!(entry.value.is_none());
    /// assert!(entry.failed_at_ms > 0);
    /// ```
    pub fn from_failed(record: &ProducerRecord, error: &KafkaError) -> Self {
        Self::from_record_and_message(record, error.to_string())
    }

    /// The entry for a failed send, when the error still carries the record
    /// (`None` when the producer could not give the record back).
    ///
    /// ```
    /// # use kafka_core::{KafkaError, ProducerRecord, SendError};
    /// # use kafka_template::journal::JournalEntry;
    /// let failed = SendError::new(
    ///     KafkaError::Internal("boom".into()),
    ///     ProducerRecord::new("orders", "v"),
    /// );
    /// let entry = JournalEntry::from_send_error(&failed).unwrap();
    /// assert_eq!(entry.value.as_deref(), Some(&b"v"[..]));
    /// ```
    pub fn from_send_error(failed: &SendError) -> Option<Self> {
        failed
            .record()
            .map(|record| Self::from_failed(record, failed.error()))
    }

    /// The entry for `record` with an error described in words, now (for
    /// failures that are not a [`KafkaError`], such as a custom send function's).
    ///
    /// ```
    /// # use kafka_core::ProducerRecord;
    /// # use kafka_template::journal::JournalEntry;
    /// let entry = JournalEntry::from_record_and_message(&ProducerRecord::new("t", "v"), "gave up");
    /// assert_eq!(entry.error, "gave up");
    /// ```
    pub fn from_record_and_message(record: &ProducerRecord, error: impl Into<String>) -> Self {
        JournalEntry {
            topic: record.topic.clone(),
            partition: record.partition,
            key: record.key.clone(),
            value: record.value.clone(),
            headers: record.headers.clone(),
            timestamp: record.timestamp,
            error: error.into(),
            failed_at_ms: now_ms(),
        }
    }

    /// The record to send again: same topic, partition, key, value, headers and
    /// timestamp.
    ///
    /// ```
    /// # use kafka_core::{KafkaError, ProducerRecord};
    /// # use kafka_template::journal::JournalEntry;
    /// let record = ProducerRecord::new("t", "v").with_partition(2).with_timestamp(1_700_000_000_000);
    /// let entry = JournalEntry::from_failed(&record, &KafkaError::Internal("x".into()));
    /// assert_eq!(entry.to_record(), record);
    /// ```
    pub fn to_record(&self) -> ProducerRecord {
        ProducerRecord {
            topic: self.topic.clone(),
            partition: self.partition,
            key: self.key.clone(),
            value: self.value.clone(),
            timestamp: self.timestamp,
            headers: self.headers.clone(),
        }
    }

    /// Like [`to_record`](Self::to_record), without copying (the bytes are
    /// shared, the strings moved).
    ///
    /// ```
    /// # use kafka_core::ProducerRecord;
    /// # use kafka_template::journal::JournalEntry;
    /// let entry = JournalEntry::from_record_and_message(&ProducerRecord::new("t", "v"), "x");
    /// assert_eq!(entry.into_record().topic, "t");
    /// ```
    pub fn into_record(self) -> ProducerRecord {
        ProducerRecord {
            topic: self.topic,
            partition: self.partition,
            key: self.key,
            value: self.value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }
}

impl fmt::Debug for JournalEntry {
    // Keys, values and header values may be large or sensitive: the Debug form
    // gives their sizes, not their bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalEntry")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("key_len", &self.key.as_ref().map(Bytes::len))
            .field("value_len", &self.value.as_ref().map(Bytes::len))
            .field(
                "header_keys",
                &self.headers.iter().map(|h| &h.key).collect::<Vec<_>>(),
            )
            .field("timestamp", &self.timestamp)
            .field("error", &self.error)
            .field("failed_at_ms", &self.failed_at_ms)
            .finish()
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
