//! Active profiles, profile files and multi-document YAML gated on profiles.

mod config_common;

use config_common::{ConfigDir, load_yaml, load_yaml_errors, messages, value};
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
        "kafka.client-id: a\n---\nspring.config.activate.on-profile: prod & eu | dev\nkafka.client-id: b\n---\nspring.config.activate.on-cloud-platform: kubernetis\nkafka.client-id: c\n---\nspring.config.activate.on-cloud-fountain: x\nkafka.client-id: d\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(
        messages[0],
        format!(
            "invalid profile expression 'prod & eu | dev' for spring.config.activate.on-profile \
             (from {}:3): mixing '&' and '|' needs parentheses",
            file.display()
        )
    );
    assert!(
        messages[1].contains("spring.config.activate.on-cloud-platform")
            && messages[1].contains("kubernetis")
            && messages[1].contains(&format!("{}:6", file.display()))
            && messages[1].contains("kubernetes, azure_app_service"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("spring.config.activate.on-cloud-fountain")
            && messages[2].contains("on-cloud-platform"),
        "{}",
        messages[2]
    );
}

#[test]
fn a_document_for_a_cloud_platform_applies_on_that_platform() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka.client-id: local\n---\nspring.config.activate.on-cloud-platform: kubernetes\nkafka.client-id: in-k8s\n---\nspring:\n  config:\n    activate:\n      on-cloud-platform: cloud-foundry\n      on-profile: prod\nkafka.client-id: cf-prod\n",
    );
    let load = |vars: &[(&str, &str)], profiles: &[&str]| {
        dir.builder()
            .env_source(vars.iter().copied())
            .profiles(profiles.iter().copied())
            .load()
            .expect("loads")
    };
    assert_eq!(load(&[], &[]).lookup("kafka.client-id"), Some("local"));
    let k8s = [
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ("KUBERNETES_SERVICE_PORT", "443"),
    ];
    assert_eq!(load(&k8s, &[]).lookup("kafka.client-id"), Some("in-k8s"));
    // Both conditions must hold.
    let cf = [("VCAP_APPLICATION", "{}")];
    assert_eq!(load(&cf, &[]).lookup("kafka.client-id"), Some("local"));
    assert_eq!(
        load(&cf, &["prod"]).lookup("kafka.client-id"),
        Some("cf-prod")
    );
    // spring.main.cloud-platform overrides the detection.
    assert_eq!(
        load(&[("SPRING_MAIN_CLOUD_PLATFORM", "KUBERNETES")], &[]).lookup("kafka.client-id"),
        Some("in-k8s")
    );
    // Any Service's host and port variables say Kubernetes, as in Spring.
    let service = [
        ("ORDERS_DB_SERVICE_HOST", "10.0.0.7"),
        ("ORDERS_DB_SERVICE_PORT", "5432"),
    ];
    assert_eq!(
        load(&service, &[]).lookup("kafka.client-id"),
        Some("in-k8s")
    );
    // A platform Spring does not know enforces none, and none is detected
    // then (Spring's CloudPlatform.isActive): even in Kubernetes.
    let unknown = [
        ("SPRING_MAIN_CLOUD_PLATFORM", "mainframe"),
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ("KUBERNETES_SERVICE_PORT", "443"),
    ];
    assert_eq!(load(&unknown, &[]).lookup("kafka.client-id"), Some("local"));
}

#[test]
fn aws_ecs_is_detected_as_spring_boot_4_detects_it() {
    let (_dir, config) = load_yaml(
        "kafka.client-id: local\n---\nspring.config.activate.on-cloud-platform: aws_ecs\nkafka.client-id: in-ecs\n",
        &[("AWS_EXECUTION_ENV", "AWS_ECS_FARGATE")],
    );
    assert_eq!(config.lookup("kafka.client-id"), Some("in-ecs"));
}

#[test]
fn a_misspelled_gate_is_an_error_not_a_document_for_everyone() {
    let (dir, messages) = load_yaml_errors(
        "kafka.client-id: base\n---\nspring:\n  config:\n    activte:\n      on-profile: prod\nkafka.client-id: prod\n---\nspring.config.activate.on-profle: eu\nkafka.client-id: eu\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages,
        [
            format!(
                "unknown key spring.config.activte.on-profile (from {}:6); did you mean \
                 spring.config.activate.on-profile?",
                file.display()
            ),
            format!(
                "unknown key spring.config.activate.on-profle (from {}:9); did you mean \
                 spring.config.activate.on-profile?",
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

/// Spring Boot's documented example: `include` adds to the active profiles,
/// whichever way they were chosen; as Spring Boot's `Profiles` orders them,
/// before them, so the active profile's file overrides the included ones.
#[test]
fn include_adds_profiles_before_the_active_ones() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  profiles:\n    active: dev\n    include:\n      - common\n      - local\n",
    )
    .write(
        "application-dev.yml",
        "kafka.client-id: dev\nkafka.producer.acks: '0'\n",
    )
    .write(
        "application-common.yml",
        "kafka.client-id: common\nkafka.producer.linger: 7ms\n",
    )
    .write("application-local.yml", "kafka.client-id: local\n")
    .write("application-prod.yml", "kafka.producer.acks: all\n");
    let config = dir.builder().load().unwrap();
    assert_eq!(config.profiles(), ["common", "local", "dev"]);
    assert_eq!(
        config.lookup("kafka.client-id"),
        Some("dev"),
        "the active profile wins"
    );
    assert_eq!(config.lookup("kafka.producer.acks"), Some("0"));
    assert_eq!(config.lookup("kafka.producer.linger"), Some("7ms"));

    // Replacing the active profiles keeps the included ones.
    let config = dir
        .builder()
        .env_source([("SPRING_PROFILES_ACTIVE", "prod")])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["common", "local", "prod"]);
    assert_eq!(config.lookup("kafka.producer.acks"), Some("all"));
    let config = dir.builder().profiles(["dev", "common"]).load().unwrap();
    assert_eq!(config.profiles(), ["common", "local", "dev"], "each once");
}

#[test]
fn included_profiles_replace_default_and_come_from_every_source() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka.profiles.include: metrics\n---\nspring.profiles.include: audit\n",
    )
    .write("application-default.yml", "kafka.client-id: default\n")
    .write("application-audit.yml", "kafka.client-id: audit\n")
    .write("application-metrics.yml", "kafka.client-id: metrics\n");
    let config = dir.builder().load().unwrap();
    // The later document first, as Spring walks its sources from the
    // highest precedence down; `default` is not active any more.
    assert_eq!(config.profiles(), ["audit", "metrics"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("metrics"));

    let config = dir
        .builder()
        .env_source([
            ("KAFKA_PROFILES_INCLUDE", "eu"),
            ("SPRING_PROFILES_INCLUDE", "us"),
        ])
        .load()
        .unwrap();
    assert_eq!(
        config.profiles(),
        ["eu", "audit", "metrics"],
        "ours wins over Spring's"
    );
}

#[test]
fn groups_expand_where_their_profile_stands() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  profiles:\n    group:\n      production: [proddb, prodmq]\n      proddb: postgres\nkafka:\n  client-id: base\n---\nspring.config.activate.on-profile: prodmq\nkafka.producer.acks: all\n---\nspring.config.activate.on-profile: postgres & !prodmq\nkafka.producer.acks: '1'\n",
    )
    .write("application-production.yml", "kafka.client-id: production\n")
    .write("application-proddb.yml", "kafka.client-id: proddb\n");
    let config = dir.builder().profiles(["production", "eu"]).load().unwrap();
    assert_eq!(
        config.profiles(),
        ["production", "proddb", "postgres", "prodmq", "eu"]
    );
    assert_eq!(config.lookup("kafka.client-id"), Some("proddb"));
    assert_eq!(
        config.lookup("kafka.producer.acks"),
        Some("all"),
        "gates see members"
    );

    // A group in the environment replaces the file's group of that name.
    let config = dir
        .builder()
        .env_source([
            ("KAFKA_PROFILES_ACTIVE", "production"),
            ("KAFKA_PROFILES_GROUP_PRODUCTION", "proddb"),
        ])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["production", "proddb", "postgres"]);
    assert_eq!(config.lookup("kafka.producer.acks"), Some("1"));
}

#[test]
fn default_profiles_apply_only_when_none_is_active() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring.profiles.default: local\nkafka.profiles.group.local: h2\n",
    )
    .write("application-local.yml", "kafka.client-id: local\n")
    .write("application-default.yml", "kafka.client-id: default\n");
    let config = dir.builder().load().unwrap();
    assert_eq!(config.profiles(), ["local", "h2"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("local"));
    let config = dir
        .builder()
        .env_source([("KAFKA_PROFILES_DEFAULT", "default")])
        .load()
        .unwrap();
    assert_eq!(config.profiles(), ["default"]);
    let config = dir.builder().profiles(["prod"]).load().unwrap();
    assert_eq!(config.profiles(), ["prod"]);
}

/// Profiles are chosen before profile-specific files and gated documents are
/// read, so choosing them there is an error (Spring Boot's
/// `InvalidConfigDataPropertyException`; for a group, which Spring would
/// ignore, ours), named as written with where to set it instead.
#[test]
fn profile_settings_are_rejected_where_spring_rejects_them() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka.client-id: base\n---\nspring.config.activate.on-profile: never-active\nkafka:\n  profiles:\n    group:\n      prod: proddb\n---\nspring.config.activate.on-profile: dev\nspring.profiles.group.Blue-Green: blue\n",
    )
    .write(
        "application-dev.yml",
        "spring:\n  profiles:\n    include: metrics\n    default: local\nkafka.profiles.active: prod\n",
    );
    let application = dir.file("application.yml").display().to_string();
    let dev = dir.file("application-dev.yml").display().to_string();
    let rejected = |key: &str, origin: String, instead: &str| {
        format!(
            "{key} (from {origin}) cannot be set in a profile-specific file or a profile-gated \
             document; set it in {instead}"
        )
    };
    assert_eq!(
        messages(dir.builder().profiles(["dev"]).load()),
        [
            rejected(
                "kafka.profiles.group.prod",
                format!("{application}:7"),
                "application.yml or KAFKA_PROFILES_GROUP_PROD"
            ),
            rejected(
                "spring.profiles.group.Blue-Green",
                format!("{application}:10"),
                "application.yml"
            ),
            rejected(
                "spring.profiles.include",
                format!("{dev}:3"),
                "application.yml or SPRING_PROFILES_INCLUDE"
            ),
            rejected(
                "spring.profiles.default",
                format!("{dev}:4"),
                "application.yml or SPRING_PROFILES_DEFAULT"
            ),
            rejected(
                "kafka.profiles.active",
                format!("{dev}:5"),
                "application.yml, KAFKA_PROFILES_ACTIVE or the builder"
            ),
        ]
    );
}

#[test]
fn spring_boot_2_3_profile_gates_and_typos_are_errors() {
    let (dir, messages) = load_yaml_errors(
        "kafka.client-id: base\n---\nspring:\n  profiles: prod\nkafka.client-id: prod\n---\nspring.profile.active: dev\nspring.profiles.inculde: [a]\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(
        messages,
        [
            format!(
                "unknown key spring.profile.active (from {file}:7); did you mean \
                 spring.profiles.active?"
            ),
            format!(
                "unknown key spring.profiles.inculde (from {file}:8); did you mean \
                 spring.profiles.include?"
            ),
            format!(
                "spring.profiles (from {file}:4) is not supported: Spring Boot 2.4 replaced it: \
                 gate the document with spring.config.activate.on-profile instead"
            ),
        ]
    );
}

#[test]
fn included_and_grouped_names_are_checked_too() {
    let (dir, messages) = load_yaml_errors(
        "spring.profiles.include: ok, ../etc\nspring.profiles.group.ok: a/b\n",
        &[],
    );
    let file = dir.file("application.yml").display().to_string();
    assert_eq!(
        messages,
        [
            format!(
                "invalid profile name '../etc' (from {file}:1): a profile name cannot contain \
                 '/', '\\' or '..'"
            ),
            format!(
                "invalid profile name 'a/b' (from {file}:2): a profile name cannot contain '/', \
                 '\\' or '..'"
            ),
        ]
    );
}

/// Spring binds `spring.profiles.active` with its placeholders replaced: a
/// common way to pick the profile from the deployment's environment.
#[test]
fn placeholders_in_profile_settings_are_resolved() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "app.region: eu\nspring.profiles.active: ${APP_ENV:local}\n\
         spring.profiles.include: ${app.region}\n",
    )
    .write("application-local.yml", "kafka.client-id: local\n")
    .write("application-prod.yml", "kafka.client-id: prod\n")
    .write("application-eu.yml", "kafka.producer.acks: all\n");
    let config = dir.builder().load().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.profiles(), ["eu", "local"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("local"));
    assert_eq!(config.lookup("kafka.producer.acks"), Some("all"));
    let config = dir
        .builder()
        .env_source([("APP_ENV", "prod")])
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.profiles(), ["eu", "prod"]);
    assert_eq!(config.lookup("kafka.client-id"), Some("prod"));

    // Unresolvable: one error, for the placeholder, not a profile named `${..}`.
    let dir = ConfigDir::new();
    dir.write("application.yml", "spring.profiles.active: ${APP_ENV}\n");
    assert_eq!(
        messages(dir.builder().load()),
        [format!(
            "cannot resolve placeholder '${{APP_ENV}}' in spring.profiles.active (from {}:1): \
             set APP_ENV or give a default as ${{APP_ENV:default}}",
            dir.file("application.yml").display()
        )]
    );
}

/// `spring.main.cloud-platform` above the files, as Spring's environment
/// has it before it reads them: a builder override (Spring's command line)
/// over `SPRING_APPLICATION_JSON` over the variable, in the spelling Spring
/// documents (`SPRING_MAIN_CLOUDPLATFORM`) or with the dash as `_`.
#[test]
fn the_cloud_platform_is_named_by_an_override_json_or_either_variable() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring.main.cloud-platform: nomad
kafka.client-id: local
---
spring.config.activate.on-cloud-platform: kubernetes
kafka.client-id: in-k8s
---
spring.config.activate.on-cloud-platform: heroku
kafka.client-id: on-heroku
---
spring.config.activate.on-cloud-platform: none
kafka.client-id: on-none
---
spring.config.activate.on-cloud-platform: nomad
kafka.client-id: on-nomad
",
    );
    let load = |vars: &[(&str, &str)], overrides: &[(&str, &str)]| {
        let mut builder = dir.builder().env_source(vars.iter().copied());
        for (key, value) in overrides {
            builder = builder.override_value(*key, *value);
        }
        builder
            .load()
            .unwrap_or_else(|e| panic!("{e}"))
            .lookup("kafka.client-id")
            .map(str::to_owned)
    };
    let on = |platform: &str| Some(platform.to_owned());
    // The file's alone.
    assert_eq!(load(&[], &[]), on("on-nomad"));
    // Either spelling of the variable wins over the file.
    assert_eq!(
        load(&[("SPRING_MAIN_CLOUDPLATFORM", "heroku")], &[]),
        on("on-heroku")
    );
    assert_eq!(
        load(&[("SPRING_MAIN_CLOUD_PLATFORM", "heroku")], &[]),
        on("on-heroku")
    );
    // SPRING_APPLICATION_JSON wins over the variable.
    let json = r#"{"spring":{"main":{"cloud-platform":"kubernetes"}}}"#;
    let vars = [
        ("SPRING_APPLICATION_JSON", json),
        ("SPRING_MAIN_CLOUDPLATFORM", "heroku"),
    ];
    assert_eq!(load(&vars, &[]), on("in-k8s"));
    // An override wins over both, in any relaxed spelling.
    assert_eq!(
        load(&vars, &[("spring.main.cloudPlatform", "none")]),
        on("on-none")
    );
    // Named above the files, a platform Spring does not know makes none
    // active (the file's nomad included), as in Spring.
    assert_eq!(
        load(&vars, &[("spring.main.cloud-platform", "mainframe")]),
        on("on-none")
    );
    // Spring's isEnforced compares the enum's name, case aside: a dashed
    // name enforces nothing, so (set, and so not detected) none is active;
    // so does a value set blank.
    assert_eq!(
        load(&[], &[("spring.main.cloud-platform", "HEROKU")]),
        on("on-heroku")
    );
    assert_eq!(
        load(&[], &[("spring.main.cloud-platform", "cloud-foundry")]),
        on("on-none")
    );
    assert_eq!(
        load(&vars, &[("spring.main.cloud-platform", "")]),
        on("on-none")
    );
    assert_eq!(
        load(&[("SPRING_MAIN_CLOUDPLATFORM", "")], &[]),
        on("on-none")
    );
    // A placeholder in an override or the variable is resolved from the
    // environment.
    assert_eq!(
        load(
            &[
                ("WHERE", "heroku"),
                ("SPRING_MAIN_CLOUDPLATFORM", "${WHERE}")
            ],
            &[]
        ),
        on("on-heroku")
    );
    assert_eq!(
        load(
            &[("WHERE", "heroku")],
            &[("spring.main.cloud-platform", "${WHERE}")]
        ),
        on("on-heroku")
    );
}

/// `spring.main.cloud-platform` in the application file decides the
/// platform documents are activated for, as Spring reads it before it
/// activates them (it overrides the detection; the variable overrides it).
#[test]
fn the_cloud_platform_named_in_the_file_activates_its_documents() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring.main.cloud-platform: kubernetes\nkafka.client-id: local\n---\nspring.config.activate.on-cloud-platform: kubernetes\nkafka.client-id: in-k8s\n---\nspring.config.activate.on-cloud-platform: heroku\nkafka.client-id: on-heroku\n",
    );
    let load = |vars: &[(&str, &str)]| {
        dir.builder()
            .env_source(vars.iter().copied())
            .load()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(load(&[]).lookup("kafka.client-id"), Some("in-k8s"));
    // Detected Cloud Foundry: the file's kubernetes still wins.
    assert_eq!(
        load(&[("VCAP_APPLICATION", "{}")]).lookup("kafka.client-id"),
        Some("in-k8s")
    );
    // The variable wins over the file.
    assert_eq!(
        load(&[("SPRING_MAIN_CLOUD_PLATFORM", "heroku")]).lookup("kafka.client-id"),
        Some("on-heroku")
    );
    // A placeholder in it is resolved from the environment.
    dir.write(
        "application.yml",
        "spring.main.cloud-platform: ${PLATFORM:heroku}\nkafka.client-id: local\n---\nspring.config.activate.on-cloud-platform: heroku\nkafka.client-id: on-heroku\n---\nspring.config.activate.on-cloud-platform: nomad\nkafka.client-id: on-nomad\n",
    );
    assert_eq!(load(&[]).lookup("kafka.client-id"), Some("on-heroku"));
    assert_eq!(
        load(&[("PLATFORM", "nomad")]).lookup("kafka.client-id"),
        Some("on-nomad")
    );
    // A platform Spring does not know, in a file, enforces nothing: the
    // platform is detected, as in Spring.
    assert_eq!(
        load(&[("PLATFORM", "mainframe"), ("NOMAD_ALLOC_ID", "a1")]).lookup("kafka.client-id"),
        Some("on-nomad")
    );
    // Nor does a name Spring's isEnforced does not match exactly (case
    // aside): `he-roku` is not `heroku`.
    assert_eq!(
        load(&[("PLATFORM", "he-roku"), ("NOMAD_ALLOC_ID", "a1")]).lookup("kafka.client-id"),
        Some("on-nomad")
    );
}
