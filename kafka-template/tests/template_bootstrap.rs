//! A `bootstrap-servers` that does not resolve is refused when the template
//! starts its producer (Java's "No resolvable bootstrap urls"), named as the
//! user wrote it with the file and line it came from.

mod config_common;

use config_common::ConfigDir;
use kafka_template::{KafkaTemplate, TemplateError};

#[test]
fn an_unresolvable_bootstrap_host_names_the_key_file_and_line() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  kafka:\n    client-id: shop\n    bootstrap-servers: no-such-broker.invalid:9092\n",
    );
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    let error = match KafkaTemplate::builder().config(config).build() {
        Ok(_) => panic!("the host does not resolve"),
        Err(error) => error,
    };
    assert!(matches!(error, TemplateError::Config(_)), "{error:?}");
    let message = error.to_string();
    let file = dir.path().join("application.yml");
    let expected_start = format!(
        "invalid value 'no-such-broker.invalid:9092' for spring.kafka.bootstrap-servers (from {}:4): \
         expected host:port pairs this machine can resolve, at least one (no-such-broker.invalid:9092 (",
        file.display()
    );
    assert!(
        message.starts_with(&expected_start),
        "{message}\n---\n{expected_start}"
    );
    assert_eq!(format!("{error:?}"), message, "Debug reads as Display");
}
