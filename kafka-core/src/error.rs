//! The producer's errors, split as the Java client splits them: those raised
//! before a record is sent (it never left this process) and those raised while
//! sending (the broker or the network failed it).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::ConfigError;
use crate::network::NetworkError;
use crate::protocol::error_code::ErrorCode;
use crate::record::ProducerRecord;

/// Why a send made after `close` is refused.
pub(crate) const SEND_AFTER_CLOSE: &str = "send was called after close";

/// Why the producer could not deliver a record (or could not start).
///
/// Three kinds of outcome are told apart, because the application's next step
/// differs:
/// - [`is_before_send`](Self::is_before_send): the record never left this
///   process; sending it again cannot duplicate it.
/// - [`possibly_written`](Self::possibly_written): the record went out and no
///   definite answer came back (a request timeout, a lost connection, the
///   producer shut down mid-request): the broker may have written it, so
///   resending may duplicate it ([`DeliveryUnknown`](Self::DeliveryUnknown)).
/// - otherwise the broker (or the producer, before any request) failed it for
///   certain: it was not written.
///
/// `Debug` prints the same readable message as `Display`, followed by its
/// causes, so `fn main() -> Result<(), Box<dyn Error>>` shows something a
/// person can act on.
#[derive(Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    // --- before sending -------------------------------------------------------
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key or value could not be serialized.
    #[error("cannot serialize the record for topic '{topic}': {message}")]
    Serialization {
        /// The topic.
        topic: String,
        /// What went wrong.
        message: String,
    },
    /// The record is larger than `max.request.size` allows.
    #[error(
        "the record is {size} bytes when serialized, larger than max.request.size ({max_request_size} bytes); \
         raise max.request.size (and the topic's max.message.bytes) or send smaller records"
    )]
    RecordTooLarge {
        /// The record's serialized size in bytes.
        size: usize,
        /// The configured `max.request.size`.
        max_request_size: usize,
    },
    /// The record is larger than the whole `buffer.memory`.
    #[error(
        "the record is {size} bytes when serialized, larger than buffer.memory ({buffer_memory} bytes); \
         raise buffer.memory or send smaller records"
    )]
    RecordExceedsBufferMemory {
        /// The record's serialized size in bytes.
        size: usize,
        /// The configured `buffer.memory`.
        buffer_memory: usize,
    },
    /// No buffer space was freed within `max.block.ms`: the producer is sending
    /// slower than the application produces.
    #[error(
        "no buffer space within max.block.ms ({max_block:?}): buffer.memory ({buffer_memory} bytes) is full; \
         the brokers are not keeping up or buffer.memory is too small"
    )]
    BufferExhausted {
        /// The configured `max.block.ms`.
        max_block: Duration,
        /// The configured `buffer.memory`.
        buffer_memory: usize,
    },
    /// The topic (or the partition) did not appear in the cluster's metadata
    /// within `max.block.ms`.
    ///
    /// When no broker could be reached at all, the message starts with the
    /// connection failure ([`unreachable`](Self::MetadataTimeout::unreachable)).
    #[error("{}", metadata_timeout_message(topic, *partition, *max_block, last_error.as_deref(), *unreachable))]
    MetadataTimeout {
        /// The topic.
        topic: String,
        /// The partition asked for, if any.
        partition: Option<i32>,
        /// The configured `max.block.ms`.
        max_block: Duration,
        /// Why the last attempt failed, when known (for example a connection error).
        last_error: Option<String>,
        /// No broker could be connected to: `last_error` is that connection failure.
        unreachable: bool,
    },
    /// The record names a partition the topic does not have.
    #[error("{0}")]
    InvalidPartition(String),
    /// The record's timestamp is negative (Java's `ProducerRecord` refuses
    /// it too): sent, it would fail its whole batch at the broker.
    #[error(
        "invalid timestamp {timestamp} for a record of '{topic}': a timestamp is milliseconds \
         since the Unix epoch, never negative; leave it unset for the send time"
    )]
    InvalidTimestamp {
        /// The topic.
        topic: String,
        /// The timestamp given.
        timestamp: i64,
    },
    /// The topic name is not valid, or the broker rejected it as such.
    #[error("invalid topic '{topic}': {reason}")]
    InvalidTopic {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// The producer was closed before the record could be sent.
    #[error("the producer is closed; {0}")]
    ProducerClosed(&'static str),

    // --- while sending --------------------------------------------------------
    /// The record was not acknowledged within `delivery.timeout.ms`.
    #[error(
        "record for {topic}-{partition} expired: not acknowledged within delivery.timeout.ms ({delivery_timeout:?}){}",
        last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
    )]
    DeliveryTimeout {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The configured `delivery.timeout.ms`.
        delivery_timeout: Duration,
        /// The last retriable error seen, if any.
        last_error: Option<String>,
    },
    /// The broker answered with an error for this record's batch.
    #[error(
        "broker rejected the batch for {topic}-{partition}: {} ({}){}",
        code.name(), code.description(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    Broker {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Kafka's error code (for example `NOT_ENOUGH_REPLICAS`, `MESSAGE_TOO_LARGE`).
        code: ErrorCode,
        /// The broker's message, if it sent one.
        message: Option<String>,
    },
    /// The broker refused the record's batch because other records in it were
    /// invalid (Produce `record_errors`, such as a record without a key on a
    /// compacted topic): this record was not written, and was not one of
    /// them; it may be sent again (Java: "Failed to append record because it
    /// was part of a batch which had one or more invalid records").
    #[error(
        "not written to {topic}-{partition}: the broker refused its batch ({}) for {invalid_records} \
         invalid record(s) in it, not this one; this record may be sent again",
        code.name()
    )]
    BatchHadInvalidRecords {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The batch's error code (`INVALID_RECORD`, `INVALID_TIMESTAMP`, ...).
        code: ErrorCode,
        /// How many records of the batch the broker named.
        invalid_records: usize,
    },
    /// A network failure that could not be retried away.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The idempotent producer lost track of the sequence for a partition; the
    /// batch may or may not have been written (Java's `OutOfOrderSequenceException`).
    #[error(
        "out-of-order sequence for {topic}-{partition}: the broker received a sequence it did not expect; \
         the producer bumped its epoch, but this batch's delivery is unknown"
    )]
    OutOfOrderSequence {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// The record was sent and no definite answer came back, and the producer
    /// gave up on it: a request timed out or its connection was lost (and
    /// retries ran out or `delivery.timeout.ms` passed), or the producer was
    /// closed or dropped while the request was out. The broker may have
    /// written it: resending may duplicate it ([`possibly_written`](Self::possibly_written)).
    #[error(
        "delivery of the record to {topic}-{partition} is unknown: it was sent, but {cause}; \
         it may have been written, so check the topic before sending it again (or enable idempotence \
         and let the producer retry)"
    )]
    DeliveryUnknown {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Why no definite answer came, and the producer's last error.
        #[source]
        cause: Box<KafkaError>,
    },
    /// Another producer with the same transactional id (or a newer epoch) took over.
    #[error("producer fenced: {0}")]
    ProducerFenced(String),
    /// A transactional producer refused the send (no transaction in progress,
    /// or an earlier error in it), or the transaction was aborted before the
    /// record was sent.
    #[error(transparent)]
    Transaction(#[from] crate::transaction::TransactionError),
    /// A failure of the producer itself, with what is known.
    #[error("{0}")]
    Internal(String),
}

fn metadata_timeout_message(
    topic: &str,
    partition: Option<i32>,
    max_block: Duration,
    last_error: Option<&str>,
    unreachable: bool,
) -> String {
    let what = match partition {
        Some(p) => format!("partition {topic}-{p} is not present in metadata"),
        None => format!("topic '{topic}' not present in metadata"),
    };
    match last_error {
        // The cause comes first: a topic that "does not exist" because no broker
        // answered sends people looking in the wrong place.
        Some(error) if unreachable => format!(
            "no broker could be reached: {error}; is bootstrap.servers right and is Kafka running? \
             ({what} after max.block.ms, {max_block:?})"
        ),
        Some(error) => format!("{what} after max.block.ms ({max_block:?}); last error: {error}"),
        None => format!(
            "{what} after max.block.ms ({max_block:?}); does the topic exist (auto-creation may be off)?"
        ),
    }
}

impl KafkaError {
    /// Whether trying again may succeed. The producer already retries retriable
    /// errors itself until `delivery.timeout.ms`; this tells the application
    /// whether resending later makes sense.
    pub fn is_retriable(&self) -> bool {
        match self {
            KafkaError::BufferExhausted { .. }
            | KafkaError::MetadataTimeout { .. }
            | KafkaError::DeliveryTimeout { .. } => true,
            KafkaError::Broker { code, .. } => code.is_retriable(),
            KafkaError::Network(e) => e.is_retriable(),
            // Resending may duplicate the record: the application decides.
            _ => false,
        }
    }

    /// Whether the record may have been written although it is reported as
    /// failed: it went out and no definite answer came back. Resending it may
    /// duplicate it. Always false for errors raised before sending and for
    /// definite rejections by the broker.
    ///
    /// ```
    /// use kafka_core::KafkaError;
    ///
    /// let timeout = KafkaError::DeliveryTimeout {
    ///     topic: "orders".into(),
    ///     partition: 0,
    ///     delivery_timeout: std::time::Duration::from_secs(120),
    ///     last_error: None,
    /// };
    /// assert!(!timeout.possibly_written());
    /// let unknown = KafkaError::DeliveryUnknown {
    ///     topic: "orders".into(),
    ///     partition: 0,
    ///     cause: Box::new(timeout),
    /// };
    /// assert!(unknown.possibly_written());
    /// ```
    pub fn possibly_written(&self) -> bool {
        matches!(
            self,
            KafkaError::DeliveryUnknown { .. } | KafkaError::OutOfOrderSequence { .. }
        )
    }

    /// Whether the error arose before the record was handed to the network
    /// (serialization, size, buffer space, metadata): the broker never saw it.
    pub fn is_before_send(&self) -> bool {
        matches!(
            self,
            KafkaError::Config(_)
                | KafkaError::Serialization { .. }
                | KafkaError::RecordTooLarge { .. }
                | KafkaError::RecordExceedsBufferMemory { .. }
                | KafkaError::BufferExhausted { .. }
                | KafkaError::MetadataTimeout { .. }
                | KafkaError::InvalidPartition(_)
                | KafkaError::InvalidTimestamp { .. }
                | KafkaError::InvalidTopic { .. }
                | KafkaError::ProducerClosed(_)
        ) || matches!(self, KafkaError::Transaction(e) if !matches!(e, crate::transaction::TransactionError::Aborted))
    }

    /// The Kafka error code, when the broker sent one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            KafkaError::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A short, stable name of the kind of error, used as the metrics label.
    pub fn kind_name(&self) -> &'static str {
        match self {
            KafkaError::Config(_) => "config",
            KafkaError::Serialization { .. } => "serialization",
            KafkaError::RecordTooLarge { .. } => "record_too_large",
            KafkaError::RecordExceedsBufferMemory { .. } => "record_exceeds_buffer_memory",
            KafkaError::BufferExhausted { .. } => "buffer_exhausted",
            KafkaError::MetadataTimeout { .. } => "metadata_timeout",
            KafkaError::InvalidPartition(_) => "invalid_partition",
            KafkaError::InvalidTimestamp { .. } => "invalid_timestamp",
            KafkaError::InvalidTopic { .. } => "invalid_topic",
            KafkaError::ProducerClosed(_) => "producer_closed",
            KafkaError::DeliveryTimeout { .. } => "delivery_timeout",
            KafkaError::DeliveryUnknown { .. } => "delivery_unknown",
            KafkaError::Broker { code, .. } => code.name(),
            KafkaError::BatchHadInvalidRecords { .. } => "batch_had_invalid_records",
            KafkaError::Network(_) => "network",
            KafkaError::OutOfOrderSequence { .. } => "out_of_order_sequence",
            KafkaError::ProducerFenced(_) => "producer_fenced",
            KafkaError::Transaction(_) => "transaction",
            KafkaError::Internal(_) => "internal",
        }
    }

    /// The simple name of the exception the Java client gives a send that
    /// fails this way (`TimeoutException`, `RecordTooLargeException`, a
    /// broker code's own such as `NotLeaderOrFollowerException`): what
    /// Spring's `spring.kafka.template` timer and Micrometer's observation
    /// handler put in their `exception` and `error` tags, so that dashboards
    /// and alerts written for a Spring service read these too.
    ///
    /// ```
    /// use kafka_core::{ErrorCode, KafkaError};
    /// let error = KafkaError::Broker {
    ///     topic: "orders".into(),
    ///     partition: 0,
    ///     code: ErrorCode::NOT_ENOUGH_REPLICAS,
    ///     message: None,
    /// };
    /// assert_eq!(error.java_exception_name(), "NotEnoughReplicasException");
    /// ```
    pub fn java_exception_name(&self) -> &'static str {
        use crate::network::NetworkError;
        use crate::transaction::TransactionError;
        match self {
            KafkaError::Config(_) => "ConfigException",
            KafkaError::Serialization { .. } => "SerializationException",
            KafkaError::RecordTooLarge { .. } | KafkaError::RecordExceedsBufferMemory { .. } => {
                "RecordTooLargeException"
            }
            KafkaError::BufferExhausted { .. } => "BufferExhaustedException",
            KafkaError::MetadataTimeout { .. } | KafkaError::DeliveryTimeout { .. } => {
                "TimeoutException"
            }
            KafkaError::InvalidPartition(_) | KafkaError::InvalidTimestamp { .. } => {
                "IllegalArgumentException"
            }
            KafkaError::InvalidTopic { .. } => "InvalidTopicException",
            // Java refuses a send after close with an IllegalStateException,
            // and fails the records a forced close leaves with a KafkaException.
            KafkaError::ProducerClosed(why) if *why == SEND_AFTER_CLOSE => "IllegalStateException",
            KafkaError::ProducerClosed(_) | KafkaError::Internal(_) => "KafkaException",
            // Java knows no such outcome: the cause's (an expired batch, a
            // lost connection).
            KafkaError::DeliveryUnknown { cause, .. } => cause.java_exception_name(),
            KafkaError::Broker { code, .. } => code.java_exception().unwrap_or("KafkaException"),
            KafkaError::BatchHadInvalidRecords { .. } => "InvalidRecordException",
            KafkaError::Network(error) => match error {
                NetworkError::Authentication { .. } => "SaslAuthenticationException",
                NetworkError::Tls { .. } => "SslAuthenticationException",
                NetworkError::ConnectTimeout { .. } | NetworkError::RequestTimeout { .. } => {
                    "TimeoutException"
                }
                NetworkError::UnsupportedVersion { .. } => "UnsupportedVersionException",
                _ => "NetworkException",
            },
            KafkaError::OutOfOrderSequence { .. } => "OutOfOrderSequenceException",
            KafkaError::ProducerFenced(_) => "ProducerFencedException",
            KafkaError::Transaction(error) => match error {
                TransactionError::NotTransactional { .. }
                | TransactionError::InvalidState { .. }
                | TransactionError::Closed => "IllegalStateException",
                TransactionError::Timeout { .. } => "TimeoutException",
                TransactionError::ProducerFenced { .. } => "ProducerFencedException",
                TransactionError::InvalidProducerEpoch { .. } => "InvalidProducerEpochException",
                TransactionError::TransactionalIdAuthorizationFailed { .. } => {
                    "TransactionalIdAuthorizationException"
                }
                TransactionError::UnsupportedVersion(_) => "UnsupportedVersionException",
                TransactionError::FatalBroker { code, .. }
                | TransactionError::AbortableBroker { code, .. } => {
                    code.java_exception().unwrap_or("KafkaException")
                }
                TransactionError::Aborted => "TransactionAbortedException",
                // Java refuses a send after an abortable error with a
                // KafkaException naming the earlier failure.
                _ => "KafkaException",
            },
        }
    }
}

/// A failed send: the error, and the record given back so the application can
/// log it, store it for later, or send it again.
///
/// For a record that failed after it was accepted, the record is rebuilt from
/// the batch it was in: its partition and timestamp are the ones it was given.
#[derive(Clone)]
pub struct SendError(Box<SendErrorParts>);

/// Boxed: a send's future and its result hold a `SendError` on the path of
/// every record, and a failure is rare (unboxed, `Result<(), SendError>` is
/// 112 bytes, copied as it is handed up; boxed, 8).
#[derive(Clone)]
struct SendErrorParts {
    error: KafkaError,
    record: Option<Arc<ProducerRecord>>,
    /// Refused by the send call, before the producer's buffer.
    refused: bool,
}

impl SendError {
    /// An error with the record it concerns.
    pub fn new(error: KafkaError, record: ProducerRecord) -> Self {
        SendError::shared(error, Some(Arc::new(record)))
    }

    /// An error with no record to give back (for example when the application's
    /// value could not be serialized into one).
    pub fn without_record(error: KafkaError) -> Self {
        SendError::shared(error, None)
    }

    /// An error with a record the caller shares (a template that keeps the
    /// record for its listener gives back that same record, not a copy).
    pub fn with_shared_record(error: KafkaError, record: Arc<ProducerRecord>) -> Self {
        SendError::shared(error, Some(record))
    }

    pub(crate) fn shared(error: KafkaError, record: Option<Arc<ProducerRecord>>) -> Self {
        SendError(Box::new(SendErrorParts {
            error,
            record,
            refused: false,
        }))
    }

    /// The producer's refusal of `record` at its send call.
    pub(crate) fn refusal(error: KafkaError, record: ProducerRecord) -> Self {
        SendError(Box::new(SendErrorParts {
            error,
            record: Some(Arc::new(record)),
            refused: true,
        }))
    }

    /// Whether the producer refused the record at its send call, before
    /// buffering it (too large, no metadata or `buffer.memory` within
    /// `max.block.ms`, a partition the topic lacks, a closed producer, a
    /// transaction that cannot take it): it never left the process, so
    /// sending it again cannot write it twice. `false` for a record that
    /// failed after it was buffered, and for errors made outside the
    /// producer.
    ///
    /// The send's callback hears a refusal as the send call returns it, as
    /// Java's `send` calls back with the exception of the future it returns.
    /// [`KafkaError::is_before_send`] says by the error's kind whether the
    /// broker never saw the record (a buffered record failed by a forced
    /// close too); this says where the error was made.
    ///
    /// ```
    /// use kafka_core::{KafkaError, ProducerRecord, SendError};
    ///
    /// let error = SendError::new(KafkaError::InvalidPartition("no partition 7".into()),
    ///     ProducerRecord::new("orders", "o-1"));
    /// assert!(!error.refused_before_sending());
    /// ```
    pub fn refused_before_sending(&self) -> bool {
        self.0.refused
    }

    /// What went wrong.
    pub fn error(&self) -> &KafkaError {
        &self.0.error
    }

    /// The record that could not be delivered, when it could be recovered.
    pub fn record(&self) -> Option<&ProducerRecord> {
        self.0.record.as_deref()
    }

    /// Takes the record back.
    pub fn into_record(self) -> Option<ProducerRecord> {
        self.0.record.map(Arc::unwrap_or_clone)
    }

    /// The error alone, dropping the record.
    pub fn into_error(self) -> KafkaError {
        self.0.error
    }

    /// Splits into the error and the record.
    pub fn into_parts(self) -> (KafkaError, Option<ProducerRecord>) {
        (self.0.error, self.0.record.map(Arc::unwrap_or_clone))
    }

    /// See [`KafkaError::is_retriable`].
    pub fn is_retriable(&self) -> bool {
        self.0.error.is_retriable()
    }

    /// See [`KafkaError::possibly_written`].
    pub fn possibly_written(&self) -> bool {
        self.0.error.possibly_written()
    }
}

impl fmt::Debug for KafkaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return self.fmt_structure(f);
        }
        write_report(self, f)
    }
}

impl KafkaError {
    /// The derived structure, kept for `{:#?}`.
    fn fmt_structure(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaError")
            .field("kind", &self.kind_name())
            .field("message", &self.to_string())
            .field("possibly_written", &self.possibly_written())
            .field("retriable", &self.is_retriable())
            .finish()
    }
}

/// Writes `error` as anyhow's `Debug` does: the message, then each cause the
/// message does not already include, one per line.
///
/// Used for the `Debug` form of the public errors, because
/// `fn main() -> Result<(), Box<dyn Error>>` prints `Debug`.
///
/// ```
/// use std::fmt;
///
/// struct Report<'a>(&'a dyn std::error::Error);
/// impl fmt::Debug for Report<'_> {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         kafka_core::error::write_report(self.0, f)
///     }
/// }
/// let io = std::io::Error::other("disk full");
/// assert_eq!(format!("{:?}", Report(&io)), "disk full");
/// ```
pub fn write_report(error: &dyn std::error::Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let message = error.to_string();
    f.write_str(&message)?;
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // thiserror messages often quote their cause already: say it once.
        if !message.contains(&text) && !causes.iter().any(|c: &String| c.contains(&text)) {
            causes.push(text);
        }
        source = cause.source();
    }
    match causes.as_slice() {
        [] => Ok(()),
        [one] => write!(f, "\n\nCaused by:\n    {}", one.replace('\n', "\n    ")),
        many => {
            f.write_str("\n\nCaused by:")?;
            for (i, cause) in many.iter().enumerate() {
                // Continuation lines line up under the cause's first line.
                write!(f, "\n    {i}: {}", cause.replace('\n', "\n       "))?;
            }
            Ok(())
        }
    }
}

impl fmt::Debug for SendError {
    // Readable as Display, then the record it concerns, named without its
    // key and value (they may be large or sensitive).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_report(&self.0.error, f)?;
        if let Some(r) = &self.0.record {
            write!(f, "\n\nRecord: topic '{}'", r.topic)?;
            if let Some(p) = r.partition {
                write!(f, ", partition {p}")?;
            }
            let len =
                |b: Option<usize>| b.map_or_else(|| "null".to_owned(), |n| format!("{n} bytes"));
            write!(
                f,
                ", key {}, value {}, {} header(s)",
                len(r.key.as_ref().map(|k| k.len())),
                len(r.value.as_ref().map(|v| v.len())),
                r.headers.len()
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.error, f)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}

/// Why [`KafkaProducer::try_send_with_callback`](crate::KafkaProducer::try_send_with_callback)
/// did not buffer a record.
///
/// ```
/// use kafka_core::{ProducerRecord, SendError, SentRecord, TrySendError};
///
/// let waits = TrySendError::MustWait {
///     record: ProducerRecord::new("orders", "v"),
///     callback: |_: Result<SentRecord, SendError>| {},
/// };
/// assert!(waits.to_string().contains("must wait"));
/// assert_eq!(waits.into_record().map(|r| r.topic).as_deref(), Some("orders"));
/// ```
pub enum TrySendError<F> {
    /// Buffering the record would have to wait: the topic's metadata is not
    /// known yet, or `buffer.memory` has no room for a new batch. Nothing was
    /// buffered; the record and the callback come back, for
    /// [`send_with_callback`](crate::KafkaProducer::send_with_callback), which
    /// waits (at most `max.block.ms`).
    MustWait {
        /// The record, unsent.
        record: ProducerRecord,
        /// The callback, not run.
        callback: F,
    },
    /// Refused for good, as `send_with_callback` would refuse it (the record
    /// is too large, the partition does not exist, the producer is closed...).
    /// The callback has run with this error.
    Refused(SendError),
}

impl<F> TrySendError<F> {
    /// Takes the record back.
    pub fn into_record(self) -> Option<ProducerRecord> {
        match self {
            TrySendError::MustWait { record, .. } => Some(record),
            TrySendError::Refused(error) => error.into_record(),
        }
    }
}

impl<F> fmt::Display for TrySendError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::MustWait { record, .. } => write!(
                f,
                "the send to topic '{}' must wait for the topic's metadata or for buffer.memory; \
                 send it with send_with_callback(..).await, which waits",
                record.topic
            ),
            TrySendError::Refused(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<F> fmt::Debug for TrySendError<F> {
    // The callback is opaque; the record is named as `SendError` names it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::MustWait { .. } => fmt::Display::fmt(self, f),
            TrySendError::Refused(error) => fmt::Debug::fmt(error, f),
        }
    }
}

impl<F> std::error::Error for TrySendError<F> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrySendError::MustWait { .. } => None,
            TrySendError::Refused(error) => Some(error),
        }
    }
}

impl From<SendError> for KafkaError {
    fn from(e: SendError) -> Self {
        e.into_error()
    }
}

#[cfg(test)]
mod java_exception_tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn failures_carry_the_java_clients_exception_names() {
        let timeout = KafkaError::DeliveryTimeout {
            topic: "t".into(),
            partition: 0,
            delivery_timeout: Duration::from_secs(120),
            last_error: None,
        };
        assert_eq!(timeout.java_exception_name(), "TimeoutException");
        let unknown = KafkaError::DeliveryUnknown {
            topic: "t".into(),
            partition: 0,
            cause: Box::new(timeout),
        };
        assert_eq!(unknown.java_exception_name(), "TimeoutException");
        assert_eq!(
            KafkaError::ProducerClosed(SEND_AFTER_CLOSE).java_exception_name(),
            "IllegalStateException"
        );
        assert_eq!(
            KafkaError::ProducerClosed("the close timeout ran out before the record was sent")
                .java_exception_name(),
            "KafkaException"
        );
        assert_eq!(
            KafkaError::Transaction(crate::transaction::TransactionError::Aborted)
                .java_exception_name(),
            "TransactionAbortedException"
        );
    }
}
