//! The codecs Kafka batches may use (`compression.type`), writing exactly the
//! stream formats Kafka's Java client writes, so the Java consumer and the
//! broker read them:
//!
//! | codec  | attribute id | format                                                        |
//! |--------|--------------|---------------------------------------------------------------|
//! | gzip   | 1            | one gzip member (RFC 1952)                                     |
//! | snappy | 2            | xerial snappy-java stream: 16-byte header, 32 KiB raw blocks  |
//! | lz4    | 3            | LZ4 frame, independent 64 KiB blocks, no checksums            |
//! | zstd   | 4            | one zstd frame                                                 |

mod gzip;
mod lz4;
mod snappy;
mod zstd;

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use super::error::RecordBatchError;

/// How a batch's records section is compressed (Java's `compression.type` plus the
/// per-codec `compression.<codec>.level` settings).
///
/// `level: None` means the codec's Kafka default: gzip's `Deflater` default (6),
/// lz4 9, zstd 3.
///
/// ```
/// use kafka_core::Compression;
/// let zstd: Compression = "zstd".parse().unwrap();
/// assert_eq!(zstd, Compression::Zstd { level: None });
/// assert_eq!(zstd.attribute_bits(), 4);
/// assert_eq!(zstd.name(), "zstd");
/// assert!(Compression::Lz4 { level: Some(18) }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// No compression (attribute id 0).
    #[default]
    None,
    /// gzip (id 1); levels 1-9, or -1 for the default, as `compression.gzip.level`.
    Gzip {
        /// Deflate level; `None` or `Some(-1)` is the default (6).
        level: Option<i32>,
    },
    /// snappy (id 2), in the xerial snappy-java framing Kafka uses.
    Snappy,
    /// lz4 (id 3); levels 1-17 as `compression.lz4.level`.
    ///
    /// As in Java, the default level 9 uses LZ4's fast compressor and every
    /// other level LZ4-HC at that level (which compresses levels above 12 as
    /// 12): slower, and smaller batches.
    Lz4 {
        /// LZ4 level; `None` is the default (9).
        level: Option<i32>,
    },
    /// zstd (id 4); levels -131072..=22 as `compression.zstd.level`.
    Zstd {
        /// zstd level; `None` is the default (3).
        level: Option<i32>,
    },
}

/// Java's `Deflater.DEFAULT_COMPRESSION`, accepted by `compression.gzip.level`.
const GZIP_DEFAULT_MARKER: i32 = -1;
/// zlib's level for `Deflater.DEFAULT_COMPRESSION`.
const GZIP_DEFAULT_LEVEL: u32 = 6;
const LZ4_LEVELS: std::ops::RangeInclusive<i32> = 1..=17;
const ZSTD_LEVELS: std::ops::RangeInclusive<i32> = -131_072..=22;
const ZSTD_DEFAULT_LEVEL: i32 = 3;

impl Compression {
    /// The codec id stored in batch attribute bits 0-2.
    pub const fn attribute_bits(&self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip { .. } => 1,
            Compression::Snappy => 2,
            Compression::Lz4 { .. } => 3,
            Compression::Zstd { .. } => 4,
        }
    }

    /// The codec's `compression.type` name, for configuration and error messages.
    pub const fn name(&self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip { .. } => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 { .. } => "lz4",
            Compression::Zstd { .. } => "zstd",
        }
    }

    /// The codec for attribute bits 0-2 (with the default level), or an error for
    /// ids 5-7, which Kafka does not define.
    pub fn from_attribute_bits(attributes: i16) -> Result<Self, RecordBatchError> {
        match attributes & 0x07 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip { level: None }),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4 { level: None }),
            4 => Ok(Compression::Zstd { level: None }),
            id => Err(RecordBatchError::UnknownCompressionId { id: id as u8 }),
        }
    }

    /// Checks the level against the range Java's client accepts for this codec.
    pub fn validate(&self) -> Result<(), RecordBatchError> {
        let invalid = |codec, level, valid| RecordBatchError::InvalidCompressionLevel {
            codec,
            level,
            valid,
        };
        match *self {
            Compression::Gzip { level: Some(level) }
                if level != GZIP_DEFAULT_MARKER && !(1..=9).contains(&level) =>
            {
                Err(invalid("gzip", level, "1..=9, or -1 for the default"))
            }
            Compression::Lz4 { level: Some(level) } if !LZ4_LEVELS.contains(&level) => {
                Err(invalid("lz4", level, "1..=17"))
            }
            Compression::Zstd { level: Some(level) } if !ZSTD_LEVELS.contains(&level) => {
                Err(invalid("zstd", level, "-131072..=22"))
            }
            _ => Ok(()),
        }
    }

    /// Appends `input` compressed with this codec to `out`.
    ///
    /// `None` appends `input` unchanged.
    pub(crate) fn compress(&self, input: &[u8], out: &mut Vec<u8>) -> Result<(), RecordBatchError> {
        self.validate()?;
        match *self {
            Compression::None => {
                out.extend_from_slice(input);
                Ok(())
            }
            Compression::Gzip { level } => {
                let level = match level {
                    None | Some(GZIP_DEFAULT_MARKER) => GZIP_DEFAULT_LEVEL,
                    Some(level) => level.unsigned_abs(),
                };
                gzip::compress(input, level, out)
            }
            Compression::Snappy => snappy::compress(input, out),
            Compression::Lz4 { level } => {
                lz4::compress(input, level.unwrap_or(lz4::DEFAULT_LEVEL), out);
                Ok(())
            }
            Compression::Zstd { level } => {
                zstd::compress(input, level.unwrap_or(ZSTD_DEFAULT_LEVEL), out)
            }
        }
    }

    /// An upper bound of what [`compress`](Self::compress) appends for `input_len`
    /// bytes, so the output buffer is allocated once.
    pub(crate) fn max_compressed_len(&self, input_len: usize) -> usize {
        match self {
            Compression::None => input_len,
            // Deflate's stored-block worst case plus the gzip header and trailer.
            Compression::Gzip { .. } => {
                input_len + input_len / 1000 + 64 + (input_len / 16_000 + 1) * 5
            }
            Compression::Snappy => snappy::max_compressed_len(input_len),
            Compression::Lz4 { .. } => lz4::max_compressed_len(input_len),
            Compression::Zstd { .. } => ::zstd::zstd_safe::compress_bound(input_len),
        }
    }

    /// Decompresses a records section, refusing output larger than `limit` bytes.
    pub(crate) fn decompress(
        &self,
        input: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, RecordBatchError> {
        match self {
            Compression::None => Ok(input.to_vec()),
            Compression::Gzip { .. } => gzip::decompress(input, limit),
            Compression::Snappy => snappy::decompress(input, limit),
            Compression::Lz4 { .. } => lz4::decompress(input, limit),
            Compression::Zstd { .. } => zstd::decompress(input, limit),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = RecordBatchError;

    /// Parses a `compression.type` value (`none`, `gzip`, `snappy`, `lz4`, `zstd`,
    /// ASCII case-insensitive) with the codec's default level.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let codec = match name.trim().to_ascii_lowercase().as_str() {
            "none" => Compression::None,
            "gzip" => Compression::Gzip { level: None },
            "snappy" => Compression::Snappy,
            "lz4" => Compression::Lz4 { level: None },
            "zstd" => Compression::Zstd { level: None },
            _ => {
                return Err(RecordBatchError::UnknownCompressionType {
                    name: name.to_owned(),
                });
            }
        };
        Ok(codec)
    }
}

/// Reads a decompressing stream to its end, refusing more than `limit` bytes.
///
/// The output starts small and grows with what the stream really yields, so a
/// forged size field cannot make it allocate up front.
fn read_to_end_bounded(
    mut reader: impl Read,
    codec: &'static str,
    compressed_len: usize,
    limit: usize,
) -> Result<Vec<u8>, RecordBatchError> {
    let mut out = Vec::with_capacity(compressed_len.saturating_mul(4).min(limit).min(1 << 20));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    (&mut reader)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|error| RecordBatchError::Decompression {
            codec,
            reason: error.to_string(),
        })?;
    if out.len() > limit {
        return Err(RecordBatchError::DecompressedTooLarge { codec, limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip { level: None },
        Compression::Snappy,
        Compression::Lz4 { level: None },
        Compression::Zstd { level: None },
    ];

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"kafka record batch "[i % 19] ^ (i / 997) as u8)
            .collect()
    }

    #[test]
    fn every_codec_round_trips_small_and_multi_block_input() {
        for codec in ALL {
            for len in [0, 1, 100, 32 * 1024, 32 * 1024 + 1, 64 * 1024, 200_000] {
                let input = sample(len);
                let mut out = vec![0xAA; 3]; // existing bytes must be kept
                codec.compress(&input, &mut out).unwrap();
                assert_eq!(&out[..3], &[0xAA; 3]);
                assert!(
                    out.len() - 3 <= codec.max_compressed_len(len),
                    "{codec} {len}"
                );
                let back = codec.decompress(&out[3..], usize::MAX).unwrap();
                assert_eq!(back, input, "{codec} {len}");
            }
        }
    }

    #[test]
    fn incompressible_input_stays_within_the_bound() {
        let mut state = 0x1234_5678_u32;
        let noise: Vec<u8> = (0..150_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        for codec in ALL {
            let mut out = Vec::new();
            codec.compress(&noise, &mut out).unwrap();
            assert!(
                out.len() <= codec.max_compressed_len(noise.len()),
                "{codec}"
            );
            assert_eq!(codec.decompress(&out, usize::MAX).unwrap(), noise);
        }
    }

    #[test]
    fn decompression_is_bounded() {
        let input = vec![0u8; 100_000];
        for codec in ALL.into_iter().skip(1) {
            let mut out = Vec::new();
            codec.compress(&input, &mut out).unwrap();
            let error = codec.decompress(&out, 99_999).unwrap_err();
            assert!(
                matches!(
                    error,
                    RecordBatchError::DecompressedTooLarge { limit: 99_999, .. }
                ),
                "{codec}: {error}"
            );
            assert_eq!(codec.decompress(&out, 100_000).unwrap().len(), 100_000);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let inputs: [&[u8]; 6] = [
            &[],
            &[0xff; 3],
            b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\xff\xff\xff\xff",
            &[
                0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0x10, 0x00, 0x00, 0x00, 0x01,
            ],
            &[0x1f, 0x8b, 0x08, 0x00, 0x00],
            &[0x28, 0xb5, 0x2f, 0xfd, 0x00],
        ];
        for codec in ALL.into_iter().skip(1) {
            for input in inputs {
                if let Ok(out) = codec.decompress(input, 1 << 20) {
                    // Some codecs legitimately decode some of these (e.g. snappy's raw
                    // fallback on an empty block); they must stay within the bound.
                    assert!(out.len() <= 1 << 20);
                }
            }
        }
    }

    #[test]
    fn levels_are_validated_as_java_does() {
        assert!(Compression::Gzip { level: Some(-1) }.validate().is_ok());
        assert!(Compression::Gzip { level: Some(9) }.validate().is_ok());
        assert!(Compression::Gzip { level: Some(0) }.validate().is_err());
        assert!(Compression::Gzip { level: Some(10) }.validate().is_err());
        assert!(Compression::Lz4 { level: Some(1) }.validate().is_ok());
        assert!(Compression::Lz4 { level: Some(17) }.validate().is_ok());
        assert!(Compression::Lz4 { level: Some(0) }.validate().is_err());
        assert!(
            Compression::Zstd {
                level: Some(-131_072)
            }
            .validate()
            .is_ok()
        );
        assert!(Compression::Zstd { level: Some(22) }.validate().is_ok());
        assert!(Compression::Zstd { level: Some(23) }.validate().is_err());
        assert!(
            Compression::Zstd {
                level: Some(-131_073)
            }
            .validate()
            .is_err()
        );
        let mut out = Vec::new();
        assert!(
            Compression::Zstd { level: Some(99) }
                .compress(b"x", &mut out)
                .is_err()
        );
    }

    #[test]
    fn every_level_in_range_compresses() {
        let input = sample(10_000);
        let levels = (1..=9)
            .map(|level| Compression::Gzip { level: Some(level) })
            .chain((1..=17).map(|level| Compression::Lz4 { level: Some(level) }))
            .chain(
                [-131_072, -5, 0, 1, 3, 19, 22]
                    .map(|level| Compression::Zstd { level: Some(level) }),
            );
        for codec in levels {
            let mut out = Vec::new();
            codec.compress(&input, &mut out).unwrap();
            assert_eq!(
                codec.decompress(&out, usize::MAX).unwrap(),
                input,
                "{codec:?}"
            );
        }
    }

    #[test]
    fn names_parse_and_attribute_ids_round_trip() {
        for codec in ALL {
            assert_eq!(codec.name().parse::<Compression>().unwrap(), codec);
            assert_eq!(
                Compression::from_attribute_bits(codec.attribute_bits()).unwrap(),
                codec
            );
            assert_eq!(codec.to_string(), codec.name());
        }
        assert_eq!(
            "LZ4".parse::<Compression>().unwrap(),
            Compression::Lz4 { level: None }
        );
        assert!(matches!(
            "brotli".parse::<Compression>(),
            Err(RecordBatchError::UnknownCompressionType { .. })
        ));
        for id in 5..=7 {
            assert!(matches!(
                Compression::from_attribute_bits(id),
                Err(RecordBatchError::UnknownCompressionId { .. })
            ));
        }
        // Only bits 0-2 select the codec.
        assert_eq!(
            Compression::from_attribute_bits(0x0010 | 3).unwrap(),
            Compression::Lz4 { level: None }
        );
    }
}
