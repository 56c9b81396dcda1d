//! zstd: one frame per records section, as Java's `ZstdOutputStream` writes
//! (Java's reader accepts frames with or without the content size).

use zstd::bulk::Compressor;

use super::read_to_end_bounded;
use crate::record_batch::error::RecordBatchError;
use crate::record_batch::reuse::Reusable;

const CODEC: &str = "zstd";

/// Compression contexts with their level, reused across batches: creating one
/// and its workspace per batch would cost more than compressing 16 KiB.
static COMPRESSORS: Reusable<(i32, Compressor<'static>)> = Reusable::new();

fn failed(error: std::io::Error) -> RecordBatchError {
    RecordBatchError::Compression {
        codec: CODEC,
        reason: error.to_string(),
    }
}

pub(super) fn compress(
    input: &[u8],
    level: i32,
    out: &mut Vec<u8>,
) -> Result<(), RecordBatchError> {
    let (mut current, mut compressor) = match COMPRESSORS.take() {
        Some(kept) => kept,
        None => (level, Compressor::new(level).map_err(failed)?),
    };
    if current != level {
        compressor.set_compression_level(level).map_err(failed)?;
        current = level;
    }
    let start = out.len();
    out.reserve(zstd::zstd_safe::compress_bound(input.len()));
    // Written after what `out` holds, into its spare capacity: zeroing the
    // room first (`resize`) cost about 100 instructions a 100-byte record.
    let mut after = std::io::Cursor::new(&mut *out);
    after.set_position(start as u64);
    match compressor.compress_to_buffer(input, &mut after) {
        Ok(_) => {
            COMPRESSORS.give_back((current, compressor));
            Ok(())
        }
        Err(error) => {
            // A context that failed is not reused.
            out.truncate(start);
            Err(failed(error))
        }
    }
}

pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, RecordBatchError> {
    let decoder = zstd::stream::read::Decoder::with_buffer(input).map_err(|error| {
        RecordBatchError::Decompression {
            codec: CODEC,
            reason: error.to_string(),
        }
    })?;
    read_to_end_bounded(decoder, CODEC, input.len(), limit)
}
