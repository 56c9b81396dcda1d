//! The producer's core guarantees as scenarios, run against the pinned Kafka 4.x
//! (`producer_broker`) and against Kafka 3.9 (`producer_kafka39`). Each sends with
//! kafka-core's public API and checks what Kafka's own Java consumer reads back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kafka_core::partition_for_key;
use kafka_core::{Header, KafkaError, ProducerRecord, SendError};
use kafka_testkit::{ConsumedRecord, Kafka, unique_name};

use crate::support::{await_all, producer};

/// A fixed create time, so timestamps read back are known exactly.
pub const BASE_TIMESTAMP: i64 = 1_700_000_000_000;

/// Distinct keys of the keyed scenario; their lengths vary so that murmur2's
/// 1-, 2- and 3-byte tails all occur.
pub const KEYS: usize = 997;

/// The key of record `i`.
pub fn key_of(i: usize) -> String {
    let k = i % KEYS;
    format!("k{k}{}", "#".repeat(k % 4))
}

fn keyed_value(i: usize) -> String {
    format!("value-{i}")
}

fn keyed_headers(i: usize) -> Vec<(String, Option<Vec<u8>>)> {
    vec![
        ("seq".to_owned(), Some(i.to_string().into_bytes())),
        // Empty for every fourth record: an empty value must stay distinct from null.
        ("trace".to_owned(), Some(vec![b't'; i % 4])),
        ("absent".to_owned(), None),
    ]
}

fn as_headers(headers: &[(String, Option<Vec<u8>>)]) -> Vec<Header> {
    headers
        .iter()
        .map(|(k, v)| match v {
            Some(v) => Header::new(k.clone(), v.clone()),
            None => Header::null(k.clone()),
        })
        .collect()
}

/// `count` keyed records to a 12-partition topic: each is read back exactly once,
/// on the partition Java's murmur2 gives its key, at the offset the broker
/// acknowledged, in send order within its partition, with its timestamp and
/// headers intact.
pub async fn keyed_records_exactly_once_in_order(kafka: &Kafka, count: usize) {
    const PARTITIONS: usize = 12;
    let topic = kafka.create_topic("keyed", PARTITIONS as i32, 1);
    let producer = producer(kafka.bootstrap(), &[("acks", "all")]);
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        let mut record = ProducerRecord::new(topic.clone(), keyed_value(i))
            .with_key(key_of(i))
            .with_timestamp(BASE_TIMESTAMP + i as i64);
        record.headers = as_headers(&keyed_headers(i));
        let handle = producer
            .send(record)
            .await
            .unwrap_or_else(|e| panic!("send #{i} was refused: {e}"));
        handles.push(handle);
    }
    producer.flush().await;
    let acks = await_all(handles).await;
    assert_eq!(producer.close(Duration::from_secs(10)).await, 0);

    let expected_partition: Vec<i32> = (0..count)
        .map(|i| partition_for_key(key_of(i).as_bytes(), PARTITIONS).expect("12 partitions"))
        .collect();
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack.topic, topic);
        assert_eq!(ack.partition, expected_partition[i], "ack of #{i}");
        assert!(ack.offset.is_some(), "ack of #{i} has no offset: {ack:?}");
        assert_eq!(ack.timestamp, BASE_TIMESTAMP + i as i64, "ack of #{i}");
    }

    let consumed = kafka.read_all(&topic, count);
    assert_eq!(
        consumed.len(),
        count,
        "the Java consumer read {} of {count} records",
        consumed.len()
    );
    let mut seen = vec![false; count];
    let mut last_in_partition: HashMap<i32, usize> = HashMap::new();
    for record in &consumed {
        let i = index_in(record, "value-");
        assert!(i < count, "unexpected record {record:?}");
        assert!(!seen[i], "record #{i} was read twice");
        seen[i] = true;
        assert_eq!(record.key_str(), Some(key_of(i)), "key of #{i}");
        assert_eq!(record.partition, expected_partition[i], "partition of #{i}");
        assert_eq!(
            (record.partition, Some(record.offset)),
            (acks[i].partition, acks[i].offset),
            "#{i} is not where the broker acknowledged it"
        );
        assert_eq!(
            record.timestamp,
            BASE_TIMESTAMP + i as i64,
            "timestamp of #{i}"
        );
        assert_eq!(record.timestamp_type, "CreateTime");
        assert_eq!(record.headers, keyed_headers(i), "headers of #{i}");
        // Records come sorted by (partition, offset): send order must rise.
        if let Some(previous) = last_in_partition.insert(record.partition, i) {
            assert!(
                previous < i,
                "partition {}: #{i} is stored after #{previous}, against send order",
                record.partition
            );
        }
    }
    let missing: Vec<usize> = (0..count).filter(|i| !seen[*i]).take(10).collect();
    assert!(missing.is_empty(), "never read back: {missing:?}");
}

/// The number after `prefix` in the record's value.
pub fn index_in(record: &ConsumedRecord, prefix: &str) -> usize {
    record
        .value_str()
        .and_then(|v| v.strip_prefix(prefix).and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("value without '{prefix}<n>': {record:?}"))
}

/// Every `compression.type` this producer supports, and LZ4-HC (any
/// `compression.lz4.level` but the default 9): a label and the settings.
pub const CODECS: [(&str, &[(&str, &str)]); 6] = [
    ("none", &[("compression.type", "none")]),
    ("gzip", &[("compression.type", "gzip")]),
    ("snappy", &[("compression.type", "snappy")]),
    ("lz4", &[("compression.type", "lz4")]),
    (
        "lz4-hc",
        &[("compression.type", "lz4"), ("compression.lz4.level", "12")],
    ),
    ("zstd", &[("compression.type", "zstd")]),
];

/// Record `i` of a codec's partition: compressible text, incompressible bytes,
/// an empty value, a tombstone, keyless, binary keys, headers.
fn codec_record(topic: &str, partition: i32, codec: &str, i: usize) -> ProducerRecord {
    let value: Option<Vec<u8>> = match i % 5 {
        0 | 4 => Some(
            format!("order {i} status=SHIPPED warehouse=north; ")
                .repeat(6)
                .into_bytes(),
        ),
        1 => Some(noise(i, 200)),
        2 => Some(Vec::new()),
        _ => None,
    };
    let mut record = ProducerRecord::new(topic.to_owned(), Vec::new()).with_partition(partition);
    record.value = value.map(Into::into);
    if i % 5 != 4 {
        record.key = Some(vec![0xff, 0x00, (i % 256) as u8, b'k'].into());
    }
    record
        .with_timestamp(BASE_TIMESTAMP + i as i64)
        .with_header("codec", codec.to_owned())
        .with_header("i", i.to_string())
}

/// Bytes no codec can shrink (xorshift).
fn noise(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// Every codec, each in its own partition of one topic, is read back by the Java
/// consumer exactly as sent; the compressed codecs really shrink the batches.
pub async fn every_codec_reads_back_identically(kafka: &Kafka, per_codec: usize) {
    let topic = kafka.create_topic("codecs", CODECS.len() as i32, 1);
    let mut expected: HashMap<(i32, i64), ProducerRecord> = HashMap::new();
    let mut batch_bytes: Vec<(&str, u64, u64)> = Vec::new();
    for (partition, (codec, settings)) in CODECS.iter().enumerate() {
        let partition = partition as i32;
        let producer = producer(
            kafka.bootstrap(),
            &[settings, &[("linger.ms", "20")][..]].concat(),
        );
        let records: Vec<ProducerRecord> = (0..per_codec)
            .map(|i| codec_record(&topic, partition, codec, i))
            .collect();
        let mut handles = Vec::with_capacity(records.len());
        for record in &records {
            let handle = producer
                .send(record.clone())
                .await
                .unwrap_or_else(|e| panic!("{codec}: send refused: {e}"));
            handles.push(handle);
        }
        producer.flush().await;
        let acks = await_all(handles).await;
        for (record, ack) in records.into_iter().zip(acks) {
            assert_eq!(ack.partition, partition);
            let offset = ack.offset.expect("acks=all acknowledges with an offset");
            expected.insert((ack.partition, offset), record);
        }
        let metrics = producer.metrics();
        assert!(
            metrics.batch_total < per_codec as u64 / 10,
            "{codec}: {} batches for {per_codec} records: nothing was batched",
            metrics.batch_total
        );
        batch_bytes.push((codec, metrics.byte_total, metrics.batch_total));
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);
    }

    let consumed = kafka.read_all(&topic, expected.len());
    assert_eq!(consumed.len(), expected.len(), "records read back");
    for record in &consumed {
        let (codec, _) = CODECS[record.partition as usize];
        let sent = expected
            .get(&(record.partition, record.offset))
            .unwrap_or_else(|| panic!("{codec}: unexpected record {record:?}"));
        let at = format!("{codec}: {}-{}", record.partition, record.offset);
        assert_eq!(record.key.as_deref(), sent.key.as_deref(), "{at}: key");
        assert_eq!(
            record.value.as_deref(),
            sent.value.as_deref(),
            "{at}: value"
        );
        assert_eq!(Some(record.timestamp), sent.timestamp, "{at}: timestamp");
        let sent_headers: Vec<(String, Option<Vec<u8>>)> = sent
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
            .collect();
        assert_eq!(record.headers, sent_headers, "{at}: headers");
    }
    let (_, uncompressed, _) = batch_bytes[0];
    for (codec, bytes, batches) in &batch_bytes[1..] {
        assert!(
            bytes * 10 < uncompressed * 8,
            "{codec}: {bytes} bytes in {batches} batches, not much below none's {uncompressed}: \
             were the batches compressed?"
        );
    }
}

/// `acks=0`, `1` and `all` each deliver every record, in order; only `0` leaves the
/// offsets unknown.
pub async fn acks_levels_deliver(kafka: &Kafka) {
    // acks=0 last: a broker that does not lead a partition yet (it applies a
    // new topic a moment after its metadata shows it) can only drop an acks=0
    // request and close the connection; by then the topic has taken records.
    const LEVELS: [&str; 3] = ["all", "1", "0"];
    const PER_LEVEL: usize = 500;
    let topic = kafka.create_topic("acks", LEVELS.len() as i32, 1);
    for (partition, acks) in LEVELS.iter().enumerate() {
        let partition = partition as i32;
        // Idempotence is on by default; Java's rule turns the default off for
        // acks 0 and 1 instead of failing.
        let producer = producer(kafka.bootstrap(), &[("acks", acks)]);
        assert_eq!(producer.config().idempotence_enabled(), *acks == "all");
        let mut handles = Vec::with_capacity(PER_LEVEL);
        for i in 0..PER_LEVEL {
            let record = ProducerRecord::new(topic.clone(), format!("acks={acks}-{i}"))
                .with_partition(partition);
            handles.push(producer.send(record).await.expect("send accepted"));
        }
        producer.flush().await;
        let metadata = await_all(handles).await;
        for (i, md) in metadata.iter().enumerate() {
            // acks=0: no answer, no offset (Java: -1 and hasOffset() false).
            let expected_offset = (*acks != "0").then_some(i as i64);
            assert_eq!(md.offset, expected_offset, "acks={acks}: offset of #{i}");
            assert_eq!(md.partition, partition);
        }
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);
    }
    let consumed = kafka.read_all(&topic, LEVELS.len() * PER_LEVEL);
    assert_eq!(
        consumed.len(),
        LEVELS.len() * PER_LEVEL,
        "records read back"
    );
    for (partition, acks) in LEVELS.iter().enumerate() {
        let values: Vec<String> = consumed
            .iter()
            .filter(|r| r.partition == partition as i32)
            .filter_map(ConsumedRecord::value_str)
            .collect();
        let sent: Vec<String> = (0..PER_LEVEL).map(|i| format!("acks={acks}-{i}")).collect();
        assert_eq!(
            values, sent,
            "acks={acks}: stored records differ from those sent"
        );
    }
}

/// A topic that does not exist (auto-creation is off) fails `send` after
/// `max.block.ms`, with an error naming it.
pub async fn unknown_topic_fails_after_max_block(kafka: &Kafka) {
    send_fails_after_max_block(kafka.bootstrap(), &unique_name("no-such-topic")).await;
}

/// `send` to `topic` through `bootstrap` fails with a metadata timeout after
/// `max.block.ms` (2 s), not before and not much later, with an error naming the
/// topic and giving the record back; the producer then closes at once.
pub async fn send_fails_after_max_block(bootstrap: &str, topic: &str) -> SendError {
    let max_block = Duration::from_secs(2);
    let producer = producer(bootstrap, &[("max.block.ms", "2000")]);
    let started = Instant::now();
    let error = producer
        .send(ProducerRecord::new(topic.to_owned(), "lost"))
        .await
        .expect_err("the topic's metadata cannot arrive");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= max_block - Duration::from_millis(50)
            && elapsed < max_block + Duration::from_millis(1500),
        "failed after {elapsed:?}, max.block.ms is {max_block:?}"
    );
    assert!(
        matches!(error.error(), KafkaError::MetadataTimeout { topic: t, .. } if t == topic),
        "{error:?}"
    );
    assert!(error.error().is_before_send());
    let message = error.to_string();
    assert!(
        message.contains(topic) && message.contains("max.block.ms"),
        "the error must name the topic and the setting: {message}"
    );
    assert_eq!(error.record().map(|r| r.topic.as_str()), Some(topic));
    let started = Instant::now();
    assert_eq!(producer.close(Duration::from_secs(5)).await, 0);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "close took {:?} with nothing to deliver",
        started.elapsed()
    );
    error
}
