//! `spring.config.import`, as Spring Boot reads it: imported files override
//! the document that imports them (later imports earlier ones), a bare path
//! is relative to the importing file, `optional:` may be missing, and
//! sources this loader cannot read are a warning when optional and an error
//! naming the key and its line otherwise.

mod config_common;

use config_common::{ConfigDir, messages, value};

/// The configuration read from the default places (the working directory)
/// with these variables, profile `prod` active.
fn load_prod(vars: Vec<(String, String)>) -> kafka_template::KafkaConfig {
    kafka_template::KafkaConfig::builder()
        .env_source(vars)
        .profiles(["prod"])
        .load()
        .expect("loads")
}

#[test]
fn imported_files_override_their_importer_in_order() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  config:\n    import:\n      - optional:missing.yml\n      - kafka/brokers.yml\n      - kafka/client.properties\n  kafka:\n    bootstrap-servers: from-application:9092\n    client-id: from-application\n    producer:\n      acks: '1'\n",
    );
    dir.write(
        "kafka/brokers.yml",
        "spring:\n  kafka:\n    bootstrap-servers: from-import:9092\n    client-id: from-brokers\n",
    );
    dir.write(
        "kafka/client.properties",
        "spring.kafka.client-id=from-properties\n",
    );
    let config = dir.builder().load().expect("loads");
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("from-import:9092")
    );
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-properties"),
        "the later import wins"
    );
    assert_eq!(value(&config, None, "acks").as_deref(), Some("1"));
}

#[test]
fn a_missing_import_or_a_source_not_read_here_is_an_error_unless_optional() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  config:\n    import: secrets.yml, configserver:http://config:8888, optional:vault://\n",
    );
    let errors = messages(dir.builder().load());
    assert_eq!(errors.len(), 2, "{errors:?}");
    let file = dir.file("application.yml");
    assert!(
        errors[0].contains("spring.config.import")
            && errors[0].contains("secrets.yml")
            && errors[0].contains(&format!("{}:3", file.display()))
            && errors[0].contains("optional:"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("'configserver:'") && errors[1].contains("spring.config.import"),
        "{}",
        errors[1]
    );
}

#[test]
fn springs_location_variables_replace_or_add_to_the_places_read() {
    let dir = ConfigDir::new();
    dir.write(
        "mounted/application.yml",
        "spring:\n  kafka:\n    client-id: from-mount\n    bootstrap-servers: mounted:9092\n",
    );
    dir.write(
        "overrides/custom.yml",
        "spring:\n  kafka:\n    client-id: from-custom\n",
    );
    dir.write(
        "overrides/custom-prod.yml",
        "spring:\n  kafka:\n    producer:\n      acks: '0'\n",
    );
    let load = load_prod;
    let mounted = format!("{}/", dir.file("mounted").display());
    let custom = format!(
        "optional:file:{}",
        dir.file("overrides/custom.yml").display()
    );
    // SPRING_CONFIG_LOCATION replaces the default places.
    let config = load(vec![("SPRING_CONFIG_LOCATION".into(), mounted.clone())]);
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-mount")
    );
    // SPRING_CONFIG_ADDITIONAL_LOCATION adds a file (and its profile file),
    // which wins.
    let config = load(vec![
        ("SPRING_CONFIG_LOCATION".into(), mounted),
        ("SPRING_CONFIG_ADDITIONAL_LOCATION".into(), custom),
    ]);
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-custom")
    );
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("mounted:9092")
    );
    assert_eq!(value(&config, None, "acks").as_deref(), Some("0"));
    // Also in the spelling Spring's documentation gives the variable.
    let config = load(vec![
        (
            "SPRING_CONFIG_LOCATION".into(),
            format!("{}/", dir.file("mounted").display()),
        ),
        (
            "SPRING_CONFIG_ADDITIONALLOCATION".into(),
            format!(
                "optional:file:{}",
                dir.file("overrides/custom.yml").display()
            ),
        ),
    ]);
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-custom")
    );
    // A location that is not there, not optional: an error naming it.
    let missing = dir.file("nowhere.yml").display().to_string();
    let errors = messages(
        kafka_template::KafkaConfig::builder()
            .env_source(vec![("SPRING_CONFIG_LOCATION".to_owned(), missing.clone())])
            .load(),
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains(&missing) && e.contains("SPRING_CONFIG_LOCATION")),
        "{errors:?}"
    );
}

#[test]
fn springs_import_variable_reads_files_above_every_location() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  kafka:\n    client-id: from-application\n    bootstrap-servers: app:9092\n",
    );
    dir.write(
        "application-prod.yml",
        "spring:\n  kafka:\n    producer:\n      acks: '1'\n",
    );
    dir.write(
        "secrets/kafka.yml",
        "spring:\n  kafka:\n    client-id: from-import\n",
    );
    dir.write(
        "secrets/kafka-prod.yml",
        "spring:\n  kafka:\n    producer:\n      acks: '0'\n",
    );
    let import = format!(
        "optional:file:{}, {}",
        dir.file("missing.yml").display(),
        dir.file("secrets/kafka.yml").display()
    );
    // Imported with the builder's directory too: as in Spring, the variable
    // is read whatever the locations are, and its files (and their profile
    // variants) win over them.
    let config = dir
        .builder()
        .env_source(vec![("SPRING_CONFIG_IMPORT".to_owned(), import)])
        .profiles(["prod"])
        .load()
        .expect("loads");
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-import")
    );
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("app:9092")
    );
    assert_eq!(value(&config, None, "acks").as_deref(), Some("0"));

    // A file that is not there, or a source not read here, named with the
    // variable; optional ones are skipped.
    let missing = dir.file("nowhere.yml").display().to_string();
    let errors = messages(
        dir.builder()
            .env_source(vec![(
                "SPRING_CONFIG_IMPORT".to_owned(),
                format!("{missing}, configserver:http://config:8888, optional:vault://"),
            )])
            .load(),
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains(&missing) && errors[0].contains("SPRING_CONFIG_IMPORT"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("'configserver:'") && errors[1].contains("SPRING_CONFIG_IMPORT"),
        "{}",
        errors[1]
    );
}

#[test]
fn each_location_group_is_read_whole_above_the_groups_before_it() {
    // Spring's groups: an additional location's base file wins over a
    // default location's profile file; within one group (`;`), profile
    // files win over base files.
    let dir = ConfigDir::new();
    dir.write(
        "app/application-prod.yml",
        "spring:\n  kafka:\n    producer:\n      acks: '1'\n    client-id: from-app-prod\n",
    );
    dir.write(
        "app/application.yml",
        "spring:\n  kafka:\n    bootstrap-servers: app:9092\n",
    );
    dir.write(
        "etc/application.yml",
        "spring:\n  kafka:\n    producer:\n      acks: all\n",
    );
    dir.write(
        "more/application.yml",
        "spring:\n  kafka:\n    client-id: from-more\n",
    );
    let load = load_prod;
    let app = format!("{}/", dir.file("app").display());
    let etc = format!("{}/", dir.file("etc").display());
    let more = format!("{}/", dir.file("more").display());
    let config = load(vec![
        ("SPRING_CONFIG_LOCATION".into(), app.clone()),
        ("SPRING_CONFIG_ADDITIONAL_LOCATION".into(), etc.clone()),
    ]);
    assert_eq!(value(&config, None, "acks").as_deref(), Some("all"));
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("app:9092")
    );
    // One group of two locations: app's profile file wins over more's base file.
    let config = load(vec![(
        "SPRING_CONFIG_LOCATION".into(),
        format!("{app};{more}"),
    )]);
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-app-prod")
    );
    // Two groups: more's base file wins.
    let config = load(vec![(
        "SPRING_CONFIG_LOCATION".into(),
        format!("{app},{more}"),
    )]);
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-more")
    );
}

#[test]
fn a_file_imported_twice_is_read_once_where_first_imported() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  config:\n    import: shared.yml\n  kafka:\n    bootstrap-servers: app:9092\n",
    );
    dir.write(
        "application-prod.yml",
        "spring:\n  config:\n    import: shared.yml\n  kafka:\n    producer:\n      acks: '1'\n",
    );
    dir.write(
        "shared.yml",
        "spring:\n  kafka:\n    producer:\n      acks: all\n",
    );
    let config = dir.builder().profiles(["prod"]).load().expect("loads");
    assert_eq!(value(&config, None, "acks").as_deref(), Some("1"));
}

#[test]
fn placeholders_in_imports_and_activations_are_resolved_from_the_environment() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  config:\n    import: optional:file:${KAFKA_SETTINGS_DIR}/kafka.yml\n---\nspring:\n  config:\n    activate:\n      on-profile: ${DEPLOY_ENV:local}\n  kafka:\n    client-id: from-${DEPLOY_ENV:local}\n",
    );
    dir.write(
        "settings/kafka.yml",
        "spring:\n  kafka:\n    bootstrap-servers: imported:9092\n",
    );
    let settings = dir.file("settings").display().to_string();
    let config = dir
        .builder()
        .env_source(vec![
            ("KAFKA_SETTINGS_DIR".to_owned(), settings),
            ("DEPLOY_ENV".to_owned(), "staging".to_owned()),
        ])
        .profiles(["staging"])
        .load()
        .expect("loads");
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("imported:9092")
    );
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-staging")
    );
}

#[test]
fn a_file_imported_by_differently_gated_documents_applies_under_each_gate() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "kafka.client-id: base\n---\nspring:\n  config:\n    activate:\n      on-profile: eu\n    import: shared.yml\n---\nspring:\n  config:\n    activate:\n      on-profile: us\n    import: shared.yml\n",
    );
    dir.write("shared.yml", "kafka.client-id: shared\n");
    for profile in ["eu", "us"] {
        let config = dir.builder().profiles([profile]).load().expect("loads");
        assert_eq!(
            config.lookup("kafka.client-id"),
            Some("shared"),
            "with {profile}"
        );
    }
    let config = dir.builder().load().expect("loads");
    assert_eq!(config.lookup("kafka.client-id"), Some("base"));
}

#[test]
fn a_config_servers_credentials_stay_out_of_the_error() {
    let dir = ConfigDir::new();
    let errors = messages(
        dir.builder()
            .env_source(vec![(
                "SPRING_CONFIG_IMPORT".to_owned(),
                "configserver:http://cfg-user:cfg-s3cret@cfg:8888".to_owned(),
            )])
            .load(),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("configserver:") && !errors[0].contains("cfg-s3cret"),
        "{}",
        errors[0]
    );
}

/// `configtree:` as Kubernetes mounts a Secret: each file's name is a key,
/// its content the value (one line's break dropped), sub-directories joined
/// with dots; it overrides its importer and feeds its placeholders, and a
/// bad value in it names its file.
#[test]
fn a_config_tree_import_reads_each_file_as_a_key() {
    let dir = ConfigDir::new();
    let tree = dir.file("mounted/kafka-secrets");
    dir.write(
        "application.yml",
        &format!(
            "spring:\n  config:\n    import:\n      - optional:configtree:{0}/\n      - optional:configtree:{1}/\n  kafka:\n    client-id: from-application\n    bootstrap-servers: ${{brokers.list}}\n    properties:\n      \"[sasl.jaas.config]\": ${{secrets.kafka-jaas}}\n",
            tree.display(),
            dir.file("not-mounted").display()
        ),
    );
    dir.write(
        "mounted/kafka-secrets/brokers.list",
        "tree-a:9092,tree-b:9092\n",
    );
    dir.write(
        "mounted/kafka-secrets/spring.kafka.client-id",
        "from-tree\n",
    );
    dir.write("mounted/kafka-secrets/spring/kafka/producer/acks", "0");
    dir.write(
        "mounted/kafka-secrets/secrets/kafka-jaas",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"svc\" password=\"s3cr3t\";\n",
    );
    // Kubernetes' own entries: hidden, not keys.
    dir.write(
        "mounted/kafka-secrets/..data/spring.kafka.client-id",
        "hidden",
    );
    let config = dir.builder().load().expect("loads");
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-tree")
    );
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("tree-a:9092,tree-b:9092")
    );
    assert_eq!(value(&config, None, "acks").as_deref(), Some("0"));
    assert!(
        value(&config, None, "sasl.jaas.config")
            .is_some_and(|v| v.ends_with("password=\"s3cr3t\";")),
        "the tree's value, its line break dropped"
    );
    assert!(
        !config.describe().contains("s3cr3t"),
        "a secret from a tree stays hidden"
    );

    dir.write(
        "mounted/kafka-secrets/spring.kafka.producer.acks",
        "maybe\n",
    );
    let errors = messages(dir.builder().load());
    let file = dir.file("mounted/kafka-secrets/spring.kafka.producer.acks");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("maybe") && e.contains(&file.display().to_string())),
        "{errors:?}"
    );
}

#[test]
fn a_config_tree_that_is_not_there_is_an_error_unless_optional_and_a_wildcard_reads_each_tree() {
    let dir = ConfigDir::new();
    let missing = dir.file("nowhere");
    dir.write(
        "application.yml",
        &format!(
            "spring:\n  config:\n    import: configtree:{}/\n",
            missing.display()
        ),
    );
    let errors = messages(dir.builder().load());
    assert!(
        errors.iter().any(|e| e.contains("spring.config.import")
            && e.contains(&missing.display().to_string())
            && e.contains("optional:")),
        "{errors:?}"
    );

    // Spring asserts the trailing '/', optional or not.
    let tree = ConfigDir::new();
    tree.write("spring.kafka.client-id", "x");
    let errors = messages(
        ConfigDir::new()
            .builder()
            .env_source(vec![(
                "SPRING_CONFIG_IMPORT".to_owned(),
                format!(
                    "optional:configtree:{}",
                    tree.file("x").parent().unwrap().display()
                ),
            )])
            .load(),
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("SPRING_CONFIG_IMPORT") && e.contains("ending with '/'")),
        "{errors:?}"
    );

    // `*/`: every sub-directory a tree, a later one winning; also from
    // SPRING_CONFIG_IMPORT.
    let trees = ConfigDir::new();
    trees.write("a/spring.kafka.client-id", "from-a");
    trees.write("a/spring.kafka.bootstrap-servers", "a:9092");
    trees.write("b/spring.kafka.client-id", "from-b");
    let wildcard = format!(
        "configtree:{}/*/",
        trees.file("").display().to_string().trim_end_matches('/')
    );
    let config = ConfigDir::new()
        .builder()
        .env_source(vec![("SPRING_CONFIG_IMPORT".to_owned(), wildcard)])
        .load()
        .expect("loads");
    assert_eq!(value(&config, None, "client.id").as_deref(), Some("from-b"));
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("a:9092")
    );
}

/// `spring.config.location`, `.additional-location`, `.name` and `.import`
/// given in `SPRING_APPLICATION_JSON`, as Spring Boot reads them there:
/// before any file, above their variables (Spring ranks the JSON above the
/// environment), in any relaxed spelling.
#[test]
fn spring_application_json_names_the_places_files_and_imports_above_the_variables() {
    let dir = ConfigDir::new();
    dir.write(
        "mounted/orders.yml",
        "spring:\n  kafka:\n    client-id: from-json-location\n",
    );
    dir.write(
        "from-env/application.yml",
        "spring:\n  kafka:\n    client-id: from-env-location\n",
    );
    dir.write(
        "from-env/orders.yml",
        "spring:\n  kafka:\n    client-id: from-env-orders\n",
    );
    dir.write(
        "overrides/custom.yml",
        "spring:\n  kafka:\n    client-id: from-additional\n",
    );
    dir.write("tree/spring/kafka/bootstrap-servers", "tree:9092\n");
    let env_location = format!("{}/", dir.file("from-env").display());
    let load = |json: serde_json::Value| {
        kafka_template::KafkaConfig::builder()
            .env_source(vec![
                ("SPRING_APPLICATION_JSON".to_owned(), json.to_string()),
                ("SPRING_CONFIG_LOCATION".to_owned(), env_location.clone()),
            ])
            .load()
    };

    let config = load(serde_json::json!({"spring": {"config": {
        "location": format!("{}/", dir.file("mounted").display()),
        "name": "orders",
        "import": format!("optional:configtree:{}/", dir.file("tree").display()),
    }}}))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-json-location"),
        "the JSON's location and name win over SPRING_CONFIG_LOCATION"
    );
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("tree:9092"),
        "the JSON's import is read"
    );

    // Dotted and camel-case, as Spring binds them; the variable's location
    // stays where the JSON does not name one.
    let config = load(serde_json::json!({
        "spring.config.additionalLocation":
            format!("optional:file:{}", dir.file("overrides/custom.yml").display()),
        "spring": {"config": {"name": "orders"}},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-additional")
    );
    let config = load(serde_json::json!({"spring": {"config": {"name": "orders"}}}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-env-orders")
    );
    // The builder's overrides (Spring's command line) rank above the JSON.
    let config = kafka_template::KafkaConfig::builder()
        .env_source(vec![
            (
                "SPRING_APPLICATION_JSON".to_owned(),
                r#"{"spring": {"config": {"name": "orders"}}}"#.to_owned(),
            ),
            ("SPRING_CONFIG_LOCATION".to_owned(), env_location.clone()),
        ])
        .override_value("spring.config.name", "application")
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-env-location")
    );

    // An override chooses the location too, above the JSON.
    let config = kafka_template::KafkaConfig::builder()
        .env_source(vec![(
            "SPRING_APPLICATION_JSON".to_owned(),
            serde_json::json!({"spring.config.location": env_location.clone()}).to_string(),
        )])
        .override_value(
            "spring.config.location",
            format!("{}/", dir.file("mounted").display()),
        )
        .override_value("spring.config.name", "orders")
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("from-json-location")
    );

    // A source not read here names its key, with the URL's credentials hidden.
    let errors = messages(load(serde_json::json!({"spring": {"config": {
        "import": "configserver:http://admin:s3cret@config:8888",
    }}})));
    assert!(
        errors.iter().any(|e| e.contains("'configserver:'")
            && e.contains("spring.config.import")
            && e.contains("SPRING_APPLICATION_JSON")),
        "{errors:?}"
    );
    assert!(!errors.iter().any(|e| e.contains("s3cret")), "{errors:?}");

    // A location that is not there is named with the key and where it was set.
    let missing = dir.file("nowhere/").display().to_string();
    let errors = messages(load(serde_json::json!({"spring": {"config": {
        "location": missing,
    }}})));
    assert!(
        errors.iter().any(|e| e.contains(&missing)
            && e.contains("spring.config.location")
            && e.contains("SPRING_APPLICATION_JSON")),
        "{errors:?}"
    );
}
