//! Kafka wire protocol: primitives (framing, varints, compact and tagged fields)
//! apart from messages.
//!
//! - [`primitives`]: [`Encoder`] / [`Decoder`] for Kafka's primitive types; the
//!   decoder treats its input as untrusted (typed errors, no unchecked allocation).
//! - [`header`]: request header v1/v2, response header v0/v1.
//! - [`Request`] / [`Response`]: what every message implements;
//!   [`encode_request_frame`] builds a size-prefixed frame, [`decode_response`]
//!   decodes a body.
//! - [`messages`]: ApiVersions, Metadata, Produce, InitProducerId,
//!   FindCoordinator, AddPartitionsToTxn, EndTxn.
//! - [`ApiKey`] and [`ErrorCode`] (every code of the Java client's `Errors`,
//!   with its retriable flag).

pub mod api_key;
pub mod codec_error;
pub mod error_code;
pub mod header;
pub mod messages;
pub mod primitives;
pub mod request;
pub mod splices;

pub use api_key::ApiKey;
pub use codec_error::{DecodeError, EncodeError};
pub use error_code::{ERROR_TABLE, ErrorCode, ErrorInfo};
pub use header::{RequestHeader, ResponseHeader};
pub use primitives::{Decoder, Encoder, Uuid};
pub use request::{
    Request, Response, decode_response, encode_request_frame, encode_request_frame_spliced,
};
pub use splices::Splices;
