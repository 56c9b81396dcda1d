//! Decoding v2 batches from untrusted bytes (tests, fuzzing, tools).
//!
//! Every length is checked against the remaining input before it is used,
//! allocations are bounded by the remaining input, and decompression is bounded
//! by a total budget per call.

use bytes::Bytes;

use super::compression::Compression;
use super::error::RecordBatchError;
use super::layout::{self, RECORD_BATCH_OVERHEAD, get};
use super::varint::{read_varint, read_varlong};
use crate::record::Header;

/// Default bound on the decompressed bytes one [`decode_batches`] call produces.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 64 * 1024 * 1024;

/// Smallest encoded header: key length and value length, one byte each.
const MIN_HEADER_SIZE: usize = 2;

/// One decoded batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// The leader epoch the broker stamped (-1 from producers).
    pub partition_leader_epoch: i32,
    /// Raw attributes: codec (bits 0-2), timestamp type (3), transactional (4), control (5).
    pub attributes: i16,
    /// The codec from the attributes (with the default level).
    pub compression: Compression,
    /// Offset delta of the last record.
    pub last_offset_delta: i32,
    /// The first record's timestamp.
    pub base_timestamp: i64,
    /// The largest record timestamp.
    pub max_timestamp: i64,
    /// Producer id (-1 without idempotence).
    pub producer_id: i64,
    /// Producer epoch (-1 without idempotence).
    pub producer_epoch: i16,
    /// Sequence of the first record (-1 without idempotence).
    pub base_sequence: i32,
    /// The records, in offset order.
    pub records: Vec<DecodedRecord>,
}

impl DecodedBatch {
    /// Whether the transactional attribute bit is set.
    pub fn is_transactional(&self) -> bool {
        self.attributes & layout::TRANSACTIONAL_FLAG != 0
    }

    /// Whether the batch holds control records (transaction markers).
    pub fn is_control(&self) -> bool {
        self.attributes & layout::CONTROL_FLAG != 0
    }

    /// Whether timestamps are the broker's log append time rather than create time.
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & layout::LOG_APPEND_TIME_FLAG != 0
    }
}

/// One decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedRecord {
    /// Absolute offset: base offset + offset delta.
    pub offset: i64,
    /// Create time (base timestamp + delta), or the batch's max timestamp for
    /// log-append-time batches, as Java's consumer reports it.
    pub timestamp: i64,
    /// The key; `None` is null.
    pub key: Option<Bytes>,
    /// The value; `None` is null.
    pub value: Option<Bytes>,
    /// Headers in order (keys may repeat).
    pub headers: Vec<Header>,
}

/// Decodes all batches in `input` (back to back, as in a Produce request or a
/// fetched record set), verifying each CRC and decompressing with at most
/// [`DEFAULT_MAX_DECOMPRESSED_SIZE`] bytes of output in total.
///
/// Strict: a truncated trailing batch, trailing bytes inside a batch or record,
/// or a record count that does not match the records is an error.
pub fn decode_batches(input: &[u8]) -> Result<Vec<DecodedBatch>, RecordBatchError> {
    decode_batches_with_limit(input, DEFAULT_MAX_DECOMPRESSED_SIZE)
}

/// [`decode_batches`] with an explicit bound on the total decompressed bytes.
pub fn decode_batches_with_limit(
    input: &[u8],
    max_decompressed_size: usize,
) -> Result<Vec<DecodedBatch>, RecordBatchError> {
    decode_all(input, max_decompressed_size, Source::Copied)
}

/// Where decoded keys and values come from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// Copied out of the input.
    Copied,
    /// Sliced out of this buffer, which every decoded slice lies in.
    Shared(&'a Bytes),
}

impl Source<'_> {
    fn bytes(self, slice: &[u8]) -> Bytes {
        match self {
            Source::Copied => Bytes::copy_from_slice(slice),
            Source::Shared(owner) => owner.slice_ref(slice),
        }
    }
}

fn decode_all(
    input: &[u8],
    max_decompressed_size: usize,
    source: Source<'_>,
) -> Result<Vec<DecodedBatch>, RecordBatchError> {
    let mut batches = Vec::with_capacity((input.len() / RECORD_BATCH_OVERHEAD).min(64));
    let mut rest = input;
    let mut budget = max_decompressed_size;
    while !rest.is_empty() {
        let (batch, after) = split_batch(rest)?;
        let mut records = Vec::new();
        let mut batch = decode_batch(batch, &mut budget, source, Crc::Verify, &mut |record| {
            records.push(record)
        })?;
        batch.records = records;
        batches.push(batch);
        rest = after;
    }
    Ok(batches)
}

/// Hands every record of the batches in `input`, which this producer encoded
/// itself, to `each`: keys and values sliced out of `input` (or its
/// decompressed bytes), no CRC check, no bound on decompression, no list of
/// records in between (a batch completes on the sender task, where this runs).
pub(crate) fn for_each_own_record(
    input: &Bytes,
    each: &mut dyn FnMut(DecodedRecord),
) -> Result<(), RecordBatchError> {
    let mut rest = &input[..];
    let mut budget = usize::MAX;
    while !rest.is_empty() {
        let (batch, after) = split_batch(rest)?;
        decode_batch(
            batch,
            &mut budget,
            Source::Shared(input),
            Crc::Trusted,
            each,
        )?;
        rest = after;
    }
    Ok(())
}

/// Whether a batch's CRC is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Crc {
    Verify,
    /// Bytes this process encoded (and still holds): nothing to check.
    Trusted,
}

/// Splits the first batch (by its `batchLength`) off `input`.
fn split_batch(input: &[u8]) -> Result<(&[u8], &[u8]), RecordBatchError> {
    let (log_header, _) = input
        .split_first_chunk::<{ layout::LOG_OVERHEAD }>()
        .ok_or(RecordBatchError::Truncated {
            what: "batch offset and length",
        })?;
    let batch_length =
        i32::from_be_bytes([log_header[8], log_header[9], log_header[10], log_header[11]]);
    if let Some(&magic) = input.get(layout::MAGIC)
        && magic as i8 != layout::MAGIC_V2
    {
        return Err(RecordBatchError::UnsupportedMagic { magic: magic as i8 });
    }
    let min_length = RECORD_BATCH_OVERHEAD - layout::LOG_OVERHEAD;
    let batch_length = usize::try_from(batch_length)
        .ok()
        .filter(|&length| length >= min_length)
        .ok_or_else(|| RecordBatchError::Malformed {
            reason: format!("batch length {batch_length} is below the {min_length}-byte v2 header"),
        })?;
    let total = layout::LOG_OVERHEAD + batch_length;
    if input.len() < total {
        return Err(RecordBatchError::Truncated {
            what: "record batch",
        });
    }
    Ok(input.split_at(total))
}

/// Decodes one whole batch (at least `RECORD_BATCH_OVERHEAD` bytes, as `split_batch` ensures).
/// Decodes one whole batch, its records handed to `each` (the returned
/// batch's `records` are empty).
fn decode_batch(
    batch: &[u8],
    budget: &mut usize,
    source: Source<'_>,
    crc: Crc,
    each: &mut dyn FnMut(DecodedRecord),
) -> Result<DecodedBatch, RecordBatchError> {
    let (header, records) =
        batch
            .split_first_chunk::<RECORD_BATCH_OVERHEAD>()
            .ok_or(RecordBatchError::Truncated {
                what: "batch header",
            })?;

    if crc == Crc::Verify {
        let stored_crc = u32::from_be_bytes(get(header, layout::CRC));
        let computed_crc =
            crc32c::crc32c_append(crc32c::crc32c(&header[layout::ATTRIBUTES..]), records);
        if stored_crc != computed_crc {
            return Err(RecordBatchError::CrcMismatch {
                stored: stored_crc,
                computed: computed_crc,
            });
        }
    }

    let attributes = i16::from_be_bytes(get(header, layout::ATTRIBUTES));
    let compression = Compression::from_attribute_bits(attributes & layout::COMPRESSION_MASK)?;
    let batch = DecodedBatch {
        base_offset: i64::from_be_bytes(get(header, layout::BASE_OFFSET)),
        partition_leader_epoch: i32::from_be_bytes(get(header, layout::PARTITION_LEADER_EPOCH)),
        attributes,
        compression,
        last_offset_delta: i32::from_be_bytes(get(header, layout::LAST_OFFSET_DELTA)),
        base_timestamp: i64::from_be_bytes(get(header, layout::BASE_TIMESTAMP)),
        max_timestamp: i64::from_be_bytes(get(header, layout::MAX_TIMESTAMP)),
        producer_id: i64::from_be_bytes(get(header, layout::PRODUCER_ID)),
        producer_epoch: i16::from_be_bytes(get(header, layout::PRODUCER_EPOCH)),
        base_sequence: i32::from_be_bytes(get(header, layout::BASE_SEQUENCE)),
        records: Vec::new(),
    };
    let record_count = i32::from_be_bytes(get(header, layout::RECORD_COUNT));
    let record_count = usize::try_from(record_count).map_err(|_| RecordBatchError::Malformed {
        reason: format!("negative record count {record_count}"),
    })?;

    let decompressed: Bytes;
    let (records, source) = match compression {
        Compression::None => (records, source),
        codec => {
            decompressed = codec.decompress(records, *budget)?.into();
            *budget -= decompressed.len();
            let source = match source {
                Source::Copied => Source::Copied,
                Source::Shared(_) => Source::Shared(&decompressed),
            };
            (&decompressed[..], source)
        }
    };
    decode_records(records, record_count, &batch, source, each)?;
    Ok(batch)
}

fn decode_records(
    mut input: &[u8],
    record_count: usize,
    batch: &DecodedBatch,
    source: Source<'_>,
    each: &mut dyn FnMut(DecodedRecord),
) -> Result<(), RecordBatchError> {
    for _ in 0..record_count {
        let length = read_varint(&mut input, "record length")?;
        let length = usize::try_from(length).map_err(|_| RecordBatchError::Malformed {
            reason: format!("negative record length {length}"),
        })?;
        if length > input.len() {
            return Err(RecordBatchError::Truncated { what: "record" });
        }
        let (body, after) = input.split_at(length);
        each(decode_record(body, batch, source)?);
        input = after;
    }
    if !input.is_empty() {
        return Err(RecordBatchError::Malformed {
            reason: format!(
                "{} bytes follow the batch's {record_count} records",
                input.len()
            ),
        });
    }
    Ok(())
}

fn decode_record(
    mut body: &[u8],
    batch: &DecodedBatch,
    source: Source<'_>,
) -> Result<DecodedRecord, RecordBatchError> {
    let (_attributes, after) = body.split_first().ok_or(RecordBatchError::Truncated {
        what: "record attributes",
    })?;
    body = after;
    let timestamp_delta = read_varlong(&mut body, "record timestamp delta")?;
    let offset_delta = read_varint(&mut body, "record offset delta")?;
    let key = read_nullable(&mut body, "record key")?.map(|k| source.bytes(k));
    let value = read_nullable(&mut body, "record value")?.map(|v| source.bytes(v));

    let header_count = read_varint(&mut body, "header count")?;
    let header_count = usize::try_from(header_count).map_err(|_| RecordBatchError::Malformed {
        reason: format!("negative header count {header_count}"),
    })?;
    let mut headers = Vec::with_capacity(header_count.min(body.len() / MIN_HEADER_SIZE));
    for _ in 0..header_count {
        let key =
            read_nullable(&mut body, "header key")?.ok_or_else(|| RecordBatchError::Malformed {
                reason: "null header key".to_owned(),
            })?;
        let key = std::str::from_utf8(key)
            .map_err(|error| RecordBatchError::Malformed {
                reason: format!("header key is not UTF-8: {error}"),
            })?
            .to_owned();
        let value = read_nullable(&mut body, "header value")?.map(|v| source.bytes(v));
        headers.push(Header { key, value });
    }
    if !body.is_empty() {
        return Err(RecordBatchError::Malformed {
            reason: format!(
                "{} bytes follow a record's headers inside its declared length",
                body.len()
            ),
        });
    }

    let timestamp = if batch.is_log_append_time() {
        batch.max_timestamp
    } else {
        batch.base_timestamp.wrapping_add(timestamp_delta)
    };
    Ok(DecodedRecord {
        offset: batch.base_offset.wrapping_add(i64::from(offset_delta)),
        timestamp,
        key,
        value,
        headers,
    })
}

/// Reads a varint length (-1 = null) and that many bytes.
fn read_nullable<'a>(
    input: &mut &'a [u8],
    what: &'static str,
) -> Result<Option<&'a [u8]>, RecordBatchError> {
    let length = read_varint(input, what)?;
    if length == -1 {
        return Ok(None);
    }
    let length = usize::try_from(length).map_err(|_| RecordBatchError::Malformed {
        reason: format!("{what} has negative length {length}"),
    })?;
    if length > input.len() {
        return Err(RecordBatchError::Truncated { what });
    }
    let (bytes, after) = input.split_at(length);
    *input = after;
    Ok(Some(bytes))
}
