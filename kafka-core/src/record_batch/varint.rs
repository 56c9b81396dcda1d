//! Kafka's variable-length integers: zigzag-encoded, then unsigned LEB128
//! (7 bits per byte, least significant group first, high bit = "more follows"),
//! as Java's `ByteUtils.writeVarint` / `writeVarlong` write them.

use super::error::RecordBatchError;

/// Longest encoded `varint` (an `i32`).
pub(crate) const MAX_VARINT_LEN: usize = 5;
/// Longest encoded `varlong` (an `i64`).
pub(crate) const MAX_VARLONG_LEN: usize = 10;

#[inline]
fn zigzag32(value: i32) -> u32 {
    ((value << 1) ^ (value >> 31)) as u32
}

#[inline]
fn zigzag64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Encoded size of `value` as a Kafka `varint`.
#[inline]
pub(crate) fn varint_len(value: i32) -> usize {
    unsigned_len(u64::from(zigzag32(value)))
}

/// Encoded size of `value` as a Kafka `varlong`.
#[inline]
pub(crate) fn varlong_len(value: i64) -> usize {
    unsigned_len(zigzag64(value))
}

#[inline]
fn unsigned_len(value: u64) -> usize {
    // One byte per started group of 7 bits; zero still takes one byte:
    // ceil(bits / 7) computed as (9 * (bits - 1) + 73) / 64, exact for 1..=64
    // bits: a shift instead of a division by 7 (several per record).
    let highest_bit = 63 - (value | 1).leading_zeros() as usize;
    (highest_bit * 9 + 73) / 64
}

/// Appends `value` as a Kafka `varint` to `buf`.
///
/// Byte by byte on purpose: copying a varint staged in a stack buffer with a
/// variable-length `memcpy` stalls on store-to-load forwarding, which showed as
/// half of the append time.
#[inline]
pub(crate) fn put_varint(buf: &mut Vec<u8>, value: i32) {
    put_unsigned(buf, u64::from(zigzag32(value)));
}

/// Appends `value` as a Kafka `varlong` to `buf`.
#[inline]
pub(crate) fn put_varlong(buf: &mut Vec<u8>, value: i64) {
    put_unsigned(buf, zigzag64(value));
}

#[inline]
fn put_unsigned(buf: &mut Vec<u8>, mut rest: u64) {
    while rest >= 0x80 {
        buf.push(rest as u8 | 0x80);
        rest >>= 7;
    }
    buf.push(rest as u8);
}

/// Reads an unsigned LEB128 value of at most `max_len` bytes from the front of
/// `input`, advancing it. Bits beyond the target width in the last byte are
/// dropped, as Java's reader does.
fn read_unsigned(
    input: &mut &[u8],
    max_len: usize,
    what: &'static str,
) -> Result<u64, RecordBatchError> {
    let mut value: u64 = 0;
    for (index, &byte) in input.iter().enumerate().take(max_len) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            *input = input.get(index + 1..).unwrap_or_default();
            return Ok(value);
        }
    }
    if input.len() < max_len {
        Err(RecordBatchError::Truncated { what })
    } else {
        Err(RecordBatchError::VarintTooLong { what })
    }
}

/// Reads a Kafka `varint` from the front of `input`, advancing it.
pub(crate) fn read_varint(input: &mut &[u8], what: &'static str) -> Result<i32, RecordBatchError> {
    let raw = read_unsigned(input, MAX_VARINT_LEN, what)? as u32;
    Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Reads a Kafka `varlong` from the front of `input`, advancing it.
pub(crate) fn read_varlong(input: &mut &[u8], what: &'static str) -> Result<i64, RecordBatchError> {
    let raw = read_unsigned(input, MAX_VARLONG_LEN, what)?;
    Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode32(value: i32) -> Vec<u8> {
        let mut buf = Vec::new();
        put_varint(&mut buf, value);
        buf
    }

    fn encode64(value: i64) -> Vec<u8> {
        let mut buf = Vec::new();
        put_varlong(&mut buf, value);
        buf
    }

    #[test]
    fn zigzag_edge_values_encode_as_kafka_does() {
        // Expected bytes follow the protobuf/Kafka zigzag table.
        assert_eq!(encode32(0), [0x00]);
        assert_eq!(encode32(-1), [0x01]);
        assert_eq!(encode32(1), [0x02]);
        assert_eq!(encode32(-64), [0x7f]);
        assert_eq!(encode32(64), [0x80, 0x01]);
        assert_eq!(encode32(300), [0xd8, 0x04]);
        assert_eq!(encode32(i32::MAX), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(encode32(i32::MIN), [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(
            encode64(i64::MAX),
            [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        assert_eq!(
            encode64(i64::MIN),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        assert_eq!(encode64(-1), [0x01]);
    }

    #[test]
    fn lengths_match_encodings() {
        for value in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            8191,
            8192,
            i32::MAX,
            i32::MIN,
            1 << 20,
            -(1 << 27),
        ] {
            assert_eq!(varint_len(value), encode32(value).len(), "varint {value}");
        }
        for value in [
            0,
            1,
            -1,
            i64::MAX,
            i64::MIN,
            1 << 35,
            -(1 << 49),
            i64::from(i32::MIN),
        ] {
            assert_eq!(varlong_len(value), encode64(value).len(), "varlong {value}");
        }
    }

    #[test]
    fn lengths_match_encodings_at_every_bit_width() {
        for bits in 0..64 {
            for value in [1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) + 1] {
                let mut buf = Vec::new();
                put_unsigned(&mut buf, value);
                assert_eq!(unsigned_len(value), buf.len(), "{value:#x}");
            }
        }
        assert_eq!(unsigned_len(u64::MAX), MAX_VARLONG_LEN);
    }

    #[test]
    fn round_trips_edge_values() {
        for value in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
        ] {
            let bytes = encode32(value);
            let mut input = &bytes[..];
            assert_eq!(read_varint(&mut input, "test").unwrap(), value);
            assert!(input.is_empty());
        }
        for value in [
            0,
            1,
            -1,
            i64::MAX,
            i64::MIN,
            i64::MAX - 1,
            i64::MIN + 1,
            1 << 62,
        ] {
            let bytes = encode64(value);
            let mut input = &bytes[..];
            assert_eq!(read_varlong(&mut input, "test").unwrap(), value);
            assert!(input.is_empty());
        }
    }

    #[test]
    fn rejects_truncated_and_overlong_input() {
        let mut truncated: &[u8] = &[0x80, 0x80];
        assert!(matches!(
            read_varint(&mut truncated, "x"),
            Err(RecordBatchError::Truncated { .. })
        ));
        let mut empty: &[u8] = &[];
        assert!(matches!(
            read_varint(&mut empty, "x"),
            Err(RecordBatchError::Truncated { .. })
        ));
        let mut overlong: &[u8] = &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert!(matches!(
            read_varint(&mut overlong, "x"),
            Err(RecordBatchError::VarintTooLong { .. })
        ));
        let mut overlong64: &[u8] = &[0xff; 11];
        assert!(matches!(
            read_varlong(&mut overlong64, "x"),
            Err(RecordBatchError::VarintTooLong { .. })
        ));
    }

    #[test]
    fn reading_leaves_following_bytes() {
        let mut input: &[u8] = &[0xd8, 0x04, 0xaa];
        assert_eq!(read_varint(&mut input, "x").unwrap(), 300);
        assert_eq!(input, [0xaa]);
    }
}
