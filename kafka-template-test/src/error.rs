//! What can go wrong starting or using an embedded broker.

use std::path::PathBuf;

/// An embedded broker could not be started or used; each variant says what was
/// wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedKafkaError {
    /// No Java runtime was found: the broker is Apache Kafka's own, a Java program.
    #[error(
        "Java was not found ({searched}). The embedded Kafka runs Apache Kafka's own broker, \
         which needs a JDK 17 or newer: install one (Debian/Ubuntu: apt-get install \
         openjdk-17-jdk-headless; macOS: brew install openjdk@17) and put `java` on PATH or \
         set JAVA_HOME"
    )]
    JavaNotFound {
        /// Where it was looked for (`JAVA_HOME=...`, `PATH`).
        searched: String,
    },
    /// `javac` was not found next to `java` nor on PATH: a JRE without the JDK.
    #[error(
        "`javac` was not found (next to {java} nor on PATH): the embedded Kafka compiles a \
         small reader around Kafka's Java consumer once, so it needs a JDK, not only \
         a JRE. Install a JDK 17 or newer (Debian/Ubuntu: apt-get install \
         openjdk-17-jdk-headless) or point JAVA_HOME at one"
    )]
    JavacNotFound {
        /// The `java` that was found.
        java: PathBuf,
    },
    /// The Java found is older than the Kafka version needs.
    #[error(
        "Kafka {kafka_version} needs Java {needed} or newer, but {java} is Java {found}: install \
         a newer JDK and put it first on PATH or set JAVA_HOME"
    )]
    JavaTooOld {
        /// The `java` that was found.
        java: PathBuf,
        /// Its major version.
        found: u32,
        /// The major version needed.
        needed: u32,
        /// The Kafka version asked for.
        kafka_version: String,
    },
    /// A jar could not be downloaded.
    #[error(
        "could not download {url}: {reason}. Is Maven Central (or the mirror named by \
         KAFKA_TEMPLATE_TEST_MAVEN_REPO) reachable from here?"
    )]
    Download {
        /// What was asked for.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// A downloaded jar is not the one the fixed jar list names.
    #[error(
        "{url} does not have the expected SHA-256 {expected} (got {actual}): the download or \
         the mirror is corrupt; delete {cache} and try again"
    )]
    Checksum {
        /// What was downloaded.
        url: String,
        /// The hash the jar list pins.
        expected: String,
        /// The hash of what came.
        actual: String,
        /// The cache directory of that Kafka version.
        cache: PathBuf,
    },
    /// The version has no fixed jar list here and Maven is not installed to
    /// resolve it.
    #[error(
        "Kafka {version} cannot be fetched by kafka-template-test (it supports: {known}; \
         versions without a fixed jar list need `mvn` on PATH): choose a supported version or \
         install Maven"
    )]
    UnsupportedVersion {
        /// The version asked for.
        version: String,
        /// The versions it can fetch.
        known: String,
    },
    /// Maven could not resolve the jars of a version.
    #[error(
        "Maven could not fetch Kafka {version} (log: {log}); is it published as \
         org.apache.kafka:kafka_2.13:{version}?"
    )]
    Maven {
        /// The version asked for.
        version: String,
        /// Maven's log.
        log: PathBuf,
    },
    /// A file or directory could not be read, written or run.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The broker did not start.
    #[error("the embedded Kafka broker did not start: {reason} (log: {log})\n{tail}")]
    Startup {
        /// What happened.
        reason: String,
        /// The broker's log file.
        log: PathBuf,
        /// The end of that log.
        tail: String,
    },
    /// One of Kafka's command-line tools failed.
    #[error("Kafka's {tool} failed ({status}): {stderr}")]
    Tool {
        /// The tool's main class.
        tool: String,
        /// Its exit status.
        status: String,
        /// The end of what it printed on stderr.
        stderr: String,
    },
    /// The topic reader printed a line that is not a record.
    #[error("the topic reader printed a line that is not a record ({reason}): {line}")]
    BadRecordLine {
        /// The line.
        line: String,
        /// Why it is not one.
        reason: String,
    },
    /// The broker is not running (killed and not restarted, or paused).
    #[error("the embedded broker is not running; {hint}")]
    NotRunning {
        /// What to do.
        hint: &'static str,
    },
}

impl EmbeddedKafkaError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        EmbeddedKafkaError::Io {
            what: what.into(),
            source,
        }
    }
}
