//! The benchmark matrix: what each run sends and with which settings.

use serde::{Deserialize, Serialize};

use crate::args::{Codec, Mode};
use crate::report::Latency;

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
    /// In latency mode, time only the records bound for partitions this node
    /// does not lead (keyed records, placed by Java's partitioner), so that a
    /// row with [`Scenario::stall`] and one without compare the same records.
    #[serde(default)]
    pub timed_apart_from: Option<u32>,
    /// A broker stalled with SIGSTOP during the measured window.
    #[serde(default)]
    pub stall: Option<Stall>,
    /// Records per transaction: the clients send in transactions (init once,
    /// then begin, send..., commit) and the row reports transactions
    /// committed per second. Only [`TRANSACTION_CLIENTS`] run it.
    #[serde(default)]
    pub transaction_size: Option<u64>,
}

/// The clients of the transaction rows: ours and the two the issue compares
/// (librdkafka's `ThreadedProducer`, confluent-kafka). Java's
/// `ProducerPerformance` bounds transactions by time, not by records.
pub const TRANSACTION_CLIENTS: &[&str] = &["ours", "rdkafka", "confluent"];

/// One broker stopped with SIGSTOP during a run, then let go with SIGCONT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    /// The node (1-based, as `scripts/kafka` numbers them).
    pub node: u32,
    /// From the start of the measured window.
    pub after_ms: u64,
    /// How long it stays stopped: under the controller's broker session
    /// (`broker.session.timeout.ms`, 9 s), so leadership stays where it is and
    /// the stalled broker's records simply wait.
    pub for_ms: u64,
}

impl Stall {
    /// Why a run with this stall does not count, if it does not: the records
    /// bound for the stalled node (`others`, timed apart) must have waited for
    /// at least half the stall, else it did not take effect (a wrong pid, a
    /// window that ended first) and the row would flatter the client.
    pub fn not_taken_effect(&self, others: Option<&Latency>) -> Option<String> {
        let needed_us = self.for_ms as f64 * 1000.0 / 2.0;
        match others {
            Some(latency) if latency.max_us >= needed_us => None,
            Some(latency) => Some(format!(
                "the stall did not take effect: the stalled node's records waited at most {:.0} ms \
                 in a {} ms stall",
                latency.max_us / 1000.0,
                self.for_ms
            )),
            None => Some(
                "the stall cannot be checked: the client timed no record bound for the stalled node"
                    .to_owned(),
            ),
        }
    }
}

/// The node the `-sigstop` row stalls, and whose partitions both rows of the
/// pair leave untimed.
pub const STALLED_NODE: u32 = 1;

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
            timed_apart_from: None,
            stall: None,
            transaction_size: None,
        }
    }

    /// `count` keyless 100-byte records in transactions of `size` records
    /// (name `100B-tx<size>`), on one broker.
    fn transactions(size: u64, count: u64) -> Scenario {
        Scenario {
            name: format!("100B-tx{size}"),
            transaction_size: Some(size),
            ..Scenario::throughput(100, count, false, Codec::None)
        }
    }

    /// How many transactions a run commits after its warm-up (which is one
    /// of its own): the measured records in groups of the size.
    pub fn measured_transactions(&self) -> Option<u64> {
        self.transaction_size
            .filter(|size| *size > 0)
            .map(|size| self.count.saturating_sub(1).div_ceil(size))
    }

    /// Whether the topic holds what a run of this scenario must leave: each
    /// record once and, in a transactional run, one commit marker per
    /// partition each transaction wrote to (the warm-up's included), which
    /// the watermarks count too.
    pub fn topic_holds_the_records(&self, held: u64) -> bool {
        match self.measured_transactions() {
            None => held == self.count,
            Some(transactions) => {
                let markers = (transactions + 1) * PARTITIONS.unsigned_abs() as u64;
                held > self.count && held <= self.count + markers
            }
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

    /// The topic's replication factor: one copy per broker, at most 3; one
    /// copy for the stall pair, whose point is records that need nothing of
    /// the stalled broker: a replica there would hold every `acks=all` record
    /// of its partition until the broker left the ISR
    /// (`replica.lag.time.max.ms`, 30 s), whatever the client does.
    pub fn replication_factor(&self) -> i32 {
        if self.timed_apart_from.is_some() {
            return 1;
        }
        i32::try_from(self.brokers.min(3)).unwrap_or(1)
    }

    /// The topic's `min.insync.replicas` when it is not the broker default.
    pub fn min_insync_replicas(&self) -> Option<u32> {
        (self.replication_factor() >= 3).then_some(CLUSTER_MIN_INSYNC_REPLICAS)
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
            timed_apart_from: None,
            stall: None,
            transaction_size: None,
        }
    }

    /// The pair of the stall: keyed records at `rate` for `seconds` to every
    /// partition of the 3-broker cluster (one copy of each: see
    /// [`Scenario::replication_factor`]), timing only those bound for the
    /// partitions [`STALLED_NODE`] does not lead; undisturbed, then (name
    /// suffix `-sigstop`) with that node stopped for 6 s from the 3rd second
    /// of the measured window. A producer whose brokers do not wait on one
    /// another keeps the second row's p99 near the first's.
    fn stall_pair(rate: u64, seconds: u64) -> [Scenario; 2] {
        let undisturbed = Scenario {
            name: format!("latency-{rate}rps-keyed-{CLUSTER_BROKERS}brokers"),
            keyed: true,
            brokers: CLUSTER_BROKERS,
            timed_apart_from: Some(STALLED_NODE),
            ..Scenario::latency(5, rate, seconds)
        };
        let stalled = Scenario {
            name: format!("{}-sigstop", undisturbed.name),
            stall: Some(Stall {
                node: STALLED_NODE,
                after_ms: 3_000,
                for_ms: 6_000,
            }),
            ..undisturbed.clone()
        };
        [undisturbed, stalled]
    }

    /// The stalled row of a pair made by `Scenario::stall_pair` names its
    /// undisturbed row.
    pub fn undisturbed_name(&self) -> Option<&str> {
        self.stall.and(self.name.strip_suffix("-sigstop"))
    }

    /// The full matrix: 1M records of 100 bytes and 100k of 1 KiB, keyed and
    /// keyless, uncompressed, lz4 and zstd; then 10 s at 20k records/s with
    /// linger.ms 0 and 5, all on one broker; then four of the throughput rows
    /// again on a 3-broker cluster (replication factor 3,
    /// `min.insync.replicas=2`), where every ack waits for a follower's fetch;
    /// then a latency pair on that cluster, undisturbed and with one broker
    /// stalled by SIGSTOP (see `Scenario::stall_pair`);
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
        scenarios.extend(Scenario::stall_pair(5_000, 12));
        for (size, count, keyed, codec) in [
            (100, 1_000_000, false, Codec::None),
            (1024, 100_000, true, Codec::Zstd),
        ] {
            scenarios.push(Scenario::throughput(size, count, keyed, codec).over_sasl_ssl());
        }
        // Transactions of 100 and of 1,000 records: 1,000 and 100 commits.
        scenarios.push(Scenario::transactions(100, 100_001));
        scenarios.push(Scenario::transactions(1_000, 100_001));
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
            Scenario::transactions(100, 1_001),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_matrix_has_the_issues_cells_with_unique_names() {
        let full = Scenario::full();
        assert_eq!(full.len(), 24);
        let mut names: Vec<&str> = full.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 24);
        let transactional: Vec<(&str, Option<u64>)> = full
            .iter()
            .filter(|s| s.transaction_size.is_some())
            .map(|s| (s.name.as_str(), s.measured_transactions()))
            .collect();
        assert_eq!(
            transactional,
            [("100B-tx100", Some(1_000)), ("100B-tx1000", Some(100))]
        );
        assert!(names.contains(&"100B-keyless-none"));
        assert!(names.contains(&"1KiB-keyed-zstd"));
        assert!(names.contains(&"latency-20000rps-linger0"));
        let latency = full.iter().find(|s| s.mode == Mode::Latency).unwrap();
        assert_eq!((latency.count, latency.rate), (200_000, Some(20_000)));
        assert_eq!(latency.replication_factor(), 1);
        assert_eq!(latency.min_insync_replicas(), None);
        let cluster: Vec<&Scenario> = full.iter().filter(|s| s.brokers == 3).collect();
        assert_eq!(cluster.len(), 6);
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
    fn the_stall_pair_times_the_same_records_and_stalls_inside_the_window() {
        let full = Scenario::full();
        let pair: Vec<&Scenario> = full
            .iter()
            .filter(|s| s.timed_apart_from.is_some())
            .collect();
        assert_eq!(pair.len(), 2);
        let (undisturbed, stalled) = (pair[0], pair[1]);
        assert_eq!(undisturbed.name, "latency-5000rps-keyed-3brokers");
        assert_eq!(stalled.name, "latency-5000rps-keyed-3brokers-sigstop");
        assert_eq!(stalled.undisturbed_name(), Some(undisturbed.name.as_str()));
        assert_eq!(undisturbed.undisturbed_name(), None);
        assert_eq!(
            Scenario {
                name: undisturbed.name.clone(),
                stall: None,
                ..stalled.clone()
            },
            *undisturbed
        );
        assert!(undisturbed.keyed && undisturbed.brokers == 3 && undisturbed.mode == Mode::Latency);
        let stall = stalled.stall.unwrap();
        let window_ms = stalled.count * 1000 / stalled.rate.unwrap();
        assert!(
            stall.after_ms + stall.for_ms < window_ms,
            "{stall:?} in {window_ms} ms"
        );
        assert!(stall.for_ms < 9_000, "leadership must stay put");
        // No replica on the stalled node may hold the timed records back.
        assert_eq!(stalled.replication_factor(), 1);
        assert_eq!(stalled.min_insync_replicas(), None);
    }

    #[test]
    fn a_stall_counts_only_when_the_stalled_nodes_records_waited_for_it() {
        let stall = Stall {
            node: 1,
            after_ms: 3_000,
            for_ms: 6_000,
        };
        let waited = |max_ms: f64| Latency {
            p50_us: 1_000.0,
            p99_us: max_ms * 1000.0,
            p999_us: max_ms * 1000.0,
            max_us: max_ms * 1000.0,
            mean_us: 2_000.0,
            resolution_us: 1.0,
        };
        assert_eq!(stall.not_taken_effect(Some(&waited(5_900.0))), None);
        let problem = stall.not_taken_effect(Some(&waited(40.0))).unwrap();
        assert!(problem.contains("did not take effect"), "{problem}");
        assert!(stall.not_taken_effect(None).is_some());
    }

    #[test]
    fn a_transactional_topic_holds_the_records_and_some_commit_markers() {
        let plain = Scenario::throughput(100, 1_000, false, Codec::None);
        assert!(plain.topic_holds_the_records(1_000));
        assert!(!plain.topic_holds_the_records(1_001));
        let tx = Scenario::transactions(100, 1_001);
        assert_eq!(tx.measured_transactions(), Some(10));
        // 11 transactions (the warm-up's too), each 1 to 6 markers.
        assert!(!tx.topic_holds_the_records(1_001), "markers are missing");
        assert!(tx.topic_holds_the_records(1_001 + 11));
        assert!(tx.topic_holds_the_records(1_001 + 66));
        assert!(!tx.topic_holds_the_records(1_001 + 67));
    }

    #[test]
    fn results_written_before_the_cluster_rows_read_as_one_broker() {
        let old = r#"{"name":"x","mode":"throughput","record_size":100,"count":1,
            "keyed":false,"compression":"none","linger_ms":5,"rate":null}"#;
        let scenario: Scenario = serde_json::from_str(old).unwrap();
        assert_eq!(scenario.brokers, 1);
        assert_eq!(scenario.listener, Listener::Plaintext);
        assert_eq!((scenario.timed_apart_from, scenario.stall), (None, None));
        assert_eq!(scenario.transaction_size, None);
    }
}
