//! `security.protocol`, `ssl.*` and `sasl.*`: the Java client's security settings.
//!
//! The values are kept as given (secrets wrapped in [`Password`], never shown) and
//! turned, when the configuration is built, into the [`ConnectionSecurity`] every
//! broker connection uses: the TLS client configuration is loaded then (trust and
//! key stores read, as the Java client reads them when the producer is created), so
//! a missing file or a wrong store password is a configuration error, not a
//! connection failure.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::ConfigError;
use super::keys;
use crate::network::sasl::{SaslConfig, SaslMechanism};
use crate::network::tls::{TlsConnector, TlsSettings};
use crate::network::{ConnectionSecurity, SecurityProtocol};

/// A secret value (password, key, token, JAAS text): its `Debug` and `Display` show
/// `[hidden]`; [`Password::expose`] gives the value to the code that needs it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Password(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(keys::HIDDEN)
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(keys::HIDDEN)
    }
}

impl FromStr for SecurityProtocol {
    type Err = ConfigError;

    /// Java's names, case-insensitive.
    fn from_str(raw: &str) -> Result<Self, ConfigError> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(SecurityProtocol::Plaintext),
            "SSL" => Ok(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Ok(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Ok(SecurityProtocol::SaslSsl),
            _ => Err(ConfigError::invalid(
                keys::SECURITY_PROTOCOL,
                raw,
                "one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
            )),
        }
    }
}

/// The `ssl.*` and `sasl.*` keys this producer implements.
pub(crate) const SECURITY_KEYS: &[&str] = &[
    keys::SSL_TRUSTSTORE_LOCATION,
    keys::SSL_TRUSTSTORE_TYPE,
    keys::SSL_TRUSTSTORE_PASSWORD,
    keys::SSL_TRUSTSTORE_CERTIFICATES,
    keys::SSL_KEYSTORE_LOCATION,
    keys::SSL_KEYSTORE_TYPE,
    keys::SSL_KEYSTORE_PASSWORD,
    keys::SSL_KEY_PASSWORD,
    keys::SSL_KEYSTORE_CERTIFICATE_CHAIN,
    keys::SSL_KEYSTORE_KEY,
    keys::SSL_ENDPOINT_IDENTIFICATION_ALGORITHM,
    keys::SSL_ENABLED_PROTOCOLS,
    keys::SSL_PROTOCOL,
    keys::SASL_MECHANISM,
    keys::SASL_JAAS_CONFIG,
    keys::SASL_LOGIN_CALLBACK_HANDLER_CLASS,
    keys::SASL_LOGIN_REFRESH_WINDOW_FACTOR,
    keys::SASL_LOGIN_REFRESH_WINDOW_JITTER,
    keys::SASL_LOGIN_REFRESH_MIN_PERIOD_SECONDS,
    keys::SASL_LOGIN_REFRESH_BUFFER_SECONDS,
    keys::SASL_LOGIN_CONNECT_TIMEOUT_MS,
    keys::SASL_LOGIN_READ_TIMEOUT_MS,
    keys::SASL_LOGIN_RETRY_BACKOFF_MS,
    keys::SASL_LOGIN_RETRY_BACKOFF_MAX_MS,
    keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL,
    keys::SASL_OAUTHBEARER_SCOPE_CLAIM_NAME,
    keys::SASL_OAUTHBEARER_SUB_CLAIM_NAME,
    keys::SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_ID,
    keys::SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_SECRET,
    keys::SASL_OAUTHBEARER_SCOPE,
    keys::SASL_OAUTHBEARER_HEADER_URLENCODE,
];

/// `security.protocol` and the `ssl.*`/`sasl.*` values as set, secrets wrapped.
#[derive(Clone, Default)]
pub(crate) struct SecuritySettings {
    pub(crate) protocol: Option<SecurityProtocol>,
    values: BTreeMap<&'static str, Password>,
    /// A mechanism given in code (builder), used instead of `sasl.mechanism`.
    pub(crate) mechanism: Option<Arc<dyn SaslMechanism>>,
}

impl PartialEq for SecuritySettings {
    fn eq(&self, other: &Self) -> bool {
        self.protocol == other.protocol
            && self.values == other.values
            && same_mechanism(&self.mechanism, &other.mechanism)
    }
}

impl Eq for SecuritySettings {}

fn same_mechanism(a: &Option<Arc<dyn SaslMechanism>>, b: &Option<Arc<dyn SaslMechanism>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

impl fmt::Debug for SecuritySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        map.entry(&keys::SECURITY_PROTOCOL, &self.protocol);
        if let Some(mechanism) = &self.mechanism {
            map.entry(&"sasl mechanism (given in code)", &mechanism.name());
        }
        for (key, value) in &self.values {
            map.entry(key, &keys::redact(key, value.expose()));
        }
        map.finish()
    }
}

impl SecuritySettings {
    /// Whether `key` is one of the security keys handled here.
    pub(crate) fn handles(key: &str) -> bool {
        SECURITY_KEYS.contains(&key)
    }

    /// Stores `raw` for `key` (one of [`SECURITY_KEYS`]).
    pub(crate) fn set(&mut self, key: &str, raw: &str) -> Result<(), ConfigError> {
        let Some(key) = SECURITY_KEYS.iter().copied().find(|k| *k == key) else {
            return Err(ConfigError::unsupported(
                key,
                "recognised but not wired up; please report this as a bug",
            ));
        };
        self.values.insert(key, Password::new(raw));
        Ok(())
    }

    /// The value of `key`, trimmed, `None` when unset or empty (Java's `null`).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.expose().trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `key` as set (not trimmed), `None` when unset.
    pub(crate) fn raw(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(Password::expose)
    }

    /// Settings from `(key, value)` pairs, for tests.
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let mut settings = SecuritySettings::default();
        for (key, value) in pairs {
            settings.set(key, value).expect("a security key");
        }
        settings
    }

    /// A secret value, `None` when unset or empty.
    pub(crate) fn secret(&self, key: &str) -> Option<Password> {
        self.get(key).map(Password::new)
    }

    /// Every value set, by key, secrets redacted.
    pub(crate) fn shown(&self) -> Vec<(&'static str, String)> {
        self.values
            .iter()
            .map(|(k, v)| (*k, keys::redact(k, v.expose()).into_owned()))
            .collect()
    }

    /// Loads what the settings name (stores, certificates, JAAS options) into the
    /// security every connection uses.
    pub(crate) fn resolve(&self) -> Result<SecurityConfig, ConfigError> {
        // The typed SASL login values are checked whatever the protocol, as
        // Java's `ConfigDef` checks every value when the producer is made: a
        // mistake shows now, not when SASL is turned on in production.
        crate::network::sasl::oauthbearer::RefreshPolicy::from_settings(self)?;
        crate::network::sasl::oidc::check_settings(self)?;
        let protocol = self.protocol.unwrap_or_default();
        let tls = if protocol.uses_tls() {
            let settings = TlsSettings::from_settings(self)?;
            Some(Arc::new(TlsConnector::new(&settings)?))
        } else {
            None
        };
        let sasl = if protocol.uses_sasl() {
            Some(Arc::new(SaslConfig::from_settings(self)?))
        } else {
            None
        };
        Ok(SecurityConfig {
            settings: self.clone(),
            connection: ConnectionSecurity { tls, sasl },
        })
    }
}

/// The resolved security settings: the protocol and what its connections need
/// (TLS client configuration, SASL mechanism and credentials).
///
/// Two configurations are equal when they were built from the same settings
/// (`PLAINTEXT` set or left to default alike).
#[derive(Clone, Default)]
pub struct SecurityConfig {
    settings: SecuritySettings,
    connection: ConnectionSecurity,
}

impl PartialEq for SecurityConfig {
    fn eq(&self, other: &Self) -> bool {
        // PLAINTEXT set explicitly equals the default.
        self.protocol() == other.protocol()
            && self.settings.values == other.settings.values
            && same_mechanism(&self.settings.mechanism, &other.settings.mechanism)
    }
}

impl Eq for SecurityConfig {}

impl fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SecurityConfig {
    /// `security.protocol` (default `PLAINTEXT`).
    pub fn protocol(&self) -> SecurityProtocol {
        self.settings.protocol.unwrap_or_default()
    }

    /// What each broker connection needs: give it to
    /// [`ConnectionOptions::security`](crate::network::ConnectionOptions::security).
    pub(crate) fn connection(&self) -> &ConnectionSecurity {
        &self.connection
    }

    /// The `ssl.*`/`sasl.*` values set, by Java key, secrets shown as `[hidden]`.
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        self.settings.shown()
    }
}
