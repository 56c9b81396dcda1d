//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), as Kafka speaks them:
//! no channel binding (`n,,`), user names escaped (`=2C`, `=3D`), the password
//! used as UTF-8 without SASLprep (as Kafka's `ScramFormatter`), at least 4096
//! iterations, and the server's signature verified before the exchange counts as
//! done. The crypto (PBKDF2, HMAC, SHA-2, random nonce) is *ring*'s, which TLS
//! already uses.

use std::fmt;
use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::future::{BoxFuture, FutureExt};
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};

use super::jaas::JaasConfig;
use super::{AuthFailure, SaslMechanism, SaslSession};
use crate::config::Password;

/// Kafka's lowest accepted iteration count (`ScramMechanism.minIterations`).
const MIN_ITERATIONS: u32 = 4096;
/// Refuse absurd counts a hostile server could use to burn CPU.
const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    fn name(self) -> &'static str {
        match self {
            ScramHash::Sha256 => "SCRAM-SHA-256",
            ScramHash::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramHash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramHash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramHash::Sha256 => hmac::HMAC_SHA256,
            ScramHash::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramHash::Sha256 => &digest::SHA256,
            ScramHash::Sha512 => &digest::SHA512,
        }
    }

    fn len(self) -> usize {
        match self {
            ScramHash::Sha256 => 32,
            ScramHash::Sha512 => 64,
        }
    }
}

/// SCRAM with a user name and password (`ScramLoginModule`'s options).
#[derive(Clone)]
pub struct Scram {
    hash: ScramHash,
    username: String,
    password: Password,
    /// `tokenauth=true`: the credentials are a delegation token.
    token_auth: bool,
}

impl fmt::Debug for Scram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scram")
            .field("mechanism", &self.hash.name())
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

impl Scram {
    /// SCRAM with `hash` as `username`.
    pub fn new(hash: ScramHash, username: impl Into<String>, password: Password) -> Self {
        Scram {
            hash,
            username: username.into(),
            password,
            token_auth: false,
        }
    }

    pub(crate) fn from_jaas(hash: ScramHash, jaas: &JaasConfig) -> Result<Self, String> {
        let mut scram = Scram::new(
            hash,
            jaas.required("username")?,
            Password::new(jaas.required("password")?),
        );
        scram.token_auth = jaas
            .option("tokenauth")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(scram)
    }

    fn session(&self, nonce: String) -> ScramSession {
        ScramSession {
            scram: self.clone(),
            client_nonce: nonce,
            state: State::Initial,
        }
    }
}

impl SaslMechanism for Scram {
    fn name(&self) -> &str {
        self.hash.name()
    }

    fn principal(&self) -> String {
        self.username.clone()
    }

    fn start(&self) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthFailure>> {
        let mut bytes = [0u8; 24];
        let nonce = ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map(|()| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
            .map_err(|_| AuthFailure::Protocol("no random source for the SCRAM nonce".into()));
        let session = nonce.map(|n| Box::new(self.session(n)) as Box<dyn SaslSession>);
        async move { session }.boxed()
    }
}

enum State {
    Initial,
    SentClientFirst { client_first_bare: String },
    SentClientFinal { server_signature: Vec<u8> },
    Done,
}

struct ScramSession {
    scram: Scram,
    client_nonce: String,
    state: State,
}

/// RFC 5802 `saslname`: `=` and `,` escaped.
fn sasl_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn protocol(what: impl Into<String>) -> AuthFailure {
    AuthFailure::Protocol(what.into())
}

impl ScramSession {
    fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        let State::SentClientFirst { client_first_bare } = &self.state else {
            return Err(protocol("SCRAM message out of order"));
        };
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| protocol("the SCRAM server-first message is not UTF-8"))?;
        if let Some(error) = server_first.strip_prefix("e=") {
            return Err(AuthFailure::Rejected {
                message: Some(error.to_owned()),
            });
        }
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("m", _)) => {
                    return Err(protocol("the server asks for a SCRAM extension (m=)"));
                }
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(protocol(
                "the SCRAM server-first message lacks the nonce, salt or iteration count",
            ));
        };
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(protocol(
                "the SCRAM server nonce does not extend the client's",
            ));
        }
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| protocol("the SCRAM salt is not base64"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| protocol("the SCRAM iteration count is not a number"))?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(protocol(format!(
                "the SCRAM iteration count {iterations} is outside {MIN_ITERATIONS}..={MAX_ITERATIONS}"
            )));
        }
        let hash = self.scram.hash;
        let mut salted = vec![0u8; hash.len()];
        pbkdf2::derive(
            hash.pbkdf2(),
            NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN),
            &salt,
            self.scram.password.expose().as_bytes(),
            &mut salted,
        );
        let salted_key = hmac::Key::new(hash.hmac(), &salted);
        let client_key = hmac::sign(&salted_key, b"Client Key");
        let stored_key = digest::digest(hash.digest(), client_key.as_ref());
        let without_proof = format!("c={},r={nonce}", STANDARD.encode(b"n,,"));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let client_signature = hmac::sign(
            &hmac::Key::new(hash.hmac(), stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let proof: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(client_signature.as_ref())
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac::sign(&salted_key, b"Server Key");
        let server_signature = hmac::sign(
            &hmac::Key::new(hash.hmac(), server_key.as_ref()),
            auth_message.as_bytes(),
        );
        self.state = State::SentClientFinal {
            server_signature: server_signature.as_ref().to_vec(),
        };
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)).into_bytes())
    }

    fn verify_server_final(&mut self, server_final: &[u8]) -> Result<(), AuthFailure> {
        let State::SentClientFinal { server_signature } = &self.state else {
            return Err(protocol("SCRAM message out of order"));
        };
        let server_final = std::str::from_utf8(server_final)
            .map_err(|_| protocol("the SCRAM server-final message is not UTF-8"))?;
        if let Some(error) = server_final.strip_prefix("e=") {
            return Err(AuthFailure::Rejected {
                message: Some(error.to_owned()),
            });
        }
        let verifier = server_final
            .split(',')
            .find_map(|a| a.strip_prefix("v="))
            .ok_or_else(|| protocol("the SCRAM server-final message has no verifier"))?;
        let received = STANDARD
            .decode(verifier)
            .map_err(|_| protocol("the SCRAM server signature is not base64"))?;
        // Constant time: the comparison must not tell how much matched.
        let same = received.len() == server_signature.len()
            && received
                .iter()
                .zip(server_signature)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(AuthFailure::ServerSignatureMismatch);
        }
        self.state = State::Done;
        Ok(())
    }
}

impl SaslSession for ScramSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthFailure> {
        let mut bare = format!(
            "n={},r={}",
            sasl_name(&self.scram.username),
            self.client_nonce
        );
        if self.scram.token_auth {
            bare.push_str(",tokenauth=true");
        }
        let first = format!("n,,{bare}");
        self.state = State::SentClientFirst {
            client_first_bare: bare,
        };
        Ok(first.into_bytes())
    }

    fn evaluate(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, AuthFailure> {
        match self.state {
            State::SentClientFirst { .. } => self.client_final(challenge).map(Some),
            State::SentClientFinal { .. } => self.verify_server_final(challenge).map(|()| None),
            State::Initial | State::Done => Err(protocol("unexpected SCRAM message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
    #[test]
    fn rfc_7677_example() {
        let scram = Scram::new(ScramHash::Sha256, "user", Password::new("pencil"));
        let mut session = scram.session("rOprNGfwEbeRWgbNEkqO".to_owned());
        assert_eq!(
            session.initial_response().unwrap(),
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        );
        let client_final = session
            .evaluate(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(client_final).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            session
                .evaluate(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_wrong_server_signature_fails() {
        let scram = Scram::new(ScramHash::Sha256, "user", Password::new("pencil"));
        let mut session = scram.session("rOprNGfwEbeRWgbNEkqO".to_owned());
        session.initial_response().unwrap();
        session
            .evaluate(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap();
        assert!(matches!(
            session.evaluate(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(AuthFailure::ServerSignatureMismatch)
        ));
    }

    #[test]
    fn hostile_server_first_messages_are_refused() {
        let scram = Scram::new(ScramHash::Sha512, "a,b=c", Password::new("x"));
        for bad in [
            &b"r=other-nonce-entirely,s=AAAA,i=4096"[..],
            b"r=abcXYZ,s=AAAA,i=1",
            b"r=abcXYZ,s=AAAA,i=99999999999",
            b"r=abcXYZ,s=!!!,i=4096",
            b"r=abc,s=AAAA,i=4096",
            b"r=abcXYZ,i=4096",
            b"\xff\xfe",
            b"e=invalid-proof",
        ] {
            let mut session = scram.session("abc".to_owned());
            let first = session.initial_response().unwrap();
            assert_eq!(first, b"n,,n=a=2Cb=3Dc,r=abc");
            assert!(
                session.evaluate(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
