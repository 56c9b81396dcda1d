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
}

/// TLS material for `https://` registries (`schema.registry.ssl.*`; PEM files).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TlsMaterial {
    /// `schema.registry.ssl.truststore.location`: PEM file of trusted
    /// certificates (the Mozilla roots when not set).
    pub truststore: Option<String>,
    /// `schema.registry.ssl.keystore.location`: PEM file with the client
    /// certificate chain and its private key, for registries that require one.
    pub keystore: Option<String>,
    /// `schema.registry.ssl.endpoint.identification.algorithm` empty: the host
    /// name is not checked (Java's meaning). Here: certificates are not
    /// verified at all, so it is only honoured together with a truststore.
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// `auto.register.schemas` (default true): register a schema not yet
    /// under its subject; when false, it must be there already.
    pub auto_register: bool,
    /// `use.latest.version` (default false): frame records with the latest
    /// version under the subject instead of the record's own schema.
    pub use_latest_version: bool,
    /// `key.subject.name.strategy`.
    pub key_subject_strategy: SubjectNameStrategy,
    /// `value.subject.name.strategy`.
    pub value_subject_strategy: SubjectNameStrategy,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            urls: Vec::new(),
            auth: Auth::None,
            tls: TlsMaterial::default(),
            connect_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            auto_register: true,
            use_latest_version: false,
            key_subject_strategy: SubjectNameStrategy::TopicName,
            value_subject_strategy: SubjectNameStrategy::TopicName,
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
    "schema.registry.ssl.keystore.location",
    "schema.registry.ssl.keystore.type",
    "schema.registry.ssl.endpoint.identification.algorithm",
    "schema.registry.http.connect.timeout.ms",
    "schema.registry.http.read.timeout.ms",
    "http.connect.timeout.ms",
    "http.read.timeout.ms",
    "auto.register.schemas",
    "use.latest.version",
    "key.subject.name.strategy",
    "value.subject.name.strategy",
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
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let path_start = url[scheme_end + 3..]
                .find('/')
                .map_or(url.len(), |i| i + scheme_end + 3);
            if at < path_start {
                return format!("{}[hidden]@{}", &url[..scheme_end + 3], &url[at + 1..]);
            }
            url.to_owned()
        }
        _ => url.to_owned(),
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
        let mut truststore_type = None;
        let mut keystore_type = None;
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
                "schema.registry.ssl.truststore.location" => {
                    config.tls.truststore = Some(value.trim().to_owned())
                }
                "schema.registry.ssl.keystore.location" => {
                    config.tls.keystore = Some(value.trim().to_owned())
                }
                "schema.registry.ssl.truststore.type" => {
                    truststore_type = Some((key, value.trim().to_ascii_uppercase()))
                }
                "schema.registry.ssl.keystore.type" => {
                    keystore_type = Some((key, value.trim().to_ascii_uppercase()))
                }
                "schema.registry.ssl.endpoint.identification.algorithm" => {
                    config.tls.skip_host_name_check = value.trim().is_empty()
                }
                "schema.registry.http.connect.timeout.ms" | "http.connect.timeout.ms" => {
                    config.connect_timeout = parse_ms(key, value)?
                }
                "schema.registry.http.read.timeout.ms" | "http.read.timeout.ms" => {
                    config.read_timeout = parse_ms(key, value)?
                }
                "auto.register.schemas" => config.auto_register = parse_bool(key, value)?,
                "use.latest.version" => config.use_latest_version = parse_bool(key, value)?,
                "key.subject.name.strategy" => config.key_subject_strategy = strategy(key, value)?,
                "value.subject.name.strategy" => {
                    config.value_subject_strategy = strategy(key, value)?
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
        for (key, ty) in [truststore_type, keystore_type].into_iter().flatten() {
            if ty != "PEM" {
                return Err(RegistryConfigError::new(
                    key,
                    format!(
                        "`{ty}` stores are not read for the registry connection; \
                         give PEM files and set {key}=PEM \
                         (openssl pkcs12 -in store.p12 -nodes converts one)"
                    ),
                ));
            }
        }
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
        match (bearer_source.as_ref(), token) {
            (None, None) => {}
            (Some((_, s)), Some(token)) if s == "STATIC_TOKEN" => {
                if config.auth != Auth::None {
                    return Err(RegistryConfigError::new(
                        "bearer.auth.credentials.source",
                        "cannot be used together with basic.auth.*; keep one of them",
                    ));
                }
                config.auth = Auth::Bearer(Secret::new(token));
            }
            (Some((key, s)), _) if s != "STATIC_TOKEN" => {
                return Err(RegistryConfigError::new(
                    key,
                    format!("`{s}` is not supported; use STATIC_TOKEN with bearer.auth.token"),
                ));
            }
            (Some(_), None) => {
                return Err(RegistryConfigError::new(
                    "bearer.auth.token",
                    "is required with bearer.auth.credentials.source=STATIC_TOKEN",
                ));
            }
            (None, Some(_)) => {
                return Err(RegistryConfigError::new(
                    "bearer.auth.credentials.source",
                    "must be STATIC_TOKEN when bearer.auth.token is set",
                ));
            }
            _ => unreachable!("all combinations are matched above"),
        }
        Ok(config)
    }
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
            redact_url("https://fred:s3cret@r:8081/x"),
            "https://[hidden]@r:8081/x"
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
}
