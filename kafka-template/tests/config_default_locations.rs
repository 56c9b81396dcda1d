//! The default locations: the working directory, then `config/` (which wins).
//!
//! This binary holds a single test because it changes the working directory,
//! which is shared by every test of a process.

mod log_capture;

use kafka_template::config::{KafkaConfig, Origin};
use log_capture::capture_logs;

#[test]
fn working_directory_then_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("application.yml"),
        "kafka:\n  client-id: from-cwd\n  producer:\n    acks: all\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config/application.yml"),
        "kafka:\n  client-id: from-config-dir\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config/application-prod.yml"),
        "# Production overrides.\nkafka:\n  bootstrap-servers: broker-1:9092\n  client-id: shop\n\n  producer:\n    acks: fast\n",
    )
    .unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let no_env = Vec::<(String, String)>::new();

    let config = KafkaConfig::builder()
        .env_source(no_env.clone())
        .load()
        .unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("from-config-dir"));
    assert_eq!(
        config.origin("kafka.client-id"),
        Some(&Origin::File {
            path: "config/application.yml".into(),
            line: 2
        })
    );
    assert_eq!(
        config.origin("kafka.producer.acks"),
        Some(&Origin::File {
            path: "application.yml".into(),
            line: 4
        })
    );

    // Spring's config/*/ (a mounted secret, say): after config/ itself.
    std::fs::create_dir(dir.path().join("config/kafka")).unwrap();
    std::fs::write(
        dir.path().join("config/kafka/application.yml"),
        "kafka:\n  bootstrap-servers: mounted:9092\n",
    )
    .unwrap();
    let config = KafkaConfig::builder()
        .env_source(no_env.clone())
        .load()
        .unwrap();
    assert_eq!(
        config.lookup("kafka.bootstrap-servers"),
        Some("mounted:9092")
    );
    assert_eq!(config.lookup("kafka.client-id"), Some("from-config-dir"));

    let error = KafkaConfig::builder()
        .env_source(no_env)
        .profiles(["prod"])
        .load()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid value 'fast' for kafka.producer.acks (from config/application-prod.yml:7): \
         expected one of all, -1, 0, 1"
    );

    // Nothing in the default locations: the warning names them in full.
    let empty = tempfile::tempdir().unwrap();
    std::env::set_current_dir(empty.path()).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let (config, logs) = capture_logs(|| {
        KafkaConfig::builder()
            .env_source(Vec::<(String, String)>::new())
            .load()
    });
    assert!(config.is_ok());
    let searched = [
        "application.yaml",
        "application.yml",
        "application.properties",
        "config/application.yaml",
        "config/application.yml",
        "config/application.properties",
    ]
    .map(|file| cwd.join(file).display().to_string())
    .join(", ");
    assert!(
        logs.contains(&format!(
            "no application.properties, application.yml or application.yaml found \
             (searched {searched}); "
        )),
        "{logs}"
    );
}
