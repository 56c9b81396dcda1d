//! Typed errors for encoding requests and decoding (untrusted) responses.

use super::api_key::ApiKey;

/// A request could not be encoded.
///
/// Encoding fails only on values the wire format cannot carry (a string longer than
/// its length prefix allows, a field the chosen version does not have): it never
/// reflects a broker's behaviour, so retrying the same request cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message type does not define the requested version.
    #[error("{api:?} version {version} is not supported by this client (supported: {min}..={max})")]
    UnsupportedVersion {
        /// The API being encoded.
        api: ApiKey,
        /// The version asked for.
        version: i16,
        /// Lowest version this client implements.
        min: i16,
        /// Highest version this client implements.
        max: i16,
    },
    /// A field has a non-default value but the chosen version cannot carry it.
    #[error(
        "{api:?} field `{field}` is set but version {version} cannot carry it; use a broker that supports a newer version or leave the field at its default"
    )]
    FieldNotSupported {
        /// The API being encoded.
        api: ApiKey,
        /// The field's name in Kafka's message schema.
        field: &'static str,
        /// The version being encoded.
        version: i16,
    },
    /// A field holds a value that the request does not allow.
    #[error("{api:?} field `{field}` is invalid: {reason}")]
    InvalidField {
        /// The API being encoded.
        api: ApiKey,
        /// The field's name in Kafka's message schema.
        field: &'static str,
        /// Why the value cannot be encoded.
        reason: &'static str,
    },
    /// A string, byte array or array is longer than its length prefix can describe.
    #[error("{what} of length {length} exceeds the maximum of {max} for its length prefix")]
    TooLong {
        /// Kind of value ("string", "bytes", "array", "request frame").
        what: &'static str,
        /// Its length.
        length: usize,
        /// The maximum the encoding allows.
        max: usize,
    },
}

/// Bytes from a broker could not be decoded.
///
/// Every variant names the primitive that failed and the byte offset into the
/// decoded buffer, so a hex dump of the frame pinpoints the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The buffer ended before a value was complete.
    #[error(
        "truncated data: {what} at offset {offset} needs {needed} bytes but only {remaining} remain"
    )]
    UnexpectedEof {
        /// Kind of value being read.
        what: &'static str,
        /// Offset of the value in the buffer.
        offset: usize,
        /// Bytes the value needs.
        needed: usize,
        /// Bytes left in the buffer.
        remaining: usize,
    },
    /// A length prefix is negative (other than the null marker) or impossible.
    #[error("invalid length {length} for {what} at offset {offset}")]
    InvalidLength {
        /// Kind of value being read.
        what: &'static str,
        /// Offset of the length prefix.
        offset: usize,
        /// The length read.
        length: i64,
    },
    /// An array announces more elements than there are bytes left (each element
    /// takes at least one byte), which no valid message does.
    #[error(
        "{what} at offset {offset} announces {count} elements but only {remaining} bytes remain"
    )]
    TooManyElements {
        /// Kind of array being read.
        what: &'static str,
        /// Offset of the count prefix.
        offset: usize,
        /// The element count read.
        count: u64,
        /// Bytes left in the buffer.
        remaining: usize,
    },
    /// A variable-length integer does not terminate within its maximum length.
    #[error("malformed varint for {what} at offset {offset}: longer than {max_bytes} bytes")]
    VarintTooLong {
        /// Kind of value being read.
        what: &'static str,
        /// Offset of the varint.
        offset: usize,
        /// Longest valid encoding.
        max_bytes: usize,
    },
    /// A string is not valid UTF-8.
    #[error("{what} at offset {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// Kind of value being read.
        what: &'static str,
        /// Offset of the string's first byte.
        offset: usize,
    },
    /// A null value where the schema does not allow one.
    #[error("{what} at offset {offset} is null but the schema does not allow null here")]
    UnexpectedNull {
        /// Kind of value being read.
        what: &'static str,
        /// Offset of the length prefix.
        offset: usize,
    },
    /// A boolean byte other than 0 or 1.
    #[error("invalid boolean byte {value} at offset {offset}")]
    InvalidBool {
        /// Offset of the byte.
        offset: usize,
        /// The byte read.
        value: u8,
    },
    /// The message was fully decoded but bytes remain: the broker and this client
    /// disagree on the message layout.
    #[error("{remaining} unexpected trailing bytes after the {api:?} v{version} response body")]
    TrailingBytes {
        /// API of the response.
        api: ApiKey,
        /// Version it was decoded as.
        version: i16,
        /// Bytes left over.
        remaining: usize,
    },
    /// The response type does not define the requested version.
    #[error(
        "{api:?} version {version} cannot be decoded by this client (supported: {min}..={max})"
    )]
    UnsupportedVersion {
        /// API of the response.
        api: ApiKey,
        /// The version asked for.
        version: i16,
        /// Lowest version this client implements.
        min: i16,
        /// Highest version this client implements.
        max: i16,
    },
}
