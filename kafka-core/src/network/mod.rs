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
mod shared;
mod versions;

pub use connection::{BrokerConnection, ConnectionOptions, PendingResponse};
pub use error::{DisconnectReason, NetworkError};
pub use versions::BrokerApiVersions;

#[cfg(test)]
mod fake_broker_tests;
