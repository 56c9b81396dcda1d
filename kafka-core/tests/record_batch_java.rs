//! Kafka's own Java code reads our batches: they are written as a log segment and
//! dumped with `kafka.tools.DumpLogSegments --deep-iteration`, which checks each
//! CRC and decompresses with the codecs the broker and the Java consumer use
//! (JDK gzip, xerial snappy-java, Kafka's LZ4 block stream over lz4-java, zstd-jni).
//! Needs Java and the Kafka jars `scripts/kafka` fetches; no broker.

use std::fmt::Write as _;

use kafka_core::record::Header;
use kafka_core::record_batch::{Compression, RecordBatchBuilder};

const BASE_TS: i64 = 1_700_000_000_000;

/// One batch per codec and level. 3000 records of up to ~90 bytes make every
/// records section larger than 64 KiB, so snappy (32 KiB) and lz4 (64 KiB) write
/// several blocks.
const CODECS: [Compression; 10] = [
    Compression::None,
    Compression::Gzip { level: None },
    Compression::Gzip { level: Some(1) },
    Compression::Snappy,
    Compression::Lz4 { level: None },
    // LZ4-HC: C's LZ4 1.10 compresses levels 1 and 2 with its middle
    // strategy, 3 and up with the full one.
    Compression::Lz4 { level: Some(1) },
    Compression::Lz4 { level: Some(17) },
    Compression::Zstd { level: None },
    Compression::Zstd { level: Some(-5) },
    Compression::Zstd { level: Some(19) },
];
const RECORDS_PER_BATCH: i64 = 3000;

fn key(i: i64) -> Option<String> {
    (i % 10 != 3).then(|| format!("key-{i}"))
}

fn value(codec: Compression, i: i64) -> Option<String> {
    (i % 17 != 5).then(|| format!("{codec}-value-{i}-{}", "abcdefgh".repeat((i % 9) as usize)))
}

fn headers(i: i64) -> Vec<Header> {
    match i % 3 {
        0 => vec![],
        1 => vec![Header::new("trace", format!("t{i}"))],
        _ => vec![Header::new("a", "1"), Header::null("b")],
    }
}

#[test]
fn java_reads_every_codec() {
    let mut segment = Vec::new();
    let mut expected = String::new();
    let mut offset = 0i64;
    for (index, codec) in CODECS.into_iter().enumerate() {
        let mut builder = RecordBatchBuilder::new(codec, 1 << 20);
        for i in 0..RECORDS_PER_BATCH {
            let (key, value) = (key(i), value(codec, i));
            // Timestamps jump back and forth around the first record's.
            let timestamp = BASE_TS + (i % 7 - 3) * 1000 + i;
            assert!(builder.try_append(
                timestamp,
                key.as_deref().map(str::as_bytes),
                value.as_deref().map(str::as_bytes),
                &headers(i)
            ));
        }
        let mut batch = builder.close().unwrap();
        let transactional = index % 2 == 1;
        batch.set_producer_state(1234, 5, 100 * index as i32, transactional);
        let mut bytes = batch.bytes().to_vec();
        // The broker assigns base offsets; give each batch its place in the segment.
        bytes[..8].copy_from_slice(&offset.to_be_bytes());
        segment.extend_from_slice(&bytes);

        let _ = writeln!(
            expected,
            "batch {offset} count: {RECORDS_PER_BATCH} producerId: 1234 producerEpoch: 5 \
             isTransactional: {transactional} CreateTime: {} compresscodec: {} isvalid: true",
            batch.max_timestamp(),
            codec.name()
        );
        for i in 0..RECORDS_PER_BATCH {
            let timestamp = BASE_TS + (i % 7 - 3) * 1000 + i;
            let (key, value) = (key(i), value(codec, i));
            let header_keys: Vec<String> = headers(i).into_iter().map(|h| h.key).collect();
            let _ = write!(
                expected,
                "| offset: {} CreateTime: {timestamp} keySize: {} valueSize: {} sequence: {} headerKeys: [{}]",
                offset + i,
                key.as_ref().map_or(-1, |k| k.len() as i64),
                value.as_ref().map_or(-1, |v| v.len() as i64),
                100 * index as i64 + i,
                header_keys.join(",")
            );
            if let Some(key) = key {
                let _ = write!(expected, " key: {key}");
            }
            if let Some(value) = value {
                let _ = write!(expected, " payload: {value}");
            }
            expected.push('\n');
        }
        offset += RECORDS_PER_BATCH;
    }

    let dir = std::env::temp_dir().join(kafka_testkit::unique_name("record-batch-java"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("00000000000000000000.log");
    std::fs::write(&log, &segment).unwrap();
    let dump = kafka_testkit::run_script(&[
        "tool",
        "kafka.tools.DumpLogSegments",
        "--files",
        log.to_str().unwrap(),
        "--deep-iteration",
        "--print-data-log",
    ]);
    let _ = std::fs::remove_dir_all(&dir);

    let actual = summarize(&dump);
    if actual != expected {
        let first_difference = actual
            .lines()
            .zip(expected.lines())
            .find(|(a, e)| a != e)
            .map(|(a, e)| format!("java:     {a}\nexpected: {e}"))
            .unwrap_or_else(|| {
                format!(
                    "{} lines vs {} expected",
                    actual.lines().count(),
                    expected.lines().count()
                )
            });
        panic!("DumpLogSegments disagrees with what was written:\n{first_difference}");
    }
}

/// Keeps the batch fields this test controls and every record line.
fn summarize(dump: &str) -> String {
    let mut out = String::new();
    for line in dump.lines() {
        let line = line.trim();
        if line.starts_with("baseOffset:") {
            let field = |name: &str| {
                let start = line
                    .find(&format!("{name}: "))
                    .unwrap_or_else(|| panic!("no {name} in {line}"));
                line[start..]
                    .split(' ')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let base = field("baseOffset");
            let _ = writeln!(
                out,
                "batch {} {} {} {} {} {} {} {}",
                base.trim_start_matches("baseOffset: "),
                field("count"),
                field("producerId"),
                field("producerEpoch"),
                field("isTransactional"),
                field("CreateTime"),
                field("compresscodec"),
                field("isvalid"),
            );
        } else if line.starts_with("| offset:") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
