//! The Avro binary encoding of primitive values, as the specification defines it
//! and as apache-avro's writer produces it: `int` and `long` as zig-zag varints,
//! `float`/`double` little-endian IEEE 754, `bytes`/`string` length-prefixed.

/// Appends a `long` (zig-zag, then base-128 varint, least significant group first).
#[inline]
pub fn write_long(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

/// Appends an `int`. The zig-zag of a sign-extended `int` equals its 32-bit
/// zig-zag, so `int` and `long` share one varint writer.
#[inline]
pub fn write_int(out: &mut Vec<u8>, value: i32) {
    write_long(out, i64::from(value));
}

/// Appends a `boolean`: one byte, 0 or 1.
#[inline]
pub fn write_boolean(out: &mut Vec<u8>, value: bool) {
    out.push(u8::from(value));
}

/// Appends a `float`: four bytes, little-endian.
#[inline]
pub fn write_float(out: &mut Vec<u8>, value: f32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a `double`: eight bytes, little-endian.
#[inline]
pub fn write_double(out: &mut Vec<u8>, value: f64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends `bytes`: the length as a `long`, then the bytes.
#[inline]
pub fn write_bytes(out: &mut Vec<u8>, value: &[u8]) {
    write_long(out, len_as_long(value.len()));
    out.extend_from_slice(value);
}

/// Appends a `string`: its UTF-8 bytes as `bytes`.
#[inline]
pub fn write_string(out: &mut Vec<u8>, value: &str) {
    write_bytes(out, value.as_bytes());
}

/// Starts a non-empty array or map block: the item count as a `long`. An empty
/// array or map is only the end marker, as apache-avro writes it.
#[inline]
pub fn write_block_count(out: &mut Vec<u8>, count: usize) {
    write_long(out, len_as_long(count));
}

/// Ends an array or map: a block of count zero.
#[inline]
pub fn write_end_of_blocks(out: &mut Vec<u8>) {
    out.push(0);
}

/// A Rust length as an Avro `long`. No allocation can exceed `isize::MAX`
/// bytes, so this never saturates in practice; saturating keeps it total.
#[inline]
fn len_as_long(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_long(&mut out, value);
        out
    }

    #[test]
    fn zigzag_varints_match_the_specification_table() {
        // The table in the Avro specification, "Binary Encoding".
        assert_eq!(long(0), [0x00]);
        assert_eq!(long(-1), [0x01]);
        assert_eq!(long(1), [0x02]);
        assert_eq!(long(-2), [0x03]);
        assert_eq!(long(2), [0x04]);
        assert_eq!(long(-64), [0x7f]);
        assert_eq!(long(64), [0x80, 0x01]);
        assert_eq!(
            long(i64::MAX),
            [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        assert_eq!(
            long(i64::MIN),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn int_and_long_share_the_encoding() {
        for value in [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN] {
            let mut int = Vec::new();
            write_int(&mut int, value);
            assert_eq!(int, long(i64::from(value)), "value {value}");
        }
    }

    #[test]
    fn strings_are_length_prefixed_utf8() {
        let mut out = Vec::new();
        write_string(&mut out, "foo");
        assert_eq!(out, [0x06, b'f', b'o', b'o']);
    }
}
