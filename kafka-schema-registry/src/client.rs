//! The client: the Confluent REST API over HTTP(S), or an in-process registry
//! for `mock://` URLs, with the serializers' cache in front.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::json;

use crate::config::{Auth, RegistryConfig, redact_url};
use crate::error::RegistryError;
use crate::mock::MockRegistry;
use crate::oauth::TokenSource;

/// The kind of a schema, as the registry's `schemaType` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SchemaType {
    /// `AVRO` (the registry's default, sent without `schemaType`).
    #[default]
    Avro,
    /// `JSON` (JSON Schema).
    Json,
    /// `PROTOBUF`.
    Protobuf,
}

impl SchemaType {
    /// The registry's name for it.
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
            SchemaType::Protobuf => "PROTOBUF",
        }
    }

    fn from_name(name: Option<&str>) -> SchemaType {
        match name {
            Some("JSON") => SchemaType::Json,
            Some("PROTOBUF") => SchemaType::Protobuf,
            _ => SchemaType::Avro,
        }
    }
}

/// A schema as the registry holds it: its kind and its text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schema {
    /// The kind.
    pub schema_type: SchemaType,
    /// The schema text (for Avro, its JSON; canonical form recommended).
    pub schema: String,
}

impl Schema {
    /// An Avro schema from its JSON text.
    pub fn avro(schema: impl Into<String>) -> Self {
        Schema {
            schema_type: SchemaType::Avro,
            schema: schema.into(),
        }
    }

    /// A JSON Schema from its text.
    pub fn json(schema: impl Into<String>) -> Self {
        Schema {
            schema_type: SchemaType::Json,
            schema: schema.into(),
        }
    }
}

/// A schema registered under a subject.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredSchema {
    /// The subject.
    pub subject: String,
    /// Its version under the subject (from 1).
    pub version: i32,
    /// The registry-wide id (what the Confluent wire format carries).
    pub id: u32,
    /// The schema.
    pub schema: Schema,
}

/// What the serializers need: the id to frame records with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    subject: String,
    schema: Schema,
    use_latest: bool,
    auto_register: bool,
    use_schema_id: Option<u32>,
}

/// An id found, or the schema it names differing from the record's (a
/// configuration's answer, kept as an id is), and when (for
/// `latest.cache.ttl.sec`).
type Slot = Arc<Mutex<Option<(Result<u32, RegistryError>, Instant)>>>;

enum Backend {
    Http(HttpBackend),
    Mock(Arc<MockRegistry>),
}

struct HttpBackend {
    agent: ureq::Agent,
    urls: Vec<String>,
    authorization: Authorization,
    /// Confluent Cloud's headers for a bearer token (`target-sr-cluster`,
    /// `Confluent-Identity-Pool-Id`).
    bearer_headers: Vec<(&'static str, String)>,
    /// `?normalize=true` on registrations and lookups.
    normalize: bool,
    /// The URL tried first (Java's `UrlList.current`): moved past one that
    /// could not be reached, so a dead registry node costs its timeout
    /// once, not on every request.
    current: std::sync::atomic::AtomicUsize,
    read_timeout: Duration,
    retry: RetryPolicy,
}

/// The `Authorization` header of every request.
enum Authorization {
    None,
    /// Basic credentials or a static bearer token.
    Fixed(String),
    /// A bearer token fetched by the client credentials grant and renewed.
    OAuth(Box<TokenSource>),
}

/// When a request is sent again (Confluent's `RetryExecutor`).
struct RetryPolicy {
    max_retries: u32,
    wait: Duration,
    max_wait: Duration,
    call_timeout: Option<Duration>,
}

impl RetryPolicy {
    /// The wait before retry `retries` (0 for the first): full jitter, at
    /// random from 1 ms up to `wait` doubled `retries` times, at most `max_wait`.
    fn backoff(&self, retries: u32) -> Duration {
        let bound = self
            .wait
            .saturating_mul(1 << retries.min(30))
            .min(self.max_wait);
        let bound_ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
        if bound_ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(fastrand::u64(1..=bound_ms))
    }

    /// Sleeps the backoff before retry `retries`; false (without sleeping)
    /// when it would end past `deadline`.
    fn wait_before(&self, retries: u32, deadline: Option<Instant>) -> bool {
        let mut backoff = self.backoff(retries);
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left <= backoff {
                return false;
            }
            backoff = backoff.min(left);
        }
        std::thread::sleep(backoff);
        true
    }
}

/// Why one request got no answer.
enum AttemptError {
    /// Not reached, or no answer in time.
    Transport(ureq::Error),
    /// An answer whose body could not be read.
    Read(String),
}

/// The statuses Confluent's client retries: the registry is busy or
/// restarting, and the same request may well succeed a moment later.
fn retriable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// A schema registry client (Confluent REST API v7, as Confluent Schema
/// Registry, Apicurio's `/apis/ccompat/v7` and Karapace serve it).
///
/// Every method blocks the calling thread for at most the configured timeouts
/// per URL. [`SchemaRegistryClient::id_for`] is what serializers call: it asks
/// the registry once per (subject, schema) and keeps the id; concurrent first
/// callers wait for that one request; a failed request is not kept.
///
/// ```
/// use kafka_schema_registry::{RegistryConfig, Schema, SchemaRegistryClient};
/// let client = SchemaRegistryClient::new(
///     RegistryConfig::from_properties([("schema.registry.url", "mock://doc-example")]).unwrap(),
/// )
/// .unwrap();
/// let schema = Schema::avro(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#);
/// let id = client.id_for("orders-value", &schema).unwrap();
/// assert_eq!(client.id_for("orders-value", &schema).unwrap(), id);
/// assert_eq!(client.requests(), 1);
/// assert_eq!(client.schema_by_id(id).unwrap(), schema);
/// ```
pub struct SchemaRegistryClient {
    backend: Backend,
    config: RegistryConfig,
    ids: Mutex<HashMap<CacheKey, Slot>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for SchemaRegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistryClient")
            .field(
                "urls",
                &self
                    .config
                    .urls
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("auth", &self.config.auth)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// Characters escaped in a subject put in a URL path.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn segment(subject: &str) -> String {
    utf8_percent_encode(subject, PATH_SEGMENT).to_string()
}

/// Confluent's error codes (`Errors` in its REST API) for what is not there.
const SUBJECT_NOT_FOUND: i64 = 40401;
const VERSION_NOT_FOUND: i64 = 40402;
const SCHEMA_NOT_FOUND: i64 = 40403;

#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct IdBody {
    id: u32,
}

#[derive(Deserialize)]
struct SchemaBody {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
}

#[derive(Deserialize)]
struct VersionBody {
    subject: Option<String>,
    version: i32,
    id: u32,
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
}

#[derive(Deserialize)]
struct CompatibilityBody {
    is_compatible: bool,
    #[serde(default)]
    messages: Vec<String>,
}

/// An HTTP answer: status and body.
struct Answer {
    url: String,
    status: u16,
    body: String,
}

impl Answer {
    fn refused(
        &self,
        operation: &'static str,
        subject: Option<&str>,
    ) -> (Option<i64>, RegistryError) {
        let parsed: Option<ErrorBody> = serde_json::from_str(&self.body).ok();
        let code = parsed.as_ref().and_then(|b| b.error_code);
        let message = parsed
            .and_then(|b| b.message)
            .unwrap_or_else(|| self.body.trim().chars().take(500).collect());
        (
            code,
            RegistryError::Refused {
                operation,
                subject: subject.map(str::to_owned),
                url: self.url.clone(),
                status: self.status,
                error_code: code,
                message,
            },
        )
    }

    fn parse<T: for<'de> Deserialize<'de>>(
        &self,
        operation: &'static str,
        subject: Option<&str>,
    ) -> Result<T, RegistryError> {
        serde_json::from_str(&self.body).map_err(|e| RegistryError::BadResponse {
            operation,
            subject: subject.map(str::to_owned),
            url: self.url.clone(),
            reason: format!(
                "{e} in `{}`",
                self.body.chars().take(200).collect::<String>()
            ),
        })
    }
}

impl Answer {
    /// The body of a 200 answer, parsed; any other status is the registry's refusal.
    fn ok_json<T: for<'de> Deserialize<'de>>(
        self,
        operation: &'static str,
        subject: Option<&str>,
    ) -> Result<T, RegistryError> {
        if self.status != 200 {
            return Err(self.refused(operation, subject).1);
        }
        self.parse(operation, subject)
    }
}

/// What rustls said when `error` is a failed TLS handshake.
pub(crate) fn tls_failure(error: &ureq::Error) -> Option<String> {
    match error {
        ureq::Error::Rustls(e) => Some(e.to_string()),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(ToString::to_string),
        _ => None,
    }
}

impl HttpBackend {
    fn new(config: &RegistryConfig) -> Result<Self, RegistryError> {
        let tls = crate::tls::tls_config(&config.tls)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.read_timeout))
            .user_agent("kafka-template-schema-registry")
            .tls_config(tls)
            .build()
            .into();
        let authorization = match &config.auth {
            Auth::None => Authorization::None,
            Auth::Basic { user, password } => Authorization::Fixed(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{}", password.expose()))
            )),
            Auth::Bearer(token) => Authorization::Fixed(format!("Bearer {}", token.expose())),
            Auth::OAuthBearer(credentials) => {
                Authorization::OAuth(Box::new(TokenSource::new(credentials.clone())))
            }
        };
        let bearer_headers = match config.auth {
            Auth::Bearer(_) | Auth::OAuthBearer(_) => [
                ("target-sr-cluster", &config.bearer_logical_cluster),
                ("Confluent-Identity-Pool-Id", &config.bearer_identity_pool),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|v| (name, v)))
            .collect(),
            _ => Vec::new(),
        };
        Ok(HttpBackend {
            agent,
            urls: config.urls.clone(),
            authorization,
            bearer_headers,
            normalize: config.normalize,
            current: std::sync::atomic::AtomicUsize::new(if config.url_randomize {
                fastrand::usize(..config.urls.len().max(1))
            } else {
                0
            }),
            read_timeout: config.read_timeout,
            retry: RetryPolicy {
                max_retries: config.max_retries,
                wait: config.retries_wait,
                max_wait: config.retries_max_wait,
                call_timeout: config.call_timeout,
            },
        })
    }

    /// Sends to each URL in turn, from the current one, until one answers
    /// with a status not worth retrying. As Confluent's `RestService`: a URL
    /// that cannot be reached or answers 408, 429, 500, 502, 503 or 504 is
    /// asked again up to `max.retries` times, after a backoff drawn at random
    /// up to `retries.wait.ms` doubled at each retry (at most
    /// `retries.max.wait.ms`), before the next URL is tried. The whole call
    /// stays within `call_timeout` when one is set.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        operation: &'static str,
        subject: Option<&str>,
    ) -> Result<Answer, RegistryError> {
        use std::sync::atomic::Ordering;
        let deadline = self.retry.call_timeout.map(|t| Instant::now() + t);
        let authorization = self.authorization(deadline)?;
        let authorization = authorization.as_deref();
        let mut failures = Vec::new();
        let mut tls_failures: Vec<(String, String)> = Vec::new();
        let mut overloaded: Option<Answer> = None;
        let count = self.urls.len();
        let first = self.current.load(Ordering::Relaxed);
        for index in (0..count).map(|i| (first + i) % count.max(1)) {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let base = &self.urls[index];
            let shown = redact_url(base);
            let outcome = self.send_with_retries(method, base, path, body, authorization, deadline);
            if matches!(&outcome, Ok(answer) if !retriable_status(answer.status))
                && let Ok(answer) = outcome
            {
                // Any other answer, a refusal included, is the registry's word.
                return Ok(Answer {
                    url: shown,
                    ..answer
                });
            }
            // Java's `UrlList.fail`: the next request starts after it.
            let _ = self.current.compare_exchange(
                index,
                (index + 1) % count,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            overloaded = None;
            match outcome {
                Ok(answer) => {
                    failures.push(format!("{shown}: HTTP {}", answer.status));
                    overloaded = Some(Answer {
                        url: shown,
                        ..answer
                    });
                }
                Err(AttemptError::Read(reason)) => {
                    return Err(RegistryError::BadResponse {
                        operation,
                        subject: subject.map(str::to_owned),
                        url: shown,
                        reason,
                    });
                }
                Err(AttemptError::Transport(e)) => match tls_failure(&e) {
                    Some(reason) => tls_failures.push((shown, reason)),
                    None => failures.push(format!("{shown}: {e}")),
                },
            }
        }
        // The last URL answered, but only that it was overloaded: its
        // refusal is the error (Java throws the last URL's).
        if let Some(answer) = overloaded {
            return Ok(answer);
        }
        if failures.is_empty()
            && let Some((url, reason)) = tls_failures.first()
        {
            return Err(RegistryError::TlsHandshake {
                operation,
                subject: subject.map(str::to_owned),
                url: url.clone(),
                reason: reason.clone(),
            });
        }
        failures.extend(
            tls_failures
                .into_iter()
                .map(|(url, reason)| format!("{url}: TLS handshake failed: {reason}")),
        );
        if failures.is_empty() {
            failures.push("no time left within the call's timeout".to_owned());
        }
        Err(RegistryError::Unreachable {
            operation,
            subject: subject.map(str::to_owned),
            reason: failures.join("; "),
        })
    }

    /// One URL, asked again while it cannot be reached or answers with a
    /// retriable status, up to `max.retries` times and within `deadline`.
    /// A TLS handshake failure is not retried: the same certificates fail
    /// the same way.
    fn send_with_retries(
        &self,
        method: &str,
        base: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        authorization: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<Answer, AttemptError> {
        let url = format!("{base}{path}");
        let mut retries = 0;
        loop {
            let result = self.send_once(method, &url, body, authorization, deadline);
            let retry = match &result {
                Ok(answer) => retriable_status(answer.status),
                Err(AttemptError::Transport(e)) => tls_failure(e).is_none(),
                Err(AttemptError::Read(_)) => false,
            };
            if !retry || retries >= self.retry.max_retries {
                return result;
            }
            if !self.retry.wait_before(retries, deadline) {
                return result;
            }
            retries += 1;
        }
    }

    /// One request, bounded by the read timeout and what is left before
    /// `deadline`.
    fn send_once(
        &self,
        method: &str,
        url: &str,
        body: Option<&serde_json::Value>,
        authorization: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<Answer, AttemptError> {
        let timeout = self.timeout_within(deadline);
        let result = match (method, body) {
            ("GET", _) => self
                .prepare(self.agent.get(url), authorization, timeout)
                .call(),
            ("POST", Some(b)) => self
                .prepare(self.agent.post(url), authorization, timeout)
                .send(b.to_string()),
            ("PUT", Some(b)) => self
                .prepare(self.agent.put(url), authorization, timeout)
                .send(b.to_string()),
            _ => self
                .prepare(self.agent.post(url), authorization, timeout)
                .send_empty(),
        };
        let mut response = result.map_err(AttemptError::Transport)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| AttemptError::Read(e.to_string()))?;
        Ok(Answer {
            url: String::new(),
            status,
            body,
        })
    }

    /// POSTs `schema` about `subject` to `path`.
    fn post_schema(
        &self,
        path: &str,
        schema: &Schema,
        operation: &'static str,
        subject: &str,
    ) -> Result<Answer, RegistryError> {
        self.send(
            "POST",
            path,
            Some(&schema_body(schema)),
            operation,
            Some(subject),
        )
    }

    /// The request with its headers, bounded by `timeout` as a whole.
    fn prepare<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        authorization: Option<&str>,
        timeout: Duration,
    ) -> ureq::RequestBuilder<B> {
        let request = request
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", CONTENT_TYPE)
            .header(
                "Accept",
                "application/vnd.schemaregistry.v1+json, application/json",
            );
        let request = match authorization {
            Some(value) => request.header("Authorization", value),
            None => request,
        };
        self.bearer_headers
            .iter()
            .fold(request, |request, (name, value)| {
                request.header(*name, value)
            })
    }

    /// The read timeout, or what is left before `deadline` if less.
    fn timeout_within(&self, deadline: Option<Instant>) -> Duration {
        match deadline {
            Some(deadline) => self
                .read_timeout
                .min(deadline.saturating_duration_since(Instant::now())),
            None => self.read_timeout,
        }
    }

    /// The `Authorization` value for the next request: an OAuth token is
    /// fetched (or renewed) first, asked for again as a registry request is
    /// when the endpoint cannot be reached or is overloaded.
    fn authorization(&self, deadline: Option<Instant>) -> Result<Option<String>, RegistryError> {
        let source = match &self.authorization {
            Authorization::None => return Ok(None),
            Authorization::Fixed(value) => return Ok(Some(value.clone())),
            Authorization::OAuth(source) => source,
        };
        let mut retries = 0;
        loop {
            match source.authorization(&self.agent, self.timeout_within(deadline)) {
                Ok(value) => return Ok(Some(value)),
                Err(error)
                    if error.is_retriable()
                        && retries < self.retry.max_retries
                        && self.retry.wait_before(retries, deadline) =>
                {
                    retries += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// `?normalize=true` when `normalize.schemas` is set.
    fn normalize_query(&self) -> &'static str {
        if self.normalize {
            "?normalize=true"
        } else {
            ""
        }
    }
}

/// Whether two schemas are the same: of one kind; for Avro the same
/// Parsing Canonical Form (the registry stores Avro's own text, which names
/// a type used again by its short name and drops a namespace equal to the
/// enclosing one: the same schema, written differently); for JSON Schema
/// the same JSON (whitespace and key order aside); Protobuf text as is.
fn same_schema(a: &Schema, b: &Schema) -> bool {
    if a.schema_type != b.schema_type {
        return false;
    }
    if a.schema_type == SchemaType::Avro
        && let (Ok(a), Ok(b)) = (
            apache_avro::Schema::parse_str(&a.schema),
            apache_avro::Schema::parse_str(&b.schema),
        )
    {
        return a.canonical_form() == b.canonical_form();
    }
    match a.schema_type {
        SchemaType::Protobuf => a.schema.trim() == b.schema.trim(),
        SchemaType::Avro | SchemaType::Json => {
            match (
                serde_json::from_str::<serde_json::Value>(&a.schema),
                serde_json::from_str::<serde_json::Value>(&b.schema),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => a.schema == b.schema,
            }
        }
    }
}

/// Keeps what `id_for` found for its (subject, schema): an id, or the
/// configured id or latest version not being the record's schema (asked
/// again only when `latest.cache.ttl.sec` says so, not on every send).
fn remember(
    slot: &mut Option<(Result<u32, RegistryError>, Instant)>,
    found: Result<u32, RegistryError>,
) -> Result<u32, RegistryError> {
    *slot = Some((found.clone(), Instant::now()));
    found
}

fn schema_body(schema: &Schema) -> serde_json::Value {
    match schema.schema_type {
        SchemaType::Avro => json!({ "schema": schema.schema }),
        other => json!({ "schema": schema.schema, "schemaType": other.name() }),
    }
}

impl SchemaRegistryClient {
    /// A client for `config.urls` (HTTP(S), or the in-process registry of a
    /// `mock://scope` URL, shared by every client of that scope in the process).
    pub fn new(config: RegistryConfig) -> Result<Self, RegistryError> {
        let backend = match config.urls.first().and_then(|u| u.strip_prefix("mock://")) {
            Some(scope) => Backend::Mock(MockRegistry::scope(scope)),
            None => Backend::Http(HttpBackend::new(&config)?),
        };
        Ok(SchemaRegistryClient {
            backend,
            config,
            ids: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        })
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// Requests made to the registry so far (mock ones included): the cache
    /// keeps this at one per (subject, schema).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The id records with `schema` under `subject` are framed with, as
    /// Confluent's serializers work it out, in their order: registering the
    /// schema with `auto.register.schemas`, else the id of `use.schema.id`,
    /// else the latest version's id with `use.latest.version`, else looking
    /// it up. Asked once per (subject,
    /// schema), the latest version again after `latest.cache.ttl.sec`;
    /// concurrent first callers share that request.
    ///
    /// The records are written with `schema` itself, so the configured id or
    /// the latest version is used only when its schema is that schema (Java
    /// would write with that schema instead; framing bytes of one schema
    /// with another's id would make readers decode them wrongly): otherwise
    /// [`RegistryError::SchemaIdDiffers`] or
    /// [`RegistryError::LatestVersionDiffers`], kept as an id is.
    pub fn id_for(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError> {
        let key = CacheKey {
            subject: subject.to_owned(),
            schema: schema.clone(),
            use_latest: self.config.use_latest_version,
            auto_register: self.config.auto_register,
            use_schema_id: self.config.use_schema_id,
        };
        let slot: Slot = Arc::clone(
            self.ids
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_default(),
        );
        let mut id = slot.lock().unwrap_or_else(PoisonError::into_inner);
        let latest_path = !self.config.auto_register
            && self.config.use_schema_id.is_none()
            && self.config.use_latest_version;
        if let Some((known, found_at)) = &*id {
            let expired = latest_path
                && self
                    .config
                    .latest_cache_ttl
                    .is_some_and(|ttl| found_at.elapsed() >= ttl);
            if !expired {
                return known.clone();
            }
        }
        let found = if self.config.auto_register {
            self.register(subject, schema)?
        } else if let Some(fixed) = self.config.use_schema_id {
            if !same_schema(&self.schema_by_id(fixed)?, schema) {
                return remember(
                    &mut id,
                    Err(RegistryError::SchemaIdDiffers {
                        subject: subject.to_owned(),
                        id: fixed,
                    }),
                );
            }
            fixed
        } else if self.config.use_latest_version {
            let latest = self.latest_version(subject)?;
            if !same_schema(&latest.schema, schema) {
                return remember(
                    &mut id,
                    Err(RegistryError::LatestVersionDiffers {
                        subject: subject.to_owned(),
                        version: latest.version,
                    }),
                );
            }
            latest.id
        } else {
            match self.lookup(subject, schema) {
                Ok(registered) => registered.id,
                // Only the registry's own "subject / schema not found": a
                // 404 of a wrong base path or a proxy is reported as it is.
                Err(RegistryError::Refused {
                    status: 404,
                    error_code: Some(SUBJECT_NOT_FOUND | SCHEMA_NOT_FOUND),
                    message,
                    ..
                }) => {
                    return Err(RegistryError::NotRegistered {
                        subject: subject.to_owned(),
                        message,
                    });
                }
                Err(e) => return Err(e),
            }
        };
        remember(&mut id, Ok(found))
    }

    /// Registers `schema` under `subject` (`POST /subjects/{subject}/versions`)
    /// and returns its id; a schema already there keeps its id. A schema the
    /// subject's compatibility level refuses is [`RegistryError::Incompatible`].
    pub fn register(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError> {
        const OP: &str = "register the schema";
        self.count();
        match &self.backend {
            Backend::Mock(mock) => mock.register(subject, schema),
            Backend::Http(http) => {
                let answer = http.post_schema(
                    &format!(
                        "/subjects/{}/versions{}",
                        segment(subject),
                        http.normalize_query()
                    ),
                    schema,
                    OP,
                    subject,
                )?;
                if answer.status == 200 {
                    return Ok(answer.parse::<IdBody>(OP, Some(subject))?.id);
                }
                let (_, error) = answer.refused(OP, Some(subject));
                match error {
                    RegistryError::Refused {
                        status: 409,
                        message,
                        ..
                    } => Err(RegistryError::Incompatible {
                        subject: subject.to_owned(),
                        messages: vec![message],
                    }),
                    other => Err(other),
                }
            }
        }
    }

    /// Looks `schema` up under `subject` (`POST /subjects/{subject}`): its
    /// version and id. Not there: [`RegistryError::Refused`] with status 404.
    pub fn lookup(
        &self,
        subject: &str,
        schema: &Schema,
    ) -> Result<RegisteredSchema, RegistryError> {
        const OP: &str = "look up the schema";
        self.count();
        match &self.backend {
            Backend::Mock(mock) => mock.lookup(subject, schema),
            Backend::Http(http) => {
                let answer = http.post_schema(
                    &format!("/subjects/{}{}", segment(subject), http.normalize_query()),
                    schema,
                    OP,
                    subject,
                )?;
                let body: VersionBody = answer.ok_json(OP, Some(subject))?;
                Ok(registered(subject, body))
            }
        }
    }

    /// The schema with this id (`GET /schemas/ids/{id}`).
    pub fn schema_by_id(&self, id: u32) -> Result<Schema, RegistryError> {
        const OP: &str = "fetch a schema by id";
        self.count();
        match &self.backend {
            Backend::Mock(mock) => mock.schema_by_id(id),
            Backend::Http(http) => {
                let answer = http.send("GET", &format!("/schemas/ids/{id}"), None, OP, None)?;
                let body: SchemaBody = answer.ok_json(OP, None)?;
                Ok(Schema {
                    schema_type: SchemaType::from_name(body.schema_type.as_deref()),
                    schema: body.schema,
                })
            }
        }
    }

    /// The latest version under `subject` (`GET /subjects/{subject}/versions/latest`).
    pub fn latest_version(&self, subject: &str) -> Result<RegisteredSchema, RegistryError> {
        const OP: &str = "fetch the latest version";
        self.count();
        match &self.backend {
            Backend::Mock(mock) => mock.latest(subject),
            Backend::Http(http) => {
                let answer = http.send(
                    "GET",
                    &format!("/subjects/{}/versions/latest", segment(subject)),
                    None,
                    OP,
                    Some(subject),
                )?;
                let body: VersionBody = answer.ok_json(OP, Some(subject))?;
                Ok(registered(subject, body))
            }
        }
    }

    /// Whether `schema` could be registered under `subject` now
    /// (`POST /compatibility/subjects/{subject}/versions/latest?verbose=true`):
    /// `Ok(())`, or [`RegistryError::Incompatible`] with the registry's
    /// reasons. A subject with no versions accepts any schema.
    pub fn check_compatibility(&self, subject: &str, schema: &Schema) -> Result<(), RegistryError> {
        const OP: &str = "check compatibility";
        self.count();
        let messages = match &self.backend {
            Backend::Mock(mock) => mock.check(subject, schema),
            Backend::Http(http) => {
                let answer = http.post_schema(
                    &format!(
                        "/compatibility/subjects/{}/versions/latest?verbose=true",
                        segment(subject)
                    ),
                    schema,
                    OP,
                    subject,
                )?;
                match answer.status {
                    200 => {
                        let body: CompatibilityBody = answer.parse(OP, Some(subject))?;
                        if body.is_compatible {
                            Vec::new()
                        } else if body.messages.is_empty() {
                            vec!["the registry found it incompatible and gave no reason".into()]
                        } else {
                            body.messages
                        }
                    }
                    // No subject or version yet: anything is compatible.
                    // Another 404 (a wrong base path, a proxy) is not an answer.
                    404 if matches!(
                        answer.refused(OP, Some(subject)).0,
                        Some(SUBJECT_NOT_FOUND | VERSION_NOT_FOUND)
                    ) =>
                    {
                        Vec::new()
                    }
                    _ => return Err(answer.refused(OP, Some(subject)).1),
                }
            }
        };
        if messages.is_empty() {
            Ok(())
        } else {
            Err(RegistryError::Incompatible {
                subject: subject.to_owned(),
                messages,
            })
        }
    }

    /// Sets the compatibility level (`BACKWARD`, `FORWARD`, `FULL`, `NONE`,
    /// `*_TRANSITIVE`) of `subject`, or the registry's default when `None`
    /// (`PUT /config[/{subject}]`).
    pub fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: &str,
    ) -> Result<(), RegistryError> {
        const OP: &str = "set the compatibility level";
        self.count();
        match &self.backend {
            Backend::Mock(mock) => {
                mock.set_compatibility(subject, level);
                Ok(())
            }
            Backend::Http(http) => {
                let path = match subject {
                    Some(s) => format!("/config/{}", segment(s)),
                    None => "/config".to_owned(),
                };
                let answer = http.send(
                    "PUT",
                    &path,
                    Some(&json!({ "compatibility": level })),
                    OP,
                    subject,
                )?;
                if answer.status == 200 {
                    Ok(())
                } else {
                    Err(answer.refused(OP, subject).1)
                }
            }
        }
    }
}

fn registered(subject: &str, body: VersionBody) -> RegisteredSchema {
    RegisteredSchema {
        subject: body.subject.unwrap_or_else(|| subject.to_owned()),
        version: body.version,
        id: body.id,
        schema: Schema {
            schema_type: SchemaType::from_name(body.schema_type.as_deref()),
            schema: body.schema,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_schemas_written_differently_are_the_same() {
        // As the derive writes it: full names everywhere, the nested
        // namespace spelled out.
        let ours = Schema::avro(
            r#"{"type":"record","name":"Order","namespace":"com.shop","fields":[
                {"name":"billing","type":{"type":"record","name":"Address","namespace":"com.shop","fields":[{"name":"city","type":"string"}]}},
                {"name":"shipping","type":"com.shop.Address"}]}"#,
        );
        // As Avro's Schema.toString (the registry's stored text) writes it.
        let stored = Schema::avro(
            r#"{"type":"record","name":"Order","namespace":"com.shop","fields":[{"name":"billing","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]}},{"name":"shipping","type":"Address"}]}"#,
        );
        assert!(same_schema(&ours, &stored));
        let other = Schema::avro(
            r#"{"type":"record","name":"Order","namespace":"com.shop","fields":[{"name":"id","type":"long"}]}"#,
        );
        assert!(!same_schema(&ours, &other));
        assert!(!same_schema(&ours, &Schema::json(r#"{"type":"object"}"#)));
    }
}
