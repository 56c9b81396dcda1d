//! The benchmark matrix: what each run sends and with which settings.

use serde::{Deserialize, Serialize};

use crate::args::{Codec, Mode};

/// One cell of the matrix, run once per client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// A short unique name, for example `100B-keyless-lz4` or `latency-linger0`.
    pub name: String,
    /// Throughput or paced latency.
    pub mode: Mode,
    /// Bytes per value.
    pub record_size: usize,
    /// Records per run.
    pub count: u64,
    /// Whether records have keys.
    pub keyed: bool,
    /// Batch compression.
    pub compression: Codec,
    /// `linger.ms`.
    pub linger_ms: u64,
    /// Records per second in latency mode.
    pub rate: Option<u64>,
    /// Brokers in the cluster the scenario runs against: 1, or 3 (topics with
    /// replication factor 3 and `min.insync.replicas=2`).
    #[serde(default = "one_broker")]
    pub brokers: u32,
    /// The listener the clients produce through.
    #[serde(default)]
    pub listener: Listener,
}

fn one_broker() -> u32 {
    1
}

/// The broker listener a scenario's clients use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// No TLS, no authentication.
    #[default]
    Plaintext,
    /// TLS (the broker's certificate checked against the harness's CA, host
    /// name verified) and SASL with [`SASL_MECHANISM`].
    SaslSsl,
}

impl Listener {
    /// The listener's name for `scripts/kafka bootstrap` / `client-properties`.
    pub fn name(self) -> &'static str {
        match self {
            Listener::Plaintext => "PLAINTEXT",
            Listener::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether the listener needs client properties beyond the plaintext ones.
    pub fn is_secured(self) -> bool {
        self != Listener::Plaintext
    }
}

/// The SASL mechanism of the `-sasl_ssl` scenarios.
pub const SASL_MECHANISM: &str = "SCRAM-SHA-512";
/// The clients of the smoke run's SASL_SSL scenario (the others are left out
/// to keep the smoke run short).
pub const SMOKE_SECURED_CLIENTS: &[&str] = &["ours", "rdkafka"];

/// `batch.size` in every scenario (bytes).
pub const BATCH_SIZE: usize = 65_536;
/// `buffer.memory` in every scenario (bytes; Java's default).
pub const BUFFER_MEMORY: usize = 33_554_432;
/// Partitions of every benchmark topic.
pub const PARTITIONS: i32 = 6;
/// Brokers of the multi-broker scenarios' cluster.
pub const CLUSTER_BROKERS: u32 = 3;
/// `min.insync.replicas` of the multi-broker scenarios' topics.
pub const CLUSTER_MIN_INSYNC_REPLICAS: u32 = 2;

impl Scenario {
    fn throughput(record_size: usize, count: u64, keyed: bool, compression: Codec) -> Scenario {
        let size = if record_size >= 1024 && record_size.is_multiple_of(1024) {
            format!("{}KiB", record_size / 1024)
        } else {
            format!("{record_size}B")
        };
        Scenario {
            name: format!(
                "{size}-{}-{}",
                if keyed { "keyed" } else { "keyless" },
                compression.property()
            ),
            mode: Mode::Throughput,
            record_size,
            count,
            keyed,
            compression,
            linger_ms: 5,
            rate: None,
            brokers: 1,
            listener: Listener::Plaintext,
        }
    }

    /// The same scenario against the 3-broker cluster (name suffix `-3brokers`).
    fn on_cluster(self) -> Scenario {
        Scenario {
            name: format!("{}-{CLUSTER_BROKERS}brokers", self.name),
            brokers: CLUSTER_BROKERS,
            ..self
        }
    }

    /// The same scenario through the broker's SASL_SSL listener with
    /// SCRAM-SHA-512 (name suffix `-sasl_ssl`).
    fn over_sasl_ssl(self) -> Scenario {
        Scenario {
            name: format!("{}-sasl_ssl", self.name),
            listener: Listener::SaslSsl,
            ..self
        }
    }

    /// The topic's replication factor: one copy per broker, at most 3.
    pub fn replication_factor(&self) -> i32 {
        i32::try_from(self.brokers.min(3)).unwrap_or(1)
    }

    /// The topic's `min.insync.replicas` when it is not the broker default.
    pub fn min_insync_replicas(&self) -> Option<u32> {
        (self.brokers >= CLUSTER_BROKERS).then_some(CLUSTER_MIN_INSYNC_REPLICAS)
    }

    fn latency(linger_ms: u64, rate: u64, seconds: u64) -> Scenario {
        Scenario {
            name: format!("latency-{rate}rps-linger{linger_ms}"),
            mode: Mode::Latency,
            record_size: 100,
            count: rate * seconds,
            keyed: false,
            compression: Codec::None,
            linger_ms,
            rate: Some(rate),
            brokers: 1,
            listener: Listener::Plaintext,
        }
    }

    /// The full matrix: 1M records of 100 bytes and 100k of 1 KiB, keyed and
    /// keyless, uncompressed, lz4 and zstd; then 10 s at 20k records/s with
    /// linger.ms 0 and 5, all on one broker; then four of the throughput rows
    /// again on a 3-broker cluster (replication factor 3,
    /// `min.insync.replicas=2`), where every ack waits for a follower's fetch;
    /// then two throughput rows again over SASL_SSL with SCRAM-SHA-512 (on a
    /// broker started with `--security`).
    pub fn full() -> Vec<Scenario> {
        let mut scenarios = Vec::new();
        for (size, count) in [(100, 1_000_000), (1024, 100_000)] {
            for keyed in [false, true] {
                for codec in [Codec::None, Codec::Lz4, Codec::Zstd] {
                    scenarios.push(Scenario::throughput(size, count, keyed, codec));
                }
            }
        }
        scenarios.push(Scenario::latency(0, 20_000, 10));
        scenarios.push(Scenario::latency(5, 20_000, 10));
        for (size, count, keyed, codec) in [
            (100, 1_000_000, false, Codec::None),
            (100, 1_000_000, true, Codec::None),
            (100, 1_000_000, false, Codec::Lz4),
            (1024, 100_000, true, Codec::Zstd),
        ] {
            scenarios.push(Scenario::throughput(size, count, keyed, codec).on_cluster());
        }
        for (size, count, keyed, codec) in [
            (100, 1_000_000, false, Codec::None),
            (1024, 100_000, true, Codec::Zstd),
        ] {
            scenarios.push(Scenario::throughput(size, count, keyed, codec).over_sasl_ssl());
        }
        scenarios
    }

    /// A few thousand records per client through every code path (keys,
    /// compression, pacing, SASL_SSL), to keep the harness from rotting. The
    /// SASL_SSL scenario runs only [`SMOKE_SECURED_CLIENTS`].
    pub fn smoke() -> Vec<Scenario> {
        vec![
            Scenario::throughput(100, 5_000, false, Codec::Lz4),
            Scenario::throughput(1024, 2_000, true, Codec::Zstd),
            Scenario::latency(5, 2_000, 1),
            Scenario::throughput(100, 2_000, true, Codec::Lz4).over_sasl_ssl(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_matrix_has_the_issues_cells_with_unique_names() {
        let full = Scenario::full();
        assert_eq!(full.len(), 20);
        let mut names: Vec<&str> = full.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 20);
        assert!(names.contains(&"100B-keyless-none"));
        assert!(names.contains(&"1KiB-keyed-zstd"));
        assert!(names.contains(&"latency-20000rps-linger0"));
        let latency = full.iter().find(|s| s.mode == Mode::Latency).unwrap();
        assert_eq!((latency.count, latency.rate), (200_000, Some(20_000)));
        assert_eq!(latency.replication_factor(), 1);
        assert_eq!(latency.min_insync_replicas(), None);
        let cluster: Vec<&Scenario> = full.iter().filter(|s| s.brokers == 3).collect();
        assert_eq!(cluster.len(), 4);
        let first = cluster[0];
        assert_eq!(first.name, "100B-keyless-none-3brokers");
        assert_eq!(first.replication_factor(), 3);
        assert_eq!(first.min_insync_replicas(), Some(2));
        assert!(Scenario::smoke().iter().all(|s| s.brokers == 1));
        let secured: Vec<&str> = full
            .iter()
            .filter(|s| s.listener == Listener::SaslSsl)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            secured,
            ["100B-keyless-none-sasl_ssl", "1KiB-keyed-zstd-sasl_ssl"]
        );
        assert!(
            full.iter().all(|s| s.listener == Listener::Plaintext
                || (s.brokers == 1 && s.mode == Mode::Throughput))
        );
        assert_eq!(
            Scenario::smoke()
                .iter()
                .filter(|s| s.listener.is_secured())
                .count(),
            1
        );
    }

    #[test]
    fn results_written_before_the_cluster_rows_read_as_one_broker() {
        let old = r#"{"name":"x","mode":"throughput","record_size":100,"count":1,
            "keyed":false,"compression":"none","linger_ms":5,"rate":null}"#;
        let scenario: Scenario = serde_json::from_str(old).unwrap();
        assert_eq!(scenario.brokers, 1);
        assert_eq!(scenario.listener, Listener::Plaintext);
    }
}
