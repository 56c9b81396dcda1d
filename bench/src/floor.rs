//! The two programs the floor measurement compares (`bench-floor`), run under
//! callgrind by the driver ([`crate::driver::floor`]):
//!
//! - **hot path**: what `kafka-core` does per record in memory, with no
//!   network: `send`'s own first step (checks, wall clock, the topic's
//!   metadata, the partitioning rules, keyless records taking the built-in
//!   sticky partitioner, the append into per-partition batches, a delivery
//!   future each), then per batch the close (encode), the idempotent producer
//!   state, the CRC-32C and completion, through
//!   `kafka_core::bench_support::HotPath`;
//! - **floor**: only copies the same value bytes into a batch-sized buffer
//!   and computes CRC-32C over each full buffer (the `crc32c` crate
//!   `kafka-core` uses), the least any producer must do with a record.
//!
//! Both handle 100-byte keyless records, uncompressed, in rounds of
//! [`RECORDS_PER_ROUND`] over [`PARTITIONS`] partitions, with kafka-core's
//! default `batch.size`.

use std::hint::black_box;

use anyhow::Context;
use bytes::Bytes;
use kafka_core::bench_support::HotPath;
use kafka_core::{Compression, ProducerConfig};

/// Bytes per record value.
pub const VALUE_SIZE: usize = 100;
/// Partitions the hot path spreads records over.
pub const PARTITIONS: usize = 6;
/// Records per round (the hot path closes every batch at the end of a round).
pub const RECORDS_PER_ROUND: usize = 10_000;

/// Which program to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Program {
    /// kafka-core's in-memory hot path.
    HotPath,
    /// Copy and CRC-32C only.
    Floor,
}

/// kafka-core's default `batch.size`, which the hot path's batches use and
/// the floor's buffer copies.
pub fn batch_size() -> anyhow::Result<usize> {
    Ok(ProducerConfig::builder()
        .bootstrap_servers("localhost:9092")
        .build()
        .context("the default producer configuration")?
        .batch_size())
}

fn value() -> Bytes {
    (0..VALUE_SIZE)
        .map(|i| b"order-status:"[i % 13])
        .collect::<Vec<u8>>()
        .into()
}

/// The hot path: partition, append, close, stamp, CRC, complete.
pub struct HotPathProgram {
    path: HotPath,
}

impl HotPathProgram {
    /// Ready to run.
    pub fn new() -> anyhow::Result<HotPathProgram> {
        Ok(HotPathProgram {
            path: HotPath::new(Compression::None, PARTITIONS, VALUE_SIZE)?,
        })
    }

    /// Runs `records` records (in whole rounds, rounded up); returns the
    /// bytes encoded. Never inlined: callgrind counts only inside it.
    #[inline(never)]
    pub fn run(&mut self, records: usize) -> anyhow::Result<usize> {
        let mut encoded = 0;
        for _ in 0..records.div_ceil(RECORDS_PER_ROUND) {
            encoded += self.path.run(black_box(RECORDS_PER_ROUND))?;
        }
        Ok(encoded)
    }
}

/// The floor: copy each value into a batch-sized buffer, CRC-32C each full
/// buffer.
pub struct FloorProgram {
    buffer: Vec<u8>,
    value: Bytes,
    crc: u32,
}

impl FloorProgram {
    /// Ready to run, with buffers of `batch_size` bytes.
    pub fn new(batch_size: usize) -> FloorProgram {
        FloorProgram {
            buffer: Vec::with_capacity(batch_size.max(VALUE_SIZE)),
            value: value(),
            crc: 0,
        }
    }

    /// CRC-32C over the full buffer, then empties it; returns its length.
    fn seal(buffer: &mut Vec<u8>, crc: &mut u32) -> usize {
        *crc = crc.wrapping_add(crc32c::crc32c(buffer));
        let sealed = buffer.len();
        buffer.clear();
        sealed
    }

    /// Runs `records` records (in whole rounds, rounded up); returns the
    /// bytes copied. Never inlined: callgrind counts only inside it.
    #[inline(never)]
    pub fn run(&mut self, records: usize) -> usize {
        let mut copied = 0;
        for _ in 0..records.div_ceil(RECORDS_PER_ROUND) {
            for _ in 0..RECORDS_PER_ROUND {
                let value = black_box(&self.value[..]);
                if self.buffer.len() + value.len() > self.buffer.capacity() {
                    copied += Self::seal(&mut self.buffer, &mut self.crc);
                }
                self.buffer.extend_from_slice(value);
            }
            copied += Self::seal(&mut self.buffer, &mut self.crc);
        }
        black_box(self.crc);
        copied
    }
}

/// Runs `program` over `records` records; returns the bytes it produced.
pub fn run(program: Program, records: usize) -> anyhow::Result<usize> {
    match program {
        Program::HotPath => HotPathProgram::new()?.run(records),
        Program::Floor => Ok(FloorProgram::new(batch_size()?).run(records)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_programs_handle_every_record() {
        let records = 2 * RECORDS_PER_ROUND;
        let copied = run(Program::Floor, records).unwrap();
        assert_eq!(copied, records * VALUE_SIZE);
        // The hot path encodes the values plus the batch and record framing.
        let encoded = run(Program::HotPath, records).unwrap();
        assert!(encoded > copied, "{encoded} <= {copied}");
        assert!(encoded < copied * 2, "{encoded} bytes for {copied}");
    }

    #[test]
    fn the_floor_seals_full_buffers() {
        let mut floor = FloorProgram::new(1_000);
        assert_eq!(floor.run(1), RECORDS_PER_ROUND * VALUE_SIZE);
        assert_ne!(floor.crc, 0);
    }
}
