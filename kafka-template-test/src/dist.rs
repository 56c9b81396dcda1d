//! Apache Kafka's jars, fetched once into a user cache directory.
//!
//! For the versions in [`KNOWN_VERSIONS`] the jar list is fixed here (broker,
//! command-line tools and log4j2, as Maven resolves
//! `org.apache.kafka:kafka_2.13` and `kafka-tools` without Kafka Connect), each
//! jar pinned by SHA-256 and downloaded over HTTPS from Maven Central (or the
//! mirror `KAFKA_TEMPLATE_TEST_MAVEN_REPO` names). Any other version is resolved
//! by `mvn` when it is installed.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::EmbeddedKafkaError;
use crate::java::Java;

/// The Kafka version started when none is chosen.
pub const DEFAULT_KAFKA_VERSION: &str = "4.1.1";

/// The Kafka versions whose jars are fetched without Maven installed.
pub const KNOWN_VERSIONS: &[&str] = &["4.1.1"];

/// Maven Central.
const MAVEN_CENTRAL: &str = "https://repo1.maven.org/maven2";

/// The Java classes topics are read with, compiled once per cached version:
/// a reader around Kafka's `KafkaConsumer` and the formatter it prints records
/// with (one JSON line each, bytes in base64).
const SUPPORT_SOURCES: &[(&str, &str)] = &[
    (
        "JsonLinesFormatter",
        include_str!("../java/JsonLinesFormatter.java"),
    ),
    ("TopicReader", include_str!("../java/TopicReader.java")),
];

/// group, artifact, version, SHA-256 of the jar.
type Jar = (&'static str, &'static str, &'static str, &'static str);

/// The runtime classpath of Kafka 4.1.1's broker and tools.
const KAFKA_4_1_1: &[Jar] = &[
    (
        "com.dynatrace.hash4j",
        "hash4j",
        "0.22.0",
        "23028a3fd006e530bf495f551083208187cafd8f80624d048eba56442f16a50e",
    ),
    (
        "com.fasterxml.jackson.core",
        "jackson-annotations",
        "2.19.0",
        "ead60e9cac0e42b57092b9e2d087ff43536e9477d4486ba393037a8cc156cda7",
    ),
    (
        "com.fasterxml.jackson.core",
        "jackson-core",
        "2.19.0",
        "da8e859bac94874528116a25f20c68560e4287acbf27628711b8a4f96b028430",
    ),
    (
        "com.fasterxml.jackson.core",
        "jackson-databind",
        "2.19.0",
        "ceda311f476c3b18e1d2b240c94e2dcb9c8d44e70f8afa9facab88bac4ddc03a",
    ),
    (
        "com.fasterxml.jackson.dataformat",
        "jackson-dataformat-csv",
        "2.19.0",
        "bec1150426b0616bb488149b952b45a0dcb16d9416b017c38f6455ad9389bc68",
    ),
    (
        "com.fasterxml.jackson.dataformat",
        "jackson-dataformat-yaml",
        "2.19.0",
        "46e54dcbd39d4d12cda18ec9276e7b888e08fc765ea0c77e71662306f0d4abc4",
    ),
    (
        "com.fasterxml.jackson.datatype",
        "jackson-datatype-jdk8",
        "2.19.0",
        "04f1a3f9da8155995dd00098d6847cdb9b7af67f4a3028c94031eff017c8e3e5",
    ),
    (
        "com.fasterxml.jackson.jakarta.rs",
        "jackson-jakarta-rs-base",
        "2.19.0",
        "f87bcd81a04b78c8aece6e1700a483ed9efd9c4afaf85bf8f7d4becb874e764e",
    ),
    (
        "com.fasterxml.jackson.jakarta.rs",
        "jackson-jakarta-rs-json-provider",
        "2.19.0",
        "86a4036dbc517ab520208ea2b9f5f4a5b71b66e238878a84a26ac2fc860cc355",
    ),
    (
        "com.fasterxml.jackson.module",
        "jackson-module-jakarta-xmlbind-annotations",
        "2.19.0",
        "b032db242a4d6f7171ae619c48631480e78e350c5f2c10c348f2e2245bc36420",
    ),
    (
        "com.github.ben-manes.caffeine",
        "caffeine",
        "3.2.0",
        "ec411dfdf0c03f25218648ce89861630b71680e5858a9a7278ebac8e55cab3d7",
    ),
    (
        "com.github.luben",
        "zstd-jni",
        "1.5.6-10",
        "b6c3237e24b8252a5a9c3a0e1ae30ef8f323412e74bd358548b7a9e527d676df",
    ),
    (
        "com.google.re2j",
        "re2j",
        "1.8",
        "7b52c72156dd7f98b3237a5b35c1d34fba381b21048c89208913ad80a45dfbd7",
    ),
    (
        "com.sun.activation",
        "jakarta.activation",
        "2.0.1",
        "b9e24b7dd6e07495562ea96531be3130c96dba4d78e1dfd88adbbdebf4332871",
    ),
    (
        "com.typesafe.scala-logging",
        "scala-logging_2.13",
        "3.9.5",
        "87a3017d3f43e6ace7566fe4c3d615134c6914ff871c8d64bb32ca1d996d0545",
    ),
    (
        "com.yammer.metrics",
        "metrics-core",
        "2.2.0",
        "6b7a14a6f34c10f8683f7b5e2f39df0f07b58c7dff0e468ebbc713905c46979c",
    ),
    (
        "commons-beanutils",
        "commons-beanutils",
        "1.9.4",
        "7d938c81789028045c08c065e94be75fc280527620d5bd62b519d5838532368a",
    ),
    (
        "commons-collections",
        "commons-collections",
        "3.2.2",
        "eeeae917917144a68a741d4c0dff66aa5c5c5fd85593ff217bced3fc8ca783b8",
    ),
    (
        "commons-digester",
        "commons-digester",
        "2.1",
        "e0b2b980a84fc6533c5ce291f1917b32c507f62bcad64198fff44368c2196a3d",
    ),
    (
        "commons-logging",
        "commons-logging",
        "1.3.2",
        "6b858424f518015f32bfcd1183a373f4a827d72d026b6031da0c91cf0e8f3489",
    ),
    (
        "commons-validator",
        "commons-validator",
        "1.9.0",
        "c3c14748e2d78db58df88808740711bd643b32c45ffa7b8a739f00fb467cd7d7",
    ),
    (
        "jakarta.activation",
        "jakarta.activation-api",
        "2.1.0",
        "56e8d994095fe49c28138c60291482f66f18d12ac2b720e938697dce6a3135c7",
    ),
    (
        "jakarta.xml.bind",
        "jakarta.xml.bind-api",
        "3.0.1",
        "b8fb4bee3ff5b5c1ef77144d8411316018d7bbd41fcf1ede0646f7978546b867",
    ),
    (
        "net.sf.jopt-simple",
        "jopt-simple",
        "5.0.4",
        "df26cc58f235f477db07f753ba5a3ab243ebe5789d9f89ecf68dd62ea9a66c28",
    ),
    (
        "net.sourceforge.argparse4j",
        "argparse4j",
        "0.7.0",
        "65ceb669d88f63306c680f8088bbf765bbca72d288a61a03703000076c3d3f56",
    ),
    (
        "org.apache.kafka",
        "kafka-clients",
        "4.1.1",
        "00247122a572c3d3ae4eb60a50192a5811bc0181f51923d13018600f892e821d",
    ),
    (
        "org.apache.kafka",
        "kafka-coordinator-common",
        "4.1.1",
        "2072fc1ce7e0505149bba22a463a5909a899c6235c4fa696f15c21194a7baf60",
    ),
    (
        "org.apache.kafka",
        "kafka-group-coordinator-api",
        "4.1.1",
        "3d1801d2329dcf7d273796a034d61e6c7e0f851f384d0afbdd3a2e6cbd17a968",
    ),
    (
        "org.apache.kafka",
        "kafka-group-coordinator",
        "4.1.1",
        "3eb5a673b69d5992cfa86c5436f39adbf4ce284046a4c999ec6af0a8e31c5589",
    ),
    (
        "org.apache.kafka",
        "kafka-metadata",
        "4.1.1",
        "a689665751415b6456de1ecb013042cb7ba99ac68fd8c3e8bf28e098feb43218",
    ),
    (
        "org.apache.kafka",
        "kafka-raft",
        "4.1.1",
        "4810c93d93d1935dd54de61c5ba130f501c7fe11bc49ccd3ee05ec857818a72a",
    ),
    (
        "org.apache.kafka",
        "kafka-server-common",
        "4.1.1",
        "207edecd8322cf6c13d76d84addea7fd0ec441dc8d698cf69df43210ccdc0a94",
    ),
    (
        "org.apache.kafka",
        "kafka-server",
        "4.1.1",
        "9f6aff422855491aad54326eca8d604163d6d3a6507cc48ffe3ce6de73caf79a",
    ),
    (
        "org.apache.kafka",
        "kafka-share-coordinator",
        "4.1.1",
        "e6bec53428c77bf6579321836d482542a93575f7c08e860a26c9f2c7f6059dac",
    ),
    (
        "org.apache.kafka",
        "kafka-storage-api",
        "4.1.1",
        "8c0a712472185d706c6bf5ae24bf5d84a8e396fd4745c708e6146a415f7fa7f7",
    ),
    (
        "org.apache.kafka",
        "kafka-storage",
        "4.1.1",
        "1f85b82853eaec0143efbef7e3a4d4be8929ff83a386326431e0c2d0a557e58c",
    ),
    (
        "org.apache.kafka",
        "kafka-tools-api",
        "4.1.1",
        "542b08fe20cf872a2d866acdff61ea338b469219dc2ebfae727a1d9ea5737e1a",
    ),
    (
        "org.apache.kafka",
        "kafka-tools",
        "4.1.1",
        "8a6939f310a61119cedaffc144119e9b2a374e32a7ec18f78e49ce5aeb71d6b0",
    ),
    (
        "org.apache.kafka",
        "kafka-transaction-coordinator",
        "4.1.1",
        "a261b5730ac9e3205df7af5d45180d851e9d5f729ce1275c67511a6f51f73755",
    ),
    (
        "org.apache.kafka",
        "kafka_2.13",
        "4.1.1",
        "e89428126cc7630a802123ba27aac4442816840b66d60670226feaff65f24fd1",
    ),
    (
        "org.apache.logging.log4j",
        "log4j-api",
        "2.24.3",
        "5b4a0a0cd0e751ded431c162442bdbdd53328d1f8bb2bae5fc1bbeee0f66d80f",
    ),
    (
        "org.apache.logging.log4j",
        "log4j-core",
        "2.24.3",
        "7eb4084596ae25bd3c61698e48e8d0ab65a9260758884ed5cbb9c6e55c44a56a",
    ),
    (
        "org.apache.logging.log4j",
        "log4j-slf4j-impl",
        "2.24.3",
        "40dec251164d1576e000968cd02e56a1125f46b91fb694a06dfa168f1335da48",
    ),
    (
        "org.bitbucket.b_c",
        "jose4j",
        "0.9.6",
        "7314af50cde9c99e8eaf43eee617a23edcc6bb43036221064355094999d837ef",
    ),
    (
        "org.hdrhistogram",
        "HdrHistogram",
        "2.2.2",
        "22d1d4316c4ec13a68b559e98c8256d69071593731da96136640f864fa14fad8",
    ),
    (
        "org.jspecify",
        "jspecify",
        "1.0.0",
        "1fad6e6be7557781e4d33729d49ae1cdc8fdda6fe477bb0cc68ce351eafdfbab",
    ),
    (
        "org.lz4",
        "lz4-java",
        "1.8.0",
        "d74a3334fb35195009b338a951f918203d6bbca3d1d359033dc33edd1cadc9ef",
    ),
    (
        "org.pcollections",
        "pcollections",
        "4.0.2",
        "2bbeef5797a241300c4f7513cd546239629ed7deda4fc0c31df90bb95f5f13ef",
    ),
    (
        "org.scala-lang",
        "scala-library",
        "2.13.16",
        "1ebb2b6f9e4eb4022497c19b1e1e825019c08514f962aaac197145f88ed730f1",
    ),
    (
        "org.scala-lang",
        "scala-reflect",
        "2.13.16",
        "fb49ccd9cac7464486ab993cda20a3c1569d8ef26f052e897577ad2a4970fb1d",
    ),
    (
        "org.slf4j",
        "slf4j-api",
        "1.7.36",
        "d3ef575e3e4979678dc01bf1dcce51021493b4d11fb7f1be8ad982877c16a1c0",
    ),
    (
        "org.xerial.snappy",
        "snappy-java",
        "1.1.10.7",
        "4c766cb3f855415ee734b2392949a0b6f12a60879334a74518deaf6270d32e36",
    ),
    (
        "org.yaml",
        "snakeyaml",
        "2.4",
        "ef779af5d29a9dde8cc70ce0341f5c6f7735e23edff9685ceaa9d35359b7bb7f",
    ),
];

fn fixed_jars(version: &str) -> Option<&'static [Jar]> {
    match version {
        "4.1.1" => Some(KAFKA_4_1_1),
        _ => None,
    }
}

/// A Kafka version's jars and support files in the cache.
#[derive(Clone, Debug)]
pub(crate) struct Distribution {
    pub(crate) version: String,
    pub(crate) dir: PathBuf,
}

impl Distribution {
    /// The broker's classpath.
    pub(crate) fn classpath(&self) -> String {
        format!(
            "{}:{}",
            self.dir.join("support").display(),
            self.dir.join("lib").join("*").display()
        )
    }

    /// The log4j2 configuration of the broker (`broker`) or the tools (`tools`).
    pub(crate) fn log_config(&self, kind: &str) -> String {
        format!(
            "-Dlog4j2.configurationFile={}",
            self.dir.join(format!("{kind}-log4j2.properties")).display()
        )
    }
}

pub(crate) fn major_of(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// The cache root: `KAFKA_TEMPLATE_TEST_CACHE`, else
/// `$XDG_CACHE_HOME/kafka-template-test`, else `~/.cache/kafka-template-test`.
pub(crate) fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KAFKA_TEMPLATE_TEST_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("kafka-template-test");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home)
            .join(".cache")
            .join("kafka-template-test"),
        None => std::env::temp_dir().join("kafka-template-test-cache"),
    }
}

/// One fetch at a time in this process (parallel tests share the download);
/// other processes are kept apart by a lock file.
static FETCHING: Mutex<()> = Mutex::new(());

/// The jars of `version` in `cache`, fetched first when they are not there.
pub(crate) fn ensure(
    version: &str,
    cache: &Path,
    java: &Java,
) -> Result<Distribution, EmbeddedKafkaError> {
    let dir = cache.join(format!("kafka-{version}"));
    let dist = Distribution {
        version: version.to_owned(),
        dir: dir.clone(),
    };
    if major_of(version) < 4 {
        return Err(EmbeddedKafkaError::UnsupportedVersion {
            version: version.to_owned(),
            known: format!("{} and, with Maven, any 4.x", KNOWN_VERSIONS.join(", ")),
        });
    }
    if dir.join(".complete").exists() && support_is_current(&dir) {
        return Ok(dist);
    }
    let _in_process = FETCHING.lock().unwrap_or_else(|p| p.into_inner());
    fs::create_dir_all(cache)
        .map_err(|e| EmbeddedKafkaError::io(format!("create {}", cache.display()), e))?;
    let lock_path = cache.join(format!("kafka-{version}.lock"));
    let lock = File::create(&lock_path)
        .map_err(|e| EmbeddedKafkaError::io(format!("create {}", lock_path.display()), e))?;
    lock.lock()
        .map_err(|e| EmbeddedKafkaError::io(format!("lock {}", lock_path.display()), e))?;
    // Before any download: what is missing from the machine is the first thing to say.
    let javac = java.javac()?;
    if dir.join(".complete").exists() {
        // Fetched by another process meanwhile, or by an older version of this
        // crate whose support classes differ.
        if !support_is_current(&dir) {
            compile_support(&javac, &dir)?;
        }
        return Ok(dist);
    }
    let partial = cache.join(format!("kafka-{version}.partial"));
    let _ = fs::remove_dir_all(&partial);
    let lib = partial.join("lib");
    fs::create_dir_all(&lib)
        .map_err(|e| EmbeddedKafkaError::io(format!("create {}", lib.display()), e))?;
    tracing::info!(version, cache = %dir.display(), "fetching Apache Kafka's jars (once)");
    match fixed_jars(version) {
        Some(jars) => download_all(jars, &lib, &dir)?,
        None => resolve_with_maven(version, &partial)?,
    }
    compile_support(&javac, &partial)?;
    write_log_configs(&partial)?;
    File::create(partial.join(".complete"))
        .map_err(|e| EmbeddedKafkaError::io("mark the cache complete", e))?;
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&partial, &dir)
        .map_err(|e| EmbeddedKafkaError::io(format!("move into {}", dir.display()), e))?;
    tracing::info!(version, cache = %dir.display(), "Apache Kafka cached");
    Ok(dist)
}

/// A fingerprint of [`SUPPORT_SOURCES`], kept beside the compiled classes.
fn support_fingerprint() -> String {
    let mut hasher = Sha256::new();
    for (name, source) in SUPPORT_SOURCES {
        hasher.update(name.as_bytes());
        hasher.update(source.as_bytes());
    }
    hex(&hasher.finalize())
}

const SUPPORT_STAMP: &str = ".sources";

/// Whether `dir/support` holds the classes of this crate's [`SUPPORT_SOURCES`].
fn support_is_current(dir: &Path) -> bool {
    fs::read_to_string(dir.join("support").join(SUPPORT_STAMP))
        .is_ok_and(|stamp| stamp.trim() == support_fingerprint())
}

/// Compiles [`SUPPORT_SOURCES`] against the jars in `dir/lib` into
/// `dir/support`, each class file moved in by a rename (a tool starting
/// meanwhile sees the old class or the new one), the fingerprint last.
fn compile_support(javac: &Path, dir: &Path) -> Result<(), EmbeddedKafkaError> {
    let support = dir.join("support");
    let build = dir.join(format!("support.{}", std::process::id()));
    let _ = fs::remove_dir_all(&build);
    fs::create_dir_all(&build)
        .map_err(|e| EmbeddedKafkaError::io(format!("create {}", build.display()), e))?;
    fs::create_dir_all(&support)
        .map_err(|e| EmbeddedKafkaError::io(format!("create {}", support.display()), e))?;
    let mut command = Command::new(javac);
    command
        .arg("-nowarn")
        .arg("-d")
        .arg(&build)
        .arg("-cp")
        .arg(format!("{}/*", dir.join("lib").display()));
    for (name, source) in SUPPORT_SOURCES {
        let path = build.join(format!("{name}.java"));
        fs::write(&path, source)
            .map_err(|e| EmbeddedKafkaError::io(format!("write {}", path.display()), e))?;
        command.arg(&path);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| EmbeddedKafkaError::io(format!("run {}", javac.display()), e))?;
    if !output.status.success() {
        let _ = fs::remove_dir_all(&build);
        return Err(EmbeddedKafkaError::Tool {
            tool: "javac (kafka-template-test's Java support classes)".to_owned(),
            status: output.status.to_string(),
            stderr: tail(&String::from_utf8_lossy(&output.stderr), 20),
        });
    }
    let stamp = build.join(SUPPORT_STAMP);
    fs::write(&stamp, support_fingerprint())
        .map_err(|e| EmbeddedKafkaError::io(format!("write {}", stamp.display()), e))?;
    let entries = fs::read_dir(&build)
        .map_err(|e| EmbeddedKafkaError::io(format!("list {}", build.display()), e))?;
    let mut classes = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| EmbeddedKafkaError::io(format!("list {}", build.display()), e))?
            .path();
        if path.extension().is_some_and(|e| e == "class") {
            classes.push(path);
        }
    }
    classes.push(stamp);
    for from in classes {
        let to = support.join(from.file_name().unwrap_or_default());
        fs::rename(&from, &to)
            .map_err(|e| EmbeddedKafkaError::io(format!("move into {}", to.display()), e))?;
    }
    let _ = fs::remove_dir_all(&build);
    Ok(())
}

fn maven_repo() -> String {
    std::env::var("KAFKA_TEMPLATE_TEST_MAVEN_REPO")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .map_or_else(
            || MAVEN_CENTRAL.to_owned(),
            |r| r.trim().trim_end_matches('/').to_owned(),
        )
}

fn download_all(jars: &[Jar], lib: &Path, cache: &Path) -> Result<(), EmbeddedKafkaError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(300)))
        .user_agent("kafka-template-test")
        // The system's trust store: a company proxy's or mirror's CA counts.
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into();
    let repo = maven_repo();
    for (group, artifact, version, sha256) in jars {
        let url = format!(
            "{repo}/{}/{artifact}/{version}/{artifact}-{version}.jar",
            group.replace('.', "/")
        );
        let bytes = download(&agent, &url)?;
        let actual = hex(&Sha256::digest(&bytes));
        if actual != *sha256 {
            return Err(EmbeddedKafkaError::Checksum {
                url,
                expected: (*sha256).to_owned(),
                actual,
                cache: cache.to_path_buf(),
            });
        }
        let path = lib.join(format!("{artifact}-{version}.jar"));
        File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| EmbeddedKafkaError::io(format!("write {}", path.display()), e))?;
    }
    Ok(())
}

fn download(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, EmbeddedKafkaError> {
    let failed = |reason: String| EmbeddedKafkaError::Download {
        url: url.to_owned(),
        reason,
    };
    let mut response = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
    let mut bytes = Vec::new();
    response
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .reader()
        .read_to_end(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn resolve_with_maven(version: &str, partial: &Path) -> Result<(), EmbeddedKafkaError> {
    let Some(mvn) = crate::java::on_path("mvn") else {
        return Err(EmbeddedKafkaError::UnsupportedVersion {
            version: version.to_owned(),
            known: KNOWN_VERSIONS.join(", "),
        });
    };
    // The release tarball adds log4j2; the broker POM carries no binding.
    let logging = ["log4j-api", "log4j-core", "log4j-slf4j-impl"]
        .map(|a| {
            format!(
                "<dependency><groupId>org.apache.logging.log4j</groupId>\
                 <artifactId>{a}</artifactId><version>2.24.3</version></dependency>"
            )
        })
        .concat();
    let pom = format!(
        r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-template-test</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{version}</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions></dependency>
    {logging}
  </dependencies>
</project>
"#
    );
    let pom_path = partial.join("pom.xml");
    fs::write(&pom_path, pom)
        .map_err(|e| EmbeddedKafkaError::io(format!("write {}", pom_path.display()), e))?;
    let log = partial.join("mvn.log");
    let log_file = File::create(&log)
        .map_err(|e| EmbeddedKafkaError::io(format!("create {}", log.display()), e))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| EmbeddedKafkaError::io("clone the Maven log", e))?;
    let status = Command::new(mvn)
        .args(["-B", "-q", "-f"])
        .arg(&pom_path)
        .arg("dependency:copy-dependencies")
        .arg(format!(
            "-DoutputDirectory={}",
            partial.join("lib").display()
        ))
        .arg("-DincludeScope=runtime")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .status()
        .map_err(|e| EmbeddedKafkaError::io("run mvn", e))?;
    if !status.success() {
        return Err(EmbeddedKafkaError::Maven {
            version: version.to_owned(),
            log,
        });
    }
    Ok(())
}

fn write_log_configs(dir: &Path) -> Result<(), EmbeddedKafkaError> {
    let broker = "status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = WARN
";
    let tools = "status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
";
    for (name, text) in [
        ("broker-log4j2.properties", broker),
        ("tools-log4j2.properties", tools),
    ] {
        let path = dir.join(name);
        fs::write(&path, text)
            .map_err(|e| EmbeddedKafkaError::io(format!("write {}", path.display()), e))?;
    }
    Ok(())
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_version_has_a_pinned_jar_list() {
        for v in KNOWN_VERSIONS {
            let jars = fixed_jars(v).expect("a jar list");
            assert!(jars.iter().any(|(_, a, _, _)| *a == "kafka_2.13"));
            assert!(jars.iter().any(|(_, a, _, _)| *a == "kafka-tools"));
            assert!(jars.iter().all(|(_, _, _, h)| h.len() == 64));
        }
        assert!(KNOWN_VERSIONS.contains(&DEFAULT_KAFKA_VERSION));
    }

    #[test]
    fn the_major_version_is_read_from_the_version() {
        assert_eq!(major_of("4.1.1"), 4);
        assert_eq!(major_of("3.9.1"), 3);
        assert_eq!(major_of("nonsense"), 0);
    }
}
