//! EndTxn (key 26), v0–v5: commit or abort the producer's transaction.
//!
//! v1 is the same as v0 (throttling behaviour), v2 allows `PRODUCER_FENCED`, v3 is
//! flexible, v4 allows `TRANSACTION_ABORTABLE`, v5 (KIP-890's transactions V2)
//! bumps the epoch on every EndTxn and returns the new producer id and epoch.
//! v5 is sent only by a producer using transactions V2
//! ([`EndTxnRequest::transaction_v2`]), as the Java client does.

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
    /// Whether the producer uses transactions V2 (KIP-890): only then v5.
    pub transaction_v2: bool,
}

/// The outcome of ending a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndTxnResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
    /// The producer id to use from now on (v5+; -1 before).
    pub producer_id: i64,
    /// The bumped producer epoch to use from now on (v5+; -1 before).
    pub producer_epoch: i16,
}

impl Request for EndTxnRequest {
    const API_KEY: ApiKey = ApiKey::EndTxn;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 5;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = EndTxnResponse;

    /// v5 (transactions V2) only for a producer that uses V2.
    fn max_version(&self) -> i16 {
        if self.transaction_v2 { 5 } else { 4 }
    }

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
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 1
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        EndTxnRequest::prepare_body_decoder(dec, version)?;
        let throttle_time_ms = dec.i32()?;
        let error_code = ErrorCode::from_code(dec.i16()?);
        let (producer_id, producer_epoch) = if version >= 5 {
            (dec.i64()?, dec.i16()?)
        } else {
            (-1, -1)
        };
        let response = EndTxnResponse {
            throttle_time_ms,
            error_code,
            producer_id,
            producer_epoch,
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
        for version in 0..=5 {
            for committed in [true, false] {
                let request = EndTxnRequest {
                    transactional_id: "txn-9".into(),
                    producer_id: 12,
                    producer_epoch: 1,
                    committed,
                    transaction_v2: version == 5,
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
        for version in 0..=5 {
            let their_response = kafka_protocol::messages::EndTxnResponse::default()
                .with_throttle_time_ms(4)
                .with_error_code(ErrorCode::INVALID_TXN_STATE.code())
                .with_producer_id(ProducerId(77))
                .with_producer_epoch(9);
            let bytes = theirs(&their_response, version);
            let v5 = version >= 5;
            assert_eq!(
                decode_response::<EndTxnRequest>(&bytes, version).unwrap(),
                EndTxnResponse {
                    throttle_time_ms: 4,
                    error_code: ErrorCode::INVALID_TXN_STATE,
                    producer_id: if v5 { 77 } else { -1 },
                    producer_epoch: if v5 { 9 } else { -1 },
                }
            );
        }
    }

    #[test]
    fn v5_only_for_transactions_v2() {
        let mut request = EndTxnRequest {
            transactional_id: "t".into(),
            producer_id: 1,
            producer_epoch: 0,
            committed: true,
            transaction_v2: false,
        };
        assert_eq!(request.max_version(), 4);
        request.transaction_v2 = true;
        assert_eq!(request.max_version(), 5);
    }
}
