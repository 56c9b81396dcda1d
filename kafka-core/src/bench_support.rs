//! A driver for the producer's hot path without a network, for
//! `benches/hot_path.rs` and the bench crate's floor measurement: what `send`
//! does after metadata is known (the partitioning rules of
//! `RecordPartitioner::choose`, then `RecordAccumulator::append` with that
//! choice, so keyless records take the built-in sticky partitioner's path as
//! they do in `send`, a [`DeliveryFuture`](crate::DeliveryFuture) per record),
//! then what the sender does to each batch before a Produce request (close it:
//! encode and compress; stamp the idempotent producer state: header and
//! CRC-32C), then completing it.
//!
//! Not part of the API: hidden from the docs and free to change.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::ProducerConfig;
use crate::accumulator::{AccumulatorConfig, BatchOutcome, RecordAccumulator};
use crate::error::KafkaError;
use crate::metrics::ProducerMetrics;
use crate::partitioner::{PartitionerCluster, RecordPartitioner, TopicPartitions};
use crate::record::ProducerRecord;
use crate::record_batch::Compression;

const TOPIC: &str = "bench";

/// The accumulator and the record the benchmark appends over and over.
pub struct HotPath {
    accumulator: RecordAccumulator,
    partitioner: RecordPartitioner,
    cluster: PartitionerCluster,
    partitions: TopicPartitions,
    record: ProducerRecord,
    next_sequence: i32,
}

impl HotPath {
    /// Keyless records with `value_size`-byte values, spread over `partitions`
    /// partitions by the built-in sticky partitioner (as `send` spreads them), batched with the default `batch.size` and `compression`.
    pub fn new(
        compression: Compression,
        partitions: usize,
        value_size: usize,
    ) -> Result<HotPath, KafkaError> {
        let config = ProducerConfig::builder()
            .bootstrap_servers("localhost:9092")
            .compression(compression)
            .build()?;
        let mut settings = AccumulatorConfig::from_config(&config);
        // Room for every batch of one `run`: appends never wait.
        settings.buffer_memory = 1 << 30;
        let accumulator = RecordAccumulator::new(
            settings,
            Arc::new(ProducerMetrics::default()),
            Arc::new(Notify::new()),
        );
        let partitions = TopicPartitions::all_available(partitions.max(1));
        // Text-like bytes, so the codecs have something to find.
        let value: Vec<u8> = (0..value_size).map(|i| b"order-status:"[i % 13]).collect();
        Ok(HotPath {
            accumulator,
            partitioner: RecordPartitioner::new(None, false),
            cluster: PartitionerCluster::new().with_topic(TOPIC, partitions.clone()),
            partitions,
            record: ProducerRecord::new(TOPIC, Bytes::from(value)),
            next_sequence: 0,
        })
    }

    /// Partitions and appends `records` records, then closes, stamps and
    /// completes every batch. Returns the encoded bytes.
    pub fn run(&mut self, records: usize) -> Result<usize, KafkaError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        for _ in 0..records {
            let record = &self.record;
            let choice = self
                .partitioner
                .choose_in(
                    &record.topic,
                    &self.partitions,
                    record.partition,
                    record.key.as_deref(),
                    record.value.as_deref(),
                    &self.cluster,
                )
                .map_err(|e| KafkaError::Internal(e.to_string()))?;
            let append = self.accumulator.append(
                record,
                1_700_000_000_000,
                choice,
                &self.partitions,
                Some(deadline),
                None,
            );
            // Fire and forget: the future is dropped, as most applications do.
            match append.now_or_never() {
                Some(result) => drop(result?),
                None => {
                    return Err(KafkaError::Internal(
                        "an append waited for buffer memory; run fewer records per call".into(),
                    ));
                }
            }
        }
        let mut encoded = 0;
        for mut batch in self.accumulator.take_all() {
            if let Err(error) = batch.close() {
                batch.fail(error.clone());
                return Err(error);
            }
            let count = i32::try_from(batch.record_count()).unwrap_or(i32::MAX);
            batch.set_producer_state(1, 0, self.next_sequence, false);
            self.next_sequence = self.next_sequence.wrapping_add(count) & i32::MAX;
            encoded += batch.size_in_bytes();
            batch.complete(BatchOutcome::Delivered {
                base_offset: 0,
                log_append_time: -1,
            });
        }
        Ok(encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_encodes_every_record_and_compression_shrinks_it() {
        let mut plain = HotPath::new(Compression::None, 3, 100).expect("setup");
        let plain_bytes = plain.run(1_000).expect("run");
        assert!(
            plain_bytes > 100 * 1_000,
            "{plain_bytes} bytes for 1000 records"
        );
        // The accumulator is empty again: a second run encodes the same
        // records, in batches the sticky partitioner may cut elsewhere (a
        // batch header more or less).
        let again = plain.run(1_000).expect("run");
        assert!(
            again.abs_diff(plain_bytes) <= 2 * crate::record_batch::RECORD_BATCH_OVERHEAD,
            "{again} bytes, then {plain_bytes}"
        );
        let mut lz4 = HotPath::new(Compression::Lz4 { level: None }, 3, 100).expect("setup");
        assert!(lz4.run(1_000).expect("run") < plain_bytes / 2);
    }
}
