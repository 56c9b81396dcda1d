//! `bearer.auth.credentials.source=OAUTHBEARER`: a token from an OAuth 2
//! authorization server by the client credentials grant, checked and kept as
//! Confluent's `CachedOauthTokenRetriever` does (the token must be a JWT
//! with an expiry and a subject; it is replaced at 80% of its lifetime, and
//! no later than the expiry buffer before it ends).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use crate::config::{OAuthClientCredentials, redact_url};
use crate::error::RegistryError;

/// The share of a token's lifetime after which it is replaced (Confluent's
/// `OauthTokenCache.CACHE_EXPIRY_THRESHOLD`).
const REFRESH_AT: f64 = 0.8;

/// The token endpoint's answer is read up to this size.
const MAX_ANSWER: u64 = 1024 * 1024;

/// Fetches and keeps the bearer token.
pub(crate) struct TokenSource {
    credentials: OAuthClientCredentials,
    /// The `Authorization` value, and when to fetch a new one.
    current: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field(
                "token_endpoint",
                &redact_url(&self.credentials.token_endpoint),
            )
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    pub(crate) fn new(credentials: OAuthClientCredentials) -> Self {
        TokenSource {
            credentials,
            current: Mutex::new(None),
        }
    }

    /// `Bearer <token>`, fetched with `agent` when there is none yet or it
    /// is due for replacement. Concurrent callers share one fetch.
    pub(crate) fn authorization(
        &self,
        agent: &ureq::Agent,
        timeout: Duration,
    ) -> Result<String, RegistryError> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((value, refresh_at)) = &*current
            && Instant::now() < *refresh_at
        {
            return Ok(value.clone());
        }
        let token = self.fetch(agent, timeout)?;
        let claims =
            claims(&token, &self.credentials).map_err(|reason| self.failure(false, reason))?;
        let value = format!("Bearer {token}");
        *current = Some((
            value.clone(),
            Instant::now() + cache_lifetime(&claims, now_ms(), &self.credentials),
        ));
        Ok(value)
    }

    /// One client credentials request (RFC 6749 §4.4), as Kafka's
    /// `HttpJwtRetriever` makes it for Confluent's client: the id and secret
    /// in a basic `Authorization` header (not URL-encoded, its default),
    /// `grant_type` and `scope` in the form.
    fn fetch(&self, agent: &ureq::Agent, timeout: Duration) -> Result<String, RegistryError> {
        let c = &self.credentials;
        if let Some(path) = c.token_endpoint.strip_prefix("file:") {
            return self.read_token_file(path);
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            c.client_id,
            c.client_secret.expose()
        ));
        let mut form = String::from("grant_type=client_credentials");
        if let Some(scope) = &c.scope {
            form.push_str("&scope=");
            form.push_str(&form_encode(scope));
        }
        let response = agent
            .post(&c.token_endpoint)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Authorization", format!("Basic {basic}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .send(form);
        // A failed TLS handshake fails the same way again: not retried.
        let mut response = response.map_err(|e| match crate::client::tls_failure(&e) {
            Some(reason) => self.failure(false, format!("TLS handshake failed: {reason}")),
            None => self.failure(true, e.to_string()),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| self.failure(true, format!("its answer could not be read: {e}")))?;
        if status != 200 {
            // As Kafka's retriever: a server error or a throttle may pass,
            // a refusal of the credentials will not.
            let retriable = status >= 500 || status == 408 || status == 429;
            return Err(self.failure(retriable, format!("HTTP {status}{}", oauth_error(&body))));
        }
        let answer: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| self.failure(false, format!("its answer is not JSON ({e})")))?;
        match answer.get("access_token").and_then(|t| t.as_str()) {
            Some(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
            _ => Err(self.failure(false, "its answer has no access_token".to_owned())),
        }
    }

    /// The token in the file `path` names (`file:///path` or `file:path`),
    /// as Kafka's `FileJwtRetriever` reads it: the whole file, trimmed.
    fn read_token_file(&self, path: &str) -> Result<String, RegistryError> {
        let path = path.strip_prefix("//").unwrap_or(path);
        let text = std::fs::read_to_string(path).map_err(|e| {
            self.failure(false, format!("the token file {path} cannot be read: {e}"))
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(self.failure(false, format!("the token file {path} is empty")));
        }
        Ok(token.to_owned())
    }

    fn failure(&self, retriable: bool, reason: String) -> RegistryError {
        RegistryError::Token {
            url: redact_url(&self.credentials.token_endpoint),
            reason,
            retriable,
        }
    }
}

/// `: <error>: <error_description>` from an OAuth error answer (RFC 6749
/// §5.2), else nothing (the body may echo what was sent).
fn oauth_error(body: &str) -> String {
    let Ok(answer) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    let field = |name: &str| answer.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    match (field("error"), field("error_description")) {
        (Some(error), Some(description)) => format!(": {error}: {description}"),
        (Some(error), None) => format!(": {error}"),
        _ => String::new(),
    }
}

/// `application/x-www-form-urlencoded` for one value (every byte but ASCII
/// letters and digits escaped, which any form decoder reads).
fn form_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// What the client reads of a token (Kafka's `ClientJwtValidator`).
#[derive(Debug, PartialEq)]
struct Claims {
    /// `exp`, in milliseconds since the epoch.
    expires_ms: i64,
    /// `iat`, in milliseconds since the epoch.
    issued_ms: Option<i64>,
}

/// Checks `token` as Kafka's `ClientJwtValidator` does: a JWT of three
/// sections whose payload has a numeric `exp`, a non-empty subject claim and,
/// if present, a numeric `iat` and a scope claim that is text or a list of
/// text. The signature is the registry's to check.
fn claims(token: &str, credentials: &OAuthClientCredentials) -> Result<Claims, String> {
    let sections: Vec<&str> = token.split('.').collect();
    let [_, payload, _] = sections.as_slice() else {
        return Err(format!(
            "the token is not a JWT: it has {} section(s), not three (header, payload, signature)",
            sections.len()
        ));
    };
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("the token's payload is not base64url: {e}"))?;
    let payload: serde_json::Value = serde_json::from_slice(&decoded)
        .map_err(|e| format!("the token's payload is not JSON: {e}"))?;
    let millis = |name: &str| -> Result<Option<i64>, String> {
        match payload.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => value
                .as_f64()
                .filter(|secs| secs.is_finite())
                // Seconds, possibly fractional, as Kafka reads them.
                .map(|secs| Some((secs * 1000.0) as i64))
                .ok_or_else(|| format!("the token's `{name}` claim is not a number")),
        }
    };
    let expires_ms = millis("exp")?.ok_or("the token has no `exp` claim")?;
    let issued_ms = millis("iat")?;
    let sub = &credentials.sub_claim_name;
    match payload.get(sub).and_then(|v| v.as_str()) {
        Some(subject) if !subject.trim().is_empty() => {}
        _ => {
            return Err(format!(
                "the token has no `{sub}` claim (bearer.auth.sub.claim.name)"
            ));
        }
    }
    let scope = &credentials.scope_claim_name;
    match payload.get(scope) {
        None | Some(serde_json::Value::Null | serde_json::Value::String(_)) => {}
        Some(serde_json::Value::Array(items)) if items.iter().all(|i| i.is_string()) => {}
        Some(_) => {
            return Err(format!(
                "the token's `{scope}` claim (bearer.auth.scope.claim.name) is neither text nor a list of text"
            ));
        }
    }
    Ok(Claims {
        expires_ms,
        issued_ms,
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How long a token is used, as Confluent's `OauthTokenCache` works it out:
/// until 80% of its lifetime (from `iat`, else now), but not into the last
/// `cache_expiry_buffer` before `exp`; when the buffer does not fit, 80% of
/// what is left. An expired token (a clock skew) is not kept.
fn cache_lifetime(claims: &Claims, now_ms: i64, credentials: &OAuthClientCredentials) -> Duration {
    let expires = claims.expires_ms;
    if now_ms >= expires {
        return Duration::ZERO;
    }
    // In i128: the claims are the token server's numbers, any size.
    let (now, expires) = (i128::from(now_ms), i128::from(expires));
    let buffer_ms =
        i128::try_from(credentials.cache_expiry_buffer.as_millis()).unwrap_or(i128::MAX);
    let share = |from: i128| from + ((expires - from) as f64 * REFRESH_AT) as i128;
    let until = if now.saturating_add(buffer_ms) > expires {
        share(now)
    } else {
        // An issue time after the expiry (or far before) says nothing
        // usable: from now, as without one.
        let start = claims
            .issued_ms
            .map(i128::from)
            .filter(|issued| *issued <= expires)
            .unwrap_or(now);
        share(start).min(expires - buffer_ms)
    };
    Duration::from_millis(u64::try_from(until.saturating_sub(now)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn credentials() -> OAuthClientCredentials {
        OAuthClientCredentials {
            token_endpoint: "https://idp/token".into(),
            client_id: "sr-client".into(),
            client_secret: Secret::new("s3cret"),
            scope: None,
            scope_claim_name: "scope".into(),
            sub_claim_name: "sub".into(),
            cache_expiry_buffer: Duration::from_secs(300),
        }
    }

    fn jwt(payload: &str) -> String {
        let part = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!("{}.{}.sig", part(r#"{"alg":"RS256"}"#), part(payload))
    }

    #[test]
    fn tokens_are_checked_as_kafkas_client_validator_checks_them() {
        let c = credentials();
        assert_eq!(
            claims(
                &jwt(r#"{"exp":1700000000,"iat":1699996400,"sub":"svc","scope":["a","b"]}"#),
                &c
            ),
            Ok(Claims {
                expires_ms: 1_700_000_000_000,
                issued_ms: Some(1_699_996_400_000),
            })
        );
        for (token, problem) in [
            ("opaque-token".to_owned(), "not a JWT"),
            (jwt(r#"{"sub":"svc"}"#), "no `exp`"),
            (
                jwt(r#"{"exp":"soon","sub":"svc"}"#),
                "`exp` claim is not a number",
            ),
            (jwt(r#"{"exp":1700000000}"#), "no `sub`"),
            (
                jwt(r#"{"exp":1700000000,"sub":"svc","scope":7}"#),
                "`scope` claim",
            ),
            ("a.!!!.c".to_owned(), "not base64url"),
        ] {
            let error = claims(&token, &c).unwrap_err();
            assert!(error.contains(problem), "{token}: {error}");
        }
        let renamed = OAuthClientCredentials {
            sub_claim_name: "client_id".into(),
            ..credentials()
        };
        assert!(claims(&jwt(r#"{"exp":1700000000,"client_id":"svc"}"#), &renamed).is_ok());
    }

    #[test]
    fn a_token_is_kept_for_80_percent_of_its_life_and_out_of_the_buffer() {
        let c = credentials();
        let now = 1_000_000_000_000;
        let hour = 3_600_000;
        // An hour-long token issued now: 48 minutes (80%), before the 5-minute buffer.
        let claims_of = |issued: Option<i64>, expires: i64| Claims {
            expires_ms: expires,
            issued_ms: issued,
        };
        assert_eq!(
            cache_lifetime(&claims_of(Some(now), now + hour), now, &c),
            Duration::from_secs(48 * 60)
        );
        // A 10-hour token and a 3-hour buffer: 80% would be 8 h, the buffer
        // stops it at 7 h.
        let ten = 10 * hour;
        let c_big_buffer = OAuthClientCredentials {
            cache_expiry_buffer: Duration::from_secs(3 * 3600),
            ..credentials()
        };
        assert_eq!(
            cache_lifetime(&claims_of(None, now + ten), now, &c_big_buffer),
            Duration::from_secs(7 * 3600)
        );
        // Shorter than the buffer: 80% of what is left.
        assert_eq!(
            cache_lifetime(&claims_of(None, now + 100_000), now, &c),
            Duration::from_secs(80)
        );
        // Claims at the ends of the range: no overflow, a lifetime within
        // the token's.
        let huge = cache_lifetime(&claims_of(Some(i64::MIN), i64::MAX), now, &c);
        assert!(huge > Duration::ZERO);
        let far = cache_lifetime(&claims_of(Some(i64::MIN), now + hour), now, &c);
        assert!(far <= Duration::from_secs(3600), "{far:?}");
        // Already expired by this clock: not kept.
        assert_eq!(
            cache_lifetime(&claims_of(None, now - 1), now, &c),
            Duration::ZERO
        );
    }

    #[test]
    fn scopes_are_form_encoded() {
        assert_eq!(
            form_encode("api://sr/.default x"),
            "api%3A%2F%2Fsr%2F%2Edefault%20x"
        );
    }
}
