//! A real schema registry for tests: Apicurio Registry with its
//! Confluent-compatible API, run by `scripts/registry` (no Docker), and an
//! independent Avro and JSON Schema consumers reading through it.
//!
//! ```no_run
//! let registry = kafka_testkit::registry::Registry::get();
//! // schema.registry.url = registry.url()
//! # let topic = "t";
//! let records = registry.avro_consume(kafka_testkit::Kafka::get(), topic, 10);
//! ```
//!
//! The registry is the one named by `SCHEMA_REGISTRY_URL`, or else the one
//! `scripts/registry start` runs (started on first use, left running for the
//! next test binary; `scripts/test` stops it at the end).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use crate::{Kafka, repo_root};

/// A running schema registry (Confluent REST API).
#[derive(Debug)]
pub struct Registry {
    url: String,
}

/// One record as Confluent's Python `AvroDeserializer` (or
/// `JSONDeserializer`) read it back through the registry.
pub type AvroRecord = RegistryRecord;

/// One record as Confluent's Python `AvroDeserializer` or `JSONDeserializer`
/// read it back through the registry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RegistryRecord {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// The value's schema id from its Confluent header (`None`: not framed).
    pub value_schema_id: Option<u32>,
    /// The value, decoded with the writer schema fetched from the registry.
    pub value: serde_json::Value,
    /// The key's schema id when the key is Confluent-framed Avro.
    pub key_schema_id: Option<u32>,
    /// The key, decoded, when it is Confluent-framed (Avro, or JSON Schema).
    #[serde(default)]
    pub key: Option<serde_json::Value>,
    /// The key's bytes (base64) when it is not Confluent-framed.
    #[serde(default)]
    pub key_base64: Option<String>,
}

/// Path of `scripts/registry`.
pub fn registry_script() -> PathBuf {
    repo_root().join("scripts").join("registry")
}

fn run(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(registry_script());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/registry {args:?}: {e}"));
    if !output.status.success() {
        panic!(
            "scripts/registry {args:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

impl Registry {
    /// The registry for this test process: `SCHEMA_REGISTRY_URL` when set,
    /// otherwise `scripts/registry start` (which reuses a running one).
    pub fn get() -> &'static Registry {
        REGISTRY.get_or_init(|| {
            let url = match std::env::var("SCHEMA_REGISTRY_URL") {
                Ok(u) if !u.trim().is_empty() => u.trim().to_owned(),
                _ => run(&["start"], &[])
                    .lines()
                    .last()
                    .expect("scripts/registry start prints the URL last")
                    .trim()
                    .to_owned(),
            };
            Registry { url }
        })
    }

    /// The URL to give as `schema.registry.url` (`http://host:port/apis/ccompat/v7`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sets the compatibility level of `subject` (`BACKWARD`, `NONE`, ...):
    /// Apicurio enforces none unless told.
    pub fn set_compatibility(&self, subject: &str, level: &str) {
        let body = format!("{{\"compatibility\":\"{level}\"}}");
        let output = Command::new("curl")
            .args([
                "-sS",
                "-f",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/vnd.schemaregistry.v1+json",
                "--data",
                &body,
                &format!("{}/config/{subject}", self.url),
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
        assert!(
            output.status.success(),
            "PUT {}/config/{subject} failed: {}",
            self.url,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The versions registered under `subject` (empty when it does not exist).
    pub fn versions(&self, subject: &str) -> Vec<i32> {
        let output = Command::new("curl")
            .args(["-sS", &format!("{}/subjects/{subject}/versions", self.url)])
            .output()
            .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
        serde_json::from_slice(&output.stdout).unwrap_or_default()
    }

    /// Reads `topic` with an independent Avro consumer (Confluent's Python
    /// client and its `AvroDeserializer`, fetching writer schemas from this
    /// registry by id) until `expected` records came or none came for 20 s.
    pub fn avro_consume(&self, kafka: &Kafka, topic: &str, expected: usize) -> Vec<AvroRecord> {
        self.avro_consume_within(kafka, topic, expected, Duration::from_secs(20))
    }

    /// Like [`Registry::avro_consume`] with a chosen idle timeout.
    pub fn avro_consume_within(
        &self,
        kafka: &Kafka,
        topic: &str,
        expected: usize,
        idle_timeout: Duration,
    ) -> Vec<AvroRecord> {
        self.consume("avro-consume", kafka, topic, expected, idle_timeout)
    }

    /// Reads `topic` with an independent JSON Schema consumer (Confluent's
    /// Python client and its `JSONDeserializer`, fetching writer schemas from
    /// this registry by id and validating every record against its schema:
    /// a record that does not validate fails the read) until `expected`
    /// records came or none came for 20 s.
    pub fn json_consume(&self, kafka: &Kafka, topic: &str, expected: usize) -> Vec<RegistryRecord> {
        self.consume(
            "json-consume",
            kafka,
            topic,
            expected,
            Duration::from_secs(20),
        )
    }

    fn consume(
        &self,
        command: &str,
        kafka: &Kafka,
        topic: &str,
        expected: usize,
        idle_timeout: Duration,
    ) -> Vec<RegistryRecord> {
        let max = expected.to_string();
        let timeout = idle_timeout.as_millis().to_string();
        let out = run(
            &[
                command,
                topic,
                "--max-messages",
                &max,
                "--timeout-ms",
                &timeout,
                "--bootstrap",
                kafka.bootstrap(),
            ],
            &[("SCHEMA_REGISTRY_URL", &self.url)],
        );
        let mut records: Vec<AvroRecord> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{command} printed `{l}`: {e}"))
            })
            .collect();
        records.sort_by_key(|r| (r.partition, r.offset));
        records
    }
}
