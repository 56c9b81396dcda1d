//! [`Settings`]: the values a user set explicitly, before defaults and the
//! cross-setting rules are applied, and how a Java-named string property sets one.
//!
//! Both front ends fill the same struct: `from_properties` through [`Settings::apply`],
//! the typed builder through its setters. Whether a key was set matters to Java's
//! rules (an explicit `enable.idempotence=true` that conflicts is an error, the
//! default is quietly turned off), so every field is an `Option`.

use super::keys::{self, JavaKey};
use super::security::SecuritySettings;
use super::types::{Codec, GZIP_LEVEL, LZ4_LEVEL, ZSTD_LEVEL};
use super::value::{self, INT_MAX, LONG_MAX};
use super::{
    Acks, ClientDnsLookup, ConfigError, MetadataRecoveryStrategy, RecordingLevel, bootstrap,
};

/// Explicitly set values, in the units and ranges of Java's `ConfigDef`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) bootstrap_servers: Option<Vec<String>>,
    pub(crate) client_id: Option<String>,
    pub(crate) acks: Option<Acks>,
    pub(crate) retries: Option<i64>,
    pub(crate) batch_size: Option<i64>,
    pub(crate) linger_ms: Option<i64>,
    pub(crate) buffer_memory: Option<i64>,
    pub(crate) max_block_ms: Option<i64>,
    pub(crate) request_timeout_ms: Option<i64>,
    pub(crate) delivery_timeout_ms: Option<i64>,
    pub(crate) retry_backoff_ms: Option<i64>,
    pub(crate) retry_backoff_max_ms: Option<i64>,
    pub(crate) max_in_flight: Option<i64>,
    pub(crate) max_request_size: Option<i64>,
    pub(crate) codec: Option<Codec>,
    pub(crate) gzip_level: Option<i32>,
    pub(crate) lz4_level: Option<i32>,
    pub(crate) zstd_level: Option<i32>,
    pub(crate) enable_idempotence: Option<bool>,
    pub(crate) enable_metrics_push: Option<bool>,
    pub(crate) partitioner_ignore_keys: Option<bool>,
    pub(crate) partitioner_adaptive: Option<bool>,
    pub(crate) partitioner_availability_timeout_ms: Option<i64>,
    pub(crate) metadata_max_age_ms: Option<i64>,
    pub(crate) metadata_max_idle_ms: Option<i64>,
    pub(crate) metadata_recovery_strategy: Option<MetadataRecoveryStrategy>,
    pub(crate) metadata_recovery_rebootstrap_trigger_ms: Option<i64>,
    pub(crate) transactional_id: Option<String>,
    pub(crate) transaction_timeout_ms: Option<i64>,
    pub(crate) connections_max_idle_ms: Option<i64>,
    pub(crate) reconnect_backoff_ms: Option<i64>,
    pub(crate) reconnect_backoff_max_ms: Option<i64>,
    pub(crate) socket_connection_setup_timeout_ms: Option<i64>,
    pub(crate) socket_connection_setup_timeout_max_ms: Option<i64>,
    pub(crate) send_buffer_bytes: Option<i64>,
    pub(crate) receive_buffer_bytes: Option<i64>,
    pub(crate) client_dns_lookup: Option<ClientDnsLookup>,
    pub(crate) metrics_sample_window_ms: Option<i64>,
    pub(crate) metrics_num_samples: Option<i64>,
    pub(crate) metrics_recording_level: Option<RecordingLevel>,
    /// `security.protocol`, `ssl.*`, `sasl.*` (its `Debug` hides secrets).
    pub(crate) security: SecuritySettings,
}

/// The `[min, max]` Java's validators give each numeric key; the typed builder checks
/// the same ranges.
pub(crate) mod range {
    use super::{INT_MAX, LONG_MAX};
    pub(crate) const RETRIES: (i64, i64) = (0, INT_MAX);
    pub(crate) const BATCH_SIZE: (i64, i64) = (0, INT_MAX);
    pub(crate) const LINGER_MS: (i64, i64) = (0, LONG_MAX);
    pub(crate) const BUFFER_MEMORY: (i64, i64) = (0, LONG_MAX);
    pub(crate) const MAX_BLOCK_MS: (i64, i64) = (0, LONG_MAX);
    pub(crate) const REQUEST_TIMEOUT_MS: (i64, i64) = (0, INT_MAX);
    pub(crate) const DELIVERY_TIMEOUT_MS: (i64, i64) = (0, INT_MAX);
    pub(crate) const BACKOFF_MS: (i64, i64) = (0, LONG_MAX);
    pub(crate) const MAX_IN_FLIGHT: (i64, i64) = (1, INT_MAX);
    pub(crate) const MAX_REQUEST_SIZE: (i64, i64) = (0, INT_MAX);
    pub(crate) const AVAILABILITY_TIMEOUT_MS: (i64, i64) = (0, LONG_MAX);
    pub(crate) const METADATA_MAX_AGE_MS: (i64, i64) = (0, LONG_MAX);
    pub(crate) const METADATA_MAX_IDLE_MS: (i64, i64) = (5_000, LONG_MAX);
    pub(crate) const REBOOTSTRAP_TRIGGER_MS: (i64, i64) = (0, LONG_MAX);
    /// Java has no validator here (the broker rejects bad values); a negative
    /// timeout means nothing, so it is rejected up front.
    pub(crate) const TRANSACTION_TIMEOUT_MS: (i64, i64) = (0, INT_MAX);
    /// Any value: negative means "never close idle connections", as in Java.
    pub(crate) const CONNECTIONS_MAX_IDLE_MS: (i64, i64) = (i64::MIN, LONG_MAX);
    /// Java has no validator; negative timeouts mean nothing and are rejected.
    pub(crate) const SOCKET_SETUP_TIMEOUT_MS: (i64, i64) = (0, LONG_MAX);
    /// -1 is the OS default.
    pub(crate) const SOCKET_BUFFER: (i64, i64) = (-1, INT_MAX);
    pub(crate) const METRICS_SAMPLE_WINDOW_MS: (i64, i64) = (0, LONG_MAX);
    pub(crate) const METRICS_NUM_SAMPLES: (i64, i64) = (1, INT_MAX);
}

impl Settings {
    /// Sets `key` from its Java string form, or says why it cannot.
    pub(crate) fn apply(&mut self, key: &str, raw: &str) -> Result<(), ConfigError> {
        match keys::classify(key) {
            JavaKey::Supported => self.apply_supported(key, raw),
            JavaKey::Ignored => {
                tracing::warn!(
                    key,
                    value = %keys::redact(key, raw),
                    "ignoring Java producer config '{key}': it has no effect on this producer"
                );
                Ok(())
            }
            JavaKey::Serializer => serializer(key, raw),
            JavaKey::Class => class_list(key, raw),
            JavaKey::FeatureFlag => two_phase_commit(key, raw),
            JavaKey::Security => Err(ConfigError::unsupported(key, unsupported_security(key))),
            JavaKey::Unknown => Err(ConfigError::UnknownKey {
                key: key.to_owned(),
                suggestion: keys::suggest(key).map(str::to_owned),
            }),
        }
    }

    fn apply_supported(&mut self, key: &str, raw: &str) -> Result<(), ConfigError> {
        let int = |(min, max): (i64, i64)| value::integer(key, raw, min, max);
        match key {
            keys::BOOTSTRAP_SERVERS => self.bootstrap_servers = Some(bootstrap::parse_list(raw)?),
            keys::CLIENT_ID => self.client_id = Some(raw.trim().to_owned()),
            keys::ACKS => self.acks = Some(raw.parse()?),
            keys::RETRIES => self.retries = Some(int(range::RETRIES)?),
            keys::BATCH_SIZE => self.batch_size = Some(int(range::BATCH_SIZE)?),
            keys::LINGER_MS => self.linger_ms = Some(int(range::LINGER_MS)?),
            keys::BUFFER_MEMORY => self.buffer_memory = Some(int(range::BUFFER_MEMORY)?),
            keys::MAX_BLOCK_MS => self.max_block_ms = Some(int(range::MAX_BLOCK_MS)?),
            keys::REQUEST_TIMEOUT_MS => {
                self.request_timeout_ms = Some(int(range::REQUEST_TIMEOUT_MS)?)
            }
            keys::DELIVERY_TIMEOUT_MS => {
                self.delivery_timeout_ms = Some(int(range::DELIVERY_TIMEOUT_MS)?)
            }
            keys::RETRY_BACKOFF_MS => self.retry_backoff_ms = Some(int(range::BACKOFF_MS)?),
            keys::RETRY_BACKOFF_MAX_MS => self.retry_backoff_max_ms = Some(int(range::BACKOFF_MS)?),
            keys::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION => {
                self.max_in_flight = Some(int(range::MAX_IN_FLIGHT)?)
            }
            keys::MAX_REQUEST_SIZE => self.max_request_size = Some(int(range::MAX_REQUEST_SIZE)?),
            keys::COMPRESSION_TYPE => self.codec = Some(value::one_of(key, raw, &Codec::CHOICES)?),
            keys::COMPRESSION_GZIP_LEVEL => self.gzip_level = Some(GZIP_LEVEL.parse(raw)?),
            keys::COMPRESSION_LZ4_LEVEL => self.lz4_level = Some(LZ4_LEVEL.parse(raw)?),
            keys::COMPRESSION_ZSTD_LEVEL => self.zstd_level = Some(ZSTD_LEVEL.parse(raw)?),
            keys::ENABLE_IDEMPOTENCE => self.enable_idempotence = Some(value::boolean(key, raw)?),
            keys::ENABLE_METRICS_PUSH => self.enable_metrics_push = Some(value::boolean(key, raw)?),
            keys::PARTITIONER_IGNORE_KEYS => {
                self.partitioner_ignore_keys = Some(value::boolean(key, raw)?)
            }
            keys::PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE => {
                self.partitioner_adaptive = Some(value::boolean(key, raw)?)
            }
            keys::PARTITIONER_AVAILABILITY_TIMEOUT_MS => {
                self.partitioner_availability_timeout_ms =
                    Some(int(range::AVAILABILITY_TIMEOUT_MS)?)
            }
            keys::METADATA_MAX_AGE_MS => {
                self.metadata_max_age_ms = Some(int(range::METADATA_MAX_AGE_MS)?)
            }
            keys::METADATA_MAX_IDLE_MS => {
                self.metadata_max_idle_ms = Some(int(range::METADATA_MAX_IDLE_MS)?)
            }
            keys::METADATA_RECOVERY_STRATEGY => {
                self.metadata_recovery_strategy = Some(raw.parse()?)
            }
            keys::METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS => {
                self.metadata_recovery_rebootstrap_trigger_ms =
                    Some(int(range::REBOOTSTRAP_TRIGGER_MS)?)
            }
            keys::TRANSACTIONAL_ID => self.transactional_id = Some(transactional_id(raw)?),
            keys::TRANSACTION_TIMEOUT_MS => {
                self.transaction_timeout_ms = Some(int(range::TRANSACTION_TIMEOUT_MS)?)
            }
            keys::CONNECTIONS_MAX_IDLE_MS => {
                self.connections_max_idle_ms = Some(int(range::CONNECTIONS_MAX_IDLE_MS)?)
            }
            keys::RECONNECT_BACKOFF_MS => self.reconnect_backoff_ms = Some(int(range::BACKOFF_MS)?),
            keys::RECONNECT_BACKOFF_MAX_MS => {
                self.reconnect_backoff_max_ms = Some(int(range::BACKOFF_MS)?)
            }
            keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MS => {
                self.socket_connection_setup_timeout_ms = Some(int(range::SOCKET_SETUP_TIMEOUT_MS)?)
            }
            keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS => {
                self.socket_connection_setup_timeout_max_ms =
                    Some(int(range::SOCKET_SETUP_TIMEOUT_MS)?)
            }
            keys::SEND_BUFFER_BYTES => self.send_buffer_bytes = Some(int(range::SOCKET_BUFFER)?),
            keys::RECEIVE_BUFFER_BYTES => {
                self.receive_buffer_bytes = Some(int(range::SOCKET_BUFFER)?)
            }
            keys::SECURITY_PROTOCOL => self.security.protocol = Some(raw.parse()?),
            keys::CLIENT_DNS_LOOKUP => self.client_dns_lookup = Some(raw.parse()?),
            keys::METRICS_SAMPLE_WINDOW_MS => {
                self.metrics_sample_window_ms = Some(int(range::METRICS_SAMPLE_WINDOW_MS)?)
            }
            keys::METRICS_NUM_SAMPLES => {
                self.metrics_num_samples = Some(int(range::METRICS_NUM_SAMPLES)?)
            }
            keys::METRICS_RECORDING_LEVEL => self.metrics_recording_level = Some(raw.parse()?),
            key if SecuritySettings::handles(key) => self.security.set(key, raw)?,
            // `SUPPORTED` and this match list the same keys; a test checks it.
            _ => {
                return Err(ConfigError::unsupported(
                    key,
                    "recognised but not wired up; please report this as a bug",
                ));
            }
        }
        Ok(())
    }
}

/// `transactional.id`: Java's `NonEmptyString` validator.
pub(crate) fn transactional_id(raw: &str) -> Result<String, ConfigError> {
    let id = raw.trim();
    if id.is_empty() {
        Err(ConfigError::invalid(
            keys::TRANSACTIONAL_ID,
            raw,
            "a non-empty string",
        ))
    } else {
        Ok(id.to_owned())
    }
}

/// Why a Java `ssl.*`/`sasl.*` key this producer does not implement is refused.
fn unsupported_security(key: &str) -> &'static str {
    if key.starts_with("sasl.kerberos.") {
        "GSSAPI (Kerberos) is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"
    } else if key.ends_with(".class") {
        "it names a Java class; TLS and SASL are configured with the ssl.* and sasl.* settings \
         this producer implements (see kafka_core::config::keys)"
    } else if key.starts_with("ssl.") {
        "TLS runs on rustls with its own cipher suites, key and trust managers and random \
         source; set ssl.truststore.*, ssl.keystore.*, ssl.enabled.protocols and \
         ssl.endpoint.identification.algorithm instead"
    } else {
        "this SASL setting is not implemented; supported are sasl.mechanism, sasl.jaas.config, \
         sasl.login.refresh.*, sasl.login.*timeout.ms, sasl.login.retry.backoff.* and the \
         sasl.oauthbearer.* settings of the OIDC client-credentials login"
    }
}

/// `key.serializer` / `value.serializer`: Kafka's own serializers are accepted and
/// ignored (the Rust value's type decides the bytes, and for these classes the bytes
/// are the same); any other class would change the bytes on the wire, so it is an error.
fn serializer(key: &str, raw: &str) -> Result<(), ConfigError> {
    let class = raw.trim();
    if class.is_empty() || keys::is_kafka_serializer(class) {
        tracing::debug!(
            key,
            class,
            "ignoring '{key}': serialization is chosen by the Rust key and value types"
        );
        Ok(())
    } else {
        Err(ConfigError::unsupported(
            key,
            format!(
                "'{class}' is a Java class; serialize keys and values in Rust instead \
                 (implement the serializer trait for your type)"
            ),
        ))
    }
}

/// `partitioner.class`, `interceptor.classes` and the config providers name
/// Java classes.
fn class_list(key: &str, raw: &str) -> Result<(), ConfigError> {
    if matches!(key, "interceptor.classes" | "config.providers") && raw.trim().is_empty() {
        return Ok(());
    }
    let instead = if key == "partitioner.class" {
        "custom partitioners are Rust trait objects: implement \
         kafka_core::Partitioner and pass it to the producer builder"
    } else if key.starts_with("config.providers") {
        "config providers are not available here: resolve the value before it reaches the \
         producer (kafka-template resolves ${VAR} placeholders from the environment and from \
         its other settings)"
    } else {
        "interceptors are Rust trait objects: implement kafka_template::ProducerInterceptor \
         and register it with KafkaTemplate::builder().interceptor(...) (the bare producer has \
         no interceptors; wrap its send calls instead)"
    };
    Err(ConfigError::unsupported(
        key,
        format!("it names Java classes; {instead}"),
    ))
}

/// `transaction.two.phase.commit.enable`: only its default (`false`) is available.
fn two_phase_commit(key: &str, raw: &str) -> Result<(), ConfigError> {
    if value::boolean(key, raw)? {
        Err(ConfigError::unsupported(
            key,
            "two-phase commit transactions (KIP-939) are not supported yet",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::SecurityProtocol;

    #[test]
    fn every_supported_key_is_wired_up() {
        let samples = [
            (keys::BOOTSTRAP_SERVERS, "localhost:9092"),
            (keys::ACKS, "1"),
            (keys::COMPRESSION_TYPE, "gzip"),
            (keys::COMPRESSION_GZIP_LEVEL, "5"),
            (keys::COMPRESSION_LZ4_LEVEL, "5"),
            (keys::COMPRESSION_ZSTD_LEVEL, "5"),
            (keys::ENABLE_IDEMPOTENCE, "false"),
            (keys::PARTITIONER_IGNORE_KEYS, "true"),
            (keys::ENABLE_METRICS_PUSH, "false"),
            (keys::PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE, "false"),
            (keys::SECURITY_PROTOCOL, "plaintext"),
            (keys::CLIENT_DNS_LOOKUP, "use_all_dns_ips"),
            (keys::METADATA_RECOVERY_STRATEGY, "NONE"),
            (keys::CLIENT_ID, "me"),
            (keys::TRANSACTIONAL_ID, "tx"),
            (keys::METRICS_RECORDING_LEVEL, "DEBUG"),
        ];
        for key in keys::SUPPORTED {
            let raw = samples
                .iter()
                .find(|(k, _)| k == key)
                .map_or("6000", |(_, v)| v);
            let mut settings = Settings::default();
            assert_eq!(settings.apply(key, raw), Ok(()), "{key}={raw}");
        }
    }

    #[test]
    fn metrics_settings_follow_javas_validators() {
        let mut settings = Settings::default();
        assert!(settings.apply(keys::METRICS_NUM_SAMPLES, "0").is_err());
        assert!(
            settings
                .apply(keys::METRICS_SAMPLE_WINDOW_MS, "-1")
                .is_err()
        );
        // Java's `in(INFO, DEBUG, TRACE)` is case-sensitive.
        assert!(
            settings
                .apply(keys::METRICS_RECORDING_LEVEL, "info")
                .is_err()
        );
        assert_eq!(
            settings.apply(keys::METRICS_RECORDING_LEVEL, "TRACE"),
            Ok(())
        );
        assert_eq!(settings.apply(keys::METRICS_NUM_SAMPLES, "3"), Ok(()));
        assert_eq!(
            settings.apply(keys::METRICS_SAMPLE_WINDOW_MS, "1000"),
            Ok(())
        );
        assert_eq!(
            settings.metrics_recording_level,
            Some(RecordingLevel::Trace)
        );
        assert_eq!(settings.metrics_num_samples, Some(3));
        assert_eq!(settings.metrics_sample_window_ms, Some(1000));
    }

    #[test]
    fn java_class_keys_are_explained() {
        let mut settings = Settings::default();
        let err = settings
            .apply(
                "partitioner.class",
                "org.apache.kafka.clients.producer.RoundRobinPartitioner",
            )
            .unwrap_err();
        assert!(matches!(err, ConfigError::Unsupported { .. }));
        assert!(err.to_string().contains("Partitioner"), "{err}");
        assert!(err.to_string().contains("producer builder"), "{err}");

        assert_eq!(settings.apply("interceptor.classes", ""), Ok(()));
        assert!(
            settings
                .apply("interceptor.classes", "com.acme.Audit")
                .is_err()
        );
    }

    #[test]
    fn serializers_kafka_ships_are_accepted_others_are_not() {
        let mut settings = Settings::default();
        assert_eq!(
            settings.apply(
                "key.serializer",
                "org.apache.kafka.common.serialization.StringSerializer"
            ),
            Ok(())
        );
        assert_eq!(
            settings.apply("value.serializer", "ByteArraySerializer"),
            Ok(())
        );
        let err = settings
            .apply(
                "value.serializer",
                "io.confluent.kafka.serializers.KafkaAvroSerializer",
            )
            .unwrap_err();
        assert!(err.to_string().contains("KafkaAvroSerializer"), "{err}");
    }

    #[test]
    fn ignored_keys_are_accepted() {
        let mut settings = Settings::default();
        for key in ["security.providers", "metric.reporters"] {
            assert_eq!(settings.apply(key, "whatever"), Ok(()), "{key}");
        }
    }

    #[test]
    fn two_phase_commit_only_at_its_default() {
        let mut settings = Settings::default();
        let key = "transaction.two.phase.commit.enable";
        assert_eq!(settings.apply(key, "false"), Ok(()));
        assert!(matches!(
            settings.apply(key, "true"),
            Err(ConfigError::Unsupported { .. })
        ));
        assert!(matches!(
            settings.apply(key, "maybe"),
            Err(ConfigError::InvalidValue { .. })
        ));
    }

    #[test]
    fn security_protocols_are_parsed_as_java_names() {
        let mut settings = Settings::default();
        for (raw, protocol) in [
            ("PLAINTEXT", SecurityProtocol::Plaintext),
            ("SSL", SecurityProtocol::Ssl),
            ("sasl_ssl", SecurityProtocol::SaslSsl),
            (" SASL_PLAINTEXT ", SecurityProtocol::SaslPlaintext),
        ] {
            assert_eq!(settings.apply(keys::SECURITY_PROTOCOL, raw), Ok(()));
            assert_eq!(settings.security.protocol, Some(protocol));
        }
        assert!(matches!(
            settings.apply(keys::SECURITY_PROTOCOL, "TLS"),
            Err(ConfigError::InvalidValue { .. })
        ));
        let err = settings
            .apply("sasl.kerberos.service.name", "kafka")
            .unwrap_err();
        assert!(err.to_string().contains("GSSAPI"), "{err}");
        let err = settings.apply("ssl.cipher.suites", "X").unwrap_err();
        assert!(matches!(err, ConfigError::Unsupported { .. }), "{err}");
    }

    #[test]
    fn security_settings_hide_secrets_in_debug() {
        let mut settings = Settings::default();
        settings
            .apply(
                keys::SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.plain.PlainLoginModule required \
                 username=\"alice\" password=\"hunter2\";",
            )
            .unwrap();
        settings.apply(keys::SSL_KEY_PASSWORD, "hunter3").unwrap();
        settings.apply(keys::SASL_MECHANISM, "PLAIN").unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter"), "{debug}");
        assert!(debug.contains("PLAIN"), "{debug}");
    }
}
