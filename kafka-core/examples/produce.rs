//! Sends N records through `kafka-core` and prints one summary line.
//!
//! ```text
//! cargo run --release -p kafka-core --example produce -- --bootstrap HOST:PORT --topic T \
//!     --count N [--keys K] [--compression none|gzip|snappy|lz4|zstd] [--acks all|1|0] [--value-size B]
//! ```
//! With `--keys K` record i has key `key-<i % K>`; with K = 0 (the default) records
//! are keyless. Values are `value-<i>` (padded to `--value-size` bytes when given).

use std::time::{Duration, Instant};

use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};

struct Args {
    bootstrap: String,
    topic: String,
    count: u64,
    keys: u64,
    compression: String,
    acks: String,
    value_size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bootstrap: std::env::var("KAFKA_BOOTSTRAP_SERVERS")
            .unwrap_or_else(|_| "localhost:9092".into()),
        topic: String::new(),
        count: 1000,
        keys: 0,
        compression: "none".into(),
        acks: "all".into(),
        value_size: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap" => args.bootstrap = value()?,
            "--topic" => args.topic = value()?,
            "--count" => args.count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--keys" => args.keys = value()?.parse().map_err(|e| format!("--keys: {e}"))?,
            "--compression" => args.compression = value()?,
            "--acks" => args.acks = value()?,
            "--value-size" => {
                args.value_size = value()?.parse().map_err(|e| format!("--value-size: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.topic.is_empty() {
        return Err("--topic is required".into());
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args().inspect_err(|_| {
        eprintln!("usage: produce --bootstrap HOST:PORT --topic T --count N [--keys K] [--compression C] [--acks A] [--value-size B]");

    })?;
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", args.bootstrap.as_str()),
        ("compression.type", args.compression.as_str()),
        ("acks", args.acks.as_str()),
        // acks=0/1 cannot be idempotent; let the producer decide as Java does.
    ])?;
    let producer = KafkaProducer::new(config)?;

    let started = Instant::now();
    let mut last = None;
    for i in 0..args.count {
        let mut value = format!("value-{i}").into_bytes();
        if value.len() < args.value_size {
            value.resize(args.value_size, b'.');
        }
        let mut record = ProducerRecord::new(args.topic.clone(), value);
        if args.keys > 0 {
            record = record.with_key(format!("key-{}", i % args.keys));
        }
        last = Some(producer.send(record).await?);
    }
    producer.flush().await;
    let elapsed = started.elapsed();
    if let Some(last) = last {
        last.await?;
    }
    let metrics = producer.metrics();
    producer.close(Duration::from_secs(30)).await;
    let rate = args.count as f64 / elapsed.as_secs_f64();
    println!(
        "sent {} records to {} in {:.3}s: {:.0} records/s, {} batches, {} requests, {} failed",
        metrics.record_send_total,
        args.topic,
        elapsed.as_secs_f64(),
        rate,
        metrics.batch_total,
        metrics.request_total,
        metrics.record_error_total
    );
    if metrics.record_error_total > 0 {
        return Err(format!(
            "{} records failed: {:?}",
            metrics.record_error_total, metrics.errors_by_kind
        )
        .into());
    }
    Ok(())
}
