//! What can go wrong talking to a registry.

/// A registry request that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry answered with an error (its status, error code and message
    /// quoted).
    #[error("schema registry {url} refused to {operation}{}: HTTP {status}{}: {message}", subject_part(.subject), code_part(.error_code))]
    Refused {
        /// What was asked (`register the schema`, `look up the schema`, ...).
        operation: &'static str,
        /// The subject, when the request was about one.
        subject: Option<String>,
        /// The registry's URL (credentials removed).
        url: String,
        /// HTTP status.
        status: u16,
        /// The registry's `error_code` (Confluent: 40401 subject not found, 40403
        /// schema not found, 409 incompatible, 42201 invalid schema, ...).
        error_code: Option<i64>,
        /// The registry's `message`, as it gave it.
        message: String,
    },
    /// A schema is not compatible with what the subject holds under its
    /// compatibility level.
    #[error("schema for subject `{subject}` is incompatible with the registered versions: {}", .messages.join("; "))]
    Incompatible {
        /// The subject.
        subject: String,
        /// The registry's explanation(s).
        messages: Vec<String>,
    },
    /// The schema is not registered under the subject and
    /// `auto.register.schemas=false`.
    #[error(
        "schema not registered under subject `{subject}` and auto.register.schemas=false: {message}; register it first (or set auto.register.schemas=true)"
    )]
    NotRegistered {
        /// The subject.
        subject: String,
        /// The registry's message.
        message: String,
    },
    /// `use.latest.version` (without `auto.register.schemas`): the subject's
    /// latest version is another schema than the record's, which the record
    /// is written with.
    #[error(
        "the latest version ({version}) of subject `{subject}` is not the record's schema, and records are written with their own schema: register the record's schema (or set auto.register.schemas=true), or turn use.latest.version off"
    )]
    LatestVersionDiffers {
        /// The subject.
        subject: String,
        /// The latest version's number.
        version: i32,
    },
    /// `use.schema.id`: the schema with that id is another schema than the
    /// record's, which the record is written with.
    #[error(
        "use.schema.id={id} names another schema than the record's (subject `{subject}`), and records are written with their own schema: give the id of the record's schema, or remove use.schema.id"
    )]
    SchemaIdDiffers {
        /// The subject the record would be registered under.
        subject: String,
        /// The id configured.
        id: u32,
    },
    /// No registry could be reached (every URL tried).
    #[error("schema registry unreachable ({operation}{}): {reason}; check schema.registry.url and that the registry is up", subject_part(.subject))]
    Unreachable {
        /// What was asked.
        operation: &'static str,
        /// The subject, when the request was about one.
        subject: Option<String>,
        /// What happened at each URL (credentials removed).
        reason: String,
    },
    /// The registry's answer could not be read.
    #[error("schema registry {url} gave an unreadable answer to {operation}{}: {reason}", subject_part(.subject))]
    BadResponse {
        /// What was asked.
        operation: &'static str,
        /// The subject, when the request was about one.
        subject: Option<String>,
        /// The registry's URL.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The TLS handshake with an `https://` registry failed (its certificate
    /// is not signed by a trusted CA, does not name its host, or it refused
    /// the client certificate): not retriable, the configuration must change.
    #[error("schema registry {url}: TLS handshake failed ({operation}{}): {reason}; check that schema.registry.ssl.truststore.* trusts the CA that signed the registry's certificate (and schema.registry.ssl.keystore.* if it requires a client certificate)", subject_part(.subject))]
    TlsHandshake {
        /// What was asked.
        operation: &'static str,
        /// The subject, when the request was about one.
        subject: Option<String>,
        /// The registry's URL (credentials removed).
        url: String,
        /// What the TLS library said (`invalid peer certificate: UnknownIssuer`, ...).
        reason: String,
    },
    /// `bearer.auth.credentials.source=OAUTHBEARER`: no usable token came
    /// from the token endpoint.
    #[error(
        "the OAuth token endpoint {url} (bearer.auth.issuer.endpoint.url) gave no usable token for the schema registry: {reason}; check bearer.auth.client.id, bearer.auth.client.secret and bearer.auth.scope"
    )]
    Token {
        /// The token endpoint (credentials removed).
        url: String,
        /// What went wrong (the endpoint's OAuth error, or what the token
        /// lacks); never the secret or the token.
        reason: String,
        /// Whether asking again later may succeed (the endpoint could not be
        /// reached or answered 5xx, 408 or 429).
        retriable: bool,
    },
    /// TLS material named by `schema.registry.ssl.*` could not be loaded.
    #[error("{key}: {reason}")]
    Tls {
        /// The setting.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

fn subject_part(subject: &Option<String>) -> String {
    match subject {
        Some(s) => format!(" for subject `{s}`"),
        None => String::new(),
    }
}

fn code_part(code: &Option<i64>) -> String {
    match code {
        Some(c) => format!(" (error code {c})"),
        None => String::new(),
    }
}

impl RegistryError {
    /// The subject the failed request was about.
    pub fn subject(&self) -> Option<&str> {
        match self {
            RegistryError::Refused { subject, .. }
            | RegistryError::Unreachable { subject, .. }
            | RegistryError::BadResponse { subject, .. }
            | RegistryError::TlsHandshake { subject, .. } => subject.as_deref(),
            RegistryError::Incompatible { subject, .. }
            | RegistryError::NotRegistered { subject, .. }
            | RegistryError::LatestVersionDiffers { subject, .. }
            | RegistryError::SchemaIdDiffers { subject, .. } => Some(subject),
            RegistryError::Tls { .. } | RegistryError::Token { .. } => None,
        }
    }

    /// Whether asking again later may succeed (the registry was unreachable or
    /// answered 5xx, 408 or 429).
    pub fn is_retriable(&self) -> bool {
        match self {
            RegistryError::Unreachable { .. } => true,
            RegistryError::Token { retriable, .. } => *retriable,
            RegistryError::Refused { status, .. } => *status >= 500 || matches!(status, 408 | 429),
            _ => false,
        }
    }
}
