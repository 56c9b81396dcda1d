//! Appending records into an open batch, and the closed, encoded batch.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::compression::Compression;
use super::crc;
use super::error::RecordBatchError;
use super::layout::{self, RECORD_BATCH_OVERHEAD, put};
use super::reuse::Reusable;
use super::varint::{self, varint_len, varlong_len};
use crate::record::Header;

/// Java's `MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR`: a margin on
/// the estimated compressed size.
const COMPRESSION_RATE_ESTIMATION_FACTOR: f32 = 1.05;

/// Most a record can add on top of its key, value and headers: length (5),
/// attributes (1), timestamp delta (10) and offset delta (5); Java's
/// `DefaultRecord.MAX_RECORD_OVERHEAD`.
const MAX_RECORD_OVERHEAD: usize = 21;

/// Up-front buffer reservation is capped so a huge `batch.size` (or a tiny
/// compression ratio estimate) does not commit that much memory per partition
/// before records arrive; the buffer grows past it as needed.
const MAX_INITIAL_RESERVATION: usize = 1024 * 1024;

/// Slack on the records buffer for the float rounding in
/// [`RecordBatchBuilder::estimated_size_in_bytes`], so a batch filled to its
/// estimate never reallocates for a few bytes.
const RESERVATION_SLACK: usize = 64;

/// An open batch for one partition: appends records until the size limit, then
/// [`close`](Self::close)s into a [`ClosedBatch`].
///
/// Records are encoded once, on append, straight into a single buffer behind a
/// reserved header. The buffer is allocated on the first append, sized for the
/// uncompressed bytes the batch can take (`batch_size_limit`, or with compression
/// `batch_size_limit` divided by the estimated ratio; at most 1 MiB up front), so
/// appending does not reallocate unless a record is bigger than that.
///
/// ```
/// use kafka_core::record_batch::{Compression, RecordBatchBuilder};
///
/// let mut builder = RecordBatchBuilder::new(Compression::None, 100);
/// assert!(builder.try_append(1_000, None, Some(&[0u8; 500]), &[])); // the first record always fits
/// assert!(!builder.try_append(1_001, None, Some(b"more"), &[])); // the batch is full
/// assert_eq!(builder.record_count(), 1);
/// let batch = builder.close()?;
/// assert_eq!(batch.record_count(), 1);
/// # Ok::<(), kafka_core::record_batch::RecordBatchError>(())
/// ```
pub struct RecordBatchBuilder {
    compression: Compression,
    write_limit: usize,
    /// `RECORD_BATCH_OVERHEAD` placeholder bytes, then the uncompressed records.
    buf: Vec<u8>,
    record_count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    estimated_compression_ratio: f32,
    /// The largest record appended, encoded (for `record-size-max`).
    max_record_size: usize,
    /// The encoded length of the last record appended.
    last_record_len: usize,
}

/// Size of a length-prefixed nullable byte string, or `None` when its length does
/// not fit the int32 the protocol uses.
#[inline]
fn nullable_field_size(field: Option<&[u8]>) -> Option<usize> {
    match field {
        None => Some(1), // varint(-1)
        Some(bytes) => {
            let len = i32::try_from(bytes.len()).ok()?;
            Some(varint_len(len) + bytes.len())
        }
    }
}

/// Encoded size of the headers part (count, `headers`, then `extra`), or
/// `None` when a length does not fit an int32.
fn headers_size(headers: &[Header], extra: &[(&str, &[u8])]) -> Option<usize> {
    let count = headers.len().checked_add(extra.len())?;
    let mut size = varint_len(i32::try_from(count).ok()?);
    for header in headers {
        size += nullable_field_size(Some(header.key.as_bytes()))?;
        size += nullable_field_size(header.value.as_deref())?;
    }
    for (key, value) in extra {
        size += nullable_field_size(Some(key.as_bytes()))?;
        size += nullable_field_size(Some(value))?;
    }
    Some(size)
}

/// Size of a length prefix for `len` bytes, saturating for lengths over int32
/// (those are rejected when appended).
#[inline]
fn prefixed_size(len: usize) -> usize {
    varlong_len(i64::try_from(len).unwrap_or(i64::MAX)).saturating_add(len)
}

impl RecordBatchBuilder {
    /// An empty batch that accepts records while its estimated size stays within
    /// `batch_size_limit` bytes (Java's `batch.size`; the first record is always
    /// accepted, however big).
    ///
    /// An invalid compression level is reported by [`close`](Self::close); check it
    /// up front with [`Compression::validate`].
    pub fn new(compression: Compression, batch_size_limit: usize) -> Self {
        RecordBatchBuilder {
            compression,
            write_limit: batch_size_limit,
            // Allocated by the first append, once the compression ratio is known.
            buf: Vec::new(),
            record_count: 0,
            base_timestamp: 0,
            max_timestamp: 0,
            estimated_compression_ratio: 1.0,
            max_record_size: 0,
            last_record_len: 0,
        }
    }

    /// Sets the estimated compression ratio (compressed / uncompressed bytes) used to
    /// decide when a compressed batch is full, usually from the topic's
    /// [`CompressionRatioEstimator`](super::CompressionRatioEstimator). Starts at 1.0;
    /// ignored without compression. Non-finite or non-positive values reset it to 1.0.
    ///
    /// Set it before the first append: that is when the buffer is sized for it.
    pub fn set_estimated_compression_ratio(&mut self, ratio: f32) {
        self.estimated_compression_ratio = if ratio.is_finite() && ratio > 0.0 {
            ratio
        } else {
            1.0
        };
    }

    /// Upper bound of the bytes one record adds to a request when it is alone in a
    /// batch: the 61-byte batch header plus the record's largest encoding, exactly
    /// Java's `AbstractRecords.estimateSizeInBytesUpperBound` for magic 2. The
    /// producer compares it with `max.request.size` (and `buffer.memory`) before
    /// appending. Pass 0 for a null key or value (they encode in the same single
    /// byte as an empty one).
    ///
    /// ```
    /// use kafka_core::record_batch::RecordBatchBuilder;
    /// assert_eq!(RecordBatchBuilder::estimate_record_size(16, 100, &[]), 61 + 21 + 1 + 16 + 2 + 100 + 1);
    /// ```
    #[inline]
    pub fn estimate_record_size(key_len: usize, value_len: usize, headers: &[Header]) -> usize {
        let count = i64::try_from(headers.len()).unwrap_or(i64::MAX);
        let fixed = (RECORD_BATCH_OVERHEAD + MAX_RECORD_OVERHEAD)
            .saturating_add(prefixed_size(key_len))
            .saturating_add(prefixed_size(value_len))
            .saturating_add(varlong_len(count));
        headers.iter().fold(fixed, |size, header| {
            let value = header
                .value
                .as_ref()
                .map_or(1, |value| prefixed_size(value.len()));
            size.saturating_add(prefixed_size(header.key.len()))
                .saturating_add(value)
        })
    }

    /// What `extra` headers after a record's `own_headers` add to its
    /// [`estimate_record_size`](Self::estimate_record_size).
    #[inline(never)]
    pub(crate) fn estimate_extra_headers_size(own_headers: usize, extra: &[(&str, &[u8])]) -> usize {
        let count = |n: usize| varlong_len(i64::try_from(n).unwrap_or(i64::MAX));
        let all = own_headers.saturating_add(extra.len());
        // A count below 64 is one byte either way.
        let longer_count = if all < 64 {
            0
        } else {
            count(all) - count(own_headers)
        };
        extra.iter().fold(longer_count, |size, (key, value)| {
            size.saturating_add(prefixed_size(key.len()))
                .saturating_add(prefixed_size(value.len()))
        })
    }

    /// Appends a record if it fits within the limit (an empty builder always
    /// accepts one record, however big, as Java does). Returns `false`, appending
    /// nothing, when it does not fit; the caller then closes this batch and
    /// starts a new one.
    ///
    /// `timestamp_ms` is the record's create time. Also returns `false` for a
    /// record that can never be encoded (a key, value, header or record longer
    /// than `i32::MAX` bytes, or a batch already holding `i32::MAX` records); a
    /// producer rejects those earlier via [`estimate_record_size`](Self::estimate_record_size)
    /// and `max.request.size`.
    pub fn try_append(
        &mut self,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> bool {
        // Its own copy of the encoding, without the extra headers' checks:
        // this is the append of every record but those with lent headers.
        self.append(timestamp_ms, key, value, headers, &[])
    }

    /// [`try_append`](Self::try_append) of a record with `extra` headers
    /// after its own.
    pub(crate) fn try_append_with(
        &mut self,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        extra: &[(&str, &[u8])],
    ) -> bool {
        self.append(timestamp_ms, key, value, headers, extra)
    }

    #[inline(always)]
    fn append(
        &mut self,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        extra: &[(&str, &[u8])],
    ) -> bool {
        let is_first = self.record_count == 0;
        let timestamp_delta = if is_first {
            0
        } else {
            timestamp_ms.wrapping_sub(self.base_timestamp)
        };
        let offset_delta = self.record_count;
        if offset_delta == i32::MAX {
            return false;
        }

        let Some(body_len) =
            Self::record_body_len(timestamp_delta, offset_delta, key, value, headers, extra)
        else {
            return false;
        };
        let Ok(body_len_field) = i32::try_from(body_len) else {
            return false;
        };
        let record_len = varint_len(body_len_field) + body_len;
        if !is_first && !self.has_room_for(record_len) {
            // Java's `closeForRecordAppends`: once a record did not fit, no
            // later (smaller) one may slip in ahead of it.
            self.write_limit = 0;
            return false;
        }

        if is_first && self.buf.is_empty() {
            let capacity = self
                .initial_capacity()
                .max(RECORD_BATCH_OVERHEAD + record_len);
            self.buf.reserve_exact(capacity);
            self.buf.resize(RECORD_BATCH_OVERHEAD, 0);
        }
        let buf = &mut self.buf;
        buf.reserve(record_len);
        varint::put_varint(buf, body_len_field);
        buf.push(0); // record attributes: unused
        varint::put_varlong(buf, timestamp_delta);
        varint::put_varint(buf, offset_delta);
        Self::put_nullable(buf, key);
        Self::put_nullable(buf, value);
        // The count was checked against int32 by `record_body_len`.
        varint::put_varint(buf, (headers.len() + extra.len()) as i32);
        for header in headers {
            Self::put_nullable(buf, Some(header.key.as_bytes()));
            Self::put_nullable(buf, header.value.as_deref());
        }
        for (key, value) in extra {
            Self::put_nullable(buf, Some(key.as_bytes()));
            Self::put_nullable(buf, Some(value));
        }

        if is_first {
            self.base_timestamp = timestamp_ms;
            self.max_timestamp = timestamp_ms;
        } else if timestamp_ms > self.max_timestamp {
            self.max_timestamp = timestamp_ms;
        }
        self.record_count += 1;
        self.max_record_size = self.max_record_size.max(record_len);
        self.last_record_len = record_len;
        true
    }

    /// Whether a record was refused for want of room: the batch takes no
    /// more (Java's `closeForRecordAppends`).
    pub(crate) fn is_closed_for_appends(&self) -> bool {
        self.write_limit == 0
    }

    /// How much the last append grew [`estimated_size_in_bytes`](Self::estimated_size_in_bytes)
    /// (Java's `appendedBytes`, which the sticky partitioner counts).
    pub(crate) fn last_append_growth(&self) -> usize {
        match self.compression {
            Compression::None => self.last_record_len,
            _ => {
                (self.last_record_len as f32
                    * self.estimated_compression_ratio
                    * COMPRESSION_RATE_ESTIMATION_FACTOR) as usize
            }
        }
    }

    #[inline(always)]
    fn record_body_len(
        timestamp_delta: i64,
        offset_delta: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        extra: &[(&str, &[u8])],
    ) -> Option<usize> {
        let headers_part = if headers.is_empty() && extra.is_empty() {
            1
        } else {
            headers_size(headers, extra)?
        };
        Some(
            1 + varlong_len(timestamp_delta)
                + varint_len(offset_delta)
                + nullable_field_size(key)?
                + nullable_field_size(value)?
                + headers_part,
        )
    }

    /// Appends a varint length (or -1 for null) and the bytes; lengths were
    /// checked against int32 by `record_body_len`.
    #[inline]
    fn put_nullable(buf: &mut Vec<u8>, field: Option<&[u8]>) {
        match field {
            None => buf.push(0x01), // zigzag(-1)
            Some(bytes) => {
                varint::put_varint(buf, bytes.len() as i32);
                buf.extend_from_slice(bytes);
            }
        }
    }

    /// About how many records the size of the largest appended so far the
    /// batch will take (its buffer's first size over that record size): what
    /// lists kept per record beside the batch are sized for up front, rather
    /// than grown record by record. Zero while empty.
    pub fn expected_record_count(&self) -> usize {
        (self.initial_capacity() - RECORD_BATCH_OVERHEAD)
            .checked_div(self.max_record_size)
            .unwrap_or(0)
    }

    /// Bytes the buffer needs for a batch filled to `write_limit`: the header and
    /// the most uncompressed record bytes [`has_room_for`](Self::has_room_for)
    /// accepts at the estimated ratio, capped at `MAX_INITIAL_RESERVATION`.
    fn initial_capacity(&self) -> usize {
        let records_limit = self.write_limit.saturating_sub(RECORD_BATCH_OVERHEAD);
        let records = match self.compression {
            Compression::None => records_limit,
            _ => {
                let factor = self.estimated_compression_ratio * COMPRESSION_RATE_ESTIMATION_FACTOR;
                // Saturating float-to-int conversion; the cap below bounds it.
                (records_limit as f32 / factor) as usize + RESERVATION_SLACK
            }
        };
        RECORD_BATCH_OVERHEAD + records.min(MAX_INITIAL_RESERVATION)
    }

    /// Java's `MemoryRecordsBuilder.hasRoomFor`: conservative, counting the new
    /// record uncompressed.
    #[inline]
    fn has_room_for(&self, record_len: usize) -> bool {
        self.write_limit >= self.estimated_size_in_bytes().saturating_add(record_len)
    }

    /// Records appended so far.
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// The encoded size of the largest record appended so far.
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// Whether no record was appended yet.
    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    /// The codec the batch will be compressed with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Bytes of the records appended so far, uncompressed.
    pub fn uncompressed_records_size(&self) -> usize {
        // The header placeholder is written with the first record.
        self.buf.len().saturating_sub(RECORD_BATCH_OVERHEAD)
    }

    /// Bytes the builder's buffer holds allocated (its capacity), for
    /// `buffer.memory` accounting.
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Estimated size of the closed batch, for `batch.size` decisions: exact
    /// without compression; with compression, the records' uncompressed size
    /// times the estimated compression ratio and a 5% margin (Java's
    /// `estimatedBytesWritten`).
    pub fn estimated_size_in_bytes(&self) -> usize {
        let records = self.uncompressed_records_size();
        let records = match self.compression {
            Compression::None => records,
            _ => {
                (records as f32
                    * self.estimated_compression_ratio
                    * COMPRESSION_RATE_ESTIMATION_FACTOR) as usize
            }
        };
        RECORD_BATCH_OVERHEAD.saturating_add(records)
    }

    /// Closes the batch: compresses the records section once (without
    /// compression the buffer is used as is, with no copy), writes the header
    /// with producer id, epoch and base sequence -1 (no idempotence) and computes
    /// the CRC.
    ///
    /// Errors when no record was appended, the compression level is invalid,
    /// the codec fails, or the batch exceeds the protocol's 2 GiB limit.
    pub fn close(self) -> Result<ClosedBatch, RecordBatchError> {
        if self.record_count == 0 {
            return Err(RecordBatchError::EmptyBatch);
        }
        let uncompressed_records_size = self.uncompressed_records_size();
        let mut buf = match self.compression {
            Compression::None => self.buf,
            codec => compress_behind_header(codec, &self.buf[RECORD_BATCH_OVERHEAD..])?,
        };
        let batch_length = buf.len() - layout::LOG_OVERHEAD;
        if batch_length > layout::MAX_BATCH_LENGTH {
            return Err(RecordBatchError::BatchTooLarge {
                size: buf.len(),
                max: layout::MAX_BATCH_LENGTH + layout::LOG_OVERHEAD,
            });
        }

        let header = &mut buf[..RECORD_BATCH_OVERHEAD];
        put(header, layout::BASE_OFFSET, 0i64.to_be_bytes());
        put(
            header,
            layout::BATCH_LENGTH,
            (batch_length as i32).to_be_bytes(),
        );
        put(
            header,
            layout::PARTITION_LEADER_EPOCH,
            layout::NO_PARTITION_LEADER_EPOCH.to_be_bytes(),
        );
        put(header, layout::MAGIC, [layout::MAGIC_V2 as u8]);
        put(
            header,
            layout::ATTRIBUTES,
            self.compression.attribute_bits().to_be_bytes(),
        );
        put(
            header,
            layout::LAST_OFFSET_DELTA,
            (self.record_count - 1).to_be_bytes(),
        );
        put(
            header,
            layout::BASE_TIMESTAMP,
            self.base_timestamp.to_be_bytes(),
        );
        put(
            header,
            layout::MAX_TIMESTAMP,
            self.max_timestamp.to_be_bytes(),
        );
        put(
            header,
            layout::RECORD_COUNT,
            self.record_count.to_be_bytes(),
        );

        let records = &buf[RECORD_BATCH_OVERHEAD..];
        let records_crc = crc32c::crc32c(records);
        let records_shift = crc::zero_bytes_shift(records.len());
        write_producer_state(
            &mut buf,
            layout::NO_PRODUCER_ID,
            layout::NO_PRODUCER_EPOCH,
            layout::NO_SEQUENCE,
            false,
        );
        write_crc(&mut buf, records_crc, records_shift);

        Ok(ClosedBatch {
            bytes: Bytes::from(buf),
            record_count: self.record_count,
            base_timestamp: self.base_timestamp,
            max_timestamp: self.max_timestamp,
            compression: self.compression,
            uncompressed_records_size,
            records_crc,
            records_shift,
        })
    }
}

impl fmt::Debug for RecordBatchBuilder {
    // Sizes only: record contents may be sensitive and are large.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordBatchBuilder")
            .field("compression", &self.compression)
            .field("write_limit", &self.write_limit)
            .field("record_count", &self.record_count)
            .field(
                "uncompressed_records_size",
                &self.uncompressed_records_size(),
            )
            .field("estimated_size_in_bytes", &self.estimated_size_in_bytes())
            .finish()
    }
}

/// The most compression scratch space kept between batches (a batch of a few
/// hundred KiB needs that much); a bigger one, for a huge record, is freed after
/// use.
const MAX_KEPT_SCRATCH: usize = 4 * 1024 * 1024;

/// Where records are compressed before being copied into a buffer of their
/// compressed size: the codecs need room for the worst case, about the
/// uncompressed size, and allocating that per batch then shrinking it leaves
/// holes in the heap that the process's RSS keeps.
static COMPRESSION_SCRATCH: Reusable<Vec<u8>> = Reusable::new();

/// A header placeholder followed by `records` compressed, in a buffer no
/// larger than that.
fn compress_behind_header(codec: Compression, records: &[u8]) -> Result<Vec<u8>, RecordBatchError> {
    let mut scratch = COMPRESSION_SCRATCH.take().unwrap_or_default();
    scratch.clear();
    scratch.reserve(codec.max_compressed_len(records.len()));
    let compressed = codec.compress(records, &mut scratch).map(|()| {
        let mut out = Vec::with_capacity(RECORD_BATCH_OVERHEAD + scratch.len());
        out.resize(RECORD_BATCH_OVERHEAD, 0);
        out.extend_from_slice(&scratch);
        out
    });
    if scratch.capacity() <= MAX_KEPT_SCRATCH {
        COMPRESSION_SCRATCH.give_back(scratch);
    }
    compressed
}

fn write_producer_state(
    batch: &mut [u8],
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    is_transactional: bool,
) {
    let attributes = i16::from_be_bytes([batch[layout::ATTRIBUTES], batch[layout::ATTRIBUTES + 1]]);
    let attributes = if is_transactional {
        attributes | layout::TRANSACTIONAL_FLAG
    } else {
        attributes & !layout::TRANSACTIONAL_FLAG
    };
    put(batch, layout::ATTRIBUTES, attributes.to_be_bytes());
    put(batch, layout::PRODUCER_ID, producer_id.to_be_bytes());
    put(batch, layout::PRODUCER_EPOCH, producer_epoch.to_be_bytes());
    put(batch, layout::BASE_SEQUENCE, base_sequence.to_be_bytes());
}

/// CRC-32C of `attributes..end`: the 40 header bytes after the CRC field,
/// combined with the records' CRC computed once at close.
fn write_crc(batch: &mut [u8], records_crc: u32, records_shift: u32) {
    let header_crc = crc32c::crc32c(&batch[layout::ATTRIBUTES..RECORD_BATCH_OVERHEAD]);
    let crc = crc::combine(header_crc, records_crc, records_shift);
    put(batch, layout::CRC, crc.to_be_bytes());
}

/// An encoded batch: header and (compressed) records in one buffer, ready for a
/// Produce request.
#[derive(Clone)]
pub struct ClosedBatch {
    bytes: Bytes,
    record_count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    compression: Compression,
    uncompressed_records_size: usize,
    records_crc: u32,
    records_shift: u32,
}

impl ClosedBatch {
    /// Writes producer id, epoch, base sequence and the transactional attribute
    /// bit into the header and recomputes the CRC (over 40 header bytes only; the
    /// records' CRC is kept from close). Called when the batch is drained, and
    /// again if a retry needs a new epoch or sequence.
    ///
    /// Copies the batch only if a [`bytes`](Self::bytes) clone from before is
    /// still alive (an in-flight request), so that request's bytes never change.
    pub fn set_producer_state(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        is_transactional: bool,
    ) {
        let mut batch = match std::mem::take(&mut self.bytes).try_into_mut() {
            Ok(unique) => unique,
            Err(shared) => BytesMut::from(&shared[..]),
        };
        write_producer_state(
            &mut batch,
            producer_id,
            producer_epoch,
            base_sequence,
            is_transactional,
        );
        write_crc(&mut batch, self.records_crc, self.records_shift);
        self.bytes = batch.freeze();
    }

    /// The encoded batch; a cheap reference-counted clone.
    pub fn bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    /// Records in the batch.
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// Encoded size in bytes, header included (what the batch takes in a request).
    pub fn size_in_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Largest record timestamp.
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    /// The first record's timestamp, which record timestamps are deltas from.
    pub fn base_timestamp(&self) -> i64 {
        self.base_timestamp
    }

    /// The codec the records are compressed with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Bytes of the records before compression.
    pub fn uncompressed_records_size(&self) -> usize {
        self.uncompressed_records_size
    }

    /// Compressed records bytes / uncompressed records bytes (1.0 without
    /// compression), for [`CompressionRatioEstimator::update`](super::CompressionRatioEstimator::update).
    pub fn compression_ratio(&self) -> f32 {
        let compressed = self.bytes.len() - RECORD_BATCH_OVERHEAD;
        compressed as f32 / self.uncompressed_records_size.max(1) as f32
    }
}

impl fmt::Debug for ClosedBatch {
    // Sizes only: record contents may be sensitive and are large.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedBatch")
            .field("compression", &self.compression)
            .field("record_count", &self.record_count)
            .field("size_in_bytes", &self.bytes.len())
            .field("uncompressed_records_size", &self.uncompressed_records_size)
            .field("base_timestamp", &self.base_timestamp)
            .field("max_timestamp", &self.max_timestamp)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text-like records of 200 to 1,100 bytes, so the codecs find something.
    fn record(i: usize) -> Vec<u8> {
        let len = 200 + (i * 337) % 900;
        (0..len).map(|j| b"order-shipped:"[(i + j) % 14]).collect()
    }

    /// Appends records until the builder refuses one; returns the buffer's
    /// capacity after the first append.
    fn fill(builder: &mut RecordBatchBuilder) -> usize {
        assert!(builder.try_append(0, None, Some(&record(0)), &[]));
        let first_capacity = builder.allocated_bytes();
        let mut i = 1;
        while builder.try_append(i as i64, None, Some(&record(i)), &[]) {
            i += 1;
        }
        first_capacity
    }

    #[test]
    fn expects_as_many_records_as_the_first_buffer_holds() {
        let mut builder = RecordBatchBuilder::new(Compression::None, 16_384 + RECORD_BATCH_OVERHEAD);
        assert_eq!(builder.expected_record_count(), 0);
        assert!(builder.try_append(0, None, Some(&[7u8; 98][..]), &[]));
        let expected = builder.expected_record_count();
        // 16 KiB of about 100-byte records.
        assert!((150..=165).contains(&expected), "{expected}");
    }

    /// Headers lent for the append encode as the same headers of the record's
    /// own would, after them, and count the same in the size estimate.
    #[test]
    fn extra_headers_encode_as_the_records_own_after_them() {
        let own = [Header::new("n", "1"), Header::null("gone")];
        let extra: [(&str, &[u8]); 2] = [("traceparent", b"00-ab-cd-01"), ("empty", b"")];
        let all: Vec<Header> = own
            .iter()
            .cloned()
            .chain(extra.iter().map(|(k, v)| Header::new(*k, v.to_vec())))
            .collect();
        let mut lent = RecordBatchBuilder::new(Compression::None, 16_384);
        let mut owned = RecordBatchBuilder::new(Compression::None, 16_384);
        for i in 0..3 {
            let key = Some(&b"key"[..]).filter(|_| i != 1);
            assert!(lent.try_append_with(i, key, Some(b"value"), &own, &extra));
            assert!(owned.try_append(i, key, Some(b"value"), &all));
        }
        let estimate = |own: &[Header], extra| {
            RecordBatchBuilder::estimate_record_size(3, 5, own)
                + RecordBatchBuilder::estimate_extra_headers_size(own.len(), extra)
        };
        assert_eq!(
            estimate(&own, &extra),
            RecordBatchBuilder::estimate_record_size(3, 5, &all)
        );
        assert_eq!(
            estimate(&[], &extra),
            RecordBatchBuilder::estimate_record_size(3, 5, &all[2..])
        );
        // The count's varint grows at 64 headers.
        let many = vec![Header::new("h", "v"); 63];
        let two: [(&str, &[u8]); 2] = [("a", b"1"), ("b", b"2")];
        let mut all = many.clone();
        all.extend([Header::new("a", "1"), Header::new("b", "2")]);
        assert_eq!(
            estimate(&many, &two),
            RecordBatchBuilder::estimate_record_size(3, 5, &all)
        );
        let lent = lent.close().unwrap();
        let owned = owned.close().unwrap();
        assert_eq!(lent.bytes(), owned.bytes());
    }

    #[test]
    fn an_empty_builder_allocates_nothing() {
        let builder = RecordBatchBuilder::new(Compression::Lz4 { level: None }, 16_384);
        assert_eq!(builder.allocated_bytes(), 0);
        assert_eq!(builder.uncompressed_records_size(), 0);
        assert_eq!(builder.estimated_size_in_bytes(), RECORD_BATCH_OVERHEAD);
    }

    #[test]
    fn a_plain_batch_buffer_is_batch_size_and_never_grows() {
        let mut builder = RecordBatchBuilder::new(Compression::None, 16_384);
        let first_capacity = fill(&mut builder);
        assert_eq!(first_capacity, 16_384);
        assert_eq!(builder.allocated_bytes(), 16_384);
    }

    #[test]
    fn a_compressed_batch_buffer_is_sized_from_the_ratio_and_never_grows() {
        for ratio in [1.0, 0.5, 0.25, 0.1] {
            let mut builder = RecordBatchBuilder::new(Compression::Lz4 { level: None }, 16_384);
            builder.set_estimated_compression_ratio(ratio);
            let first_capacity = fill(&mut builder);
            assert_eq!(builder.allocated_bytes(), first_capacity, "ratio {ratio}");
            // Sized for what the batch takes, not more. A batch refuses a record
            // when the record, counted uncompressed, would pass the limit, so the
            // unused tail is under one record (at most ~1.1 KB) divided by the
            // ratio with its margin, plus the slack.
            let unused =
                first_capacity - builder.uncompressed_records_size() - RECORD_BATCH_OVERHEAD;
            let most = (1_200.0 / (ratio * COMPRESSION_RATE_ESTIMATION_FACTOR)) as usize;
            assert!(
                unused < most + RESERVATION_SLACK,
                "ratio {ratio}: {unused} bytes unused"
            );
        }
    }

    #[test]
    fn a_huge_first_record_gets_a_buffer_of_its_size() {
        let mut builder = RecordBatchBuilder::new(Compression::Zstd { level: None }, 1_000);
        builder.set_estimated_compression_ratio(0.01);
        let value = vec![7u8; 3 * MAX_INITIAL_RESERVATION];
        assert!(builder.try_append(0, None, Some(&value), &[]));
        let capacity = builder.allocated_bytes();
        assert!(capacity >= RECORD_BATCH_OVERHEAD + value.len());
        assert!(capacity < RECORD_BATCH_OVERHEAD + value.len() + 64);
    }

    #[test]
    fn compressed_records_are_kept_in_a_buffer_of_their_size() {
        let records: Vec<u8> = (0..100).flat_map(record).collect();
        for codec in [
            Compression::Gzip { level: None },
            Compression::Snappy,
            Compression::Lz4 { level: None },
            Compression::Zstd { level: None },
        ] {
            let out = compress_behind_header(codec, &records).unwrap();
            assert!(
                out.len() < records.len() / 2,
                "{codec}: {} bytes",
                out.len()
            );
            assert_eq!(out.capacity(), out.len(), "{codec}");
        }
    }
}
