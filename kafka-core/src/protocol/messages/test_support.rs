//! Test helpers: byte fixtures from the independent `kafka-protocol` crate.

use bytes::BytesMut;

use crate::protocol::request::Request;

/// Our encoding of a request body at `version`.
pub(crate) fn ours<R: Request>(request: &R, version: i16) -> BytesMut {
    let mut buf = BytesMut::new();
    request.encode(&mut buf, version).expect("our encoding");
    buf
}

/// The `kafka-protocol` crate's encoding of a message body at `version`.
pub(crate) fn theirs<T: kafka_protocol::protocol::Encodable>(
    message: &T,
    version: i16,
) -> BytesMut {
    let mut buf = BytesMut::new();
    message
        .encode(&mut buf, version)
        .expect("kafka-protocol encoding");
    buf
}

/// A `kafka-protocol` string.
pub(crate) fn str_bytes(value: &str) -> kafka_protocol::protocol::StrBytes {
    kafka_protocol::protocol::StrBytes::from_string(value.to_owned())
}
