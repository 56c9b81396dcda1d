//! SASL authentication (`security.protocol=SASL_PLAINTEXT` / `SASL_SSL`).
//!
//! After ApiVersions, a connection sends SaslHandshake (v1) naming the mechanism,
//! then SaslAuthenticate requests carrying the mechanism's tokens until it
//! completes. The broker's session lifetime (SaslAuthenticate v1+, KIP-368) makes
//! the connection re-authenticate before it runs out.
//!
//! Mechanisms sit behind [`SaslMechanism`] (one module each): [`plain`],
//! [`scram`] (SCRAM-SHA-256/512) and [`oauthbearer`] (with a [`TokenProvider`]
//! seam: the unsecured JWS of Kafka's tests and the OIDC client-credentials
//! login). GSSAPI and AWS_MSK_IAM would be further implementations of the same
//! trait: a [`SaslMechanism`] that produces a [`SaslSession`] per exchange.
//!
//! Credentials come from `sasl.mechanism` and `sasl.jaas.config` as the Java
//! client reads them; they never appear in `Debug` output, logs or errors.

pub mod jaas;
pub mod oauthbearer;
pub mod oidc;
pub mod plain;
pub mod scram;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

pub use jaas::JaasConfig;
pub use oauthbearer::{OAuthBearer, OAuthToken, TokenProvider};

use crate::config::ConfigError;
use crate::config::keys;
use crate::config::security::SecuritySettings;

/// One SASL mechanism with its credentials: starts an exchange per connection
/// (and per re-authentication).
///
/// Implement it to add a mechanism (GSSAPI, AWS_MSK_IAM, ...) and hand it to
/// [`ProducerConfigBuilder::sasl_mechanism`](crate::ProducerConfigBuilder::sasl_mechanism).
/// For OAUTHBEARER with tokens of your own, implement [`TokenProvider`]
/// instead (see
/// [`ProducerConfigBuilder::oauth_token_provider`](crate::ProducerConfigBuilder::oauth_token_provider)).
///
/// A mechanism is a name, who it authenticates as, and a session per
/// connection. Here PLAIN, with a password fetched when each connection
/// authenticates (from a secret store, say), so a rotated one is picked up:
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::sync::Arc;
/// use kafka_core::{AuthFailure, ProducerConfig, SaslMechanism, SaslSession, SecurityProtocol};
///
/// #[derive(Debug)]
/// struct RotatingPlain {
///     user: String,
/// }
///
/// /// PLAIN is one message; the broker's empty answer ends the exchange.
/// struct PlainSession(Vec<u8>);
///
/// impl SaslSession for PlainSession {
///     fn initial_response(&mut self) -> Result<Vec<u8>, AuthFailure> {
///         Ok(std::mem::take(&mut self.0))
///     }
///     fn evaluate(&mut self, _answer: &[u8]) -> Result<Option<Vec<u8>>, AuthFailure> {
///         Ok(None)
///     }
/// }
///
/// impl SaslMechanism for RotatingPlain {
///     fn name(&self) -> &str {
///         "PLAIN"
///     }
///     fn principal(&self) -> String {
///         self.user.clone() // never the secret
///     }
///     fn start(
///         &self,
///     ) -> Pin<Box<dyn Future<Output = Result<Box<dyn SaslSession>, AuthFailure>> + Send + '_>> {
///         Box::pin(async move {
///             let password = "s3cr3t"; // fetched now, for this connection
///             let message = format!("\0{}\0{password}", self.user).into_bytes();
///             Ok(Box::new(PlainSession(message)) as Box<dyn SaslSession>)
///         })
///     }
/// }
///
/// let config = ProducerConfig::builder()
///     .bootstrap_servers("broker:9092")
///     .security_protocol(SecurityProtocol::SaslPlaintext)
///     .sasl_mechanism(Arc::new(RotatingPlain { user: "orders".into() }))
///     .build()?;
/// assert_eq!(config.security().protocol(), SecurityProtocol::SaslPlaintext);
/// # Ok::<(), kafka_core::ConfigError>(())
/// ```
pub trait SaslMechanism: Send + Sync + fmt::Debug {
    /// The name sent in SaslHandshake, e.g. `SCRAM-SHA-512`.
    fn name(&self) -> &str;

    /// Who authenticates, for error messages (a user name, a client id); never a
    /// secret.
    fn principal(&self) -> String;

    /// Starts one exchange; may wait (for example for a token from an identity
    /// provider).
    fn start(&self) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthFailure>>;

    /// Work to do before a connection is opened or re-authenticated, outside
    /// `socket.connection.setup.timeout.ms` and without holding the
    /// connection (Java's login, apart from its connections): fetching or
    /// refreshing a token from an identity provider, within the mechanism's
    /// own timeouts, so that `start` then finds it ready. Nothing by default.
    fn prepare(&self) -> BoxFuture<'_, Result<(), AuthFailure>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The client side of one SASL exchange.
pub trait SaslSession: Send {
    /// The first token sent.
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthFailure>;

    /// The broker's token in answer to the last one sent: the next token, or
    /// `None` once the exchange is complete (the broker's last token checked).
    fn evaluate(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, AuthFailure>;
}

/// The SASL settings of a producer: the mechanism with its credentials.
#[derive(Clone, Debug)]
pub struct SaslConfig {
    mechanism: Arc<dyn SaslMechanism>,
}

impl SaslConfig {
    /// SASL with this mechanism.
    pub fn new(mechanism: Arc<dyn SaslMechanism>) -> Self {
        SaslConfig { mechanism }
    }

    /// The mechanism.
    pub fn mechanism(&self) -> &dyn SaslMechanism {
        &*self.mechanism
    }

    /// From `sasl.mechanism` (Java's default `GSSAPI` is not supported) and
    /// `sasl.jaas.config`.
    pub(crate) fn from_settings(settings: &SecuritySettings) -> Result<Self, ConfigError> {
        if let Some(mechanism) = &settings.mechanism {
            return Ok(SaslConfig::new(Arc::clone(mechanism)));
        }
        let mechanism = settings
            .get(keys::SASL_MECHANISM)
            .unwrap_or("GSSAPI")
            .to_ascii_uppercase();
        let jaas = match settings.get(keys::SASL_JAAS_CONFIG) {
            Some(text) => Some(JaasConfig::parse(text).map_err(|why| {
                ConfigError::invalid(keys::SASL_JAAS_CONFIG, "", format!("JAAS syntax: {why}"))
            })?),
            None => None,
        };
        let jaas_error = |why: String| ConfigError::invalid(keys::SASL_JAAS_CONFIG, "", why);
        let need_jaas = |module: &str| {
            jaas.clone().ok_or_else(|| ConfigError::Missing {
                key: keys::SASL_JAAS_CONFIG.to_owned(),
                hint: format!(
                    "sasl.mechanism={mechanism} needs the credentials, e.g. \
                     {module} required username=\"...\" password=\"...\";"
                ),
            })
        };
        let check_module = |jaas: &JaasConfig, modules: &[&str]| {
            if modules.iter().any(|module| jaas.is(module)) {
                Ok(())
            } else {
                Err(ConfigError::conflict(
                    keys::SASL_JAAS_CONFIG,
                    "",
                    format!(
                        "sasl.mechanism={mechanism} needs the login module {}, \
                         but sasl.jaas.config names {}",
                        modules[0], jaas.login_module
                    ),
                ))
            }
        };
        let mechanism: Arc<dyn SaslMechanism> = match mechanism.as_str() {
            "PLAIN" => {
                let jaas = need_jaas(jaas::PLAIN_LOGIN_MODULE)?;
                // Java's ScramLoginModule gives its username and password to
                // PLAIN as PlainLoginModule does; not the other way round.
                check_module(&jaas, &[jaas::PLAIN_LOGIN_MODULE, jaas::SCRAM_LOGIN_MODULE])?;
                Arc::new(plain::Plain::from_jaas(&jaas).map_err(jaas_error)?)
            }
            "SCRAM-SHA-256" | "SCRAM-SHA-512" => {
                let jaas = need_jaas(jaas::SCRAM_LOGIN_MODULE)?;
                check_module(&jaas, &[jaas::SCRAM_LOGIN_MODULE])?;
                let hash = if mechanism == "SCRAM-SHA-256" {
                    scram::ScramHash::Sha256
                } else {
                    scram::ScramHash::Sha512
                };
                Arc::new(scram::Scram::from_jaas(hash, &jaas).map_err(jaas_error)?)
            }
            "OAUTHBEARER" => {
                let jaas = match jaas {
                    Some(j) => j,
                    None => need_jaas(jaas::OAUTHBEARER_LOGIN_MODULE)?,
                };
                check_module(&jaas, &[jaas::OAUTHBEARER_LOGIN_MODULE])?;
                Arc::new(OAuthBearer::from_settings(settings, &jaas)?)
            }
            "GSSAPI" => {
                return Err(ConfigError::unsupported(
                    keys::SASL_MECHANISM,
                    "GSSAPI (Kerberos, Java's default sasl.mechanism) is not supported; \
                     set sasl.mechanism to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                ));
            }
            "AWS_MSK_IAM" => {
                return Err(ConfigError::unsupported(
                    keys::SASL_MECHANISM,
                    "AWS_MSK_IAM is not supported; MSK also offers SCRAM-SHA-512 and mTLS",
                ));
            }
            _ => {
                return Err(ConfigError::invalid(
                    keys::SASL_MECHANISM,
                    settings.get(keys::SASL_MECHANISM).unwrap_or_default(),
                    "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                ));
            }
        };
        Ok(SaslConfig { mechanism })
    }
}

/// Why SASL authentication failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The listener does not enable the mechanism.
    #[error(
        "the listener does not enable this mechanism (it enables: {}); set sasl.mechanism to one of them",
        enabled.join(", ")
    )]
    MechanismNotEnabled {
        /// The mechanisms the listener enables.
        enabled: Vec<String>,
    },
    /// The broker rejected the credentials.
    #[error("the broker rejected the credentials{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Rejected {
        /// The broker's message.
        message: Option<String>,
    },
    /// The broker's proof of knowing the credentials (SCRAM server signature) was wrong.
    #[error(
        "the broker's SCRAM server signature does not match: it does not know the credentials (or is not the broker it claims to be)"
    )]
    ServerSignatureMismatch,
    /// The broker broke the mechanism's protocol.
    #[error("invalid message from the broker: {0}")]
    Protocol(String),
    /// No token could be obtained (OAUTHBEARER).
    #[error("no token: {0}")]
    Token(String),
    /// The broker does not speak SaslHandshake v1 / SaslAuthenticate (Kafka before 1.0).
    #[error("the broker does not support SaslHandshake v1 and SaslAuthenticate (Kafka 1.0+)")]
    NotSupportedByBroker,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> SecuritySettings {
        SecuritySettings::from_pairs(pairs)
    }

    #[test]
    fn mechanisms_from_java_settings() {
        let plain = SaslConfig::from_settings(&settings(&[
            (keys::SASL_MECHANISM, "PLAIN"),
            (
                keys::SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.plain.PlainLoginModule required \
                 username=\"alice\" password=\"hunter2\";",
            ),
        ]))
        .unwrap();
        assert_eq!(plain.mechanism().name(), "PLAIN");
        assert_eq!(plain.mechanism().principal(), "alice");
        assert!(!format!("{plain:?}").contains("hunter2"));

        let scram = SaslConfig::from_settings(&settings(&[
            (keys::SASL_MECHANISM, "scram-sha-512"),
            (
                keys::SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.scram.ScramLoginModule required \
                 username=\"bob\" password=\"hunter2\";",
            ),
        ]))
        .unwrap();
        assert_eq!(scram.mechanism().name(), "SCRAM-SHA-512");
        assert!(!format!("{scram:?}").contains("hunter2"));
    }

    #[test]
    fn wrong_or_missing_settings_are_config_errors() {
        let err = SaslConfig::from_settings(&settings(&[])).unwrap_err();
        assert_eq!(err.key(), keys::SASL_MECHANISM);
        assert!(err.to_string().contains("GSSAPI"), "{err}");
        let err =
            SaslConfig::from_settings(&settings(&[(keys::SASL_MECHANISM, "PLAIN")])).unwrap_err();
        assert_eq!(err.key(), keys::SASL_JAAS_CONFIG);
        // SCRAM with PlainLoginModule fails in Java too (only ScramLoginModule
        // provides the SCRAM client); PLAIN takes ScramLoginModule's credentials.
        let err = SaslConfig::from_settings(&settings(&[
            (keys::SASL_MECHANISM, "SCRAM-SHA-256"),
            (
                keys::SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.plain.PlainLoginModule required \
                 username=\"bob\" password=\"hunter2\";",
            ),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("ScramLoginModule"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let plain = SaslConfig::from_settings(&settings(&[
            (keys::SASL_MECHANISM, "PLAIN"),
            (
                keys::SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.scram.ScramLoginModule required \
                 username=\"bob\" password=\"hunter2\";",
            ),
        ]))
        .unwrap();
        assert_eq!(plain.mechanism().principal(), "bob");
        let err = SaslConfig::from_settings(&settings(&[
            (keys::SASL_MECHANISM, "PLAIN"),
            (
                keys::SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.plain.PlainLoginModule required \
                 username=\"bob\";",
            ),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
    }
}
