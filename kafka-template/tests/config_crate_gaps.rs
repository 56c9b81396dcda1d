//! Where the `config` crate alone falls short for Spring-style configuration,
//! each shown on the crate itself and then handled by the loader.

mod config_common;

use std::collections::HashMap;

use ::config::{Config, Environment, File, FileFormat, Map, Value, ValueKind};
use config_common::{ConfigDir, load_yaml, property, value};
use kafka_template::config::Origin;

const TWO_DOCUMENTS: &str = "kafka:\n  client-id: first\n---\nkafka:\n  client-id: second\n";

#[test]
fn multi_document_yaml() {
    // The crate refuses a file with two documents.
    let error = Config::builder()
        .add_source(File::from_str(TWO_DOCUMENTS, FileFormat::Yaml))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("2 YAML documents"), "{error}");

    // The loader applies both, the later one winning, with its line.
    let dir = ConfigDir::new();
    dir.write("application.yml", TWO_DOCUMENTS);
    let config = dir.builder().load().unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("second"));
    assert_eq!(
        config.origin("kafka.client-id"),
        Some(&Origin::File {
            path: dir.file("application.yml"),
            line: 5
        })
    );
}

#[test]
fn dotted_java_keys() {
    // Through the crate's path syntax, a Java name is split at its dots...
    let config = Config::builder()
        .set_override("kafka.properties.enable.idempotence", true)
        .unwrap()
        .build()
        .unwrap();
    let properties = config.get_table("kafka.properties").unwrap();
    assert!(properties.contains_key("enable"));
    assert!(!properties.contains_key("enable.idempotence"));
    // ...and a dotted YAML key it keeps whole cannot be addressed by path.
    let config = Config::builder()
        .add_source(File::from_str(
            "kafka:\n  properties:\n    enable.idempotence: true\n",
            FileFormat::Yaml,
        ))
        .build()
        .unwrap();
    assert!(
        config
            .get_string("kafka.properties.enable.idempotence")
            .is_err()
    );

    // The loader keeps the Java name whole in every spelling, overrides included.
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka:\n  properties:\n    enable.idempotence: true\n",
    );
    let config = dir
        .builder()
        .override_value("kafka.properties.enable.idempotence", "false")
        .load()
        .unwrap();
    let idempotence = property(&config, None, "enable.idempotence").unwrap();
    assert_eq!(idempotence.value, "false");
    assert_eq!(idempotence.origin, Origin::Override);
    assert_eq!(
        config.lookup("kafka.properties.enable.idempotence"),
        Some("false")
    );
}

#[test]
fn environment_keys() {
    let vars: HashMap<String, String> = [
        ("KAFKA_PRODUCER_BATCH_SIZE".to_owned(), "1024".to_owned()),
        ("KAFKA_PRODUCER_BATCHSIZE".to_owned(), "2048".to_owned()),
    ]
    .into();
    let config = Config::builder()
        .add_source(File::from_str(
            "kafka:\n  producer:\n    batchSize: 100\n",
            FileFormat::Yaml,
        ))
        .add_source(Environment::default().separator("_").source(Some(vars)))
        .build()
        .unwrap();
    // Every `_` became a level: `batch.size`, not `batch-size`...
    assert_eq!(
        config.get_string("kafka.producer.batch.size").unwrap(),
        "1024"
    );
    // ...the origin is not the variable...
    let tree = ::config::Source::collect(&config).unwrap();
    let origin = leaf(&tree, &["kafka", "producer", "batch", "size"]).origin();
    assert_eq!(origin, Some("the environment"));
    // ...and the lowercased `batchsize` did not override the file's `batchSize`.
    assert_eq!(
        config.get_string("kafka.producer.batchSize").unwrap(),
        "100"
    );
    assert_eq!(
        config.get_string("kafka.producer.batchsize").unwrap(),
        "2048"
    );

    // The loader reads variables against the schema: one key, the variable as origin.
    let (_dir, config) = load_yaml(
        "kafka:\n  producer:\n    batchSize: 100\n",
        &[("KAFKA_PRODUCER_BATCH_SIZE", "1024")],
    );
    assert_eq!(value_of(&config, "batch.size"), "1024");
    assert_eq!(
        config.origin("kafka.producer.batch-size"),
        Some(&Origin::Env {
            var: "KAFKA_PRODUCER_BATCH_SIZE".to_owned()
        })
    );
}

fn value_of(config: &kafka_template::KafkaConfig, java: &str) -> String {
    value(config, None, java).unwrap()
}

/// The value at `path` in a tree collected from the `config` crate.
fn leaf<'a>(tree: &'a Map<String, Value>, path: &[&str]) -> &'a Value {
    let (first, rest) = path.split_first().expect("a path");
    let value = &tree[*first];
    match (&value.kind, rest.is_empty()) {
        (_, true) => value,
        (ValueKind::Table(inner), false) => leaf(inner, rest),
        _ => panic!("{first} is not a table"),
    }
}
