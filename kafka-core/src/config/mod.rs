//! [`ProducerConfig`]: the producer's settings, with the Java client's names,
//! Kafka 4.x defaults and Java's validation rules.
//!
//! Two ways in, one set of rules:
//!
//! - [`ProducerConfig::builder`]: typed setters (`Duration`, `usize`, enums);
//! - [`ProducerConfig::from_properties`]: Java-named string properties, as in a
//!   `producer.properties` file, parsed as Java's `ConfigDef` parses them.
//!
//! ```
//! use std::time::Duration;
//! use kafka_core::config::{Acks, ProducerConfig};
//!
//! let typed = ProducerConfig::builder()
//!     .bootstrap_servers("localhost:9092")
//!     .acks(Acks::All)
//!     .linger(Duration::from_millis(20))
//!     .batch_size(64 * 1024)
//!     .build()?;
//! let from_strings = ProducerConfig::from_properties([
//!     ("bootstrap.servers", "localhost:9092"),
//!     ("acks", "all"),
//!     ("linger.ms", "20"),
//!     ("batch.size", "65536"),
//! ])?;
//! assert_eq!(typed.linger(), from_strings.linger());
//! assert_eq!(typed.batch_size(), 65536);
//! assert!(typed.idempotence_enabled()); // the Kafka 4.x default
//! # Ok::<(), kafka_core::config::ConfigError>(())
//! ```
//!
//! What is checked, as Java checks it:
//!
//! - ranges of Java's validators (e.g. `batch.size >= 0`,
//!   `max.in.flight.requests.per.connection >= 1`, `metadata.max.idle.ms >= 5000`);
//! - idempotence needs `acks=all`, `retries > 0` and at most 5 in-flight requests:
//!   an explicit `enable.idempotence=true` that conflicts is an error, while the
//!   default is turned off with a warning (except for more than 5 in-flight
//!   requests, which Java 4.x rejects either way); `transactional.id` requires
//!   idempotence;
//! - an explicit `delivery.timeout.ms` below `linger.ms + request.timeout.ms` is an
//!   error; the default is raised to that sum;
//! - `client.id` defaults to `producer-<transactional.id>` or `producer-N`.
//!
//! Keys of the Java client this producer does not implement are handled per key
//! (see [`keys`]): JVM metrics settings (`metric.reporters`, `metrics.context.*`)
//! are ignored with a warning; Kafka's own
//! `key.serializer`/`value.serializer` classes are ignored (the Rust types decide the
//! bytes) but other serializer classes are errors; `partitioner.class` and
//! `interceptor.classes` are errors pointing at the Rust trait objects, and
//! `config.providers` one pointing at placeholders; the TLS and
//! SASL settings this producer lacks (Kerberos, Java TLS providers) are errors
//! saying why. Secret values (passwords, keys, JAAS configs, tokens) never appear
//! in errors, logs or `Debug` output.
//!
//! TLS and SASL use the Java names: `security.protocol`, `ssl.truststore.*`,
//! `ssl.keystore.*`, `ssl.key.password`, `ssl.endpoint.identification.algorithm`,
//! `ssl.enabled.protocols`, `sasl.mechanism`, `sasl.jaas.config` and the
//! `sasl.oauthbearer.*` / `sasl.login.*` settings of OAUTHBEARER (see [`keys`]).

mod bootstrap;
mod builder;
mod error;
pub mod keys;
mod resolve;
pub(crate) mod security;
mod settings;
mod types;
mod value;

use std::fmt;
use std::time::Duration;

pub use builder::ProducerConfigBuilder;
pub use error::ConfigError;
pub use security::{Password, SecurityConfig};
pub use types::{Acks, ClientDnsLookup, MetadataRecoveryStrategy, RecordingLevel};

use crate::record_batch::Compression;
use types::Codec;

/// The resolved producer settings: every value is valid, defaults are filled in and
/// the cross-setting rules have been applied.
///
/// Built with [`ProducerConfig::builder`] or [`ProducerConfig::from_properties`].
#[derive(Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    bootstrap_servers: Vec<String>,
    client_id: String,
    acks: Acks,
    retries: i32,
    batch_size: usize,
    linger: Duration,
    buffer_memory: usize,
    max_block: Duration,
    request_timeout: Duration,
    delivery_timeout: Duration,
    retry_backoff: Duration,
    retry_backoff_max: Duration,
    max_in_flight_requests_per_connection: usize,
    max_request_size: usize,
    codec: Codec,
    gzip_level: i32,
    lz4_level: i32,
    zstd_level: i32,
    idempotence: bool,
    enable_metrics_push: bool,
    partitioner_ignore_keys: bool,
    partitioner_adaptive_partitioning: bool,
    partitioner_availability_timeout: Duration,
    metadata_max_age: Duration,
    metadata_max_idle: Duration,
    metadata_recovery_strategy: MetadataRecoveryStrategy,
    metadata_recovery_rebootstrap_trigger: Duration,
    transactional_id: Option<String>,
    transaction_timeout: Duration,
    connections_max_idle: Option<Duration>,
    reconnect_backoff: Duration,
    reconnect_backoff_max: Duration,
    socket_connection_setup_timeout: Duration,
    socket_connection_setup_timeout_max: Duration,
    send_buffer_bytes: Option<usize>,
    receive_buffer_bytes: Option<usize>,
    client_dns_lookup: ClientDnsLookup,
    metrics_sample_window: Duration,
    metrics_num_samples: usize,
    metrics_recording_level: RecordingLevel,
    security: SecurityConfig,
}

impl ProducerConfig {
    /// A builder with typed setters; `bootstrap_servers` is required.
    pub fn builder() -> ProducerConfigBuilder {
        ProducerConfigBuilder::default()
    }

    /// A configuration from Java-named string properties (`"linger.ms" = "20"`).
    ///
    /// When a key appears twice, the last value wins (as in a Java `Properties`).
    /// The first invalid entry, in the order given, is reported.
    ///
    /// ```
    /// use kafka_core::config::ProducerConfig;
    ///
    /// let err = ProducerConfig::from_properties([
    ///     ("bootstrap.servers", "localhost:9092"),
    ///     ("linger.msx", "5"),
    /// ])
    /// .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "unknown producer config 'linger.msx'; did you mean 'linger.ms'?"
    /// );
    /// ```
    pub fn from_properties<I, K, V>(props: I) -> Result<ProducerConfig, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        ProducerConfig::builder().properties(props).build()
    }

    /// Checks Java-named properties exactly as [`from_properties`] would, without
    /// building a configuration: nothing is logged (no warnings for ignored keys
    /// or for idempotence turned off) and no generated `producer-N` client id is
    /// used up. For validating configuration ahead of creating a producer.
    ///
    /// ```
    /// use kafka_core::config::ProducerConfig;
    ///
    /// assert!(ProducerConfig::check_properties([("bootstrap.servers", "localhost:9092")]).is_ok());
    /// let err = ProducerConfig::check_properties([
    ///     ("bootstrap.servers", "localhost:9092"),
    ///     ("batch.size", "-1"),
    /// ])
    /// .unwrap_err();
    /// assert_eq!(err.key(), "batch.size");
    /// ```
    ///
    /// [`from_properties`]: Self::from_properties
    pub fn check_properties<I, K, V>(props: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let silent = tracing::Dispatch::none();
        tracing::dispatcher::with_default(&silent, || {
            ProducerConfig::builder().properties(props).check()
        })
    }

    /// `bootstrap.servers`: the `host:port` entries (IPv6 hosts bracketed).
    pub fn bootstrap_servers(&self) -> &[String] {
        &self.bootstrap_servers
    }

    /// `client.id`; `producer-N` (or `producer-<transactional.id>`) when not set.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `acks` (default `all`).
    pub fn acks(&self) -> Acks {
        self.acks
    }

    /// `retries` (default `i32::MAX`: retry until `delivery.timeout.ms`).
    pub fn retries(&self) -> i32 {
        self.retries
    }

    /// `batch.size` in bytes (default 16384; 0 disables batching).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// `linger.ms` (default 5 ms).
    pub fn linger(&self) -> Duration {
        self.linger
    }

    /// `buffer.memory` in bytes (default 32 MiB).
    pub fn buffer_memory(&self) -> usize {
        self.buffer_memory
    }

    /// `max.block.ms` (default 60 s).
    pub fn max_block(&self) -> Duration {
        self.max_block
    }

    /// `request.timeout.ms` (default 30 s).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// `delivery.timeout.ms` (default 120 s, raised to `linger + request timeout`
    /// when that is larger and the key was not set).
    pub fn delivery_timeout(&self) -> Duration {
        self.delivery_timeout
    }

    /// `retry.backoff.ms` (default 100 ms).
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }

    /// `retry.backoff.max.ms` (default 1 s).
    pub fn retry_backoff_max(&self) -> Duration {
        self.retry_backoff_max
    }

    /// `max.in.flight.requests.per.connection` (default 5).
    pub fn max_in_flight_requests_per_connection(&self) -> usize {
        self.max_in_flight_requests_per_connection
    }

    /// `max.request.size` in bytes (default 1 MiB).
    pub fn max_request_size(&self) -> usize {
        self.max_request_size
    }

    /// `compression.type` with the level of its `compression.<codec>.level` key
    /// (default `none`; levels default to Java's: gzip -1, lz4 9, zstd 3).
    ///
    /// ```
    /// use kafka_core::config::ProducerConfig;
    /// use kafka_core::Compression;
    ///
    /// let config = ProducerConfig::from_properties([
    ///     ("bootstrap.servers", "localhost:9092"),
    ///     ("compression.type", "zstd"),
    ///     ("compression.zstd.level", "7"),
    /// ])?;
    /// assert_eq!(config.compression(), Compression::Zstd { level: Some(7) });
    /// # Ok::<(), kafka_core::config::ConfigError>(())
    /// ```
    pub fn compression(&self) -> Compression {
        match self.codec {
            Codec::None => Compression::None,
            Codec::Gzip => Compression::Gzip {
                level: Some(self.gzip_level),
            },
            Codec::Snappy => Compression::Snappy,
            Codec::Lz4 => Compression::Lz4 {
                level: Some(self.lz4_level),
            },
            Codec::Zstd => Compression::Zstd {
                level: Some(self.zstd_level),
            },
        }
    }

    /// `enable.idempotence` after Java's rules (default on; turned off when the
    /// default conflicts with `acks` or `retries`).
    pub fn idempotence_enabled(&self) -> bool {
        self.idempotence
    }

    /// `enable.metrics.push` (default true, as Java 3.7+): when a broker
    /// advertises KIP-714's telemetry APIs and a client-metrics subscription
    /// matches this producer, its metrics are pushed to that broker every
    /// push interval the subscription sets (see the crate's ARCHITECTURE.md).
    pub fn metrics_push_enabled(&self) -> bool {
        self.enable_metrics_push
    }

    /// `partitioner.ignore.keys` (default false).
    pub fn partitioner_ignore_keys(&self) -> bool {
        self.partitioner_ignore_keys
    }

    /// `partitioner.adaptive.partitioning.enable` (default true).
    pub fn partitioner_adaptive_partitioning(&self) -> bool {
        self.partitioner_adaptive_partitioning
    }

    /// `partitioner.availability.timeout.ms` (default 0: disabled).
    pub fn partitioner_availability_timeout(&self) -> Duration {
        self.partitioner_availability_timeout
    }

    /// `metadata.max.age.ms` (default 5 min).
    pub fn metadata_max_age(&self) -> Duration {
        self.metadata_max_age
    }

    /// `metadata.max.idle.ms` (default 5 min).
    pub fn metadata_max_idle(&self) -> Duration {
        self.metadata_max_idle
    }

    /// `metadata.recovery.strategy` (default `rebootstrap`): whether the
    /// producer goes back to `bootstrap.servers` when it can reach none of
    /// the brokers it knows.
    pub fn metadata_recovery_strategy(&self) -> MetadataRecoveryStrategy {
        self.metadata_recovery_strategy
    }

    /// `metadata.recovery.rebootstrap.trigger.ms` (default 5 min, KIP-1102):
    /// with `metadata.recovery.strategy=rebootstrap`, how long metadata may
    /// be asked for without an answer applied before the producer asks the
    /// `bootstrap.servers` again, even though the brokers it knows can be
    /// reached (it also re-bootstraps when none of them can be, or one
    /// answers `REBOOTSTRAP_REQUIRED`).
    pub fn metadata_recovery_rebootstrap_trigger(&self) -> Duration {
        self.metadata_recovery_rebootstrap_trigger
    }

    /// `transactional.id` (default none).
    pub fn transactional_id(&self) -> Option<&str> {
        self.transactional_id.as_deref()
    }

    /// `transaction.timeout.ms` (default 60 s).
    pub fn transaction_timeout(&self) -> Duration {
        self.transaction_timeout
    }

    /// `connections.max.idle.ms` (default 9 min); `None` (a negative value) never
    /// closes idle connections.
    pub fn connections_max_idle(&self) -> Option<Duration> {
        self.connections_max_idle
    }

    /// `reconnect.backoff.ms` (default 50 ms).
    pub fn reconnect_backoff(&self) -> Duration {
        self.reconnect_backoff
    }

    /// `reconnect.backoff.max.ms` (default 1 s; equal to `reconnect.backoff.ms` when
    /// only that was set, as in Java).
    pub fn reconnect_backoff_max(&self) -> Duration {
        self.reconnect_backoff_max
    }

    /// `socket.connection.setup.timeout.ms` (default 10 s).
    pub fn socket_connection_setup_timeout(&self) -> Duration {
        self.socket_connection_setup_timeout
    }

    /// `socket.connection.setup.timeout.max.ms` (default 30 s).
    pub fn socket_connection_setup_timeout_max(&self) -> Duration {
        self.socket_connection_setup_timeout_max
    }

    /// `send.buffer.bytes` (`SO_SNDBUF`, default 128 KiB as in Java); `None`
    /// (-1) keeps the OS's autotuned buffer (librdkafka's default).
    pub fn send_buffer_bytes(&self) -> Option<usize> {
        self.send_buffer_bytes
    }

    /// `receive.buffer.bytes` (`SO_RCVBUF`, default 32 KiB as in Java); `None`
    /// (-1) keeps the OS's autotuned buffer.
    pub fn receive_buffer_bytes(&self) -> Option<usize> {
        self.receive_buffer_bytes
    }

    /// `client.dns.lookup` (default `use_all_dns_ips`).
    pub fn client_dns_lookup(&self) -> ClientDnsLookup {
        self.client_dns_lookup
    }

    /// `metrics.sample.window.ms` (default 30 s): the span of one sample of the
    /// windowed metrics (rates, averages, maxima).
    pub fn metrics_sample_window(&self) -> Duration {
        self.metrics_sample_window
    }

    /// `metrics.num.samples` (default 2): how many samples the windowed
    /// metrics are computed over.
    pub fn metrics_num_samples(&self) -> usize {
        self.metrics_num_samples
    }

    /// `metrics.recording.level` (default `INFO`).
    pub fn metrics_recording_level(&self) -> RecordingLevel {
        self.metrics_recording_level
    }

    /// `security.protocol` and the TLS/SASL settings, loaded (trust and key stores
    /// read, JAAS options parsed) when the configuration was built.
    pub fn security(&self) -> &SecurityConfig {
        &self.security
    }

    /// The effective value of every implemented setting, by Java name, sorted by
    /// name (like the Java client's "ProducerConfig values" log); secret values
    /// would show as `[hidden]`.
    ///
    /// ```
    /// use kafka_core::config::ProducerConfig;
    ///
    /// let config = ProducerConfig::from_properties([("bootstrap.servers", "b1:9092,b2:9092")])?;
    /// let props = config.properties();
    /// let get = |key| props.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
    /// assert_eq!(get("bootstrap.servers"), Some("b1:9092,b2:9092"));
    /// assert_eq!(get("linger.ms"), Some("5"));
    /// assert_eq!(get("acks"), Some("all"));
    /// // The printed values read back into the same configuration.
    /// assert_eq!(ProducerConfig::from_properties(props)?, config);
    /// # Ok::<(), kafka_core::config::ConfigError>(())
    /// ```
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        let ms = |d: Duration| d.as_millis().to_string();
        let socket_buffer = |b: Option<usize>| b.map_or_else(|| "-1".to_owned(), |b| b.to_string());
        let mut props = vec![
            (keys::BOOTSTRAP_SERVERS, self.bootstrap_servers.join(",")),
            (keys::CLIENT_ID, self.client_id.clone()),
            (keys::ACKS, self.acks.to_string()),
            (keys::RETRIES, self.retries.to_string()),
            (keys::BATCH_SIZE, self.batch_size.to_string()),
            (keys::LINGER_MS, ms(self.linger)),
            (keys::BUFFER_MEMORY, self.buffer_memory.to_string()),
            (keys::MAX_BLOCK_MS, ms(self.max_block)),
            (keys::REQUEST_TIMEOUT_MS, ms(self.request_timeout)),
            (keys::DELIVERY_TIMEOUT_MS, ms(self.delivery_timeout)),
            (keys::RETRY_BACKOFF_MS, ms(self.retry_backoff)),
            (keys::RETRY_BACKOFF_MAX_MS, ms(self.retry_backoff_max)),
            (
                keys::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                self.max_in_flight_requests_per_connection.to_string(),
            ),
            (keys::MAX_REQUEST_SIZE, self.max_request_size.to_string()),
            (keys::COMPRESSION_TYPE, self.codec.name().to_owned()),
            (keys::ENABLE_IDEMPOTENCE, self.idempotence.to_string()),
            (
                keys::ENABLE_METRICS_PUSH,
                self.enable_metrics_push.to_string(),
            ),
            (
                keys::PARTITIONER_IGNORE_KEYS,
                self.partitioner_ignore_keys.to_string(),
            ),
            (
                keys::PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE,
                self.partitioner_adaptive_partitioning.to_string(),
            ),
            (
                keys::PARTITIONER_AVAILABILITY_TIMEOUT_MS,
                ms(self.partitioner_availability_timeout),
            ),
            (keys::METADATA_MAX_AGE_MS, ms(self.metadata_max_age)),
            (keys::METADATA_MAX_IDLE_MS, ms(self.metadata_max_idle)),
            (
                keys::METADATA_RECOVERY_STRATEGY,
                self.metadata_recovery_strategy.name().to_owned(),
            ),
            (
                keys::METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS,
                ms(self.metadata_recovery_rebootstrap_trigger),
            ),
            (keys::TRANSACTION_TIMEOUT_MS, ms(self.transaction_timeout)),
            (
                keys::CONNECTIONS_MAX_IDLE_MS,
                self.connections_max_idle
                    .map_or_else(|| "-1".to_owned(), ms),
            ),
            (keys::RECONNECT_BACKOFF_MS, ms(self.reconnect_backoff)),
            (
                keys::RECONNECT_BACKOFF_MAX_MS,
                ms(self.reconnect_backoff_max),
            ),
            (
                keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MS,
                ms(self.socket_connection_setup_timeout),
            ),
            (
                keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS,
                ms(self.socket_connection_setup_timeout_max),
            ),
            (
                keys::SEND_BUFFER_BYTES,
                socket_buffer(self.send_buffer_bytes),
            ),
            (
                keys::RECEIVE_BUFFER_BYTES,
                socket_buffer(self.receive_buffer_bytes),
            ),
            (
                keys::SECURITY_PROTOCOL,
                self.security.protocol().to_string(),
            ),
            (
                keys::CLIENT_DNS_LOOKUP,
                self.client_dns_lookup.name().to_owned(),
            ),
            (
                keys::METRICS_SAMPLE_WINDOW_MS,
                ms(self.metrics_sample_window),
            ),
            (
                keys::METRICS_NUM_SAMPLES,
                self.metrics_num_samples.to_string(),
            ),
            (
                keys::METRICS_RECORDING_LEVEL,
                self.metrics_recording_level.name().to_owned(),
            ),
        ];
        props.extend([
            (keys::COMPRESSION_GZIP_LEVEL, self.gzip_level.to_string()),
            (keys::COMPRESSION_LZ4_LEVEL, self.lz4_level.to_string()),
            (keys::COMPRESSION_ZSTD_LEVEL, self.zstd_level.to_string()),
        ]);
        if let Some(id) = &self.transactional_id {
            props.push((keys::TRANSACTIONAL_ID, id.clone()));
        }
        props.extend(self.security.properties());
        for (key, value) in &mut props {
            if keys::is_secret(key) {
                *value = keys::HIDDEN.to_owned();
            }
        }
        props.sort_by_key(|(key, _)| *key);
        props
    }
}

impl fmt::Debug for ProducerConfig {
    /// The effective settings by Java name, secrets shown as `[hidden]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self.properties() {
            map.entry(&key, &value);
        }
        map.finish()
    }
}

impl fmt::Display for ProducerConfig {
    /// One `key = value` line per setting, as the Java client logs its config.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in self.properties() {
            writeln!(f, "\t{key} = {value}")?;
        }
        Ok(())
    }
}
