//! What the application hands to the producer ([`ProducerRecord`]) and what the
//! broker hands back ([`RecordMetadata`], [`SentRecord`]).

use std::sync::Arc;

use bytes::Bytes;

use crate::topic_name::TopicName;

/// A record header: a key and an optional value, carried beside the key and value
/// (origin, tracing context, type ids) without touching either.
///
/// ```
/// use kafka_core::Header;
/// let header = Header::new("tenant", "acme");
/// assert_eq!(header.value.as_deref(), Some(&b"acme"[..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The header key (UTF-8, as Kafka requires).
    pub key: String,
    /// The header value; `None` is a null value, which Kafka keeps distinct from empty.
    pub value: Option<Bytes>,
}

impl Header {
    /// A header with a value.
    pub fn new(key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        Header {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// A header whose value is null.
    pub fn null(key: impl Into<String>) -> Self {
        Header {
            key: key.into(),
            value: None,
        }
    }
}

/// A record to send: a topic and a value, and optionally a key, a partition, a
/// timestamp and headers, as in Java's `ProducerRecord`.
///
/// Key and value are bytes here; typed values go through a serializer or a
/// derived `KafkaRecord` of the `kafka-record` crate first.
///
/// ```
/// use kafka_core::ProducerRecord;
/// let record = ProducerRecord::new("orders", "{\"id\":1}")
///     .with_key("order-1")
///     .with_header("tenant", "acme");
/// assert_eq!(record.topic, "orders");
/// assert_eq!(record.key.as_deref(), Some(&b"order-1"[..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerRecord {
    /// The topic the record goes to.
    pub topic: String,
    /// An explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// The key; records with equal keys go to the same partition.
    pub key: Option<Bytes>,
    /// The value; `None` is a tombstone for compacted topics.
    pub value: Option<Bytes>,
    /// The create time in milliseconds since the epoch; `None` uses the send time.
    pub timestamp: Option<i64>,
    /// Headers, in order; keys may repeat.
    pub headers: Vec<Header>,
}

impl ProducerRecord {
    /// The record lent as a [`RecordRef`].
    ///
    /// ```
    /// use kafka_core::ProducerRecord;
    /// let record = ProducerRecord::new("orders", "{\"id\":1}").with_key("order-1");
    /// let lent = record.as_record_ref();
    /// assert_eq!(lent.key, Some(&b"order-1"[..]));
    /// assert_eq!(lent.into_owned(), record);
    /// ```
    #[inline(always)]
    pub fn as_record_ref(&self) -> RecordRef<'_> {
        RecordRef {
            topic: &self.topic,
            partition: self.partition,
            key: self.key.as_deref(),
            value: self.value.as_deref(),
            timestamp: self.timestamp,
            headers: &self.headers,
        }
    }

    /// Appends `extra_headers` to the record's own, copied: the record as
    /// [`KafkaProducer::try_send_with_callback_and_headers`](crate::KafkaProducer::try_send_with_callback_and_headers)
    /// would have sent it, for a send that hands it back.
    pub(crate) fn add_headers(&mut self, extra_headers: &[(&str, &[u8])]) {
        if extra_headers.is_empty() {
            return;
        }
        self.headers.reserve_exact(extra_headers.len());
        self.headers.extend(
            extra_headers
                .iter()
                .map(|&(key, value)| Header::new(key, Bytes::copy_from_slice(value))),
        );
    }

    /// A keyless record with a value.
    pub fn new(topic: impl Into<String>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// A record with a null value (a tombstone), usually with a key.
    pub fn tombstone(topic: impl Into<String>) -> Self {
        ProducerRecord {
            value: None,
            ..ProducerRecord::new(topic, Bytes::new())
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition, which wins over the partitioner.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the create time in milliseconds since the Unix epoch.
    pub fn with_timestamp(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Appends a header.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header::new(key, value));
        self
    }

    /// Bytes the key, value and headers take, before batching overhead.
    pub fn payload_size(&self) -> usize {
        self.key.as_ref().map_or(0, Bytes::len)
            + self.value.as_ref().map_or(0, Bytes::len)
            + self
                .headers
                .iter()
                .map(|h| h.key.len() + h.value.as_ref().map_or(0, Bytes::len))
                .sum::<usize>()
    }
}

/// A record lent to the producer: the parts of a [`ProducerRecord`], borrowed.
///
/// For [`KafkaProducer::try_send_ref_with_callback`](crate::KafkaProducer::try_send_ref_with_callback):
/// the producer copies the key, value and headers into its batch as it
/// appends the record, so they can live in buffers the caller reuses from
/// one record to the next (a value serialized into a scratch buffer) with
/// no allocation per record. A record the producer must keep (to wait for
/// metadata or memory, or to hand back refused) is copied into an owned
/// [`ProducerRecord`] then.
///
/// ```
/// use kafka_core::{ProducerRecord, RecordRef};
///
/// let mut value = Vec::new();
/// value.extend_from_slice(b"{\"id\":1}");
/// let record = RecordRef {
///     key: Some(b"order-1"),
///     ..RecordRef::new("orders", &value)
/// };
/// assert_eq!(
///     record.into_owned(),
///     ProducerRecord::new("orders", "{\"id\":1}").with_key("order-1")
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The topic the record goes to.
    pub topic: &'a str,
    /// An explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// The key; records with equal keys go to the same partition.
    pub key: Option<&'a [u8]>,
    /// The value; `None` is a tombstone for compacted topics.
    pub value: Option<&'a [u8]>,
    /// The create time in milliseconds since the epoch; `None` uses the send time.
    pub timestamp: Option<i64>,
    /// Headers, in order; keys may repeat.
    pub headers: &'a [Header],
}

impl<'a> RecordRef<'a> {
    /// A keyless record with a value, as [`ProducerRecord::new`].
    pub fn new(topic: &'a str, value: &'a [u8]) -> Self {
        RecordRef {
            topic,
            partition: None,
            key: None,
            value: Some(value),
            timestamp: None,
            headers: &[],
        }
    }

    /// The record copied into an owned [`ProducerRecord`].
    pub fn into_owned(self) -> ProducerRecord {
        ProducerRecord {
            topic: self.topic.to_owned(),
            partition: self.partition,
            key: self.key.map(Bytes::copy_from_slice),
            value: self.value.map(Bytes::copy_from_slice),
            timestamp: self.timestamp,
            headers: self.headers.to_vec(),
        }
    }

    /// The most bytes the record adds to a request alone in a batch
    /// ([`RecordBatchBuilder::estimate_record_size`](crate::record_batch::RecordBatchBuilder::estimate_record_size)),
    /// what `max.request.size` and `buffer.memory` are checked against.
    #[inline(always)]
    pub(crate) fn size_upper_bound(&self, extra_headers: &[(&str, &[u8])]) -> usize {
        use crate::record_batch::RecordBatchBuilder;
        let own = RecordBatchBuilder::estimate_record_size(
            self.key.map_or(0, <[u8]>::len),
            self.value.map_or(0, <[u8]>::len),
            self.headers,
        );
        if extra_headers.is_empty() {
            return own;
        }
        own.saturating_add(RecordBatchBuilder::estimate_extra_headers_size(
            self.headers.len(),
            extra_headers,
        ))
    }
}

/// Where a record landed, as the broker acknowledged it.
///
/// With `acks=0` the broker sends nothing back, so the offset is unknown:
/// `offset` is `None` where Java's `RecordMetadata.offset()` returns `-1` and
/// `hasOffset()` is false. The timestamp is always known, as in Java: the
/// record's create time, or the broker's log append time when it said one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordMetadata {
    /// The topic, one copy of its name shared by the topic's records (it
    /// reads and compares as a `str`).
    pub topic: TopicName,
    /// The partition the record was appended to.
    pub partition: i32,
    /// The record's offset in the partition; `None` when unknown (`acks=0`).
    pub offset: Option<i64>,
    /// The record's timestamp: its create time, or the broker's log append time
    /// when the topic uses `message.timestamp.type=LogAppendTime`.
    pub timestamp: i64,
    /// Size of the serialized key in bytes, `-1` when the key is null.
    pub serialized_key_size: i32,
    /// Size of the serialized value in bytes, `-1` when the value is null.
    pub serialized_value_size: i32,
}

impl RecordMetadata {
    /// Metadata of a record appended at `offset` (`None`: unknown, `acks=0`)
    /// of `topic`-`partition`, as Java's `RecordMetadata` constructor takes it;
    /// for mocks and tests (the producer makes it from the broker's answer).
    pub fn new(
        topic: impl Into<TopicName>,
        partition: i32,
        offset: Option<i64>,
        timestamp: i64,
        serialized_key_size: i32,
        serialized_value_size: i32,
    ) -> RecordMetadata {
        RecordMetadata {
            topic: topic.into(),
            partition,
            offset,
            timestamp,
            serialized_key_size,
            serialized_value_size,
        }
    }
}

/// A record the broker acknowledged, with where it landed: what
/// [`KafkaProducer::send_with_callback`](crate::KafkaProducer::send_with_callback)
/// hands its callback.
///
/// ```
/// use kafka_core::{LazyRecord, ProducerRecord, RecordMetadata, SentRecord};
///
/// let sent = SentRecord {
///     record: LazyRecord::from(ProducerRecord::new("orders", "{\"id\":1}").with_key("order-1")),
///     metadata: RecordMetadata::new("orders", 2, Some(41), 1_700_000_000_000, 7, 8),
/// };
/// assert_eq!(sent.record.key.as_deref(), Some(&b"order-1"[..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentRecord {
    /// The record as it was sent.
    pub record: LazyRecord,
    /// Where the broker put it.
    pub metadata: RecordMetadata,
}

/// A [`ProducerRecord`] handed back with its outcome, read through `Deref`.
///
/// One the producer hands back is decoded from its batch's bytes when first
/// read (the batch decoded once for all its records), so an outcome nobody
/// reads the record of costs no decoding and keeps nothing but a share of the
/// batch's buffer. It equals the record sent: a partition or timestamp the
/// sender left out stays `None`.
///
/// ```
/// use kafka_core::{LazyRecord, ProducerRecord};
///
/// let record = LazyRecord::from(ProducerRecord::new("orders", "v").with_key("k"));
/// assert_eq!(record.topic, "orders");
/// assert_eq!(record.into_inner().key.as_deref(), Some(&b"k"[..]));
/// ```
#[derive(Clone)]
pub struct LazyRecord(LazyInner);

// The records are boxed: a `SentRecord` is moved (copied) several times on
// its way to a callback, once per record, while few are ever decoded. Boxed,
// a `LazyRecord` is 56 bytes instead of 184.
#[derive(Clone)]
enum LazyInner {
    Ready(Box<ProducerRecord>),
    Shared(Arc<ProducerRecord>),
    InBatch {
        batch: Arc<dyn RecordSource>,
        slot: RecordPosition,
        decoded: std::sync::OnceLock<Box<ProducerRecord>>,
    },
}

/// Where a [`LazyRecord`] is read from when first read: the bytes of the batch
/// it was sent in (the accumulator's delivered batches implement it, so this
/// module needs nothing of the accumulator's).
pub(crate) trait RecordSource: Send + Sync {
    /// The record at `position`, as it was sent.
    fn record(&self, position: RecordPosition) -> ProducerRecord;
}

/// A record's place in its batch and its sizes: what its [`RecordMetadata`]
/// needs besides the batch's topic and partition. A callback is kept with this
/// alone (24 bytes a record besides the closure), as a full buffer of small
/// records holds hundreds of thousands of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordPosition {
    pub timestamp: i64,
    pub relative_offset: u32,
    pub key_size: i32,
    pub value_size: i32,
    /// Whether the record named its partition and timestamp: a record rebuilt
    /// from the batch (which holds both) leaves them out when it did not.
    pub explicit_partition: bool,
    pub explicit_timestamp: bool,
}

impl RecordPosition {
    /// `record`, rebuilt from the batch, as the application sent it.
    pub fn restore(&self, mut record: ProducerRecord) -> ProducerRecord {
        if !self.explicit_partition {
            record.partition = None;
        }
        if !self.explicit_timestamp {
            record.timestamp = None;
        }
        record
    }

    /// The record rebuilt for a failure, restored when it needs to be.
    pub fn restore_shared(&self, record: &Arc<ProducerRecord>) -> Arc<ProducerRecord> {
        if self.explicit_partition && self.explicit_timestamp {
            record.clone()
        } else {
            Arc::new(self.restore(ProducerRecord::clone(record)))
        }
    }
}

impl LazyRecord {
    pub(crate) fn in_batch(batch: Arc<dyn RecordSource>, slot: RecordPosition) -> Self {
        LazyRecord(LazyInner::InBatch {
            batch,
            slot,
            decoded: std::sync::OnceLock::new(),
        })
    }

    /// The record, decoded now if it was not read yet.
    pub fn into_inner(self) -> ProducerRecord {
        match self.0 {
            LazyInner::Ready(record) => *record,
            LazyInner::Shared(record) => Arc::unwrap_or_clone(record),
            LazyInner::InBatch {
                batch,
                slot,
                decoded,
            } => decoded
                .into_inner()
                .map_or_else(|| batch.record(slot), |record| *record),
        }
    }
}

impl From<ProducerRecord> for LazyRecord {
    fn from(record: ProducerRecord) -> Self {
        LazyRecord(LazyInner::Ready(Box::new(record)))
    }
}

/// A record shared with others (copied only if taken with
/// [`into_inner`](LazyRecord::into_inner) while still shared).
impl From<Arc<ProducerRecord>> for LazyRecord {
    fn from(record: Arc<ProducerRecord>) -> Self {
        LazyRecord(LazyInner::Shared(record))
    }
}

impl std::ops::Deref for LazyRecord {
    type Target = ProducerRecord;

    fn deref(&self) -> &ProducerRecord {
        match &self.0 {
            LazyInner::Ready(record) => record,
            LazyInner::Shared(record) => record,
            LazyInner::InBatch {
                batch,
                slot,
                decoded,
            } => decoded.get_or_init(|| Box::new(batch.record(*slot))),
        }
    }
}

impl std::fmt::Debug for LazyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ProducerRecord::fmt(self, f)
    }
}

impl PartialEq for LazyRecord {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for LazyRecord {}

impl PartialEq<ProducerRecord> for LazyRecord {
    fn eq(&self, other: &ProducerRecord) -> bool {
        **self == *other
    }
}
