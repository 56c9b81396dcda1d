//! [`ConfigError`]: what was wrong with a producer setting and what to do about it.

use super::keys;

/// Why a producer configuration was rejected.
///
/// Every variant names the offending key ([`ConfigError::key`]); variants about a
/// value carry it too ([`ConfigError::value`]), except for secret keys, whose values
/// never appear in an error, its `Display` or its `Debug` output.
///
/// ```
/// use kafka_core::config::{ConfigError, ProducerConfig};
///
/// let err = ProducerConfig::from_properties([
///     ("bootstrap.servers", "localhost:9092"),
///     ("acks", "fast"),
/// ])
/// .unwrap_err();
/// assert_eq!(err.key(), "acks");
/// assert_eq!(err.value(), Some("fast"));
/// assert_eq!(
///     err.to_string(),
///     "invalid value 'fast' for 'acks': expected one of all, -1, 0, 1"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting (`bootstrap.servers`) was not given.
    #[error("missing required producer config '{key}': {hint}")]
    Missing {
        /// The missing key.
        key: String,
        /// What to set it to.
        hint: String,
    },
    /// The key is not a producer setting.
    #[error(
        "unknown producer config '{key}'{}",
        suggestion.as_ref().map(|s| format!("; did you mean '{s}'?")).unwrap_or_default()
    )]
    UnknownKey {
        /// The unknown key, as given.
        key: String,
        /// The closest known key, when one is close enough to be a likely typo.
        suggestion: Option<String>,
    },
    /// The value does not parse or is out of range.
    #[error("invalid value '{value}' for '{key}': expected {allowed}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The rejected value (`[hidden]` for secret keys).
        value: String,
        /// What the key accepts, e.g. `an integer in [0, 2147483647]`.
        allowed: String,
    },
    /// The key is a Java client setting this producer does not implement, or the
    /// value asks for a feature it does not have yet (TLS, SASL, ...).
    #[error("producer config '{key}' is not supported: {reason}")]
    Unsupported {
        /// The key.
        key: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The value is valid on its own but conflicts with other settings (the
    /// idempotence requirements, `delivery.timeout.ms` vs `linger.ms` +
    /// `request.timeout.ms`, `transactional.id` without idempotence).
    #[error("{message}")]
    Conflict {
        /// The key whose value conflicts.
        key: String,
        /// Its value.
        value: String,
        /// The whole explanation, naming every setting involved.
        message: String,
    },
    /// No address in `bootstrap.servers` resolves to an IP address (Java's
    /// "No resolvable bootstrap urls given in bootstrap.servers"); checked when
    /// the producer is built.
    #[error(
        "no resolvable bootstrap urls given in bootstrap.servers ({value}): {reasons}; \
         check the host names and that this machine can resolve them"
    )]
    UnresolvableBootstrap {
        /// `bootstrap.servers` as given.
        value: String,
        /// Each address with why it did not resolve.
        reasons: String,
    },
}

impl ConfigError {
    /// The configuration key the error is about.
    pub fn key(&self) -> &str {
        match self {
            ConfigError::Missing { key, .. }
            | ConfigError::UnknownKey { key, .. }
            | ConfigError::InvalidValue { key, .. }
            | ConfigError::Unsupported { key, .. }
            | ConfigError::Conflict { key, .. } => key,
            ConfigError::UnresolvableBootstrap { .. } => "bootstrap.servers",
        }
    }

    /// The rejected value, where the error is about a value (`[hidden]` for secrets).
    pub fn value(&self) -> Option<&str> {
        match self {
            ConfigError::InvalidValue { value, .. }
            | ConfigError::Conflict { value, .. }
            | ConfigError::UnresolvableBootstrap { value, .. } => Some(value),
            ConfigError::Missing { .. }
            | ConfigError::UnknownKey { .. }
            | ConfigError::Unsupported { .. } => None,
        }
    }

    /// An invalid value; the value is replaced by `[hidden]` when `key` is secret.
    pub(crate) fn invalid(key: &str, value: &str, allowed: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            key: key.to_owned(),
            value: keys::redact(key, value).into_owned(),
            allowed: allowed.into(),
        }
    }

    /// The same error about `key` set inside `outer` (an option of
    /// `sasl.jaas.config`, say): the key names both.
    pub(crate) fn within(self, outer: &str) -> Self {
        let rename = |key: String| format!("{outer} option {key}");
        match self {
            ConfigError::Missing { key, hint } => ConfigError::Missing {
                key: rename(key),
                hint,
            },
            ConfigError::UnknownKey { key, suggestion } => ConfigError::UnknownKey {
                key: rename(key),
                suggestion,
            },
            ConfigError::InvalidValue {
                key,
                value,
                allowed,
            } => ConfigError::InvalidValue {
                key: rename(key),
                value,
                allowed,
            },
            ConfigError::Unsupported { key, reason } => ConfigError::Unsupported {
                key: rename(key),
                reason,
            },
            ConfigError::Conflict {
                key,
                value,
                message,
            } => ConfigError::Conflict {
                key: rename(key),
                value,
                message: format!("{outer}: {message}"),
            },
            other @ ConfigError::UnresolvableBootstrap { .. } => other,
        }
    }

    pub(crate) fn unsupported(key: &str, reason: impl Into<String>) -> Self {
        ConfigError::Unsupported {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn conflict(key: &str, value: impl ToString, message: impl Into<String>) -> Self {
        ConfigError::Conflict {
            key: key.to_owned(),
            value: keys::redact(key, &value.to_string()).into_owned(),
            message: message.into(),
        }
    }
}
