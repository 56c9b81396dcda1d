//! [`ProducerConfigBuilder`]: typed setters over the same rules as the properties.

use std::sync::Arc;
use std::time::Duration;

use super::resolve::ClientIdSource;
use super::settings::{Settings, range, transactional_id};
use super::types::{Codec, GZIP_LEVEL, LZ4_LEVEL, ZSTD_LEVEL};
use super::{
    Acks, ClientDnsLookup, ConfigError, MetadataRecoveryStrategy, ProducerConfig, RecordingLevel,
    bootstrap, keys, value,
};
use crate::network::SecurityProtocol;
use crate::network::sasl::{OAuthBearer, SaslMechanism, TokenProvider};
use crate::record_batch::Compression;

/// Builds a [`ProducerConfig`] from typed values.
///
/// Setters check their value against Java's range for the key; the first problem
/// is kept and returned by [`build`](Self::build), which also applies the
/// cross-setting rules. Settings not given keep their Kafka 4.x defaults.
///
/// ```
/// use std::time::Duration;
/// use kafka_core::config::{Acks, ProducerConfig};
///
/// let config = ProducerConfig::builder()
///     .bootstrap_servers("b1:9092,b2:9092")
///     .client_id("orders")
///     .acks(Acks::All)
///     .linger(Duration::from_millis(10))
///     .property("max.request.size", "2097152") // any Java-named property too
///     .build()?;
/// assert_eq!(config.bootstrap_servers(), ["b1:9092", "b2:9092"]);
/// assert_eq!(config.max_request_size(), 2 * 1024 * 1024);
///
/// // Ranges are Java's: a zero in-flight limit is rejected.
/// let err = ProducerConfig::builder()
///     .bootstrap_servers("b1:9092")
///     .max_in_flight_requests_per_connection(0)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.key(), "max.in.flight.requests.per.connection");
/// # Ok::<(), kafka_core::config::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ProducerConfigBuilder {
    settings: Settings,
    first_error: Option<ConfigError>,
}

impl ProducerConfigBuilder {
    /// Resolves the settings into a [`ProducerConfig`], or returns the first problem.
    pub fn build(self) -> Result<ProducerConfig, ConfigError> {
        match self.first_error {
            Some(err) => Err(err),
            None => self.settings.resolve(ClientIdSource::Sequence),
        }
    }

    /// Runs every check of [`build`](Self::build) without logging and without
    /// using up a generated `client.id` number.
    pub(crate) fn check(self) -> Result<(), ConfigError> {
        match self.first_error {
            Some(err) => Err(err),
            None => self
                .settings
                .resolve(ClientIdSource::Placeholder)
                .map(|_| ()),
        }
    }

    /// Sets a Java-named property from its string form, as in a properties file.
    pub fn property(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        if self.first_error.is_none()
            && let Err(err) = self.settings.apply(key.as_ref(), value.as_ref())
        {
            self.first_error = Some(err);
        }
        self
    }

    /// Sets Java-named properties. A key given twice keeps its last value (as a
    /// Java `Properties` does); keys are applied in the order they first appear.
    pub fn properties<I, K, V>(self, props: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut unique: Vec<(K, V)> = Vec::new();
        for (key, value) in props {
            match unique.iter_mut().find(|(k, _)| k.as_ref() == key.as_ref()) {
                Some(entry) => entry.1 = value,
                None => unique.push((key, value)),
            }
        }
        unique
            .into_iter()
            .fold(self, |builder, (key, value)| builder.property(key, value))
    }

    /// Records `result`'s value with `set`, or keeps its error if it is the first.
    fn with<T>(
        mut self,
        result: Result<T, ConfigError>,
        set: impl FnOnce(&mut Settings, T),
    ) -> Self {
        match result {
            Ok(value) => set(&mut self.settings, value),
            Err(err) => {
                self.first_error.get_or_insert(err);
            }
        }
        self
    }

    fn ms(
        self,
        key: &str,
        value: Duration,
        (min, max): (i64, i64),
        set: fn(&mut Settings, i64),
    ) -> Self {
        let checked = value::duration_ms(key, value, min, max);
        self.with(checked, set)
    }

    fn size(
        self,
        key: &str,
        value: usize,
        (min, max): (i64, i64),
        set: fn(&mut Settings, i64),
    ) -> Self {
        let checked = value::size(key, value, min, max);
        self.with(checked, set)
    }

    /// `bootstrap.servers`: comma-separated `host:port` pairs (required).
    pub fn bootstrap_servers(self, servers: impl AsRef<str>) -> Self {
        let parsed = bootstrap::parse_list(servers.as_ref());
        self.with(parsed, |s, v| s.bootstrap_servers = Some(v))
    }

    /// `client.id`.
    pub fn client_id(self, id: impl Into<String>) -> Self {
        self.with(Ok(id.into()), |s, v| s.client_id = Some(v))
    }

    /// `acks`.
    pub fn acks(self, acks: Acks) -> Self {
        self.with(Ok(acks), |s, v| s.acks = Some(v))
    }

    /// `retries` (0 ..= `i32::MAX`).
    pub fn retries(self, retries: i32) -> Self {
        let (min, max) = range::RETRIES;
        let checked = value::in_range(keys::RETRIES, i64::from(retries), min, max);
        self.with(checked, |s, v| s.retries = Some(v))
    }

    /// `batch.size` in bytes (at most `i32::MAX`).
    pub fn batch_size(self, bytes: usize) -> Self {
        self.size(keys::BATCH_SIZE, bytes, range::BATCH_SIZE, |s, v| {
            s.batch_size = Some(v)
        })
    }

    /// `linger.ms` (millisecond precision).
    pub fn linger(self, linger: Duration) -> Self {
        self.ms(keys::LINGER_MS, linger, range::LINGER_MS, |s, v| {
            s.linger_ms = Some(v)
        })
    }

    /// `buffer.memory` in bytes.
    pub fn buffer_memory(self, bytes: usize) -> Self {
        self.size(keys::BUFFER_MEMORY, bytes, range::BUFFER_MEMORY, |s, v| {
            s.buffer_memory = Some(v)
        })
    }

    /// `max.block.ms`.
    pub fn max_block(self, max_block: Duration) -> Self {
        self.ms(
            keys::MAX_BLOCK_MS,
            max_block,
            range::MAX_BLOCK_MS,
            |s, v| s.max_block_ms = Some(v),
        )
    }

    /// `request.timeout.ms` (at most `i32::MAX` ms).
    pub fn request_timeout(self, timeout: Duration) -> Self {
        self.ms(
            keys::REQUEST_TIMEOUT_MS,
            timeout,
            range::REQUEST_TIMEOUT_MS,
            |s, v| s.request_timeout_ms = Some(v),
        )
    }

    /// `delivery.timeout.ms` (at most `i32::MAX` ms; at least linger + request timeout).
    pub fn delivery_timeout(self, timeout: Duration) -> Self {
        self.ms(
            keys::DELIVERY_TIMEOUT_MS,
            timeout,
            range::DELIVERY_TIMEOUT_MS,
            |s, v| s.delivery_timeout_ms = Some(v),
        )
    }

    /// `retry.backoff.ms`.
    pub fn retry_backoff(self, backoff: Duration) -> Self {
        self.ms(
            keys::RETRY_BACKOFF_MS,
            backoff,
            range::BACKOFF_MS,
            |s, v| s.retry_backoff_ms = Some(v),
        )
    }

    /// `retry.backoff.max.ms`.
    pub fn retry_backoff_max(self, backoff: Duration) -> Self {
        self.ms(
            keys::RETRY_BACKOFF_MAX_MS,
            backoff,
            range::BACKOFF_MS,
            |s, v| s.retry_backoff_max_ms = Some(v),
        )
    }

    /// `max.in.flight.requests.per.connection` (at least 1; at most 5 with idempotence).
    pub fn max_in_flight_requests_per_connection(self, requests: usize) -> Self {
        self.size(
            keys::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
            requests,
            range::MAX_IN_FLIGHT,
            |s, v| s.max_in_flight = Some(v),
        )
    }

    /// `max.request.size` in bytes (at most `i32::MAX`).
    pub fn max_request_size(self, bytes: usize) -> Self {
        self.size(
            keys::MAX_REQUEST_SIZE,
            bytes,
            range::MAX_REQUEST_SIZE,
            |s, v| s.max_request_size = Some(v),
        )
    }

    /// `compression.type`, and the codec's `compression.<codec>.level` when the
    /// level is given (checked against Java's range for the codec).
    pub fn compression(self, compression: Compression) -> Self {
        let (codec, level) = match compression {
            Compression::None => (Codec::None, None),
            Compression::Gzip { level } => (Codec::Gzip, level.map(|l| (&GZIP_LEVEL, l))),
            Compression::Snappy => (Codec::Snappy, None),
            Compression::Lz4 { level } => (Codec::Lz4, level.map(|l| (&LZ4_LEVEL, l))),
            Compression::Zstd { level } => (Codec::Zstd, level.map(|l| (&ZSTD_LEVEL, l))),
        };
        let builder = self.with(Ok(codec), |s, v| s.codec = Some(v));
        match level {
            None => builder,
            Some((rule, level)) => {
                let checked = rule.check(i64::from(level));
                builder.with(checked, move |s, v| match codec {
                    Codec::Gzip => s.gzip_level = Some(v),
                    Codec::Lz4 => s.lz4_level = Some(v),
                    _ => s.zstd_level = Some(v),
                })
            }
        }
    }

    /// `enable.idempotence`, explicitly (an explicit `true` that conflicts with
    /// `acks`, `retries` or the in-flight limit is an error at `build`).
    pub fn enable_idempotence(self, enable: bool) -> Self {
        self.with(Ok(enable), |s, v| s.enable_idempotence = Some(v))
    }

    /// `enable.metrics.push` (default true, as Java 3.7+): push the producer's
    /// metrics to a broker whose client-metrics subscription asks for them (KIP-714).
    pub fn enable_metrics_push(self, enable: bool) -> Self {
        self.with(Ok(enable), |s, v| s.enable_metrics_push = Some(v))
    }

    /// `partitioner.ignore.keys`.
    pub fn partitioner_ignore_keys(self, ignore: bool) -> Self {
        self.with(Ok(ignore), |s, v| s.partitioner_ignore_keys = Some(v))
    }

    /// `partitioner.adaptive.partitioning.enable`.
    pub fn partitioner_adaptive_partitioning(self, enable: bool) -> Self {
        self.with(Ok(enable), |s, v| s.partitioner_adaptive = Some(v))
    }

    /// `partitioner.availability.timeout.ms` (zero disables it).
    pub fn partitioner_availability_timeout(self, timeout: Duration) -> Self {
        self.ms(
            keys::PARTITIONER_AVAILABILITY_TIMEOUT_MS,
            timeout,
            range::AVAILABILITY_TIMEOUT_MS,
            |s, v| s.partitioner_availability_timeout_ms = Some(v),
        )
    }

    /// `metadata.max.age.ms`.
    pub fn metadata_max_age(self, age: Duration) -> Self {
        self.ms(
            keys::METADATA_MAX_AGE_MS,
            age,
            range::METADATA_MAX_AGE_MS,
            |s, v| s.metadata_max_age_ms = Some(v),
        )
    }

    /// `metadata.max.idle.ms` (at least 5 s).
    pub fn metadata_max_idle(self, idle: Duration) -> Self {
        self.ms(
            keys::METADATA_MAX_IDLE_MS,
            idle,
            range::METADATA_MAX_IDLE_MS,
            |s, v| s.metadata_max_idle_ms = Some(v),
        )
    }

    /// `metadata.recovery.strategy`.
    pub fn metadata_recovery_strategy(self, strategy: MetadataRecoveryStrategy) -> Self {
        self.with(Ok(strategy), |s, v| s.metadata_recovery_strategy = Some(v))
    }

    /// `transactional.id` (non-empty; requires idempotence).
    pub fn transactional_id(self, id: impl AsRef<str>) -> Self {
        let checked = transactional_id(id.as_ref());
        self.with(checked, |s, v| s.transactional_id = Some(v))
    }

    /// `transaction.timeout.ms` (at most `i32::MAX` ms).
    pub fn transaction_timeout(self, timeout: Duration) -> Self {
        self.ms(
            keys::TRANSACTION_TIMEOUT_MS,
            timeout,
            range::TRANSACTION_TIMEOUT_MS,
            |s, v| s.transaction_timeout_ms = Some(v),
        )
    }

    /// `connections.max.idle.ms`; `None` never closes idle connections (Java's -1).
    pub fn connections_max_idle(self, idle: Option<Duration>) -> Self {
        match idle {
            Some(idle) => self.ms(
                keys::CONNECTIONS_MAX_IDLE_MS,
                idle,
                range::CONNECTIONS_MAX_IDLE_MS,
                |s, v| s.connections_max_idle_ms = Some(v),
            ),
            None => self.with(Ok(-1), |s, v| s.connections_max_idle_ms = Some(v)),
        }
    }

    /// `reconnect.backoff.ms`.
    pub fn reconnect_backoff(self, backoff: Duration) -> Self {
        self.ms(
            keys::RECONNECT_BACKOFF_MS,
            backoff,
            range::BACKOFF_MS,
            |s, v| s.reconnect_backoff_ms = Some(v),
        )
    }

    /// `reconnect.backoff.max.ms`.
    pub fn reconnect_backoff_max(self, backoff: Duration) -> Self {
        self.ms(
            keys::RECONNECT_BACKOFF_MAX_MS,
            backoff,
            range::BACKOFF_MS,
            |s, v| s.reconnect_backoff_max_ms = Some(v),
        )
    }

    /// `socket.connection.setup.timeout.ms`.
    pub fn socket_connection_setup_timeout(self, timeout: Duration) -> Self {
        self.ms(
            keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MS,
            timeout,
            range::SOCKET_SETUP_TIMEOUT_MS,
            |s, v| s.socket_connection_setup_timeout_ms = Some(v),
        )
    }

    /// `socket.connection.setup.timeout.max.ms`.
    pub fn socket_connection_setup_timeout_max(self, timeout: Duration) -> Self {
        self.ms(
            keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS,
            timeout,
            range::SOCKET_SETUP_TIMEOUT_MS,
            |s, v| s.socket_connection_setup_timeout_max_ms = Some(v),
        )
    }

    /// `send.buffer.bytes`; `None` keeps the OS default (Java's -1).
    pub fn send_buffer_bytes(self, bytes: Option<usize>) -> Self {
        self.socket_buffer(keys::SEND_BUFFER_BYTES, bytes, |s, v| {
            s.send_buffer_bytes = Some(v)
        })
    }

    /// `receive.buffer.bytes`; `None` keeps the OS default (Java's -1).
    pub fn receive_buffer_bytes(self, bytes: Option<usize>) -> Self {
        self.socket_buffer(keys::RECEIVE_BUFFER_BYTES, bytes, |s, v| {
            s.receive_buffer_bytes = Some(v)
        })
    }

    fn socket_buffer(self, key: &str, bytes: Option<usize>, set: fn(&mut Settings, i64)) -> Self {
        match bytes {
            Some(bytes) => self.size(key, bytes, range::SOCKET_BUFFER, set),
            None => self.with(Ok(-1), set),
        }
    }

    /// `metrics.sample.window.ms`: the span of one sample of the windowed metrics.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kafka_core::config::{ProducerConfig, RecordingLevel};
    ///
    /// let defaults = ProducerConfig::builder().bootstrap_servers("b1:9092").build()?;
    /// assert_eq!(defaults.metrics_sample_window(), Duration::from_secs(30)); // Java's
    /// assert_eq!(defaults.metrics_num_samples(), 2);
    /// assert_eq!(defaults.metrics_recording_level(), RecordingLevel::Info);
    ///
    /// let config = ProducerConfig::builder()
    ///     .bootstrap_servers("b1:9092")
    ///     .metrics_sample_window(Duration::from_secs(5))
    ///     .metrics_num_samples(3)
    ///     .property("metrics.recording.level", "DEBUG")
    ///     .build()?;
    /// assert_eq!(config.metrics_sample_window(), Duration::from_secs(5));
    /// assert_eq!(config.metrics_num_samples(), 3);
    /// assert_eq!(config.metrics_recording_level(), RecordingLevel::Debug);
    /// # Ok::<(), kafka_core::ConfigError>(())
    /// ```
    pub fn metrics_sample_window(self, window: Duration) -> Self {
        self.ms(
            keys::METRICS_SAMPLE_WINDOW_MS,
            window,
            range::METRICS_SAMPLE_WINDOW_MS,
            |s, v| s.metrics_sample_window_ms = Some(v),
        )
    }

    /// `metrics.num.samples` (at least 1).
    pub fn metrics_num_samples(self, samples: usize) -> Self {
        self.size(
            keys::METRICS_NUM_SAMPLES,
            samples,
            range::METRICS_NUM_SAMPLES,
            |s, v| s.metrics_num_samples = Some(v),
        )
    }

    /// `metrics.recording.level`.
    pub fn metrics_recording_level(self, level: RecordingLevel) -> Self {
        self.with(Ok(level), |s, v| s.metrics_recording_level = Some(v))
    }

    /// `client.dns.lookup`.
    pub fn client_dns_lookup(self, lookup: ClientDnsLookup) -> Self {
        self.with(Ok(lookup), |s, v| s.client_dns_lookup = Some(v))
    }

    /// `security.protocol`. The TLS and SASL settings themselves are Java
    /// properties ([`property`](Self::property)), or a mechanism given in code.
    pub fn security_protocol(self, protocol: SecurityProtocol) -> Self {
        self.with(Ok(protocol), |s, v| s.security.protocol = Some(v))
    }

    /// A SASL mechanism given in code (for example one this crate does not ship,
    /// such as GSSAPI or AWS_MSK_IAM), used instead of `sasl.mechanism` and
    /// `sasl.jaas.config` when `security.protocol` is `SASL_*`.
    pub fn sasl_mechanism(mut self, mechanism: Arc<dyn SaslMechanism>) -> Self {
        self.settings.security.mechanism = Some(mechanism);
        self
    }

    /// OAUTHBEARER with tokens from `provider` (your own identity provider
    /// client), instead of the `sasl.jaas.config` / `sasl.oauthbearer.*` logins.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, SystemTime};
    /// use futures_util::future::{BoxFuture, FutureExt};
    /// use kafka_core::ProducerConfig;
    /// use kafka_core::config::Password;
    /// use kafka_core::SecurityProtocol;
    /// use kafka_core::{OAuthToken, TokenProvider};
    ///
    /// #[derive(Debug)]
    /// struct Vault;
    /// impl TokenProvider for Vault {
    ///     fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
    ///         async {
    ///             let now = SystemTime::now();
    ///             Ok(OAuthToken {
    ///                 value: Password::new("eyJ..."),
    ///                 principal: "orders".into(),
    ///                 issued_at: now,
    ///                 expires_at: now + Duration::from_secs(3600),
    ///             })
    ///         }
    ///         .boxed()
    ///     }
    ///     fn principal(&self) -> String {
    ///         "orders".into()
    ///     }
    /// }
    ///
    /// let config = ProducerConfig::builder()
    ///     .bootstrap_servers("broker:9093")
    ///     .security_protocol(SecurityProtocol::SaslSsl)
    ///     .oauth_token_provider(Arc::new(Vault))
    ///     .build()?;
    /// assert_eq!(config.security().protocol(), SecurityProtocol::SaslSsl);
    /// # Ok::<(), kafka_core::ConfigError>(())
    /// ```
    pub fn oauth_token_provider(self, provider: Arc<dyn TokenProvider>) -> Self {
        self.sasl_mechanism(Arc::new(OAuthBearer::new(provider)))
    }
}
