//! EndTxn (key 26), v0–v3: commit or abort the producer's transaction.
//!
//! v1 is the same as v0 (throttling behaviour), v2 allows `PRODUCER_FENCED`, v3 is
//! flexible. v4 (`TRANSACTION_ABORTABLE`) and v5 (epoch bump on every commit,
//! KIP-890 transaction version 2) are not offered.

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Ends the producer's current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// `true` to commit, `false` to abort.
    pub committed: bool,
}

/// The outcome of ending a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndTxnResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
}

impl Request for EndTxnRequest {
    const API_KEY: ApiKey = ApiKey::EndTxn;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 3;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = EndTxnResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.string(&self.transactional_id)?;
        enc.i64(self.producer_id);
        enc.i16(self.producer_epoch);
        enc.bool(self.committed);
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for EndTxnResponse {
    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        EndTxnRequest::prepare_body_decoder(dec, version)?;
        let response = EndTxnResponse {
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
    use kafka_protocol::messages::{ProducerId, TransactionalId};

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 0..=3 {
            for committed in [true, false] {
                let request = EndTxnRequest {
                    transactional_id: "txn-9".into(),
                    producer_id: 12,
                    producer_epoch: 1,
                    committed,
                };
                let expected = kafka_protocol::messages::EndTxnRequest::default()
                    .with_transactional_id(TransactionalId(str_bytes("txn-9")))
                    .with_producer_id(ProducerId(12))
                    .with_producer_epoch(1)
                    .with_committed(committed);
                assert_eq!(
                    ours(&request, version),
                    theirs(&expected, version),
                    "v{version}"
                );
            }
        }
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 0..=3 {
            let their_response = kafka_protocol::messages::EndTxnResponse::default()
                .with_throttle_time_ms(4)
                .with_error_code(ErrorCode::INVALID_TXN_STATE.code());
            let bytes = theirs(&their_response, version);
            assert_eq!(
                decode_response::<EndTxnRequest>(&bytes, version).unwrap(),
                EndTxnResponse {
                    throttle_time_ms: 4,
                    error_code: ErrorCode::INVALID_TXN_STATE
                }
            );
        }
    }
}
