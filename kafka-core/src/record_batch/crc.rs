//! CRC-32C (Castagnoli) helpers for the batch checksum.
//!
//! The batch CRC covers `attributes..end`: 40 header bytes followed by the
//! records. The producer rewrites the header (producer id, epoch, sequence) after
//! the records are final, so the records' CRC is computed once at close and
//! combined with a fresh CRC of the 40 header bytes each time the header
//! changes. Combining multiplies the header CRC by `x^(8·len) mod P` in GF(2)
//! (the zlib `crc32_combine` technique); that multiplier is computed once per
//! batch from compile-time tables, with at most three GF(2) multiplications for
//! any batch length below 4 GiB.

/// CRC-32C polynomial, bit-reflected.
const POLY: u32 = 0x82F6_3B78;

/// `x^0` in the reflected representation.
const ONE: u32 = 1 << 31;

/// Multiplies two polynomials modulo `POLY` (both reflected).
const fn multiply_mod(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = 0;
    while bit < 32 {
        if a & (ONE >> bit) != 0 {
            product ^= b;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        bit += 1;
    }
    product
}

/// `X_POW_2K[k] = x^(2^k) mod POLY`.
const X_POW_2K: [u32; 64] = {
    let mut table = [0u32; 64];
    table[0] = ONE >> 1; // x^1
    let mut k = 1;
    while k < 64 {
        table[k] = multiply_mod(table[k - 1], table[k - 1]);
        k += 1;
    }
    table
};

/// `SHIFT_BY_BYTES[j][v] = x^(8 · v · 256^j) mod POLY`: the multiplier that
/// appends `v · 256^j` zero bytes, for each byte `j` of a 32-bit length.
const SHIFT_BY_BYTES: [[u32; 256]; 4] = {
    let mut tables = [[0u32; 256]; 4];
    let mut j = 0;
    while j < 4 {
        // x^(8 · 256^j) = x^(2^(3 + 8j))
        let step = X_POW_2K[3 + 8 * j];
        tables[j][0] = ONE;
        let mut v = 1;
        while v < 256 {
            tables[j][v] = multiply_mod(tables[j][v - 1], step);
            v += 1;
        }
        j += 1;
    }
    tables
};

/// The multiplier that appends `len` zero bytes to a CRC: `x^(8·len) mod POLY`.
pub(crate) fn zero_bytes_shift(len: usize) -> u32 {
    let len = len as u64;
    let mut shift = SHIFT_BY_BYTES[0][(len & 0xff) as usize];
    let mut j = 1;
    while j < 4 {
        let byte = ((len >> (8 * j)) & 0xff) as usize;
        if byte != 0 {
            shift = multiply_mod(SHIFT_BY_BYTES[j][byte], shift);
        }
        j += 1;
    }
    // Lengths of 4 GiB and more (never a batch, but keep the function total).
    let mut rest = len >> 32;
    let mut k = 3 + 32;
    while rest != 0 && k < X_POW_2K.len() {
        if rest & 1 != 0 {
            shift = multiply_mod(X_POW_2K[k], shift);
        }
        rest >>= 1;
        k += 1;
    }
    shift
}

/// CRC-32C of `A ‖ B` from `crc32c(A)`, `crc32c(B)` and `zero_bytes_shift(B.len())`.
#[inline]
pub(crate) fn combine(crc_front: u32, crc_back: u32, back_shift: u32) -> u32 {
    multiply_mod(back_shift, crc_front) ^ crc_back
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combining_equals_checksumming_the_concatenation() {
        let data: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for split in [0, 1, 40, 41, 1000, 16_384, 19_999, 20_000] {
            let (front, back) = data.split_at(split);
            let expected = crc32c::crc32c(&data);
            let combined = combine(
                crc32c::crc32c(front),
                crc32c::crc32c(back),
                zero_bytes_shift(back.len()),
            );
            assert_eq!(combined, expected, "split at {split}");
            assert_eq!(
                crc32c::crc32c_combine(crc32c::crc32c(front), crc32c::crc32c(back), back.len()),
                expected
            );
        }
    }

    #[test]
    fn shift_tables_agree_with_repeated_squaring() {
        let slow = |len: u64| {
            let mut shift = ONE;
            for k in 0..61 {
                if len >> k & 1 != 0 {
                    shift = multiply_mod(X_POW_2K[k + 3], shift);
                }
            }
            shift
        };
        for len in [
            0u64,
            1,
            255,
            256,
            257,
            16_384,
            65_535,
            65_536,
            1 << 24,
            (1 << 31) - 1,
            u32::MAX as u64,
            1 << 40,
            12_345_678_901,
        ] {
            assert_eq!(zero_bytes_shift(len as usize), slow(len), "len {len}");
        }
    }

    #[test]
    fn castagnoli_check_value() {
        // The catalogued check value of CRC-32C over "123456789".
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        let combined = combine(
            crc32c::crc32c(b"1234"),
            crc32c::crc32c(b"56789"),
            zero_bytes_shift(5),
        );
        assert_eq!(combined, 0xE306_9283);
    }
}
