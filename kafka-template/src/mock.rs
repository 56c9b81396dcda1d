//! [`MockProducer`]: a test double behind a real [`KafkaTemplate`](crate::KafkaTemplate)
//! for the application's unit tests (Java's `MockProducer`). It records what was
//! sent and can be told to fail; no broker is involved.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kafka_core::partition_for_key;
use kafka_core::{Header, KafkaError, ProducerRecord, RecordMetadata};
use kafka_record::KafkaRecord;
use kafka_record::{ValueFraming, ValueReadError, read_value};
use serde::de::DeserializeOwned;

use crate::template::AvroFraming;

/// How the template the mock backs frames Avro values (its
/// [`AvroFraming`], without the resolver).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum AvroFrame {
    Raw,
    #[default]
    SingleObject,
    Confluent,
}

/// What the mock recorded for one send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentRecord {
    /// Topic.
    pub topic: String,
    /// The partition it was given (explicit, by key hash, or 0).
    pub partition: i32,
    /// Key bytes.
    pub key: Option<Bytes>,
    /// Value bytes.
    pub value: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<Header>,
    /// Create time in milliseconds.
    pub timestamp: i64,
    /// How the template framed Avro values when this was sent.
    avro_frame: AvroFrame,
}

impl SentRecord {
    /// The value read back as the record type `T` (which also derives
    /// `serde::Deserialize`): JSON with `serde_json`, Avro in the framing the
    /// template used (the single-object fingerprint must be `T`'s schema's), so
    /// a test needs no Avro library of its own.
    ///
    /// ```
    /// use kafka_template::{KafkaRecord, KafkaTemplate, MockProducer};
    ///
    /// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, KafkaRecord)]
    /// #[kafka(topic = "orders", format = "avro")]
    /// struct OrderPlaced {
    ///     #[kafka(key)]
    ///     id: String,
    ///     cents: i64,
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mock = MockProducer::new(1);
    /// let template = KafkaTemplate::with_mock(mock.clone());
    /// let order = OrderPlaced { id: "o-1".into(), cents: 1999 };
    /// template.send(&order).await.unwrap();
    /// assert_eq!(mock.history()[0].value_as::<OrderPlaced>().unwrap(), order);
    /// # });
    /// ```
    pub fn value_as<T: KafkaRecord + DeserializeOwned>(&self) -> Result<T, ValueReadError> {
        let value = self.value.as_deref().unwrap_or_default();
        let framing = match (T::value_schema().is_some(), self.avro_frame) {
            (false, _) | (true, AvroFrame::Raw) => ValueFraming::Raw,
            (true, AvroFrame::SingleObject) => ValueFraming::SingleObject,
            // The mock cannot know the registry's id: the frame's own is taken.
            (true, AvroFrame::Confluent) => ValueFraming::Confluent {
                schema_id: value
                    .get(1..5)
                    .and_then(|id| <[u8; 4]>::try_from(id).ok())
                    .map_or(0, u32::from_be_bytes),
            },
        };
        read_value(value, &framing)
    }

    /// The value as UTF-8 text (lossy), for assertions on JSON values.
    pub fn value_str(&self) -> Option<String> {
        self.value
            .as_deref()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The key as UTF-8 text (lossy).
    pub fn key_str(&self) -> Option<String> {
        self.key
            .as_deref()
            .map(|k| String::from_utf8_lossy(k).into_owned())
    }

    /// The first header with this key, as UTF-8 text (lossy).
    pub fn header_str(&self, key: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|h| h.key == key)
            .and_then(|h| h.value.as_deref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

#[derive(Debug, Default)]
struct MockState {
    history: Vec<SentRecord>,
    next_offsets: HashMap<(String, i32), i64>,
    fail_next: VecDeque<KafkaError>,
    fail_all: Option<KafkaError>,
    avro_frame: AvroFrame,
}

/// A producer stand-in: every send succeeds at the next offset of its
/// partition unless told to fail.
///
/// ```
/// use kafka_template::{KafkaTemplate, MockProducer, core::KafkaError};
///
/// # tokio_test_block_on(async {
/// let mock = MockProducer::new(3);
/// let template = KafkaTemplate::with_mock(mock.clone());
///
/// let sent = template.send_to("orders", Some("k1"), "hello").await.unwrap();
/// assert_eq!(sent.record_metadata.offset, Some(0));
/// assert_eq!(mock.history()[0].value_str().as_deref(), Some("hello"));
///
/// mock.fail_next(KafkaError::Internal("broker on fire".into()));
/// let failed = template.send_to("orders", Some("k1"), "again").await.unwrap_err();
/// assert_eq!(failed.record().unwrap().topic, "orders");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MockProducer {
    state: Arc<Mutex<MockState>>,
    partitions: usize,
}

impl MockProducer {
    /// A mock whose topics all have `partitions` partitions (at least 1); keyed
    /// records are partitioned with Java's murmur2 as the real producer does.
    pub fn new(partitions: usize) -> Self {
        MockProducer {
            state: Arc::default(),
            partitions: partitions.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everything sent successfully so far, in order.
    pub fn history(&self) -> Vec<SentRecord> {
        self.lock().history.clone()
    }

    /// Forgets the history (offsets keep counting).
    pub fn clear(&self) {
        self.lock().history.clear();
    }

    /// The next send fails with `error` (queued: call it twice for two failures).
    pub fn fail_next(&self, error: KafkaError) {
        self.lock().fail_next.push_back(error);
    }

    /// Frames Avro values as `framing` does, for [`SentRecord::value_as`]: set
    /// by the template the mock is built into (the last one, if it backs
    /// several).
    pub(crate) fn use_avro_framing(&self, framing: &AvroFraming) {
        self.lock().avro_frame = match framing {
            AvroFraming::Raw => AvroFrame::Raw,
            AvroFraming::SingleObject => AvroFrame::SingleObject,
            AvroFraming::Confluent(_) => AvroFrame::Confluent,
        };
    }

    /// Every send fails with `error` until called with `None`.
    pub fn fail_all(&self, error: Option<KafkaError>) {
        self.lock().fail_all = error;
    }

    pub(crate) fn send(&self, record: &ProducerRecord) -> Result<RecordMetadata, KafkaError> {
        let mut state = self.lock();
        if let Some(error) = state.fail_next.pop_front() {
            return Err(error);
        }
        if let Some(error) = &state.fail_all {
            return Err(error.clone());
        }
        let partition = record.partition.unwrap_or_else(|| {
            record
                .key
                .as_deref()
                .and_then(|k| partition_for_key(k, self.partitions))
                .unwrap_or(0)
        });
        let timestamp = record.timestamp.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0)
        });
        let offset = state
            .next_offsets
            .entry((record.topic.clone(), partition))
            .or_insert(0);
        let metadata = RecordMetadata::new(
            record.topic.clone(),
            partition,
            Some(*offset),
            timestamp,
            record
                .key
                .as_ref()
                .map_or(-1, |k| i32::try_from(k.len()).unwrap_or(i32::MAX)),
            record
                .value
                .as_ref()
                .map_or(-1, |v| i32::try_from(v.len()).unwrap_or(i32::MAX)),
        );
        *offset += 1;
        let avro_frame = state.avro_frame;
        state.history.push(SentRecord {
            topic: record.topic.clone(),
            partition,
            key: record.key.clone(),
            value: record.value.clone(),
            headers: record.headers.clone(),
            timestamp,
            avro_frame,
        });
        Ok(metadata)
    }
}
