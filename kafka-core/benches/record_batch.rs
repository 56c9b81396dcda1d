//! Producer hot path of the batch codec: append 100-byte values with 16-byte keys
//! into a 16 KiB batch, close it (compressing once) and set the producer state
//! (header + CRC), per codec. Throughput is reported in records.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kafka_core::record_batch::{Compression, RecordBatchBuilder};

const BATCH_SIZE: usize = 16 * 1024;
const KEY_LEN: usize = 16;
const VALUE_LEN: usize = 100;
const DISTINCT_RECORDS: usize = 1024;

/// JSON-ish values with varying fields, so the codecs see realistic redundancy
/// rather than runs of zeros.
fn sample_records() -> Vec<([u8; KEY_LEN], Vec<u8>)> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..DISTINCT_RECORDS)
        .map(|i| {
            let mut key = [0u8; KEY_LEN];
            key.copy_from_slice(format!("order-{:010}", next() % 10_000_000_000).as_bytes());
            let mut value = format!(
                "{{\"id\":{i},\"customer\":\"c-{:06}\",\"amount\":{}.{:02},\"status\":\"{}\",\"sku\":\"{:x}\"}}",
                next() % 1_000_000,
                next() % 10_000,
                next() % 100,
                ["NEW", "PAID", "SHIPPED"][(next() % 3) as usize],
                next()
            )
            .into_bytes();
            value.resize(VALUE_LEN, b' ');
            (key, value)
        })
        .collect()
}

/// Fills one batch; returns how many records it took.
fn fill(
    builder: &mut RecordBatchBuilder,
    records: &[([u8; KEY_LEN], Vec<u8>)],
    start: usize,
) -> usize {
    let mut appended = 0;
    loop {
        let (key, value) = &records[(start + appended) % records.len()];
        let timestamp = 1_700_000_000_000 + appended as i64;
        if !builder.try_append(timestamp, Some(key), Some(value), &[]) {
            return appended;
        }
        appended += 1;
    }
}

fn bench_codecs(c: &mut Criterion) {
    let records = sample_records();
    let mut group = c.benchmark_group("record_batch_16KiB_append_close_crc");
    for compression in [
        Compression::None,
        Compression::Lz4 { level: None },
        Compression::Zstd { level: None },
    ] {
        let per_batch = fill(
            &mut RecordBatchBuilder::new(compression, BATCH_SIZE),
            &records,
            0,
        );
        group.throughput(Throughput::Elements(per_batch as u64));
        let mut start = 0;
        group.bench_function(compression.name(), |b| {
            b.iter(|| {
                let mut builder = RecordBatchBuilder::new(compression, BATCH_SIZE);
                start = (start + fill(&mut builder, &records, start)) % records.len();
                let mut batch = builder.close().expect("closing a full batch");
                batch.set_producer_state(black_box(42), 0, black_box(start as i32), false);
                black_box(batch.bytes())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_codecs);
criterion_main!(benches);
