//! No `application.properties`, `.yml` or `.yaml` where one was looked for: a
//! warning naming every place searched, and a configuration from the
//! environment and defaults.

mod config_common;
mod log_capture;

use config_common::{ConfigDir, value};
use log_capture::capture_logs;

#[test]
fn a_warning_names_every_place_searched() {
    let first = ConfigDir::new();
    let second = ConfigDir::new();
    second.write("application-prod.yml", "kafka.client-id: prod\n");
    let (config, logs) = capture_logs(|| {
        kafka_template::KafkaConfig::builder()
            .dir(first.path())
            .dir(second.path())
            .env_source([("KAFKA_PRODUCER_ACKS", "all")])
            .load()
    });
    let config = config.unwrap();
    let expected = format!(
        "no application.properties, application.yml or application.yaml found (searched {}, {}, \
         {}, {}, {}, {}); using the environment and defaults only (set KAFKA_CONFIG_LOCATION \
         to read another directory)",
        first.file("application.yaml").display(),
        first.file("application.yml").display(),
        first.file("application.properties").display(),
        second.file("application.yaml").display(),
        second.file("application.yml").display(),
        second.file("application.properties").display(),
    );
    assert!(logs.contains(" WARN "), "{logs}");
    assert!(logs.contains(&expected), "{logs}");
    // The environment and the defaults still apply.
    assert_eq!(value(&config, None, "acks").as_deref(), Some("all"));
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("localhost:9092")
    );
}

#[test]
fn no_warning_when_a_file_is_found() {
    for name in [
        "application.yml",
        "application.yaml",
        "application.properties",
    ] {
        let dir = ConfigDir::new();
        let text = if name.ends_with("properties") {
            "kafka.client-id=shop\n"
        } else {
            "kafka.client-id: shop\n"
        };
        dir.write(name, text);
        let (config, logs) = capture_logs(|| dir.builder().load());
        assert_eq!(config.unwrap().lookup("kafka.client-id"), Some("shop"));
        assert!(!logs.contains("no application."), "{name}: {logs}");
    }
    // An empty file counts as found: it was put there on purpose.
    let dir = ConfigDir::new();
    dir.write("application.yml", "");
    let (config, logs) = capture_logs(|| dir.builder().load());
    assert!(config.is_ok());
    assert!(!logs.contains("no application."), "{logs}");
}
