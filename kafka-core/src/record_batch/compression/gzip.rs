//! gzip, as Java's `GZIPOutputStream` writes it (one member) and
//! `GZIPInputStream` reads it (concatenated members allowed).

use std::io::Write;

use flate2::write::GzEncoder;

use super::read_to_end_bounded;
use crate::record_batch::error::RecordBatchError;

const CODEC: &str = "gzip";

pub(super) fn compress(
    input: &[u8],
    level: u32,
    out: &mut Vec<u8>,
) -> Result<(), RecordBatchError> {
    let failed = |error: std::io::Error| RecordBatchError::Compression {
        codec: CODEC,
        reason: error.to_string(),
    };
    let mut encoder = GzEncoder::new(out, flate2::Compression::new(level));
    encoder.write_all(input).map_err(failed)?;
    encoder.finish().map_err(failed)?;
    Ok(())
}

pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, RecordBatchError> {
    read_to_end_bounded(
        flate2::read::MultiGzDecoder::new(input),
        CODEC,
        input.len(),
        limit,
    )
}
