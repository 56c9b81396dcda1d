//! LZ4 frames as Kafka's `Lz4BlockOutputStream` writes them: magic, FLG
//! (version 1, independent blocks, no block or content checksum, no content
//! size), BD (64 KiB maximum block size), the header checksum, then blocks
//! (little-endian length, high bit set for a block stored uncompressed because
//! compressing did not shrink it), and a zero end mark.
//!
//! Blocks are compressed as Java compresses them: with the reference C
//! library (lz4-java binds it too), its fast compressor at the default level
//! and LZ4-HC at any other `compression.lz4.level`. The frame is written by
//! hand around the block compressor, with a per-thread block of room: a frame
//! encoder would allocate staging buffers per batch and copy the input twice.
//! Reading uses `lz4_flex::frame::FrameDecoder` (pure Rust), which accepts
//! every frame variant.

use std::cell::RefCell;

use lz4::block::CompressionMode;

use super::read_to_end_bounded;
use crate::record_batch::error::RecordBatchError;

const CODEC: &str = "lz4";

/// Magic `0x184D2204` (little-endian), FLG `0x60`, BD `0x40`, and the header
/// checksum `(xxh32([FLG, BD], 0) >> 8) & 0xFF`.
pub(super) const FRAME_HEADER: [u8; 7] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82];
const MAX_BLOCK_SIZE: usize = 64 * 1024;
/// `LZ4_COMPRESSBOUND` of a full block: the most the compressor may write.
const MAX_COMPRESSED_BLOCK_SIZE: usize = MAX_BLOCK_SIZE + MAX_BLOCK_SIZE / 255 + 16;
const BLOCK_LENGTH_SIZE: usize = 4;
const UNCOMPRESSED_FLAG: u32 = 0x8000_0000;
const END_MARK: [u8; 4] = [0; 4];
/// Kafka's default `compression.lz4.level`, the one level Java compresses
/// with LZ4's fast compressor.
pub(super) const DEFAULT_LEVEL: i32 = 9;

thread_local! {
    /// The room a block is compressed into (zeroed once: the compressor
    /// writes into initialized bytes only, and zeroing room in the batch for
    /// every block cost more than copying the compressed block out of here).
    static ROOM: RefCell<Vec<u8>> = RefCell::new(vec![0; MAX_COMPRESSED_BLOCK_SIZE]);
}

/// Room `compress` needs: blocks end up no larger than their input.
pub(super) fn max_compressed_len(input_len: usize) -> usize {
    let blocks = input_len.div_ceil(MAX_BLOCK_SIZE);
    FRAME_HEADER.len() + blocks * BLOCK_LENGTH_SIZE + input_len + END_MARK.len()
}

/// The compressor Java's `Lz4BlockOutputStream` picks for `level`: the fast
/// one at the default level, LZ4-HC at that level otherwise (the C library
/// compresses levels above 12 as 12, for Java as here).
fn mode(level: i32) -> CompressionMode {
    if level == DEFAULT_LEVEL {
        CompressionMode::DEFAULT
    } else {
        CompressionMode::HIGHCOMPRESSION(level)
    }
}

/// Appends `input` to `out` as one frame, its blocks compressed at `level`
/// (validated by the caller: 1..=17).
pub(super) fn compress(input: &[u8], level: i32, out: &mut Vec<u8>) {
    out.reserve(max_compressed_len(input.len()));
    out.extend_from_slice(&FRAME_HEADER);
    let mode = mode(level);
    ROOM.with(|room| {
        let room = &mut *room.borrow_mut();
        for block in input.chunks(MAX_BLOCK_SIZE) {
            let compressed = lz4::block::compress_to_buffer(block, Some(mode), false, room);
            // Like Java, store the block as-is when compressing does not shrink it
            // (or, defensively, if the compressor reports an error).
            match compressed {
                Ok(written) if written < block.len() => {
                    out.extend_from_slice(&(written as u32).to_le_bytes());
                    out.extend_from_slice(&room[..written]);
                }
                _ => {
                    let length = block.len() as u32 | UNCOMPRESSED_FLAG;
                    out.extend_from_slice(&length.to_le_bytes());
                    out.extend_from_slice(block);
                }
            }
        }
    });
    out.extend_from_slice(&END_MARK);
}

pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, RecordBatchError> {
    read_to_end_bounded(
        lz4_flex::frame::FrameDecoder::new(input),
        CODEC,
        input.len(),
        limit,
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};

    use super::*;

    #[test]
    fn frame_header_matches_lz4_flex_for_kafkas_frame_settings() {
        let info = FrameInfo::new()
            .block_size(BlockSize::Max64KB)
            .block_mode(BlockMode::Independent)
            .block_checksums(false)
            .content_checksum(false);
        let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
        encoder.write_all(b"x").unwrap();
        let reference = encoder.finish().unwrap();
        assert_eq!(&reference[..FRAME_HEADER.len()], &FRAME_HEADER);
    }

    /// JSON-like records, as a batch of events holds: some repetition, not much.
    fn events(count: usize) -> Vec<u8> {
        const WORDS: [&str; 8] = [
            "order", "refund", "coupon", "express", "warehouse", "oslo", "retry", "invoice",
        ];
        let mut state = 0x2545_F491_u32;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state >> 8
        };
        let mut text = String::new();
        for id in 0..count {
            let note: Vec<&str> = (0..5).map(|_| WORDS[next() as usize % 8]).collect();
            text.push_str(&format!(
                "{{\"id\":{id},\"user\":\"u{:05}\",\"amount\":{},\"note\":\"{}\"}}\n",
                next() % 100_000,
                next() % 1_000_000,
                note.join(" ")
            ));
        }
        text.into_bytes()
    }

    #[test]
    fn the_default_level_uses_the_fast_compressor_and_others_lz4_hc() {
        let input = events(3000);
        assert!(input.len() > 2 * MAX_BLOCK_SIZE, "several blocks");
        let at = |level| {
            let mut out = Vec::new();
            compress(&input, level, &mut out);
            assert_eq!(decompress(&out, input.len()).unwrap(), input, "level {level}");
            out
        };
        let (fast, hc_low, hc_high) = (at(DEFAULT_LEVEL), at(1), at(12));
        // The first block, as each compressor writes it alone.
        let first = &input[..MAX_BLOCK_SIZE];
        let block = |mode| lz4::block::compress(first, Some(mode), false).unwrap();
        let first_block = |frame: &[u8]| {
            let length = u32::from_le_bytes(frame[7..11].try_into().unwrap()) as usize;
            frame[11..11 + length].to_vec()
        };
        assert_eq!(first_block(&fast), block(CompressionMode::DEFAULT));
        assert_eq!(
            first_block(&hc_high),
            block(CompressionMode::HIGHCOMPRESSION(12))
        );
        assert!(
            hc_high.len() < fast.len() && hc_low.len() != fast.len(),
            "fast {}, HC 1 {}, HC 12 {}",
            fast.len(),
            hc_low.len(),
            hc_high.len()
        );
        // Levels past 12 are LZ4-HC's highest.
        assert_eq!(at(17), hc_high);
    }

    #[test]
    fn a_compressed_block_fits_the_room() {
        assert_eq!(
            MAX_COMPRESSED_BLOCK_SIZE,
            lz4::block::compress_bound(MAX_BLOCK_SIZE).unwrap()
        );
    }

    #[test]
    fn stores_incompressible_blocks_uncompressed_and_ends_with_a_zero_mark() {
        let mut state = 0x9E37_79B9_u32;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        let mut out = Vec::new();
        compress(&noise, DEFAULT_LEVEL, &mut out);
        let length = u32::from_le_bytes(out[7..11].try_into().unwrap());
        assert_eq!(length, 1000 | UNCOMPRESSED_FLAG);
        assert_eq!(&out[11..1011], &noise[..]);
        assert_eq!(&out[1011..], &END_MARK);
        assert_eq!(decompress(&out, 1000).unwrap(), noise);
    }

    #[test]
    fn splits_input_into_64_kib_blocks() {
        let input = vec![3u8; MAX_BLOCK_SIZE + 10];
        let mut out = Vec::new();
        compress(&input, DEFAULT_LEVEL, &mut out);
        let first = u32::from_le_bytes(out[7..11].try_into().unwrap()) as usize;
        assert_eq!(first & UNCOMPRESSED_FLAG as usize, 0);
        let second_at = 11 + first;
        let second = u32::from_le_bytes(out[second_at..second_at + 4].try_into().unwrap()) as usize;
        assert_eq!(
            second_at + 4 + (second & !(UNCOMPRESSED_FLAG as usize)) + 4,
            out.len()
        );
        assert_eq!(decompress(&out, input.len()).unwrap(), input);
    }
}
