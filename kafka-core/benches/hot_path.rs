//! The producer's hot path without a network, for 100-byte records: `send`'s
//! first step (checks, metadata, partition) and append into per-partition
//! batches (one delivery future each), then the
//! sender's work per batch (encode and compress, stamp producer id, epoch,
//! sequence and CRC-32C), then completion. Throughput is reported in records.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kafka_core::Compression;
use kafka_core::bench_support::HotPath;

const RECORDS_PER_RUN: usize = 10_000;
const PARTITIONS: usize = 6;
const VALUE_SIZE: usize = 100;

fn hot_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot_path");
    group.throughput(Throughput::Elements(RECORDS_PER_RUN as u64));
    for (name, compression) in [
        ("none", Compression::None),
        ("lz4", Compression::Lz4 { level: None }),
    ] {
        let mut path = HotPath::new(compression, PARTITIONS, VALUE_SIZE).expect("bench setup");
        group.bench_function(BenchmarkId::new("append_encode_crc", name), |b| {
            b.iter(|| black_box(path.run(black_box(RECORDS_PER_RUN)).expect("hot path run")));
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
