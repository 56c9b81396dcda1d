//! AddOffsetsToTxn (key 25), v0–v4: tells the transaction coordinator that the
//! transaction will commit offsets of a consumer group (its
//! `__consumer_offsets` partition joins the transaction).
//!
//! v1 is the same as v0 (throttling behaviour), v2 allows `PRODUCER_FENCED`, v3 is
//! flexible, v4 allows `TRANSACTION_ABORTABLE` (KIP-890).

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Adds a consumer group's offsets to the producer's current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOffsetsToTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// The consumer group whose offsets the transaction commits.
    pub group_id: String,
}

/// The coordinator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOffsetsToTxnResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
}

impl Request for AddOffsetsToTxnRequest {
    const API_KEY: ApiKey = ApiKey::AddOffsetsToTxn;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 4;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = AddOffsetsToTxnResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.string(&self.transactional_id)?;
        enc.i64(self.producer_id);
        enc.i16(self.producer_epoch);
        enc.string(&self.group_id)?;
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for AddOffsetsToTxnResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 1
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        AddOffsetsToTxnRequest::prepare_body_decoder(dec, version)?;
        let response = AddOffsetsToTxnResponse {
            throttle_time_ms: dec.i32()?,
            error_code: ErrorCode::from_code(dec.i16()?),
        };
        dec.skip_tagged_fields()?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::{GroupId, ProducerId, TransactionalId};

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 0..=4 {
            let request = AddOffsetsToTxnRequest {
                transactional_id: "txn-9".into(),
                producer_id: 12,
                producer_epoch: 1,
                group_id: "orders-app".into(),
            };
            let expected = kafka_protocol::messages::AddOffsetsToTxnRequest::default()
                .with_transactional_id(TransactionalId(str_bytes("txn-9")))
                .with_producer_id(ProducerId(12))
                .with_producer_epoch(1)
                .with_group_id(GroupId(str_bytes("orders-app")));
            assert_eq!(
                ours(&request, version),
                theirs(&expected, version),
                "v{version}"
            );
        }
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 0..=4 {
            let their_response = kafka_protocol::messages::AddOffsetsToTxnResponse::default()
                .with_throttle_time_ms(4)
                .with_error_code(ErrorCode::GROUP_AUTHORIZATION_FAILED.code());
            let bytes = theirs(&their_response, version);
            assert_eq!(
                decode_response::<AddOffsetsToTxnRequest>(&bytes, version).unwrap(),
                AddOffsetsToTxnResponse {
                    throttle_time_ms: 4,
                    error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED
                }
            );
        }
    }
}
