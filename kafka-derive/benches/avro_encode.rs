//! The derived Avro encoder against apache-avro's serde path
//! (`to_avro_datum(&schema, to_value(&order)?)`) on the issue's `OrderPlaced`.
//!
//! Run: `cargo bench -p kafka-derive --bench avro_encode`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use apache_avro::{to_avro_datum, to_value};
use common::{OrderPlaced, sample_order};
use criterion::{Criterion, criterion_group, criterion_main};
use kafka_record::avro::{AvroNamed, AvroType};

fn encode_order(c: &mut Criterion) {
    let schema = OrderPlaced::avro_schema().expect("schema").parsed();
    for items in [1, 5] {
        let order = sample_order(items);
        // Both sides must produce the same bytes, or the comparison means nothing.
        let derived = order.to_avro_datum().expect("encodes");
        let serde_path =
            to_avro_datum(schema, to_value(&order).expect("to_value")).expect("writes");
        assert_eq!(derived, serde_path);

        let mut group = c.benchmark_group(format!("order_placed_{items}_items"));
        group.bench_function("derived_encoder", |b| {
            b.iter(|| black_box(&order).to_avro_datum().expect("encodes"))
        });
        group.bench_function("derived_encoder_reused_buffer", |b| {
            let mut out = Vec::with_capacity(derived.len());
            b.iter(|| {
                out.clear();
                black_box(&order).encode(&mut out).expect("encodes");
                black_box(out.len())
            })
        });
        group.bench_function("apache_avro_serde_path", |b| {
            b.iter(|| {
                let value = to_value(black_box(&order)).expect("to_value");
                to_avro_datum(schema, value).expect("writes")
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = encode_order
}
criterion_main!(benches);
