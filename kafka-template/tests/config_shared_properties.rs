//! Spring's `spring.kafka.properties` are common to producers, consumers and
//! admin clients: a consumer's key there (as a Confluent Cloud snippet has)
//! is left to them with a warning, as the Java producer warns; a typo of a
//! producer's key, or a consumer's key in a producer's own `properties`, is
//! still an error.

mod config_common;
mod log_capture;

use config_common::{ConfigDir, messages, value};
use log_capture::capture_logs;

#[test]
fn a_consumers_key_among_the_shared_properties_is_left_with_a_warning() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  kafka:\n    bootstrap-servers: broker:9092\n    properties:\n      \
         session.timeout.ms: 45000\n      group.id: orders\n      linger.ms: 7\n",
    );
    let (config, logs) = capture_logs(|| dir.builder().load());
    let config = config.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("7"));
    assert_eq!(value(&config, None, "session.timeout.ms"), None);
    assert_eq!(value(&config, None, "group.id"), None);
    let file = dir.file("application.yml");
    for (key, line) in [("session.timeout.ms", 5), ("group.id", 6)] {
        let expected = format!(
            "'spring.kafka.properties.{key}' (from {}:{line}) is not a producer config",
            file.display()
        );
        assert!(
            logs.contains(" WARN ") && logs.contains(&expected),
            "{logs}"
        );
    }
    assert!(!logs.contains("45000"), "values are not logged: {logs}");
}

#[test]
fn a_typo_or_a_consumers_key_in_a_producers_own_properties_is_an_error() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  kafka:\n    properties:\n      linger.msx: 7\n    producer:\n      \
         properties:\n        session.timeout.ms: 45000\n",
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages(dir.builder().load()),
        [
            format!(
                "unknown key spring.kafka.properties.linger.msx (from {}:4); did you mean \
                 spring.kafka.properties.linger.ms?",
                file.display()
            ),
            format!(
                "unknown key spring.kafka.producer.properties.session.timeout.ms (from {}:7)",
                file.display()
            ),
        ]
    );
}
