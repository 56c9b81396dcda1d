//! LZ4 frames as Kafka's `Lz4BlockOutputStream` writes them: magic, FLG
//! (version 1, independent blocks, no block or content checksum, no content
//! size), BD (64 KiB maximum block size), the header checksum, then blocks
//! (little-endian length, high bit set for a block stored uncompressed because
//! compressing did not shrink it), and a zero end mark.
//!
//! The frame is written by hand around `lz4_flex`'s block compressor with a
//! per-thread hash table and block of room, then into the batch buffer:
//! `lz4_flex`'s `FrameEncoder` would allocate ~150 KiB of staging buffers per
//! batch and copy the input twice. Reading uses `lz4_flex::frame::FrameDecoder`, which accepts
//! every frame variant.

use std::cell::RefCell;

use lz4_flex::block::{CompressTable, compress_into_with_table, get_maximum_output_size};

use super::read_to_end_bounded;
use crate::record_batch::error::RecordBatchError;

const CODEC: &str = "lz4";

/// Magic `0x184D2204` (little-endian), FLG `0x60`, BD `0x40`, and the header
/// checksum `(xxh32([FLG, BD], 0) >> 8) & 0xFF`.
pub(super) const FRAME_HEADER: [u8; 7] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82];
const MAX_BLOCK_SIZE: usize = 64 * 1024;
const BLOCK_LENGTH_SIZE: usize = 4;
const UNCOMPRESSED_FLAG: u32 = 0x8000_0000;
const END_MARK: [u8; 4] = [0; 4];

thread_local! {
    /// The compressor's hash table, and the room a block is compressed into
    /// (zeroed once: `lz4_flex` writes into initialized bytes only, and
    /// zeroing room in the batch for every block cost more than copying the
    /// compressed block out of here).
    static SCRATCH: RefCell<(CompressTable, Vec<u8>)> = RefCell::new((
        CompressTable::default(),
        vec![0; get_maximum_output_size(MAX_BLOCK_SIZE)],
    ));
}

/// Room `compress` needs: blocks end up no larger than their input.
pub(super) fn max_compressed_len(input_len: usize) -> usize {
    let blocks = input_len.div_ceil(MAX_BLOCK_SIZE);
    FRAME_HEADER.len() + blocks * BLOCK_LENGTH_SIZE + input_len + END_MARK.len()
}

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
    out.reserve(max_compressed_len(input.len()));
    out.extend_from_slice(&FRAME_HEADER);
    SCRATCH.with(|scratch| {
        let (table, room) = &mut *scratch.borrow_mut();
        for block in input.chunks(MAX_BLOCK_SIZE) {
            let compressed = compress_into_with_table(block, room, table);
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
        compress(&noise, &mut out);
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
        compress(&input, &mut out);
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
