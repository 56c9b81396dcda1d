//! Connections to brokers: framing, correlation ids, pipelining, ApiVersions
//! negotiation.
//!
//! A [`BrokerConnection`] is one TCP connection to one broker. It negotiates API
//! versions when it connects, then carries any number of concurrent requests:
//! [`BrokerConnection::send`] writes a request and returns a [`PendingResponse`]
//! that resolves when the matching response arrives, so a caller can keep
//! several requests in flight (the producer keeps up to
//! `max.in.flight.requests.per.connection`).
//!
//! ```no_run
//! use std::time::Duration;
//! use kafka_core::network::{BrokerConnection, ConnectionOptions};
//! use kafka_core::protocol::messages::MetadataRequest;
//!
//! # async fn example() -> Result<(), kafka_core::network::NetworkError> {
//! let connection = BrokerConnection::connect("localhost:9092", &ConnectionOptions::default()).await?;
//! let metadata = connection
//!     .call(&MetadataRequest::for_topics(["orders"]), Duration::from_secs(30))
//!     .await?;
//! for broker in &metadata.brokers {
//!     println!("{} at {}:{}", broker.node_id, broker.host, broker.port);
//! }
//! # Ok(())
//! # }
//! ```

mod connection;
mod error;
mod reader;
pub mod sasl;
mod shared;
mod throttle;
pub mod tls;
mod versions;

use std::fmt;
use std::sync::Arc;

pub use connection::{BrokerConnection, ConnectionOptions, PendingResponse};
pub use error::{DisconnectReason, NetworkError};
pub use sasl::AuthFailure;
pub use tls::TlsFailure;
pub use versions::BrokerApiVersions;
pub(crate) use throttle::ThrottleLog;

#[cfg(test)]
mod fake_broker_tests;

/// `security.protocol`: how connections to brokers are secured (Java's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    /// No TLS, no authentication (the default).
    #[default]
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL authentication without TLS.
    SaslPlaintext,
    /// SASL authentication over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// Whether connections use TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether connections authenticate with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    /// The Java name.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a connection needs for TLS and SASL: nothing for PLAINTEXT (the
/// default). Built from a producer's settings by its
/// [`SecurityConfig`](crate::config::SecurityConfig).
#[derive(Clone, Debug, Default)]
pub struct ConnectionSecurity {
    /// TLS client configuration, for SSL and SASL_SSL.
    pub tls: Option<Arc<tls::TlsConnector>>,
    /// SASL mechanism and credentials, for SASL_PLAINTEXT and SASL_SSL.
    pub sasl: Option<Arc<sasl::SaslConfig>>,
}

impl PartialEq for ConnectionSecurity {
    /// The same loaded configurations (by identity).
    fn eq(&self, other: &Self) -> bool {
        fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        same(&self.tls, &other.tls) && same(&self.sasl, &other.sasl)
    }
}

impl Eq for ConnectionSecurity {}
