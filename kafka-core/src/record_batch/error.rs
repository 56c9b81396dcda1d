//! Errors of building, compressing and decoding record batches.

/// What went wrong while closing, compressing or decoding a record batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordBatchError {
    /// `close()` was called on a builder without records; Kafka has no empty batches.
    #[error("cannot close a record batch without records; append at least one record first")]
    EmptyBatch,

    /// The encoded batch would exceed Kafka's 2 GiB batch length field.
    #[error(
        "record batch of {size} bytes exceeds the protocol's maximum of {max} bytes; \
         send fewer or smaller records per batch"
    )]
    BatchTooLarge {
        /// Encoded size the batch would have.
        size: usize,
        /// Largest size the `batchLength` field can express.
        max: usize,
    },

    /// A compression level outside what the codec (and Java's client) accepts.
    #[error("{codec} compression level {level} is invalid; valid levels are {valid}")]
    InvalidCompressionLevel {
        /// Codec name (`gzip`, `lz4`, `zstd`).
        codec: &'static str,
        /// The rejected level.
        level: i32,
        /// Human-readable valid range.
        valid: &'static str,
    },

    /// A `compression.type` name that is not one of Kafka's codecs.
    #[error("unknown compression type {name:?}; expected one of none, gzip, snappy, lz4, zstd")]
    UnknownCompressionType {
        /// The rejected name.
        name: String,
    },

    /// The codec failed to compress the records.
    #[error("{codec} compression failed: {reason}")]
    Compression {
        /// Codec name.
        codec: &'static str,
        /// What the codec reported.
        reason: String,
    },

    /// The compressed records section could not be decompressed.
    #[error("{codec} decompression failed: {reason}; the batch is corrupt or not {codec}")]
    Decompression {
        /// Codec name.
        codec: &'static str,
        /// What the codec reported.
        reason: String,
    },

    /// Decompressing would produce more than the configured bound.
    #[error(
        "{codec} records section decompresses to more than {limit} bytes; \
         refusing it (raise the decompression limit if such batches are legitimate)"
    )]
    DecompressedTooLarge {
        /// Codec name.
        codec: &'static str,
        /// The bound that was exceeded.
        limit: usize,
    },

    /// The input ended inside a field.
    #[error("record batch truncated: input ended inside {what}")]
    Truncated {
        /// The field being read.
        what: &'static str,
    },

    /// A variable-length integer ran past its maximum width.
    #[error("malformed varint in {what}: longer than the maximum encoded width")]
    VarintTooLong {
        /// The field being read.
        what: &'static str,
    },

    /// A batch with a magic byte other than 2.
    #[error(
        "unsupported record batch magic {magic}; only magic 2 (Kafka 0.11+) batches are supported"
    )]
    UnsupportedMagic {
        /// The magic byte found.
        magic: i8,
    },

    /// The stored CRC does not match the batch contents.
    #[error(
        "record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}; the batch is corrupt"
    )]
    CrcMismatch {
        /// CRC stored in the batch header.
        stored: u32,
        /// CRC computed over `attributes..end`.
        computed: u32,
    },

    /// Compression bits 5, 6 or 7 (undefined codecs).
    #[error("unknown compression codec id {id} in batch attributes")]
    UnknownCompressionId {
        /// The codec id from attribute bits 0-2.
        id: u8,
    },

    /// A structurally invalid field.
    #[error("malformed record batch: {reason}")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
}
