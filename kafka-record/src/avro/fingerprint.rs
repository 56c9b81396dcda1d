//! CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro specification defines for
//! schemas ("Schema Fingerprints") and single-object encoding uses.

/// The fingerprint of the empty input; also the polynomial's seed.
const EMPTY: u64 = 0xc15d_213a_a4d7_a795;

/// The byte-at-a-time lookup table, computed at compile time.
const TABLE: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut fp = i as u64;
        let mut bit = 0;
        while bit < 8 {
            // Shift right; fold in the polynomial when the low bit was set.
            fp = (fp >> 1) ^ (EMPTY & 0u64.wrapping_sub(fp & 1));
            bit += 1;
        }
        table[i] = fp;
        i += 1;
    }
    table
};

/// CRC-64-AVRO of `data` (for a schema: of its Parsing Canonical Form).
pub fn crc64_avro(data: &[u8]) -> u64 {
    data.iter().fold(EMPTY, |fp, &byte| {
        (fp >> 8) ^ TABLE[((fp ^ u64::from(byte)) & 0xff) as usize]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_schema_fingerprints_match_the_avro_test_vectors() {
        // Values from the Avro project's interop test data for canonical forms
        // of primitive schemas (as signed longs).
        assert_eq!(crc64_avro(br#""null""#) as i64, 7195948357588979594);
        assert_eq!(crc64_avro(br#""boolean""#) as i64, -6970731678124411036);
        assert_eq!(crc64_avro(br#""int""#) as i64, 8247732601305521295);
        assert_eq!(crc64_avro(br#""string""#) as i64, -8142146995180207161);
    }

    #[test]
    fn matches_apache_avro_rabin() {
        use apache_avro::Schema;
        use apache_avro::rabin::Rabin;
        let schema = Schema::parse_str(
            r#"{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":"long"}]}"#,
        )
        .expect("valid schema");
        let theirs = schema.fingerprint::<Rabin>().bytes;
        let ours = crc64_avro(schema.canonical_form().as_bytes()).to_le_bytes();
        assert_eq!(ours.as_slice(), theirs.as_slice());
    }
}
