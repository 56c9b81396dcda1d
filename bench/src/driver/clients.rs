//! The clients under test and how each is started and read.
//!
//! The harness is generic over this list: a new client is a binary taking
//! [`ClientArgs`](crate::args::ClientArgs) (see `bench-ours.rs`) and one entry
//! in [`ClientSpec::all`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::args::Mode;
use crate::report::{ClientReport, Latency};

use super::cluster::SecuredListener;
use super::scenario::{BATCH_SIZE, BUFFER_MEMORY, PARTITIONS, Scenario};

/// How a client is started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// A binary of this crate taking `ClientArgs` and printing a `ClientReport`.
    Rust {
        /// The binary's name.
        binary: &'static str,
    },
    /// Kafka's own `org.apache.kafka.tools.ProducerPerformance` on the JVM.
    JavaProducerPerformance,
}

/// A client under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpec {
    /// Short name, used on the command line and in results.
    pub name: &'static str,
    /// What it is, for the tables.
    pub label: &'static str,
    /// How to start it.
    pub kind: ClientKind,
}

/// The client every ratio is taken against: librdkafka in its fastest
/// documented style from Rust (`ThreadedProducer`, a delivery callback).
pub const BASELINE: &str = "rdkafka";

impl ClientSpec {
    /// Every client, in the order tables list them.
    pub fn all() -> Vec<ClientSpec> {
        vec![
            ClientSpec {
                name: "ours",
                label: "kafka-core (bytes)",
                kind: ClientKind::Rust {
                    binary: "bench-ours",
                },
            },
            ClientSpec {
                name: "ours-avro",
                label: "kafka-core + derived Avro record",
                kind: ClientKind::Rust {
                    binary: "bench-ours-avro",
                },
            },
            ClientSpec {
                name: "template",
                label: "KafkaTemplate + derived Avro record",
                kind: ClientKind::Rust {
                    binary: "bench-template",
                },
            },
            ClientSpec {
                name: "template-registry",
                label: "KafkaTemplate + derived Avro record, registry Avro value (mock:// registry)",
                kind: ClientKind::Rust {
                    binary: "bench-template-registry",
                },
            },
            ClientSpec {
                name: "template-observed",
                label: "KafkaTemplate + derived Avro record, metrics and tracing on",
                kind: ClientKind::Rust {
                    binary: "bench-template-observed",
                },
            },
            ClientSpec {
                name: "rdkafka",
                label: "librdkafka (rdkafka ThreadedProducer)",
                kind: ClientKind::Rust {
                    binary: "bench-rdkafka",
                },
            },
            ClientSpec {
                name: "rdkafka-future",
                label: "librdkafka (rdkafka FutureProducer)",
                kind: ClientKind::Rust {
                    binary: "bench-rdkafka-future",
                },
            },
            ClientSpec {
                name: "confluent",
                label: "confluent-kafka (pure Rust)",
                kind: ClientKind::Rust {
                    binary: "bench-confluent",
                },
            },
            ClientSpec {
                name: "krafka",
                label: "krafka (pure Rust)",
                kind: ClientKind::Rust {
                    binary: "bench-krafka",
                },
            },
            ClientSpec {
                name: "java",
                label: "Java KafkaProducer (ProducerPerformance)",
                kind: ClientKind::JavaProducerPerformance,
            },
        ]
    }

    /// Why this client cannot run `scenario`, if it cannot.
    pub fn unsupported(&self, scenario: &Scenario) -> Option<&'static str> {
        match self.kind {
            ClientKind::JavaProducerPerformance if scenario.keyed => {
                Some("ProducerPerformance (Kafka 4.1) sends every record with a null key")
            }
            ClientKind::JavaProducerPerformance if scenario.stall.is_some() => {
                Some("ProducerPerformance cannot stall a broker inside its measured window")
            }
            ClientKind::Rust {
                binary: "bench-confluent",
            } if scenario.listener.is_secured() => {
                Some("confluent-kafka 1.0.0 authenticates with SASL PLAIN only (no SCRAM-SHA-512)")
            }
            _ => None,
        }
    }
}

/// Where the Java client's jars and logging configuration are.
#[derive(Clone, Debug)]
pub struct JavaSetup {
    /// The Kafka distribution directory `scripts/kafka fetch` prints.
    pub dist: PathBuf,
}

/// JVM flags: those `kafka-run-class.sh` and `kafka-producer-perf-test.sh`
/// use (`-Xmx512M`, G1), not `scripts/kafka tool`'s start-up-tuned ones
/// (C1 only, serial GC), which would slow the Java client down unfairly.
const JVM_FLAGS: &[&str] = &[
    "-Xmx512M",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
];

/// Everything a run needs to build a client's command line.
pub struct RunPlan<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Bootstrap servers.
    pub bootstrap: &'a str,
    /// The secured listener's client properties and CA, if not PLAINTEXT.
    pub secured: Option<&'a SecuredListener>,
    /// The run's fresh topic.
    pub topic: &'a str,
    /// The scenario's payload file.
    pub payload_file: &'a Path,
    /// Where this crate's binaries are.
    pub bin_dir: &'a Path,
    /// The Java client's setup, when Java runs.
    pub java: Option<&'a JavaSetup>,
    /// The partitions whose records are timed, when not all (see
    /// [`Scenario::timed_apart_from`]).
    pub timed_partitions: Option<&'a [i32]>,
    /// The process to stall (see [`Scenario::stall`]).
    pub stall_pid: Option<i32>,
}

/// The command line (program first) that runs `client` for `plan`.
pub fn command_line(client: &ClientSpec, plan: &RunPlan<'_>) -> anyhow::Result<Vec<String>> {
    let scenario = plan.scenario;
    match client.kind {
        ClientKind::Rust { binary } => {
            let mut line = vec![
                plan.bin_dir.join(binary).display().to_string(),
                "--bootstrap".into(),
                plan.bootstrap.into(),
                "--topic".into(),
                plan.topic.into(),
                "--payload-file".into(),
                plan.payload_file.display().to_string(),
                "--count".into(),
                scenario.count.to_string(),
                "--compression".into(),
                scenario.compression.property().into(),
                "--linger-ms".into(),
                scenario.linger_ms.to_string(),
                "--batch-size".into(),
                BATCH_SIZE.to_string(),
                "--buffer-memory".into(),
                BUFFER_MEMORY.to_string(),
            ];
            if scenario.keyed {
                line.push("--keyed".into());
            }
            if let Some(secured) = plan.secured {
                line.extend([
                    "--client-properties".into(),
                    secured.properties.display().to_string(),
                    "--ssl-ca-pem".into(),
                    secured.ca_pem.display().to_string(),
                ]);
            }
            if let Some(rate) = scenario.rate {
                line.extend([
                    "--mode".into(),
                    "latency".into(),
                    "--rate".into(),
                    rate.to_string(),
                ]);
            }
            if let Some(partitions) = plan.timed_partitions {
                let list: Vec<String> = partitions.iter().map(i32::to_string).collect();
                line.extend([
                    "--timed-partitions".into(),
                    list.join(","),
                    "--partitions".into(),
                    PARTITIONS.to_string(),
                ]);
            }
            if let Some(size) = scenario.transaction_size {
                line.extend(["--transaction-size".into(), size.to_string()]);
            }
            if let (Some(pid), Some(stall)) = (plan.stall_pid, scenario.stall) {
                line.extend([
                    "--stall-pid".into(),
                    pid.to_string(),
                    "--stall-after-ms".into(),
                    stall.after_ms.to_string(),
                    "--stall-ms".into(),
                    stall.for_ms.to_string(),
                ]);
            }
            Ok(line)
        }
        ClientKind::JavaProducerPerformance => {
            let java = plan
                .java
                .context("the Java client needs the Kafka distribution (scripts/kafka fetch)")?;
            let mut line = vec!["java".to_owned()];
            line.extend(JVM_FLAGS.iter().map(|flag| (*flag).to_owned()));
            line.push(format!(
                "-Dlog4j2.configurationFile={}",
                java.dist.join("tools-log4j2.properties").display()
            ));
            line.extend([
                "-cp".into(),
                format!("{}/lib/*", java.dist.display()),
                "org.apache.kafka.tools.ProducerPerformance".into(),
                "--topic".into(),
                plan.topic.into(),
                "--num-records".into(),
                scenario.count.to_string(),
                "--payload-file".into(),
                plan.payload_file.display().to_string(),
                "--throughput".into(),
                scenario
                    .rate
                    .map_or("-1".to_owned(), |rate| rate.to_string()),
            ]);
            if let Some(secured) = plan.secured {
                line.extend([
                    "--producer.config".into(),
                    secured.properties.display().to_string(),
                ]);
            }
            line.push("--producer-props".into());
            line.extend(java_properties(plan.bootstrap, scenario));
            Ok(line)
        }
    }
}

fn java_properties(bootstrap: &str, scenario: &Scenario) -> Vec<String> {
    [
        ("bootstrap.servers", bootstrap.to_owned()),
        ("acks", "all".to_owned()),
        ("enable.idempotence", "true".to_owned()),
        ("linger.ms", scenario.linger_ms.to_string()),
        ("batch.size", BATCH_SIZE.to_string()),
        ("buffer.memory", BUFFER_MEMORY.to_string()),
        (
            "compression.type",
            scenario.compression.property().to_owned(),
        ),
        ("max.in.flight.requests.per.connection", "5".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| format!("{key}={value}"))
    .collect()
}

/// Reads a client's report from its standard output.
pub fn parse_report(
    client: &ClientSpec,
    scenario: &Scenario,
    stdout: &str,
) -> anyhow::Result<ClientReport> {
    match client.kind {
        ClientKind::Rust { .. } => {
            ClientReport::from_output(stdout).context("the client printed no BENCH-RESULT line")?
        }
        ClientKind::JavaProducerPerformance => parse_producer_performance(scenario, stdout),
    }
}

/// Parses `ProducerPerformance`'s closing summary:
/// `N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
/// P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.`
///
/// It counts callbacks, not acknowledgements, so the driver checks the topic's
/// offsets; its latencies are whole milliseconds.
pub fn parse_producer_performance(
    scenario: &Scenario,
    stdout: &str,
) -> anyhow::Result<ClientReport> {
    let Some(summary) = stdout
        .lines()
        .rev()
        .find(|line| line.contains("records sent") && line.contains("99.9th"))
    else {
        bail!("ProducerPerformance printed no summary line");
    };
    let fields: Vec<&str> = summary.trim_end_matches('.').split(", ").collect();
    let number = |index: usize, unit: &str| -> anyhow::Result<f64> {
        let field = fields
            .get(index)
            .with_context(|| format!("field {index} missing in '{summary}'"))?;
        let text = field
            .split_once(unit)
            .map(|(number, _)| number.trim())
            .with_context(|| format!("'{field}' has no '{unit}' in '{summary}'"))?;
        text.parse::<f64>()
            .with_context(|| format!("'{text}' is not a number in '{summary}'"))
    };
    let records = number(0, "records sent")? as u64;
    let rate = number(1, "records/sec")?;
    let elapsed_s = if rate > 0.0 {
        records as f64 / rate
    } else {
        0.0
    };
    let latency = (scenario.mode == Mode::Latency)
        .then(|| -> anyhow::Result<Latency> {
            Ok(Latency {
                mean_us: number(2, "ms avg latency")? * 1000.0,
                max_us: number(3, "ms max latency")? * 1000.0,
                p50_us: number(4, "ms 50th")? * 1000.0,
                p99_us: number(6, "ms 99th")? * 1000.0,
                p999_us: number(7, "ms 99.9th")? * 1000.0,
                resolution_us: 1000.0,
            })
        })
        .transpose()?;
    Ok(ClientReport {
        records,
        bytes: records * scenario.record_size as u64,
        // Checked against the topic's offsets by the driver.
        acked: records,
        failed: 0,
        first_error: None,
        elapsed_s,
        latency,
        warm_up_s: None,
        others_latency: None,
        transactions: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "Reading payloads from: /tmp/p.txt\n\
        Number of messages read: 10000\n\
        248005 records sent, 49601.0 records/sec (4.73 MB/sec), 3.1 ms avg latency, 190.0 ms max latency.\n\
        1000000 records sent, 512820.512821 records/sec (48.91 MB/sec), 45.67 ms avg latency, 312.00 ms max latency, 40 ms 50th, 120 ms 95th, 250 ms 99th, 300 ms 99.9th.\n";

    #[test]
    fn the_producer_performance_summary_is_parsed() {
        let latency = Scenario::full()
            .into_iter()
            .find(|s| s.mode == Mode::Latency)
            .unwrap();
        let report = parse_producer_performance(&latency, SUMMARY).unwrap();
        assert_eq!(report.records, 1_000_000);
        assert!(
            (report.elapsed_s - 1.95).abs() < 1e-6,
            "{}",
            report.elapsed_s
        );
        let latency = report.latency.unwrap();
        assert_eq!(
            (latency.p50_us, latency.p99_us, latency.p999_us),
            (40_000.0, 250_000.0, 300_000.0)
        );
        assert_eq!(latency.resolution_us, 1000.0);
    }

    #[test]
    fn a_missing_summary_is_an_error() {
        let scenario = &Scenario::full()[0];
        let error =
            parse_producer_performance(scenario, "248005 records sent, 49601.0 records/sec\n")
                .unwrap_err();
        assert!(error.to_string().contains("no summary"), "{error}");
    }

    #[test]
    fn java_cannot_send_keys_and_says_why() {
        let java = ClientSpec::all()
            .into_iter()
            .find(|c| c.name == "java")
            .unwrap();
        let keyed = Scenario::full().into_iter().find(|s| s.keyed).unwrap();
        assert!(java.unsupported(&keyed).unwrap().contains("null key"));
        assert!(java.unsupported(&Scenario::full()[0]).is_none());
    }

    #[test]
    fn the_stalled_row_tells_the_client_what_to_time_and_whom_to_stall() {
        let stalled = Scenario::full()
            .into_iter()
            .find(|s| s.stall.is_some())
            .unwrap();
        let plan = RunPlan {
            scenario: &stalled,
            bootstrap: "127.0.0.1:9092",
            secured: None,
            topic: "t",
            payload_file: Path::new("/t/payload-100.txt"),
            bin_dir: Path::new("/b"),
            java: None,
            timed_partitions: Some(&[1, 2, 4, 5]),
            stall_pid: Some(4242),
        };
        let all = ClientSpec::all();
        let ours = all.iter().find(|c| c.name == "ours").unwrap();
        let line = command_line(ours, &plan).unwrap().join(" ");
        assert!(
            line.contains("--keyed")
                && line.contains("--mode latency --rate 5000")
                && line.contains("--timed-partitions 1,2,4,5 --partitions 6")
                && line.contains("--stall-pid 4242 --stall-after-ms 3000 --stall-ms 6000"),
            "{line}"
        );
        let java = all.iter().find(|c| c.name == "java").unwrap();
        assert!(java.unsupported(&stalled).is_some());
    }

    #[test]
    fn sasl_ssl_runs_get_the_listeners_properties_and_confluent_says_why_not() {
        let scenario = Scenario::full()
            .into_iter()
            .find(|s| s.listener.is_secured() && !s.keyed)
            .unwrap();
        let secured = SecuredListener {
            bootstrap: "localhost:9095".into(),
            properties: PathBuf::from("/t/client-sasl_ssl.properties"),
            ca_pem: PathBuf::from("/s/tls/ca.pem"),
        };
        let java = JavaSetup {
            dist: PathBuf::from("/k"),
        };
        let plan = RunPlan {
            scenario: &scenario,
            bootstrap: &secured.bootstrap,
            secured: Some(&secured),
            topic: "t",
            payload_file: Path::new("/t/payload-100.txt"),
            bin_dir: Path::new("/b"),
            java: Some(&java),
            timed_partitions: None,
            stall_pid: None,
        };
        let all = ClientSpec::all();
        let client = |name: &str| all.iter().find(|c| c.name == name).unwrap();
        let rdkafka = command_line(client("rdkafka"), &plan).unwrap().join(" ");
        assert!(
            rdkafka.contains("--bootstrap localhost:9095 ")
                && rdkafka.contains("--client-properties /t/client-sasl_ssl.properties")
                && rdkafka.contains("--ssl-ca-pem /s/tls/ca.pem"),
            "{rdkafka}"
        );
        let java_line = command_line(client("java"), &plan).unwrap().join(" ");
        assert!(
            java_line.contains("--producer.config /t/client-sasl_ssl.properties"),
            "{java_line}"
        );
        assert!(
            client("confluent")
                .unsupported(&scenario)
                .unwrap()
                .contains("PLAIN only")
        );
        assert!(
            client("confluent")
                .unsupported(&Scenario::full()[0])
                .is_none()
        );
        assert!(
            all.iter()
                .filter(|c| c.name != "confluent")
                .all(|c| c.unsupported(&scenario).is_none())
        );
    }
}
