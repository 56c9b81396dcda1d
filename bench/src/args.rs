//! The arguments every client binary takes, so the driver starts them all alike.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::security::Security;
use serde::{Deserialize, Serialize};

/// Batch compression, as `compression.type` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// No compression.
    None,
    /// gzip (no scenario uses it; for runs by hand).
    Gzip,
    /// LZ4 frames.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Codec {
    /// The value of `compression.type` (the same in Java, librdkafka and ours).
    pub fn property(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// What a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Send `count` records as fast as the producer accepts them.
    Throughput,
    /// Send `count` records paced at `rate` per second, timing each send to its ack.
    Latency,
}

/// One client run: where to send, what, and with which producer settings.
#[derive(Clone, Debug, Args)]
pub struct ClientArgs {
    /// Bootstrap servers (host:port).
    #[arg(long)]
    pub bootstrap: String,
    /// Topic to produce to (it must exist).
    #[arg(long)]
    pub topic: String,
    /// File of payloads, one per line; each record's value is a line picked at random.
    #[arg(long)]
    pub payload_file: PathBuf,
    /// Number of records to send.
    #[arg(long)]
    pub count: u64,
    /// Give every record a key (`key-NNNNNN`, cycling over 10,000 keys).
    #[arg(long)]
    pub keyed: bool,
    /// Batch compression.
    #[arg(long, value_enum, default_value_t = Codec::None)]
    pub compression: Codec,
    /// `linger.ms`.
    #[arg(long, default_value_t = 5)]
    pub linger_ms: u64,
    /// `batch.size` in bytes.
    #[arg(long, default_value_t = 65_536)]
    pub batch_size: usize,
    /// `buffer.memory` in bytes (librdkafka: `queue.buffering.max.kbytes`).
    #[arg(long, default_value_t = 33_554_432)]
    pub buffer_memory: usize,
    /// Throughput or paced latency.
    #[arg(long, value_enum, default_value_t = Mode::Throughput)]
    pub mode: Mode,
    /// Records per second in latency mode.
    #[arg(long, default_value_t = 20_000)]
    pub rate: u64,
    /// Seconds to wait for the last acknowledgement after the last send.
    #[arg(long, default_value_t = 120)]
    pub ack_timeout_secs: u64,
    /// Java client properties of a secured listener (`security.protocol`,
    /// `sasl.mechanism`, `sasl.jaas.config`, `ssl.truststore.*`), one
    /// `key=value` per line, as `scripts/kafka client-properties` prints them.
    #[arg(long)]
    pub client_properties: Option<PathBuf>,
    /// The cluster's CA certificate as PEM, for the clients that cannot read a
    /// PKCS12 truststore (librdkafka's `ssl.ca.location`, krafka's `with_ca_cert`).
    #[arg(long)]
    pub ssl_ca_pem: Option<PathBuf>,
    /// In latency mode, time only the records whose key Java's partitioner
    /// (murmur2) puts on these partitions (of `--partitions`); the others are
    /// sent and counted but not timed. Needs `--keyed`.
    #[arg(long, value_delimiter = ',', requires = "partitions")]
    pub timed_partitions: Vec<i32>,
    /// Partitions of the topic, for `--timed-partitions`.
    #[arg(long)]
    pub partitions: Option<usize>,
    /// Stall this process (a broker) with SIGSTOP during the measured window,
    /// `--stall-after-ms` after it starts, for `--stall-ms`, then SIGCONT it.
    #[arg(long)]
    pub stall_pid: Option<i32>,
    /// When the stall starts, from the start of the measured window.
    #[arg(long, default_value_t = 3_000)]
    pub stall_after_ms: u64,
    /// How long the stall holds.
    #[arg(long, default_value_t = 6_000)]
    pub stall_ms: u64,
    /// Send in transactions of this many records (init once, then begin,
    /// send..., commit), with `transactional.id` `bench-<topic>`; the warm-up
    /// record is a transaction of its own. Throughput mode only.
    #[arg(long)]
    pub transaction_size: Option<u64>,
}

impl ClientArgs {
    /// `linger.ms` as a duration.
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.linger_ms)
    }

    /// The settings every client shares, with Java's property names: acks=all,
    /// idempotence on, and this run's linger, batch size, buffer and codec
    /// (and `transactional.id` for a transactional run).
    pub fn java_properties(&self) -> Vec<(&'static str, String)> {
        let mut properties = vec![
            ("bootstrap.servers", self.bootstrap.clone()),
            ("acks", "all".to_owned()),
            ("enable.idempotence", "true".to_owned()),
            ("linger.ms", self.linger_ms.to_string()),
            ("batch.size", self.batch_size.to_string()),
            ("buffer.memory", self.buffer_memory.to_string()),
            ("compression.type", self.compression.property().to_owned()),
            ("max.in.flight.requests.per.connection", "5".to_owned()),
        ];
        if let Some(id) = self.transactional_id() {
            properties.push(("transactional.id", id));
        }
        properties
    }

    /// The `transactional.id` of a transactional run (`--transaction-size`).
    pub fn transactional_id(&self) -> Option<String> {
        self.transaction_size
            .map(|_| format!("bench-{}", self.topic))
    }

    /// Whether record `key` is timed: always, unless `--timed-partitions`
    /// names the partitions to time and the key's partition is not one.
    pub fn timed(&self, key: Option<&[u8]>) -> bool {
        if self.timed_partitions.is_empty() {
            return true;
        }
        let partition = key
            .zip(self.partitions)
            .and_then(|(key, count)| kafka_core::partitioner::partition_for_key(key, count));
        partition.is_some_and(|p| self.timed_partitions.contains(&p))
    }

    /// [`java_properties`](Self::java_properties) followed by the secured
    /// listener's client properties (`--client-properties`), if any.
    pub fn producer_properties(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut properties: Vec<(String, String)> = self
            .java_properties()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        if let Some(security) = self.security()? {
            properties.extend(security.properties);
        }
        Ok(properties)
    }

    /// The secured listener's settings, when `--client-properties` is given.
    pub fn security(&self) -> anyhow::Result<Option<Security>> {
        self.client_properties
            .as_deref()
            .map(|path| Security::read(path, self.ssl_ca_pem.as_deref()))
            .transpose()
    }
}
