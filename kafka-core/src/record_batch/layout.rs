//! Byte offsets and fixed values of the v2 batch header.

/// Bytes of a v2 batch before its first record (Java's `RECORD_BATCH_OVERHEAD`).
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// `producerId` of a batch from a producer without idempotence.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` of a batch from a producer without idempotence.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` of a batch from a producer without idempotence.
pub const NO_SEQUENCE: i32 = -1;
/// `partitionLeaderEpoch` as producers send it; the broker fills it in.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

pub(crate) const MAGIC_V2: i8 = 2;

pub(crate) const BASE_OFFSET: usize = 0;
pub(crate) const BATCH_LENGTH: usize = 8;
/// `baseOffset` and `batchLength` are not counted in `batchLength`.
pub(crate) const LOG_OVERHEAD: usize = 12;
pub(crate) const PARTITION_LEADER_EPOCH: usize = 12;
pub(crate) const MAGIC: usize = 16;
pub(crate) const CRC: usize = 17;
/// The CRC covers everything from the attributes to the end of the batch.
pub(crate) const ATTRIBUTES: usize = 21;
pub(crate) const LAST_OFFSET_DELTA: usize = 23;
pub(crate) const BASE_TIMESTAMP: usize = 27;
pub(crate) const MAX_TIMESTAMP: usize = 35;
pub(crate) const PRODUCER_ID: usize = 43;
pub(crate) const PRODUCER_EPOCH: usize = 51;
pub(crate) const BASE_SEQUENCE: usize = 53;
pub(crate) const RECORD_COUNT: usize = 57;

/// Attribute bits 0-2: the compression codec id.
pub(crate) const COMPRESSION_MASK: i16 = 0x07;
/// Attribute bit 3: timestamps are the broker's log append time.
pub(crate) const LOG_APPEND_TIME_FLAG: i16 = 0x08;
/// Attribute bit 4: the batch is part of a transaction.
pub(crate) const TRANSACTIONAL_FLAG: i16 = 0x10;
/// Attribute bit 5: the batch holds control records (transaction markers).
pub(crate) const CONTROL_FLAG: i16 = 0x20;

/// Largest `batchLength` the int32 field holds.
pub(crate) const MAX_BATCH_LENGTH: usize = i32::MAX as usize;

/// Writes `bytes` at `at` in a header buffer the caller sized to at least
/// [`RECORD_BATCH_OVERHEAD`] bytes.
#[inline]
pub(crate) fn put<const N: usize>(header: &mut [u8], at: usize, bytes: [u8; N]) {
    header[at..at + N].copy_from_slice(&bytes);
}

/// Reads `N` bytes at `at` from a header slice of at least [`RECORD_BATCH_OVERHEAD`] bytes.
#[inline]
pub(crate) fn get<const N: usize>(header: &[u8; RECORD_BATCH_OVERHEAD], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&header[at..at + N]);
    out
}
