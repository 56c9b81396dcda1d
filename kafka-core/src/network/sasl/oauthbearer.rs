//! OAUTHBEARER (RFC 7628, KIP-255): a bearer token from a [`TokenProvider`].
//!
//! Providers:
//! - [`UnsecuredJws`]: Kafka's `OAuthBearerUnsecuredLoginCallbackHandler`, an
//!   unsigned JWT (`alg: none`) built from the `unsecuredLogin*` JAAS options,
//!   accepted by brokers with the unsecured validator. For tests and development.
//! - anything implementing [`TokenProvider`] (for example a client-credentials
//!   login against an OIDC identity provider), handed to [`OAuthBearer::new`].
//!
//! Tokens are cached, one for all connections, and fetched again when Java's
//! login refresher would: once a share of their lifetime
//! (`sasl.login.refresh.window.factor` 0.8 plus up to
//! `sasl.login.refresh.window.jitter` 0.05) has passed, but not later than
//! `sasl.login.refresh.buffer.seconds` (300) before they expire nor sooner
//! than `sasl.login.refresh.min.period.seconds` (60) after the fetch; a token
//! too short-lived for both margins is refreshed at that share of what is
//! left of it. Tokens are secrets: `Debug` never shows them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::{BoxFuture, FutureExt};

use super::jaas::JaasConfig;
use super::{AuthFailure, SaslMechanism, SaslSession};
use crate::config::security::SecuritySettings;
use crate::config::{ConfigError, Password, keys};

/// A bearer token with what the client needs to know about it.
#[derive(Clone)]
pub struct OAuthToken {
    /// The compact-serialised token (secret).
    pub value: Password,
    /// Its principal (the subject claim), for messages.
    pub principal: String,
    /// When it expires.
    pub expires_at: SystemTime,
    /// When it was issued (or fetched).
    pub issued_at: SystemTime,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("value", &self.value)
            .field("principal", &self.principal)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where OAUTHBEARER tokens come from: implement it to plug in an identity
/// provider. Called when no cached token is fresh enough. An implementation,
/// handed to a producer:
/// [`ProducerConfigBuilder::oauth_token_provider`](crate::ProducerConfigBuilder::oauth_token_provider).
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A new token.
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>>;

    /// Who the tokens are for (a client id, a subject), for error messages.
    fn principal(&self) -> String;
}

/// When to fetch a new token (`sasl.login.refresh.*`, Java's
/// `ExpiringCredentialRefreshingLogin`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefreshPolicy {
    /// `sasl.login.refresh.window.factor` (0.8; 0.5 to 1.0).
    pub window_factor: f64,
    /// `sasl.login.refresh.window.jitter` (0.05; 0 to 0.25): a random share
    /// of the lifetime up to this is added to the factor.
    pub window_jitter: f64,
    /// `sasl.login.refresh.min.period.seconds` (60; 0 to 900).
    pub min_period: Duration,
    /// `sasl.login.refresh.buffer.seconds` (300; 0 to 3600).
    pub buffer: Duration,
}

impl RefreshPolicy {
    /// The `sasl.login.refresh.*` settings, in Java's ranges: a value
    /// outside them is refused, not clamped.
    pub(crate) fn from_settings(settings: &SecuritySettings) -> Result<Self, ConfigError> {
        let fraction = |key: &str, default: f64, max: f64, min: f64| -> Result<f64, ConfigError> {
            match settings.get(key) {
                None => Ok(default),
                Some(raw) => raw
                    .parse::<f64>()
                    .ok()
                    .filter(|v| (min..=max).contains(v))
                    .ok_or_else(|| {
                        ConfigError::invalid(key, raw, format!("a number from {min} to {max}"))
                    }),
            }
        };
        let seconds = |key: &str, default: u64, max: u64| -> Result<Duration, ConfigError> {
            match settings.get(key) {
                None => Ok(Duration::from_secs(default)),
                Some(raw) => raw
                    .parse::<u64>()
                    .ok()
                    .filter(|v| *v <= max)
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        ConfigError::invalid(key, raw, format!("whole seconds from 0 to {max}"))
                    }),
            }
        };
        Ok(RefreshPolicy {
            window_factor: fraction(keys::SASL_LOGIN_REFRESH_WINDOW_FACTOR, 0.8, 1.0, 0.5)?,
            window_jitter: fraction(keys::SASL_LOGIN_REFRESH_WINDOW_JITTER, 0.05, 0.25, 0.0)?,
            min_period: seconds(keys::SASL_LOGIN_REFRESH_MIN_PERIOD_SECONDS, 60, 900)?,
            buffer: seconds(keys::SASL_LOGIN_REFRESH_BUFFER_SECONDS, 300, 3600)?,
        })
    }
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            window_factor: 0.8,
            window_jitter: 0.05,
            min_period: Duration::from_secs(60),
            buffer: Duration::from_secs(300),
        }
    }
}

impl RefreshPolicy {
    /// When `token`, fetched at `fetched_at`, is fetched again (Java's
    /// `refreshMs`); `random` in 0..1 draws the jitter.
    fn refresh_at(&self, token: &OAuthToken, fetched_at: SystemTime, random: f64) -> SystemTime {
        let expires = token.expires_at;
        let Ok(left) = expires.duration_since(fetched_at) else {
            // Expired already: ask again at once.
            return fetched_at;
        };
        let share = (self.window_factor + self.window_jitter * random).clamp(0.0, 1.0);
        // Too short-lived for both margins: a share of what is left.
        if self.min_period.saturating_add(self.buffer) > left {
            return fetched_at + left.mul_f64(share);
        }
        let start = token.issued_at.min(fetched_at);
        let life = expires.duration_since(start).unwrap_or(left);
        let proposed = start + life.mul_f64(share);
        let buffer_start = expires - self.buffer;
        let earliest = fetched_at + self.min_period;
        if proposed > buffer_start {
            buffer_start
        } else if proposed < earliest {
            earliest
        } else {
            proposed
        }
    }
}

/// A token with when it is to be fetched again.
#[derive(Clone)]
struct Cached {
    token: OAuthToken,
    refresh_at: SystemTime,
}

/// Java's `OAuthBearerClientInitialResponse.validateExtensions`: names of
/// letters only, `auth` reserved, values of printable ASCII, space, tab, CR
/// or LF (RFC 7628's `key` and `value`). A bad one would otherwise fail
/// every authentication; the value is not shown (it may be a secret).
fn validate_extensions(extensions: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for (name, value) in extensions {
        let why = if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic()) {
            Some(format!(
                "SASL extension name '{name}' must be letters only (RFC 7628)"
            ))
        } else if name == "auth" {
            Some("the SASL extension name 'auth' is reserved (RFC 7628)".to_owned())
        } else if value.is_empty()
            || !value
                .chars()
                .all(|c| matches!(c, '\x21'..='\x7e' | ' ' | '\t' | '\r' | '\n'))
        {
            Some(format!(
                "the value of SASL extension '{name}' must be printable ASCII (RFC 7628)"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(ConfigError::invalid(keys::SASL_JAAS_CONFIG, "", why));
        }
    }
    Ok(())
}

/// The longest `unsecuredLoginLifetimeSeconds` (ten years): a token's expiry
/// must stay a time the clock can hold.
const MAX_UNSECURED_LIFETIME_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// How long a token must still be valid to be used when its refresh failed:
/// enough for the authentication it is sent in.
const STILL_VALID_FOR: Duration = Duration::from_secs(5);

/// Kafka's login callback handlers for the OIDC login (3.1+ and the older
/// `secured` package name).
const SECURED_HANDLERS: &[&str] = &[
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
    "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler",
];

/// Kafka's unsecured login handler (the default without a token endpoint).
const UNSECURED_HANDLERS: &[&str] = &[
    "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredLoginCallbackHandler",
];

/// The OAUTHBEARER mechanism: a token provider, SASL extensions and a token cache.
pub struct OAuthBearer {
    provider: Arc<dyn TokenProvider>,
    extensions: BTreeMap<String, String>,
    refresh: RefreshPolicy,
    cached: Mutex<Option<Cached>>,
    /// Held while a token is fetched: connections opened at once (the
    /// bootstrap and every broker) wait for one fetch, not one each.
    fetching: tokio::sync::Mutex<()>,
}

impl fmt::Debug for OAuthBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBearer")
            .field("provider", &self.provider)
            .field("extensions", &self.extensions.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl OAuthBearer {
    /// OAUTHBEARER with tokens from `provider`.
    pub fn new(provider: Arc<dyn TokenProvider>) -> Self {
        OAuthBearer {
            provider,
            extensions: BTreeMap::new(),
            refresh: RefreshPolicy::default(),
            cached: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// Adds SASL extensions (KIP-342), sent with the token.
    pub fn with_extensions(mut self, extensions: BTreeMap<String, String>) -> Self {
        self.extensions = extensions;
        self
    }

    /// Sets when cached tokens are fetched again.
    pub fn with_refresh(mut self, refresh: RefreshPolicy) -> Self {
        self.refresh = refresh;
        self
    }

    /// From `sasl.jaas.config` (`OAuthBearerLoginModule`) and the `sasl.login.*`
    /// settings: the unsecured JWS unless a token endpoint is configured.
    pub(crate) fn from_settings(
        settings: &SecuritySettings,
        jaas: &JaasConfig,
    ) -> Result<Self, ConfigError> {
        let refresh = RefreshPolicy::from_settings(settings)?;
        let handler = settings.get(keys::SASL_LOGIN_CALLBACK_HANDLER_CLASS);
        let endpoint = settings.get(keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL);
        // Java's handlers name their SASL extensions (KIP-342) differently:
        // `extension_<name>` for the OIDC login (Confluent Cloud's
        // `extension_logicalCluster`, `extension_identityPoolId`),
        // `unsecuredLoginExtension_<name>` for the unsecured one.
        let prefix = if endpoint.is_some() {
            "extension_"
        } else {
            "unsecuredLoginExtension_"
        };
        let extensions: BTreeMap<String, String> = jaas
            .options
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|name| (name.to_owned(), v.clone())))
            .collect();
        validate_extensions(&extensions)?;
        match handler {
            None => {}
            Some(class) if UNSECURED_HANDLERS.contains(&class) => {}
            Some(class) if SECURED_HANDLERS.contains(&class) && endpoint.is_none() => {
                return Err(ConfigError::Missing {
                    key: keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL.to_owned(),
                    hint: format!(
                        "{class} fetches tokens from the identity provider's token \
                         endpoint: set its URL"
                    ),
                });
            }
            Some(class) if SECURED_HANDLERS.contains(&class) => {}
            Some(class) => {
                return Err(ConfigError::unsupported(
                    keys::SASL_LOGIN_CALLBACK_HANDLER_CLASS,
                    format!(
                        "{class} is a Java class; Kafka's OAuthBearerLoginCallbackHandler (OIDC) \
                         and the unsecured handler are built in, other token sources plug in \
                         as a kafka_core::TokenProvider"
                    ),
                ));
            }
        }
        let provider: Arc<dyn TokenProvider> = if endpoint.is_some() {
            Arc::new(super::oidc::ClientCredentials::from_settings(
                settings, jaas,
            )?)
        } else {
            Arc::new(
                UnsecuredJws::from_jaas(jaas)
                    .map_err(|why| ConfigError::invalid(keys::SASL_JAAS_CONFIG, "", why))?,
            )
        };
        Ok(OAuthBearer::new(provider)
            .with_extensions(extensions)
            .with_refresh(refresh))
    }

    /// The cached token while it is before its refresh point, and the
    /// cached token.
    fn fresh_token(&self) -> (Option<OAuthToken>, Option<OAuthToken>) {
        let now = SystemTime::now();
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let fresh = cached
            .as_ref()
            .filter(|c| c.refresh_at > now)
            .map(|c| c.token.clone());
        (fresh, cached.map(|c| c.token))
    }

    async fn current_token(&self) -> Result<OAuthToken, AuthFailure> {
        if let (Some(token), _) = self.fresh_token() {
            return Ok(token);
        }
        let _fetching = self.fetching.lock().await;
        // Another connection may have fetched it meanwhile.
        let (fresh, cached) = self.fresh_token();
        if let Some(token) = fresh {
            return Ok(token);
        }
        let now = SystemTime::now();
        match self.provider.token().await {
            Ok(token) => {
                let fetched_at = SystemTime::now();
                let refresh_at = self.refresh.refresh_at(&token, fetched_at, fastrand::f64());
                *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(Cached {
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
            // Past its refresh point a token is still good until it expires:
            // an identity provider down for a while does not fail
            // connections, as Java's login refresher keeps the current token
            // while it retries.
            Err(error) => match cached.filter(|t| t.expires_at > now + STILL_VALID_FOR) {
                Some(token) => {
                    tracing::warn!(
                        principal = %token.principal,
                        %error,
                        "cannot refresh the OAUTHBEARER token; using the current one until it expires"
                    );
                    Ok(token)
                }
                None => Err(AuthFailure::Token(error)),
            },
        }
    }
}

impl SaslMechanism for OAuthBearer {
    fn name(&self) -> &str {
        "OAUTHBEARER"
    }

    fn principal(&self) -> String {
        self.provider.principal()
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), AuthFailure>> {
        async move { self.current_token().await.map(drop) }.boxed()
    }

    fn start(&self) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthFailure>> {
        async move {
            let token = self.current_token().await?;
            Ok(Box::new(OAuthSession {
                token,
                extensions: self.extensions.clone(),
                error: None,
            }) as Box<dyn SaslSession>)
        }
        .boxed()
    }
}

const SEPARATOR: char = '\u{1}';

struct OAuthSession {
    token: OAuthToken,
    extensions: BTreeMap<String, String>,
    /// The broker's error challenge, answered with a lone separator (RFC 7628).
    error: Option<String>,
}

impl SaslSession for OAuthSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthFailure> {
        let mut message = format!("n,,{SEPARATOR}auth=Bearer {}", self.token.value.expose());
        for (key, value) in &self.extensions {
            message.push(SEPARATOR);
            message.push_str(key);
            message.push('=');
            message.push_str(value);
        }
        message.push(SEPARATOR);
        message.push(SEPARATOR);
        Ok(message.into_bytes())
    }

    fn evaluate(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, AuthFailure> {
        if challenge.is_empty() {
            return Ok(None);
        }
        if self.error.is_some() {
            return Err(AuthFailure::Rejected {
                message: self.error.clone(),
            });
        }
        // An error challenge: {"status":"invalid_token",...}. The broker fails the
        // exchange after our separator; keep its JSON for the message.
        self.error = Some(String::from_utf8_lossy(challenge).into_owned());
        Ok(Some(vec![SEPARATOR as u8]))
    }
}

/// Kafka's unsecured JWS login (`unsecuredLoginStringClaim_sub="alice"`): an
/// unsigned token the broker's unsecured validator accepts. Never for production.
#[derive(Clone)]
pub struct UnsecuredJws {
    claims: serde_json::Map<String, serde_json::Value>,
    principal_claim: String,
    lifetime: Duration,
}

impl fmt::Debug for UnsecuredJws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsecuredJws")
            .field("principal", &self.principal())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl UnsecuredJws {
    /// An unsecured token for `subject`, valid for `lifetime`.
    pub fn new(subject: impl Into<String>, lifetime: Duration) -> Self {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), serde_json::Value::String(subject.into()));
        UnsecuredJws {
            claims,
            principal_claim: "sub".into(),
            lifetime,
        }
    }

    /// From the `unsecuredLogin*` options of Kafka's handler.
    pub(crate) fn from_jaas(jaas: &JaasConfig) -> Result<Self, String> {
        let mut claims = serde_json::Map::new();
        for (name, value) in &jaas.options {
            if let Some(claim) = name.strip_prefix("unsecuredLoginStringClaim_") {
                claims.insert(claim.into(), serde_json::Value::String(value.clone()));
            } else if let Some(claim) = name.strip_prefix("unsecuredLoginNumberClaim_") {
                let number: serde_json::Number = value
                    .parse()
                    .map_err(|_| format!("{name} must be a number"))?;
                claims.insert(claim.into(), serde_json::Value::Number(number));
            } else if let Some(claim) = name.strip_prefix("unsecuredLoginListClaim_") {
                // The first character is the separator, as in Kafka.
                let mut chars = value.chars();
                let items = match chars.next() {
                    Some(sep) => chars
                        .as_str()
                        .split(sep)
                        .filter(|s| !s.is_empty())
                        .map(|s| serde_json::Value::String(s.to_owned()))
                        .collect(),
                    None => Vec::new(),
                };
                claims.insert(claim.into(), serde_json::Value::Array(items));
            }
        }
        let principal_claim = jaas
            .option("unsecuredLoginPrincipalClaimName")
            .unwrap_or("sub")
            .to_owned();
        if !claims.contains_key(&principal_claim) {
            return Err(format!(
                "the unsecured OAUTHBEARER login needs the principal claim: set \
                 unsecuredLoginStringClaim_{principal_claim}=\"...\" in the \
                 OAuthBearerLoginModule options (or configure \
                 sasl.oauthbearer.token.endpoint.url)"
            ));
        }
        let lifetime = match jaas.option("unsecuredLoginLifetimeSeconds") {
            Some(s) => Duration::from_secs(
                s.parse::<u64>()
                    .ok()
                    .filter(|seconds| *seconds <= MAX_UNSECURED_LIFETIME_SECONDS)
                    .ok_or_else(|| {
                        format!(
                            "unsecuredLoginLifetimeSeconds must be a number of seconds up to \
                             {MAX_UNSECURED_LIFETIME_SECONDS}"
                        )
                    })?,
            ),
            None => Duration::from_secs(3600),
        };
        Ok(UnsecuredJws {
            claims,
            principal_claim,
            lifetime,
        })
    }

    fn make(&self, now: SystemTime) -> OAuthToken {
        let expires_at = now + self.lifetime;
        let mut claims = self.claims.clone();
        // Kafka's handler writes iat and exp in seconds with millisecond
        // fractions; its validator rounds them to the nearest millisecond
        // and refuses an iat after its clock. A finer fraction could round
        // up past a broker reading the same millisecond: truncate.
        claims.insert("iat".into(), serde_json::json!(claim_seconds(now)));
        claims.insert("exp".into(), serde_json::json!(claim_seconds(expires_at)));
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::Value::Object(claims).to_string());
        OAuthToken {
            value: Password::new(format!("{header}.{payload}.")),
            principal: self.principal(),
            expires_at,
            issued_at: now,
        }
    }
}

impl TokenProvider for UnsecuredJws {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
        let token = self.make(SystemTime::now());
        async move { Ok(token) }.boxed()
    }

    fn principal(&self) -> String {
        match self.claims.get(&self.principal_claim) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }
}

/// The claims of a compact JWT, without checking its signature (the broker does).
pub(crate) fn jwt_claims(
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the access token is not a JWT (three dot-separated parts)".to_owned());
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the access token's payload is not base64url".to_owned())?;
    match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err("the access token's payload is not a JSON object".to_owned()),
    }
}

/// `time` as a JWT time claim the way Kafka's unsecured login handler writes
/// it: seconds since the epoch, to the millisecond (truncated).
fn claim_seconds(time: SystemTime) -> f64 {
    let millis = time.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    // Exact in an f64 for the next 280,000 years.
    millis as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The broker reads a time claim as `Math.round(seconds * 1000)` and
    /// refuses an iat after its clock: the claim must never round up past the
    /// millisecond the token was made in, whatever the sub-millisecond part.
    #[test]
    fn time_claims_never_round_past_their_millisecond() {
        for nanos in [0, 1, 499_999, 500_000, 999_999, 123_999_999, 999_999_999] {
            let time = UNIX_EPOCH + Duration::new(1_764_806_400, nanos);
            let java_millis = (claim_seconds(time) * 1000.0 + 0.5).floor() as u128;
            let millis = time.duration_since(UNIX_EPOCH).unwrap().as_millis();
            assert_eq!(java_millis, millis, "{nanos} ns");
        }
    }

    #[test]
    fn unsecured_token_and_initial_response() {
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"alice\" unsecuredLoginListClaim_scope=\",a,b\" \
             unsecuredLoginExtension_traceId=\"123\";",
        )
        .unwrap();
        let oauth = OAuthBearer::from_settings(&SecuritySettings::default(), &jaas).unwrap();
        assert_eq!(oauth.principal(), "alice");
        let mut session = oauth.start().now_or_never().unwrap().unwrap();
        let first = String::from_utf8(session.initial_response().unwrap()).unwrap();
        let token = first
            .strip_prefix("n,,\u{1}auth=Bearer ")
            .unwrap()
            .split('\u{1}')
            .next()
            .unwrap()
            .to_owned();
        assert!(first.ends_with("\u{1}traceId=123\u{1}\u{1}"), "{first:?}");
        let claims = jwt_claims(&token).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["scope"], serde_json::json!(["a", "b"]));
        assert!(claims["exp"].as_f64().unwrap() > claims["iat"].as_f64().unwrap());
        assert_eq!(session.evaluate(b"").unwrap(), None);
        assert!(!format!("{oauth:?}").contains(&token));
    }

    #[test]
    fn error_challenge_is_answered_then_reported() {
        let provider = Arc::new(UnsecuredJws::new("bob", Duration::from_secs(60)));
        let oauth = OAuthBearer::new(provider);
        let mut session = oauth.start().now_or_never().unwrap().unwrap();
        session.initial_response().unwrap();
        assert_eq!(
            session.evaluate(br#"{"status":"invalid_token"}"#).unwrap(),
            Some(vec![1])
        );
    }

    #[test]
    fn tokens_are_refreshed_when_javas_login_refresher_would() {
        let policy = RefreshPolicy::default();
        let now = SystemTime::now();
        let secs = |at: SystemTime| at.duration_since(now).unwrap().as_secs_f64();
        // An hour: at 80-85% of its life, before the 300 s buffer.
        let hour = UnsecuredJws::new("a", Duration::from_secs(3600)).make(now);
        assert_eq!(secs(policy.refresh_at(&hour, now, 0.0)), 2880.0);
        assert_eq!(secs(policy.refresh_at(&hour, now, 1.0)), 3060.0);
        // Five minutes (Keycloak's default): too short for the 60 s minimum
        // period and the 300 s buffer, refreshed at 80-85% of it, not at once.
        let five = UnsecuredJws::new("a", Duration::from_secs(300)).make(now);
        assert_eq!(secs(policy.refresh_at(&five, now, 0.0)), 240.0);
        assert_eq!(secs(policy.refresh_at(&five, now, 1.0)), 255.0);
        // Ten minutes: 80% (480 s) would be in the buffer, so at 300 s.
        let ten = UnsecuredJws::new("a", Duration::from_secs(600)).make(now);
        assert_eq!(secs(policy.refresh_at(&ten, now, 0.5)), 300.0);
        // Issued long before it was fetched: not sooner than the minimum period.
        let old = UnsecuredJws::new("a", Duration::from_secs(7200))
            .make(now - Duration::from_secs(5700));
        assert_eq!(secs(policy.refresh_at(&old, now, 0.0)), 60.0);
    }

    /// A token provider counting its fetches, each token living `life`.
    #[derive(Debug)]
    struct Counting {
        life: Duration,
        fetches: std::sync::atomic::AtomicUsize,
    }

    impl TokenProvider for Counting {
        fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
            self.fetches
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let token = UnsecuredJws::new("a", self.life).make(SystemTime::now());
            async move { Ok(token) }.boxed()
        }

        fn principal(&self) -> String {
            "a".to_owned()
        }
    }

    #[test]
    fn a_five_minute_token_serves_every_connection_until_its_refresh_point() {
        let provider = Arc::new(Counting {
            life: Duration::from_secs(300),
            fetches: Default::default(),
        });
        let oauth = OAuthBearer::new(provider.clone());
        for _ in 0..3 {
            oauth.prepare().now_or_never().unwrap().unwrap();
            oauth.start().now_or_never().unwrap().unwrap();
        }
        assert_eq!(
            provider.fetches.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one token for three connections"
        );
    }

    #[test]
    fn refresh_settings_are_read_in_javas_ranges() {
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"alice\";",
        )
        .unwrap();
        let settings = SecuritySettings::from_pairs;
        let oauth = OAuthBearer::from_settings(
            &settings(&[
                (keys::SASL_LOGIN_REFRESH_WINDOW_FACTOR, "0.9"),
                (keys::SASL_LOGIN_REFRESH_WINDOW_JITTER, "0.1"),
                (keys::SASL_LOGIN_REFRESH_MIN_PERIOD_SECONDS, "30"),
                (keys::SASL_LOGIN_REFRESH_BUFFER_SECONDS, "120"),
            ]),
            &jaas,
        )
        .unwrap();
        assert_eq!(
            oauth.refresh,
            RefreshPolicy {
                window_factor: 0.9,
                window_jitter: 0.1,
                min_period: Duration::from_secs(30),
                buffer: Duration::from_secs(120),
            }
        );
        for (key, value) in [
            (keys::SASL_LOGIN_REFRESH_WINDOW_FACTOR, "0.3"),
            (keys::SASL_LOGIN_REFRESH_WINDOW_JITTER, "0.5"),
            (keys::SASL_LOGIN_REFRESH_MIN_PERIOD_SECONDS, "901"),
            (keys::SASL_LOGIN_REFRESH_BUFFER_SECONDS, "300.5"),
        ] {
            let error = OAuthBearer::from_settings(&settings(&[(key, value)]), &jaas).unwrap_err();
            assert!(error.to_string().contains(key), "{key}={value}: {error}");
        }
    }

    /// Moves the cached token's refresh point to now.
    fn past_refresh_point(oauth: &OAuthBearer) {
        if let Some(cached) = oauth.cached.lock().unwrap().as_mut() {
            cached.refresh_at = SystemTime::now();
        }
    }

    /// A token provider that gives one token, then fails (an identity
    /// provider gone down).
    #[derive(Debug)]
    struct OnceThenDown {
        token: Mutex<Option<OAuthToken>>,
    }

    impl TokenProvider for OnceThenDown {
        fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
            let token = self.token.lock().unwrap().take();
            async move { token.ok_or_else(|| "HTTP 503 from the identity provider".to_owned()) }
                .boxed()
        }

        fn principal(&self) -> String {
            "a".to_owned()
        }
    }

    #[test]
    fn a_failed_refresh_keeps_the_current_token_until_it_expires() {
        let now = SystemTime::now();
        // Issued 100 s ago, expiring in 100 s: past its refresh point.
        let token = UnsecuredJws::new("a", Duration::from_secs(200))
            .make(now - Duration::from_secs(100));
        let oauth = OAuthBearer::new(Arc::new(OnceThenDown {
            token: Mutex::new(Some(token.clone())),
        }));
        let first = oauth.current_token().now_or_never().unwrap().unwrap();
        assert!(first.value == token.value);
        past_refresh_point(&oauth);
        // The refresh fails: the token, still valid, is used again.
        let again = oauth.current_token().now_or_never().unwrap().unwrap();
        assert!(again.value == token.value);

        // Expired, it is not.
        let expired = UnsecuredJws::new("a", Duration::from_secs(60))
            .make(now - Duration::from_secs(100));
        let oauth = OAuthBearer::new(Arc::new(OnceThenDown {
            token: Mutex::new(Some(expired)),
        }));
        assert!(oauth.current_token().now_or_never().unwrap().is_ok());
        past_refresh_point(&oauth);
        let error = oauth.current_token().now_or_never().unwrap().unwrap_err();
        assert!(format!("{error:?}").contains("HTTP 503"), "{error:?}");
    }

    /// A token provider whose fetch waits for `release` (a slow identity
    /// provider); counts its fetches.
    #[derive(Debug, Default)]
    struct Gated {
        fetches: std::sync::atomic::AtomicUsize,
        release: tokio::sync::Notify,
    }

    impl TokenProvider for Gated {
        fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
            self.fetches
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                self.release.notified().await;
                Ok(UnsecuredJws::new("a", Duration::from_secs(3600)).make(SystemTime::now()))
            }
            .boxed()
        }

        fn principal(&self) -> String {
            "a".to_owned()
        }
    }

    #[tokio::test]
    async fn connections_opened_together_wait_for_one_token_fetch() {
        let provider = Arc::new(Gated::default());
        let oauth = OAuthBearer::new(provider.clone());
        let (first, second) = (oauth.prepare(), oauth.prepare());
        let both = futures_util::future::join(first, second);
        tokio::pin!(both);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(both.as_mut().poll(&mut cx).is_pending());
        provider.release.notify_waiters();
        let (a, b) = both.await;
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(
            provider.fetches.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "the second waited for the first's token"
        );
        // The session then starts at once with the cached token.
        assert!(oauth.start().now_or_never().is_some());
    }

    #[test]
    fn missing_principal_claim_is_explained() {
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        )
        .unwrap();
        let err = UnsecuredJws::from_jaas(&jaas).unwrap_err();
        assert!(err.contains("unsecuredLoginStringClaim_sub"), "{err}");
    }
}
