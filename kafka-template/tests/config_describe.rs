//! `describe()`: every resolved value with its origin, secrets hidden.

mod config_common;

use config_common::load_yaml;

#[test]
fn one_line_per_value_with_its_origin() {
    let (dir, config) = load_yaml(
        "kafka:\n  producer:\n    acks: all\n    batch-size: 32KB\n  topics:\n    api-token: secret-topic-name\napp.name: shop\n",
        &[("KAFKA_PRODUCER_LINGER", "5ms")],
    );
    let file = dir.file("application.yml").display().to_string();
    let expected = format!(
        "# active profiles: default
kafka.bootstrap-servers = localhost:9092  (default)
kafka.producer.acks = all  ({file}:3)
kafka.producer.batch-size = 32KB  ({file}:4)
kafka.producer.linger = 5ms  (env KAFKA_PRODUCER_LINGER)
kafka.template.close-timeout = 30s  (default)
kafka.topics.api-token = [hidden]  ({file}:6)
# default producer properties
acks = all  (kafka.producer.acks, {file}:3)
batch.size = 32768  (kafka.producer.batch-size, {file}:4)
bootstrap.servers = localhost:9092  (kafka.bootstrap-servers, default)
linger.ms = 5  (kafka.producer.linger, env KAFKA_PRODUCER_LINGER)
"
    );
    assert_eq!(config.describe(), expected);
    // Debug shows the same, so secrets stay hidden there too.
    let debug = format!("{config:?}");
    assert!(!debug.contains("secret-topic-name"), "{debug}");
    assert!(debug.contains("[hidden]"), "{debug}");
    // And so does the template builder that holds the configuration.
    let builder = format!(
        "{:?}",
        kafka_template::KafkaTemplate::builder().config(config)
    );
    assert!(!builder.contains("secret-topic-name"), "{builder}");
    assert!(builder.contains("[hidden]"), "{builder}");
}

#[test]
fn named_producers_are_described_too() {
    let (dir, config) = load_yaml(
        "kafka:\n  client-id: shop\n  producers:\n    audit:\n      acks: '0'\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    let described = config.describe();
    assert!(
        described.ends_with(&format!(
            "# producer 'audit' properties
acks = 0  (kafka.producers.audit.acks, {file}:5)
bootstrap.servers = localhost:9092  (kafka.bootstrap-servers, default)
client.id = shop  (kafka.client-id, {file}:2)
"
        )),
        "{described}"
    );
}
