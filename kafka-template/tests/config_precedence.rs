//! The precedence of configuration sources, as a table: each row adds one
//! source above the previous rows' and expects it to win.

mod config_common;

use config_common::ConfigDir;
use kafka_template::config::Origin;

/// One source of `kafka.bootstrap-servers`.
enum Layer {
    File(&'static str, &'static str),
    Env(&'static str, &'static str),
    Override(&'static str),
}

struct Row {
    what: &'static str,
    layer: Layer,
    expected: &'static str,
    /// For files: the file and the value's line.
    expected_origin: Expected,
}

enum Expected {
    Default,
    File(&'static str, usize),
    Env(&'static str),
    Override,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            what: "built-in default (Spring Boot's)",
            layer: Layer::Env("UNRELATED", "x"),
            expected: "localhost:9092",
            expected_origin: Expected::Default,
        },
        Row {
            what: "application.yaml over defaults",
            layer: Layer::File(
                "application.yaml",
                "kafka:\n  client-id: x\n  bootstrap-servers: root-yaml:9092\n",
            ),
            expected: "root-yaml:9092",
            expected_origin: Expected::File("application.yaml", 3),
        },
        Row {
            what: "application.yml over application.yaml in the same directory",
            layer: Layer::File(
                "application.yml",
                "kafka:\n  bootstrap-servers: root-file:9092\n",
            ),
            expected: "root-file:9092",
            expected_origin: Expected::File("application.yml", 2),
        },
        Row {
            what: "application.properties over application.yml in the same directory",
            layer: Layer::File(
                "application.properties",
                "# the properties file\nkafka.bootstrap-servers=root-properties:9092\n",
            ),
            expected: "root-properties:9092",
            expected_origin: Expected::File("application.properties", 2),
        },
        Row {
            what: "a later directory (config/) over an earlier one",
            layer: Layer::File(
                "config/application.yml",
                "kafka:\n  bootstrap-servers: config-dir:9092\n",
            ),
            expected: "config-dir:9092",
            expected_origin: Expected::File("config/application.yml", 2),
        },
        Row {
            what: "a gated document of application.yml for an active profile",
            layer: Layer::File(
                "config/application.yml",
                "kafka:\n  bootstrap-servers: config-dir:9092\n---\nspring.config.activate.on-profile: a\nkafka.bootstrap-servers: gated-base:9092\n",
            ),
            expected: "gated-base:9092",
            expected_origin: Expected::File("config/application.yml", 5),
        },
        Row {
            what: "application-{first profile}.yml over every application.yml document",
            layer: Layer::File(
                "application-a.yml",
                "kafka:\n  bootstrap-servers: profile-a:9092\n",
            ),
            expected: "profile-a:9092",
            expected_origin: Expected::File("application-a.yml", 2),
        },
        Row {
            what: "application-{second profile}.yml over the first profile's",
            layer: Layer::File(
                "application-b.yml",
                "kafka:\n  bootstrap-servers: profile-b:9092\n",
            ),
            expected: "profile-b:9092",
            expected_origin: Expected::File("application-b.yml", 2),
        },
        Row {
            what: "a later document of the same file over an earlier one",
            layer: Layer::File(
                "application-b.yml",
                "kafka:\n  bootstrap-servers: profile-b:9092\n---\nkafka:\n  bootstrap-servers: profile-b-doc2:9092\n",
            ),
            expected: "profile-b-doc2:9092",
            expected_origin: Expected::File("application-b.yml", 5),
        },
        Row {
            what: "SPRING_KAFKA_* environment over every file",
            layer: Layer::Env("SPRING_KAFKA_BOOTSTRAP_SERVERS", "spring-env:9092"),
            expected: "spring-env:9092",
            expected_origin: Expected::Env("SPRING_KAFKA_BOOTSTRAP_SERVERS"),
        },
        Row {
            what: "KAFKA_* environment over SPRING_KAFKA_*",
            layer: Layer::Env("KAFKA_BOOTSTRAP_SERVERS", "kafka-env:9092"),
            expected: "kafka-env:9092",
            expected_origin: Expected::Env("KAFKA_BOOTSTRAP_SERVERS"),
        },
        Row {
            what: "builder override over everything",
            layer: Layer::Override("override:9092"),
            expected: "override:9092",
            expected_origin: Expected::Override,
        },
    ]
}

#[test]
fn each_source_overrides_the_ones_below_it() {
    let rows = rows();
    for (n, row) in rows.iter().enumerate() {
        let dir = ConfigDir::new();
        dir.write("config/.keep", "");
        let mut env: Vec<(String, String)> = Vec::new();
        let mut builder = kafka_template::config::KafkaConfig::builder()
            .dir(dir.path())
            .dir(dir.path().join("config"))
            .profiles(["a", "b"]);
        for earlier in &rows[..=n] {
            match &earlier.layer {
                Layer::File(name, text) => {
                    dir.write(name, text);
                }
                Layer::Env(var, value) => env.push((var.to_string(), value.to_string())),
                Layer::Override(value) => {
                    builder = builder.override_value("kafka.bootstrap-servers", *value);
                }
            }
        }
        let config = builder
            .env_source(env)
            .load()
            .unwrap_or_else(|e| panic!("row {n} ({}): {e}", row.what));
        let expected_origin = match row.expected_origin {
            Expected::Default => Origin::Default,
            Expected::File(name, line) => Origin::File {
                path: dir.file(name),
                line,
            },
            Expected::Env(var) => Origin::Env {
                var: var.to_owned(),
            },
            Expected::Override => Origin::Override,
        };
        assert_eq!(
            config.lookup("kafka.bootstrap-servers"),
            Some(row.expected),
            "row {n}: {}",
            row.what
        );
        assert_eq!(
            config.origin("kafka.bootstrap-servers"),
            Some(&expected_origin),
            "row {n}: {}",
            row.what
        );
        // The winner is what the producer gets, with the same origin.
        let bootstrap = config_common::property(&config, None, "bootstrap.servers").unwrap();
        assert_eq!(bootstrap.value, row.expected, "row {n}: {}", row.what);
        assert_eq!(bootstrap.origin, expected_origin, "row {n}: {}", row.what);
    }
}

#[test]
fn a_source_only_wins_for_the_keys_it_sets() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka:\n  client-id: from-file\n  producer:\n    acks: all\n    retries: 3\n",
    );
    let config = dir
        .builder()
        .env_source([("KAFKA_PRODUCER_ACKS", "1")])
        .override_value("kafka.producer.retries", "5")
        .load()
        .unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("from-file"));
    assert_eq!(config.lookup("kafka.producer.acks"), Some("1"));
    assert_eq!(config.lookup("kafka.producer.retries"), Some("5"));
    assert_eq!(
        config.origin("kafka.client-id"),
        Some(&Origin::File {
            path: dir.file("application.yml"),
            line: 2
        })
    );
}

#[test]
fn springs_connection_settings_win_over_the_same_java_properties() {
    // Spring Boot 3.1+ puts the bootstrap servers and the security protocol
    // of its own keys back after `properties.*` (KafkaConnectionDetails).
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  kafka:\n    bootstrap-servers: prod:9092\n    security:\n      protocol: SSL\n    producer:\n      properties:\n        bootstrap.servers: old:9092\n        security.protocol: PLAINTEXT\n",
    );
    let config = dir.builder().load().expect("loads");
    let value = |java: &str| config_common::value(&config, None, java);
    assert_eq!(value("bootstrap.servers").as_deref(), Some("prod:9092"));
    assert_eq!(value("security.protocol").as_deref(), Some("SSL"));
    // Only the property: it is used (the built-in localhost default does not
    // displace it).
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  kafka:\n    properties:\n      bootstrap.servers: only:9092\n",
    );
    let config = dir.builder().load().expect("loads");
    assert_eq!(
        config_common::value(&config, None, "bootstrap.servers").as_deref(),
        Some("only:9092")
    );
}
