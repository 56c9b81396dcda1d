//! InitProducerId (key 22), v0–v5: obtain a producer id and epoch for idempotent
//! or transactional producing.
//!
//! v1 and v2 are the same as v0 except v2 is flexible; v3 sends the current
//! producer id and epoch so a producer can bump its epoch after a fatal error
//! without losing its id (KIP-360); v4 allows `PRODUCER_FENCED`; v5 is for
//! transaction version 2 clients (KIP-890).

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Asks for a producer id (or an epoch bump of an existing one).
///
/// ```
/// use kafka_core::protocol::messages::InitProducerIdRequest;
/// let idempotent = InitProducerIdRequest::idempotent();
/// assert_eq!(idempotent.transactional_id, None);
/// assert_eq!(idempotent.producer_id, -1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// The transactional id; `None` for an idempotent-only producer.
    pub transactional_id: Option<String>,
    /// Transaction timeout in milliseconds (only meaningful with a transactional id).
    pub transaction_timeout_ms: i32,
    /// v3+: the current producer id, or -1 to get a new one. Must be -1 below v3.
    pub producer_id: i64,
    /// v3+: the current epoch, or -1. Must be -1 below v3.
    pub producer_epoch: i16,
}

impl InitProducerIdRequest {
    /// A request for a fresh producer id for an idempotent (non-transactional) producer.
    pub fn idempotent() -> Self {
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: i32::MAX,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

/// The assigned producer id and epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
}

impl Request for InitProducerIdRequest {
    const API_KEY: ApiKey = ApiKey::InitProducerId;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 5;
    const FLEXIBLE_FROM: i16 = 2;
    type Response = InitProducerIdResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        if version < 3 {
            // The Java client refuses these too: the broker would silently ignore them.
            if self.producer_id != -1 {
                return Err(EncodeError::FieldNotSupported {
                    api: Self::API_KEY,
                    field: "ProducerId",
                    version,
                });
            }
            if self.producer_epoch != -1 {
                return Err(EncodeError::FieldNotSupported {
                    api: Self::API_KEY,
                    field: "ProducerEpoch",
                    version,
                });
            }
        }
        let mut enc = Self::body_encoder(buf, version)?;
        enc.nullable_string(self.transactional_id.as_deref())?;
        enc.i32(self.transaction_timeout_ms);
        if version >= 3 {
            enc.i64(self.producer_id);
            enc.i16(self.producer_epoch);
        }
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for InitProducerIdResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 1
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        InitProducerIdRequest::prepare_body_decoder(dec, version)?;
        let response = InitProducerIdResponse {
            throttle_time_ms: dec.i32()?,
            error_code: ErrorCode::from_code(dec.i16()?),
            producer_id: dec.i64()?,
            producer_epoch: dec.i16()?,
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
            for transactional_id in [None, Some("txn-a")] {
                let (producer_id, producer_epoch) = if version >= 3 { (77, 4) } else { (-1, -1) };
                let request = InitProducerIdRequest {
                    transactional_id: transactional_id.map(str::to_owned),
                    transaction_timeout_ms: 60_000,
                    producer_id,
                    producer_epoch,
                };
                let expected = kafka_protocol::messages::InitProducerIdRequest::default()
                    .with_transactional_id(
                        transactional_id.map(|id| TransactionalId(str_bytes(id))),
                    )
                    .with_transaction_timeout_ms(60_000)
                    .with_producer_id(ProducerId(producer_id))
                    .with_producer_epoch(producer_epoch);
                assert_eq!(
                    ours(&request, version),
                    theirs(&expected, version),
                    "v{version}"
                );
            }
        }
    }

    #[test]
    fn producer_id_below_v3_is_refused() {
        let request = InitProducerIdRequest {
            producer_id: 5,
            ..InitProducerIdRequest::idempotent()
        };
        let mut buf = BytesMut::new();
        assert!(matches!(
            request.encode(&mut buf, 2),
            Err(EncodeError::FieldNotSupported {
                field: "ProducerId",
                ..
            })
        ));
        assert!(request.encode(&mut buf, 3).is_ok());
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 0..=5 {
            let theirs_response = kafka_protocol::messages::InitProducerIdResponse::default()
                .with_throttle_time_ms(1)
                .with_error_code(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS.code())
                .with_producer_id(ProducerId(1_000_000_007))
                .with_producer_epoch(3);
            let bytes = theirs(&theirs_response, version);
            assert_eq!(
                decode_response::<InitProducerIdRequest>(&bytes, version).unwrap(),
                InitProducerIdResponse {
                    throttle_time_ms: 1,
                    error_code: ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
                    producer_id: 1_000_000_007,
                    producer_epoch: 3,
                }
            );
        }
    }
}
