//! Key names: relaxed binding, the `spring.kafka` root, Java passthrough
//! properties, Spring's merge order, named producers and template settings.

mod config_common;

use std::time::Duration;

use config_common::{ConfigDir, load_yaml, load_yaml_errors, property, value};
use kafka_template::config::{DEFAULT_CLOSE_TIMEOUT, Origin, TemplateSettings};

#[test]
fn relaxed_names_bind_one_key() {
    for spelling in ["batch-size", "batchSize", "batch_size", "BATCH_SIZE"] {
        let dir = ConfigDir::new();
        dir.write(
            "application.yml",
            &format!("kafka:\n  producer:\n    {spelling}: 16KB\n    bufferMemory: 32MB\n    linger: 5ms\n"),
        );
        let config = dir.builder().load().unwrap();
        assert_eq!(
            value(&config, None, "batch.size").as_deref(),
            Some("16384"),
            "{spelling}"
        );
        assert_eq!(
            value(&config, None, "buffer.memory").as_deref(),
            Some("33554432")
        );
        assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("5"));
        for lookup in [
            "kafka.producer.batch-size",
            "kafka.producer.batchSize",
            "kafka.producer.batch_size",
        ] {
            assert_eq!(
                config.lookup(lookup),
                Some("16KB"),
                "{spelling} via {lookup}"
            );
        }
    }
}

#[test]
fn two_spellings_of_one_key_in_one_document_are_an_error() {
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producer:\n      batch-size: 1\n      batchSize: 2\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages,
        [format!(
            "spring.kafka.producer.batch-size (at {0}:4) and spring.kafka.producer.batchSize \
             (at {0}:5) are one key, set twice in one document; keep one",
            file.display()
        )]
    );
    let (dir, messages) = load_yaml_errors(
        "kafka.producer.acks: all\nkafka:\n  producer:\n    acks: '1'\n",
        &[],
    );
    assert_eq!(
        messages,
        [format!(
            "kafka.producer.acks is set twice in one document (at {0}:1 and {0}:4); keep one",
            dir.file("application.yml").display()
        )]
    );
}

#[test]
fn a_spring_boot_file_loads_under_the_spring_kafka_root() {
    let dir = ConfigDir::new();
    dir.copy_fixture("config/spring-boot-app.yml", "application.yml");
    let config = dir.builder().load().unwrap();
    let props: Vec<(String, String)> = config
        .producer_properties(None)
        .unwrap()
        .into_iter()
        .map(|p| (p.key, p.value))
        .collect();
    let expected = [
        ("acks", "all"),
        ("batch.size", "32768"),
        ("bootstrap.servers", "localhost:9092"),
        ("buffer.memory", "67108864"),
        ("compression.type", "zstd"),
        ("enable.idempotence", "true"),
        (
            "key.serializer",
            "org.apache.kafka.common.serialization.StringSerializer",
        ),
        ("max.in.flight.requests.per.connection", "5"),
        ("retries", "10"),
        (
            "value.serializer",
            "org.apache.kafka.common.serialization.StringSerializer",
        ),
    ];
    assert_eq!(props, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    assert_eq!(config.lookup("kafka.producer.acks"), Some("all"));
    assert_eq!(config.lookup("spring.kafka.producer.acks"), Some("all"));
    assert_eq!(
        config.lookup("spring.application.name"),
        Some("kafka-practice")
    );
    assert_eq!(
        config
            .template_settings(None)
            .unwrap()
            .default_topic
            .as_deref(),
        Some("my-topic")
    );
    // Consumer settings are not a producer's, but placeholders may use them.
    assert_eq!(config.lookup("kafka.consumer.group-id"), Some("practice"));
    assert!(!config.describe().contains("consumer"));
}

#[test]
fn java_properties_keep_dotted_names_in_every_form() {
    let (dir, config) = load_yaml(
        "kafka:\n  properties:\n    \"enable.idempotence\": true\n    max:\n      block:\n        ms: 1000\n    \"[request.timeout.ms]\": 2000\n",
        &[],
    );
    assert_eq!(
        value(&config, None, "enable.idempotence").as_deref(),
        Some("true")
    );
    assert_eq!(
        value(&config, None, "max.block.ms").as_deref(),
        Some("1000")
    );
    assert_eq!(
        value(&config, None, "request.timeout.ms").as_deref(),
        Some("2000")
    );
    let idempotence = property(&config, None, "enable.idempotence").unwrap();
    assert_eq!(
        idempotence.config_key,
        "kafka.properties.enable.idempotence"
    );
    assert_eq!(
        idempotence.origin,
        Origin::File {
            path: dir.file("application.yml"),
            line: 3
        }
    );
    assert_eq!(
        config.lookup("kafka.properties.enable.idempotence"),
        Some("true")
    );
    assert_eq!(
        config.lookup("kafka.properties[max.block.ms]"),
        Some("1000")
    );
}

/// Spring's order: common settings, `kafka.properties`, the producer's settings,
/// then `producer.properties`, whatever source each value came from.
#[test]
fn producer_properties_merge_in_spring_order() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka:\n  client-id: common\n  bootstrap-servers: [a:9092, b:9092]\n  properties:\n    client.id: common-properties\n    linger.ms: 7\n    acks: '0'\n  producer:\n    client-id: producer\n    acks: '1'\n    properties:\n      client.id: producer-properties\n",
    );
    let config = dir
        .builder()
        // An environment variable is a higher *source*, but common properties
        // still lose to the producer's own settings.
        .env_source([("KAFKA_PROPERTIES_ACKS", "all")])
        .load()
        .unwrap();
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("producer-properties")
    );
    assert_eq!(value(&config, None, "acks").as_deref(), Some("1"));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("7"));
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("a:9092,b:9092")
    );
    let client_id = property(&config, None, "client.id").unwrap();
    assert_eq!(client_id.config_key, "kafka.producer.properties.client.id");
    assert_eq!(
        client_id.origin,
        Origin::File {
            path: dir.file("application.yml"),
            line: 12
        }
    );
}

#[test]
fn named_producers_inherit_common_settings_only() {
    // (Which producer a transaction-id-prefix reaches is a unit test of
    // config::producers; `transaction_settings_are_springs` below loads them.)
    let (_dir, config) = load_yaml(
        "kafka:\n  bootstrap-servers: shared:9092\n  properties:\n    max.block.ms: 1000\n  producer:\n    acks: '0'\n  template:\n    default-topic: shared-topic\n    close-timeout: 10s\n  producers:\n    bulk:\n      batch-size: 1MB\n      linger: 100ms\n    audit:\n      bootstrap-servers: audit:9092\n      template:\n        default-topic: audit-log\n        close-timeout: 2s\n",
        &[],
    );
    assert_eq!(config.producer_names(), ["audit", "bulk"]);

    // Common settings reach every named producer; the default producer's do not.
    assert_eq!(
        value(&config, Some("bulk"), "bootstrap.servers").as_deref(),
        Some("shared:9092")
    );
    assert_eq!(
        value(&config, Some("bulk"), "max.block.ms").as_deref(),
        Some("1000")
    );
    assert_eq!(
        value(&config, Some("bulk"), "batch.size").as_deref(),
        Some("1048576")
    );
    assert_eq!(value(&config, Some("bulk"), "acks"), None);
    assert_eq!(value(&config, None, "acks").as_deref(), Some("0"));
    assert_eq!(
        value(&config, Some("audit"), "bootstrap.servers").as_deref(),
        Some("audit:9092")
    );

    assert_eq!(
        parts(&config.template_settings(None).unwrap()),
        (
            Some("shared-topic".into()),
            Duration::from_secs(10),
            None,
            false
        )
    );
    // `bulk`'s template inherits the shared topic and timeout.
    assert_eq!(
        parts(&config.template_settings(Some("bulk")).unwrap()),
        (
            Some("shared-topic".into()),
            Duration::from_secs(10),
            None,
            false
        )
    );
    assert_eq!(
        parts(&config.template_settings(Some("audit")).unwrap()),
        (
            Some("audit-log".into()),
            Duration::from_secs(2),
            None,
            false
        )
    );
    // Producer names are relaxed too.
    assert_eq!(
        value(&config, Some("BULK"), "linger.ms").as_deref(),
        Some("100")
    );
    assert_eq!(
        config
            .producer_properties(Some("orders"))
            .unwrap_err()
            .to_string(),
        "unknown producer 'orders'; configured producers: audit, bulk"
    );
}

#[test]
fn template_defaults() {
    let dir = ConfigDir::new();
    let config = dir.builder().load().unwrap();
    assert_eq!(
        parts(&config.template_settings(None).unwrap()),
        (None, DEFAULT_CLOSE_TIMEOUT, None, false)
    );
    assert_eq!(DEFAULT_CLOSE_TIMEOUT, Duration::from_secs(30));
    assert_eq!(
        config.origin("kafka.template.close-timeout"),
        Some(&Origin::Default)
    );
}

#[test]
fn transaction_settings_are_springs() {
    let (dir, config) = load_yaml(
        "spring:\n  kafka:\n    producer:\n      transaction-id-prefix: orders-tx-\n    template:\n      allow-non-transactional: on\n    producers:\n      audit:\n        properties:\n          transactional.id: audit-\n",
        &[(
            "KAFKA_PRODUCERS_AUDIT_TEMPLATE_ALLOW_NON_TRANSACTIONAL",
            "false",
        )],
    );
    let settings = config.template_settings(None).unwrap();
    assert_eq!(
        settings.transaction_id_prefix.as_deref(),
        Some("orders-tx-")
    );
    assert!(settings.allow_non_transactional);
    // The prefix is the producer's transactional.id, named by its key and line.
    let id = property(&config, None, "transactional.id").unwrap();
    assert_eq!(id.value, "orders-tx-");
    assert_eq!(id.config_key, "kafka.producer.transaction-id-prefix");
    assert_eq!(
        id.origin,
        Origin::File {
            path: dir.file("application.yml"),
            line: 4
        }
    );
    // Spring's producer factory takes a transactional.id property as the
    // prefix; the environment turns the inherited allow-non-transactional off.
    let audit = config.template_settings(Some("audit")).unwrap();
    assert_eq!(audit.transaction_id_prefix.as_deref(), Some("audit-"));
    assert!(!audit.allow_non_transactional);
}

/// Spring's `observation-enabled` and our `trace-propagation-enabled`, from a
/// Spring Boot file and Spring-style variables, inherited by named producers.
#[test]
fn observation_and_trace_propagation_keys_are_read_as_spring_reads_them() {
    let (_dir, config) = load_yaml(
        "spring:\n  kafka:\n    template:\n      observation-enabled: true\n    producers:\n      audit:\n        client-id: audit\n      ledger:\n        template:\n          observationEnabled: off\n",
        &[("SPRING_KAFKA_TEMPLATE_TRACE_PROPAGATION_ENABLED", "false")],
    );
    let flags = |producer: Option<&str>| {
        let settings = config.template_settings(producer).unwrap();
        (
            settings.observation_enabled,
            settings.trace_propagation_enabled,
        )
    };
    assert_eq!(flags(None), (true, false));
    assert_eq!(flags(Some("audit")), (true, false), "inherited");
    assert_eq!(flags(Some("ledger")), (false, false), "its own wins");
    let (_dir, defaults) = load_yaml("kafka:\n  producer:\n    acks: all\n", &[]);
    let settings = defaults.template_settings(None).unwrap();
    assert!(
        !settings.observation_enabled,
        "off by default, as in Spring"
    );
    assert!(settings.trace_propagation_enabled, "on by default");
}

/// A `TemplateSettings` (non-exhaustive) as a comparable tuple.
fn parts(settings: &TemplateSettings) -> (Option<String>, Duration, Option<String>, bool) {
    (
        settings.default_topic.clone(),
        settings.close_timeout,
        settings.transaction_id_prefix.clone(),
        settings.allow_non_transactional,
    )
}

#[test]
fn an_empty_typed_value_is_not_set_as_in_spring() {
    // A size, a duration, a number and a flag left empty (or from a
    // placeholder whose default is empty): Spring binds them as null.
    let (_dir, config) = load_yaml(
        "spring:\n  kafka:\n    producer:\n      batch-size:\n      buffer-memory: ''\n      retries: ${RETRIES:}\n      properties:\n        linger.ms: 7\n    template:\n      observation-enabled: ''\n",
        &[],
    );
    assert_eq!(value(&config, None, "batch.size"), None);
    assert_eq!(value(&config, None, "buffer.memory"), None);
    assert_eq!(value(&config, None, "retries"), None);
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("7"));
}

#[test]
fn spring_json_serializer_properties_are_the_templates_and_checked() {
    // Spring services set these for their JsonSerializer: accepted (not
    // handed to kafka-core, which would refuse them).
    let (_dir, _config) = load_yaml(
        "spring:\n  kafka:\n    producer:\n      value-serializer: org.springframework.kafka.support.serializer.JsonSerializer\n      properties:\n        spring.json.add.type.headers: false\n        spring.json.type.mapping: order:com.example.Order, audit:com.example.Audit\n",
        &[],
    );
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producer:\n      properties:\n        spring.json.add.type.headers: maybe\n        spring.json.type.mapping: com.example.Order\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages,
        [
            format!(
                "invalid value 'maybe' for spring.kafka.producer.properties.spring.json.add.type.headers (from {}:5): expected true or false",
                file.display()
            ),
            format!(
                "invalid value 'com.example.Order' for spring.kafka.producer.properties.spring.json.type.mapping (from {}:6): expected token:class pairs separated by commas, e.g. order:com.example.Order",
                file.display()
            ),
        ]
    );
}

#[test]
fn springs_jaas_login_becomes_sasl_jaas_config() {
    let yaml = "spring:\n  kafka:\n    security:\n      protocol: SASL_PLAINTEXT\n    properties:\n      sasl.mechanism: PLAIN\n    jaas:\n      enabled: true\n      login-module: org.apache.kafka.common.security.plain.PlainLoginModule\n      control-flag: REQUIRED\n      options:\n        username: alice\n        password: al\"ice-secret\n";
    let (_dir, config) = load_yaml(yaml, &[]);
    assert_eq!(
        value(&config, None, "sasl.jaas.config").as_deref(),
        Some(
            "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"al\\\"ice-secret\" username=\"alice\";"
        )
    );
    assert!(!config.describe().contains("ice-secret"));
    assert!(!format!("{config:?}").contains("ice-secret"));

    // Off (Spring's default), or with sasl.jaas.config set: no login of its own.
    let unsecured = yaml.replace(
        "    security:\n      protocol: SASL_PLAINTEXT\n    properties:\n      sasl.mechanism: PLAIN\n",
        "",
    );
    let (_dir, config) = load_yaml(&unsecured.replace("enabled: true", "enabled: false"), &[]);
    assert_eq!(value(&config, None, "sasl.jaas.config"), None);
    let explicit = yaml.replace(
        "      sasl.mechanism: PLAIN\n",
        "      sasl.mechanism: PLAIN\n      sasl.jaas.config: org.apache.kafka.common.security.plain.PlainLoginModule required username=\"bob\" password=\"b\";\n",
    );
    let (_dir, config) = load_yaml(&explicit, &[]);
    assert!(
        value(&config, None, "sasl.jaas.config")
            .unwrap()
            .contains("\"bob\"")
    );

    // The password from the environment (a secret kept out of the file), as
    // Spring binds SPRING_KAFKA_JAAS_OPTIONS_PASSWORD into the options map.
    let (_dir, config) = load_yaml(
        &yaml.replace("        password: al\"ice-secret\n", ""),
        &[("SPRING_KAFKA_JAAS_OPTIONS_PASSWORD", "from-env-secret")],
    );
    assert_eq!(
        value(&config, None, "sasl.jaas.config").as_deref(),
        Some(
            "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"from-env-secret\" username=\"alice\";"
        )
    );
}

#[test]
fn an_ssl_bundle_must_exist_and_excludes_the_store_keys() {
    let (dir, messages) =
        load_yaml_errors("spring:\n  kafka:\n    ssl:\n      bundle: nowhere\n", &[]);
    assert_eq!(
        messages,
        [format!(
            "invalid value 'nowhere' for spring.kafka.ssl.bundle (from {}:4): expected the name of an SSL bundle configured under spring.ssl.bundle.jks.nowhere or spring.ssl.bundle.pem.nowhere",
            dir.file("application.yml").display()
        )]
    );
    let (_dir, messages) = load_yaml_errors(
        "spring:\n  ssl:\n    bundle:\n      jks:\n        kafka:\n          truststore:\n            location: certs/t.p12\n  kafka:\n    ssl:\n      bundle: kafka\n      trust-store-location: certs/other.p12\n",
        &[],
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("spring.kafka.ssl.bundle")
                && m.contains("not both")
                && m.contains("trust-store-location")),
        "{messages:?}"
    );
    // The common section's bundle is checked too, though the producer's
    // bundle is the one used (Spring builds both sections).
    let (_dir, messages) = load_yaml_errors(
        "spring:\n  ssl:\n    bundle:\n      jks:\n        kafka:\n          truststore:\n            location: certs/t.p12\n  kafka:\n    ssl:\n      bundle: kafka\n      trust-store-location: certs/other.p12\n    producer:\n      ssl:\n        bundle: kafka\n",
        &[],
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("spring.kafka.ssl.bundle") && m.contains("not both")),
        "{messages:?}"
    );
    // One name, both kinds (a variable adding a JKS bundle to a file's PEM
    // bundle): refused, not one kind chosen.
    let (_dir, messages) = load_yaml_errors(
        "spring:\n  ssl:\n    bundle:\n      pem:\n        kafka:\n          truststore:\n            certificate: certs/ca.pem\n  kafka:\n    ssl:\n      bundle: kafka\n",
        &[("SPRING_SSL_BUNDLE_JKS_KAFKA_TRUSTSTORE_PASSWORD", "x")],
    );
    assert!(
        messages.iter().any(|m| m.contains("must be unique")),
        "{messages:?}"
    );
}

/// As in Spring, only the store locations and PEM texts of the bundle's own
/// `ssl` section conflict with it; store and protocol settings anywhere else
/// (the other section, `properties.*`, types and passwords) give way to the
/// bundle, whose engine factory reads none of them.
#[test]
fn an_ssl_bundle_wins_over_store_settings_outside_its_section() {
    let certificate = include_str!("../../kafka-core/src/network/testdata/cn-only.pem");
    let indented: String = certificate
        .lines()
        .map(|line| format!("              {line}\n"))
        .collect();
    let (_dir, config) = load_yaml(
        &format!(
            "spring:\n  ssl:\n    bundle:\n      pem:\n        kafka:\n          truststore:\n            certificate: |\n{indented}  kafka:\n    security:\n      protocol: SSL\n    ssl:\n      trust-store-location: elsewhere.p12\n      protocol: TLSv1.2\n    properties:\n      ssl.truststore.password: unused\n    producer:\n      ssl:\n        bundle: kafka\n        trust-store-type: JKS\n"
        ),
        &[],
    );
    assert_eq!(
        value(&config, None, "ssl.truststore.certificates").as_deref(),
        Some(certificate)
    );
    assert_eq!(
        value(&config, None, "ssl.truststore.type").as_deref(),
        Some("PEM")
    );
    for ignored in [
        "ssl.truststore.location",
        "ssl.truststore.password",
        "ssl.protocol",
    ] {
        assert_eq!(value(&config, None, ignored), None, "{ignored}");
    }
}

/// The registry URL's credentials (`basic.auth.credentials.source=URL`) are
/// cut out of `describe()` and `Debug`, as out of errors.
#[test]
fn credentials_in_the_registry_url_are_not_described() {
    let (_dir, config) = load_yaml(
        "spring:\n  kafka:\n    producer:\n      properties:\n        schema.registry.url: https://fred:s3cr@t@sr1:8081\n        basic.auth.credentials.source: URL\n",
        &[],
    );
    let described = config.describe();
    assert!(!described.contains("s3cr"), "{described}");
    assert!(
        described.contains("https://[hidden]@sr1:8081"),
        "{described}"
    );
    assert!(!format!("{config:?}").contains("s3cr"));
}

#[test]
fn yaml_as_spring_reads_it_lists_of_mappings_and_yaml_1_1_booleans() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "app:\n  routes:\n    - name: orders\n      topic: orders-v2\n    - name: audit\n      topic: audit-v1\nspring:\n  kafka:\n    client-id: ${app.routes[1].topic}\n    producer:\n      properties:\n        enable.idempotence: yes\n",
    );
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("audit-v1")
    );
    assert_eq!(
        value(&config, None, "enable.idempotence").as_deref(),
        Some("true")
    );
    assert_eq!(config.lookup("app.routes[0].name"), Some("orders"));
}

#[test]
fn a_typed_sasl_value_out_of_range_is_named_with_its_file_over_plaintext() {
    let (dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    properties:\n      \"[sasl.login.refresh.window.factor]\": 2\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(messages.len(), 1, "{messages:?}");
    for part in [
        "sasl.login.refresh.window.factor",
        "'2'",
        "a number from 0.5 to 1",
        &format!("{}:4", file.display()),
    ] {
        assert!(messages[0].contains(part), "{part} in {}", messages[0]);
    }
}

#[test]
fn credentials_in_a_bracketed_url_key_are_hidden_in_errors() {
    let (_dir, messages) = load_yaml_errors(
        "spring:\n  kafka:\n    producer:\n      value-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer\n      properties:\n        \"[schema.registry.url]\": ftp://svc:pa55word@registry.example\n",
        &[],
    );
    assert!(!messages.is_empty());
    for message in &messages {
        assert!(!message.contains("pa55word"), "{message}");
    }
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ftp://[hidden]@registry.example")),
        "{messages:?}"
    );
}
