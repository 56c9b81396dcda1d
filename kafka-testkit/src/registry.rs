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
//!
//! [`Registry::get_tls`] is a second registry served over HTTPS only
//! (`scripts/registry start --tls`), its certificate signed by a harness CA of
//! its own ([`Registry::tls`]: `ca.pem`, `truststore.p12` and their password).

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
    /// `REGISTRY_HARNESS_STATE` for scripts/registry calls about this one.
    state: Option<PathBuf>,
    tls: Option<RegistryTls>,
}

/// The harness CA of an HTTPS registry ([`Registry::get_tls`]).
#[derive(Clone, Debug)]
pub struct RegistryTls {
    dir: PathBuf,
    password: String,
}

impl RegistryTls {
    /// The CA certificate (PEM) that signed the registry's certificate.
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A PKCS12 trust store holding that CA (password: [`RegistryTls::password`]).
    pub fn truststore_p12(&self) -> PathBuf {
        self.dir.join("truststore.p12")
    }

    /// The trust store's password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

/// Makes a fresh harness CA in `dir` with `scripts/support/harness-tls`
/// (`ca.pem`, `truststore.p12` with `password`, and a `localhost` server
/// certificate per name): another CA, for tests of a CA that is not trusted.
pub fn make_ca(dir: &std::path::Path, password: &str, names: &[&str]) {
    let status = Command::new(repo_root().join("scripts/support/harness-tls"))
        .arg(dir)
        .arg(password)
        .args(names)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run scripts/support/harness-tls: {e}"));
    assert!(status.success(), "scripts/support/harness-tls failed");
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
static TLS_REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The TLS stores' password scripts/registry uses (`REGISTRY_TLS_PASSWORD`).
const TLS_PASSWORD: &str = "harness-tls-secret";

fn last_line(out: &str) -> String {
    out.lines()
        .last()
        .expect("scripts/registry prints the URL last")
        .trim()
        .to_owned()
}

impl Registry {
    /// The registry for this test process: `SCHEMA_REGISTRY_URL` when set,
    /// otherwise `scripts/registry start` (which reuses a running one).
    pub fn get() -> &'static Registry {
        REGISTRY.get_or_init(|| {
            let url = match std::env::var("SCHEMA_REGISTRY_URL") {
                Ok(u) if !u.trim().is_empty() => u.trim().to_owned(),
                _ => last_line(&run(&["start"], &[])),
            };
            Registry {
                url,
                state: None,
                tls: None,
            }
        })
    }

    /// A registry for this test process served over HTTPS only
    /// (`scripts/registry start --tls`, `https://localhost:PORT/...`), in its
    /// own state directory (`$REGISTRY_HARNESS_STATE-tls`, or
    /// `target/registry-tls`), started on first use and left running like
    /// [`Registry::get`]'s (`scripts/test` stops both).
    pub fn get_tls() -> &'static Registry {
        TLS_REGISTRY.get_or_init(|| {
            let state = match std::env::var("REGISTRY_HARNESS_STATE") {
                Ok(s) if !s.trim().is_empty() => PathBuf::from(format!("{}-tls", s.trim())),
                _ => repo_root().join("target").join("registry-tls"),
            };
            let state_env = state.display().to_string();
            let env = [
                ("REGISTRY_HARNESS_STATE", state_env.as_str()),
                ("REGISTRY_TLS_PASSWORD", TLS_PASSWORD),
            ];
            let url = last_line(&run(&["start", "--tls"], &env));
            let dir = PathBuf::from(last_line(&run(&["tls-dir"], &env)));
            Registry {
                url,
                state: Some(state),
                tls: Some(RegistryTls {
                    dir,
                    password: TLS_PASSWORD.to_owned(),
                }),
            }
        })
    }

    /// The harness CA of an HTTPS registry ([`Registry::get_tls`]); `None`
    /// for a plain one.
    pub fn tls(&self) -> Option<&RegistryTls> {
        self.tls.as_ref()
    }

    /// curl, trusting this registry's CA when it has one.
    fn curl(&self) -> Command {
        let mut command = Command::new("curl");
        if let Some(tls) = &self.tls {
            command.arg("--cacert").arg(tls.ca_pem());
        }
        command
    }

    /// The URL to give as `schema.registry.url` (`http://host:port/apis/ccompat/v7`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sets the compatibility level of `subject` (`BACKWARD`, `NONE`, ...):
    /// Apicurio enforces none unless told.
    pub fn set_compatibility(&self, subject: &str, level: &str) {
        let body = format!("{{\"compatibility\":\"{level}\"}}");
        let output = self
            .curl()
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
        let output = self
            .curl()
            .args(["-sS", &format!("{}/subjects/{subject}/versions", self.url)])
            .output()
            .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
        serde_json::from_slice(&output.stdout).unwrap_or_default()
    }

    /// Reads `topic` with an independent Avro consumer (Confluent's Python
    /// client and its `AvroDeserializer`, fetching writer schemas from this
    /// registry by id) until `expected` records came or none came for 20 s,
    /// counted once it has read up to the end offsets the partitions had when
    /// it started (or 120 s passed).
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
        let state = self.state.as_ref().map(|s| s.display().to_string());
        let ca = self.tls.as_ref().map(|t| t.ca_pem().display().to_string());
        let mut env = vec![("SCHEMA_REGISTRY_URL", self.url.as_str())];
        if let Some(state) = &state {
            env.push(("REGISTRY_HARNESS_STATE", state));
        }
        if let Some(ca) = &ca {
            env.push(("SCHEMA_REGISTRY_CA", ca));
        }
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
            &env,
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
