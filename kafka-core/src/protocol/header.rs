//! Request and response headers.
//!
//! Request header v1 is `api_key, api_version, correlation_id, client_id`; v2 (used
//! by flexible request versions) appends a tagged-field section. `client_id` stays
//! a classic nullable string in both. Response header v0 is the correlation id; v1
//! (flexible responses) appends tagged fields. ApiVersions responses always use
//! header v0 so that a client can read them before it knows what the broker speaks.

use bytes::BytesMut;

use super::api_key::ApiKey;
use super::codec_error::{DecodeError, EncodeError};
use super::primitives::{Decoder, Encoder};

/// The header in front of every request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// The API being called.
    pub api_key: ApiKey,
    /// The version of the request body.
    pub api_version: i16,
    /// Echoed back by the broker in the response header.
    pub correlation_id: i32,
    /// Identifies this client in broker logs and quotas.
    pub client_id: Option<&'a str>,
}

impl RequestHeader<'_> {
    /// Encode as header version 1 (`flexible == false`) or 2 (`flexible == true`).
    pub fn encode(&self, buf: &mut BytesMut, flexible: bool) -> Result<(), EncodeError> {
        // client_id is a classic nullable string even in header v2.
        let mut enc = Encoder::new(buf, false);
        enc.i16(self.api_key.code());
        enc.i16(self.api_version);
        enc.i32(self.correlation_id);
        enc.nullable_string(self.client_id)?;
        if flexible {
            Encoder::new(buf, true).empty_tagged_fields();
        }
        Ok(())
    }
}

/// The header in front of every response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHeader {
    /// The correlation id of the request this answers.
    pub correlation_id: i32,
}

impl ResponseHeader {
    /// Decode header version 0 (`flexible == false`) or 1 (`flexible == true`,
    /// tagged fields skipped), leaving `dec` at the start of the body.
    pub fn decode(dec: &mut Decoder<'_>, flexible: bool) -> Result<Self, DecodeError> {
        dec.set_flexible(flexible);
        let correlation_id = dec.i32()?;
        dec.skip_tagged_fields()?;
        Ok(ResponseHeader { correlation_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_header_v1_and_v2_bytes() {
        let header = RequestHeader {
            api_key: ApiKey::Metadata,
            api_version: 12,
            correlation_id: 7,
            client_id: Some("ab"),
        };
        let mut v1 = BytesMut::new();
        header.encode(&mut v1, false).unwrap();
        assert_eq!(&v1[..], &[0, 3, 0, 12, 0, 0, 0, 7, 0, 2, b'a', b'b']);
        let mut v2 = BytesMut::new();
        header.encode(&mut v2, true).unwrap();
        assert_eq!(&v2[..], &[0, 3, 0, 12, 0, 0, 0, 7, 0, 2, b'a', b'b', 0]);
        let mut null_client = BytesMut::new();
        RequestHeader {
            client_id: None,
            ..header
        }
        .encode(&mut null_client, false)
        .unwrap();
        assert_eq!(&null_client[8..], &[0xff, 0xff]);
    }

    #[test]
    fn request_header_matches_kafka_protocol_crate() {
        use kafka_protocol::messages::RequestHeader as Theirs;
        use kafka_protocol::protocol::{Encodable, StrBytes};
        for (version, flexible) in [(1, false), (2, true)] {
            let theirs = Theirs::default()
                .with_request_api_key(0)
                .with_request_api_version(9)
                .with_correlation_id(123_456)
                .with_client_id(Some(StrBytes::from_static_str("producer-1")));
            let mut expected = BytesMut::new();
            theirs.encode(&mut expected, version).unwrap();
            let mut ours = BytesMut::new();
            RequestHeader {
                api_key: ApiKey::Produce,
                api_version: 9,
                correlation_id: 123_456,
                client_id: Some("producer-1"),
            }
            .encode(&mut ours, flexible)
            .unwrap();
            assert_eq!(ours, expected, "header v{version}");
        }
    }

    #[test]
    fn response_headers() {
        let v0 = [0, 0, 1, 0, 0xee];
        let mut dec = Decoder::new(&v0, false);
        assert_eq!(
            ResponseHeader::decode(&mut dec, false)
                .unwrap()
                .correlation_id,
            256
        );
        assert_eq!(dec.remaining(), 1);
        let v1 = [0, 0, 0, 9, 1, 3, 1, 0xaa, 0xee];
        let mut dec = Decoder::new(&v1, false);
        assert_eq!(
            ResponseHeader::decode(&mut dec, true)
                .unwrap()
                .correlation_id,
            9
        );
        assert_eq!(dec.remaining(), 1);
        assert!(ResponseHeader::decode(&mut Decoder::new(&[0, 0], false), false).is_err());
    }
}
