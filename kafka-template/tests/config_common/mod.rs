//! Shared helpers for the `config_*` tests: a temporary config directory and a
//! builder that never reads the process environment.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::{Path, PathBuf};

use kafka_template::config::{KafkaConfig, KafkaConfigBuilder, ResolvedProperty};

/// A temporary directory holding `application*.yml` files.
pub struct ConfigDir {
    dir: tempfile::TempDir,
}

impl ConfigDir {
    pub fn new() -> Self {
        ConfigDir {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// Writes `text` to `name` (which may be in a subdirectory such as `config/`).
    pub fn write(&self, name: &str, text: &str) -> &Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directory");
        }
        std::fs::write(path, text).expect("write fixture");
        self
    }

    /// Copies a file from `tests/fixtures/`.
    pub fn copy_fixture(&self, fixture: &str, name: &str) -> &Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        let text = std::fs::read_to_string(&source).expect("read fixture");
        self.write(name, &text)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of a file in the directory, as origins show it.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A builder reading this directory, with an empty environment.
    pub fn builder(&self) -> KafkaConfigBuilder {
        KafkaConfig::builder()
            .dir(self.path())
            .env_source(Vec::<(String, String)>::new())
    }
}

/// The Java property `java` of a producer, if set.
pub fn property(
    config: &KafkaConfig,
    producer: Option<&str>,
    java: &str,
) -> Option<ResolvedProperty> {
    config
        .producer_properties(producer)
        .expect("producer exists")
        .into_iter()
        .find(|p| p.key == java)
}

/// The value of the Java property `java` of a producer.
pub fn value(config: &KafkaConfig, producer: Option<&str>, java: &str) -> Option<String> {
    property(config, producer, java).map(|p| p.value)
}

/// The error messages of a failed load, one per issue.
pub fn messages(
    result: Result<KafkaConfig, kafka_template::config::ConfigLoadError>,
) -> Vec<String> {
    match result {
        Ok(config) => panic!("expected the load to fail, got:\n{}", config.describe()),
        Err(error) => error.issues().iter().map(|i| i.to_string()).collect(),
    }
}

/// Loads `yaml` as `application.yml` with these environment variables.
pub fn load_yaml(yaml: &str, env: &[(&str, &str)]) -> (ConfigDir, KafkaConfig) {
    let dir = ConfigDir::new();
    dir.write("application.yml", yaml);
    let config = dir
        .builder()
        .env_source(env.iter().copied())
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, config)
}

/// Loads `yaml` as `application.yml` with these variables, expecting errors;
/// returns the directory (for file paths) and the messages.
pub fn load_yaml_errors(yaml: &str, env: &[(&str, &str)]) -> (ConfigDir, Vec<String>) {
    let dir = ConfigDir::new();
    dir.write("application.yml", yaml);
    let messages = messages(dir.builder().env_source(env.iter().copied()).load());
    (dir, messages)
}

/// A configuration whose default producer names `serializer` in both
/// serializer lines, with the fresh in-process registry `mock://<scope>` and
/// `extra` lines under its `properties`.
pub fn registry_config(serializer: &str, scope: &str, extra: &str) -> (ConfigDir, KafkaConfig) {
    kafka_template::schema_registry::MockRegistry::drop_scope(scope);
    load_yaml(
        &format!(
            "spring:\n  kafka:\n    producer:\n      key-serializer: {serializer}\n      value-serializer: {serializer}\n      properties:\n        schema.registry.url: mock://{scope}\n{extra}"
        ),
        &[],
    )
}

/// A client of the in-process registry `mock://<scope>`.
pub fn mock_registry(scope: &str) -> kafka_template::schema_registry::SchemaRegistryClient {
    use kafka_template::schema_registry::{RegistryConfig, SchemaRegistryClient};
    SchemaRegistryClient::new(
        RegistryConfig::from_properties([("schema.registry.url", &*format!("mock://{scope}"))])
            .expect("a mock:// URL"),
    )
    .expect("a mock registry client")
}
