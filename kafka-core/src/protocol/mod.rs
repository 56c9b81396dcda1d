//! Kafka wire protocol: primitives (framing, varints, compact and tagged fields) apart from messages.
