//! The exact error messages, each with the key, the value, its origin (file and
//! line, variable, or builder) and what is allowed; all errors at once.

mod config_common;

use config_common::{ConfigDir, load_yaml_errors, messages};

#[test]
fn invalid_value_from_a_profile_file() {
    let dir = ConfigDir::new();
    dir.write(
        "config/application-prod.yml",
        "# production\nkafka:\n  bootstrap-servers: broker:9092\n  client-id: shop\n\n  producer:\n    acks: fast\n",
    );
    let result = kafka_template::KafkaConfig::builder()
        .dir(dir.path().join("config"))
        .profiles(["prod"])
        .env_source(Vec::<(String, String)>::new())
        .load();
    assert_eq!(
        messages(result),
        [format!(
            "invalid value 'fast' for kafka.producer.acks (from {}:7): expected one of all, -1, 0, 1",
            dir.file("config/application-prod.yml").display()
        )]
    );
}

#[test]
fn unknown_producer_key_with_did_you_mean() {
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  producer:\n    acks: all\n    batch-sise: 16KB\n",
        &[],
    );
    assert_eq!(
        messages,
        [format!(
            "unknown key kafka.producer.batch-sise (from {}:4); did you mean kafka.producer.batch-size?",
            dir.file("application.yml").display()
        )]
    );
}

/// The tracing keys are known, so their misspellings get a "did you mean".
#[test]
fn misspelled_tracing_keys_have_did_you_mean() {
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    template:\n      observation-enable: true\n      trace-propagation-enabld: false\n",
        &[],
    );
    let file = dir.file("application.yml");
    let file = file.display();
    assert_eq!(
        messages,
        [
            format!(
                "unknown key spring.kafka.template.observation-enable (from {file}:4); \
                 did you mean spring.kafka.template.observation-enabled?"
            ),
            format!(
                "unknown key spring.kafka.template.trace-propagation-enabld (from {file}:5); \
                 did you mean spring.kafka.template.trace-propagation-enabled?"
            ),
        ]
    );
}

#[test]
fn unknown_keys_are_spelled_as_written() {
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producr:\n      acks: all\n    producer:\n      speed: 11\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages,
        [
            format!(
                "unknown key spring.kafka.producr.acks (from {}:4); did you mean spring.kafka.producer.acks?",
                file.display()
            ),
            format!(
                "unknown key spring.kafka.producer.speed (from {}:6); known keys there: acks, \
                 batch-size, bootstrap-servers, buffer-memory, client-id, compression-type, \
                 key-serializer, linger, retries, transaction-id-prefix, value-serializer, \
                 properties, security, ssl",
                file.display()
            ),
        ]
    );
}

/// The suggestion keeps the root and the place as written.
#[test]
fn unknown_java_property_with_did_you_mean() {
    for (yaml, written) in [
        (
            "kafka:\n  producer:\n    properties:\n      enable.idempotense: true\n",
            "kafka.producer.properties.",
        ),
        (
            "spring:\n  kafka:\n    properties:\n      enable.idempotense: true\n",
            "spring.kafka.properties.",
        ),
    ] {
        let (dir, messages) = load_yaml_errors(yaml, &[]);
        assert_eq!(
            messages,
            [format!(
                "unknown key {written}enable.idempotense (from {}:4); did you mean \
                 {written}enable.idempotence?",
                dir.file("application.yml").display()
            )]
        );
    }
}

#[test]
fn invalid_values_from_the_environment_and_the_builder() {
    let dir = ConfigDir::new();
    assert_eq!(
        messages(
            dir.builder()
                .env_source([("KAFKA_PRODUCER_BATCH_SIZE", "lots")])
                .load()
        ),
        [
            "invalid value 'lots' for kafka.producer.batch-size (from env KAFKA_PRODUCER_BATCH_SIZE): \
          expected a size in bytes: a whole number (bytes) or one with a unit B, KB, MB, GB or TB \
          (1KB = 1024 bytes), e.g. 16KB or 32MB"
        ]
    );
    assert_eq!(
        messages(
            dir.builder()
                .override_value("kafka.producer.compression-type", "brotli")
                .load()
        ),
        [
            "invalid value 'brotli' for kafka.producer.compression-type (from builder override): \
          expected one of none, gzip, snappy, lz4, zstd"
        ]
    );
    assert_eq!(
        messages(
            dir.builder()
                .override_value("kafka.producer.linger", "soon")
                .load()
        ),
        [
            "invalid value 'soon' for kafka.producer.linger (from builder override): expected a \
          duration: a whole number of milliseconds or one with a unit ns, us, ms, s, m, h or d \
          (e.g. 5ms, 30s, 2m), or ISO-8601 like PT30S"
        ]
    );
}

#[test]
fn converted_values_show_what_they_became() {
    let (dir, messages) = load_yaml_errors("kafka.producer.batch-size: 4GB\n", &[]);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let expected_start = format!(
        "invalid value '4GB' for kafka.producer.batch-size (from {}:1): expected ",
        dir.file("application.yml").display()
    );
    assert!(messages[0].starts_with(&expected_start), "{}", messages[0]);
    assert!(
        messages[0].ends_with("(4GB is 4294967296)"),
        "{}",
        messages[0]
    );
}

#[test]
fn a_value_given_to_a_section() {
    let (dir, messages) = load_yaml_errors("kafka:\n  template: fast\n", &[]);
    assert_eq!(
        messages,
        [format!(
            "kafka.template (from {}:2) is a section, not a value; expected keys under it: \
             default-topic, close-timeout, transaction-id-prefix, allow-non-transactional, \
             observation-enabled, micrometer-enabled, trace-propagation-enabled",
            dir.file("application.yml").display()
        )]
    );
}

#[test]
fn invalid_yaml_has_file_line_and_column() {
    let (dir, messages) = load_yaml_errors("kafka:\n  producer:\n    acks: [all\n", &[]);
    assert_eq!(messages.len(), 1);
    let prefix = format!("{}:", dir.file("application.yml").display());
    assert!(messages[0].starts_with(&prefix), "{}", messages[0]);
    assert!(messages[0].contains(": invalid YAML: "), "{}", messages[0]);

    dir.write(
        "application.yml",
        "kafka:\n  client-id: a\n  client-id: b\n",
    );
    assert_eq!(
        super_messages(&dir),
        [format!(
            "{}:3:1: invalid YAML: duplicate key 'client-id' (first on line 2)",
            dir.file("application.yml").display()
        )]
    );
}

fn super_messages(dir: &ConfigDir) -> Vec<String> {
    messages(dir.builder().load())
}

#[test]
fn security_settings_are_checked_at_load_and_hide_secrets() {
    // A JAAS text without its control flag, with PLAIN over SASL_PLAINTEXT.
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  security:\n    protocol: SASL_PLAINTEXT\n  properties:\n    sasl.mechanism: PLAIN\n    sasl.jaas.config: 'PlainLoginModule username=\"me\" password=\"hunter2\";'\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with(&format!(
            "invalid value '[hidden]' for kafka.properties.sasl.jaas.config (from {file}:6)"
        )),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains("control flag"), "{}", messages[0]);

    // A trust store that is not there: named as resolved next to the file.
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  security:\n    protocol: SSL\n  ssl:\n    trust-store-location: certs/missing.p12\n    trust-store-password: hunter2\n",
        &[],
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    let expected = dir.file("certs/missing.p12").display().to_string();
    assert!(
        messages[0].contains("kafka.ssl.trust-store-location") && messages[0].contains(&expected),
        "{}",
        messages[0]
    );
    // Java's default sasl.mechanism (GSSAPI) is refused with what to use instead.
    let (_, messages) = load_yaml_errors("kafka:\n  security:\n    protocol: SASL_SSL\n", &[]);
    assert!(messages[0].contains("GSSAPI"), "{messages:?}");
    for message in &messages {
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka:\n  producer:\n    acks: fast\n    batch-sise: 1\n    linger: soon\n  template:\n    default-topic: ${kafka.topics.nope}\n",
    );
    let error = dir
        .builder()
        .env_source([("KAFKA_PRODUCER_BUFFER_MEMORY", "a lot")])
        .load()
        .unwrap_err();
    let file = dir.file("application.yml").display().to_string();
    let expected = [
        format!(
            "unknown key kafka.producer.batch-sise (from {file}:4); did you mean kafka.producer.batch-size?"
        ),
        format!(
            "cannot resolve placeholder '${{kafka.topics.nope}}' in kafka.template.default-topic \
             (from {file}:7): set kafka.topics.nope or give a default as ${{kafka.topics.nope:default}}"
        ),
        "invalid value 'a lot' for kafka.producer.buffer-memory (from env KAFKA_PRODUCER_BUFFER_MEMORY): \
         expected a size in bytes: a whole number (bytes) or one with a unit B, KB, MB, GB or TB \
         (1KB = 1024 bytes), e.g. 16KB or 32MB"
            .to_owned(),
        format!(
            "invalid value 'soon' for kafka.producer.linger (from {file}:5): expected a duration: a \
             whole number of milliseconds or one with a unit ns, us, ms, s, m, h or d (e.g. 5ms, \
             30s, 2m), or ISO-8601 like PT30S"
        ),
        format!(
            "invalid value 'fast' for kafka.producer.acks (from {file}:3): expected one of all, -1, 0, 1"
        ),
    ];
    let issues: Vec<String> = error.issues().iter().map(|i| i.to_string()).collect();
    assert_eq!(issues, expected);
    assert_eq!(
        error.to_string(),
        format!("5 configuration errors:\n  - {}", expected.join("\n  - "))
    );
}

#[test]
fn kafka_core_errors_are_all_collected_too() {
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  producer:\n    acks: fast\n    compression-type: brotli\n    properties:\n      max.block.ms: never\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages.contains(&format!(
        "invalid value 'fast' for kafka.producer.acks (from {file}:3): expected one of all, -1, 0, 1"
    )));
    assert!(messages.contains(&format!(
        "invalid value 'brotli' for kafka.producer.compression-type (from {file}:4): expected one \
         of none, gzip, snappy, lz4, zstd"
    )));
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!(
                "invalid value 'never' for kafka.producer.properties.max.block.ms (from {file}:6): expected "
            ))),
        "{messages:?}"
    );
}

#[test]
fn a_misspelled_root_is_an_error_once_at_its_line() {
    let (dir, messages) = load_yaml_errors(
        "# typo in the root\nkafak:\n  producer:\n    acks: all\n    linger: 5ms\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(
        messages,
        [format!(
            "unknown key kafak (from {file}:2); did you mean kafka?"
        )]
    );

    let (dir, messages) = load_yaml_errors(
        "spring:\n  application:\n    name: shop\n  kafak:\n    bootstrap-servers: b:9092\nsprng.kafka.producer.acks: all\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(
        messages,
        [
            format!("unknown key spring.kafak (from {file}:4); did you mean spring.kafka?"),
            format!("unknown key sprng.kafka (from {file}:6); did you mean spring.kafka?"),
        ]
    );
}

#[test]
fn a_builder_override_under_a_misspelled_root_is_an_error() {
    assert_eq!(
        messages(
            ConfigDir::new()
                .builder()
                .override_value("sprng.kafka.producer.acks", "all")
                .override_value("app.topics.orders", "orders")
                .load()
        ),
        [
            "unknown key sprng.kafka.producer.acks (from builder override); did you mean \
             spring.kafka.producer.acks?"
        ]
    );
}

#[test]
fn names_that_only_resemble_the_root_are_the_applications() {
    // A second cluster of the application's own, and a near miss with nothing
    // of ours under it, are application keys.
    let (_dir, config) = config_common::load_yaml(
        "kafka2:\n  bootstrap-servers: other:9092\nkafak:\n  favourite-author: Franz\n",
        &[],
    );
    assert_eq!(
        config.lookup("kafka2.bootstrap-servers"),
        Some("other:9092")
    );
    assert_eq!(config.lookup("kafak.favourite-author"), Some("Franz"));
}

#[test]
fn a_misspelled_variable_prefix_is_an_error() {
    let dir = ConfigDir::new();
    assert_eq!(
        messages(
            dir.builder()
                .env_source([
                    ("KAFAK_PRODUCER_ACKS", "all"),
                    ("SPRNG_KAFKA_BOOTSTRAP_SERVERS", "b:9092"),
                    ("KAFK_HOME", "/opt/kafka"),
                ])
                .load()
        ),
        [
            "environment variable KAFAK_PRODUCER_ACKS is not read; did you mean KAFKA_PRODUCER_ACKS?",
            "environment variable SPRNG_KAFKA_BOOTSTRAP_SERVERS is not read; did you mean \
             SPRING_KAFKA_BOOTSTRAP_SERVERS?",
        ]
    );
}

#[test]
fn variables_are_named_with_their_own_root() {
    let dir = ConfigDir::new();
    assert_eq!(
        messages(
            dir.builder()
                .env_source([
                    ("SPRING_KAFKA_PRODUCER_ACKS", "fast"),
                    ("SPRING_KAFKA_PRODUCER_BATCH_SIZ", "1"),
                ])
                .load()
        ),
        [
            "unknown key spring.kafka.producer.batch.siz (from env SPRING_KAFKA_PRODUCER_BATCH_SIZ)",
            "invalid value 'fast' for spring.kafka.producer.acks (from env \
             SPRING_KAFKA_PRODUCER_ACKS): expected one of all, -1, 0, 1",
        ]
    );
}

#[test]
fn transaction_settings_name_their_key_and_line() {
    // A prefix becomes the pool's transactional.id: kafka-core's rule that it
    // needs idempotence is reported at the prefix's line; a bad
    // allow-non-transactional is reported at its own.
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producer:\n      transaction-id-prefix: tx-\n      properties:\n        enable.idempotence: false\n    template:\n      allow-non-transactional: maybe\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(
        messages,
        [
            format!(
                "invalid value 'maybe' for spring.kafka.template.allow-non-transactional (from \
                 {file}:8): expected true or false (also on/off, yes/no, 1/0, as Spring converts \
                 booleans)"
            ),
            format!(
                "transactional.id requires idempotence, but enable.idempotence=false; remove \
                 transactional.id or enable idempotence \
                 (spring.kafka.producer.transaction-id-prefix from {file}:4)"
            ),
        ]
    );
    // An empty prefix (`${TX_PREFIX:}` unset) asks for nothing.
    let (_dir, config) =
        config_common::load_yaml("kafka.producer.transaction-id-prefix: ''\n", &[]);
    assert_eq!(
        config
            .template_settings(None)
            .unwrap()
            .transaction_id_prefix,
        None
    );
}

#[test]
fn java_class_settings_point_at_the_template_builder() {
    let (dir, messages) = load_yaml_errors(
        "spring.kafka.producer.properties.interceptor.classes: com.acme.AuditInterceptor\nkafka:\n  properties:\n    partitioner.class: com.acme.RegionPartitioner\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(
        messages,
        [
            format!(
                "spring.kafka.producer.properties.interceptor.classes (from {file}:1) is not \
                 supported: it names Java classes, which cannot be loaded here; implement \
                 kafka_template::ProducerInterceptor and add it with \
                 KafkaTemplate::builder().interceptor(...)"
            ),
            format!(
                "kafka.properties.partitioner.class (from {file}:4) is not supported: it names a \
                 Java class, which cannot be loaded here; implement \
                 kafka_template::core::Partitioner and give it to \
                 KafkaTemplate::builder().partitioner(...)"
            ),
        ]
    );
}

/// `fn main() -> Result<(), Box<dyn Error>>` prints the error's `Debug`.
#[test]
fn debug_reads_like_display() {
    let (_dir, one) = load_yaml_errors("kafka.producer.acks: fast\n", &[]);
    let error = ConfigDir::new()
        .builder()
        .override_value("kafka.producer.acks", "fast")
        .override_value("kafka.producer.linger", "soon")
        .load()
        .unwrap_err();
    assert_eq!(format!("{error:?}"), error.to_string());
    assert!(format!("{error:?}").starts_with("2 configuration errors:\n  - "));
    let boxed: Box<dyn std::error::Error> = Box::new(error.clone());
    assert_eq!(format!("{boxed:?}"), error.to_string());
    assert!(format!("{error:#?}").starts_with("ConfigLoadError {\n    issues: ["));
    assert_eq!(one.len(), 1);
}

#[test]
fn a_private_key_that_is_not_pem_is_hidden_in_every_spelling_of_its_key() {
    // Key material pasted without its PEM armour: refused, and not shown.
    for key in ["key-store-key", "keyStoreKey", "key_store_key"] {
        let (_dir, messages) = load_yaml_errors(
            &format!(
                "spring:\n  kafka:\n    security:\n      protocol: SSL\n    ssl:\n      {key}: \"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\"\n      key-store-certificate-chain: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\"\n"
            ),
            &[],
        );
        assert!(!messages.is_empty(), "{key}: the broken key is an error");
        for message in &messages {
            assert!(
                !message.contains("MIIEvQIBADAN") && message.contains("[hidden]"),
                "{key}: {message}"
            );
        }
    }
}

#[test]
fn registry_url_credentials_are_hidden_in_errors() {
    let (_dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producer:\n      value-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer\n      properties:\n        schema.registry.url: https://fred:s3cret@sr1:8081,sr2:8081\n",
        &[],
    );
    assert!(!messages.is_empty(), "sr2:8081 has no scheme");
    for message in &messages {
        assert!(!message.contains("s3cret"), "{message}");
    }
    assert!(
        messages.iter().any(|m| m.contains("[hidden]@sr1:8081")),
        "{messages:?}"
    );
}
