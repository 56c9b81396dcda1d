//! The OIDC client-credentials login (KIP-768): OAUTHBEARER tokens from an
//! identity provider's token endpoint.
//!
//! Settings, as the Java client names them:
//! - `sasl.oauthbearer.token.endpoint.url`: `https://...` (or `http://`, or
//!   `file:/path` holding a token, as in Java);
//! - client id, secret and scope: the JAAS options `clientId`, `clientSecret`,
//!   `scope` of `OAuthBearerLoginModule`, or (Kafka 4.1, KIP-1139)
//!   `sasl.oauthbearer.client.credentials.client.id` / `.client.secret` and
//!   `sasl.oauthbearer.scope`;
//! - `sasl.oauthbearer.sub.claim.name` (`sub`): the claim naming the principal;
//! - `sasl.login.connect.timeout.ms` / `sasl.login.read.timeout.ms` (10 s each
//!   when unset, where Java sets no timeout: a token endpoint that stops
//!   answering would otherwise stall the producer's connections for good)
//!   and `sasl.login.retry.backoff.ms` / `.max.ms` (100 ms / 10 s, as in Java)
//!   for the endpoint.
//!
//! The request is `POST grant_type=client_credentials[&scope=...]` with HTTP Basic
//! authentication (RFC 6749 section 2.3.1). The HTTP/1.1 exchange is small and
//! done here on tokio with the same rustls setup as broker connections, rather
//! than pulling a whole HTTP stack into the producer. As in Java
//! (`JaasOptionsUtils.createSSLSocketFactory`), an `https://` endpoint is
//! trusted by the `ssl.*` options of the `OAuthBearerLoginModule`
//! (`ssl.truststore.location="..."`, ...), not by the producer's own `ssl.*`
//! settings, which are for the brokers; without them, by the Mozilla roots.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::future::{BoxFuture, FutureExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::jaas::JaasConfig;
use super::oauthbearer::{OAuthToken, TokenProvider, jwt_claims};
use crate::config::security::SecuritySettings;
use crate::config::{ConfigError, Password, keys};
use crate::network::NetworkError;
use crate::network::tls::{TlsConnector, TlsSettings};

/// The token endpoint's TLS: the JAAS options named as the Java client's
/// `ssl.*` settings (others are ignored, as Java's `AbstractConfig` ignores
/// them), errors naming the option.
fn token_endpoint_tls(jaas: &JaasConfig) -> Result<TlsConnector, ConfigError> {
    let mut settings = SecuritySettings::default();
    for (name, value) in jaas.options_with_prefix("ssl.") {
        if SecuritySettings::handles(name) {
            settings
                .set(name, value)
                .map_err(|e| e.within(keys::SASL_JAAS_CONFIG))?;
        } else {
            tracing::warn!(option = name, "sasl.jaas.config option not used for the token endpoint");
        }
    }
    TlsSettings::from_settings(&settings)
        .and_then(|tls| TlsConnector::new(&tls))
        .map_err(|e| e.within(keys::SASL_JAAS_CONFIG))
}

/// Largest token endpoint response read.
const MAX_RESPONSE: usize = 1024 * 1024;

/// The answers Java's `HttpAccessTokenRetriever` does not retry: the
/// request itself is wrong (bad credentials, scope, URL). Any other failure,
/// 408 and 429 included, is tried again within the retry time.
const UNRETRYABLE_STATUSES: [u16; 17] = [
    400, 401, 402, 403, 404, 405, 406, 407, 409, 410, 411, 412, 413, 414, 415, 501, 505,
];

/// Tokens from an OIDC token endpoint with the client-credentials grant.
pub struct ClientCredentials {
    endpoint: String,
    client_id: String,
    client_secret: Password,
    scope: Option<String>,
    /// `sasl.oauthbearer.header.urlencode` (KIP-1025, default false): whether
    /// the Basic credentials are form-encoded first, as RFC 6749 asks; raw
    /// by default, as Java sends them (some identity providers compare
    /// them unencoded).
    urlencode_header: bool,
    sub_claim: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    retry_backoff: Duration,
    retry_backoff_max: Duration,
    tls: TlsConnector,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

fn millis(settings: &SecuritySettings, key: &str, default: u64) -> Result<Duration, ConfigError> {
    match settings.get(key) {
        None => Ok(Duration::from_millis(default)),
        Some(raw) => raw
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| ConfigError::invalid(key, raw, "a number of milliseconds")),
    }
}

/// `sasl.oauthbearer.header.urlencode` (false): a boolean, as Java reads it.
fn header_urlencode(settings: &SecuritySettings) -> Result<bool, ConfigError> {
    match settings.get(keys::SASL_OAUTHBEARER_HEADER_URLENCODE) {
        None => Ok(false),
        Some(raw) => match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ConfigError::invalid(
                keys::SASL_OAUTHBEARER_HEADER_URLENCODE,
                raw,
                "true or false",
            )),
        },
    }
}

/// Checks the types of the token endpoint's settings, as Java's `ConfigDef`
/// checks them when the producer is made whether or not OAUTHBEARER is
/// used: a whole number (Java's `INT` or `LONG`, no range), a boolean.
/// (Their ranges are checked where they are used.)
pub(crate) fn check_settings(settings: &SecuritySettings) -> Result<(), ConfigError> {
    header_urlencode(settings)?;
    for key in [
        keys::SASL_LOGIN_CONNECT_TIMEOUT_MS,
        keys::SASL_LOGIN_READ_TIMEOUT_MS,
        keys::SASL_LOGIN_RETRY_BACKOFF_MS,
        keys::SASL_LOGIN_RETRY_BACKOFF_MAX_MS,
    ] {
        if let Some(raw) = settings.get(key)
            && raw.parse::<i64>().is_err()
        {
            return Err(ConfigError::invalid(key, raw, "a number of milliseconds"));
        }
    }
    Ok(())
}

impl ClientCredentials {
    pub(crate) fn from_settings(
        settings: &SecuritySettings,
        jaas: &JaasConfig,
    ) -> Result<Self, ConfigError> {
        let endpoint = settings
            .get(keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL)
            .unwrap_or_default()
            .to_owned();
        if !(endpoint.starts_with("https://")
            || endpoint.starts_with("http://")
            || endpoint.starts_with("file:"))
        {
            return Err(ConfigError::invalid(
                keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL,
                &endpoint,
                "an https://, http:// or file: URL",
            ));
        }
        // Trimmed, and blank taken as not set, as Java's option checks and
        // `sanitizeString` do (a secret read from a file keeps no newline).
        let client_id = settings
            .get(keys::SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_ID)
            .or_else(|| jaas.option("clientId"))
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let client_secret = settings
            .secret(keys::SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_SECRET)
            .map(|secret| secret.expose().to_owned())
            .or_else(|| jaas.option("clientSecret").map(str::to_owned))
            .map(|secret| secret.trim().to_owned())
            .filter(|secret| !secret.is_empty())
            .map(Password::new);
        let file = endpoint.starts_with("file:");
        let (client_id, client_secret) = match (client_id, client_secret) {
            (Some(id), Some(secret)) => (id, secret),
            _ if file => (String::new(), Password::default()),
            (None, _) => {
                return Err(ConfigError::Missing {
                    key: keys::SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_ID.to_owned(),
                    hint: "the token endpoint needs a client id: set it, or clientId=\"...\" \
                           in the OAuthBearerLoginModule options"
                        .to_owned(),
                });
            }
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    key: keys::SASL_OAUTHBEARER_CLIENT_CREDENTIALS_CLIENT_SECRET.to_owned(),
                    hint: "the token endpoint needs a client secret: set it, or \
                           clientSecret=\"...\" in the OAuthBearerLoginModule options"
                        .to_owned(),
                });
            }
        };
        let scope = settings
            .get(keys::SASL_OAUTHBEARER_SCOPE)
            .or_else(|| jaas.option("scope"))
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned);
        let urlencode_header = header_urlencode(settings)?;
        let tls = token_endpoint_tls(jaas)?;
        Ok(ClientCredentials {
            endpoint,
            client_id,
            client_secret,
            scope,
            urlencode_header,
            sub_claim: settings
                .get(keys::SASL_OAUTHBEARER_SUB_CLAIM_NAME)
                .unwrap_or("sub")
                .to_owned(),
            connect_timeout: millis(settings, keys::SASL_LOGIN_CONNECT_TIMEOUT_MS, 10_000)?,
            read_timeout: millis(settings, keys::SASL_LOGIN_READ_TIMEOUT_MS, 10_000)?,
            retry_backoff: millis(settings, keys::SASL_LOGIN_RETRY_BACKOFF_MS, 100)?,
            retry_backoff_max: millis(settings, keys::SASL_LOGIN_RETRY_BACKOFF_MAX_MS, 10_000)?,
            tls,
        })
    }

    /// Fetches a token as Java's `HttpAccessTokenRetriever` with its `Retry`:
    /// a transport failure or any answer but the final ones
    /// ([`UNRETRYABLE_STATUSES`]) is tried again after a backoff doubling from
    /// `sasl.login.retry.backoff.ms`, while less than
    /// `sasl.login.retry.backoff.max.ms` has passed since the first attempt.
    async fn fetch(&self) -> Result<OAuthToken, String> {
        if let Some(path) = self.endpoint.strip_prefix("file:") {
            let path = path.trim_start_matches("//");
            // A small file read once per token lifetime.
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file {path}: {e}"))?;
            return self.token_from(text.trim());
        }
        let end = tokio::time::Instant::now() + self.retry_backoff_max;
        let mut backoff = self.retry_backoff;
        loop {
            let why = match self.request().await {
                // Java takes 200 and 201 as the token.
                Ok((200 | 201, body)) => return self.parse_response(&body),
                Ok((status, body)) if UNRETRYABLE_STATUSES.contains(&status) => {
                    return Err(format!(
                        "the token endpoint {} answered HTTP {status}: {}",
                        self.endpoint,
                        oauth_error(&body)
                    ));
                }
                Ok((status, body)) => format!("HTTP {status}: {}", oauth_error(&body)),
                Err(e) => e,
            };
            let wait = backoff.min(end.saturating_duration_since(tokio::time::Instant::now()));
            if wait.is_zero() {
                return Err(format!(
                    "the token endpoint {} failed: {why}",
                    self.endpoint
                ));
            }
            tracing::warn!(endpoint = %self.endpoint, error = %why, "token request failed; retrying");
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2);
        }
    }

    fn parse_response(&self, body: &[u8]) -> Result<OAuthToken, String> {
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| "the token endpoint's answer is not JSON".to_owned())?;
        let token = json
            .get("access_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| "the token endpoint's answer has no access_token".to_owned())?;
        let mut parsed = self.token_from(token)?;
        if let Some(expires_in) = json.get("expires_in").and_then(serde_json::Value::as_u64)
            && let Some(expires_at) = parsed
                .issued_at
                .checked_add(Duration::from_secs(expires_in))
        {
            parsed.expires_at = parsed.expires_at.min(expires_at);
        }
        Ok(parsed)
    }

    fn token_from(&self, token: &str) -> Result<OAuthToken, String> {
        let claims = jwt_claims(token)?;
        let principal = match claims.get(&self.sub_claim) {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => {
                return Err(format!(
                    "the access token has no '{}' claim (sasl.oauthbearer.sub.claim.name)",
                    self.sub_claim
                ));
            }
        };
        // Seconds since the epoch; from the identity provider, so a value past
        // what a clock holds is an error, not a panic.
        let at = |name: &str| -> Result<Option<SystemTime>, String> {
            let Some(seconds) = claims.get(name).and_then(serde_json::Value::as_f64) else {
                return Ok(None);
            };
            Duration::try_from_secs_f64(seconds.max(0.0))
                .ok()
                .and_then(|since| UNIX_EPOCH.checked_add(since))
                .map(Some)
                .ok_or_else(|| format!("the access token's '{name}' claim ({seconds}) is out of range"))
        };
        let expires_at = at("exp")?.ok_or_else(|| "the access token has no 'exp' claim".to_owned())?;
        Ok(OAuthToken {
            value: Password::new(token),
            principal,
            expires_at,
            issued_at: at("iat")?.unwrap_or_else(SystemTime::now),
        })
    }

    async fn request(&self) -> Result<(u16, Vec<u8>), String> {
        let url = Url::parse(&self.endpoint)?;
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((url.host.as_str(), url.port)),
        )
        .await
        .map_err(|_| format!("connecting timed out after {:?}", self.connect_timeout))?
        .map_err(|e| format!("cannot connect: {e}"))?;
        let mut body = "grant_type=client_credentials".to_owned();
        if let Some(scope) = &self.scope {
            body.push_str("&scope=");
            body.push_str(&form_encode(scope));
        }
        let secret = self.client_secret.expose();
        let credentials = STANDARD.encode(if self.urlencode_header {
            format!("{}:{}", form_encode(&self.client_id), form_encode(secret))
        } else {
            format!("{}:{secret}", self.client_id)
        });
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {credentials}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            url.path,
            url.host_header,
            body.len()
        );
        let exchange = async {
            if url.https {
                let address = format!("{}:{}", url.host, url.port);
                let stream = self.tls.connect(&address, tcp).await.map_err(|e| match e {
                    // Its own advice names the producer's ssl.* settings,
                    // which are the brokers'.
                    NetworkError::Tls { reason, .. } => format!(
                        "TLS: {reason} (for the token endpoint, these are ssl.* options of \
                         the OAuthBearerLoginModule in sasl.jaas.config, as in Java)"
                    ),
                    other => other.to_string(),
                })?;
                http_exchange(stream, request.as_bytes()).await
            } else {
                http_exchange(tcp, request.as_bytes()).await
            }
        };
        tokio::time::timeout(self.read_timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.read_timeout))?
    }
}

impl TokenProvider for ClientCredentials {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
        self.fetch().boxed()
    }

    fn principal(&self) -> String {
        if self.client_id.is_empty() {
            self.endpoint.clone()
        } else {
            self.client_id.clone()
        }
    }
}

/// The `error` / `error_description` of an OAuth error answer, else a note.
fn oauth_error(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            let error = json
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("error");
            match json.get("error_description").and_then(|e| e.as_str()) {
                Some(description) => format!("{error}: {description}"),
                None => error.to_owned(),
            }
        }
        Err(_) => format!("{} bytes of non-JSON", body.len()),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

struct Url {
    https: bool,
    host: String,
    host_header: String,
    port: u16,
    path: String,
}

impl Url {
    fn parse(url: &str) -> Result<Url, String> {
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!("unsupported token endpoint URL {url}"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let default_port = if https { 443 } else { 80 };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                match port.parse() {
                    Ok(p) => (host, p),
                    Err(_) if authority.starts_with('[') && authority.ends_with(']') => {
                        (authority, default_port)
                    }
                    Err(_) => return Err(format!("invalid port in token endpoint URL {url}")),
                }
            }
            _ => (authority, default_port),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(format!("no host in token endpoint URL {url}"));
        }
        Ok(Url {
            https,
            host,
            host_header: authority.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

/// Writes `request` and reads the whole answer (`Connection: close`): status and
/// body, with `Content-Length` or chunked transfer encoding.
async fn http_exchange<S>(mut stream: S, request: &[u8]) -> Result<(u16, Vec<u8>), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("cannot send the token request: {e}"))?;
    stream.flush().await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            // TLS peers often close without close_notify once the answer is sent.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => return Err(format!("cannot read the token response: {e}")),
        }
        if raw.len() > MAX_RESPONSE {
            return Err("the token response is larger than 1 MiB".to_owned());
        }
    }
    parse_http_response(&raw)
}

fn parse_http_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "the token response has no complete HTTP header".to_owned())?;
    let head =
        std::str::from_utf8(&raw[..end]).map_err(|_| "the HTTP header is not text".to_owned())?;
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "the token response has no HTTP status".to_owned())?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(body)?
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.get(..length)
            .ok_or_else(|| "the token response body is shorter than its Content-Length".to_owned())?
            .to_vec()
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| "a chunk size line is not terminated".to_owned())?;
        let size_text =
            std::str::from_utf8(&data[..line_end]).map_err(|_| "bad chunk size".to_owned())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size".to_owned())?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data
            .get(..size)
            .ok_or_else(|| "a chunk is shorter than its size".to_owned())?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_responses_are_parsed() {
        let (status, body) = parse_http_response(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}xx",
        )
        .unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"{}"[..]));
        let (_, body) = parse_http_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(body, b"abcde");
        assert!(parse_http_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(
            parse_http_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .is_err()
        );
    }

    /// A token endpoint on loopback: checks the client-credentials request and
    /// answers with a JWT (or an OAuth error).
    async fn token_endpoint(answer: String) -> (String, tokio::task::JoinHandle<String>) {
        let (url, server) = token_endpoint_answering(vec![answer]).await;
        let first = tokio::spawn(async move { server.await.unwrap().remove(0) });
        (url, first)
    }

    /// A token endpoint giving `answers` to one connection each, in turn;
    /// returns the requests it read.
    async fn token_endpoint_answering(
        answers: Vec<String>,
    ) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let mut requests = Vec::new();
            for answer in answers {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                    let n = socket.read(&mut buf).await.unwrap();
                    assert!(n > 0, "request cut short");
                    request.extend_from_slice(&buf[..n]);
                }
                socket.write_all(answer.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
                requests.push(String::from_utf8(request).unwrap());
            }
            requests
        });
        (url, server)
    }

    /// A token answer for `svc-orders`, valid an hour.
    fn token_answer() -> String {
        // {"alg":"none"} . {"sub":"svc-orders","exp":4102444800,"iat":1700000000} .
        let body = "{\"access_token\":\"eyJhbGciOiJub25lIn0.\
            eyJzdWIiOiJzdmMtb3JkZXJzIiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3MDAwMDAwMDB9.\",\
            \"expires_in\":3600}";
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    /// Rate limited (429) or timed out (408), the endpoint is asked again,
    /// as Java's retriever does; 401 is final.
    #[tokio::test]
    async fn busy_token_endpoints_are_asked_again_and_refusals_are_final() {
        let busy = |status: u16| {
            format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
            )
        };
        let (url, server) =
            token_endpoint_answering(vec![busy(429), busy(408), token_answer()]).await;
        let settings = SecuritySettings::from_pairs(&[
            (keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL, &url),
            (keys::SASL_LOGIN_RETRY_BACKOFF_MS, "10"),
        ]);
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             clientId=\"svc\" clientSecret=\"s\";",
        )
        .unwrap();
        let provider = ClientCredentials::from_settings(&settings, &jaas).unwrap();
        assert_eq!(provider.token().await.unwrap().principal, "svc-orders");
        assert_eq!(server.await.unwrap().len(), 3);

        let (url, server) = token_endpoint_answering(vec![busy(401)]).await;
        let settings = SecuritySettings::from_pairs(&[
            (keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL, &url),
            (keys::SASL_LOGIN_RETRY_BACKOFF_MS, "10"),
        ]);
        let provider = ClientCredentials::from_settings(&settings, &jaas).unwrap();
        let error = provider.token().await.unwrap_err();
        assert!(error.contains("HTTP 401"), "{error}");
        assert_eq!(server.await.unwrap().len(), 1);
    }

    /// As Java: the id and secret trimmed and sent as written unless
    /// `sasl.oauthbearer.header.urlencode=true`; a blank scope left out.
    #[tokio::test]
    async fn credentials_are_trimmed_and_encoded_only_when_asked() {
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             clientId=\" svc:orders \" clientSecret=\"p+s/w~=\n\" scope=\" \";",
        )
        .unwrap();
        for (urlencode, expected) in [
            (None, "svc:orders:p+s/w~="),
            (Some("false"), "svc:orders:p+s/w~="),
            (Some("true"), "svc%3Aorders:p%2Bs%2Fw%7E%3D"),
        ] {
            let (url, server) = token_endpoint(token_answer()).await;
            let mut pairs = vec![(keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL, url.as_str())];
            if let Some(value) = urlencode {
                pairs.push((keys::SASL_OAUTHBEARER_HEADER_URLENCODE, value));
            }
            let provider =
                ClientCredentials::from_settings(&SecuritySettings::from_pairs(&pairs), &jaas)
                    .unwrap();
            provider.token().await.unwrap();
            let request = server.await.unwrap();
            let basic = STANDARD.encode(expected);
            assert!(
                request.contains(&format!("Authorization: Basic {basic}\r\n")),
                "{urlencode:?}: {request}"
            );
            assert!(
                request.ends_with("\r\n\r\ngrant_type=client_credentials"),
                "{request}"
            );
        }
    }

    /// As Java: the token endpoint's trust comes from the login module's
    /// `ssl.*` options; a bad one names itself inside sasl.jaas.config and
    /// hides its value.
    #[test]
    fn the_token_endpoints_tls_comes_from_the_login_modules_ssl_options() {
        let settings = SecuritySettings::from_pairs(&[(
            keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL,
            "https://idp.example.com/token",
        )]);
        let with = |options: &str| {
            JaasConfig::parse(&format!(
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
                 clientId=\"svc\" clientSecret=\"s\" {options};"
            ))
            .unwrap()
        };
        let missing = ClientCredentials::from_settings(
            &settings,
            &with("ssl.truststore.location=\"/no/such/idp-ca.pem\" ssl.truststore.type=\"PEM\""),
        )
        .unwrap_err();
        assert_eq!(
            missing.key(),
            "sasl.jaas.config option ssl.truststore.location",
            "{missing}"
        );
        let conflicting = ClientCredentials::from_settings(
            &settings,
            &with("ssl.truststore.location=\"/a.pem\" ssl.truststore.certificates=\"x\""),
        )
        .unwrap_err();
        assert!(conflicting.to_string().starts_with("sasl.jaas.config: "), "{conflicting}");
        let pem = include_str!("../testdata/cn-only.pem").replace('\n', " ");
        ClientCredentials::from_settings(
            &settings,
            &with(&format!(
                "ssl.truststore.type=\"PEM\" ssl.truststore.certificates=\"{pem}\" \
                 ssl.endpoint.identification.algorithm=\"\" ssl.cipher.suites=\"ignored\""
            )),
        )
        .expect("a PEM trust store inline in the JAAS options");
    }

    fn provider(url: &str) -> ClientCredentials {
        let settings = SecuritySettings::from_pairs(&[
            (keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL, url),
            (keys::SASL_LOGIN_RETRY_BACKOFF_MAX_MS, "0"),
        ]);
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             clientId=\"svc:orders\" clientSecret=\"hunter2\" scope=\"kafka produce\";",
        )
        .unwrap();
        ClientCredentials::from_settings(&settings, &jaas).unwrap()
    }

    #[tokio::test]
    async fn client_credentials_grant_against_a_token_endpoint() {
        // {"alg":"none"} . {"sub":"svc-orders","exp":4102444800,"iat":1700000000} .
        let body = "{\"access_token\":\"eyJhbGciOiJub25lIn0.\
            eyJzdWIiOiJzdmMtb3JkZXJzIiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3MDAwMDAwMDB9.\",\
            \"expires_in\":3600}";
        let (first, rest) = body.split_at(20);
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{rest}\r\n0\r\n\r\n",
            first.len(),
            rest.len()
        );
        let (url, server) = token_endpoint(answer).await;
        let provider = provider(&url);
        assert!(!format!("{provider:?}").contains("hunter2"));
        let token = provider.token().await.unwrap();
        assert_eq!(token.principal, "svc-orders");
        assert_eq!(
            token.expires_at.duration_since(token.issued_at).unwrap(),
            Duration::from_secs(3600)
        );
        let request = server.await.unwrap();
        assert!(
            request.starts_with("POST /oauth2/token HTTP/1.1\r\n"),
            "{request}"
        );
        // As Java (sasl.oauthbearer.header.urlencode=false): as written, then Basic.
        let basic = STANDARD.encode("svc:orders:hunter2");
        assert!(
            request.contains(&format!("Authorization: Basic {basic}\r\n")),
            "{request}"
        );
        assert!(request.ends_with("\r\n\r\ngrant_type=client_credentials&scope=kafka+produce"));
    }

    /// Confluent Cloud's OAuth: `extension_*` options of the OIDC login go
    /// with the token as SASL extensions (KIP-342), as Java's
    /// `OAuthBearerLoginCallbackHandler` sends them.
    #[tokio::test]
    async fn the_oidc_logins_extensions_go_with_the_token() {
        use crate::network::sasl::SaslMechanism;
        use crate::network::sasl::oauthbearer::OAuthBearer;
        // {"alg":"none"} . {"sub":"svc-orders","exp":4102444800,"iat":1700000000} .
        let body = "{\"access_token\":\"eyJhbGciOiJub25lIn0.\
            eyJzdWIiOiJzdmMtb3JkZXJzIiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3MDAwMDAwMDB9.\",\
            \"expires_in\":3600}";
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (url, server) = token_endpoint(answer).await;
        let settings = SecuritySettings::from_pairs(&[
            (keys::SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL, url.as_str()),
            (keys::SASL_LOGIN_RETRY_BACKOFF_MAX_MS, "0"),
        ]);
        let jaas = |extra: &str| {
            JaasConfig::parse(&format!(
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
                 clientId=\"svc:orders\" clientSecret=\"hunter2\" scope=\"kafka produce\" {extra};"
            ))
            .unwrap()
        };
        let oauth = OAuthBearer::from_settings(
            &settings,
            &jaas("extension_logicalCluster=\"lkc-1\" extension_identityPoolId=\"pool-2\" \
                   unsecuredLoginExtension_ignored=\"x\""),
        )
        .unwrap();
        let mut session = oauth.start().await.unwrap();
        let first = String::from_utf8(session.initial_response().unwrap()).unwrap();
        assert!(
            first.ends_with("\u{1}identityPoolId=pool-2\u{1}logicalCluster=lkc-1\u{1}\u{1}"),
            "{first:?}"
        );
        assert!(!first.contains("ignored"), "{first:?}");
        server.await.unwrap();

        // Java's rules for extension names: letters only, `auth` reserved.
        for bad in ["extension_pool_id=\"p\"", "extension_auth=\"a\""] {
            let error = OAuthBearer::from_settings(&settings, &jaas(bad)).unwrap_err();
            assert!(error.to_string().contains("SASL extension"), "{error}");
        }
    }

    #[tokio::test]
    async fn oauth_errors_are_reported_without_retrying() {
        let body = r#"{"error":"invalid_client","error_description":"bad secret"}"#;
        let answer = format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (url, server) = token_endpoint(answer).await;
        let error = provider(&url).token().await.unwrap_err();
        assert!(
            error.contains("HTTP 401: invalid_client: bad secret"),
            "{error}"
        );
        assert!(!error.contains("hunter2"));
        server.await.unwrap();
    }

    #[test]
    fn urls_and_form_encoding() {
        let url = Url::parse("https://idp.example.com:8443/realms/k/token?x=1").unwrap();
        assert!(url.https);
        assert_eq!((url.host.as_str(), url.port), ("idp.example.com", 8443));
        assert_eq!(url.path, "/realms/k/token?x=1");
        let url = Url::parse("http://127.0.0.1/token").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 80));
        assert!(Url::parse("ftp://x").is_err());
        assert_eq!(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
