//! Kafka's key hash: 32-bit MurmurHash2 exactly as the Java client's
//! `Utils.murmur2`, so keyed records land on the same partitions as with Java.

/// Kafka's seed for `Utils.murmur2`.
const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// MurmurHash2 of `data` as Kafka's `Utils.murmur2` computes it (a signed 32-bit
/// result, as Java's `int`).
///
/// ```
/// use kafka_core::murmur2;
/// assert_eq!(murmur2(b"21"), -973932308);
/// assert_eq!(murmur2(b"foobar"), -790332482);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    // Java mixes the length in as an `int`; keys are far below 2^32 bytes, and
    // truncation is what Java's int arithmetic would do anyway.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(*byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows
/// on `i32::MIN`).
///
/// ```
/// use kafka_core::to_positive;
/// assert_eq!(to_positive(-1), i32::MAX);
/// assert_eq!(to_positive(i32::MIN), 0);
/// assert_eq!(to_positive(42), 42);
/// ```
pub const fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition of a keyed record: `to_positive(murmur2(key)) % partition_count`,
/// as Java's `BuiltInPartitioner.partitionForKey`. `None` when the topic has no
/// partitions (or more than `i32::MAX`, which Kafka cannot have).
///
/// ```
/// use kafka_core::partition_for_key;
/// assert_eq!(partition_for_key(b"foobar", 50), Some(16));
/// assert_eq!(partition_for_key(b"foobar", 0), None);
/// ```
pub fn partition_for_key(key: &[u8], partition_count: usize) -> Option<i32> {
    let count = i32::try_from(partition_count).ok().filter(|c| *c > 0)?;
    Some(to_positive(murmur2(key)) % count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn matches_kafkas_published_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input),
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn covers_every_tail_length() {
        // Each tail length (0-3 trailing bytes) takes a different branch.
        let hashes: Vec<i32> = (0..8).map(|n| murmur2(&b"abcdefgh"[..n])).collect();
        let mut unique = hashes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), hashes.len(), "{hashes:?}");
        assert_eq!(murmur2(b"abc"), 479_470_107);
    }

    #[test]
    fn keyed_partition_is_the_positive_hash_modulo_count() {
        assert_eq!(partition_for_key(b"foobar", 50), Some(16));
        for count in 1..=64 {
            let partition = partition_for_key(b"21", count).unwrap();
            assert_eq!(
                partition,
                to_positive(-973_932_308) % i32::try_from(count).unwrap()
            );
        }
        assert_eq!(partition_for_key(b"21", usize::MAX), None);
    }

    /// Where Kafka 4.1.1's Java producer (`ConsoleProducer`, default partitioner) put
    /// the keys `key-0` ..= `key-99` in a 7-partition topic, read back with its
    /// console consumer.
    #[test]
    fn places_keys_where_the_java_producer_does() {
        const JAVA: [i32; 100] = [
            0, 5, 4, 4, 5, 4, 5, 3, 4, 2, 3, 3, 2, 2, 2, 1, 0, 2, 6, 5, 5, 3, 0, 1, 3, 0, 0, 1, 3,
            0, 5, 2, 2, 5, 3, 2, 1, 4, 5, 0, 2, 6, 3, 0, 1, 0, 4, 6, 1, 4, 6, 6, 4, 3, 1, 6, 5, 0,
            6, 3, 3, 0, 0, 1, 1, 4, 4, 5, 4, 4, 4, 5, 3, 2, 4, 1, 2, 1, 4, 4, 0, 4, 5, 3, 6, 5, 0,
            1, 5, 4, 3, 2, 2, 4, 4, 2, 6, 0, 1, 6,
        ];
        for (i, expected) in JAVA.iter().enumerate() {
            let key = format!("key-{i}");
            assert_eq!(
                partition_for_key(key.as_bytes(), 7),
                Some(*expected),
                "{key}"
            );
        }
    }
}
