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

/// Why the producer could not deliver a record (or could not start).
#[derive(Clone, Debug, thiserror::Error)]
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
    #[error("{}", metadata_timeout_message(topic, *partition, *max_block, last_error.as_deref()))]
    MetadataTimeout {
        /// The topic.
        topic: String,
        /// The partition asked for, if any.
        partition: Option<i32>,
        /// The configured `max.block.ms`.
        max_block: Duration,
        /// Why the last attempt failed, when known (for example a connection error).
        last_error: Option<String>,
    },
    /// The record names a partition the topic does not have.
    #[error("{0}")]
    InvalidPartition(String),
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
    /// Another producer with the same transactional id (or a newer epoch) took over.
    #[error("producer fenced: {0}")]
    ProducerFenced(String),
    /// A failure of the producer itself, with what is known.
    #[error("{0}")]
    Internal(String),
}

fn metadata_timeout_message(
    topic: &str,
    partition: Option<i32>,
    max_block: Duration,
    last_error: Option<&str>,
) -> String {
    let what = match partition {
        Some(p) => format!("partition {topic}-{p} is not present in metadata"),
        None => format!("topic '{topic}' not present in metadata"),
    };
    let cause = last_error
        .map(|e| format!("; last error: {e}"))
        .unwrap_or_else(|| "; does the topic exist (auto-creation may be off)?".to_owned());
    format!("{what} after max.block.ms ({max_block:?}){cause}")
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
            _ => false,
        }
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
                | KafkaError::InvalidTopic { .. }
                | KafkaError::ProducerClosed(_)
        )
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
            KafkaError::InvalidTopic { .. } => "invalid_topic",
            KafkaError::ProducerClosed(_) => "producer_closed",
            KafkaError::DeliveryTimeout { .. } => "delivery_timeout",
            KafkaError::Broker { code, .. } => code.name(),
            KafkaError::Network(_) => "network",
            KafkaError::OutOfOrderSequence { .. } => "out_of_order_sequence",
            KafkaError::ProducerFenced(_) => "producer_fenced",
            KafkaError::Internal(_) => "internal",
        }
    }
}

/// A failed send: the error, and the record given back so the application can
/// log it, store it for later, or send it again.
///
/// For a record that failed after it was accepted, the record is rebuilt from
/// the batch it was in: its partition and timestamp are the ones it was given.
#[derive(Clone)]
pub struct SendError {
    error: KafkaError,
    record: Option<Arc<ProducerRecord>>,
}

impl SendError {
    /// An error with the record it concerns.
    pub fn new(error: KafkaError, record: ProducerRecord) -> Self {
        SendError {
            error,
            record: Some(Arc::new(record)),
        }
    }

    /// An error with no record to give back (for example when the application's
    /// value could not be serialized into one).
    pub fn without_record(error: KafkaError) -> Self {
        SendError {
            error,
            record: None,
        }
    }

    /// An error with a record the caller shares (a template that keeps the
    /// record for its listener gives back that same record, not a copy).
    pub fn with_shared_record(error: KafkaError, record: Arc<ProducerRecord>) -> Self {
        SendError {
            error,
            record: Some(record),
        }
    }

    pub(crate) fn shared(error: KafkaError, record: Option<Arc<ProducerRecord>>) -> Self {
        SendError { error, record }
    }

    /// What went wrong.
    pub fn error(&self) -> &KafkaError {
        &self.error
    }

    /// The record that could not be delivered, when it could be recovered.
    pub fn record(&self) -> Option<&ProducerRecord> {
        self.record.as_deref()
    }

    /// Takes the record back.
    pub fn into_record(self) -> Option<ProducerRecord> {
        self.record.map(Arc::unwrap_or_clone)
    }

    /// The error alone, dropping the record.
    pub fn into_error(self) -> KafkaError {
        self.error
    }

    /// Splits into the error and the record.
    pub fn into_parts(self) -> (KafkaError, Option<ProducerRecord>) {
        (self.error, self.record.map(Arc::unwrap_or_clone))
    }

    /// See [`KafkaError::is_retriable`].
    pub fn is_retriable(&self) -> bool {
        self.error.is_retriable()
    }
}

impl fmt::Debug for SendError {
    // Keys and values may be large or sensitive: the Debug form names the record
    // without dumping it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SendError");
        s.field("error", &self.error);
        if let Some(r) = &self.record {
            s.field("topic", &r.topic)
                .field("partition", &r.partition)
                .field("key_len", &r.key.as_ref().map(|k| k.len()))
                .field("value_len", &r.value.as_ref().map(|v| v.len()));
        }
        s.finish()
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SendError> for KafkaError {
    fn from(e: SendError) -> Self {
        e.error
    }
}
