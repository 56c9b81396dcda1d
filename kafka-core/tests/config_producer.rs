//! `ProducerConfig` against the Java client's behaviour.
//!
//! The defaults table and the accept/reject outcomes below were checked against
//! Kafka 4.1.1's own `ProducerConfig` and `KafkaProducer` (run on this machine from
//! the jars `scripts/kafka` fetches); messages are ours.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kafka_core::config::{
    Acks, ClientDnsLookup, ConfigError, MetadataRecoveryStrategy, ProducerConfig,
};
use kafka_core::record_batch::Compression;

const BOOTSTRAP: (&str, &str) = ("bootstrap.servers", "localhost:9092");

fn config(extra: &[(&str, &str)]) -> Result<ProducerConfig, ConfigError> {
    ProducerConfig::from_properties(std::iter::once(BOOTSTRAP).chain(extra.iter().copied()))
}

fn error(extra: &[(&str, &str)]) -> ConfigError {
    match config(extra) {
        Ok(config) => panic!("{extra:?} was accepted: {config:?}"),
        Err(err) => err,
    }
}

/// Everything logged while `f` runs, at every level.
fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (result, text)
}

#[test]
fn defaults_are_kafka_4s() {
    let config = config(&[("client.id", "app")]).unwrap();
    let expected = [
        ("acks", "all"),
        ("batch.size", "16384"),
        ("bootstrap.servers", "localhost:9092"),
        ("buffer.memory", "33554432"),
        ("client.dns.lookup", "use_all_dns_ips"),
        ("client.id", "app"),
        ("compression.gzip.level", "-1"),
        ("compression.lz4.level", "9"),
        ("compression.type", "none"),
        ("compression.zstd.level", "3"),
        ("connections.max.idle.ms", "540000"),
        ("delivery.timeout.ms", "120000"),
        ("enable.idempotence", "true"),
        ("enable.metrics.push", "true"),
        ("linger.ms", "5"),
        ("max.block.ms", "60000"),
        ("max.in.flight.requests.per.connection", "5"),
        ("max.request.size", "1048576"),
        ("metadata.max.age.ms", "300000"),
        ("metadata.max.idle.ms", "300000"),
        ("metadata.recovery.rebootstrap.trigger.ms", "300000"),
        ("metadata.recovery.strategy", "rebootstrap"),
        ("metrics.num.samples", "2"),
        ("metrics.recording.level", "INFO"),
        ("metrics.sample.window.ms", "30000"),
        ("partitioner.adaptive.partitioning.enable", "true"),
        ("partitioner.availability.timeout.ms", "0"),
        ("partitioner.ignore.keys", "false"),
        ("receive.buffer.bytes", "32768"),
        ("reconnect.backoff.max.ms", "1000"),
        ("reconnect.backoff.ms", "50"),
        ("request.timeout.ms", "30000"),
        ("retries", "2147483647"),
        ("retry.backoff.max.ms", "1000"),
        ("retry.backoff.ms", "100"),
        ("security.protocol", "PLAINTEXT"),
        ("send.buffer.bytes", "131072"),
        ("socket.connection.setup.timeout.max.ms", "30000"),
        ("socket.connection.setup.timeout.ms", "10000"),
        ("transaction.timeout.ms", "60000"),
    ];
    let actual = config.properties();
    let actual: Vec<(&str, &str)> = actual.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(actual, expected);

    assert_eq!(config.acks(), Acks::All);
    assert_eq!(config.acks().as_i16(), -1);
    assert_eq!(config.retries(), i32::MAX);
    assert_eq!(config.batch_size(), 16_384);
    assert_eq!(config.linger(), Duration::from_millis(5));
    assert_eq!(config.buffer_memory(), 32 * 1024 * 1024);
    assert_eq!(config.max_block(), Duration::from_secs(60));
    assert_eq!(config.request_timeout(), Duration::from_secs(30));
    assert_eq!(config.delivery_timeout(), Duration::from_secs(120));
    assert_eq!(config.retry_backoff(), Duration::from_millis(100));
    assert_eq!(config.retry_backoff_max(), Duration::from_secs(1));
    assert_eq!(config.max_in_flight_requests_per_connection(), 5);
    assert_eq!(config.max_request_size(), 1024 * 1024);
    assert_eq!(config.compression(), Compression::None);
    assert!(config.idempotence_enabled());
    assert!(!config.partitioner_ignore_keys());
    assert!(config.partitioner_adaptive_partitioning());
    assert_eq!(config.partitioner_availability_timeout(), Duration::ZERO);
    assert_eq!(config.metadata_max_age(), Duration::from_secs(300));
    assert_eq!(config.metadata_max_idle(), Duration::from_secs(300));
    assert_eq!(config.transactional_id(), None);
    assert_eq!(config.transaction_timeout(), Duration::from_secs(60));
    assert_eq!(
        config.connections_max_idle(),
        Some(Duration::from_secs(540))
    );
    assert_eq!(config.reconnect_backoff(), Duration::from_millis(50));
    assert_eq!(config.reconnect_backoff_max(), Duration::from_secs(1));
    assert_eq!(
        config.socket_connection_setup_timeout(),
        Duration::from_secs(10)
    );
    assert_eq!(
        config.socket_connection_setup_timeout_max(),
        Duration::from_secs(30)
    );
    assert_eq!(config.send_buffer_bytes(), Some(128 * 1024));
    assert_eq!(config.receive_buffer_bytes(), Some(32 * 1024));
    assert_eq!(config.client_dns_lookup(), ClientDnsLookup::UseAllDnsIps);
}

#[test]
fn bootstrap_servers_are_required_and_checked() {
    let err = ProducerConfig::from_properties([("acks", "all")]).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }), "{err:?}");
    assert_eq!(err.key(), "bootstrap.servers");
    assert!(err.to_string().contains("localhost:9092"), "{err}");

    let err = ProducerConfig::from_properties([("bootstrap.servers", "localhost")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value 'localhost' for 'bootstrap.servers': expected host:port with a port in [1, 65535]"
    );
    assert_eq!(err.value(), Some("localhost"));

    let config =
        ProducerConfig::from_properties([("bootstrap.servers", " b1:9092 , [::1]:9093,")]).unwrap();
    assert_eq!(config.bootstrap_servers(), ["b1:9092", "[::1]:9093"]);
}

#[test]
fn client_ids_are_generated_like_javas() {
    let first = config(&[]).unwrap();
    let second = config(&[]).unwrap();
    let n = |c: &ProducerConfig| -> u64 {
        c.client_id()
            .strip_prefix("producer-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}", c.client_id()))
    };
    assert!(n(&second) > n(&first));
    // An explicit client.id is kept, even an empty one.
    assert_eq!(config(&[("client.id", "")]).unwrap().client_id(), "");
    assert_eq!(
        config(&[("client.id", "orders")]).unwrap().client_id(),
        "orders"
    );
    // With a transactional.id the generated id names it.
    assert_eq!(
        config(&[("transactional.id", "tx-1")]).unwrap().client_id(),
        "producer-tx-1"
    );
}

#[test]
fn explicit_delivery_timeout_below_linger_plus_request_timeout_is_an_error() {
    let err = error(&[
        ("delivery.timeout.ms", "1000"),
        ("linger.ms", "5"),
        ("request.timeout.ms", "30000"),
    ]);
    assert!(matches!(err, ConfigError::Conflict { .. }), "{err:?}");
    assert_eq!(err.key(), "delivery.timeout.ms");
    assert_eq!(err.value(), Some("1000"));
    assert_eq!(
        err.to_string(),
        "delivery.timeout.ms (1000 ms) must be at least linger.ms (5 ms) + request.timeout.ms \
         (30000 ms) = 30005 ms; raise delivery.timeout.ms or lower the other two"
    );
    // Equal is fine.
    let config = config(&[("delivery.timeout.ms", "30005")]).unwrap();
    assert_eq!(config.delivery_timeout(), Duration::from_millis(30_005));
}

#[test]
fn default_delivery_timeout_is_raised_to_linger_plus_request_timeout() {
    let (config, logs) = logs_of(|| config(&[("linger.ms", "100000")]).unwrap());
    assert_eq!(config.delivery_timeout(), Duration::from_millis(130_000));
    assert!(logs.contains("delivery.timeout.ms"), "{logs}");
    // Java caps linger + request timeout at i32::MAX.
    let config = self::config(&[("linger.ms", "9999999999999")]).unwrap();
    assert_eq!(
        config.delivery_timeout(),
        Duration::from_millis(i32::MAX as u64)
    );
}

#[test]
fn explicit_idempotence_conflicts_are_errors_naming_the_setting() {
    let err = error(&[("enable.idempotence", "true"), ("acks", "1")]);
    assert!(matches!(err, ConfigError::Conflict { .. }), "{err:?}");
    assert_eq!((err.key(), err.value()), ("acks", Some("1")));
    assert_eq!(
        err.to_string(),
        "enable.idempotence=true requires acks=all, but acks=1; set acks=all or set \
         enable.idempotence=false"
    );

    let err = error(&[("enable.idempotence", "true"), ("retries", "0")]);
    assert_eq!((err.key(), err.value()), ("retries", Some("0")));

    // Java checks retries before acks.
    let err = error(&[
        ("enable.idempotence", "true"),
        ("retries", "0"),
        ("acks", "0"),
    ]);
    assert_eq!(err.key(), "retries");

    let err = error(&[
        ("enable.idempotence", "true"),
        ("max.in.flight.requests.per.connection", "6"),
    ]);
    assert_eq!(
        (err.key(), err.value()),
        ("max.in.flight.requests.per.connection", Some("6"))
    );
    assert!(err.to_string().contains("<= 5, but it is 6"), "{err}");
}

#[test]
fn default_idempotence_gives_way_to_acks_and_retries_with_a_warning() {
    for (extra, reason) in [
        (&[("acks", "1")][..], "acks=1"),
        (&[("acks", "0")][..], "acks=0"),
        (&[("retries", "0")][..], "retries=0"),
    ] {
        let (config, logs) = logs_of(|| config(extra).unwrap());
        assert!(!config.idempotence_enabled(), "{extra:?}");
        assert!(logs.contains("WARN"), "{logs}");
        assert!(
            logs.contains(&format!("idempotence disabled because {reason}")),
            "{logs}"
        );
    }
    // Explicitly off: no warning.
    let (config, logs) =
        logs_of(|| config(&[("acks", "1"), ("enable.idempotence", "false")]).unwrap());
    assert!(!config.idempotence_enabled());
    assert!(!logs.contains("idempotence disabled"), "{logs}");
}

#[test]
fn more_than_five_in_flight_requests_need_idempotence_explicitly_off() {
    // Java 4.x rejects this even when idempotence is only the default.
    let err = error(&[("max.in.flight.requests.per.connection", "6")]);
    assert_eq!(err.key(), "max.in.flight.requests.per.connection");
    assert!(
        err.to_string().contains("idempotence (on by default)"),
        "{err}"
    );
    let err = error(&[
        ("acks", "1"),
        ("max.in.flight.requests.per.connection", "6"),
    ]);
    assert_eq!(err.key(), "max.in.flight.requests.per.connection");

    let config = config(&[
        ("enable.idempotence", "false"),
        ("max.in.flight.requests.per.connection", "6"),
    ])
    .unwrap();
    assert_eq!(config.max_in_flight_requests_per_connection(), 6);
}

#[test]
fn transactional_id_requires_idempotence() {
    let config = config(&[("transactional.id", "tx")]).unwrap();
    assert_eq!(config.transactional_id(), Some("tx"));
    assert!(config.idempotence_enabled());

    let err = error(&[("transactional.id", "tx"), ("enable.idempotence", "false")]);
    assert_eq!((err.key(), err.value()), ("transactional.id", Some("tx")));
    assert!(
        err.to_string().contains("enable.idempotence=false"),
        "{err}"
    );

    // The default idempotence is turned off by acks=1, and then the id conflicts.
    let err = error(&[("transactional.id", "tx"), ("acks", "1")]);
    assert_eq!(err.key(), "transactional.id");

    let err = error(&[("transactional.id", " ")]);
    assert_eq!(
        err.to_string(),
        "invalid value ' ' for 'transactional.id': expected a non-empty string"
    );
}

#[test]
fn unknown_keys_get_a_suggestion_when_one_is_close() {
    let err = error(&[("linger.msx", "5")]);
    assert_eq!(
        err,
        ConfigError::UnknownKey {
            key: "linger.msx".into(),
            suggestion: Some("linger.ms".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown producer config 'linger.msx'; did you mean 'linger.ms'?"
    );
    assert_eq!(err.value(), None);
    assert_eq!(
        error(&[("enable_idempotence", "true")]).to_string(),
        "unknown producer config 'enable_idempotence'; did you mean 'enable.idempotence'?"
    );
    assert_eq!(
        error(&[("group.id", "g")]).to_string(),
        "unknown producer config 'group.id'"
    );
}

#[test]
fn invalid_values_say_what_is_allowed() {
    let cases = [
        (("acks", "fast"), "expected one of all, -1, 0, 1"),
        (("acks", "ALL"), "expected one of all, -1, 0, 1"),
        (("retries", "-1"), "expected an integer in [0, 2147483647]"),
        (
            ("retries", "2147483648"),
            "expected an integer in [0, 2147483647]",
        ),
        (
            ("retries", "1_000"),
            "expected an integer in [0, 2147483647]",
        ),
        (
            ("batch.size", "-1"),
            "expected an integer in [0, 2147483647]",
        ),
        (
            ("linger.ms", "-1"),
            "expected an integer in [0, 9223372036854775807]",
        ),
        (
            ("buffer.memory", "lots"),
            "expected an integer in [0, 9223372036854775807]",
        ),
        (
            ("max.in.flight.requests.per.connection", "0"),
            "expected an integer in [1, 2147483647]",
        ),
        (
            ("metadata.max.idle.ms", "4999"),
            "expected an integer in [5000, 9223372036854775807]",
        ),
        (
            ("send.buffer.bytes", "-2"),
            "expected an integer in [-1, 2147483647]",
        ),
        (("enable.idempotence", "yes"), "expected true or false"),
        (
            ("compression.type", "GZIP"),
            "expected one of none, gzip, snappy, lz4, zstd",
        ),
        (
            ("compression.gzip.level", "0"),
            "expected an integer in [1, 9] or -1",
        ),
        (
            ("compression.lz4.level", "18"),
            "expected an integer in [1, 17]",
        ),
        (
            ("compression.zstd.level", "-131073"),
            "expected an integer in [-131072, 22]",
        ),
        (
            ("security.protocol", "TLS"),
            "expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
        ),
    ];
    for ((key, value), allowed) in cases {
        let err = error(&[(key, value)]);
        assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
        assert_eq!((err.key(), err.value()), (key, Some(value)));
        assert!(
            err.to_string()
                .starts_with(&format!("invalid value '{value}' for '{key}': {allowed}")),
            "{err}"
        );
    }
}

#[test]
fn values_are_parsed_as_java_parses_them() {
    let config = config(&[
        ("linger.ms", " +20 "),
        ("enable.idempotence", "TRUE"),
        ("acks", "-1"),
        ("security.protocol", "plaintext"),
        ("connections.max.idle.ms", "-1"),
        ("send.buffer.bytes", "-1"),
        ("compression.type", "lz4"),
        ("compression.lz4.level", "12"),
    ])
    .unwrap();
    assert_eq!(config.linger(), Duration::from_millis(20));
    assert!(config.idempotence_enabled());
    assert_eq!(config.acks(), Acks::All);
    assert_eq!(config.connections_max_idle(), None);
    assert_eq!(config.send_buffer_bytes(), None);
    assert_eq!(config.compression(), Compression::Lz4 { level: Some(12) });
}

#[test]
fn the_last_value_of_a_repeated_key_wins() {
    let config = config(&[
        ("acks", "fast"),
        ("acks", "1"),
        ("enable.idempotence", "false"),
    ])
    .unwrap();
    assert_eq!(config.acks(), Acks::Leader);
}

#[test]
fn reconnect_backoff_is_constant_when_only_its_base_is_set() {
    let config = config(&[("reconnect.backoff.ms", "200")]).unwrap();
    assert_eq!(config.reconnect_backoff(), Duration::from_millis(200));
    assert_eq!(config.reconnect_backoff_max(), Duration::from_millis(200));
    let config = self::config(&[
        ("reconnect.backoff.ms", "200"),
        ("reconnect.backoff.max.ms", "5000"),
    ])
    .unwrap();
    assert_eq!(config.reconnect_backoff_max(), Duration::from_secs(5));
}

#[test]
fn secrets_never_show_in_errors_logs_or_debug_output() {
    const SECRET: &str = "s3cr3t-hunter2";
    let jaas = format!(
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"{SECRET}\";"
    );
    for key in [
        "sasl.jaas.config",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.truststore.password",
        "sasl.password",
    ] {
        let value = if key == "sasl.jaas.config" {
            jaas.as_str()
        } else {
            SECRET
        };
        let (result, logs) =
            logs_of(|| config(&[("security.protocol", "PLAINTEXT"), (key, value)]));
        let shown = match result {
            // Java's security settings are accepted (and unused with PLAINTEXT).
            Ok(config) => {
                assert_ne!(key, "sasl.password");
                let props = config.properties();
                assert!(
                    props.iter().any(|(k, v)| *k == key && v == "[hidden]"),
                    "{props:?}"
                );
                [format!("{config}"), format!("{config:?}"), logs]
            }
            // librdkafka's sasl.password is not a Java setting.
            Err(err) => {
                assert_eq!(key, "sasl.password");
                assert!(matches!(err, ConfigError::Unsupported { .. }), "{err:?}");
                [err.to_string(), format!("{err:?}"), logs]
            }
        };
        for shown in shown {
            assert!(!shown.contains(SECRET), "{shown}");
        }
    }

    // Nor when they are used, or wrong.
    let (result, logs) = logs_of(|| {
        config(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "PLAIN"),
            ("sasl.jaas.config", &jaas),
            ("ssl.truststore.password", SECRET),
        ])
    });
    let config = result.expect("SASL_SSL with PLAIN");
    for shown in [format!("{config}"), format!("{config:?}"), logs] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let broken = jaas.replace("required", "");
    let (err, logs) = logs_of(|| {
        error(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "PLAIN"),
            ("sasl.jaas.config", &broken),
        ])
    });
    assert_eq!(err.key(), "sasl.jaas.config");
    for shown in [err.to_string(), format!("{err:?}"), logs] {
        assert!(!shown.contains(SECRET), "{shown}");
    }

    // A builder that saw a secret does not show it either.
    let (builder, logs) = logs_of(|| {
        ProducerConfig::builder()
            .bootstrap_servers("localhost:9092")
            .property("ssl.truststore.password", SECRET)
    });
    assert!(!format!("{builder:?}").contains(SECRET));
    assert!(!logs.contains(SECRET), "{logs}");
    assert!(!format!("{:?}", builder.build()).contains(SECRET));
}

#[test]
fn debug_and_display_show_the_effective_settings() {
    let config = config(&[("client.id", "app"), ("linger.ms", "7")]).unwrap();
    let debug = format!("{config:?}");
    assert!(debug.starts_with('{'), "{debug}");
    assert!(debug.contains("\"linger.ms\": \"7\""), "{debug}");
    let display = config.to_string();
    assert!(display.contains("\tlinger.ms = 7\n"), "{display}");
    assert!(display.contains("\tclient.id = app\n"), "{display}");
}

#[test]
fn java_only_keys_are_handled_per_key() {
    // JVM metrics plumbing: accepted with a warning.
    let (config, logs) = logs_of(|| self::config(&[("metric.reporters", "com.example.Reporter")]));
    assert!(config.is_ok());
    assert!(
        logs.contains("ignoring Java producer config 'metric.reporters'"),
        "{logs}"
    );

    // Kafka's own serializers: accepted (the Rust types decide the bytes).
    assert!(config_ok(&[
        (
            "key.serializer",
            "org.apache.kafka.common.serialization.StringSerializer"
        ),
        (
            "value.serializer",
            "org.apache.kafka.common.serialization.ByteArraySerializer"
        ),
    ]));
    // Any other serializer class would change the bytes: rejected.
    let err = error(&[(
        "value.serializer",
        "io.confluent.kafka.serializers.KafkaAvroSerializer",
    )]);
    assert!(matches!(err, ConfigError::Unsupported { .. }), "{err:?}");

    let err = error(&[(
        "partitioner.class",
        "org.apache.kafka.clients.producer.RoundRobinPartitioner",
    )]);
    assert_eq!(err.key(), "partitioner.class");
    assert!(err.to_string().contains("Rust trait objects"), "{err}");

    // Java's default sasl.mechanism is GSSAPI (Kerberos), which is not supported.
    let err = error(&[("security.protocol", "SASL_SSL")]);
    assert_eq!(err.key(), "sasl.mechanism");
    assert!(err.to_string().contains("GSSAPI"), "{err}");

    assert!(config_ok(&[("interceptor.classes", "")]));
    assert!(!config_ok(&[(
        "interceptor.classes",
        "com.acme.AuditInterceptor"
    )]));

    // The labels of Java's metrics reporters: accepted with a warning.
    let (config, logs) = logs_of(|| self::config(&[("metrics.context.team", "payments")]));
    assert!(config.is_ok());
    assert!(
        logs.contains("ignoring Java producer config 'metrics.context.team'"),
        "{logs}"
    );
    // Config providers are Java classes: refused, saying what to do instead.
    for (key, value) in [
        ("config.providers", "file"),
        (
            "config.providers.file.class",
            "org.apache.kafka.common.config.provider.FileConfigProvider",
        ),
    ] {
        let err = error(&[(key, value)]);
        assert!(matches!(err, ConfigError::Unsupported { .. }), "{err:?}");
        assert_eq!(err.key(), key);
        assert!(err.to_string().contains("placeholders"), "{err}");
    }
    assert!(config_ok(&[("config.providers", "")]));
    assert!(matches!(
        error(&[("config.providersx", "file")]),
        ConfigError::UnknownKey { .. }
    ));
}

#[test]
fn metadata_recovery_follows_javas_validators() {
    for (raw, expected) in [
        ("none", MetadataRecoveryStrategy::None),
        (" NONE ", MetadataRecoveryStrategy::None),
        ("Rebootstrap", MetadataRecoveryStrategy::Rebootstrap),
    ] {
        let config = config(&[("metadata.recovery.strategy", raw)]).expect(raw);
        assert_eq!(config.metadata_recovery_strategy(), expected, "{raw}");
    }
    let err = error(&[("metadata.recovery.strategy", "always")]);
    assert_eq!(
        err.to_string(),
        "invalid value 'always' for 'metadata.recovery.strategy': expected one of none, rebootstrap"
    );
    assert!(matches!(
        error(&[("metadata.recovery.rebootstrap.trigger.ms", "-1")]),
        ConfigError::InvalidValue { .. }
    ));
    // Applied (KIP-1102's timer), with nothing to warn about.
    let (config, logs) =
        logs_of(|| self::config(&[("metadata.recovery.rebootstrap.trigger.ms", "60000")]));
    assert_eq!(
        config
            .expect("valid")
            .metadata_recovery_rebootstrap_trigger(),
        Duration::from_secs(60)
    );
    assert!(!logs.contains("rebootstrap"), "{logs}");
}

#[test]
fn typed_sasl_login_values_are_checked_whatever_the_protocol() {
    // As Java's ConfigDef: checked when the producer is made, also over
    // PLAINTEXT, where they are not used (yet).
    for (key, raw, expected) in [
        (
            "sasl.login.refresh.window.factor",
            "2",
            "a number from 0.5 to 1",
        ),
        (
            "sasl.login.refresh.window.jitter",
            "0.5",
            "a number from 0 to 0.25",
        ),
        (
            "sasl.login.refresh.min.period.seconds",
            "901",
            "whole seconds from 0 to 900",
        ),
        (
            "sasl.login.refresh.buffer.seconds",
            "-1",
            "whole seconds from 0 to 3600",
        ),
        (
            "sasl.login.connect.timeout.ms",
            "10s",
            "a number of milliseconds",
        ),
        (
            "sasl.login.retry.backoff.max.ms",
            "soon",
            "a number of milliseconds",
        ),
        ("sasl.oauthbearer.header.urlencode", "yes", "true or false"),
    ] {
        let err = error(&[(key, raw)]);
        assert_eq!(
            err.to_string(),
            format!("invalid value '{raw}' for '{key}': expected {expected}"),
            "{key}={raw}"
        );
    }
    // In range, and unused over PLAINTEXT: accepted.
    assert!(config_ok(&[
        ("sasl.login.refresh.window.factor", "0.9"),
        ("sasl.login.refresh.buffer.seconds", " 3600 "),
        ("sasl.login.read.timeout.ms", "5000"),
        // A whole number, as Java's INT type takes it (no range there).
        ("sasl.login.connect.timeout.ms", "-1"),
        ("sasl.oauthbearer.header.urlencode", "TRUE"),
    ]));
}

fn config_ok(extra: &[(&str, &str)]) -> bool {
    config(extra).is_ok()
}

#[test]
fn builder_and_properties_agree() {
    let typed = ProducerConfig::builder()
        .bootstrap_servers("b1:9092,b2:9092")
        .client_id("orders")
        .acks(Acks::Leader)
        .enable_idempotence(false)
        .retries(3)
        .batch_size(65_536)
        .linger(Duration::from_millis(20))
        .buffer_memory(64 << 20)
        .max_block(Duration::from_secs(10))
        .request_timeout(Duration::from_secs(15))
        .delivery_timeout(Duration::from_secs(60))
        .retry_backoff(Duration::from_millis(200))
        .retry_backoff_max(Duration::from_secs(2))
        .max_in_flight_requests_per_connection(10)
        .max_request_size(2 << 20)
        .compression(Compression::Gzip { level: Some(4) })
        .partitioner_ignore_keys(true)
        .partitioner_adaptive_partitioning(false)
        .partitioner_availability_timeout(Duration::from_millis(500))
        .metadata_max_age(Duration::from_secs(60))
        .metadata_max_idle(Duration::from_secs(30))
        .transaction_timeout(Duration::from_secs(30))
        .connections_max_idle(None)
        .reconnect_backoff(Duration::from_millis(20))
        .reconnect_backoff_max(Duration::from_millis(500))
        .socket_connection_setup_timeout(Duration::from_secs(5))
        .socket_connection_setup_timeout_max(Duration::from_secs(20))
        .send_buffer_bytes(None)
        .receive_buffer_bytes(Some(65_536))
        .client_dns_lookup(ClientDnsLookup::UseAllDnsIps)
        .build()
        .unwrap();
    let from_strings = ProducerConfig::from_properties([
        ("bootstrap.servers", "b1:9092,b2:9092"),
        ("client.id", "orders"),
        ("acks", "1"),
        ("enable.idempotence", "false"),
        ("retries", "3"),
        ("batch.size", "65536"),
        ("linger.ms", "20"),
        ("buffer.memory", "67108864"),
        ("max.block.ms", "10000"),
        ("request.timeout.ms", "15000"),
        ("delivery.timeout.ms", "60000"),
        ("retry.backoff.ms", "200"),
        ("retry.backoff.max.ms", "2000"),
        ("max.in.flight.requests.per.connection", "10"),
        ("max.request.size", "2097152"),
        ("compression.type", "gzip"),
        ("compression.gzip.level", "4"),
        ("partitioner.ignore.keys", "true"),
        ("partitioner.adaptive.partitioning.enable", "false"),
        ("partitioner.availability.timeout.ms", "500"),
        ("metadata.max.age.ms", "60000"),
        ("metadata.max.idle.ms", "30000"),
        ("transaction.timeout.ms", "30000"),
        ("connections.max.idle.ms", "-1"),
        ("reconnect.backoff.ms", "20"),
        ("reconnect.backoff.max.ms", "500"),
        ("socket.connection.setup.timeout.ms", "5000"),
        ("socket.connection.setup.timeout.max.ms", "20000"),
        ("send.buffer.bytes", "-1"),
        ("receive.buffer.bytes", "65536"),
        ("client.dns.lookup", "use_all_dns_ips"),
    ])
    .unwrap();
    assert_eq!(typed, from_strings);
    assert_eq!(typed.compression(), Compression::Gzip { level: Some(4) });
    // The printed properties read back into the same configuration.
    assert_eq!(
        ProducerConfig::from_properties(typed.properties()).unwrap(),
        typed
    );
}

#[test]
fn builder_reports_the_first_invalid_value() {
    let err = ProducerConfig::builder()
        .bootstrap_servers("localhost:9092")
        .metadata_max_idle(Duration::from_secs(1))
        .max_in_flight_requests_per_connection(0)
        .build()
        .unwrap_err();
    assert_eq!(err.key(), "metadata.max.idle.ms");
    assert_eq!(err.value(), Some("1000"));

    let err = ProducerConfig::builder()
        .bootstrap_servers("localhost:9092")
        .request_timeout(Duration::from_secs(u64::MAX))
        .build()
        .unwrap_err();
    assert_eq!(err.key(), "request.timeout.ms");

    let err = ProducerConfig::builder()
        .bootstrap_servers("localhost:9092")
        .compression(Compression::Zstd { level: Some(23) })
        .build()
        .unwrap_err();
    assert_eq!(
        (err.key(), err.value()),
        ("compression.zstd.level", Some("23"))
    );

    let err = ProducerConfig::builder()
        .bootstrap_servers("localhost:9092")
        .batch_size(usize::MAX)
        .build()
        .unwrap_err();
    assert_eq!(err.key(), "batch.size");
}

#[test]
fn checking_properties_is_silent() {
    let ((checked, rejected), logs) = logs_of(|| {
        let checked = ProducerConfig::check_properties([
            BOOTSTRAP,
            ("acks", "1"),
            ("metrics.recording.level", "DEBUG"),
        ]);
        let rejected = ProducerConfig::check_properties([BOOTSTRAP, ("linger.msx", "1")]);
        (checked, rejected)
    });
    assert_eq!(checked, Ok(()));
    assert_eq!(rejected.unwrap_err().key(), "linger.msx");
    assert_eq!(logs, "");
}
