//! Errors from turning a [`KafkaRecord`](super::KafkaRecord) into key, value,
//! headers and timestamp.

use super::ValueFormat;
use super::avro::{AvroEncodeError, AvroSchemaError};

/// A record could not be serialized. Each variant names the record type, so the
/// message says which struct to look at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SerializationError {
    /// The Avro encoder rejected a field value.
    #[error("record `{record_type}`: {source}")]
    AvroEncode {
        /// The record's Rust type name.
        record_type: &'static str,
        /// What was wrong, and in which field.
        #[source]
        source: AvroEncodeError,
    },
    /// The record's Avro schema could not be built, so no fingerprint is available
    /// for the single-object frame.
    #[error("record `{record_type}`: {source}")]
    AvroSchema {
        /// The record's Rust type name.
        record_type: &'static str,
        /// Why the schema could not be built.
        #[source]
        source: AvroSchemaError,
    },
    /// `serde_json` failed on the value or on a JSON key.
    #[error("record `{record_type}`: JSON serialization of the {part} failed: {source}")]
    Json {
        /// The record's Rust type name.
        record_type: &'static str,
        /// `"value"` or `"key"`.
        part: &'static str,
        /// The `serde_json` error (for example a map with non-string keys, or a
        /// `Serialize` implementation that failed).
        #[source]
        source: serde_json::Error,
    },
    /// The framing does not exist for this value format.
    #[error(
        "record `{record_type}`: the {framing} framing is not defined for {format:?} values; \
         use ValueFraming::Raw (or Confluent) for JSON records"
    )]
    FramingUnsupported {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The record's value format.
        format: ValueFormat,
        /// The framing that was asked for.
        framing: &'static str,
    },
    /// The `#[kafka(timestamp)]` field holds a time Kafka cannot carry.
    #[error("record `{record_type}`: timestamp field `{field}`: {reason}")]
    Timestamp {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The field marked `#[kafka(timestamp)]`.
        field: &'static str,
        /// Why the time was rejected.
        reason: TimestampError,
    },
}

/// Why a timestamp field's value cannot be a Kafka record timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Kafka timestamps are milliseconds since the Unix epoch and must not be
    /// negative (the Java producer rejects them too).
    #[error("{millis} ms is before the Unix epoch; Kafka timestamps must be >= 0")]
    BeforeEpoch {
        /// The value in milliseconds since the epoch.
        millis: i64,
    },
    /// The time does not fit in an `i64` of milliseconds.
    #[error("the time is too far from the Unix epoch for an i64 of milliseconds")]
    OutOfRange,
}
