//! Environment variables with Spring's mapping, always from an injected map
//! (the process environment is shared by parallel tests).

mod config_common;

use config_common::{ConfigDir, load_yaml, load_yaml_errors, messages, property, value};
use kafka_template::config::Origin;

fn env_origin(var: &str) -> Origin {
    Origin::Env {
        var: var.to_owned(),
    }
}

#[test]
fn kafka_and_spring_kafka_variables_set_spring_keys() {
    let dir = ConfigDir::new();
    for var in [
        "KAFKA_PRODUCER_BATCH_SIZE",
        "SPRING_KAFKA_PRODUCER_BATCH_SIZE",
        // Spring's canonical form drops the dash.
        "KAFKA_PRODUCER_BATCHSIZE",
    ] {
        let config = dir.builder().env_source([(var, "32KB")]).load().unwrap();
        assert_eq!(
            config.lookup("kafka.producer.batch-size"),
            Some("32KB"),
            "{var}"
        );
        let batch = property(&config, None, "batch.size").unwrap();
        assert_eq!(batch.value, "32768", "{var}");
        assert_eq!(batch.origin, env_origin(var));
        assert_eq!(batch.config_key, "kafka.producer.batch-size");
    }
}

/// Spring reads variable names case-insensitively, and so does this loader: a
/// lowercase or camel-case variable sets the same key, and keeps its own
/// spelling as the origin.
#[test]
fn lowercase_and_camel_case_variables() {
    let dir = ConfigDir::new();
    for var in ["kafka_producer_batch_size", "Kafka_Producer_batchSize"] {
        let config = dir.builder().env_source([(var, "1024")]).load().unwrap();
        assert_eq!(
            value(&config, None, "batch.size").as_deref(),
            Some("1024"),
            "{var}"
        );
        assert_eq!(
            config.origin("kafka.producer.batchSize"),
            Some(&env_origin(var))
        );
    }
}

#[test]
fn a_variable_overrides_a_file_key_however_it_is_spelled() {
    let (_dir, config) = load_yaml(
        "kafka:\n  producer:\n    batchSize: 100\n",
        &[("KAFKA_PRODUCER_BATCH_SIZE", "200")],
    );
    assert_eq!(value(&config, None, "batch.size").as_deref(), Some("200"));
    assert_eq!(
        config
            .producer_properties(None)
            .unwrap()
            .iter()
            .filter(|p| p.key == "batch.size")
            .count(),
        1
    );
}

#[test]
fn java_properties_from_variables_get_dotted_names() {
    let (_dir, config) = load_yaml(
        "kafka:\n  producer:\n    properties:\n      enable.idempotence: true\n",
        &[
            ("KAFKA_PRODUCER_PROPERTIES_ENABLE_IDEMPOTENCE", "false"),
            ("KAFKA_PROPERTIES_MAX_BLOCK_MS", "5000"),
        ],
    );
    let idempotence = property(&config, None, "enable.idempotence").unwrap();
    assert_eq!(idempotence.value, "false");
    assert_eq!(
        idempotence.origin,
        env_origin("KAFKA_PRODUCER_PROPERTIES_ENABLE_IDEMPOTENCE")
    );
    assert_eq!(
        value(&config, None, "max.block.ms").as_deref(),
        Some("5000")
    );
}

#[test]
fn names_from_files_are_matched_for_maps_and_named_producers() {
    let (_dir, config) = load_yaml(
        "kafka:\n  topics:\n    order-events: orders.v1\n  producers:\n    bulkOrders:\n      linger: 5ms\n",
        &[
            ("KAFKA_TOPICS_ORDER_EVENTS", "orders.v2"),
            ("KAFKA_PRODUCERS_BULK_ORDERS_LINGER", "50ms"),
        ],
    );
    assert_eq!(
        config.lookup("kafka.topics.order-events"),
        Some("orders.v2")
    );
    assert_eq!(config.producer_names(), ["bulkOrders"]);
    assert_eq!(
        value(&config, Some("bulkOrders"), "linger.ms").as_deref(),
        Some("50")
    );
}

#[test]
fn a_variable_can_create_a_named_producer() {
    let dir = ConfigDir::new();
    let config = dir
        .builder()
        .env_source([("KAFKA_PRODUCERS_AUDIT_ACKS", "0")])
        .load()
        .unwrap();
    assert_eq!(config.producer_names(), ["audit"]);
    assert_eq!(value(&config, Some("audit"), "acks").as_deref(), Some("0"));
}

#[test]
fn application_keys_take_spring_named_variables() {
    let (_dir, config) = load_yaml(
        "app:\n  topics:\n    order-events: from-file\n",
        &[("APP_TOPICS_ORDER_EVENTS", "from-env")],
    );
    assert_eq!(config.lookup("app.topics.order-events"), Some("from-env"));
    assert_eq!(
        config.origin("app.topics.orderEvents"),
        Some(&env_origin("APP_TOPICS_ORDER_EVENTS"))
    );
}

#[test]
fn unrelated_variables_are_ignored_and_typos_in_our_sections_reported() {
    let dir = ConfigDir::new();
    // A Kafka container's own variables are not ours.
    let config = dir
        .builder()
        .env_source([
            ("KAFKA_HEAP_OPTS", "-Xmx1G"),
            ("KAFKA_LOG_DIRS", "/var/lib/kafka"),
            ("KAFKA_CONSUMER_GROUP_ID", "ignored-consumer-setting"),
            ("PATH", "/usr/bin"),
        ])
        .load()
        .unwrap();
    assert_eq!(config.lookup("kafka.heap.opts"), None);

    assert_eq!(
        messages(
            dir.builder()
                .env_source([("KAFKA_PRODUCER_BATCH_SIZ", "1")])
                .load()
        ),
        ["unknown key kafka.producer.batch.siz (from env KAFKA_PRODUCER_BATCH_SIZ)"]
    );
}

/// Spring's indexed form of a list in the environment: `_0`, `_1`, ... in
/// index order, whatever order the variables come in.
#[test]
fn indexed_variables_make_a_list() {
    let (_dir, config) = load_yaml(
        "kafka:\n  client-id: shop\n",
        &[
            ("SPRING_KAFKA_BOOTSTRAPSERVERS_1", "b:9092"),
            ("SPRING_KAFKA_BOOTSTRAPSERVERS_0", "a:9092"),
            ("SPRING_KAFKA_BOOTSTRAPSERVERS_10", "c:9092"),
        ],
    );
    let bootstrap = property(&config, None, "bootstrap.servers").unwrap();
    assert_eq!(bootstrap.value, "a:9092,b:9092,c:9092");
    assert_eq!(
        bootstrap.origin,
        Origin::Env {
            var: "SPRING_KAFKA_BOOTSTRAPSERVERS_0".into()
        }
    );
    // Only lists are indexed: an index on another setting is still unknown.
    let (_dir, messages) = load_yaml_errors("", &[("KAFKA_PRODUCER_ACKS_0", "all")]);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("KAFKA_PRODUCER_ACKS_0"),
        "{messages:?}"
    );
}

/// `SPRING_APPLICATION_JSON`, as Spring Boot reads it: one JSON object of
/// settings, above the files and the variables, below the builder's
/// overrides (Spring's command line), naming the active profiles too.
#[test]
fn spring_application_json_sets_keys_above_the_variables() {
    const JSON: &str = "SPRING_APPLICATION_JSON";
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka:\n  producer:\n    acks: 1\n    linger: 5ms\n",
    );
    dir.write(
        "application-prod.yml",
        "kafka:\n  producer:\n    batch-size: 1KB\n",
    );
    let json = r#"{"spring": {"kafka": {"producer": {"acks": "all", "linger": "20ms",
        "properties": {"max.request.size": 2000000}}},
        "profiles": {"active": "prod"}}, "app": {"region": "eu"}}"#;
    let config = dir
        .builder()
        .env_source([
            (JSON, json),
            ("KAFKA_PRODUCER_ACKS", "0"),
            // Spring ranks the JSON above the variables for profiles too.
            ("SPRING_PROFILES_ACTIVE", "dev"),
        ])
        .override_value("kafka.producer.linger", "50ms")
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    let acks = property(&config, None, "acks").unwrap();
    assert_eq!(acks.value, "all", "the JSON's all beats the variable's 0");
    assert_eq!(acks.origin, env_origin(JSON));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("50"));
    assert_eq!(
        value(&config, None, "max.request.size").as_deref(),
        Some("2000000")
    );
    assert_eq!(config.profiles(), ["prod"]);
    assert_eq!(value(&config, None, "batch.size").as_deref(), Some("1024"));
    assert_eq!(config.lookup("app.region"), Some("eu"));

    // A file's profile placeholder may name a JSON key.
    let dir = ConfigDir::new();
    dir.write("application.yml", "spring.profiles.active: ${app.env}\n");
    dir.write(
        "application-staging.yml",
        "kafka:\n  producer:\n    acks: 0\n",
    );
    let config = dir
        .builder()
        .env_source([(JSON, r#"{"app": {"env": "staging"}}"#)])
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.profiles(), ["staging"]);

    // What is wrong in it is named with where it came from.
    let errors = messages(
        dir.builder()
            .env_source([(JSON, r#"{"kafka": {"producer": {"ackz": "all"}}}"#)])
            .load(),
    );
    assert!(
        errors
            .iter()
            .any(|m| m.contains("kafka.producer.ackz") && m.contains("env SPRING_APPLICATION_JSON")),
        "{errors:?}"
    );
    let errors = messages(
        dir.builder()
            .env_source([(JSON, "{\"kafka\": {\"producer\": }}")])
            .load(),
    );
    assert!(
        errors
            .iter()
            .any(|m| m.starts_with("SPRING_APPLICATION_JSON:1:")
                && m.contains("invalid JSON")
                && !m.contains(" at line ")),
        "{errors:?}"
    );
}

/// `SPRING_CONFIG_NAME`, as Spring Boot reads it: the configuration files'
/// base names instead of `application` (each with its profile variants; a
/// later name wins); a name with `*` is refused, as Spring refuses it.
#[test]
fn spring_config_name_names_the_configuration_files() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka:\n  client-id: from-application\n  producer:\n    acks: 1\n",
    );
    dir.write(
        "orders.yml",
        "kafka:\n  producer:\n    acks: all\n    linger: 5ms\n",
    );
    dir.write("orders-prod.yml", "kafka:\n  producer:\n    linger: 20ms\n");
    dir.write(
        "shared.properties",
        "kafka.producer.batch-size=1KB\nkafka.producer.acks=0\n",
    );
    let config = dir
        .builder()
        .env_source([
            ("SPRING_CONFIG_NAME", "orders"),
            ("SPRING_PROFILES_ACTIVE", "prod"),
        ])
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value(&config, None, "acks").as_deref(), Some("all"));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("20"));
    assert_eq!(
        config.lookup("kafka.client-id"),
        None,
        "application.yml is not read"
    );

    // Several names: each read, the later winning.
    let config = dir
        .builder()
        .env_source([("SPRING_CONFIG_NAME", "orders, shared")])
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value(&config, None, "acks").as_deref(), Some("0"));
    assert_eq!(value(&config, None, "batch.size").as_deref(), Some("1024"));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("5"));

    let errors = messages(
        dir.builder()
            .env_source([("SPRING_CONFIG_NAME", "orders*")])
            .load(),
    );
    assert!(
        errors
            .iter()
            .any(|m| m.contains("'orders*'") && m.contains("env SPRING_CONFIG_NAME")),
        "{errors:?}"
    );
}

/// Spring binds `SPRING_SSL_BUNDLE_*` variables whether or not a file names
/// the bundle's keys: a bundle can live in the environment alone, or keep
/// its passwords there.
#[test]
fn ssl_bundles_are_read_from_variables_the_files_do_not_name() {
    let certificate = include_str!("../../kafka-core/src/network/testdata/cn-only.pem");
    let (_dir, config) = load_yaml(
        "spring:\n  kafka:\n    security:\n      protocol: SSL\n    ssl:\n      bundle: kafka\n",
        &[
            (
                "SPRING_SSL_BUNDLE_PEM_KAFKA_TRUSTSTORE_CERTIFICATE",
                certificate,
            ),
            ("spring_ssl_bundle_pem_kafka_protocol", "TLSv1.3"),
            // Another bundle's, and a key this producer does not read.
            (
                "SPRING_SSL_BUNDLE_PEM_OTHER_KEYSTORE_PRIVATEKEYPASSWORD",
                "other",
            ),
            ("SPRING_SSL_BUNDLE_PEM_KAFKA_RELOADONUPDATE", "true"),
        ],
    );
    let trusted =
        property(&config, None, "ssl.truststore.certificates").expect("from the variable");
    assert_eq!(trusted.value, certificate);
    assert_eq!(
        trusted.origin,
        env_origin("SPRING_SSL_BUNDLE_PEM_KAFKA_TRUSTSTORE_CERTIFICATE")
    );
    assert_eq!(
        value(&config, None, "ssl.truststore.type").as_deref(),
        Some("PEM")
    );
    assert_eq!(
        value(&config, None, "ssl.protocol").as_deref(),
        Some("TLSv1.3")
    );
    assert_eq!(value(&config, None, "ssl.key.password"), None);

    // The file has the bundle, its password comes from the environment;
    // a dashed key (`private-key-password`) in either of Spring's spellings.
    let indented: String = certificate
        .lines()
        .map(|line| format!("              {line}\n"))
        .collect();
    let yaml = format!(
        "spring:\n  ssl:\n    bundle:\n      pem:\n        my-certs:\n          truststore:\n            certificate: |\n{indented}  kafka:\n    security:\n      protocol: SSL\n    ssl:\n      bundle: my-certs\n"
    );
    for var in [
        "SPRING_SSL_BUNDLE_PEM_MYCERTS_KEYSTORE_PRIVATEKEYPASSWORD",
        "SPRING_SSL_BUNDLE_PEM_MYCERTS_KEYSTORE_PRIVATE_KEY_PASSWORD",
    ] {
        let (_dir, config) = load_yaml(&yaml, &[(var, "key-secret")]);
        let password = property(&config, None, "ssl.key.password").expect(var);
        assert_eq!(password.value, "key-secret", "{var}");
        assert_eq!(password.origin, env_origin(var));
        assert_eq!(
            value(&config, None, "ssl.truststore.type").as_deref(),
            Some("PEM")
        );
    }
}

/// A private key given where PEM text or a file is expected never shows in
/// the error; PEM text with a preamble (`openssl pkcs12 -nodes` writes "Bag
/// Attributes" first) is PEM text, as Spring finds the header anywhere.
#[test]
fn a_pem_bundles_private_key_stays_out_of_errors() {
    let yaml =
        "spring:\n  kafka:\n    security:\n      protocol: SSL\n    ssl:\n      bundle: kafka\n";
    let headless = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    let (_dir, messages) = load_yaml_errors(
        yaml,
        &[
            ("SPRING_SSL_BUNDLE_PEM_KAFKA_KEYSTORE_PRIVATEKEY", headless),
            (
                "SPRING_SSL_BUNDLE_PEM_KAFKA_KEYSTORE_CERTIFICATE",
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            ),
        ],
    );
    assert!(
        messages.iter().any(|m| m.contains("private-key")),
        "{messages:?}"
    );
    for message in &messages {
        assert!(!message.contains("MIIEvQ"), "{message}");
    }
    let certificate = include_str!("../../kafka-core/src/network/testdata/cn-only.pem");
    let with_preamble = format!("Bag Attributes\n    friendlyName: ca\n{certificate}");
    let (_dir, config) = load_yaml(
        yaml,
        &[(
            "SPRING_SSL_BUNDLE_PEM_KAFKA_TRUSTSTORE_CERTIFICATE",
            with_preamble.as_str(),
        )],
    );
    assert_eq!(
        value(&config, None, "ssl.truststore.certificates").as_deref(),
        Some(with_preamble.as_str())
    );
}
