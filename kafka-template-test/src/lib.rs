//! A real Apache Kafka for your tests, as `spring-kafka-test`'s `@EmbeddedKafka`
//! gives Spring users: [`EmbeddedKafka::start`] runs a single-node KRaft broker
//! (Apache Kafka's own, a Java program) on loopback ports of its own, with its own
//! data directory, and stops it when dropped.
//!
//! ```no_run
//! use kafka_template_test::{EmbeddedKafka, NewTopic};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let kafka = EmbeddedKafka::builder()
//!     .topic(NewTopic::new("orders", 3))
//!     .broker_property("auto.create.topics.enable", "false")
//!     .start()?;
//! // point the code under test at kafka.bootstrap_servers(), send, then:
//! let records = kafka.read("orders", 1)?;
//! assert_eq!(records[0].key_str().as_deref(), Some("order-1"));
//! # Ok(())
//! # }
//! ```
//!
//! - **Java**: the broker needs a JDK 17 or newer (`JAVA_HOME`, else `java` on
//!   `PATH`; `javac` too, once, to compile the kit's reader and formatter).
//!   Without one, [`EmbeddedKafka::start`] fails at once with
//!   [`EmbeddedKafkaError::JavaNotFound`] (or [`EmbeddedKafkaError::JavacNotFound`]).
//! - **Kafka's jars** are fetched once into a user cache directory
//!   (`KAFKA_TEMPLATE_TEST_CACHE`, else `$XDG_CACHE_HOME/kafka-template-test`,
//!   else `~/.cache/kafka-template-test`): for the versions in
//!   [`KNOWN_VERSIONS`] from a fixed jar list pinned by SHA-256, over HTTPS from
//!   Maven Central (or the mirror `KAFKA_TEMPLATE_TEST_MAVEN_REPO` names); for
//!   other 4.x versions with `mvn`, when installed.
//! - **Parallel tests** each get their own broker: own ports, own directory.
//! - **Nothing is left running**: the broker is stopped on drop, and a watchdog
//!   process kills it when the test process dies without dropping it (a panic
//!   that aborts, `SIGKILL`, a static never dropped).
//! - **Reading back** uses Kafka's own Java consumer (`KafkaConsumer`, assigned
//!   every partition, no consumer group): exact key, value and header bytes
//!   ([`ConsumedRecord`]), and typed values through `kafka-record`
//!   ([`ConsumedRecord::value_as`]).
//! - **Faults**: [`EmbeddedKafka::kill`] (`kill -9`), [`EmbeddedKafka::restart`]
//!   (with its data), [`EmbeddedKafka::pause`] / [`EmbeddedKafka::resume`]
//!   (`SIGSTOP`: sockets open, nothing answered), and a [`proxy`] that cuts
//!   connections ([`EmbeddedKafka::proxy`]).
//!
//! Unix only (Linux, macOS): the broker is managed with Unix signals.

#![warn(missing_docs, missing_debug_implementations)]

mod dist;
mod error;
mod java;
pub mod proxy;
mod records;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use dist::{DEFAULT_KAFKA_VERSION, KNOWN_VERSIONS};
pub use error::EmbeddedKafkaError;
pub use kafka_record::ValueFraming;
pub use proxy::KafkaProxy;
pub use records::ConsumedRecord;
#[doc(hidden)]
pub use records::parse_json_lines;

use dist::Distribution;
use java::Java;

/// A topic to create: name, partitions and topic configs (`retention.ms`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewTopic {
    /// The topic's name.
    pub name: String,
    /// How many partitions.
    pub partitions: i32,
    /// Topic configs, `key=value`.
    pub configs: Vec<(String, String)>,
}

impl NewTopic {
    /// A topic with `partitions` partitions and the broker's default configs.
    pub fn new(name: impl Into<String>, partitions: i32) -> NewTopic {
        NewTopic {
            name: name.into(),
            partitions,
            configs: Vec::new(),
        }
    }

    /// Adds a topic config, such as `("cleanup.policy", "compact")`.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> NewTopic {
        self.configs.push((key.into(), value.into()));
        self
    }
}

/// How [`EmbeddedKafka::read_with`] reads a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Stop once this many records arrived (`None`: read until idle).
    pub expected: Option<usize>,
    /// Stop when nothing new came for this long (default 10 s).
    pub idle_timeout: Duration,
    /// Only records of committed transactions (`isolation.level=read_committed`).
    pub read_committed: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            expected: None,
            idle_timeout: Duration::from_secs(10),
            read_committed: false,
        }
    }
}

impl ReadOptions {
    /// Stop once `n` records arrived.
    pub fn expected(mut self, n: usize) -> Self {
        self.expected = Some(n);
        self
    }

    /// Stop when nothing new came for `timeout`.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Only records of committed transactions.
    pub fn read_committed(mut self, on: bool) -> Self {
        self.read_committed = on;
        self
    }
}

/// Configures an [`EmbeddedKafka`]; [`EmbeddedKafkaBuilder::start`] starts it.
#[derive(Clone, Debug)]
#[must_use]
pub struct EmbeddedKafkaBuilder {
    version: String,
    broker_properties: Vec<(String, String)>,
    topics: Vec<NewTopic>,
    java_home: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    startup_timeout: Duration,
    heap: String,
}

impl Default for EmbeddedKafkaBuilder {
    fn default() -> Self {
        EmbeddedKafkaBuilder {
            version: DEFAULT_KAFKA_VERSION.to_owned(),
            broker_properties: Vec::new(),
            topics: Vec::new(),
            java_home: None,
            cache_dir: None,
            startup_timeout: Duration::from_secs(120),
            heap: "-Xmx512m -Xms128m".to_owned(),
        }
    }
}

impl EmbeddedKafkaBuilder {
    /// The Kafka version (default [`DEFAULT_KAFKA_VERSION`]); versions outside
    /// [`KNOWN_VERSIONS`] need `mvn` on `PATH`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// A broker setting (`server.properties` key), over the kit's defaults
    /// (`auto.create.topics.enable=true` as in Kafka, `num.partitions=1`,
    /// replication factors of 1, `group.initial.rebalance.delay.ms=0`, and
    /// `log.retention.ms=-1`: records a test writes with a `CreateTime` more
    /// than 7 days old stay until it reads them, where Kafka's default would
    /// delete them at its next retention check).
    pub fn broker_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.broker_properties.push((key.into(), value.into()));
        self
    }

    /// A topic created once the broker runs (as `@EmbeddedKafka(topics = ...)`).
    pub fn topic(mut self, topic: NewTopic) -> Self {
        self.topics.push(topic);
        self
    }

    /// Topics created once the broker runs, `partitions` each.
    pub fn topics<I, S>(mut self, names: I, partitions: i32) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.topics
            .extend(names.into_iter().map(|n| NewTopic::new(n, partitions)));
        self
    }

    /// The JDK to run (default: `JAVA_HOME`, else `java` on `PATH`).
    pub fn java_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.java_home = Some(home.into());
        self
    }

    /// Where Kafka's jars are cached (default: see the crate docs).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// How long the broker may take to start (default 120 s, a cold JVM on a
    /// busy CI machine).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// The broker JVM's heap options (default `-Xmx512m -Xms128m`).
    pub fn heap(mut self, options: impl Into<String>) -> Self {
        self.heap = options.into();
        self
    }

    /// Finds Java, fetches Kafka (once), formats a data directory, starts the
    /// broker and creates the topics. Fails at once, before any download, when
    /// Java is missing.
    pub fn start(self) -> Result<EmbeddedKafka, EmbeddedKafkaError> {
        let java = Java::find(self.java_home.as_deref())?;
        java.check_for(&self.version)?;
        let cache = self
            .cache_dir
            .clone()
            .unwrap_or_else(dist::default_cache_dir);
        let dist = dist::ensure(&self.version, &cache, &java)?;
        // A port picked free can be taken by another test before the broker
        // binds it: then start over with new ports.
        let mut attempt = 0;
        let kafka = loop {
            attempt += 1;
            match EmbeddedKafka::launch(&self, &java, &dist) {
                Err(EmbeddedKafkaError::Startup { tail, .. })
                    if attempt < 3 && tail.contains("Address already in use") =>
                {
                    continue;
                }
                other => break other?,
            }
        };
        for topic in &self.topics {
            kafka.create_topic_with(topic)?;
        }
        Ok(kafka)
    }
}

/// The ports of one broker, all on 127.0.0.1.
#[derive(Clone, Copy, Debug)]
struct Ports {
    broker: u16,
    controller: u16,
    /// The `PROXIED` listener, advertised as `front`.
    proxied: u16,
    /// Where a [`KafkaProxy`] listens.
    front: u16,
}

impl Ports {
    fn pick() -> Result<Ports, EmbeddedKafkaError> {
        let listeners = (0..4)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| EmbeddedKafkaError::io("find free ports on 127.0.0.1", e))?;
        let port = |i: usize| -> Result<u16, EmbeddedKafkaError> {
            listeners[i]
                .local_addr()
                .map(|a| a.port())
                .map_err(|e| EmbeddedKafkaError::io("find free ports on 127.0.0.1", e))
        };
        Ok(Ports {
            broker: port(0)?,
            controller: port(1)?,
            proxied: port(2)?,
            front: port(3)?,
        })
    }
}

/// The broker process and its watchdog.
#[derive(Debug)]
struct Running {
    broker: Child,
    watchdog: Watchdog,
    paused: bool,
}

/// A small `sh` that kills the broker when the test process ends without
/// stopping it: it waits on a pipe only this process holds; the end of the
/// process closes the pipe, and the watchdog then `kill -9`s the broker and
/// removes its directory. A broker stopped normally disarms it with a line first.
#[derive(Debug)]
struct Watchdog {
    child: Child,
    arm: Option<ChildStdin>,
}

impl Watchdog {
    fn spawn(broker_pid: u32, dir: &Path) -> Result<Watchdog, EmbeddedKafkaError> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(r#"read -r line || { kill -9 "$1" 2>/dev/null; rm -rf "$2"; }"#)
            .arg("embedded-kafka-watchdog")
            .arg(broker_pid.to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| EmbeddedKafkaError::io("start the broker's watchdog (/bin/sh)", e))?;
        let arm = child.stdin.take();
        Ok(Watchdog { child, arm })
    }

    /// Tells the watchdog the broker is stopped on purpose, and reaps it.
    fn disarm(&mut self) {
        if let Some(mut arm) = self.arm.take() {
            let _ = arm.write_all(b"stopped\n");
        }
        let _ = self.child.wait();
    }
}

static INSTANCES: AtomicU32 = AtomicU32::new(0);

/// A running single-node Kafka (KRaft, combined broker and controller) of one
/// test; stopped, and its directory removed, when dropped.
///
/// Share it between threads and tasks by reference or in an `Arc`: every
/// method takes `&self`.
#[derive(Debug)]
pub struct EmbeddedKafka {
    version: String,
    java: Java,
    dist: Distribution,
    dir: PathBuf,
    ports: Ports,
    bootstrap: String,
    heap: String,
    startup_timeout: Duration,
    running: Mutex<Option<Running>>,
    /// Cleared when the start failed: the error names the log in the directory.
    remove_dir: AtomicBool,
}

impl EmbeddedKafka {
    /// Starts a broker with the defaults: Kafka [`DEFAULT_KAFKA_VERSION`], no
    /// topics (auto-creation on, as in Kafka).
    pub fn start() -> Result<EmbeddedKafka, EmbeddedKafkaError> {
        EmbeddedKafka::builder().start()
    }

    /// A builder: version, broker settings, topics.
    pub fn builder() -> EmbeddedKafkaBuilder {
        EmbeddedKafkaBuilder::default()
    }

    fn launch(
        builder: &EmbeddedKafkaBuilder,
        java: &Java,
        dist: &Distribution,
    ) -> Result<EmbeddedKafka, EmbeddedKafkaError> {
        let ports = Ports::pick()?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let dir = std::env::temp_dir().join(format!(
            "embedded-kafka-{}-{}-{}",
            std::process::id(),
            millis,
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        ));
        let data = dir.join("data");
        fs::create_dir_all(&data)
            .map_err(|e| EmbeddedKafkaError::io(format!("create {}", data.display()), e))?;
        let bootstrap = format!("127.0.0.1:{}", ports.broker);
        let mut properties = format!(
            "process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller},PROXIED://127.0.0.1:{proxied}
advertised.listeners=PLAINTEXT://127.0.0.1:{broker},PROXIED://127.0.0.1:{front}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs={data}
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
",
            controller = ports.controller,
            broker = ports.broker,
            proxied = ports.proxied,
            front = ports.front,
            data = data.display(),
        );
        // java.util.Properties keeps the last of a key: the user's settings win.
        for (key, value) in &builder.broker_properties {
            properties.push_str(&format!("{key}={value}\n"));
        }
        let server_properties = dir.join("server.properties");
        fs::write(&server_properties, properties).map_err(|e| {
            EmbeddedKafkaError::io(format!("write {}", server_properties.display()), e)
        })?;
        let kafka = EmbeddedKafka {
            version: dist.version.clone(),
            java: java.clone(),
            dist: dist.clone(),
            dir,
            ports,
            bootstrap,
            heap: builder.heap.clone(),
            startup_timeout: builder.startup_timeout,
            running: Mutex::new(None),
            remove_dir: AtomicBool::new(true),
        };
        let format = kafka.tool_command(
            "kafka.tools.StorageTool",
            &[
                "format".as_ref(),
                "-t".as_ref(),
                cluster_id()?.as_ref(),
                "-c".as_ref(),
                server_properties.as_os_str(),
            ],
        );
        let started = kafka
            .checked("kafka.tools.StorageTool format", format)
            .and_then(|_| kafka.launch_broker());
        if let Err(e) = started {
            kafka.remove_dir.store(false, Ordering::Relaxed);
            return Err(e);
        }
        tracing::info!(
            bootstrap = %kafka.bootstrap,
            version = %kafka.version,
            log = %kafka.log_file().display(),
            "embedded Kafka started"
        );
        Ok(kafka)
    }

    /// Starts the broker process (with the data it has) and waits until it
    /// serves.
    fn launch_broker(&self) -> Result<(), EmbeddedKafkaError> {
        let log_path = self.log_file();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| EmbeddedKafkaError::io(format!("open {}", log_path.display()), e))?;
        let start_offset = log
            .seek(SeekFrom::End(0))
            .map_err(|e| EmbeddedKafkaError::io(format!("seek {}", log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| EmbeddedKafkaError::io("clone the broker log", e))?;
        let broker = Command::new(&self.java.java)
            .args(self.heap.split_whitespace())
            .args([
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true",
            ])
            .arg(self.dist.log_config("broker"))
            .arg(format!("-Dkafka.logs.dir={}", self.dir.display()))
            .arg("-cp")
            .arg(self.dist.classpath())
            .arg("kafka.Kafka")
            .arg(self.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| EmbeddedKafkaError::io(format!("run {}", self.java.java.display()), e))?;
        let pid = broker.id();
        let watchdog = match Watchdog::spawn(pid, &self.dir) {
            Ok(w) => w,
            Err(e) => {
                let mut broker = broker;
                let _ = broker.kill();
                let _ = broker.wait();
                return Err(e);
            }
        };
        *self.lock() = Some(Running {
            broker,
            watchdog,
            paused: false,
        });
        if let Err(e) = self.wait_started(start_offset) {
            self.stop();
            return Err(e);
        }
        Ok(())
    }

    fn wait_started(&self, log_offset: u64) -> Result<(), EmbeddedKafkaError> {
        let deadline = Instant::now() + self.startup_timeout;
        let log = self.log_file();
        let startup = |reason: String| EmbeddedKafkaError::Startup {
            reason,
            log: log.clone(),
            tail: dist::tail(&read_from(&log, log_offset), 40),
        };
        loop {
            {
                let mut running = self.lock();
                let Some(r) = running.as_mut() else {
                    return Err(startup("it was stopped while starting".to_owned()));
                };
                if let Ok(Some(status)) = r.broker.try_wait() {
                    r.watchdog.disarm();
                    *running = None;
                    return Err(startup(format!("the broker exited ({status})")));
                }
            }
            if read_from(&log, log_offset).contains("Kafka Server started")
                && TcpStream::connect(&self.bootstrap).is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(startup(format!(
                    "it did not start within {:?}",
                    self.startup_timeout
                )));
            }
            // The broker's log is the only sign of its start: look again soon.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bootstrap address, `127.0.0.1:<port>` (Spring's
    /// `spring.embedded.kafka.brokers`).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// The Kafka version running.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The broker's log file (kept until the broker is dropped).
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// The broker's process id, `None` when it is not running.
    pub fn pid(&self) -> Option<u32> {
        self.lock().as_ref().map(|r| r.broker.id())
    }

    /// Whether the broker process runs (a paused one does).
    pub fn is_running(&self) -> bool {
        let mut running = self.lock();
        match running.as_mut() {
            Some(r) => matches!(r.broker.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Creates a topic with `partitions` partitions (nothing when it exists).
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), EmbeddedKafkaError> {
        self.create_topic_with(&NewTopic::new(name, partitions))
    }

    /// Creates a topic with its configs (nothing when it exists), with Kafka's
    /// own `kafka-topics`.
    pub fn create_topic_with(&self, topic: &NewTopic) -> Result<(), EmbeddedKafkaError> {
        let partitions = topic.partitions.to_string();
        let mut args = vec![
            "--bootstrap-server".to_owned(),
            self.bootstrap.clone(),
            "--create".to_owned(),
            "--if-not-exists".to_owned(),
            "--topic".to_owned(),
            topic.name.clone(),
            "--partitions".to_owned(),
            partitions,
            "--replication-factor".to_owned(),
            "1".to_owned(),
        ];
        for (k, v) in &topic.configs {
            args.push("--config".to_owned());
            args.push(format!("{k}={v}"));
        }
        self.run_tool("org.apache.kafka.tools.TopicCommand", &args)
            .map(drop)
    }

    /// Reads `topic` from the beginning with Kafka's own Java consumer until
    /// `expected` records arrived or nothing new came for 10 s; sorted by
    /// partition and offset. Fewer than `expected` records is not an error: the
    /// test's assertion says what was missing.
    ///
    /// The consumer is assigned every partition of the topic, without a
    /// consumer group, and the 10 s count from when it knows where each
    /// partition starts: a slow group join cannot end the read early.
    pub fn read(
        &self,
        topic: &str,
        expected: usize,
    ) -> Result<Vec<ConsumedRecord>, EmbeddedKafkaError> {
        self.read_with(topic, &ReadOptions::default().expected(expected))
    }

    /// Reads `topic` from the beginning as `options` say.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use kafka_template_test::{EmbeddedKafka, ReadOptions};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let kafka = EmbeddedKafka::start()?;
    /// // ... the code under test commits a transaction of 3 records and aborts
    /// // one of 2: a read_committed consumer sees the 3 only.
    /// let committed = kafka.read_with(
    ///     "payments",
    ///     &ReadOptions::default()
    ///         .read_committed(true)
    ///         .idle_timeout(Duration::from_secs(5)),
    /// )?;
    /// assert_eq!(committed.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_with(
        &self,
        topic: &str,
        options: &ReadOptions,
    ) -> Result<Vec<ConsumedRecord>, EmbeddedKafkaError> {
        let isolation = if options.read_committed {
            "read_committed"
        } else {
            "read_uncommitted"
        };
        let expected = options
            .expected
            .map_or_else(|| "-1".to_owned(), |n| n.to_string());
        let args = [
            self.bootstrap.clone(),
            topic.to_owned(),
            expected,
            options.idle_timeout.as_millis().to_string(),
            isolation.to_owned(),
        ];
        let output = self.checked("TopicReader", self.tool_command("TopicReader", &args))?;
        parse_json_lines(&String::from_utf8_lossy(&output.stdout))
    }

    /// Runs one of Kafka's command-line tools (a main class, such as
    /// `org.apache.kafka.tools.TopicCommand`) with this broker's jars and
    /// returns what it printed on stdout; an error with its stderr when it fails.
    pub fn run_tool<S: AsRef<std::ffi::OsStr>>(
        &self,
        class: &str,
        args: &[S],
    ) -> Result<String, EmbeddedKafkaError> {
        let output = self.checked(class, self.tool_command(class, args))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn tool_command<S: AsRef<std::ffi::OsStr>>(&self, class: &str, args: &[S]) -> Command {
        let mut command = Command::new(&self.java.java);
        command
            .args([
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
            ])
            .arg(self.dist.log_config("tools"))
            .arg("-cp")
            .arg(self.dist.classpath())
            .arg(class)
            .args(args)
            .stdin(Stdio::null());
        command
    }

    fn checked(&self, tool: &str, mut command: Command) -> Result<Output, EmbeddedKafkaError> {
        let output = command
            .output()
            .map_err(|e| EmbeddedKafkaError::io(format!("run Kafka's {tool}"), e))?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(EmbeddedKafkaError::Tool {
                tool: tool.to_owned(),
                status: output.status.to_string(),
                stderr: dist::tail(&String::from_utf8_lossy(&output.stderr), 20),
            })
        }
    }

    /// Kills the broker hard (`kill -9`), as a crash would; its data stays for
    /// [`EmbeddedKafka::restart`].
    ///
    /// ```no_run
    /// use kafka_template_test::{EmbeddedKafka, NewTopic};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let kafka = EmbeddedKafka::builder()
    ///     .topic(NewTopic::new("orders", 1))
    ///     .start()?;
    /// // ... the producer under test sends, and keeps sending, while:
    /// kafka.kill()?; // its in-flight requests get no answer
    /// kafka.restart()?; // same ports, same data: the producer reconnects
    /// // ... then every record it reported as sent is there, once:
    /// let records = kafka.read("orders", 100)?;
    /// assert_eq!(records.len(), 100);
    /// # Ok(())
    /// # }
    /// ```
    pub fn kill(&self) -> Result<(), EmbeddedKafkaError> {
        let mut running = self.lock();
        let Some(mut r) = running.take() else {
            return Err(EmbeddedKafkaError::NotRunning {
                hint: "it was already killed or stopped",
            });
        };
        let _ = r.broker.kill(); // SIGKILL
        let _ = r.broker.wait();
        r.watchdog.disarm();
        Ok(())
    }

    /// Starts the broker again with its data, on the same ports (after
    /// [`EmbeddedKafka::kill`]; a running broker is killed first), and waits
    /// until it serves.
    pub fn restart(&self) -> Result<(), EmbeddedKafkaError> {
        if self.lock().is_some() {
            self.kill()?;
        }
        let log = self.log_file();
        if let Ok(mut f) = OpenOptions::new().append(true).open(&log) {
            let _ = writeln!(f, "--- embedded-kafka: restart ---");
        }
        self.launch_broker()
    }

    /// Stalls the broker (`SIGSTOP`): its sockets stay open and nothing is
    /// answered, as in a long GC pause; see [`EmbeddedKafka::resume`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let kafka = kafka_template_test::EmbeddedKafka::start()?;
    /// kafka.pause()?;
    /// // ... sends now time out after request.timeout.ms, and are retried ...
    /// kafka.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn pause(&self) -> Result<(), EmbeddedKafkaError> {
        self.signal("-STOP", true)
    }

    /// Lets a paused broker run on (`SIGCONT`).
    pub fn resume(&self) -> Result<(), EmbeddedKafkaError> {
        self.signal("-CONT", false)
    }

    fn signal(&self, signal: &str, paused: bool) -> Result<(), EmbeddedKafkaError> {
        let mut running = self.lock();
        let Some(r) = running.as_mut() else {
            return Err(EmbeddedKafkaError::NotRunning {
                hint: "restart it first",
            });
        };
        let status = Command::new("kill")
            .arg(signal)
            .arg(r.broker.id().to_string())
            .stdin(Stdio::null())
            .status()
            .map_err(|e| EmbeddedKafkaError::io(format!("run kill {signal}"), e))?;
        if !status.success() {
            return Err(EmbeddedKafkaError::Tool {
                tool: format!("kill {signal}"),
                status: status.to_string(),
                stderr: String::new(),
            });
        }
        r.paused = paused;
        Ok(())
    }

    /// A TCP proxy in front of the broker: clients that bootstrap at
    /// [`KafkaProxy::bootstrap`] reach it only through the proxy, which can cut
    /// their connections. One proxy at a time per broker.
    ///
    /// ```no_run
    /// use kafka_template_test::{EmbeddedKafka, proxy};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let kafka = EmbeddedKafka::start()?;
    /// let proxy = kafka.proxy()?;
    /// // Point the producer under test at proxy.bootstrap(), not at the broker.
    /// // The broker writes the next Produce request, and its answer is lost
    /// // with the connection: an idempotent producer retries without a duplicate.
    /// proxy.cut_after_next_request(proxy::PRODUCE);
    /// // ... send, then check the topic holds each record once ...
    /// assert_eq!(proxy.cuts(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn proxy(&self) -> Result<KafkaProxy, EmbeddedKafkaError> {
        KafkaProxy::with_routes(&[(self.ports.front, self.ports.proxied)])
            .map_err(|e| EmbeddedKafkaError::io("start the proxy", e))
    }

    /// Stops the broker now (`kill -9`: its data is thrown away with it);
    /// dropping it does the same and removes its directory. Stopping a stopped
    /// broker does nothing.
    pub fn stop(&self) {
        let mut running = self.lock();
        if let Some(mut r) = running.take() {
            if r.paused {
                let _ = Command::new("kill")
                    .arg("-CONT")
                    .arg(r.broker.id().to_string())
                    .status();
            }
            let _ = r.broker.kill();
            let _ = r.broker.wait();
            r.watchdog.disarm();
        }
    }
}

impl Drop for EmbeddedKafka {
    fn drop(&mut self) {
        self.stop();
        if self.remove_dir.load(Ordering::Relaxed) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// What `path` holds past `offset` (lossy UTF-8; empty when unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    let mut text = Vec::new();
    if let Ok(mut f) = File::open(path)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = f.read_to_end(&mut text);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, never
/// starting with `-` (the storage tool would take it for an option).
fn cluster_id() -> Result<String, EmbeddedKafkaError> {
    use base64::Engine;
    let mut urandom =
        File::open("/dev/urandom").map_err(|e| EmbeddedKafkaError::io("open /dev/urandom", e))?;
    loop {
        let mut bytes = [0u8; 16];
        urandom
            .read_exact(&mut bytes)
            .map_err(|e| EmbeddedKafkaError::io("read /dev/urandom", e))?;
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_url_safe_characters_never_starting_with_a_dash() {
        for _ in 0..200 {
            let id = cluster_id().unwrap();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'));
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
        }
    }

    #[test]
    fn the_builder_keeps_topics_and_broker_settings_in_order() {
        let b = EmbeddedKafka::builder()
            .topic(NewTopic::new("a", 3).config("cleanup.policy", "compact"))
            .topics(["b", "c"], 2)
            .broker_property("auto.create.topics.enable", "false");
        let names: Vec<_> = b.topics.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(b.topics[0].configs[0].0, "cleanup.policy");
        assert_eq!(b.broker_properties[0].1, "false");
        assert_eq!(b.version, DEFAULT_KAFKA_VERSION);
    }
}
