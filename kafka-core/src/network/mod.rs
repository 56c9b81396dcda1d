//! Connections to brokers: framing, correlation ids, pipelining, ApiVersions negotiation.
