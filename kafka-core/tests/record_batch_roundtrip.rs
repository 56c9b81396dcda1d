//! RecordBatch v2 encoding checked against hand-built bytes, the `kafka-protocol`
//! crate's independent encoder and decoder (its lz4 is the C liblz4; its snappy,
//! gzip and zstd paths are separate code), and our own decoder; plus hostile input.

use bytes::Bytes;
use kafka_core::record::Header;
use kafka_core::record_batch::{
    ClosedBatch, Compression, RecordBatchBuilder, RecordBatchError, decode_batches,
    decode_batches_with_limit,
};
use kafka_protocol::records::{
    Compression as KpCompression, Record as KpRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use proptest::prelude::*;

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip { level: None },
    Compression::Snappy,
    Compression::Lz4 { level: None },
    Compression::Zstd { level: None },
];

const BASE_TS: i64 = 1_700_000_000_000;

fn kp_compression(codec: Compression) -> KpCompression {
    match codec {
        Compression::None => KpCompression::None,
        Compression::Gzip { .. } => KpCompression::Gzip,
        Compression::Snappy => KpCompression::Snappy,
        Compression::Lz4 { .. } => KpCompression::Lz4,
        Compression::Zstd { .. } => KpCompression::Zstd,
    }
}

/// The two-record batch of the fixture, built with our builder.
fn fixture_batch() -> ClosedBatch {
    let mut builder = RecordBatchBuilder::new(Compression::None, 16 * 1024);
    assert!(builder.try_append(BASE_TS, Some(b"k"), Some(b"v1"), &[]));
    let headers = [Header::new("h", "x"), Header::null("n")];
    assert!(builder.try_append(BASE_TS - 3, None, Some(b"hello"), &headers));
    builder.close().unwrap()
}

/// The fixture's bytes, written out field by field from the v2 spec.
fn fixture_expected(producer: [u8; 14], attributes: [u8; 2]) -> Vec<u8> {
    let ts = [0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00]; // 1_700_000_000_000
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&[0; 8]); // baseOffset 0
    bytes.extend_from_slice(&[0, 0, 0, 78]); // batchLength: 90 - 12
    bytes.extend_from_slice(&[0xff; 4]); // partitionLeaderEpoch -1
    bytes.push(2); // magic
    bytes.extend_from_slice(&[0; 4]); // crc, filled below
    bytes.extend_from_slice(&attributes);
    bytes.extend_from_slice(&[0, 0, 0, 1]); // lastOffsetDelta
    bytes.extend_from_slice(&ts); // baseTimestamp: the first record's
    bytes.extend_from_slice(&ts); // maxTimestamp: the second record is older
    bytes.extend_from_slice(&producer); // producerId, producerEpoch, baseSequence
    bytes.extend_from_slice(&[0, 0, 0, 2]); // records count
    // Record 0: length 9, attrs, tsDelta 0, offsetDelta 0, key "k", value "v1", 0 headers.
    bytes.extend_from_slice(&[0x12, 0x00, 0x00, 0x00, 0x02, b'k', 0x04, b'v', b'1', 0x00]);
    // Record 1: length 18, attrs, tsDelta -3 (zigzag 5), offsetDelta 1, null key,
    // value "hello", 2 headers: "h" = "x", "n" = null.
    bytes.extend_from_slice(&[
        0x24, 0x00, 0x05, 0x02, 0x01, 0x0a, b'h', b'e', b'l', b'l', b'o', 0x04,
    ]);
    bytes.extend_from_slice(&[0x02, b'h', 0x02, b'x', 0x02, b'n', 0x01]);
    assert_eq!(bytes.len(), 90);
    let crc = crc32c::crc32c(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn fixture_matches_hand_built_bytes() {
    assert_eq!(
        BASE_TS.to_be_bytes(),
        [0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00]
    );
    let mut batch = fixture_batch();
    let no_producer = [0xff; 14];
    assert_eq!(
        &batch.bytes()[..],
        &fixture_expected(no_producer, [0, 0])[..]
    );
    assert_eq!(batch.size_in_bytes(), 90);
    assert_eq!(batch.record_count(), 2);
    assert_eq!(batch.base_timestamp(), BASE_TS);
    assert_eq!(batch.max_timestamp(), BASE_TS);

    batch.set_producer_state(0x0102_0304_0506_0708, 0x090a, 0x0b0c_0d0e, true);
    let producer = [1, 2, 3, 4, 5, 6, 7, 8, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e];
    assert_eq!(
        &batch.bytes()[..],
        &fixture_expected(producer, [0x00, 0x10])[..]
    );

    // Back to non-transactional: the bit is cleared again.
    batch.set_producer_state(-1, -1, -1, false);
    assert_eq!(
        &batch.bytes()[..],
        &fixture_expected(no_producer, [0, 0])[..]
    );
}

#[test]
fn uncompressed_bytes_equal_kafka_protocol_encoder() {
    let headers = [Header::new("trace", "abc"), Header::null("empty")];
    let mut builder = RecordBatchBuilder::new(Compression::None, 1 << 20);
    let mut expected_records = Vec::new();
    for i in 0..50i64 {
        let key = (i % 3 != 0).then(|| Bytes::from(format!("key-{i}")));
        let value = (i % 7 != 0).then(|| Bytes::from(vec![i as u8; i as usize * 5]));
        let record_headers = if i % 2 == 0 { &headers[..] } else { &[] };
        assert!(builder.try_append(
            BASE_TS + i * 10,
            key.as_deref(),
            value.as_deref(),
            record_headers
        ));
        expected_records.push(KpRecord {
            transactional: true,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: 77,
            producer_epoch: 3,
            timestamp_type: TimestampType::Creation,
            offset: i,
            sequence: 1000 + i as i32,
            timestamp: BASE_TS + i * 10,
            key,
            value,
            headers: record_headers
                .iter()
                .map(|h| (h.key.clone().into(), h.value.clone()))
                .collect(),
        });
    }
    let mut batch = builder.close().unwrap();
    batch.set_producer_state(77, 3, 1000, true);

    let mut reference = bytes::BytesMut::new();
    RecordBatchEncoder::encode(
        &mut reference,
        &expected_records,
        &RecordEncodeOptions {
            version: 2,
            compression: KpCompression::None,
        },
    )
    .unwrap();
    assert_eq!(&batch.bytes()[..], &reference[..]);
}

#[test]
fn set_producer_state_does_not_change_bytes_already_handed_out() {
    let mut batch = fixture_batch();
    let in_flight = batch.bytes();
    batch.set_producer_state(5, 1, 0, false);
    assert_eq!(&in_flight[..], &fixture_expected([0xff; 14], [0, 0])[..]);
    let decoded = decode_batches(&batch.bytes()).unwrap();
    assert_eq!(decoded[0].producer_id, 5);
    assert_eq!(decode_batches(&in_flight).unwrap()[0].producer_id, -1);
}

#[test]
fn size_limit_and_first_record_rule() {
    let value = [7u8; 100];
    let mut builder = RecordBatchBuilder::new(Compression::None, 1000);
    let mut appended = 0;
    while builder.try_append(BASE_TS, None, Some(&value), &[]) {
        appended += 1;
    }
    assert!(builder.estimated_size_in_bytes() <= 1000);
    // Each record: length, attributes, timestamp delta, offset delta, null key,
    // value length (2), 100 value bytes, header count; 107 bytes plus a 2-byte length.
    assert_eq!(appended, (1000 - 61) / 109);
    assert_eq!(builder.record_count(), appended);
    let closed = builder.close().unwrap();
    assert_eq!(closed.size_in_bytes(), 61 + appended as usize * 109);
    assert!(closed.size_in_bytes() <= 1000);

    let mut oversized = RecordBatchBuilder::new(Compression::Zstd { level: None }, 10);
    assert!(oversized.is_empty());
    assert!(oversized.try_append(BASE_TS, None, Some(&[1u8; 5000]), &[]));
    assert!(!oversized.is_empty());
    assert!(!oversized.try_append(BASE_TS, None, Some(b""), &[]));
    assert_eq!(oversized.record_count(), 1);
    let closed = oversized.close().unwrap();
    let decoded = decode_batches(&closed.bytes()).unwrap();
    assert_eq!(
        decoded[0].records[0].value.as_deref(),
        Some(&[1u8; 5000][..])
    );
}

#[test]
fn compressed_batches_fill_by_estimated_ratio() {
    let value = [b'a'; 100];
    let count_with_ratio = |ratio: f32| {
        let mut builder = RecordBatchBuilder::new(Compression::Lz4 { level: None }, 16 * 1024);
        builder.set_estimated_compression_ratio(ratio);
        let mut count = 0;
        while builder.try_append(BASE_TS, None, Some(&value), &[]) {
            count += 1;
        }
        (count, builder.close().unwrap())
    };
    let (at_one, batch) = count_with_ratio(1.0);
    let (at_quarter, _) = count_with_ratio(0.25);
    // The 5% margin: fewer records than the uncompressed size allows.
    assert!(at_one < (16 * 1024 - 61) / 109, "{at_one}");
    assert!(at_quarter > 3 * at_one, "{at_quarter} vs {at_one}");
    assert!(
        batch.compression_ratio() < 0.2,
        "{}",
        batch.compression_ratio()
    );
    // 109 bytes per record, 110 once the offset delta needs two varint bytes.
    let uncompressed = batch.uncompressed_records_size();
    assert!(uncompressed > at_one as usize * 109 && uncompressed < at_one as usize * 110);
}

type KeyValue<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

#[test]
fn estimate_is_an_upper_bound_of_a_single_record_batch() {
    let headers = [Header::new("trace-id", vec![1u8; 300]), Header::null("n")];
    let cases: [KeyValue; 3] = [
        (None, None),
        (Some(&[0u8; 16]), Some(&[0u8; 100])),
        (Some(&[1u8; 200]), Some(&[2u8; 70_000])),
    ];
    for (key, value) in cases {
        for record_headers in [&headers[..], &[]] {
            let mut builder = RecordBatchBuilder::new(Compression::None, 0);
            assert!(builder.try_append(i64::MAX, key, value, record_headers));
            let size = builder.close().unwrap().size_in_bytes();
            let estimate = RecordBatchBuilder::estimate_record_size(
                key.map_or(0, <[u8]>::len),
                value.map_or(0, <[u8]>::len),
                record_headers,
            );
            assert!(
                size <= estimate && estimate <= size + 21,
                "size {size} estimate {estimate}"
            );
        }
    }
}

#[test]
fn empty_batch_and_bad_levels_are_errors() {
    assert!(matches!(
        RecordBatchBuilder::new(Compression::None, 100).close(),
        Err(RecordBatchError::EmptyBatch)
    ));
    let mut builder = RecordBatchBuilder::new(Compression::Gzip { level: Some(12) }, 100);
    assert!(builder.try_append(0, None, None, &[]));
    assert!(matches!(
        builder.close(),
        Err(RecordBatchError::InvalidCompressionLevel { codec: "gzip", .. })
    ));
}

#[test]
fn hostile_input_is_rejected_without_panicking() {
    let batch = fixture_batch().bytes();
    assert!(decode_batches(&[]).unwrap().is_empty());
    for cut in 1..batch.len() {
        assert!(decode_batches(&batch[..cut]).is_err(), "cut at {cut}");
    }
    // Every single-byte corruption outside the two fields the CRC does not cover
    // (base offset, partition leader epoch) is caught.
    for at in 0..batch.len() {
        let mut corrupt = batch.to_vec();
        corrupt[at] ^= 0x5a;
        let result = decode_batches(&corrupt);
        if !(0..8).contains(&at) && !(12..16).contains(&at) {
            assert!(result.is_err(), "corruption at {at} accepted");
        } else {
            assert!(
                result.is_ok(),
                "corruption at {at} of an unchecked field rejected"
            );
        }
    }
    let mut magic_one = batch.to_vec();
    magic_one[16] = 1;
    assert!(matches!(
        decode_batches(&magic_one),
        Err(RecordBatchError::UnsupportedMagic { magic: 1 })
    ));
}

#[test]
fn decompression_budget_covers_all_batches_of_a_call() {
    let mut input = Vec::new();
    for _ in 0..3 {
        let mut builder = RecordBatchBuilder::new(Compression::Zstd { level: None }, 1 << 20);
        assert!(builder.try_append(BASE_TS, None, Some(&[0u8; 100_000]), &[]));
        input.extend_from_slice(&builder.close().unwrap().bytes());
    }
    assert_eq!(decode_batches_with_limit(&input, 400_000).unwrap().len(), 3);
    assert!(matches!(
        decode_batches_with_limit(&input, 250_000),
        Err(RecordBatchError::DecompressedTooLarge { .. })
    ));
}

#[derive(Clone, Debug)]
struct TestRecord {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<Header>,
}

fn record_strategy() -> impl Strategy<Value = TestRecord> {
    let bytes =
        |max| proptest::option::weighted(0.85, proptest::collection::vec(any::<u8>(), 0..max));
    let header_value = proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
    (
        -5_000_000i64..5_000_000,
        bytes(64),
        bytes(400),
        proptest::collection::btree_map("[a-zA-Z0-9._-]{0,12}", header_value, 0..4),
    )
        .prop_map(|(delta, key, value, headers)| TestRecord {
            timestamp: BASE_TS + delta,
            key,
            value,
            // Unique keys: kafka-protocol keeps headers in a map.
            headers: headers
                .into_iter()
                .map(|(key, value)| Header {
                    key,
                    value: value.map(Bytes::from),
                })
                .collect(),
        })
}

fn codec_strategy() -> impl Strategy<Value = Compression> {
    prop_oneof![
        Just(Compression::None),
        proptest::option::of(1..=9i32).prop_map(|level| Compression::Gzip { level }),
        Just(Compression::Snappy),
        proptest::option::of(1..=17i32).prop_map(|level| Compression::Lz4 { level }),
        proptest::option::of(-5..=9i32).prop_map(|level| Compression::Zstd { level }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn round_trips_through_kafka_protocol_and_our_decoder(
        codec in codec_strategy(),
        records in proptest::collection::vec(record_strategy(), 1..40),
        producer in proptest::option::of((0i64..i64::MAX, 0i16..i16::MAX, 0i32..i32::MAX, any::<bool>())),
    ) {
        let mut builder = RecordBatchBuilder::new(codec, 1 << 30);
        for record in &records {
            prop_assert!(builder.try_append(
                record.timestamp,
                record.key.as_deref(),
                record.value.as_deref(),
                &record.headers,
            ));
        }
        let mut batch = builder.close().unwrap();
        let (producer_id, epoch, base_sequence, transactional) = producer.unwrap_or((-1, -1, -1, false));
        if producer.is_some() {
            batch.set_producer_state(producer_id, epoch, base_sequence, transactional);
        }
        let max_ts = records.iter().map(|r| r.timestamp).max().unwrap();
        prop_assert_eq!(batch.max_timestamp(), max_ts);
        prop_assert_eq!(batch.base_timestamp(), records[0].timestamp);

        // Independent decoder.
        let mut wire = batch.bytes();
        let sets = RecordBatchDecoder::decode_all(&mut wire).unwrap();
        prop_assert_eq!(sets.len(), 1);
        prop_assert_eq!(sets[0].compression, kp_compression(codec));
        prop_assert_eq!(sets[0].records.len(), records.len());
        for (i, (got, want)) in sets[0].records.iter().zip(&records).enumerate() {
            prop_assert_eq!(got.offset, i as i64);
            prop_assert_eq!(got.timestamp, want.timestamp);
            prop_assert_eq!(got.key.as_deref(), want.key.as_deref());
            prop_assert_eq!(got.value.as_deref(), want.value.as_deref());
            prop_assert_eq!(got.producer_id, producer_id);
            prop_assert_eq!(got.producer_epoch, epoch);
            prop_assert_eq!(got.sequence, base_sequence.wrapping_add(i as i32));
            prop_assert_eq!(got.transactional, transactional);
            prop_assert_eq!(got.partition_leader_epoch, -1);
            prop_assert_eq!(got.timestamp_type, TimestampType::Creation);
            let got_headers: Vec<(String, Option<Bytes>)> =
                got.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            let want_headers: Vec<(String, Option<Bytes>)> =
                want.headers.iter().map(|h| (h.key.clone(), h.value.clone())).collect();
            prop_assert_eq!(got_headers, want_headers);
        }

        // Our decoder.
        let decoded = decode_batches(&batch.bytes()).unwrap();
        prop_assert_eq!(decoded.len(), 1);
        let ours = &decoded[0];
        prop_assert_eq!(ours.compression.attribute_bits(), codec.attribute_bits());
        prop_assert_eq!(ours.producer_id, producer_id);
        prop_assert_eq!(ours.producer_epoch, epoch);
        prop_assert_eq!(ours.base_sequence, base_sequence);
        prop_assert_eq!(ours.is_transactional(), transactional);
        prop_assert!(!ours.is_control());
        prop_assert_eq!(ours.last_offset_delta, records.len() as i32 - 1);
        prop_assert_eq!(ours.max_timestamp, max_ts);
        prop_assert_eq!(ours.records.len(), records.len());
        for (i, (got, want)) in ours.records.iter().zip(&records).enumerate() {
            prop_assert_eq!(got.offset, i as i64);
            prop_assert_eq!(got.timestamp, want.timestamp);
            prop_assert_eq!(got.key.as_deref(), want.key.as_deref());
            prop_assert_eq!(got.value.as_deref(), want.value.as_deref());
            prop_assert_eq!(&got.headers, &want.headers);
        }
    }

    #[test]
    fn duplicate_header_keys_keep_order(
        values in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..10)), 1..6),
    ) {
        let headers: Vec<Header> =
            values.into_iter().map(|v| Header { key: "same".into(), value: v.map(Bytes::from) }).collect();
        let mut builder = RecordBatchBuilder::new(Compression::Snappy, 1 << 20);
        prop_assert!(builder.try_append(BASE_TS, None, None, &headers));
        let decoded = decode_batches(&builder.close().unwrap().bytes()).unwrap();
        prop_assert_eq!(&decoded[0].records[0].headers, &headers);
    }

    #[test]
    fn random_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_batches_with_limit(&input, 1 << 20);
    }

    #[test]
    fn mutated_batches_never_panic(
        codec_index in 0..CODECS.len(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        recompute_crc in any::<bool>(),
    ) {
        let mut builder = RecordBatchBuilder::new(CODECS[codec_index], 1 << 20);
        for i in 0..20u8 {
            let headers = [Header::new("h", vec![i; 3])];
            prop_assert!(builder.try_append(BASE_TS + i64::from(i), Some(&[i; 4]), Some(&[i; 30]), &headers));
        }
        let mut bytes = builder.close().unwrap().bytes().to_vec();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        if recompute_crc && bytes.len() >= 61 {
            // Get past the CRC so the parsers themselves face the damage.
            let crc = crc32c::crc32c(&bytes[21..]);
            bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        }
        let _ = decode_batches_with_limit(&bytes, 1 << 20);
    }
}
