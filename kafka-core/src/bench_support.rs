//! A driver for the producer's hot path without a network, for
//! `benches/hot_path.rs` and the bench crate's floor measurement: what `send`
//! does per record once the topic's metadata is known, through the very
//! function every `send` runs first (`producer::send_now`: the checks, the
//! metadata lookup, the partitioning rules of `RecordPartitioner::choose`, so
//! keyless records take the built-in sticky partitioner's path, then the
//! accumulator's append, a [`DeliveryFuture`](crate::DeliveryFuture) per
//! record), then what the sender does to each batch before a Produce request
//! (close it: encode and compress; stamp the idempotent producer state: header
//! and CRC-32C), then completing it.
//!
//! Not part of the API: hidden from the docs and free to change.

use bytes::Bytes;

use crate::ProducerConfig;
use crate::accumulator::BatchOutcome;
use crate::error::KafkaError;
use crate::metadata::one_topic_response;
use crate::partitioner::RecordPartitioner;
use crate::producer::{SendNow, send_now};
use crate::record::ProducerRecord;
use crate::record_batch::Compression;
use crate::sender::ProducerShared;

const TOPIC: &str = "bench";

/// A producer's shared state without its network thread, the topic's
/// metadata known, and the record the benchmark sends over and over.
#[allow(missing_debug_implementations)] // a benchmark fixture, never printed
pub struct HotPath {
    shared: ProducerShared,
    partitioner: RecordPartitioner,
    record: ProducerRecord,
    next_sequence: i32,
}

impl HotPath {
    /// Keyless records with `value_size`-byte values to a topic of
    /// `partitions` partitions (spread by the built-in sticky partitioner, as
    /// `send` spreads them), batched with the default `batch.size` and
    /// `compression`.
    pub fn new(
        compression: Compression,
        partitions: usize,
        value_size: usize,
    ) -> Result<HotPath, KafkaError> {
        let config = ProducerConfig::builder()
            .bootstrap_servers("localhost:9092")
            .compression(compression)
            // Room for every batch of one `run`: sends never wait.
            .buffer_memory(1 << 30)
            .build()?;
        let partitioner = RecordPartitioner::new(None, config.partitioner_ignore_keys());
        let shared = ProducerShared::new(config);
        let partitions = i32::try_from(partitions.max(1))
            .map_err(|_| KafkaError::Internal("too many partitions".into()))?;
        shared
            .metadata
            .update(&one_topic_response(TOPIC, partitions, 1));
        // Text-like bytes, so the codecs have something to find.
        let value: Vec<u8> = (0..value_size).map(|i| b"order-status:"[i % 13]).collect();
        Ok(HotPath {
            shared,
            partitioner,
            record: ProducerRecord::new(TOPIC, Bytes::from(value)),
            next_sequence: 0,
        })
    }

    /// Sends `records` records as `send` does up to the network, then closes,
    /// stamps and completes every batch. Returns the encoded bytes.
    pub fn run(&mut self, records: usize) -> Result<usize, KafkaError> {
        // Lent, as `try_send_ref_with_callback` takes it (an owned record's
        // send lends it the same way, each time).
        let record = self.record.as_record_ref();
        for _ in 0..records {
            match send_now(&self.shared, &self.partitioner, &record, &[], &mut ()) {
                // Fire and forget: the future is dropped, as most applications do.
                SendNow::Done(result) => drop(result?),
                SendNow::Wait(_) => {
                    return Err(KafkaError::Internal(
                        "a send had to wait (metadata or buffer memory); run fewer records per call"
                            .into(),
                    ));
                }
            }
        }
        let mut encoded = 0;
        for mut batch in self.shared.accumulator.take_all() {
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

impl Drop for HotPath {
    /// Fails what a failed run left queued, so every batch has an outcome.
    fn drop(&mut self) {
        for batch in self.shared.accumulator.take_all() {
            batch.fail(KafkaError::ProducerClosed("the hot path benchmark ended"));
        }
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
