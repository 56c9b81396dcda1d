//! FindCoordinator (key 10), v0–v4: which broker coordinates a group or a
//! transactional id.
//!
//! v1 adds the key type and error message, v3 is flexible, v4 batches several
//! keys in one request (KIP-699). Kafka 4.0 removed v0 (KIP-896).

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// What kind of coordinator is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i8)]
pub enum CoordinatorType {
    /// A consumer group's coordinator (key = group id).
    Group = 0,
    /// A transactional producer's coordinator (key = transactional id).
    Transaction = 1,
    /// A share group's coordinator (key = group id).
    Share = 2,
}

/// Looks up the coordinator of one or more keys.
///
/// ```
/// use kafka_core::protocol::messages::{CoordinatorType, FindCoordinatorRequest};
/// let request = FindCoordinatorRequest::transaction("txn-1");
/// assert_eq!(request.key_type, CoordinatorType::Transaction);
/// assert_eq!(request.keys, vec!["txn-1".to_owned()]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// The kind of key.
    pub key_type: CoordinatorType,
    /// The keys; versions below 4 carry exactly one.
    pub keys: Vec<String>,
}

impl FindCoordinatorRequest {
    /// Look up the transaction coordinator of `transactional_id`.
    pub fn transaction(transactional_id: impl Into<String>) -> Self {
        FindCoordinatorRequest {
            key_type: CoordinatorType::Transaction,
            keys: vec![transactional_id.into()],
        }
    }
}

/// One key's coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator {
    /// The key (v4+); `None` for v0–v3, which answer for the single key sent.
    pub key: Option<String>,
    /// Coordinator broker id.
    pub node_id: i32,
    /// Coordinator host.
    pub host: String,
    /// Coordinator port.
    pub port: i32,
    /// `NONE`, `COORDINATOR_NOT_AVAILABLE`, ...
    pub error_code: ErrorCode,
    /// Error detail (v1+).
    pub error_message: Option<String>,
}

/// The coordinators found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// Quota throttle in milliseconds (v1+; 0 before).
    pub throttle_time_ms: i32,
    /// One entry per key (exactly one for v0–v3).
    pub coordinators: Vec<Coordinator>,
}

impl Request for FindCoordinatorRequest {
    const API_KEY: ApiKey = ApiKey::FindCoordinator;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 4;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = FindCoordinatorResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        if version == 0 && self.key_type != CoordinatorType::Group {
            return Err(EncodeError::FieldNotSupported {
                api: Self::API_KEY,
                field: "KeyType",
                version,
            });
        }
        let mut enc = Self::body_encoder(buf, version)?;
        if version < 4 {
            let [key] = self.keys.as_slice() else {
                return Err(EncodeError::InvalidField {
                    api: Self::API_KEY,
                    field: "Key",
                    reason: "versions below 4 carry exactly one key",
                });
            };
            enc.string(key)?;
        }
        if version >= 1 {
            enc.i8(self.key_type as i8);
        }
        if version >= 4 {
            enc.string_array(&self.keys)?;
        }
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for FindCoordinatorResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 2
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        FindCoordinatorRequest::prepare_body_decoder(dec, version)?;
        let throttle_time_ms = if version >= 1 { dec.i32()? } else { 0 };
        let coordinators = if version >= 4 {
            dec.array(|dec| {
                let coordinator = Coordinator {
                    key: Some(dec.string()?),
                    node_id: dec.i32()?,
                    host: dec.string()?,
                    port: dec.i32()?,
                    error_code: ErrorCode::from_code(dec.i16()?),
                    error_message: dec.nullable_string()?,
                };
                dec.skip_tagged_fields()?;
                Ok(coordinator)
            })?
        } else {
            let error_code = ErrorCode::from_code(dec.i16()?);
            let error_message = if version >= 1 {
                dec.nullable_string()?
            } else {
                None
            };
            vec![Coordinator {
                key: None,
                node_id: dec.i32()?,
                host: dec.string()?,
                port: dec.i32()?,
                error_code,
                error_message,
            }]
        };
        dec.skip_tagged_fields()?;
        Ok(FindCoordinatorResponse {
            throttle_time_ms,
            coordinators,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::BrokerId;
    use kafka_protocol::messages::find_coordinator_response::Coordinator as TheirCoordinator;

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 0..=4 {
            let key_type = if version == 0 {
                CoordinatorType::Group
            } else {
                CoordinatorType::Transaction
            };
            let request = FindCoordinatorRequest {
                key_type,
                keys: vec!["txn-7".into()],
            };
            let mut expected = kafka_protocol::messages::FindCoordinatorRequest::default()
                .with_key_type(key_type as i8);
            if version < 4 {
                expected = expected.with_key(str_bytes("txn-7"));
            } else {
                expected = expected.with_coordinator_keys(vec![str_bytes("txn-7")]);
            }
            assert_eq!(
                ours(&request, version),
                theirs(&expected, version),
                "v{version}"
            );
        }
        let batched = FindCoordinatorRequest {
            key_type: CoordinatorType::Group,
            keys: vec!["a".into(), "b".into()],
        };
        let expected = kafka_protocol::messages::FindCoordinatorRequest::default()
            .with_coordinator_keys(vec![str_bytes("a"), str_bytes("b")]);
        assert_eq!(ours(&batched, 4), theirs(&expected, 4));
    }

    #[test]
    fn invalid_requests_are_refused() {
        let mut buf = BytesMut::new();
        let two = FindCoordinatorRequest {
            key_type: CoordinatorType::Group,
            keys: vec!["a".into(), "b".into()],
        };
        assert!(matches!(
            two.encode(&mut buf, 3),
            Err(EncodeError::InvalidField { .. })
        ));
        assert!(matches!(
            FindCoordinatorRequest::transaction("t").encode(&mut buf, 0),
            Err(EncodeError::FieldNotSupported {
                field: "KeyType",
                ..
            })
        ));
        assert!(buf.is_empty());
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 0..=4 {
            let mut theirs_response = kafka_protocol::messages::FindCoordinatorResponse::default()
                .with_throttle_time_ms(2);
            if version < 4 {
                theirs_response = theirs_response
                    .with_error_code(0)
                    .with_node_id(BrokerId(3))
                    .with_host(str_bytes("kafka-3"))
                    .with_port(9094);
            } else {
                theirs_response = theirs_response.with_coordinators(vec![
                    TheirCoordinator::default()
                        .with_key(str_bytes("txn-7"))
                        .with_node_id(BrokerId(3))
                        .with_host(str_bytes("kafka-3"))
                        .with_port(9094),
                    TheirCoordinator::default()
                        .with_key(str_bytes("txn-8"))
                        .with_node_id(BrokerId(-1))
                        .with_host(str_bytes(""))
                        .with_port(-1)
                        .with_error_code(ErrorCode::COORDINATOR_NOT_AVAILABLE.code())
                        .with_error_message(Some(str_bytes("loading"))),
                ]);
            }
            let bytes = theirs(&theirs_response, version);
            let response = decode_response::<FindCoordinatorRequest>(&bytes, version).unwrap();
            assert_eq!(response.throttle_time_ms, if version >= 1 { 2 } else { 0 });
            let first = &response.coordinators[0];
            assert_eq!(
                (first.node_id, first.host.as_str(), first.port),
                (3, "kafka-3", 9094)
            );
            assert_eq!(first.error_code, ErrorCode::NONE);
            if version >= 4 {
                assert_eq!(first.key.as_deref(), Some("txn-7"));
                assert_eq!(
                    response.coordinators[1].error_code,
                    ErrorCode::COORDINATOR_NOT_AVAILABLE
                );
                assert_eq!(
                    response.coordinators[1].error_message.as_deref(),
                    Some("loading")
                );
            } else {
                assert_eq!(response.coordinators.len(), 1);
                assert_eq!(first.key, None);
            }
        }
    }
}
