//! The producer's configuration keys, with the Java client's names.
//!
//! The constants are the keys this producer implements. Besides them, every key
//! Kafka 4.1's Java `ProducerConfig` defines is *recognised*: a Java setting this
//! producer does not implement is either ignored with a warning (JVM metrics and
//! similar plumbing with no effect on what is sent) or rejected with
//! [`ConfigError::Unsupported`](super::ConfigError::Unsupported) saying why (TLS,
//! SASL, Java class names); see `JavaKey`. Anything else is an unknown key, for
//! which a close known key is suggested.

use std::borrow::Cow;

/// `bootstrap.servers`: comma-separated `host:port` list used to find the cluster.
pub const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
/// `client.id`: id sent with each request; generated as `producer-N` when unset.
pub const CLIENT_ID: &str = "client.id";
/// `acks`: `all`/`-1`, `0` or `1`.
pub const ACKS: &str = "acks";
/// `retries`: how often a failed batch is retried (bounded by `delivery.timeout.ms`).
pub const RETRIES: &str = "retries";
/// `batch.size`: target size in bytes of a per-partition batch.
pub const BATCH_SIZE: &str = "batch.size";
/// `linger.ms`: how long a batch may wait to fill.
pub const LINGER_MS: &str = "linger.ms";
/// `buffer.memory`: bytes the producer may hold for unsent records.
pub const BUFFER_MEMORY: &str = "buffer.memory";
/// `max.block.ms`: how long `send` may wait for metadata or buffer space.
pub const MAX_BLOCK_MS: &str = "max.block.ms";
/// `request.timeout.ms`: how long one request may wait for its response.
pub const REQUEST_TIMEOUT_MS: &str = "request.timeout.ms";
/// `delivery.timeout.ms`: upper bound on the whole send, retries included.
pub const DELIVERY_TIMEOUT_MS: &str = "delivery.timeout.ms";
/// `retry.backoff.ms`: first wait before a retry.
pub const RETRY_BACKOFF_MS: &str = "retry.backoff.ms";
/// `retry.backoff.max.ms`: cap of the exponential retry backoff.
pub const RETRY_BACKOFF_MAX_MS: &str = "retry.backoff.max.ms";
/// `max.in.flight.requests.per.connection`: unacknowledged requests per connection.
pub const MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION: &str = "max.in.flight.requests.per.connection";
/// `max.request.size`: largest request (and uncompressed batch) in bytes.
pub const MAX_REQUEST_SIZE: &str = "max.request.size";
/// `compression.type`: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
pub const COMPRESSION_TYPE: &str = "compression.type";
/// `compression.gzip.level`: 1..=9, or -1 for the codec default.
pub const COMPRESSION_GZIP_LEVEL: &str = "compression.gzip.level";
/// `compression.lz4.level`: 1..=17.
pub const COMPRESSION_LZ4_LEVEL: &str = "compression.lz4.level";
/// `compression.zstd.level`: -131072..=22.
pub const COMPRESSION_ZSTD_LEVEL: &str = "compression.zstd.level";
/// `enable.idempotence`: deduplicate retries with a producer id and sequences.
pub const ENABLE_IDEMPOTENCE: &str = "enable.idempotence";
/// `enable.metrics.push`: push client metrics to brokers whose client-metrics
/// subscriptions ask for them (KIP-714).
pub const ENABLE_METRICS_PUSH: &str = "enable.metrics.push";
/// `partitioner.ignore.keys`: spread keyed records like keyless ones.
pub const PARTITIONER_IGNORE_KEYS: &str = "partitioner.ignore.keys";
/// `partitioner.adaptive.partitioning.enable`: favour partitions with shorter queues.
pub const PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE: &str =
    "partitioner.adaptive.partitioning.enable";
/// `partitioner.availability.timeout.ms`: skip partitions whose leader is this slow.
pub const PARTITIONER_AVAILABILITY_TIMEOUT_MS: &str = "partitioner.availability.timeout.ms";
/// `metadata.max.age.ms`: refresh metadata at least this often.
pub const METADATA_MAX_AGE_MS: &str = "metadata.max.age.ms";
/// `metadata.max.idle.ms`: forget metadata of topics idle this long.
pub const METADATA_MAX_IDLE_MS: &str = "metadata.max.idle.ms";
/// `metadata.recovery.strategy` (KIP-899): `rebootstrap` (the default) or
/// `none`, what the producer does when no broker it knows can be reached.
pub const METADATA_RECOVERY_STRATEGY: &str = "metadata.recovery.strategy";
/// `metadata.recovery.rebootstrap.trigger.ms` (KIP-1102).
pub const METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS: &str =
    "metadata.recovery.rebootstrap.trigger.ms";
/// `transactional.id`: enables transactions.
pub const TRANSACTIONAL_ID: &str = "transactional.id";
/// `transaction.timeout.ms`: how long a transaction may stay open.
pub const TRANSACTION_TIMEOUT_MS: &str = "transaction.timeout.ms";
/// `connections.max.idle.ms`: close connections idle this long (negative: never).
pub const CONNECTIONS_MAX_IDLE_MS: &str = "connections.max.idle.ms";
/// `reconnect.backoff.ms`: first wait before reconnecting to a broker.
pub const RECONNECT_BACKOFF_MS: &str = "reconnect.backoff.ms";
/// `reconnect.backoff.max.ms`: cap of the exponential reconnect backoff.
pub const RECONNECT_BACKOFF_MAX_MS: &str = "reconnect.backoff.max.ms";
/// `socket.connection.setup.timeout.ms`: first connect timeout.
pub const SOCKET_CONNECTION_SETUP_TIMEOUT_MS: &str = "socket.connection.setup.timeout.ms";
/// `socket.connection.setup.timeout.max.ms`: cap of the growing connect timeout.
pub const SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS: &str = "socket.connection.setup.timeout.max.ms";
/// `send.buffer.bytes`: `SO_SNDBUF`, -1 for the OS default.
pub const SEND_BUFFER_BYTES: &str = "send.buffer.bytes";
/// `receive.buffer.bytes`: `SO_RCVBUF`, -1 for the OS default.
pub const RECEIVE_BUFFER_BYTES: &str = "receive.buffer.bytes";
/// `security.protocol`: `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
pub const SECURITY_PROTOCOL: &str = "security.protocol";
/// `ssl.truststore.location`: file of the certificates trusted to sign the brokers'.
pub const SSL_TRUSTSTORE_LOCATION: &str = "ssl.truststore.location";
/// `ssl.truststore.type`: `PKCS12` (default) or `PEM`.
pub const SSL_TRUSTSTORE_TYPE: &str = "ssl.truststore.type";
/// `ssl.truststore.password`: password of a PKCS12 trust store (secret).
pub const SSL_TRUSTSTORE_PASSWORD: &str = "ssl.truststore.password";
/// `ssl.truststore.certificates`: trusted certificates inline, PEM (KIP-651).
pub const SSL_TRUSTSTORE_CERTIFICATES: &str = "ssl.truststore.certificates";
/// `ssl.keystore.location`: file of the client's key and certificate chain (mTLS).
pub const SSL_KEYSTORE_LOCATION: &str = "ssl.keystore.location";
/// `ssl.keystore.type`: `PKCS12` (default) or `PEM`.
pub const SSL_KEYSTORE_TYPE: &str = "ssl.keystore.type";
/// `ssl.keystore.password`: password of the key store (secret).
pub const SSL_KEYSTORE_PASSWORD: &str = "ssl.keystore.password";
/// `ssl.key.password`: password of the private key (secret).
pub const SSL_KEY_PASSWORD: &str = "ssl.key.password";
/// `ssl.keystore.certificate.chain`: the client's certificate chain inline, PEM.
pub const SSL_KEYSTORE_CERTIFICATE_CHAIN: &str = "ssl.keystore.certificate.chain";
/// `ssl.keystore.key`: the client's private key inline, PEM PKCS#8 (secret).
pub const SSL_KEYSTORE_KEY: &str = "ssl.keystore.key";
/// `ssl.endpoint.identification.algorithm`: `https` (default) checks the broker's
/// host name against its certificate; empty turns the check off.
pub const SSL_ENDPOINT_IDENTIFICATION_ALGORITHM: &str = "ssl.endpoint.identification.algorithm";
/// `ssl.enabled.protocols`: `TLSv1.2,TLSv1.3` by default.
pub const SSL_ENABLED_PROTOCOLS: &str = "ssl.enabled.protocols";
/// `ssl.protocol`: `TLSv1.3` (default) or `TLSv1.2`; only the enabled protocols count.
pub const SSL_PROTOCOL: &str = "ssl.protocol";
/// `sasl.mechanism`: `GSSAPI` (Java's default, not supported), `PLAIN`,
/// `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`.
pub const SASL_MECHANISM: &str = "sasl.mechanism";
/// `sasl.jaas.config`: the login module and its options (secret).
pub const SASL_JAAS_CONFIG: &str = "sasl.jaas.config";
/// `sasl.login.callback.handler.class`: Kafka's OAuth handler selects the OIDC provider.
pub const SASL_LOGIN_CALLBACK_HANDLER_CLASS: &str = "sasl.login.callback.handler.class";
/// `sasl.login.refresh.window.factor`: refresh a token at this share of its life (0.8).
pub const SASL_LOGIN_REFRESH_WINDOW_FACTOR: &str = "sasl.login.refresh.window.factor";
/// `sasl.login.refresh.window.jitter`: random share of a token's life added
/// to the window factor (0.05, at most 0.25).
pub const SASL_LOGIN_REFRESH_WINDOW_JITTER: &str = "sasl.login.refresh.window.jitter";
/// `sasl.login.refresh.min.period.seconds`: wait at least this long after a
/// token is fetched before fetching another (60, at most 900).
pub const SASL_LOGIN_REFRESH_MIN_PERIOD_SECONDS: &str = "sasl.login.refresh.min.period.seconds";
/// `sasl.login.refresh.buffer.seconds`: refresh at least this long before expiry (300).
pub const SASL_LOGIN_REFRESH_BUFFER_SECONDS: &str = "sasl.login.refresh.buffer.seconds";
/// `sasl.login.connect.timeout.ms`: connect timeout of the token endpoint (10 s).
pub const SASL_LOGIN_CONNECT_TIMEOUT_MS: &str = "sasl.login.connect.timeout.ms";
/// `sasl.login.read.timeout.ms`: read timeout of the token endpoint (10 s).
pub const SASL_LOGIN_READ_TIMEOUT_MS: &str = "sasl.login.read.timeout.ms";
/// `sasl.login.retry.backoff.ms`: first wait before retrying the token endpoint (100 ms).
pub const SASL_LOGIN_RETRY_BACKOFF_MS: &str = "sasl.login.retry.backoff.ms";
/// `sasl.login.retry.backoff.max.ms`: cap of that wait (10 s).
pub const SASL_LOGIN_RETRY_BACKOFF_MAX_MS: &str = "sasl.login.retry.backoff.max.ms";
/// `sasl.oauthbearer.token.endpoint.url`: the OIDC token endpoint (KIP-768).
pub const SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: &str = "sasl.oauthbearer.token.endpoint.url";
/// `sasl.oauthbearer.scope.claim.name`: the token's scope claim (`scope`).
pub const SASL_OAUTHBEARER_SCOPE_CLAIM_NAME: &str = "sasl.oauthbearer.scope.claim.name";
/// `sasl.oauthbearer.sub.claim.name`: the token's subject claim (`sub`).
pub const SASL_OAUTHBEARER_SUB_CLAIM_NAME: &str = "sasl.oauthbearer.sub.claim.name";
/// `sasl.oauthbearer.client.credentials.client.id`: OAuth client id (KIP-1139;
/// else the JAAS option `clientId`).
pub const SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_ID: &str =
    "sasl.oauthbearer.client.credentials.client.id";
/// `sasl.oauthbearer.client.credentials.client.secret`: OAuth client secret (secret;
/// else the JAAS option `clientSecret`).
pub const SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_SECRET: &str =
    "sasl.oauthbearer.client.credentials.client.secret";
/// `sasl.oauthbearer.scope`: scope asked of the token endpoint (else JAAS `scope`).
pub const SASL_OAUTHBEARER_SCOPE: &str = "sasl.oauthbearer.scope";
/// `sasl.oauthbearer.header.urlencode` (KIP-1025): form-encode the client id
/// and secret in the token request's Basic header (false: sent as written).
pub const SASL_OAUTHBEARER_HEADER_URLENCODE: &str = "sasl.oauthbearer.header.urlencode";
/// `client.dns.lookup`: `use_all_dns_ips` or `resolve_canonical_bootstrap_servers_only`.
pub const CLIENT_DNS_LOOKUP: &str = "client.dns.lookup";

/// `metrics.sample.window.ms`: the span of one sample of the windowed metrics.
pub const METRICS_SAMPLE_WINDOW_MS: &str = "metrics.sample.window.ms";
/// `metrics.num.samples`: how many samples the windowed metrics keep.
pub const METRICS_NUM_SAMPLES: &str = "metrics.num.samples";
/// `metrics.recording.level`: `INFO`, `DEBUG` or `TRACE`.
pub const METRICS_RECORDING_LEVEL: &str = "metrics.recording.level";

/// Every key this producer implements.
pub const SUPPORTED: &[&str] = &[
    BOOTSTRAP_SERVERS,
    CLIENT_ID,
    ACKS,
    RETRIES,
    BATCH_SIZE,
    LINGER_MS,
    BUFFER_MEMORY,
    MAX_BLOCK_MS,
    REQUEST_TIMEOUT_MS,
    DELIVERY_TIMEOUT_MS,
    RETRY_BACKOFF_MS,
    RETRY_BACKOFF_MAX_MS,
    MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
    MAX_REQUEST_SIZE,
    COMPRESSION_TYPE,
    COMPRESSION_GZIP_LEVEL,
    COMPRESSION_LZ4_LEVEL,
    COMPRESSION_ZSTD_LEVEL,
    ENABLE_IDEMPOTENCE,
    ENABLE_METRICS_PUSH,
    PARTITIONER_IGNORE_KEYS,
    PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE,
    PARTITIONER_AVAILABILITY_TIMEOUT_MS,
    METADATA_MAX_AGE_MS,
    METADATA_MAX_IDLE_MS,
    METADATA_RECOVERY_STRATEGY,
    METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS,
    TRANSACTIONAL_ID,
    TRANSACTION_TIMEOUT_MS,
    CONNECTIONS_MAX_IDLE_MS,
    RECONNECT_BACKOFF_MS,
    RECONNECT_BACKOFF_MAX_MS,
    SOCKET_CONNECTION_SETUP_TIMEOUT_MS,
    SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS,
    SEND_BUFFER_BYTES,
    RECEIVE_BUFFER_BYTES,
    SECURITY_PROTOCOL,
    CLIENT_DNS_LOOKUP,
    METRICS_SAMPLE_WINDOW_MS,
    METRICS_NUM_SAMPLES,
    METRICS_RECORDING_LEVEL,
];

/// Java producer settings with no effect on what this producer sends: accepted and
/// ignored with a warning, so a properties file written for the Java client loads.
const IGNORED: &[&str] = &["metric.reporters", "security.providers"];

/// Prefixes of Java settings without effect here, ignored with a warning as
/// [`IGNORED`]: the labels Java hands its metrics reporters.
const IGNORED_PREFIXES: &[&str] = &["metrics.context."];

/// Java producer settings that name Java classes (`key.serializer` and
/// `value.serializer` are handled on their own, see [`JavaKey::Serializer`]).
const CLASS_KEYS: &[&str] = &["partitioner.class", "interceptor.classes"];

/// Java's config providers (`config.providers` and its `config.providers.*`
/// settings): each is a Java class that resolves `${provider:path:key}`
/// values.
const CONFIG_PROVIDERS: &str = "config.providers";

/// Other Java producer settings whose non-default values ask for features this
/// producer lacks; their defaults are accepted.
const FEATURE_FLAGS: &[&str] = &["transaction.two.phase.commit.enable"];

/// The Java `PASSWORD`-typed producer keys (their values are secrets).
const JAVA_PASSWORD_KEYS: &[&str] = &[
    "ssl.key.password",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.keystore.password",
    "ssl.truststore.certificates",
    "ssl.truststore.password",
    "sasl.jaas.config",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.client.credentials.client.secret",
];

/// Words that mark a key's value as a secret even when the key is not one of Java's
/// (for example librdkafka's `sasl.password`).
const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "passphrase",
    "jaas",
    "private.key",
    "keystore.key",
    "certificate",
    "credential",
];

/// The Java serializers of `org.apache.kafka.common.serialization`: with them the
/// bytes on the wire are whatever the Rust value's own serialization gives, so the
/// key is accepted and ignored.
const KAFKA_SERIALIZERS: &[&str] = &[
    "BooleanSerializer",
    "ByteArraySerializer",
    "ByteBufferSerializer",
    "BytesSerializer",
    "DoubleSerializer",
    "FloatSerializer",
    "IntegerSerializer",
    "LongSerializer",
    "ShortSerializer",
    "StringSerializer",
    "UUIDSerializer",
    "VoidSerializer",
];

/// How a key that is not implemented here is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JavaKey {
    /// Implemented (one of [`SUPPORTED`]).
    Supported,
    /// A Java setting without effect here: ignored with a warning.
    Ignored,
    /// `key.serializer` / `value.serializer`.
    Serializer,
    /// A setting naming Java classes.
    Class,
    /// A setting enabling a feature this producer lacks when not at its default.
    FeatureFlag,
    /// A TLS or SASL setting (`ssl.*`, `sasl.*`) this producer does not implement.
    Security,
    /// Not a producer setting.
    Unknown,
}

/// Classifies `key`.
pub(crate) fn classify(key: &str) -> JavaKey {
    if SUPPORTED.contains(&key) {
        JavaKey::Supported
    } else if IGNORED.contains(&key) || IGNORED_PREFIXES.iter().any(|p| key.starts_with(p)) {
        JavaKey::Ignored
    } else if key == "key.serializer" || key == "value.serializer" {
        JavaKey::Serializer
    } else if CLASS_KEYS.contains(&key)
        || key
            .strip_prefix(CONFIG_PROVIDERS)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    {
        JavaKey::Class
    } else if FEATURE_FLAGS.contains(&key) {
        JavaKey::FeatureFlag
    } else if super::security::SecuritySettings::handles(key) {
        JavaKey::Supported
    } else if key.starts_with("ssl.") || key.starts_with("sasl.") {
        JavaKey::Security
    } else {
        JavaKey::Unknown
    }
}

/// Whether `class` is one of Kafka's own serializers (simple or fully qualified name).
pub(crate) fn is_kafka_serializer(class: &str) -> bool {
    let simple = class
        .strip_prefix("org.apache.kafka.common.serialization.")
        .unwrap_or(class);
    KAFKA_SERIALIZERS.contains(&simple)
}

/// Whether the value of `key` is a secret that must never be shown.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    JAVA_PASSWORD_KEYS.contains(&key.as_str()) || SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// `value`, or `[hidden]` when `key` is secret.
pub fn redact<'a>(key: &str, value: &'a str) -> Cow<'a, str> {
    if is_secret(key) {
        Cow::Borrowed(HIDDEN)
    } else {
        Cow::Borrowed(value)
    }
}

/// What a secret value is shown as.
pub const HIDDEN: &str = "[hidden]";

/// Every key Kafka 4.1's Java producer knows that is not in [`SUPPORTED`], [`IGNORED`]
/// or the other lists above, for "did you mean" on typos of them.
const OTHER_JAVA_KEYS: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "sasl.client.callback.handler.class",
    "sasl.jaas.config",
    "sasl.kerberos.service.name",
    "sasl.login.callback.handler.class",
    "sasl.login.class",
    "sasl.mechanism",
    "ssl.enabled.protocols",
    "ssl.keystore.type",
    "ssl.protocol",
    "ssl.provider",
    "ssl.truststore.type",
    "ssl.key.password",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.truststore.certificates",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.cipher.suites",
    "ssl.endpoint.identification.algorithm",
    "ssl.engine.factory.class",
    "ssl.keymanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.trustmanager.algorithm",
];

/// Whether the Java producer has a config named `key`: every key
/// [`ProducerConfig::check_properties`](super::ProducerConfig::check_properties)
/// does not refuse as unknown (those it applies, ignores with a warning, or
/// refuses as unsupported here).
///
/// ```
/// use kafka_core::config::keys::is_producer_key;
///
/// assert!(is_producer_key("linger.ms"));
/// assert!(is_producer_key("metric.reporters")); // ignored, with a warning
/// assert!(!is_producer_key("session.timeout.ms")); // a consumer's
/// ```
pub fn is_producer_key(key: &str) -> bool {
    classify(key) != JavaKey::Unknown
}

/// The producer config `key` is probably a typo of, if any (what the
/// "did you mean" of an unknown key names).
///
/// ```
/// use kafka_core::config::keys::closest_producer_key;
///
/// assert_eq!(closest_producer_key("linger.msx"), Some("linger.ms"));
/// assert_eq!(closest_producer_key("group.id"), None);
/// ```
pub fn closest_producer_key(key: &str) -> Option<&'static str> {
    suggest(key)
}

/// The known key closest to `unknown`, if it is close enough to be a typo.
///
/// Compares lowercased keys with `_` and `-` read as `.`, so Spring-style
/// `linger-ms` and `LINGER_MS` find `linger.ms`.
pub(crate) fn suggest(unknown: &str) -> Option<&'static str> {
    let wanted = normalise(unknown);
    let limit = (wanted.len() / 3).clamp(1, 3);
    SUPPORTED
        .iter()
        .chain(IGNORED)
        .chain(CLASS_KEYS)
        .chain(FEATURE_FLAGS)
        .chain(OTHER_JAVA_KEYS)
        .map(|known| (strsim::damerau_levenshtein(&wanted, known), *known))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

fn normalise(key: &str) -> String {
    key.trim()
        .chars()
        .map(|c| match c {
            '_' | '-' => '.',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_and_other_spellings() {
        assert_eq!(suggest("linger.msx"), Some(LINGER_MS));
        assert_eq!(suggest("lingr.ms"), Some(LINGER_MS));
        assert_eq!(suggest("linger-ms"), Some(LINGER_MS));
        assert_eq!(suggest("BATCH_SIZE"), Some(BATCH_SIZE));
        assert_eq!(suggest("ack"), Some(ACKS));
        assert_eq!(suggest("enable.idempotency"), Some(ENABLE_IDEMPOTENCE));
        assert_eq!(suggest("sasl.mechanisms"), Some("sasl.mechanism"));
        assert_eq!(suggest("bootstrap.server"), Some(BOOTSTRAP_SERVERS));
    }

    #[test]
    fn nothing_is_suggested_for_unrelated_keys() {
        assert_eq!(suggest("foo"), None);
        assert_eq!(suggest("spring.kafka.producer.acks"), None);
        assert_eq!(suggest("group.id"), None);
    }

    #[test]
    fn secrets_are_recognised() {
        for key in [
            "sasl.jaas.config",
            "ssl.key.password",
            "ssl.keystore.password",
            "ssl.truststore.password",
            "sasl.password",
            "sasl.oauthbearer.client.credentials.client.secret",
            "SSL.KEY.PASSWORD",
        ] {
            assert!(is_secret(key), "{key}");
            assert_eq!(redact(key, "hunter2"), HIDDEN);
        }
        for key in [LINGER_MS, TRANSACTIONAL_ID, CLIENT_ID, "sasl.mechanism"] {
            assert!(!is_secret(key), "{key}");
            assert_eq!(redact(key, "x"), "x");
        }
    }

    #[test]
    fn keys_are_classified() {
        assert_eq!(classify(LINGER_MS), JavaKey::Supported);
        assert_eq!(classify("metric.reporters"), JavaKey::Ignored);
        assert_eq!(classify("value.serializer"), JavaKey::Serializer);
        assert_eq!(classify("partitioner.class"), JavaKey::Class);
        assert_eq!(classify("sasl.password"), JavaKey::Security);
        assert_eq!(classify("group.id"), JavaKey::Unknown);
        assert!(is_kafka_serializer(
            "org.apache.kafka.common.serialization.StringSerializer"
        ));
        assert!(is_kafka_serializer("ByteArraySerializer"));
        assert!(!is_kafka_serializer(
            "io.confluent.kafka.serializers.KafkaAvroSerializer"
        ));
    }
}
