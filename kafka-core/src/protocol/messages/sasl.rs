//! SaslHandshake (key 17), v1, and SaslAuthenticate (key 36), v0–v2: the SASL
//! exchange that opens a `SASL_PLAINTEXT` / `SASL_SSL` connection.
//!
//! SaslHandshake v0 (raw SASL tokens without Kafka framing, Kafka before 1.0) is
//! not offered: v1 announces that the tokens travel in SaslAuthenticate requests.
//! SaslAuthenticate v1 adds the session lifetime (KIP-368 re-authentication), v2
//! is flexible. The tokens are secrets (a PLAIN token holds the password), so
//! `Debug` shows only their length.

use std::fmt;

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Asks the broker to use a SASL mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeRequest {
    /// The mechanism name, e.g. `SCRAM-SHA-512`.
    pub mechanism: String,
}

/// The broker's answer: `UNSUPPORTED_SASL_MECHANISM` lists what it enables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeResponse {
    /// `NONE` when the mechanism is enabled.
    pub error_code: ErrorCode,
    /// The mechanisms the listener enables.
    pub mechanisms: Vec<String>,
}

impl Request for SaslHandshakeRequest {
    const API_KEY: ApiKey = ApiKey::SaslHandshake;
    const MIN_VERSION: i16 = 1;
    const MAX_VERSION: i16 = 1;
    const FLEXIBLE_FROM: i16 = i16::MAX;
    type Response = SaslHandshakeResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.string(&self.mechanism)?;
        Ok(())
    }
}

impl Response for SaslHandshakeResponse {
    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        SaslHandshakeRequest::prepare_body_decoder(dec, version)?;
        Ok(SaslHandshakeResponse {
            error_code: ErrorCode::from_code(dec.i16()?),
            mechanisms: dec.string_array()?,
        })
    }
}

/// One SASL token from the client.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslAuthenticateRequest {
    /// The token (secret).
    pub auth_bytes: Vec<u8>,
}

impl fmt::Debug for SaslAuthenticateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticateRequest")
            .field(
                "auth_bytes",
                &format_args!("[{} bytes]", self.auth_bytes.len()),
            )
            .finish()
    }
}

/// The broker's SASL token, or why authentication failed.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslAuthenticateResponse {
    /// `NONE`, or `SASL_AUTHENTICATION_FAILED` and others.
    pub error_code: ErrorCode,
    /// The broker's explanation of a failure.
    pub error_message: Option<String>,
    /// The broker's token.
    pub auth_bytes: Vec<u8>,
    /// v1+: milliseconds until the session must re-authenticate (KIP-368); 0 when
    /// the broker sets no limit.
    pub session_lifetime_ms: i64,
}

impl fmt::Debug for SaslAuthenticateResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticateResponse")
            .field("error_code", &self.error_code)
            .field("error_message", &self.error_message)
            .field(
                "auth_bytes",
                &format_args!("[{} bytes]", self.auth_bytes.len()),
            )
            .field("session_lifetime_ms", &self.session_lifetime_ms)
            .finish()
    }
}

impl Request for SaslAuthenticateRequest {
    const API_KEY: ApiKey = ApiKey::SaslAuthenticate;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 2;
    const FLEXIBLE_FROM: i16 = 2;
    type Response = SaslAuthenticateResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.bytes(&self.auth_bytes)?;
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for SaslAuthenticateResponse {
    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        SaslAuthenticateRequest::prepare_body_decoder(dec, version)?;
        let error_code = ErrorCode::from_code(dec.i16()?);
        let error_message = dec.nullable_string()?;
        let auth_bytes = dec.bytes()?.to_vec();
        let session_lifetime_ms = if version >= 1 { dec.i64()? } else { 0 };
        dec.skip_tagged_fields()?;
        Ok(SaslAuthenticateResponse {
            error_code,
            error_message,
            auth_bytes,
            session_lifetime_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;

    #[test]
    fn handshake_matches_kafka_protocol() {
        let request = SaslHandshakeRequest {
            mechanism: "SCRAM-SHA-512".into(),
        };
        let expected = kafka_protocol::messages::SaslHandshakeRequest::default()
            .with_mechanism(str_bytes("SCRAM-SHA-512"));
        assert_eq!(ours(&request, 1), theirs(&expected, 1));
        let response = kafka_protocol::messages::SaslHandshakeResponse::default()
            .with_error_code(ErrorCode::UNSUPPORTED_SASL_MECHANISM.code())
            .with_mechanisms(vec![str_bytes("PLAIN"), str_bytes("SCRAM-SHA-256")]);
        assert_eq!(
            decode_response::<SaslHandshakeRequest>(&theirs(&response, 1), 1).unwrap(),
            SaslHandshakeResponse {
                error_code: ErrorCode::UNSUPPORTED_SASL_MECHANISM,
                mechanisms: vec!["PLAIN".into(), "SCRAM-SHA-256".into()],
            }
        );
    }

    #[test]
    fn authenticate_matches_kafka_protocol_at_every_version() {
        for version in 0..=2 {
            let request = SaslAuthenticateRequest {
                auth_bytes: b"\0alice\0secret".to_vec(),
            };
            let expected = kafka_protocol::messages::SaslAuthenticateRequest::default()
                .with_auth_bytes(bytes::Bytes::from_static(b"\0alice\0secret"));
            assert_eq!(
                ours(&request, version),
                theirs(&expected, version),
                "v{version}"
            );
            assert!(!format!("{request:?}").contains("secret"));

            let response = kafka_protocol::messages::SaslAuthenticateResponse::default()
                .with_error_code(ErrorCode::SASL_AUTHENTICATION_FAILED.code())
                .with_error_message(Some(str_bytes("bad password")))
                .with_auth_bytes(bytes::Bytes::from_static(b"v=abc"))
                .with_session_lifetime_ms(10_000);
            let decoded =
                decode_response::<SaslAuthenticateRequest>(&theirs(&response, version), version)
                    .unwrap();
            assert_eq!(decoded.error_code, ErrorCode::SASL_AUTHENTICATION_FAILED);
            assert_eq!(decoded.error_message.as_deref(), Some("bad password"));
            assert_eq!(decoded.auth_bytes, b"v=abc");
            assert_eq!(
                decoded.session_lifetime_ms,
                if version >= 1 { 10_000 } else { 0 }
            );
        }
    }

    #[test]
    fn truncated_responses_are_errors_not_panics() {
        let response = kafka_protocol::messages::SaslAuthenticateResponse::default()
            .with_auth_bytes(bytes::Bytes::from_static(b"server-final"))
            .with_session_lifetime_ms(1);
        for version in 0..=2 {
            let bytes = theirs(&response, version);
            for cut in 0..bytes.len() {
                assert!(
                    decode_response::<SaslAuthenticateRequest>(&bytes[..cut], version).is_err()
                );
            }
        }
    }
}
