//! `${key}` / `${key:default}` placeholders in values of every source.

mod config_common;
mod log_capture;

use config_common::{ConfigDir, load_yaml, load_yaml_errors, messages, value};

#[test]
fn defaults_nesting_and_relaxed_names() {
    let (_dir, config) = load_yaml(
        "app:\n  name: shop\n  region: eu\nkafka:\n  client-id: ${app.name}-${app.region}\n  producer:\n    batchSize: ${app.batch:32KB}\n  topics:\n    orders: ${app.name}.orders\n    orders-eu: ${kafka.topics.orders}.${app.region}\n    sizes: sizes-${kafka.producer.batch-size}\n  template:\n    default-topic: ${app.topic:${kafka.topics.orders-eu}}\n    close-timeout: ${app.close-seconds:5}s\n",
        &[],
    );
    assert_eq!(config.lookup("kafka.client-id"), Some("shop-eu"));
    assert_eq!(value(&config, None, "batch.size").as_deref(), Some("32768"));
    assert_eq!(
        config.lookup("kafka.topics.ordersEu"),
        Some("shop.orders.eu")
    );
    let template = config.template_settings(None).unwrap();
    assert_eq!(template.default_topic.as_deref(), Some("shop.orders.eu"));
    assert_eq!(template.close_timeout, std::time::Duration::from_secs(5));
    assert_eq!(config.lookup("kafka.topics.sizes"), Some("sizes-32KB"));
}

#[test]
fn a_file_value_can_use_keys_from_the_environment() {
    let (dir, config) = load_yaml(
        "kafka:\n  bootstrap-servers: ${BROKERS:localhost:9092}\n  template:\n    default-topic: ${kafka.topics.orders}\n",
        &[
            ("BROKERS", "b1:9092,b2:9092"),
            ("KAFKA_TOPICS_ORDERS", "orders-from-env"),
        ],
    );
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("b1:9092,b2:9092")
    );
    let template = config.template_settings(None).unwrap();
    assert_eq!(template.default_topic.as_deref(), Some("orders-from-env"));

    // Without BROKERS, the default (which contains a colon) applies.
    let config = dir
        .builder()
        .env_source([("KAFKA_TOPICS_ORDERS", "x")])
        .load()
        .unwrap();
    assert_eq!(
        value(&config, None, "bootstrap.servers").as_deref(),
        Some("localhost:9092")
    );
}

#[test]
fn an_environment_value_can_use_keys_from_files() {
    let dir = ConfigDir::new();
    dir.write("application.yml", "app.name: billing\n");
    let config = dir
        .builder()
        .env_source([("KAFKA_CLIENT_ID", "${app.name}-producer")])
        .override_value("kafka.template.default-topic", "${app.name}.events")
        .load()
        .unwrap();
    assert_eq!(
        value(&config, None, "client.id").as_deref(),
        Some("billing-producer")
    );
    assert_eq!(
        config
            .template_settings(None)
            .unwrap()
            .default_topic
            .as_deref(),
        Some("billing.events")
    );
}

#[test]
fn unresolvable_placeholders_name_the_key_and_its_origin() {
    let (dir, errors) = load_yaml_errors(
        "kafka:\n  template:\n    default-topic: ${kafka.topics.missing}\n",
        &[],
    );
    assert_eq!(
        errors,
        [format!(
            "cannot resolve placeholder '${{kafka.topics.missing}}' in kafka.template.default-topic \
             (from {}:3): set kafka.topics.missing or give a default as ${{kafka.topics.missing:default}}",
            dir.file("application.yml").display()
        )]
    );
    assert_eq!(
        messages(
            dir.builder()
                .env_source([
                    ("KAFKA_TOPICS_MISSING", "x"),
                    ("KAFKA_CLIENT_ID", "${nope}")
                ])
                .load()
        ),
        [
            "cannot resolve placeholder '${nope}' in kafka.client-id (from env KAFKA_CLIENT_ID): \
          set nope or give a default as ${nope:default}"
        ]
    );
}

#[test]
fn a_failure_is_reported_once_where_it_is_written() {
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  client-id: ${kafka.topics.a}\n  topics:\n    a: ${missing}\n",
        &[],
    );
    assert_eq!(
        messages,
        [format!(
            "cannot resolve placeholder '${{missing}}' in kafka.topics.a (from {}:4): set missing \
             or give a default as ${{missing:default}}",
            dir.file("application.yml").display()
        )]
    );
}

#[test]
fn cycles_and_unclosed_placeholders() {
    let (dir, messages) = load_yaml_errors(
        "kafka:\n  topics:\n    a: ${kafka.topics.b}\n    b: x-${kafka.topics.a}\n  client-id: ${oops\n",
        &[],
    );
    let file = dir.file("application.yml");
    assert_eq!(
        messages,
        [
            format!(
                "unclosed placeholder in kafka.client-id (from {}:5): a '${{' has no matching '}}' \
                 (write \\${{ for a literal '${{')",
                file.display()
            ),
            format!(
                "placeholder cycle in kafka.topics.a (from {}:3): kafka.topics.a -> kafka.topics.b \
                 -> kafka.topics.a",
                file.display()
            ),
        ]
    );
    // Keys in the cycle are named as written.
    let (dir, messages) = load_yaml_errors(
        "spring.kafka:\n  client-id: ${kafka.topics.a}\n  topics:\n    a: ${spring.kafka.clientId}\n",
        &[],
    );
    assert_eq!(
        messages,
        [format!(
            "placeholder cycle in spring.kafka.client-id (from {}:2): spring.kafka.client-id -> \
             spring.kafka.topics.a -> spring.kafka.client-id",
            dir.file("application.yml").display()
        )]
    );
}

#[test]
fn escaped_placeholders_stay_literal() {
    let (_dir, config) = load_yaml("kafka.topics.raw: '\\${not.a.key}'\n", &[]);
    assert_eq!(config.lookup("kafka.topics.raw"), Some("${not.a.key}"));
    // A resolved value is final: using it elsewhere does not expand it again.
    assert_eq!(
        config
            .resolve_placeholders("t-${kafka.topics.raw}")
            .unwrap(),
        "t-${not.a.key}"
    );
}

#[test]
fn resolving_texts_at_runtime() {
    let (_dir, config) = load_yaml(
        "app:\n  topics:\n    orders: shop.orders\nkafka.topics.payments: shop.payments\n",
        &[("APP_TOPICS_REFUNDS", "shop.refunds")],
    );
    assert_eq!(
        config
            .resolve_placeholders("${app.topics.orders:orders}")
            .unwrap(),
        "shop.orders"
    );
    assert_eq!(
        config
            .resolve_placeholders("${app.topics.returns:returns}")
            .unwrap(),
        "returns"
    );
    assert_eq!(
        config
            .resolve_placeholders("${kafka.topics.payments}")
            .unwrap(),
        "shop.payments"
    );
    assert_eq!(
        config
            .resolve_placeholders("${app.topics.refunds}")
            .unwrap(),
        "shop.refunds"
    );
    assert_eq!(config.lookup("app.topics.refunds"), Some("shop.refunds"));
    assert_eq!(
        config
            .resolve_placeholders("${app.topics.nope}")
            .unwrap_err()
            .to_string(),
        "cannot resolve placeholders in '${app.topics.nope}': no value for '${app.topics.nope}'; \
         set app.topics.nope or give a default as ${app.topics.nope:default}"
    );
}

/// As Spring resolves lazily, a placeholder that cannot be resolved in one of
/// the application's own keys (a shared file's `spring.datasource.password:
/// ${DB_PASSWORD}`) does not stop the load: the key is left unset, with a
/// warning. A Kafka key that uses it is an error, named there.
#[test]
fn an_unresolvable_application_key_is_left_unset_unless_a_kafka_key_uses_it() {
    let dir = ConfigDir::new();
    dir.write(
        "application.yml",
        "spring:\n  datasource:\n    password: ${DB_PASSWORD}\n  kafka:\n    client-id: shop\n",
    );
    let (config, logs) = log_capture::capture_logs(|| dir.builder().load());
    let config = config.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.lookup("kafka.client-id"), Some("shop"));
    assert_eq!(config.lookup("spring.datasource.password"), None);
    assert!(
        logs.contains("cannot resolve the placeholders of 'spring.datasource.password'"),
        "{logs}"
    );
    // Set in the environment later, the Spring way, it is found.
    let config = dir
        .builder()
        .env_source([("DB_PASSWORD", "s3cret")])
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.lookup("spring.datasource.password"), Some("s3cret"));

    let (dir, messages) = load_yaml_errors(
        "app:\n  name: ${APP_NAME}\nkafka:\n  client-id: ${app.name}-1\n",
        &[],
    );
    assert_eq!(
        messages,
        [format!(
            "cannot resolve placeholder '${{APP_NAME}}' in kafka.client-id (from {}:4): set \
             APP_NAME or give a default as ${{APP_NAME:default}}",
            dir.file("application.yml").display()
        )]
    );
}

#[test]
fn random_values_as_spring_boot_gives_them() {
    let (_dir, config) = config_common::load_yaml(
        "app:\n  port: ${random.int[1024,65536]}\n  small: ${random.int(10)}\n  secret: ${random.value}\nspring:\n  kafka:\n    client-id: orders-${random.uuid}\n",
        &[],
    );
    let client_id = config_common::value(&config, None, "client.id").unwrap();
    let uuid = client_id.strip_prefix("orders-").unwrap();
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
    assert_eq!(&uuid[14..15], "4", "a version 4 UUID: {uuid}");
    let lookup = |key: &str| config.lookup(key).unwrap().to_owned();
    let port: i64 = lookup("app.port").parse().unwrap();
    assert!((1024..65536).contains(&port), "{port}");
    let small: i64 = lookup("app.small").parse().unwrap();
    assert!((0..10).contains(&small), "{small}");
    let secret = lookup("app.secret");
    assert!(secret.len() == 32 && secret.chars().all(|c| c.is_ascii_hexdigit()));

    // An empty range is an error naming the placeholder.
    let (_dir, messages) = config_common::load_yaml_errors(
        "spring:\n  kafka:\n    client-id: c-${random.int(5,1)}\n",
        &[],
    );
    assert!(
        messages.iter().any(|m| m.contains("random.int(5,1)")),
        "{messages:?}"
    );
}
