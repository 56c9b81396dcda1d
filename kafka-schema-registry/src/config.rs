//! The registry settings, under the names Confluent's serializers read
//! (`schema.registry.url`, `basic.auth.*`, `bearer.auth.*`,
//! `schema.registry.ssl.*`, ...).

use std::fmt;
use std::time::Duration;

/// A secret (password, token): never shown by `Debug` or in errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// How requests authenticate.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// HTTP basic (`basic.auth.credentials.source=USER_INFO` with
    /// `basic.auth.user.info=user:password`, or `URL`: the URL's user info).
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
    /// `Authorization: Bearer` (`bearer.auth.credentials.source=STATIC_TOKEN`
    /// with `bearer.auth.token`).
    Bearer(Secret),
    /// `Authorization: Bearer` with a token fetched from an OAuth 2
    /// authorization server by the client credentials grant
    /// (`bearer.auth.credentials.source=OAUTHBEARER`), kept until shortly
    /// before it expires.
    OAuthBearer(OAuthClientCredentials),
}

/// `bearer.auth.credentials.source=OAUTHBEARER`: where and how the token is
/// fetched, as Confluent's `OauthCredentialProvider` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClientCredentials {
    /// `bearer.auth.issuer.endpoint.url`: the token endpoint (over TLS, with
    /// the `schema.registry.ssl.*` settings, as Confluent's client), or a
    /// `file:` URL of a file holding the token, read again at each renewal
    /// (as Kafka's `FileJwtRetriever`; no client credentials then).
    pub token_endpoint: String,
    /// `bearer.auth.client.id`.
    pub client_id: String,
    /// `bearer.auth.client.secret`.
    pub client_secret: Secret,
    /// `bearer.auth.scope`: the scope asked for, if any.
    pub scope: Option<String>,
    /// `bearer.auth.scope.claim.name` (default `scope`): the token's claim
    /// holding its scopes.
    pub scope_claim_name: String,
    /// `bearer.auth.sub.claim.name` (default `sub`): the token's claim naming
    /// its principal, which must be there.
    pub sub_claim_name: String,
    /// `bearer.auth.cache.expiry.buffer.seconds` (default 300): a token is
    /// replaced at 80% of its lifetime, and no later than this before it
    /// expires.
    pub cache_expiry_buffer: Duration,
}

/// How a store file is encoded (`schema.registry.ssl.truststore.type`,
/// `schema.registry.ssl.keystore.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StoreType {
    /// PKCS#12 (`PKCS12`, and Java's default `JKS`, which reads PKCS12 files
    /// too; a real JKS file is refused with the keytool command converting it).
    #[default]
    Pkcs12,
    /// PEM text: certificates, and for a key store a PKCS#8 private key.
    Pem,
}

/// TLS material for `https://` registries (`schema.registry.ssl.*`, the forms
/// the Java client's `ssl.*` keys take).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TlsMaterial {
    /// `schema.registry.ssl.truststore.location`: the trusted certificates
    /// (the Mozilla roots when neither this nor `truststore_certificates` is set).
    pub truststore: Option<String>,
    /// `schema.registry.ssl.truststore.type` (`JKS`/`PKCS12` by default, or `PEM`).
    pub truststore_type: StoreType,
    /// `schema.registry.ssl.truststore.password` (PKCS12).
    pub truststore_password: Option<Secret>,
    /// `schema.registry.ssl.truststore.certificates`: PEM certificates inline.
    pub truststore_certificates: Option<Secret>,
    /// `schema.registry.ssl.keystore.location`: the client certificate chain
    /// and its private key, for registries that require one.
    pub keystore: Option<String>,
    /// `schema.registry.ssl.keystore.type` (`JKS`/`PKCS12` by default, or `PEM`).
    pub keystore_type: StoreType,
    /// `schema.registry.ssl.keystore.password`.
    pub keystore_password: Option<Secret>,
    /// `schema.registry.ssl.key.password` (tried on a PKCS12 store when the
    /// store password does not open it; refused with PEM, whose keys must be
    /// unencrypted).
    pub key_password: Option<Secret>,
    /// `schema.registry.ssl.keystore.certificate.chain`: the client chain, PEM inline.
    pub keystore_certificate_chain: Option<Secret>,
    /// `schema.registry.ssl.keystore.key`: its private key, PEM (PKCS#8) inline.
    pub keystore_key: Option<Secret>,
    /// `schema.registry.ssl.endpoint.identification.algorithm` empty: Java
    /// then skips the host name check. Refused when the TLS configuration is
    /// built: the HTTP client here could only skip every check of the
    /// server's certificate.
    pub skip_host_name_check: bool,
}

/// Which subject a schema is registered under (`key.subject.name.strategy`,
/// `value.subject.name.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value` (Confluent's default).
    #[default]
    TopicName,
    /// The record's full name (`namespace.Name`), whatever the topic.
    RecordName,
    /// `<topic>-<namespace.Name>`.
    TopicRecordName,
}

impl SubjectNameStrategy {
    /// The Confluent class names, as written in `*.subject.name.strategy`.
    pub const CLASSES: [(&'static str, SubjectNameStrategy); 3] = [
        (
            "io.confluent.kafka.serializers.subject.TopicNameStrategy",
            SubjectNameStrategy::TopicName,
        ),
        (
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            SubjectNameStrategy::RecordName,
        ),
        (
            "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
            SubjectNameStrategy::TopicRecordName,
        ),
    ];

    /// The simple class name (`RecordNameStrategy`), for messages.
    ///
    /// ```
    /// use kafka_schema_registry::SubjectNameStrategy;
    /// assert_eq!(SubjectNameStrategy::RecordName.class_name(), "RecordNameStrategy");
    /// ```
    pub fn class_name(self) -> &'static str {
        match self {
            SubjectNameStrategy::TopicName => "TopicNameStrategy",
            SubjectNameStrategy::RecordName => "RecordNameStrategy",
            SubjectNameStrategy::TopicRecordName => "TopicRecordNameStrategy",
        }
    }

    /// The strategy a class name (full, or the simple name) stands for.
    pub fn from_class(class: &str) -> Option<Self> {
        let class = class.trim();
        Self::CLASSES
            .iter()
            .find(|(full, _)| *full == class || full.rsplit('.').next() == Some(class))
            .map(|(_, s)| *s)
    }

    /// The subject for a key (`is_key`) or value of `record_name` on `topic`.
    ///
    /// ```
    /// use kafka_schema_registry::SubjectNameStrategy;
    /// assert_eq!(SubjectNameStrategy::TopicName.subject("orders", false, "shop.Order"), "orders-value");
    /// assert_eq!(SubjectNameStrategy::RecordName.subject("orders", false, "shop.Order"), "shop.Order");
    /// assert_eq!(SubjectNameStrategy::TopicRecordName.subject("orders", true, "shop.Key"), "orders-shop.Key");
    /// ```
    pub fn subject(self, topic: &str, is_key: bool, record_name: &str) -> String {
        match self {
            SubjectNameStrategy::TopicName => {
                format!("{topic}-{}", if is_key { "key" } else { "value" })
            }
            SubjectNameStrategy::RecordName => record_name.to_owned(),
            SubjectNameStrategy::TopicRecordName => format!("{topic}-{record_name}"),
        }
    }
}

/// Everything a client and the serializers built on it are configured with.
/// `Debug` shows the URLs without the credentials they may carry.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// `schema.registry.url`: one or more base URLs (comma-separated), tried
    /// in turn; `mock://scope` for an in-process registry.
    pub urls: Vec<String>,
    /// Credentials.
    pub auth: Auth,
    /// TLS material for `https://` URLs.
    pub tls: TlsMaterial,
    /// `schema.registry.http.connect.timeout.ms` (Confluent: 60 s).
    pub connect_timeout: Duration,
    /// `schema.registry.http.read.timeout.ms` (Confluent: 60 s): bounds a whole request.
    pub read_timeout: Duration,
    /// `max.retries` (Confluent: 3): how many times a request is sent again
    /// to the same URL after the registry answered 408, 429, 500, 502, 503
    /// or 504, or could not be reached, before the next URL is tried.
    pub max_retries: u32,
    /// `retries.wait.ms` (Confluent: 1 s): the first retry's backoff bound,
    /// doubled at each retry; the wait is drawn at random up to it (full jitter).
    pub retries_wait: Duration,
    /// `retries.max.wait.ms` (Confluent: 20 s): the most a backoff bound grows to.
    pub retries_max_wait: Duration,
    /// The most one call (a registration, a lookup) may take, its retries,
    /// backoffs and other URLs included; `None` (Confluent's behaviour)
    /// bounds only each request. Not a Confluent key: a producer sets it to
    /// its `max.block.ms`, so that a registry that is down fails a send
    /// within it.
    pub call_timeout: Option<Duration>,
    /// `auto.register.schemas` (default true): register a schema not yet
    /// under its subject; when false, it must be there already.
    pub auto_register: bool,
    /// `use.latest.version` (default false): frame records with the id of the
    /// subject's latest version, without registering, when that version is
    /// the record's schema (records are written with their own schema);
    /// `auto.register.schemas` wins over it, as in Java.
    pub use_latest_version: bool,
    /// `use.schema.id` (Confluent: -1, none): frame records with this id,
    /// without looking up, when `auto.register.schemas` is off (registering
    /// wins, as in Confluent's serializers); it wins over
    /// `use.latest.version`. Records
    /// are written with their own schema, so the id's schema must be the
    /// record's ([`RegistryError::SchemaIdDiffers`](crate::RegistryError::SchemaIdDiffers)
    /// otherwise).
    pub use_schema_id: Option<u32>,
    /// `latest.cache.ttl.sec` (Confluent: -1, never): how long the id found
    /// with `use.latest.version` is kept before the latest version is asked
    /// for again (a new version that is not the record's schema then fails
    /// the sends with
    /// [`RegistryError::LatestVersionDiffers`](crate::RegistryError::LatestVersionDiffers)).
    pub latest_cache_ttl: Option<Duration>,
    /// `schema.registry.url.randomize` (default false): start with a URL
    /// drawn at random, as Java shuffles its list, so that clients spread
    /// over the registry's nodes.
    pub url_randomize: bool,
    /// `key.subject.name.strategy`.
    pub key_subject_strategy: SubjectNameStrategy,
    /// `value.subject.name.strategy`.
    pub value_subject_strategy: SubjectNameStrategy,
    /// `normalize.schemas` (default false): the registry normalizes a schema
    /// before registering or looking it up (`?normalize=true`), so schemas
    /// that differ only in form share an id.
    pub normalize: bool,
    /// `bearer.auth.logical.cluster`: the `target-sr-cluster` header Confluent
    /// Cloud expects with a bearer token (`lsrc-...`).
    pub bearer_logical_cluster: Option<String>,
    /// `bearer.auth.identity.pool.id`: the `Confluent-Identity-Pool-Id`
    /// header Confluent Cloud expects with an OAuth bearer token.
    pub bearer_identity_pool: Option<String>,
}

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<String> = self.urls.iter().map(|url| redact_url(url)).collect();
        f.debug_struct("RegistryConfig")
            .field("urls", &urls)
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_retries", &self.max_retries)
            .field("retries_wait", &self.retries_wait)
            .field("retries_max_wait", &self.retries_max_wait)
            .field("call_timeout", &self.call_timeout)
            .field("auto_register", &self.auto_register)
            .field("use_latest_version", &self.use_latest_version)
            .field("use_schema_id", &self.use_schema_id)
            .field("latest_cache_ttl", &self.latest_cache_ttl)
            .field("url_randomize", &self.url_randomize)
            .field("key_subject_strategy", &self.key_subject_strategy)
            .field("value_subject_strategy", &self.value_subject_strategy)
            .field("normalize", &self.normalize)
            .field("bearer_logical_cluster", &self.bearer_logical_cluster)
            .field("bearer_identity_pool", &self.bearer_identity_pool)
            .finish()
    }
}

/// [`redact_url`] for each of a comma-separated list of URLs.
///
/// ```
/// use kafka_schema_registry::redact_urls;
/// assert_eq!(
///     redact_urls("https://fred:s3cret@sr1:8081, http://sr2:8081"),
///     "https://[hidden]@sr1:8081, http://sr2:8081"
/// );
/// ```
pub fn redact_urls(urls: &str) -> String {
    urls.split(',')
        .map(|url| {
            let trimmed = url.trim();
            url.replace(trimmed, &redact_url(trimmed))
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            urls: Vec::new(),
            auth: Auth::None,
            tls: TlsMaterial::default(),
            connect_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            max_retries: 3,
            retries_wait: Duration::from_secs(1),
            retries_max_wait: Duration::from_secs(20),
            call_timeout: None,
            auto_register: true,
            use_latest_version: false,
            use_schema_id: None,
            latest_cache_ttl: None,
            url_randomize: false,
            key_subject_strategy: SubjectNameStrategy::TopicName,
            value_subject_strategy: SubjectNameStrategy::TopicName,
            normalize: false,
            bearer_logical_cluster: None,
            bearer_identity_pool: None,
        }
    }
}

/// A registry setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct RegistryConfigError {
    /// The key, as Confluent spells it.
    pub key: String,
    /// What is wrong and what to do (never a secret's value).
    pub problem: String,
}

impl RegistryConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        RegistryConfigError {
            key: key.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The keys [`RegistryConfig::from_properties`] reads.
pub const KEYS: &[&str] = &[
    "schema.registry.url",
    "basic.auth.credentials.source",
    "basic.auth.user.info",
    "schema.registry.basic.auth.user.info",
    "bearer.auth.credentials.source",
    "bearer.auth.token",
    "schema.registry.bearer.auth.token",
    "schema.registry.ssl.truststore.location",
    "schema.registry.ssl.truststore.type",
    "schema.registry.ssl.truststore.password",
    "schema.registry.ssl.truststore.certificates",
    "schema.registry.ssl.keystore.location",
    "schema.registry.ssl.keystore.type",
    "schema.registry.ssl.keystore.password",
    "schema.registry.ssl.key.password",
    "schema.registry.ssl.keystore.certificate.chain",
    "schema.registry.ssl.keystore.key",
    "schema.registry.ssl.endpoint.identification.algorithm",
    "schema.registry.http.connect.timeout.ms",
    "schema.registry.http.read.timeout.ms",
    "http.connect.timeout.ms",
    "http.read.timeout.ms",
    "max.retries",
    "schema.registry.max.retries",
    "retries.wait.ms",
    "schema.registry.retries.wait.ms",
    "retries.max.wait.ms",
    "schema.registry.retries.max.wait.ms",
    "auto.register.schemas",
    "use.latest.version",
    "key.subject.name.strategy",
    "value.subject.name.strategy",
    "normalize.schemas",
    "bearer.auth.logical.cluster",
    "bearer.auth.identity.pool.id",
    "bearer.auth.issuer.endpoint.url",
    "bearer.auth.client.id",
    "bearer.auth.client.secret",
    "bearer.auth.scope",
    "bearer.auth.scope.claim.name",
    "bearer.auth.sub.claim.name",
    "bearer.auth.cache.expiry.buffer.seconds",
    "use.schema.id",
    "latest.cache.ttl.sec",
    "schema.registry.url.randomize",
    // Read and checked, with no effect on what this client does: records
    // are written with their own schema, so the strictness of the check
    // Java makes before writing with another schema does not arise (the
    // schema of `use.schema.id` / the latest version must be the record's);
    // its caches hold one entry per (subject, schema) of the record types
    // sent; the derive's schemas carry no Java properties to remove.
    "id.compatibility.strict",
    "latest.compatibility.strict",
    "latest.cache.size",
    "max.schemas.per.subject",
    "avro.remove.java.properties",
];

/// Whether `key` is a registry setting (one of [`KEYS`]).
pub fn is_registry_key(key: &str) -> bool {
    KEYS.contains(&key)
}

fn parse_bool(key: &str, value: &str) -> Result<bool, RegistryConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(RegistryConfigError::new(
            key,
            format!("`{value}` is not a boolean; write true or false"),
        )),
    }
}

fn parse_ms(key: &str, value: &str) -> Result<Duration, RegistryConfigError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| {
            RegistryConfigError::new(key, format!("`{value}` is not a number of milliseconds"))
        })
}

fn parse_count(key: &str, value: &str) -> Result<u32, RegistryConfigError> {
    value
        .trim()
        .parse::<u32>()
        .map_err(|_| RegistryConfigError::new(key, format!("`{value}` is not a count (0 or more)")))
}

fn store_type(key: &str, value: &str) -> Result<StoreType, RegistryConfigError> {
    match value.trim().to_ascii_uppercase().as_str() {
        "JKS" | "PKCS12" => Ok(StoreType::Pkcs12),
        "PEM" => Ok(StoreType::Pem),
        _ => Err(RegistryConfigError::new(
            key,
            format!(
                "`{value}` is not a store type this client reads; use PKCS12, PEM or JKS \
                 (read as PKCS12; convert a JKS file with keytool -importkeystore \
                 -deststoretype PKCS12)"
            ),
        )),
    }
}

/// A secret value; empty means not set (as Java treats an empty password key).
fn secret(value: &str) -> Option<Secret> {
    (!value.trim().is_empty()).then(|| Secret::new(value.trim()))
}

impl TlsMaterial {
    /// The combinations Java refuses: a store file and inline PEM for the same
    /// side, half of an inline key pair, inline PEM with another store type.
    fn check(&self) -> Result<(), RegistryConfigError> {
        const TRUST_LOCATION: &str = "schema.registry.ssl.truststore.location";
        const TRUST_INLINE: &str = "schema.registry.ssl.truststore.certificates";
        const KEY_LOCATION: &str = "schema.registry.ssl.keystore.location";
        const KEY_CHAIN: &str = "schema.registry.ssl.keystore.certificate.chain";
        const KEY_INLINE: &str = "schema.registry.ssl.keystore.key";
        if self.truststore.is_some() && self.truststore_certificates.is_some() {
            return Err(RegistryConfigError::new(
                TRUST_INLINE,
                format!("set either {TRUST_LOCATION} or {TRUST_INLINE}, not both"),
            ));
        }
        if self.keystore.is_some()
            && (self.keystore_certificate_chain.is_some() || self.keystore_key.is_some())
        {
            return Err(RegistryConfigError::new(
                KEY_LOCATION,
                format!("set either {KEY_LOCATION} or {KEY_CHAIN} and {KEY_INLINE}, not both"),
            ));
        }
        match (&self.keystore_certificate_chain, &self.keystore_key) {
            (Some(_), None) => {
                return Err(RegistryConfigError::new(
                    KEY_INLINE,
                    format!("is required: {KEY_CHAIN} is set, give its private key too"),
                ));
            }
            (None, Some(_)) => {
                return Err(RegistryConfigError::new(
                    KEY_CHAIN,
                    format!("is required: {KEY_INLINE} is set, give its certificate chain too"),
                ));
            }
            (Some(_), Some(_)) if self.key_password.is_some() => {
                return Err(RegistryConfigError::new(
                    "schema.registry.ssl.key.password",
                    "encrypted PEM private keys are not supported; give \
                     schema.registry.ssl.keystore.key unencrypted (openssl pkcs8 -topk8 \
                     -nocrypt) or use a PKCS12 key store",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

fn strategy(key: &str, value: &str) -> Result<SubjectNameStrategy, RegistryConfigError> {
    SubjectNameStrategy::from_class(value).ok_or_else(|| {
        RegistryConfigError::new(
            key,
            format!(
                "`{value}` is not a subject name strategy this client knows; use one of {}",
                SubjectNameStrategy::CLASSES
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// The URL with any `user:password@` removed, for messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| i + scheme_end);
    // The last `@` of the authority ends the user info, as the credentials
    // are read: a password may hold an `@` of its own.
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => format!(
            "{}[hidden]@{}",
            &url[..scheme_end],
            &url[scheme_end + at + 1..]
        ),
        None => url.to_owned(),
    }
}

impl RegistryConfig {
    /// Reads the registry settings from Java-style properties (other keys are
    /// ignored). `schema.registry.url` is required.
    ///
    /// ```
    /// use kafka_schema_registry::{Auth, RegistryConfig};
    /// let config = RegistryConfig::from_properties([
    ///     ("schema.registry.url", "https://registry:8081"),
    ///     ("basic.auth.credentials.source", "USER_INFO"),
    ///     ("basic.auth.user.info", "fred:letmein"),
    /// ])
    /// .unwrap();
    /// assert!(matches!(config.auth, Auth::Basic { ref user, .. } if user == "fred"));
    /// assert!(!format!("{config:?}").contains("letmein"));
    /// ```
    pub fn from_properties<'a, I>(properties: I) -> Result<Self, RegistryConfigError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut config = RegistryConfig::default();
        let mut source: Option<(String, String)> = None;
        let mut user_info: Option<(String, String)> = None;
        let mut bearer_source: Option<(String, String)> = None;
        let mut token: Option<String> = None;
        let mut oauth: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        let mut url_set = false;
        for (key, value) in properties {
            match key {
                "schema.registry.url" => {
                    url_set = true;
                    config.urls = value
                        .split(',')
                        .map(|u| u.trim().trim_end_matches('/').to_owned())
                        .filter(|u| !u.is_empty())
                        .collect();
                }
                "basic.auth.credentials.source" => {
                    source = Some((key.to_owned(), value.trim().to_ascii_uppercase()))
                }
                "basic.auth.user.info" | "schema.registry.basic.auth.user.info" => {
                    user_info = Some((key.to_owned(), value.to_owned()))
                }
                "bearer.auth.credentials.source" => {
                    bearer_source = Some((key.to_owned(), value.trim().to_ascii_uppercase()))
                }
                "bearer.auth.token" | "schema.registry.bearer.auth.token" => {
                    token = Some(value.to_owned())
                }
                "bearer.auth.issuer.endpoint.url"
                | "bearer.auth.client.id"
                | "bearer.auth.client.secret"
                | "bearer.auth.scope"
                | "bearer.auth.scope.claim.name"
                | "bearer.auth.sub.claim.name"
                | "bearer.auth.cache.expiry.buffer.seconds" => {
                    oauth.insert(key, value.trim().to_owned());
                }
                "schema.registry.ssl.truststore.location" => {
                    config.tls.truststore = Some(value.trim().to_owned())
                }
                "schema.registry.ssl.keystore.location" => {
                    config.tls.keystore = Some(value.trim().to_owned())
                }
                "schema.registry.ssl.truststore.type" => {
                    config.tls.truststore_type = store_type(key, value)?
                }
                "schema.registry.ssl.keystore.type" => {
                    config.tls.keystore_type = store_type(key, value)?
                }
                "schema.registry.ssl.truststore.password" => {
                    config.tls.truststore_password = secret(value)
                }
                "schema.registry.ssl.truststore.certificates" => {
                    config.tls.truststore_certificates = secret(value)
                }
                "schema.registry.ssl.keystore.password" => {
                    config.tls.keystore_password = secret(value)
                }
                "schema.registry.ssl.key.password" => config.tls.key_password = secret(value),
                "schema.registry.ssl.keystore.certificate.chain" => {
                    config.tls.keystore_certificate_chain = secret(value)
                }
                "schema.registry.ssl.keystore.key" => config.tls.keystore_key = secret(value),
                "schema.registry.ssl.endpoint.identification.algorithm" => {
                    config.tls.skip_host_name_check = value.trim().is_empty()
                }
                "schema.registry.http.connect.timeout.ms" | "http.connect.timeout.ms" => {
                    config.connect_timeout = parse_ms(key, value)?
                }
                "schema.registry.http.read.timeout.ms" | "http.read.timeout.ms" => {
                    config.read_timeout = parse_ms(key, value)?
                }
                "max.retries" | "schema.registry.max.retries" => {
                    config.max_retries = parse_count(key, value)?
                }
                "retries.wait.ms" | "schema.registry.retries.wait.ms" => {
                    config.retries_wait = parse_ms(key, value)?
                }
                "retries.max.wait.ms" | "schema.registry.retries.max.wait.ms" => {
                    config.retries_max_wait = parse_ms(key, value)?
                }
                "auto.register.schemas" => config.auto_register = parse_bool(key, value)?,
                "use.latest.version" => config.use_latest_version = parse_bool(key, value)?,
                "key.subject.name.strategy" => config.key_subject_strategy = strategy(key, value)?,
                "value.subject.name.strategy" => {
                    config.value_subject_strategy = strategy(key, value)?
                }
                "normalize.schemas" => config.normalize = parse_bool(key, value)?,
                "use.schema.id" => {
                    config.use_schema_id = match value.trim().parse::<i64>() {
                        Ok(-1) => None,
                        Ok(id) => Some(u32::try_from(id).map_err(|_| {
                            RegistryConfigError::new(
                                key,
                                format!("`{value}` is not a schema id (0 or more, or -1 for none)"),
                            )
                        })?),
                        Err(_) => {
                            return Err(RegistryConfigError::new(
                                key,
                                format!("`{value}` is not a schema id (0 or more, or -1 for none)"),
                            ));
                        }
                    }
                }
                "latest.cache.ttl.sec" => {
                    config.latest_cache_ttl = match value.trim().parse::<i64>() {
                        Ok(-1) => None,
                        Ok(secs) if secs >= 0 => Some(Duration::from_secs(secs.unsigned_abs())),
                        _ => {
                            return Err(RegistryConfigError::new(
                                key,
                                format!(
                                    "`{value}` is not a number of seconds (or -1: kept for good)"
                                ),
                            ));
                        }
                    }
                }
                "schema.registry.url.randomize" => config.url_randomize = parse_bool(key, value)?,
                "id.compatibility.strict"
                | "latest.compatibility.strict"
                | "avro.remove.java.properties" => {
                    parse_bool(key, value)?;
                }
                "latest.cache.size" | "max.schemas.per.subject" => {
                    parse_count(key, value)?;
                }
                "bearer.auth.logical.cluster" => {
                    config.bearer_logical_cluster =
                        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
                }
                "bearer.auth.identity.pool.id" => {
                    config.bearer_identity_pool =
                        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
                }
                _ => {}
            }
        }
        if !url_set || config.urls.is_empty() {
            return Err(RegistryConfigError::new(
                "schema.registry.url",
                "is required for Confluent's Avro serializer: set it to the registry's \
                 URL (http://host:8081, or mock://<scope> for an in-process registry in tests)",
            ));
        }
        for url in &config.urls {
            let ok = ["http://", "https://", "mock://"]
                .iter()
                .any(|p| url.len() > p.len() && url.to_ascii_lowercase().starts_with(p));
            if !ok {
                return Err(RegistryConfigError::new(
                    "schema.registry.url",
                    format!(
                        "`{}` is not an http://, https:// or mock:// URL",
                        redact_url(url)
                    ),
                ));
            }
        }
        if config.urls.iter().any(|u| u.starts_with("mock://")) && config.urls.len() > 1 {
            return Err(RegistryConfigError::new(
                "schema.registry.url",
                "a mock:// URL cannot be listed with other URLs",
            ));
        }
        config.tls.check()?;
        config.auth = match source.as_ref().map(|(k, v)| (k.as_str(), v.as_str())) {
            None | Some((_, "USER_INFO")) => match user_info {
                Some((key, info)) => split_user_info(&key, &info)?,
                None if source.is_some() => {
                    return Err(RegistryConfigError::new(
                        "basic.auth.user.info",
                        "is required with basic.auth.credentials.source=USER_INFO; \
                         write it as user:password",
                    ));
                }
                None => Auth::None,
            },
            Some((key, "URL")) => {
                let url = &config.urls[0];
                let start = url.find("://").map_or(0, |i| i + 3);
                let end = url[start..].find('/').map_or(url.len(), |i| i + start);
                match url[start..end].rfind('@') {
                    Some(at) => {
                        let auth = split_user_info(key, &url[start..start + at])?;
                        for u in &mut config.urls {
                            let s = u.find("://").map_or(0, |i| i + 3);
                            let e = u[s..].find('/').map_or(u.len(), |i| i + s);
                            if let Some(at) = u[s..e].rfind('@') {
                                u.replace_range(s..s + at + 1, "");
                            }
                        }
                        auth
                    }
                    None => {
                        return Err(RegistryConfigError::new(
                            key,
                            "is URL but schema.registry.url has no user:password@ part",
                        ));
                    }
                }
            }
            Some((key, other)) => {
                return Err(RegistryConfigError::new(
                    key,
                    format!("`{other}` is not supported; use USER_INFO or URL"),
                ));
            }
        };
        let bearer = match (bearer_source, token) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(RegistryConfigError::new(
                    "bearer.auth.credentials.source",
                    "must be STATIC_TOKEN when bearer.auth.token is set",
                ));
            }
            (Some((_, source)), token) if source == "STATIC_TOKEN" => match token {
                Some(token) => Some(Auth::Bearer(Secret::new(token))),
                None => {
                    return Err(RegistryConfigError::new(
                        "bearer.auth.token",
                        "is required with bearer.auth.credentials.source=STATIC_TOKEN",
                    ));
                }
            },
            (Some((_, source)), _) if source == "OAUTHBEARER" => {
                Some(Auth::OAuthBearer(oauth_credentials(&mut oauth)?))
            }
            (Some((key, source)), _) if source == "SASL_OAUTHBEARER_INHERIT" => {
                return Err(RegistryConfigError::new(
                    &key,
                    "takes the token endpoint and client credentials of the Kafka client's \
                     SASL OAUTHBEARER login (sasl.oauthbearer.token.endpoint.url, and clientId / \
                     clientSecret in sasl.jaas.config), which the template passes on; without \
                     them (or outside a template) use OAUTHBEARER with \
                     bearer.auth.issuer.endpoint.url, bearer.auth.client.id and \
                     bearer.auth.client.secret",
                ));
            }
            (Some((key, other)), _) => {
                return Err(RegistryConfigError::new(
                    &key,
                    format!(
                        "`{other}` is not supported; use STATIC_TOKEN with bearer.auth.token, \
                         OAUTHBEARER with bearer.auth.issuer.endpoint.url, \
                         bearer.auth.client.id and bearer.auth.client.secret, or (in a template) \
                         SASL_OAUTHBEARER_INHERIT"
                    ),
                ));
            }
        };
        if let Some(bearer) = bearer {
            if config.auth != Auth::None {
                return Err(RegistryConfigError::new(
                    "bearer.auth.credentials.source",
                    "cannot be used together with basic.auth.*; keep one of them",
                ));
            }
            config.auth = bearer;
        }
        Ok(config)
    }
}

/// The `bearer.auth.*` settings of `OAUTHBEARER`: the endpoint, client id
/// and secret required, the rest with Confluent's defaults.
fn oauth_credentials(
    settings: &mut std::collections::HashMap<&str, String>,
) -> Result<OAuthClientCredentials, RegistryConfigError> {
    const ENDPOINT: &str = "bearer.auth.issuer.endpoint.url";
    const BUFFER: &str = "bearer.auth.cache.expiry.buffer.seconds";
    let mut required = |key: &str, what: &str| {
        settings
            .remove(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                RegistryConfigError::new(
                    key,
                    format!("is required with bearer.auth.credentials.source=OAUTHBEARER: {what}"),
                )
            })
    };
    let token_endpoint = required(ENDPOINT, "the authorization server's token endpoint URL")?;
    let lower = token_endpoint.to_ascii_lowercase();
    let from_file = lower.starts_with("file:");
    if !(lower.starts_with("https://") || lower.starts_with("http://") || from_file) {
        return Err(RegistryConfigError::new(
            ENDPOINT,
            format!(
                "`{}` is not an http://, https:// or file: URL",
                redact_url(&token_endpoint)
            ),
        ));
    }
    // A token read from a file (Kafka's `FileJwtRetriever`, which the
    // Kafka client's OAuth login may use) needs no client credentials.
    let (client_id, client_secret) = if from_file {
        (String::new(), Secret::new(""))
    } else {
        let id = required("bearer.auth.client.id", "the client's id")?;
        let secret = required("bearer.auth.client.secret", "the client's secret")?;
        (id, Secret::new(secret))
    };
    let mut named = |key: &str, default: &str| {
        settings
            .remove(key)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let scope_claim_name = named("bearer.auth.scope.claim.name", "scope");
    let sub_claim_name = named("bearer.auth.sub.claim.name", "sub");
    let scope = settings
        .remove("bearer.auth.scope")
        .filter(|v| !v.is_empty());
    let cache_expiry_buffer = match settings.remove(BUFFER) {
        None => Duration::from_secs(300),
        // Confluent reads it as a Java short.
        Some(text) => match text.parse::<i16>() {
            Ok(secs) if secs >= 0 => Duration::from_secs(secs.unsigned_abs().into()),
            _ => {
                return Err(RegistryConfigError::new(
                    BUFFER,
                    format!("`{text}` is not a number of seconds from 0 to 32767"),
                ));
            }
        },
    };
    Ok(OAuthClientCredentials {
        token_endpoint,
        client_id,
        client_secret,
        scope,
        scope_claim_name,
        sub_claim_name,
        cache_expiry_buffer,
    })
}

fn split_user_info(key: &str, info: &str) -> Result<Auth, RegistryConfigError> {
    match info.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(Auth::Basic {
            user: user.to_owned(),
            password: Secret::new(password),
        }),
        _ => Err(RegistryConfigError::new(
            key,
            "must be written as user:password (the value is not shown)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_confluent() {
        let c =
            RegistryConfig::from_properties([("schema.registry.url", "http://r:8081/")]).unwrap();
        assert_eq!(c.urls, vec!["http://r:8081"]);
        assert!(c.auto_register);
        assert!(!c.use_latest_version);
        assert_eq!(c.value_subject_strategy, SubjectNameStrategy::TopicName);
        assert_eq!(c.read_timeout, Duration::from_secs(60));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.retries_wait, Duration::from_secs(1));
        assert_eq!(c.retries_max_wait, Duration::from_secs(20));
    }

    #[test]
    fn retry_settings_are_read_with_or_without_the_client_prefix() {
        let c = RegistryConfig::from_properties([
            ("schema.registry.url", "http://r:8081"),
            ("max.retries", "5"),
            ("schema.registry.retries.wait.ms", "250"),
            ("retries.max.wait.ms", "4000"),
        ])
        .unwrap();
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.retries_wait, Duration::from_millis(250));
        assert_eq!(c.retries_max_wait, Duration::from_secs(4));
        let e = RegistryConfig::from_properties([
            ("schema.registry.url", "http://r:8081"),
            ("schema.registry.max.retries", "-1"),
        ])
        .unwrap_err();
        assert_eq!(e.key, "schema.registry.max.retries");
        assert!(e.to_string().contains("`-1` is not a count"), "{e}");
    }

    #[test]
    fn url_is_required() {
        let e = RegistryConfig::from_properties([("auto.register.schemas", "false")]).unwrap_err();
        assert_eq!(e.key, "schema.registry.url");
        let e = RegistryConfig::from_properties([("schema.registry.url", "registry:8081")])
            .unwrap_err();
        assert!(e.problem.contains("not an http://"), "{e}");
    }

    #[test]
    fn url_credentials_move_to_basic_auth_and_never_show() {
        let c = RegistryConfig::from_properties([
            ("schema.registry.url", "https://fred:s3cret@r:8081/base"),
            ("basic.auth.credentials.source", "URL"),
        ])
        .unwrap();
        assert_eq!(c.urls, vec!["https://r:8081/base"]);
        assert_eq!(
            c.auth,
            Auth::Basic {
                user: "fred".into(),
                password: Secret::new("s3cret")
            }
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            redact_url("https://fred:p@ss@r:8081/x@y"),
            "https://[hidden]@r:8081/x@y"
        );
        assert_eq!(
            redact_url("https://fred:s3cret@r:8081/x"),
            "https://[hidden]@r:8081/x"
        );
    }

    #[test]
    fn debug_shows_urls_without_their_credentials() {
        let config = RegistryConfig {
            urls: vec!["https://fred:s3cret@sr1:8081".to_owned()],
            ..RegistryConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("sr1:8081"),
            "{shown}"
        );
    }

    #[test]
    fn bad_user_info_does_not_quote_it() {
        let e = RegistryConfig::from_properties([
            ("schema.registry.url", "http://r"),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "no-colon-secret"),
        ])
        .unwrap_err();
        assert_eq!(e.key, "basic.auth.user.info");
        assert!(!e.to_string().contains("no-colon-secret"));
    }

    #[test]
    fn bearer_and_strategies() {
        let c = RegistryConfig::from_properties([
            ("schema.registry.url", "mock://t"),
            ("bearer.auth.credentials.source", "STATIC_TOKEN"),
            ("bearer.auth.token", "tok"),
            (
                "value.subject.name.strategy",
                "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
            ),
            ("key.subject.name.strategy", "RecordNameStrategy"),
            ("use.latest.version", "true"),
        ])
        .unwrap();
        assert_eq!(c.auth, Auth::Bearer(Secret::new("tok")));
        assert_eq!(
            c.value_subject_strategy,
            SubjectNameStrategy::TopicRecordName
        );
        assert_eq!(c.key_subject_strategy, SubjectNameStrategy::RecordName);
        assert!(c.use_latest_version);
        let e = RegistryConfig::from_properties([
            ("schema.registry.url", "mock://t"),
            ("value.subject.name.strategy", "Nope"),
        ])
        .unwrap_err();
        assert!(e.problem.contains("TopicNameStrategy"), "{e}");
    }

    #[test]
    fn ssl_keys_take_the_java_clients_forms_and_hide_their_secrets() {
        const URL: (&str, &str) = ("schema.registry.url", "https://registry:8081");
        let c = RegistryConfig::from_properties([
            URL,
            ("schema.registry.ssl.truststore.location", "/certs/ca.p12"),
            ("schema.registry.ssl.truststore.password", "trust-pw"),
            ("schema.registry.ssl.keystore.location", "/certs/me.jks"),
            ("schema.registry.ssl.keystore.type", "jks"),
            ("schema.registry.ssl.keystore.password", "store-pw"),
            ("schema.registry.ssl.key.password", "key-pw"),
        ])
        .unwrap();
        assert_eq!(
            c.tls.truststore_type,
            StoreType::Pkcs12,
            "Java's default JKS"
        );
        assert_eq!(c.tls.keystore_type, StoreType::Pkcs12);
        assert_eq!(
            c.tls.key_password.as_ref().map(Secret::expose),
            Some("key-pw")
        );
        let shown = format!("{c:?}");
        for pw in ["trust-pw", "store-pw", "key-pw"] {
            assert!(!shown.contains(pw), "{shown}");
        }
        let inline = RegistryConfig::from_properties([
            URL,
            (
                "schema.registry.ssl.truststore.certificates",
                "-----BEGIN CERTIFICATE-----",
            ),
            (
                "schema.registry.ssl.keystore.certificate.chain",
                "chain-pem",
            ),
            ("schema.registry.ssl.keystore.key", "key-pem"),
        ])
        .unwrap();
        assert!(!format!("{inline:?}").contains("key-pem"));

        let e =
            RegistryConfig::from_properties([URL, ("schema.registry.ssl.truststore.type", "BKS")])
                .unwrap_err();
        assert_eq!(e.key, "schema.registry.ssl.truststore.type");
        assert!(e.problem.contains("PKCS12, PEM or JKS"), "{e}");
        let e = RegistryConfig::from_properties([
            URL,
            ("schema.registry.ssl.truststore.location", "/certs/ca.pem"),
            ("schema.registry.ssl.truststore.certificates", "pem"),
        ])
        .unwrap_err();
        assert!(e.problem.contains("not both"), "{e}");
        let e = RegistryConfig::from_properties([
            URL,
            (
                "schema.registry.ssl.keystore.certificate.chain",
                "chain-pem",
            ),
        ])
        .unwrap_err();
        assert_eq!(e.key, "schema.registry.ssl.keystore.key");
        let e = RegistryConfig::from_properties([
            URL,
            (
                "schema.registry.ssl.keystore.certificate.chain",
                "chain-pem",
            ),
            ("schema.registry.ssl.keystore.key", "key-pem"),
            ("schema.registry.ssl.key.password", "key-pw"),
        ])
        .unwrap_err();
        assert_eq!(e.key, "schema.registry.ssl.key.password");
        assert!(!e.to_string().contains("key-pw") && !e.to_string().contains("key-pem"));
    }
}
