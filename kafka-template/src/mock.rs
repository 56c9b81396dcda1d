//! [`MockProducer`]: a test double behind a real [`KafkaTemplate`](crate::KafkaTemplate)
//! for the application's unit tests (Java's `MockProducer`). It records what was
//! sent and can be told to fail; no broker is involved.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kafka_core::partition_for_key;
use kafka_core::{Header, KafkaError, ProducerRecord, RecordMetadata, TransactionError};
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
    committed: usize,
    aborted: usize,
    /// Closed (its template was): sends are refused, as a closed producer's.
    closed: bool,
}

/// The records of one transaction on the mock, kept apart until it commits
/// (Java's `MockProducer` with transactions: the history shows a
/// transaction's records only once it committed).
#[derive(Debug, Default)]
pub(crate) struct MockTransaction {
    sent: Mutex<Vec<SentRecord>>,
    /// The first send of the transaction that failed: it cannot commit, as
    /// with a real producer.
    failed: Mutex<Option<KafkaError>>,
}

impl MockTransaction {
    /// Why the transaction cannot commit, if a send in it failed.
    pub(crate) fn failed(&self) -> Option<KafkaError> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A producer stand-in: every send succeeds at the next offset of its
/// partition unless told to fail.
///
/// ```
/// use kafka_template::{KafkaTemplate, MockProducer, ProducerRecord, core::KafkaError};
///
/// # tokio_test_block_on(async {
/// let mock = MockProducer::new(3);
/// let template = KafkaTemplate::with_mock(mock.clone());
///
/// let sent = template.send(ProducerRecord::new("orders", "hello").with_key("k1")).await.unwrap();
/// assert_eq!(sent.record_metadata.offset, Some(0));
/// assert_eq!(mock.history()[0].value_str().as_deref(), Some("hello"));
///
/// mock.fail_next(KafkaError::Internal("broker on fire".into()));
/// let failed = template.send(ProducerRecord::new("orders", "again").with_key("k1")).await.unwrap_err();
/// assert_eq!(failed.record().unwrap().topic, "orders");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct MockProducer {
    state: Arc<Mutex<MockState>>,
    partitions: usize,
    /// The template's custom partitioner, asked first as the real
    /// producer asks it.
    partitioner: Option<Arc<dyn kafka_core::Partitioner>>,
}

impl std::fmt::Debug for MockProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockProducer")
            .field("partitions", &self.partitions)
            .field("custom_partitioner", &self.partitioner.is_some())
            .finish_non_exhaustive()
    }
}

impl MockProducer {
    /// A mock whose topics all have `partitions` partitions (at least 1); keyed
    /// records are partitioned with Java's murmur2 as the real producer does.
    pub fn new(partitions: usize) -> Self {
        MockProducer {
            state: Arc::default(),
            partitions: partitions.max(1),
            partitioner: None,
        }
    }

    /// The partitions every topic has on this mock.
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everything sent successfully so far, in order; a transaction's
    /// records appear when it commits (an aborted transaction's never do).
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

    /// How many transactions committed (Spring's `MockProducer.commitCount()`).
    pub fn committed_transactions(&self) -> usize {
        self.lock().committed
    }

    /// How many transactions were aborted: the closure failed or panicked
    /// (Java's `MockProducer` counts the same).
    pub fn aborted_transactions(&self) -> usize {
        self.lock().aborted
    }

    /// This mock asking `partitioner` first for a record without a
    /// partition, as the real producer does (a template's
    /// [`partitioner`](crate::KafkaTemplateBuilder::partitioner) is given to
    /// its mock so).
    pub fn with_partitioner(mut self, partitioner: Arc<dyn kafka_core::Partitioner>) -> Self {
        self.partitioner = Some(partitioner);
        self
    }

    /// Closes the mock as a template's close closes its producer: later
    /// sends and transactions are refused with `ProducerClosed`.
    pub fn close(&self) {
        self.lock().closed = true;
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Ends `transaction`: its records join the history on commit (in the
    /// order sent), and are forgotten on abort (their offsets stay used, as
    /// on a broker).
    pub(crate) fn end(&self, transaction: &MockTransaction, commit: bool) {
        let sent = std::mem::take(&mut *transaction.sent.lock().unwrap_or_else(|p| p.into_inner()));
        let mut state = self.lock();
        if commit {
            state.history.extend(sent);
            state.committed += 1;
        } else {
            state.aborted += 1;
        }
    }

    /// Sends `record`, into `transaction` when given (kept out of the history
    /// until it commits).
    pub(crate) fn send_in(
        &self,
        record: &ProducerRecord,
        transaction: Option<&MockTransaction>,
    ) -> Result<RecordMetadata, KafkaError> {
        let mut state = self.lock();
        if state.closed {
            return Err(KafkaError::ProducerClosed("send was called after close"));
        }
        // As a real transactional producer: after a failed send the
        // transaction can only abort, and refuses more records.
        if let Some(cause) = transaction.and_then(MockTransaction::failed) {
            return Err(KafkaError::Transaction(TransactionError::SendFailed {
                cause: Box::new(cause),
            }));
        }
        // As the real producer (and Java's MockProducer): a partition the
        // topic does not have is refused.
        if let Some(partition) = record
            .partition
            .filter(|p| usize::try_from(*p).map_or(true, |p| p >= self.partitions))
        {
            return Err(KafkaError::InvalidPartition(format!(
                "invalid partition {partition} for topic '{}': the mock's topics have {} \
                 partition(s), numbered from 0",
                record.topic, self.partitions
            )));
        }
        let failure = state
            .fail_next
            .pop_front()
            .or_else(|| state.fail_all.clone());
        if let Some(error) = failure {
            if let Some(transaction) = transaction {
                transaction
                    .failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert_with(|| error.clone());
            }
            return Err(error);
        }
        let partition = record.partition.unwrap_or_else(|| {
            self.partitioner
                .as_ref()
                .and_then(|partitioner| {
                    let cluster = kafka_core::PartitionerCluster::new().with_topic(
                        record.topic.clone(),
                        kafka_core::TopicPartitions::all_available(self.partitions),
                    );
                    partitioner.partition(
                        &record.topic,
                        record.key.as_deref(),
                        record.value.as_deref(),
                        &cluster,
                    )
                })
                .or_else(|| {
                    record
                        .key
                        .as_deref()
                        .and_then(|k| partition_for_key(k, self.partitions))
                })
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
        let sent = SentRecord {
            topic: record.topic.clone(),
            partition,
            key: record.key.clone(),
            value: record.value.clone(),
            headers: record.headers.clone(),
            timestamp,
            avro_frame: state.avro_frame,
        };
        match transaction {
            Some(transaction) => {
                drop(state);
                transaction
                    .sent
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(sent);
            }
            None => state.history.push(sent),
        }
        Ok(metadata)
    }
}
