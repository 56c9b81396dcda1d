//! PLAIN (RFC 4616): one message, `authzid NUL username NUL password`. Send it
//! only over TLS (`SASL_SSL`) outside of tests: the password travels as is.

use std::fmt;

use futures_util::future::{BoxFuture, FutureExt};

use super::jaas::JaasConfig;
use super::{AuthFailure, SaslMechanism, SaslSession};
use crate::config::Password;

/// PLAIN with a user name and password (`PlainLoginModule`'s `username` and
/// `password` options).
#[derive(Clone)]
pub struct Plain {
    username: String,
    password: Password,
}

impl fmt::Debug for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plain")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

impl Plain {
    /// PLAIN as `username`.
    pub fn new(username: impl Into<String>, password: Password) -> Self {
        Plain {
            username: username.into(),
            password,
        }
    }

    pub(crate) fn from_jaas(jaas: &JaasConfig) -> Result<Self, String> {
        Ok(Plain::new(
            jaas.required("username")?,
            Password::new(jaas.required("password")?),
        ))
    }
}

impl SaslMechanism for Plain {
    fn name(&self) -> &str {
        "PLAIN"
    }

    fn principal(&self) -> String {
        self.username.clone()
    }

    fn start(&self) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthFailure>> {
        let session: Box<dyn SaslSession> = Box::new(PlainSession {
            plain: self.clone(),
        });
        async move { Ok(session) }.boxed()
    }
}

struct PlainSession {
    plain: Plain,
}

impl SaslSession for PlainSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthFailure> {
        let mut token = Vec::new();
        token.push(0);
        token.extend_from_slice(self.plain.username.as_bytes());
        token.push(0);
        token.extend_from_slice(self.plain.password.expose().as_bytes());
        Ok(token)
    }

    fn evaluate(&mut self, _challenge: &[u8]) -> Result<Option<Vec<u8>>, AuthFailure> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_rfc_4616() {
        let plain = Plain::new("alice", Password::new("s3cret"));
        let mut session = plain.start().now_or_never().unwrap().unwrap();
        assert_eq!(session.initial_response().unwrap(), b"\0alice\0s3cret");
        assert_eq!(session.evaluate(b"").unwrap(), None);
        assert!(!format!("{plain:?}").contains("s3cret"));
    }
}
