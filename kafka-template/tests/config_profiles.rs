//! Active profiles, profile files and multi-document YAML gated on profiles.

mod config_common;

use config_common::{ConfigDir, load_yaml_errors, messages, value};
use kafka_template::config::Origin;

fn multi_doc(profiles: &[&str]) -> kafka_template::KafkaConfig {
    let dir = ConfigDir::new();
    dir.copy_fixture("config/multi-doc.yml", "application.yml");
    dir.builder()
        .profiles(profiles.iter().copied())
        .load()
        .unwrap()
}

#[test]
fn default_profile_when_none_is_active() {
    let dir = ConfigDir::new();
    dir.write("application.yml", "kafka.client-id: base\n")
        .write(
            "application-default.yml",
            "kafka.client-id: from-default-profile\n",
        )
        .write("application-prod.yml", "kafka.client-id: from-prod\n");
    let config = dir.builder().load().unwrap();
    assert_eq!(config.profiles(), ["default"]);
    assert_eq!(
        config.lookup("kafka.client-id"),
        Some("from-default-profile")
    );

    // As in Spring, naming any profile replaces `default`.
    let config = dir.builder().profiles(["prod"]).load().unwrap();
    assert_eq!(config.profiles(), ["prod"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("from-prod"));
}

#[test]
fn later_profiles_win_in_the_order_given() {
    let dir = ConfigDir::new();
    dir.write(
        "application-dev.yml",
        "kafka.client-id: dev\nkafka.producer.acks: '0'\n",
    )
    .write("application-eu.yml", "kafka.client-id: eu\n");
    let config = dir.builder().profiles(["dev", "eu"]).load().unwrap();
    assert_eq!(config.profiles(), ["dev", "eu"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("eu"));
    assert_eq!(
        config.lookup("kafka.producer.acks"),
        Some("0"),
        "dev's other keys stay"
    );

    let config = dir.builder().profiles(["eu", "dev"]).load().unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("dev"));
}

#[test]
fn profiles_from_the_environment_and_their_precedence() {
    let dir = ConfigDir::new();
    dir.write("application-dev.yml", "kafka.client-id: dev\n")
        .write("application-eu.yml", "kafka.client-id: eu\n")
        .write("application-ci.yml", "kafka.client-id: ci\n");

    let config = dir
        .builder()
        .env_source([("KAFKA_PROFILES_ACTIVE", " dev, eu ")])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["dev", "eu"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("eu"));

    let config = dir
        .builder()
        .env_source([("SPRING_PROFILES_ACTIVE", "eu,dev")])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["eu", "dev"]);

    // KAFKA_PROFILES_ACTIVE is ours and wins over Spring's variable.
    let config = dir
        .builder()
        .env_source([
            ("SPRING_PROFILES_ACTIVE", "eu"),
            ("KAFKA_PROFILES_ACTIVE", "dev"),
        ])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["dev"]);

    // The builder wins over both.
    let config = dir
        .builder()
        .env_source([("KAFKA_PROFILES_ACTIVE", "dev")])
        .profiles(["ci"])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["ci"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("ci"));
}

#[test]
fn profiles_active_in_application_yml() {
    let dir = ConfigDir::new();
    dir.write("application.yml", "spring.profiles.active: dev\n")
        .write("application-dev.yml", "kafka.client-id: dev\n");
    let config = dir.builder().load().unwrap();
    assert_eq!(config.profiles(), ["dev"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("dev"));

    // The environment still decides over the file.
    let config = dir
        .builder()
        .env_source([("KAFKA_PROFILES_ACTIVE", "other")])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["other"]);
}

#[test]
fn profiles_active_is_rejected_where_spring_rejects_it() {
    let dir = ConfigDir::new();
    dir.write(
        "application-dev.yml",
        "kafka:\n  profiles:\n    active: prod\n",
    );
    assert_eq!(
        messages(dir.builder().profiles(["dev"]).load()),
        [format!(
            "kafka.profiles.active (from {}:3) cannot be set in a profile-specific file or a \
             profile-gated document; set it in application.yml, KAFKA_PROFILES_ACTIVE or the builder",
            dir.file("application-dev.yml").display()
        )]
    );
}

#[test]
fn multi_document_file_without_profiles() {
    let config = multi_doc(&[]);
    assert_eq!(config.lookup("kafka.bootstrap-servers"), Some("base:9092"));
    // `"!prod"` matches the default profile.
    assert_eq!(config.lookup("kafka.producer.acks"), Some("1"));
    assert_eq!(config.lookup("kafka.producer.linger"), Some("5ms"));
    assert_eq!(
        config.lookup("kafka.producer.compression-type"),
        Some("lz4")
    );
    let template = config.template_settings(None).unwrap();
    assert_eq!(template.default_topic.as_deref(), Some("orders-dev"));
}

#[test]
fn multi_document_file_with_a_gated_profile() {
    let config = multi_doc(&["prod"]);
    assert_eq!(config.lookup("kafka.bootstrap-servers"), Some("prod:9092"));
    assert_eq!(
        config.lookup("kafka.producer.acks"),
        Some("all"),
        "!prod is off"
    );
    let template = config.template_settings(None).unwrap();
    assert_eq!(template.default_topic.as_deref(), Some("orders"));
    let origin = config.origin("kafka.bootstrap-servers").unwrap();
    assert!(
        matches!(origin, Origin::File { line: 16, .. }),
        "the gated document's line: {origin}"
    );
}

#[test]
fn multi_document_expressions_and_lists() {
    let config = multi_doc(&["prod", "eu"]);
    assert_eq!(
        config.lookup("kafka.bootstrap-servers"),
        Some("prod-eu:9092")
    );
    let config = multi_doc(&["eu"]);
    assert_eq!(config.lookup("kafka.bootstrap-servers"), Some("base:9092"));

    let config = multi_doc(&["qa"]);
    assert_eq!(config.lookup("kafka.producer.linger"), Some("20ms"));
    assert_eq!(value(&config, None, "linger.ms").as_deref(), Some("20"));
    let config = multi_doc(&["staging"]);
    assert_eq!(config.lookup("kafka.producer.linger"), Some("20ms"));
}

#[test]
fn profile_files_override_every_document_of_application_yml() {
    let dir = ConfigDir::new();
    dir.copy_fixture("config/multi-doc.yml", "application.yml")
        .copy_fixture("config/application-prod.yml", "application-prod.yml");
    let config = dir.builder().profiles(["prod"]).load().unwrap();
    assert_eq!(value(&config, None, "batch.size").as_deref(), Some("65536"));
    assert_eq!(
        config.origin("kafka.producer.acks"),
        Some(&Origin::File {
            path: dir.file("application-prod.yml"),
            line: 5
        })
    );
    // Keys the profile file does not set keep their application.yml values.
    assert_eq!(config.lookup("kafka.bootstrap-servers"), Some("prod:9092"));
}

#[test]
fn profile_files_can_gate_their_own_documents() {
    let dir = ConfigDir::new();
    dir.write(
        "application-prod.yml",
        "kafka.client-id: prod\n---\nspring.config.activate.on-profile: eu\nkafka.client-id: prod-eu\n",
    );
    let config = dir.builder().profiles(["prod"]).load().unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("prod"));
    let config = dir.builder().profiles(["prod", "eu"]).load().unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("prod-eu"));
}

#[test]
fn malformed_gates_are_errors_with_their_origin() {
    let (dir, messages) = load_yaml_errors(
        "kafka.client-id: a\n---\nspring.config.activate.on-profile: prod & eu | dev\nkafka.client-id: b\n---\nspring.config.activate.on-cloud-platform: kubernetes\nkafka.client-id: c\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages,
        [
            format!(
                "invalid profile expression 'prod & eu | dev' for spring.config.activate.on-profile \
                 (from {}:3): mixing '&' and '|' needs parentheses",
                file.display()
            ),
            format!(
                "spring.config.activate.on-cloud-platform (from {}:6) is not supported: only \
                 on-profile can activate a document here; cloud platforms are not detected",
                file.display()
            ),
        ]
    );
}

#[test]
fn profile_names_cannot_leave_the_directory() {
    let dir = ConfigDir::new();
    assert_eq!(
        messages(
            dir.builder()
                .env_source([("KAFKA_PROFILES_ACTIVE", "../secrets")])
                .load()
        ),
        [
            "invalid profile name '../secrets' (from env KAFKA_PROFILES_ACTIVE): a profile name \
          cannot contain '/', '\\' or '..'"
        ]
    );
}

#[test]
fn config_location_from_the_environment() {
    let first = ConfigDir::new();
    let second = ConfigDir::new();
    first.write(
        "application.yml",
        "kafka.client-id: first\nkafka.producer.acks: '0'\n",
    );
    second.write("application.yml", "kafka.client-id: second\n");
    let location = format!("{}, {}", first.path().display(), second.path().display());
    let config = kafka_template::KafkaConfig::builder()
        .env_source([("KAFKA_CONFIG_LOCATION", location.as_str())])
        .load()
        .unwrap();
    assert_eq!(config.lookup("kafka.client-id"), Some("second"));
    assert_eq!(config.lookup("kafka.producer.acks"), Some("0"));

    let missing = first.path().join("missing");
    assert_eq!(
        messages(
            kafka_template::KafkaConfig::builder()
                .env_source([("KAFKA_CONFIG_LOCATION", missing.display().to_string())])
                .load()
        ),
        [format!(
            "config location {} (from env KAFKA_CONFIG_LOCATION) is not a directory",
            missing.display()
        )]
    );
}
