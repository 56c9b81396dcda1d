//! RecordBatch v2 (magic 2): building, compression, CRC-32C, decoding.
//!
//! The producer's hot path: a [`RecordBatchBuilder`] per partition appends
//! records straight into one buffer behind a reserved 61-byte header;
//! [`RecordBatchBuilder::close`] compresses the records section once (or, without
//! compression, keeps the buffer as is) and fills in the header, giving a
//! [`ClosedBatch`]. When the batch is drained, [`ClosedBatch::set_producer_state`]
//! writes the producer id, epoch and base sequence and refreshes the CRC without
//! re-reading the records. [`ClosedBatch::bytes`] is then a cheap clone, ready to
//! go into a Produce request.
//!
//! Layout, as Java's `DefaultRecordBatch` writes it (big-endian):
//!
//! ```text
//! baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (2)
//! | crc uint32 (CRC-32C of attributes..end) | attributes int16 | lastOffsetDelta int32
//! | baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch int16
//! | baseSequence int32 | recordCount int32 | records...
//! ```
//!
//! Each record: `length varint | attributes int8 | timestampDelta varlong |
//! offsetDelta varint | keyLength varint (-1 = null) | key | valueLength varint |
//! value | headerCount varint | (keyLength varint, key UTF-8, valueLength varint
//! (-1 = null), value)*`.
//!
//! ```
//! use kafka_core::record_batch::{Compression, RecordBatchBuilder, decode_batches};
//!
//! let mut builder = RecordBatchBuilder::new(Compression::Lz4 { level: None }, 16 * 1024);
//! assert!(builder.try_append(1_700_000_000_000, Some(b"key"), Some(b"value"), &[]));
//! let mut batch = builder.close()?;
//! batch.set_producer_state(4711, 0, 0, false);
//!
//! let decoded = decode_batches(&batch.bytes())?;
//! assert_eq!(decoded[0].producer_id, 4711);
//! assert_eq!(decoded[0].records[0].value.as_deref(), Some(&b"value"[..]));
//! # Ok::<(), kafka_core::record_batch::RecordBatchError>(())
//! ```

mod builder;
mod compression;
mod crc;
mod decoder;
mod error;
mod layout;
mod ratio;
mod reuse;
mod varint;

pub use builder::{ClosedBatch, RecordBatchBuilder};
pub use compression::Compression;
pub(crate) use decoder::for_each_own_record;
pub use decoder::{
    DEFAULT_MAX_DECOMPRESSED_SIZE, DecodedBatch, DecodedRecord, decode_batches,
    decode_batches_with_limit,
};
pub use error::RecordBatchError;
pub use layout::{
    NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
    RECORD_BATCH_OVERHEAD,
};
pub use ratio::CompressionRatioEstimator;
