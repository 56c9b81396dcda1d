//! Test support for kafka-template: a real Apache Kafka broker for every test,
//! uniquely named topics, and a reader of what the broker stored that this project
//! did not write (Kafka's own Java consumer, `scripts/kafka read`).
//!
//! ```no_run
//! let kafka = kafka_testkit::Kafka::get();
//! let topic = kafka.create_topic("orders", 3, 1);
//! // ... produce to kafka.bootstrap() ...
//! let records = kafka.read_all(&topic, 10);
//! assert_eq!(records.len(), 10);
//! ```
//!
//! The broker is the one named by `KAFKA_BOOTSTRAP_SERVERS`, or else the one
//! `scripts/kafka start` runs (started on first use, left running for the next
//! test binary; `scripts/test` stops it at the end).

#![warn(missing_docs, missing_debug_implementations)]

pub mod proxy;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use kafka_template_test::ConsumedRecord;

/// A running Kafka cluster the tests can use.
#[derive(Debug)]
pub struct Kafka {
    bootstrap: String,
    script: PathBuf,
    /// `None` for the shared cluster, else the state directory of a [`Cluster`].
    state_dir: Option<PathBuf>,
}

/// The repository root (where `scripts/kafka` lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("kafka-testkit sits one level below the repository root")
        .to_path_buf()
}

/// Path of `scripts/kafka`.
pub fn kafka_script() -> PathBuf {
    repo_root().join("scripts").join("kafka")
}

/// Runs `scripts/kafka` with these arguments and returns its stdout; panics with
/// its stderr when it fails (tests want to stop there).
pub fn run_script(args: &[&str]) -> String {
    run_script_in(None, args)
}

/// Like [`run_script`], for the cluster whose state lives in `state_dir` (the
/// shared one when `None`).
pub fn run_script_in(state_dir: Option<&Path>, args: &[&str]) -> String {
    run_script_with(state_dir, None, args)
}

fn run_script_with(state_dir: Option<&Path>, bootstrap: Option<&str>, args: &[&str]) -> String {
    run_script_env(state_dir, bootstrap, &[], args)
}

/// [`run_script_with`] with more environment variables (`name`, path).
fn run_script_env(
    state_dir: Option<&Path>,
    bootstrap: Option<&str>,
    env: &[(&str, &Path)],
    args: &[&str],
) -> String {
    run_script_output(state_dir, bootstrap, env, args).0
}

/// [`run_script_env`]'s stdout and stderr.
fn run_script_output(
    state_dir: Option<&Path>,
    bootstrap: Option<&str>,
    env: &[(&str, &Path)],
    args: &[&str],
) -> (String, String) {
    let mut command = Command::new(kafka_script());
    command.envs(env.iter().copied());
    if let Some(dir) = state_dir {
        command.env("KAFKA_HARNESS_STATE", dir);
    }
    if let Some(bootstrap) = bootstrap {
        command.env("KAFKA_HARNESS_BOOTSTRAP", bootstrap);
    }
    let output = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/kafka {args:?}: {e}"));
    if !output.status.success() {
        panic!(
            "scripts/kafka {args:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

static KAFKA: OnceLock<Kafka> = OnceLock::new();
static TOPIC_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Kafka {
    /// The cluster for this test process: `KAFKA_BOOTSTRAP_SERVERS` when set,
    /// otherwise `scripts/kafka start` (which reuses a running cluster).
    pub fn get() -> &'static Kafka {
        KAFKA.get_or_init(|| {
            let bootstrap = match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
                Ok(b) if !b.trim().is_empty() => b.trim().to_string(),
                _ => {
                    let out = run_script(&["start"]);
                    out.lines()
                        .last()
                        .expect("scripts/kafka start prints the bootstrap address last")
                        .trim()
                        .to_string()
                }
            };
            Kafka {
                bootstrap,
                script: kafka_script(),
                state_dir: None,
            }
        })
    }

    /// The bootstrap address, `host:port[,host:port...]`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic with a unique name starting with `prefix` and returns the name.
    pub fn create_topic(&self, prefix: &str, partitions: i32, replication_factor: i16) -> String {
        let name = unique_name(prefix);
        self.create_topic_named(&name, partitions, replication_factor, &[]);
        name
    }

    /// Creates a topic with this exact name and topic configs (`key=value`).
    pub fn create_topic_named(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        configs: &[&str],
    ) {
        let partitions = partitions.to_string();
        let rf = replication_factor.to_string();
        let mut args = vec![
            "topic",
            name,
            "--partitions",
            &partitions,
            "--replication-factor",
            &rf,
        ];
        for c in configs {
            args.push("--config");
            args.push(c);
        }
        self.script(&args);
    }

    /// Reads what the topic holds with Kafka's own Java consumer, until
    /// `expected` records arrived or nothing new came for 10 s, sorted by
    /// partition and offset. It joins no group, and the 10 s count only once it
    /// has read up to the end offsets the partitions had when it started (the
    /// last stable offsets when reading committed records), so a slow start on
    /// a busy machine cannot end the read early.
    pub fn read_all(&self, topic: &str, expected: usize) -> Vec<ConsumedRecord> {
        self.read(topic, expected, Duration::from_secs(10), false)
    }

    /// Like [`Kafka::read_all`] with a chosen idle timeout and isolation level
    /// (`read_committed` when `committed_only`).
    pub fn read(
        &self,
        topic: &str,
        expected: usize,
        idle_timeout: Duration,
        committed_only: bool,
    ) -> Vec<ConsumedRecord> {
        self.read_via(topic, expected, idle_timeout, committed_only, None)
    }

    /// Like [`Kafka::read_all`], with Kafka's Java consumer connecting through
    /// `listener` of a `--security` cluster (see [`Cluster::start_secured`]) with
    /// the properties `scripts/kafka client-properties LISTENER MECHANISM` prints.
    pub fn read_all_through(
        &self,
        topic: &str,
        expected: usize,
        listener: &str,
        mechanism: Option<&str>,
    ) -> Vec<ConsumedRecord> {
        self.read_via(
            topic,
            expected,
            Duration::from_secs(10),
            false,
            Some((listener, mechanism)),
        )
    }

    fn read_via(
        &self,
        topic: &str,
        expected: usize,
        idle_timeout: Duration,
        committed_only: bool,
        through: Option<(&str, Option<&str>)>,
    ) -> Vec<ConsumedRecord> {
        let max = expected.to_string();
        let timeout = idle_timeout.as_millis().to_string();
        let isolation = if committed_only {
            "read_committed"
        } else {
            "read_uncommitted"
        };
        let mut args = vec![
            "read",
            topic,
            "--max-messages",
            &max,
            "--timeout-ms",
            &timeout,
            "--isolation",
            isolation,
        ];
        if let Some((listener, mechanism)) = through {
            args.extend(["--listener", listener]);
            if let Some(mechanism) = mechanism {
                args.extend(["--mechanism", mechanism]);
            }
        }
        let (out, said) =
            run_script_output(self.state_dir.as_deref(), Some(&self.bootstrap), &[], &args);
        let records = kafka_template_test::parse_json_lines(&out)
            .unwrap_or_else(|e| panic!("reading {topic} back: {e}"));
        if records.len() < expected {
            // Shown with the test's failure: the reader's account (start
            // offsets past 0 say the broker deleted records).
            eprintln!(
                "{topic}: {} of {expected} records read back; the reader said:\n{}",
                records.len(),
                said.trim_end()
            );
        }
        records
    }

    /// Produces `key<TAB>value` lines (key `None` = keyless) with Kafka's own console
    /// producer, acks=all.
    pub fn produce_with_console(&self, topic: &str, records: &[(Option<&str>, &str)]) {
        use std::io::Write;
        let keyed = records.iter().any(|(k, _)| k.is_some());
        let mut args = vec!["produce".to_string(), topic.to_string()];
        if keyed {
            args.extend(
                [
                    "--property",
                    "parse.key=true",
                    "--property",
                    "key.separator=\t",
                ]
                .map(String::from),
            );
        }
        args.extend(["--producer-property", "acks=all"].map(String::from));
        let mut command = Command::new(&self.script);
        if let Some(dir) = &self.state_dir {
            command.env("KAFKA_HARNESS_STATE", dir);
        }
        command.env("KAFKA_HARNESS_BOOTSTRAP", &self.bootstrap);
        let mut child = command
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run scripts/kafka produce");
        {
            let mut stdin = child.stdin.take().expect("piped stdin");
            for (key, value) in records {
                match key {
                    Some(k) => writeln!(stdin, "{k}\t{value}"),
                    None => writeln!(stdin, "{value}"),
                }
                .expect("write to console producer");
            }
        }
        let output = child.wait_with_output().expect("console producer ran");
        assert!(
            output.status.success(),
            "console producer failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The partitions of `topic` whose in-sync replicas lack one of the
    /// replicas, as Kafka's `kafka-topics --describe --under-replicated-partitions`
    /// lists them (one line each; empty when every replica is in sync).
    pub fn under_replicated_partitions(&self, topic: &str) -> Vec<String> {
        self.script(&["under-replicated", topic])
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Waits until every replica of every partition of `topic` is in sync again
    /// (after a broker came back), asking the cluster at most every `poll`; the
    /// partitions still under-replicated when `timeout` ran out as the error.
    pub fn wait_in_sync(&self, topic: &str, timeout: Duration) -> Result<(), Vec<String>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let lagging = self.under_replicated_partitions(topic);
            if lagging.is_empty() {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(lagging);
            }
            // Each ask starts a JVM (about a second): the poll is the tool's own pace.
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Runs `scripts/kafka` with these arguments against this cluster.
    pub fn script(&self, args: &[&str]) -> String {
        run_script_with(self.state_dir.as_deref(), Some(&self.bootstrap), args)
    }

    /// What Kafka's `kafka-consumer-groups --describe --group GROUP` prints
    /// (stdout and stderr: a group without offsets is reported there).
    pub fn describe_group(&self, group: &str) -> String {
        self.tool(
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            &["--describe", "--group", group],
        )
    }

    /// What Kafka's `kafka-transactions describe --transactional-id ID`
    /// prints (stdout and stderr: an unknown id is reported there).
    pub fn describe_transaction(&self, transactional_id: &str) -> String {
        self.tool(
            "org.apache.kafka.tools.TransactionsCommand",
            &["describe", "--transactional-id", transactional_id],
        )
    }

    /// Asks [`Kafka::describe_transaction`] again until what it prints
    /// satisfies `done` (the coordinator completes transactions and expires
    /// ids in the background); returns that; panics with the last answer
    /// after `timeout`.
    pub fn wait_for_transaction(
        &self,
        transactional_id: &str,
        done: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let described = self.describe_transaction(transactional_id);
            if done(&described) {
                return described;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "transactional id {transactional_id} never got there within {timeout:?}:\n{described}"
            );
            // Each answer takes a JVM start; a short pause between them.
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Runs one of Kafka's command-line tools (its main `class`) against this
    /// cluster with `args`: what it printed (stdout, then stderr), whatever
    /// its exit status (some versions report an empty answer as an error).
    pub fn tool(&self, class: &str, args: &[&str]) -> String {
        let mut command = Command::new(&self.script);
        if let Some(dir) = &self.state_dir {
            command.env("KAFKA_HARNESS_STATE", dir);
        }
        let output = command
            .args(["tool", class, "--bootstrap-server", &self.bootstrap])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {class}: {e}"));
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

/// The committed offset of `topic`-`partition` in a
/// [`Kafka::describe_group`] table (`None`: no offset committed).
pub fn committed_offset(described: &str, topic: &str, partition: i32) -> Option<i64> {
    described.lines().find_map(|line| {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let at = columns.iter().position(|c| *c == topic)?;
        (columns.get(at + 1)? == &partition.to_string().as_str())
            .then(|| columns.get(at + 2)?.parse().ok())
            .flatten()
    })
}

/// A cluster of its own for one test (several brokers, another Kafka version, or
/// nodes to kill), in its own state directory; stopped when dropped.
#[derive(Debug)]
pub struct Cluster {
    kafka: Kafka,
}

impl Cluster {
    /// Starts `brokers` combined nodes of Kafka `version` (`None`: the pinned one).
    pub fn start(brokers: u32, version: Option<&str>) -> Cluster {
        Cluster::start_with(brokers, version, false)
    }

    /// Starts `brokers` nodes with `scripts/kafka start --security`: next to
    /// PLAINTEXT (which [`Kafka::bootstrap`] names) the listeners `SSL`, `MTLS`,
    /// `SASL_PLAINTEXT`, `SASL_SSL`, `REAUTH` and `SSL_CN` (a broker
    /// certificate with the host in its CN alone), with the harness's own CA; see
    /// [`Cluster::listener_bootstrap`] and [`Cluster::client_properties`].
    pub fn start_secured(brokers: u32) -> Cluster {
        Cluster::start_with(brokers, None, true)
    }

    /// Starts one node with a broker plugin: `classpath` (a directory of
    /// classes, e.g. from [`compile_broker_plugin`]) goes before Kafka's jars
    /// and `properties` (`key=value`) are added to `server.properties`.
    pub fn start_with_plugin(classpath: &Path, properties: &[(&str, &str)]) -> Cluster {
        Cluster::start_configured("kafka-cluster-plugin", classpath, properties)
    }

    /// Starts one node with these `properties` (`key=value`) added to its
    /// `server.properties`: broker settings a test needs small (say
    /// `transactional.id.expiration.ms`).
    pub fn start_with_properties(properties: &[(&str, &str)]) -> Cluster {
        Cluster::start_configured("kafka-cluster-1", Path::new(""), properties)
    }

    fn start_configured(name: &str, classpath: &Path, properties: &[(&str, &str)]) -> Cluster {
        let state_dir = repo_root().join("target").join(unique_name(name));
        let extra = state_dir.with_extension("properties");
        let lines: String = properties
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::create_dir_all(state_dir.parent().expect("under target/"))
            .expect("target/ is writable");
        std::fs::write(&extra, lines).expect("the extra broker properties are written");
        let out = run_script_env(
            Some(&state_dir),
            None,
            &[
                ("KAFKA_BROKER_CLASSPATH", classpath),
                ("KAFKA_BROKER_PROPERTIES", &extra),
            ],
            &["start", "--brokers", "1"],
        );
        let _ = std::fs::remove_file(&extra);
        Cluster::started(state_dir, &out)
    }

    fn start_with(brokers: u32, version: Option<&str>, security: bool) -> Cluster {
        let state_dir = repo_root()
            .join("target")
            .join(unique_name(&format!("kafka-cluster-{brokers}")));
        let brokers_arg = brokers.to_string();
        let mut args = vec!["start", "--brokers", &brokers_arg];
        if let Some(v) = version {
            args.push("--version");
            args.push(v);
        }
        if security {
            args.push("--security");
        }
        let out = run_script_in(Some(&state_dir), &args);
        Cluster::started(state_dir, &out)
    }

    /// The cluster `scripts/kafka start` started in `state_dir`, given what it printed.
    fn started(state_dir: PathBuf, out: &str) -> Cluster {
        let bootstrap = out
            .lines()
            .last()
            .expect("scripts/kafka start prints the bootstrap address last")
            .trim()
            .to_string();
        Cluster {
            kafka: Kafka {
                bootstrap,
                script: kafka_script(),
                state_dir: Some(state_dir),
            },
        }
    }

    /// Kills node `node` (1-based) hard, as a crash would.
    pub fn kill(&self, node: u32) {
        self.kafka.script(&["kill", &node.to_string()]);
    }

    /// Restarts node `node` with its data.
    pub fn restart(&self, node: u32) {
        self.kafka.script(&["restart", &node.to_string()]);
    }

    /// Stalls node `node` with SIGSTOP: its sockets stay open and nothing is
    /// answered, as a broker in a long GC pause or a hung disk; see
    /// [`Cluster::resume`].
    pub fn pause(&self, node: u32) {
        self.kafka.script(&["pause", &node.to_string()]);
    }

    /// Lets a node stalled by [`Cluster::pause`] run on (SIGCONT).
    pub fn resume(&self, node: u32) {
        self.kafka.script(&["resume", &node.to_string()]);
    }

    /// How many nodes the cluster was started with.
    pub fn nodes(&self) -> u32 {
        self.kafka
            .state_dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join("brokers")).ok())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(1)
    }

    /// The broker ids the cluster's metadata lists (read by Kafka's own tool).
    pub fn broker_ids(&self) -> Vec<i32> {
        self.kafka
            .script(&["brokers"])
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// A string found in the command line of this cluster's broker processes
    /// (its state directory), to check that none survives [`Cluster::stop`].
    pub fn state_marker(&self) -> String {
        self.kafka
            .state_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    }

    /// The bootstrap address of one listener (`scripts/kafka bootstrap LISTENER`).
    pub fn listener_bootstrap(&self, listener: &str) -> String {
        run_script_in(self.kafka.state_dir.as_deref(), &["bootstrap", listener])
            .trim()
            .to_owned()
    }

    /// The Java client properties for `listener` (and SASL `mechanism`), as
    /// `scripts/kafka client-properties` prints them.
    pub fn client_properties(
        &self,
        listener: &str,
        mechanism: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut args = vec!["client-properties", listener];
        args.extend(mechanism);
        run_script_in(self.kafka.state_dir.as_deref(), &args)
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Directory of the harness's CA and certificates (`ca.pem`, `client.pem`,
    /// `client.key`, `truststore.p12`, `client.p12`, ...) of a secured cluster.
    pub fn tls_dir(&self) -> PathBuf {
        self.kafka
            .state_dir
            .as_ref()
            .map(|d| d.join("tls"))
            .unwrap_or_default()
    }

    /// Stops every node now; also done on drop.
    pub fn stop(&self) {
        self.kafka.script(&["stop"]);
    }
}

impl std::ops::Deref for Cluster {
    type Target = Kafka;
    fn deref(&self) -> &Kafka {
        &self.kafka
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(kafka_script())
            .env(
                "KAFKA_HARNESS_STATE",
                self.kafka.state_dir.as_deref().unwrap_or(Path::new("")),
            )
            .arg("stop")
            .stdin(Stdio::null())
            .output();
        if let Some(dir) = &self.kafka.state_dir {
            let _ = std::fs::remove_dir_all(dir);
            let _ = std::fs::remove_file(dir.with_extension("lock"));
        }
    }
}

/// Compiles the broker plugin `kafka-testkit/java/<class_name>.java` against
/// the harness's Kafka jars (`javac`, JDK 17) into a directory under
/// `target/broker-plugins/` and returns it, for [`Cluster::start_with_plugin`].
/// The classes are kept for the same source and jars, so only the first run
/// pays for `javac`.
///
/// `TelemetryRecorder` is the KIP-714 client telemetry receiver: with
/// `metric.reporters=TelemetryRecorder` the broker offers client metrics and
/// writes every pushed data point to the file named by
/// `telemetry.recorder.file` (see the class's comment for the line format).
pub fn compile_broker_plugin(class_name: &str) -> PathBuf {
    let source = repo_root()
        .join("kafka-testkit")
        .join("java")
        .join(format!("{class_name}.java"));
    let classpath = run_script(&["classpath"]);
    let code =
        std::fs::read(&source).unwrap_or_else(|e| panic!("cannot read {}: {e}", source.display()));
    let key = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (code, classpath.trim()).hash(&mut hasher);
        hasher.finish()
    };
    let plugins = repo_root().join("target").join("broker-plugins");
    let out = plugins.join(format!("{class_name}-{key:016x}"));
    if out.join(format!("{class_name}.class")).exists() {
        return out;
    }
    // Compiled aside and renamed into place: tests running at once never
    // see half-written classes.
    let partial = plugins.join(unique_name(class_name));
    std::fs::create_dir_all(&partial).expect("target/ is writable");
    let output = Command::new("javac")
        .args(["-nowarn", "-d"])
        .arg(&partial)
        .args(["-cp", classpath.trim()])
        .arg(&source)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run javac (a JDK 17 is needed): {e}"));
    if !output.status.success() {
        panic!(
            "javac {} failed:\n{}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if std::fs::rename(&partial, &out).is_err() {
        // Another test put the same classes there first.
        let _ = std::fs::remove_dir_all(&partial);
    }
    out
}

/// A name unique across test processes and runs: `prefix-<pid>-<millis>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        millis % 100_000_000,
        TOPIC_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
