//! What can go wrong on a broker connection, and whether retrying can help.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::sasl::AuthFailure;
use super::tls::TlsFailure;
use crate::protocol::{ApiKey, DecodeError, EncodeError, ErrorCode};

/// Why a connection was closed; every request pending on it fails with
/// [`NetworkError::Disconnected`] carrying this reason.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The broker closed the connection.
    #[error("the broker closed the connection")]
    Eof,
    /// Reading or writing the socket failed.
    #[error("I/O error: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The producer closed the connection (`BrokerConnection::close`) or
    /// dropped it.
    #[error("closed by the client")]
    ClosedByClient,
    /// A request timed out; the connection is closed so that its late response
    /// can never be matched to another request (as the Java client does).
    #[error("{api} request with correlation id {correlation_id} timed out after {timeout:?}")]
    RequestTimedOut {
        /// API of the request that timed out.
        api: ApiKey,
        /// Its correlation id.
        correlation_id: i32,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// A `send` was abandoned (its future dropped) part-way through writing a
    /// frame, so the stream can no longer be parsed by the broker.
    #[error("a request write was cancelled part-way through")]
    WriteCancelled,
    /// The broker announced a frame larger than `max_response_size`, or a
    /// negative or too-short size: not a Kafka response (or a misconfigured limit).
    #[error("invalid response frame size {size} (allowed: 4..={max} bytes)")]
    InvalidFrameSize {
        /// The size prefix read.
        size: i64,
        /// The configured maximum.
        max: usize,
    },
    /// Re-authenticating the SASL session (KIP-368) failed.
    #[error("re-authentication failed: {0}")]
    ReauthenticationFailed(String),
    /// The broker broke the protocol (unknown or out-of-order correlation id,
    /// malformed response header).
    #[error("protocol violation: {0}")]
    ProtocolViolation(String),
}

/// An error from a connection to a broker (`BrokerConnection`).
///
/// Every variant names the broker address. Nothing secret is ever stored here
/// (credentials stay out of errors and `Debug` output).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The address is not `host:port`.
    #[error("invalid broker address {address:?}: expected host:port, for example localhost:9092")]
    InvalidAddress {
        /// The address given.
        address: String,
    },
    /// The TCP connection could not be established (refused, unreachable,
    /// unresolvable host).
    #[error("cannot connect to broker {address}: {source}")]
    Connect {
        /// The broker address.
        address: String,
        /// The operating system's error.
        #[source]
        source: Arc<io::Error>,
    },
    /// Connecting (TCP plus ApiVersions negotiation) took longer than the
    /// configured `connect_timeout`.
    #[error("connecting to broker {address} timed out after {timeout:?}")]
    ConnectTimeout {
        /// The broker address.
        address: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// The connection is closed (or was closed while the request was pending).
    #[error("connection to broker {address} closed: {reason}")]
    Disconnected {
        /// The broker address.
        address: String,
        /// Why it closed.
        reason: DisconnectReason,
    },
    /// No response arrived within the timeout; the connection has been closed.
    #[error(
        "{api} request (correlation id {correlation_id}) to broker {address} timed out after {timeout:?}"
    )]
    RequestTimeout {
        /// The broker address.
        address: String,
        /// API of the request.
        api: ApiKey,
        /// Its correlation id.
        correlation_id: i32,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The broker and this client share no version of an API.
    #[error(
        "broker {address} supports no {api} version this client implements (client: {client_min}..={client_max}, broker: {})",
        match broker_range { Some((min, max)) => format!("{min}..={max}"), None => "API not offered".to_owned() }
    )]
    UnsupportedVersion {
        /// The broker address.
        address: String,
        /// The API.
        api: ApiKey,
        /// Lowest version this client implements.
        client_min: i16,
        /// Highest version this client implements.
        client_max: i16,
        /// The broker's range, `None` if it does not offer the API at all.
        broker_range: Option<(i16, i16)>,
    },
    /// The broker refused the ApiVersions handshake.
    #[error("broker {address} rejected the ApiVersions request: {error_code}")]
    ApiVersionsRejected {
        /// The broker address.
        address: String,
        /// The broker's error.
        error_code: ErrorCode,
    },
    /// The TLS handshake failed (untrusted or mismatching certificate, a broker
    /// requiring a client certificate, a listener that does not speak TLS).
    #[error("TLS connection to broker {address} failed: {reason}")]
    Tls {
        /// The broker address.
        address: String,
        /// Why.
        reason: TlsFailure,
    },
    /// SASL authentication failed; not retriable: the credentials, the mechanism
    /// or the listener must change.
    #[error(
        "SASL authentication with {mechanism} as '{principal}' to broker {address} failed: {reason}"
    )]
    Authentication {
        /// The broker address.
        address: String,
        /// The SASL mechanism.
        mechanism: String,
        /// Who tried to authenticate (user name, client id), never a secret.
        principal: String,
        /// Why.
        reason: AuthFailure,
    },
    /// The request could not be encoded (a bug or an invalid field; nothing was sent).
    #[error("cannot encode {api} request for broker {address}: {source}")]
    Encode {
        /// The broker address.
        address: String,
        /// API of the request.
        api: ApiKey,
        /// What was wrong.
        #[source]
        source: EncodeError,
    },
    /// The response could not be decoded (the broker and this client disagree
    /// on the message layout). The connection stays usable.
    #[error("cannot decode {api} v{version} response from broker {address}: {source}")]
    Decode {
        /// The broker address.
        address: String,
        /// API of the response.
        api: ApiKey,
        /// Version it was decoded as.
        version: i16,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
}

impl NetworkError {
    /// Whether the operation may succeed if retried (on a new connection):
    /// connection failures, disconnects and timeouts are retriable; version
    /// mismatches, encoding and decoding errors are not.
    pub fn is_retriable(&self) -> bool {
        match self {
            NetworkError::Connect { .. }
            | NetworkError::ConnectTimeout { .. }
            | NetworkError::Disconnected { .. }
            | NetworkError::RequestTimeout { .. } => true,
            NetworkError::ApiVersionsRejected { error_code, .. } => error_code.is_retriable(),
            NetworkError::Tls { reason, .. } => reason.is_retriable(),
            NetworkError::Authentication { .. } => false,
            NetworkError::InvalidAddress { .. }
            | NetworkError::UnsupportedVersion { .. }
            | NetworkError::Encode { .. }
            | NetworkError::Decode { .. } => false,
        }
    }

    /// The broker address the error concerns.
    pub fn address(&self) -> &str {
        match self {
            NetworkError::InvalidAddress { address }
            | NetworkError::Connect { address, .. }
            | NetworkError::ConnectTimeout { address, .. }
            | NetworkError::Disconnected { address, .. }
            | NetworkError::RequestTimeout { address, .. }
            | NetworkError::UnsupportedVersion { address, .. }
            | NetworkError::ApiVersionsRejected { address, .. }
            | NetworkError::Tls { address, .. }
            | NetworkError::Authentication { address, .. }
            | NetworkError::Encode { address, .. }
            | NetworkError::Decode { address, .. } => address,
        }
    }

    /// Whether this is a failure to authenticate (SASL, or TLS certificates) that
    /// a new attempt with the same configuration cannot fix: the producer reports
    /// it to `send` at once instead of waiting for `max.block.ms`.
    pub fn is_authentication_failure(&self) -> bool {
        match self {
            NetworkError::Authentication { .. } => true,
            NetworkError::Tls { reason, .. } => !reason.is_retriable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retriability_and_messages() {
        let address = "b:9092".to_owned();
        let refused = NetworkError::Connect {
            address: address.clone(),
            source: Arc::new(io::Error::from(io::ErrorKind::ConnectionRefused)),
        };
        assert!(refused.is_retriable());
        assert!(refused.to_string().contains("b:9092"));
        let unsupported = NetworkError::UnsupportedVersion {
            address: address.clone(),
            api: ApiKey::Produce,
            client_min: 3,
            client_max: 11,
            broker_range: Some((0, 2)),
        };
        assert!(!unsupported.is_retriable());
        assert_eq!(
            unsupported.to_string(),
            "broker b:9092 supports no Produce version this client implements (client: 3..=11, broker: 0..=2)"
        );
        let rejected = NetworkError::ApiVersionsRejected {
            address: address.clone(),
            error_code: ErrorCode::INVALID_REQUEST,
        };
        assert!(!rejected.is_retriable());
        let gone = NetworkError::Disconnected {
            address,
            reason: DisconnectReason::Eof,
        };
        assert!(gone.is_retriable());
        assert_eq!(gone.address(), "b:9092");
    }
}
