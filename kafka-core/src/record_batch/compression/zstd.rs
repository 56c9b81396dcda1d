//! zstd: one frame per records section, as Java's `ZstdOutputStream` writes
//! (Java's reader accepts frames with or without the content size).

use std::cell::RefCell;

use zstd::bulk::Compressor;

use super::read_to_end_bounded;
use crate::record_batch::error::RecordBatchError;

const CODEC: &str = "zstd";

thread_local! {
    /// A compression context per thread, reused across batches: creating one and
    /// its workspace per batch would cost more than compressing 16 KiB.
    static COMPRESSOR: RefCell<Option<(i32, Compressor<'static>)>> = const { RefCell::new(None) };
}

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
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match &mut *slot {
            Some((current, compressor)) => {
                if *current != level {
                    compressor.set_compression_level(level).map_err(failed)?;
                    *current = level;
                }
                compressor
            }
            empty => {
                &mut empty
                    .insert((level, Compressor::new(level).map_err(failed)?))
                    .1
            }
        };
        let start = out.len();
        out.resize(start + zstd::zstd_safe::compress_bound(input.len()), 0);
        let written = compressor.compress_to_buffer(input, &mut out[start..]);
        match written {
            Ok(written) => {
                out.truncate(start + written);
                Ok(())
            }
            Err(error) => {
                out.truncate(start);
                Err(failed(error))
            }
        }
    })
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
