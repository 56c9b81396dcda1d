//! `application.properties`, as Spring Initializr writes it and Spring Boot
//! reads it: Java's properties syntax, `#---` documents, profile files, and
//! precedence over `.yml` (and `.yml` over `.yaml`) in the same directory.

mod config_common;

use config_common::{ConfigDir, messages, value};
use kafka_template::config::Origin;

#[test]
fn a_spring_boot_properties_file_configures_the_producer() {
    let dir = ConfigDir::new();
    dir.write(
        "application.properties",
        "# Spring Initializr's file\n\
         spring.application.name=orders\n\
         spring.kafka.bootstrap-servers[0]=a:9092\n\
         spring.kafka.bootstrap-servers[1]=b:9092\n\
         spring.kafka.producer.acks=all\n\
         spring.kafka.producer.properties.linger.ms=7\n\
         spring.kafka.producer.properties[max.request.size] : 2097152\n\
         spring.kafka.producer.client-id = orders-\\\n    producer\n\
         #---\n\
         spring.config.activate.on-profile=prod\n\
         spring.kafka.producer.acks=1\n",
    )
    .write(
        "application-eu.properties",
        "spring.kafka.producer.compression-type=zstd\n",
    );
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("a:9092,b:9092")
    );
    assert_eq!(value(&config, None, "acks").as_deref(), Some("all"));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("7"));
    assert_eq!(
        value(&config, None, "max.request.size").as_deref(),
        Some("2097152")
    );
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("orders-producer")
    );
    assert_eq!(
        config.origin("kafka.producer.acks"),
        Some(&Origin::File {
            path: dir.file("application.properties"),
            line: 5
        })
    );

    let config = dir
        .builder()
        .profiles(["prod", "eu"])
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(value(&config, None, "acks").as_deref(), Some("1"));
    assert_eq!(
        value(&config, None, "compression.type").as_deref(),
        Some("zstd")
    );
}

#[test]
fn properties_win_over_yml_which_wins_over_yaml() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yaml",
        "kafka:\n  client-id: yaml\n  producer:\n    acks: '0'\n    linger: 3ms\n",
    )
    .write(
        "application.yml",
        "kafka:\n  client-id: yml\n  producer:\n    acks: '1'\n",
    )
    .write("application.properties", "kafka.client-id=properties\n");
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.lookup("kafka.client-id"), Some("properties"));
    assert_eq!(config.lookup("kafka.producer.acks"), Some("1"));
    assert_eq!(config.lookup("kafka.producer.linger"), Some("3ms"));
}

#[test]
fn a_bad_value_or_escape_names_the_properties_file_and_line() {
    let dir = ConfigDir::new();
    dir.write(
        "application.properties",
        "spring.kafka.producer.acks=fast\n",
    );
    assert_eq!(
        messages(dir.builder().load()),
        [format!(
            "invalid value 'fast' for spring.kafka.producer.acks (from {}:1): expected one of \
             all, -1, 0, 1",
            dir.file("application.properties").display()
        )]
    );

    let dir = ConfigDir::new();
    dir.write(
        "application.properties",
        "a=1\nspring.kafka.client-id=\\u12\n",
    );
    assert_eq!(
        messages(dir.builder().load()),
        [format!(
            "{}:2: invalid properties: malformed \\uxxxx escape \\u12: four hexadecimal \
             digits expected",
            dir.file("application.properties").display()
        )]
    );
}
