//! From explicitly set [`Settings`] to a [`ProducerConfig`]: Kafka 4.x defaults,
//! then the rules Java applies across settings, in Java's order
//! (`ProducerConfig.postProcessParsedConfig`, then
//! `KafkaProducer.configureDeliveryTimeout`).

use std::sync::atomic::{AtomicU64, Ordering};

use super::settings::Settings;
use super::types::{Codec, GZIP_LEVEL, LZ4_LEVEL, ZSTD_LEVEL};
use super::value::{count, millis};
use super::{ClientDnsLookup, ConfigError, ProducerConfig, keys};

/// Kafka 4.x defaults, as printed by the 4.1.1 Java client's `ProducerConfig`.
pub(crate) mod default {
    pub(crate) const RETRIES: i64 = i32::MAX as i64;
    pub(crate) const BATCH_SIZE: i64 = 16_384;
    pub(crate) const LINGER_MS: i64 = 5;
    pub(crate) const BUFFER_MEMORY: i64 = 33_554_432;
    pub(crate) const MAX_BLOCK_MS: i64 = 60_000;
    pub(crate) const REQUEST_TIMEOUT_MS: i64 = 30_000;
    pub(crate) const DELIVERY_TIMEOUT_MS: i64 = 120_000;
    pub(crate) const RETRY_BACKOFF_MS: i64 = 100;
    pub(crate) const RETRY_BACKOFF_MAX_MS: i64 = 1_000;
    pub(crate) const MAX_IN_FLIGHT: i64 = 5;
    pub(crate) const MAX_REQUEST_SIZE: i64 = 1_048_576;
    pub(crate) const ENABLE_IDEMPOTENCE: bool = true;
    pub(crate) const PARTITIONER_IGNORE_KEYS: bool = false;
    pub(crate) const ENABLE_METRICS_PUSH: bool = true;
    pub(crate) const PARTITIONER_ADAPTIVE: bool = true;
    pub(crate) const PARTITIONER_AVAILABILITY_TIMEOUT_MS: i64 = 0;
    pub(crate) const METADATA_MAX_AGE_MS: i64 = 300_000;
    pub(crate) const METADATA_MAX_IDLE_MS: i64 = 300_000;
    pub(crate) const REBOOTSTRAP_TRIGGER_MS: i64 = 300_000;
    pub(crate) const TRANSACTION_TIMEOUT_MS: i64 = 60_000;
    pub(crate) const CONNECTIONS_MAX_IDLE_MS: i64 = 540_000;
    pub(crate) const METRICS_SAMPLE_WINDOW_MS: i64 = 30_000;
    pub(crate) const METRICS_NUM_SAMPLES: i64 = 2;
    pub(crate) const RECONNECT_BACKOFF_MS: i64 = 50;
    pub(crate) const RECONNECT_BACKOFF_MAX_MS: i64 = 1_000;
    pub(crate) const SOCKET_CONNECTION_SETUP_TIMEOUT_MS: i64 = 10_000;
    pub(crate) const SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS: i64 = 30_000;
    pub(crate) const SEND_BUFFER_BYTES: i64 = 131_072;
    pub(crate) const RECEIVE_BUFFER_BYTES: i64 = 32_768;
}

/// Idempotence needs at most this many in-flight requests: the broker keeps the
/// sequence state of the last 5 batches per producer and partition.
const MAX_IN_FLIGHT_FOR_IDEMPOTENCE: i64 = 5;

/// Where a generated `client.id` takes its number from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientIdSource {
    /// The process-wide sequence, as Java.
    Sequence,
    /// No number is taken (`producer-0`).
    Placeholder,
}

/// Java's `PRODUCER_CLIENT_ID_SEQUENCE`: numbers generated client ids from 1.
static CLIENT_ID_SEQUENCE: AtomicU64 = AtomicU64::new(1);

impl Settings {
    /// Applies defaults and the cross-setting rules. With `ClientIdSource::Placeholder`
    /// no `producer-N` number is used up (for checks whose result is thrown away).
    pub(crate) fn resolve(self, ids: ClientIdSource) -> Result<ProducerConfig, ConfigError> {
        let Some(bootstrap_servers) = self.bootstrap_servers.clone() else {
            return Err(ConfigError::Missing {
                key: keys::BOOTSTRAP_SERVERS.to_owned(),
                hint: "set it to a comma-separated list of host:port pairs of brokers, \
                       e.g. localhost:9092"
                    .to_owned(),
            });
        };
        let retries = self.retries.unwrap_or(default::RETRIES);
        let acks = self.acks.unwrap_or_default();
        let max_in_flight = self.max_in_flight.unwrap_or(default::MAX_IN_FLIGHT);
        let idempotence = self.idempotence(acks, retries, max_in_flight)?;
        let client_id = self.client_id(ids);
        warn_static_backoffs(&self);
        if self.client_dns_lookup == Some(ClientDnsLookup::ResolveCanonicalBootstrapServersOnly) {
            tracing::warn!(
                "client.dns.lookup=resolve_canonical_bootstrap_servers_only only matters for \
                 SASL/Kerberos, which this producer does not support; using use_all_dns_ips"
            );
        }

        let linger_ms = self.linger_ms.unwrap_or(default::LINGER_MS);
        let request_timeout_ms = self
            .request_timeout_ms
            .unwrap_or(default::REQUEST_TIMEOUT_MS);
        let delivery_timeout_ms =
            delivery_timeout_ms(self.delivery_timeout_ms, linger_ms, request_timeout_ms)?;

        let reconnect_backoff_ms = self
            .reconnect_backoff_ms
            .unwrap_or(default::RECONNECT_BACKOFF_MS);
        // Java (`postProcessReconnectBackoffConfigs`): setting only the base backoff
        // makes the reconnect backoff constant.
        let reconnect_backoff_max_ms =
            match (self.reconnect_backoff_max_ms, self.reconnect_backoff_ms) {
                (Some(max), _) => max,
                (None, Some(base)) => {
                    tracing::warn!(
                        "disabling exponential reconnect backoff because {} is set, but {} is not",
                        keys::RECONNECT_BACKOFF_MS,
                        keys::RECONNECT_BACKOFF_MAX_MS
                    );
                    base
                }
                (None, None) => default::RECONNECT_BACKOFF_MAX_MS,
            };

        Ok(ProducerConfig {
            bootstrap_servers,
            client_id,
            acks,
            retries: i32::try_from(retries).unwrap_or(i32::MAX),
            batch_size: fits_usize(
                keys::BATCH_SIZE,
                self.batch_size.unwrap_or(default::BATCH_SIZE),
            )?,
            linger: millis(linger_ms),
            buffer_memory: fits_usize(
                keys::BUFFER_MEMORY,
                self.buffer_memory.unwrap_or(default::BUFFER_MEMORY),
            )?,
            max_block: millis(self.max_block_ms.unwrap_or(default::MAX_BLOCK_MS)),
            request_timeout: millis(request_timeout_ms),
            delivery_timeout: millis(delivery_timeout_ms),
            retry_backoff: millis(self.retry_backoff_ms.unwrap_or(default::RETRY_BACKOFF_MS)),
            retry_backoff_max: millis(
                self.retry_backoff_max_ms
                    .unwrap_or(default::RETRY_BACKOFF_MAX_MS),
            ),
            max_in_flight_requests_per_connection: count(max_in_flight),
            max_request_size: fits_usize(
                keys::MAX_REQUEST_SIZE,
                self.max_request_size.unwrap_or(default::MAX_REQUEST_SIZE),
            )?,
            codec: self.codec.unwrap_or(Codec::None),
            gzip_level: self.gzip_level.unwrap_or(GZIP_LEVEL.default),
            lz4_level: self.lz4_level.unwrap_or(LZ4_LEVEL.default),
            zstd_level: self.zstd_level.unwrap_or(ZSTD_LEVEL.default),
            idempotence,
            enable_metrics_push: self
                .enable_metrics_push
                .unwrap_or(default::ENABLE_METRICS_PUSH),
            partitioner_ignore_keys: self
                .partitioner_ignore_keys
                .unwrap_or(default::PARTITIONER_IGNORE_KEYS),
            partitioner_adaptive_partitioning: self
                .partitioner_adaptive
                .unwrap_or(default::PARTITIONER_ADAPTIVE),
            partitioner_availability_timeout: millis(
                self.partitioner_availability_timeout_ms
                    .unwrap_or(default::PARTITIONER_AVAILABILITY_TIMEOUT_MS),
            ),
            metadata_max_age: millis(
                self.metadata_max_age_ms
                    .unwrap_or(default::METADATA_MAX_AGE_MS),
            ),
            metadata_max_idle: millis(
                self.metadata_max_idle_ms
                    .unwrap_or(default::METADATA_MAX_IDLE_MS),
            ),
            metadata_recovery_strategy: self.metadata_recovery_strategy.unwrap_or_default(),
            metadata_recovery_rebootstrap_trigger: millis(
                self.metadata_recovery_rebootstrap_trigger_ms
                    .unwrap_or(default::REBOOTSTRAP_TRIGGER_MS),
            ),
            transactional_id: self.transactional_id.clone(),
            transaction_timeout: millis(
                self.transaction_timeout_ms
                    .unwrap_or(default::TRANSACTION_TIMEOUT_MS),
            ),
            connections_max_idle: {
                let ms = self
                    .connections_max_idle_ms
                    .unwrap_or(default::CONNECTIONS_MAX_IDLE_MS);
                (ms >= 0).then(|| millis(ms))
            },
            reconnect_backoff: millis(reconnect_backoff_ms),
            reconnect_backoff_max: millis(reconnect_backoff_max_ms),
            socket_connection_setup_timeout: millis(
                self.socket_connection_setup_timeout_ms
                    .unwrap_or(default::SOCKET_CONNECTION_SETUP_TIMEOUT_MS),
            ),
            socket_connection_setup_timeout_max: millis(
                self.socket_connection_setup_timeout_max_ms
                    .unwrap_or(default::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS),
            ),
            send_buffer_bytes: socket_buffer(
                self.send_buffer_bytes.unwrap_or(default::SEND_BUFFER_BYTES),
            ),
            receive_buffer_bytes: socket_buffer(
                self.receive_buffer_bytes
                    .unwrap_or(default::RECEIVE_BUFFER_BYTES),
            ),
            client_dns_lookup: self.client_dns_lookup.unwrap_or_default(),
            metrics_sample_window: millis(
                self.metrics_sample_window_ms
                    .unwrap_or(default::METRICS_SAMPLE_WINDOW_MS),
            ),
            metrics_num_samples: count(
                self.metrics_num_samples
                    .unwrap_or(default::METRICS_NUM_SAMPLES),
            ),
            metrics_recording_level: self.metrics_recording_level.unwrap_or_default(),
            security: self.security.resolve()?,
        })
    }

    /// Java's `postProcessAndValidateIdempotenceConfigs`: idempotence needs
    /// `acks=all`, `retries > 0` and at most 5 in-flight requests. An explicit
    /// `enable.idempotence=true` that conflicts is an error; the default is turned
    /// off (with a warning) for `acks` and `retries`, while more than 5 in-flight
    /// requests is an error either way, as in Java 4.x. A `transactional.id`
    /// requires idempotence.
    fn idempotence(
        &self,
        acks: super::Acks,
        retries: i64,
        max_in_flight: i64,
    ) -> Result<bool, ConfigError> {
        let explicit = self.enable_idempotence == Some(true);
        let mut enabled = self
            .enable_idempotence
            .unwrap_or(default::ENABLE_IDEMPOTENCE);
        let mut disabled_because: Vec<String> = Vec::new();
        if enabled {
            if retries == 0 {
                if explicit {
                    return Err(ConfigError::conflict(
                        keys::RETRIES,
                        retries,
                        "enable.idempotence=true requires retries > 0, but retries=0; \
                         remove retries (or set it above 0) or set enable.idempotence=false",
                    ));
                }
                disabled_because.push(format!("{}=0", keys::RETRIES));
            }
            if acks != super::Acks::All {
                if explicit {
                    return Err(ConfigError::conflict(
                        keys::ACKS,
                        acks,
                        format!(
                            "enable.idempotence=true requires acks=all, but acks={acks}; \
                             set acks=all or set enable.idempotence=false"
                        ),
                    ));
                }
                disabled_because.push(format!("{}={acks}", keys::ACKS));
            }
            if max_in_flight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE {
                let how = if explicit {
                    "enable.idempotence=true"
                } else {
                    "idempotence (on by default)"
                };
                return Err(ConfigError::conflict(
                    keys::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                    max_in_flight,
                    format!(
                        "{how} requires max.in.flight.requests.per.connection <= \
                         {MAX_IN_FLIGHT_FOR_IDEMPOTENCE}, but it is {max_in_flight}; \
                         lower it or set enable.idempotence=false"
                    ),
                ));
            }
        }
        if enabled && !disabled_because.is_empty() {
            tracing::warn!(
                "idempotence disabled because {}: idempotence requires acks=all and \
                 retries > 0; set enable.idempotence=false to silence this warning",
                disabled_because.join(" and ")
            );
            enabled = false;
        }
        if !enabled && let Some(id) = &self.transactional_id {
            let why = match &self.enable_idempotence {
                Some(false) => "enable.idempotence=false".to_owned(),
                _ => "idempotence was turned off by the settings above (acks must be all and \
                      retries above 0)"
                    .to_owned(),
            };
            return Err(ConfigError::conflict(
                keys::TRANSACTIONAL_ID,
                id,
                format!(
                    "transactional.id requires idempotence, but {why}; remove \
                     transactional.id or enable idempotence"
                ),
            ));
        }
        Ok(enabled)
    }

    /// Java's `maybeOverrideClientId`: an explicit `client.id` (even empty) is kept;
    /// otherwise `producer-<transactional.id>` or `producer-<N>` from a process-wide
    /// counter.
    fn client_id(&self, ids: ClientIdSource) -> String {
        match (&self.client_id, &self.transactional_id) {
            (Some(id), _) => id.clone(),
            (None, Some(tx)) => format!("producer-{tx}"),
            (None, None) if ids == ClientIdSource::Placeholder => "producer-0".to_owned(),
            (None, None) => format!(
                "producer-{}",
                CLIENT_ID_SEQUENCE.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }
}

/// Java's `KafkaProducer.configureDeliveryTimeout`: delivery must be allowed at least
/// `linger.ms + request.timeout.ms`. An explicit smaller value is an error; the
/// default is raised to the sum (with a warning).
fn delivery_timeout_ms(
    explicit: Option<i64>,
    linger_ms: i64,
    request_timeout_ms: i64,
) -> Result<i64, ConfigError> {
    let linger_capped = linger_ms.min(i64::from(i32::MAX));
    let floor = (linger_capped + request_timeout_ms).min(i64::from(i32::MAX));
    match explicit {
        Some(delivery) if delivery < floor => Err(ConfigError::conflict(
            keys::DELIVERY_TIMEOUT_MS,
            delivery,
            format!(
                "delivery.timeout.ms ({delivery} ms) must be at least linger.ms ({linger_ms} ms) \
                 + request.timeout.ms ({request_timeout_ms} ms) = {floor} ms; raise \
                 delivery.timeout.ms or lower the other two"
            ),
        )),
        Some(delivery) => Ok(delivery),
        None if default::DELIVERY_TIMEOUT_MS < floor => {
            tracing::warn!(
                "delivery.timeout.ms should be equal to or larger than linger.ms + \
                 request.timeout.ms; setting it to {floor}"
            );
            Ok(floor)
        }
        None => Ok(default::DELIVERY_TIMEOUT_MS),
    }
}

/// Java's `warnDisablingExponentialBackoff`.
fn warn_static_backoffs(settings: &Settings) {
    let pairs = [
        (
            keys::RETRY_BACKOFF_MS,
            settings
                .retry_backoff_ms
                .unwrap_or(default::RETRY_BACKOFF_MS),
            keys::RETRY_BACKOFF_MAX_MS,
            settings
                .retry_backoff_max_ms
                .unwrap_or(default::RETRY_BACKOFF_MAX_MS),
        ),
        (
            keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MS,
            settings
                .socket_connection_setup_timeout_ms
                .unwrap_or(default::SOCKET_CONNECTION_SETUP_TIMEOUT_MS),
            keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS,
            settings
                .socket_connection_setup_timeout_max_ms
                .unwrap_or(default::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS),
        ),
    ];
    for (base_key, base, max_key, max) in pairs {
        if base > max {
            tracing::warn!(
                "'{base_key}' ({base}) is greater than '{max_key}' ({max}); a constant {max} \
                 will be used instead of an exponential one"
            );
        }
    }
}

/// -1 (the OS default) as `None`.
fn socket_buffer(bytes: i64) -> Option<usize> {
    (bytes >= 0).then(|| count(bytes))
}

/// A validated non-negative size that must also fit this platform's `usize`.
fn fits_usize(key: &str, value: i64) -> Result<usize, ConfigError> {
    usize::try_from(value).map_err(|_| {
        ConfigError::invalid(
            key,
            &value.to_string(),
            format!("at most {} on this platform", usize::MAX),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let mut settings = Settings::default();
        settings
            .apply(keys::BOOTSTRAP_SERVERS, "localhost:9092")
            .unwrap();
        settings
    }

    #[test]
    fn placeholder_client_ids_take_no_number() {
        let config = settings().resolve(ClientIdSource::Placeholder).unwrap();
        assert_eq!(config.client_id(), "producer-0");
        let config = settings().resolve(ClientIdSource::Sequence).unwrap();
        let number: u64 = config.client_id()["producer-".len()..].parse().unwrap();
        assert!(number >= 1);
    }
}
