//! snappy in the xerial snappy-java stream framing Kafka uses: an 8-byte magic,
//! version 1 and compatible version 1 (big-endian int32 each), then blocks of a
//! big-endian int32 compressed length and a raw snappy block of at most 32 KiB
//! of input (snappy-java's default block size, which Kafka uses).
//!
//! Reading also accepts a plain raw snappy block (what snappy-java falls back to
//! when the magic is absent) and concatenated xerial streams.

use std::cell::RefCell;

use snap::raw::{Decoder, Encoder, decompress_len, max_compress_len};

use crate::record_batch::error::RecordBatchError;

const CODEC: &str = "snappy";
const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0x00];
const STREAM_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0x00, // magic
    0, 0, 0, 1, // version
    0, 0, 0, 1, // compatible version
];
const BLOCK_INPUT_SIZE: usize = 32 * 1024;
const LENGTH_SIZE: usize = 4;

thread_local! {
    /// snap's encoder owns its hash table; reusing it saves an allocation per batch.
    static ENCODER: RefCell<Encoder> = RefCell::new(Encoder::new());
}

pub(super) fn max_compressed_len(input_len: usize) -> usize {
    let blocks = input_len.div_ceil(BLOCK_INPUT_SIZE);
    STREAM_HEADER.len()
        + blocks * LENGTH_SIZE
        + blocks * max_compress_len(BLOCK_INPUT_SIZE.min(input_len))
}

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), RecordBatchError> {
    out.extend_from_slice(&STREAM_HEADER);
    match ENCODER.try_with(|encoder| compress_blocks(&mut encoder.borrow_mut(), input, out)) {
        Ok(compressed) => compressed,
        // On a thread whose encoder is gone (a send from a thread-local's
        // destructor): an encoder of its own.
        Err(_) => compress_blocks(&mut Encoder::new(), input, out),
    }
}

fn compress_blocks(
    encoder: &mut Encoder,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), RecordBatchError> {
    for block in input.chunks(BLOCK_INPUT_SIZE) {
        let length_at = out.len();
        let data_at = length_at + LENGTH_SIZE;
        out.resize(data_at + max_compress_len(block.len()), 0);
        let written = match encoder.compress(block, &mut out[data_at..]) {
            Ok(written) => written,
            Err(error) => {
                out.truncate(length_at);
                return Err(RecordBatchError::Compression {
                    codec: CODEC,
                    reason: error.to_string(),
                });
            }
        };
        out.truncate(data_at + written);
        // A block holds at most 32 KiB of input, so its compressed size fits.
        let written = u32::try_from(written).unwrap_or(u32::MAX);
        out[length_at..data_at].copy_from_slice(&written.to_be_bytes());
    }
    Ok(())
}

fn corrupt(reason: impl ToString) -> RecordBatchError {
    RecordBatchError::Decompression {
        codec: CODEC,
        reason: reason.to_string(),
    }
}

/// Decompresses one raw snappy block onto the end of `out`, keeping `out` within `limit`.
fn decompress_block(block: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), RecordBatchError> {
    let block_len = decompress_len(block).map_err(corrupt)?;
    let start = out.len();
    if block_len > limit.saturating_sub(start) {
        return Err(RecordBatchError::DecompressedTooLarge {
            codec: CODEC,
            limit,
        });
    }
    out.resize(start + block_len, 0);
    let written = Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(corrupt)?;
    if written != block_len {
        return Err(corrupt(format!(
            "block declared {block_len} bytes but produced {written}"
        )));
    }
    Ok(())
}

pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, RecordBatchError> {
    let mut out = Vec::new();
    if !input.starts_with(&MAGIC) {
        decompress_block(input, &mut out, limit)?;
        return Ok(out);
    }
    let mut rest = input;
    while !rest.is_empty() {
        if rest.starts_with(&MAGIC) {
            // A (possibly concatenated) stream header; its first byte (0x82) can never
            // start a valid block length, so this is unambiguous.
            rest = rest
                .get(STREAM_HEADER.len()..)
                .ok_or(RecordBatchError::Truncated {
                    what: "snappy stream header",
                })?;
            continue;
        }
        let (length, after_length) =
            rest.split_first_chunk::<LENGTH_SIZE>()
                .ok_or(RecordBatchError::Truncated {
                    what: "snappy block length",
                })?;
        let length = u32::from_be_bytes(*length) as usize;
        if length > after_length.len() {
            return Err(RecordBatchError::Truncated {
                what: "snappy block",
            });
        }
        let (block, after_block) = after_length.split_at(length);
        decompress_block(block, &mut out, limit)?;
        rest = after_block;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_xerial_header_and_big_endian_block_lengths() {
        let input = vec![7u8; 40 * 1024];
        let mut out = Vec::new();
        compress(&input, &mut out).unwrap();
        assert_eq!(
            &out[..16],
            b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01"
        );
        let first_len = u32::from_be_bytes(out[16..20].try_into().unwrap()) as usize;
        let first_block = &out[20..20 + first_len];
        assert_eq!(decompress_len(first_block).unwrap(), 32 * 1024);
        let second_at = 20 + first_len;
        let second_len =
            u32::from_be_bytes(out[second_at..second_at + 4].try_into().unwrap()) as usize;
        assert_eq!(second_at + 4 + second_len, out.len());
        assert_eq!(decompress_len(&out[second_at + 4..]).unwrap(), 8 * 1024);
    }

    #[test]
    fn reads_a_raw_block_and_concatenated_streams() {
        let raw = Encoder::new()
            .compress_vec(b"raw snappy without framing")
            .unwrap();
        assert_eq!(
            decompress(&raw, 1024).unwrap(),
            b"raw snappy without framing"
        );

        let mut twice = Vec::new();
        compress(b"first ", &mut twice).unwrap();
        compress(b"second", &mut twice).unwrap();
        assert_eq!(decompress(&twice, 1024).unwrap(), b"first second");
    }

    #[test]
    fn truncated_streams_are_errors() {
        let mut out = Vec::new();
        compress(&[1u8; 1000], &mut out).unwrap();
        for cut in [8, 15, 17, 19, out.len() - 1] {
            assert!(decompress(&out[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
    }
}
