//! Metadata (key 3), v4–v13: brokers, topics, partitions and their leaders.
//!
//! v4 is the floor: it is the first version with `allow_auto_topic_creation`, and
//! Kafka 4.0 removed v0–v3 (KIP-896), so v4+ works with every broker from Kafka
//! 2.8 to 4.x. v5 adds offline replicas, v7 leader epochs, v8 authorized
//! operations, v9 is flexible, v10 adds topic ids, v11 drops the cluster
//! authorized operations, v12 makes response topic names nullable, v13 adds a
//! top-level error code (`REBOOTSTRAP_REQUIRED`, KIP-1102).

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::{Decoder, Uuid};
use crate::protocol::request::{Request, Response};

/// Asks for cluster and topic metadata.
///
/// ```
/// use kafka_core::protocol::messages::MetadataRequest;
/// let some = MetadataRequest::for_topics(["orders", "payments"]);
/// assert_eq!(some.topics.as_ref().map(Vec::len), Some(2));
/// assert!(MetadataRequest::all_topics().topics.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetadataRequest {
    /// Topic names to describe; `None` asks for all topics, an empty list for
    /// none (brokers and controller only).
    pub topics: Option<Vec<String>>,
    /// Let the broker create unknown topics (if the broker allows it).
    pub allow_auto_topic_creation: bool,
}

impl MetadataRequest {
    /// Metadata for the named topics, without auto-creation.
    pub fn for_topics<I, S>(topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        MetadataRequest {
            topics: Some(topics.into_iter().map(Into::into).collect()),
            allow_auto_topic_creation: false,
        }
    }

    /// Metadata for every topic in the cluster.
    pub fn all_topics() -> Self {
        MetadataRequest {
            topics: None,
            allow_auto_topic_creation: false,
        }
    }
}

/// A broker in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataBroker {
    /// Broker id.
    pub node_id: i32,
    /// Host name to connect to.
    pub host: String,
    /// Port to connect to.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataPartition {
    /// Partition error (`LEADER_NOT_AVAILABLE` during elections, ...).
    pub error_code: ErrorCode,
    /// Partition number.
    pub partition_index: i32,
    /// Leader broker id, -1 when there is none.
    pub leader_id: i32,
    /// Leader epoch (v7+; -1 before).
    pub leader_epoch: i32,
    /// All replicas.
    pub replica_nodes: Vec<i32>,
    /// In-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// Offline replicas (v5+; empty before).
    pub offline_replicas: Vec<i32>,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataTopic {
    /// Topic error (`UNKNOWN_TOPIC_OR_PARTITION`, `TOPIC_AUTHORIZATION_FAILED`, ...).
    pub error_code: ErrorCode,
    /// Topic name; only `None` (v12+) for topics asked for by id that do not exist.
    pub name: Option<String>,
    /// Topic id (v10+; zero before, or for unknown topics).
    pub topic_id: Uuid,
    /// Internal topic (`__consumer_offsets`, `__transaction_state`).
    pub is_internal: bool,
    /// Partitions, in the broker's order.
    pub partitions: Vec<MetadataPartition>,
    /// Authorized-operations bit field (v8+), `i32::MIN` when not requested.
    pub topic_authorized_operations: i32,
}

/// The cluster's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// Live brokers.
    pub brokers: Vec<MetadataBroker>,
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// Active controller id (-1 if unknown; KRaft reports a random broker).
    pub controller_id: i32,
    /// Requested topics (or all).
    pub topics: Vec<MetadataTopic>,
    /// Cluster authorized operations (v8–v10), `i32::MIN` otherwise.
    pub cluster_authorized_operations: i32,
    /// Top-level error (v13+; `NONE` before), e.g. `REBOOTSTRAP_REQUIRED`.
    pub error_code: ErrorCode,
}

impl Request for MetadataRequest {
    const API_KEY: ApiKey = ApiKey::Metadata;
    const MIN_VERSION: i16 = 4;
    const MAX_VERSION: i16 = 13;
    const FLEXIBLE_FROM: i16 = 9;
    type Response = MetadataResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.nullable_array(self.topics.as_deref(), |enc, name| {
            if version >= 10 {
                enc.uuid(&Uuid::ZERO);
            }
            enc.string(name)?;
            enc.empty_tagged_fields();
            Ok(())
        })?;
        enc.bool(self.allow_auto_topic_creation);
        if (8..=10).contains(&version) {
            enc.bool(false); // include_cluster_authorized_operations
        }
        if version >= 8 {
            enc.bool(false); // include_topic_authorized_operations
        }
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for MetadataResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 6
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        MetadataRequest::prepare_body_decoder(dec, version)?;
        let throttle_time_ms = dec.i32()?;
        let brokers = dec.array(|dec| {
            let broker = MetadataBroker {
                node_id: dec.i32()?,
                host: dec.string()?,
                port: dec.i32()?,
                rack: dec.nullable_string()?,
            };
            dec.skip_tagged_fields()?;
            Ok(broker)
        })?;
        let cluster_id = dec.nullable_string()?;
        let controller_id = dec.i32()?;
        let topics = dec.array(|dec| decode_topic(dec, version))?;
        let cluster_authorized_operations = if (8..=10).contains(&version) {
            dec.i32()?
        } else {
            i32::MIN
        };
        let error_code = if version >= 13 {
            ErrorCode::from_code(dec.i16()?)
        } else {
            ErrorCode::NONE
        };
        dec.skip_tagged_fields()?;
        Ok(MetadataResponse {
            throttle_time_ms,
            brokers,
            cluster_id,
            controller_id,
            topics,
            cluster_authorized_operations,
            error_code,
        })
    }
}

fn decode_topic(dec: &mut Decoder<'_>, version: i16) -> Result<MetadataTopic, DecodeError> {
    let error_code = ErrorCode::from_code(dec.i16()?);
    let name = if version >= 12 {
        dec.nullable_string()?
    } else {
        Some(dec.string()?)
    };
    let topic_id = if version >= 10 {
        dec.uuid()?
    } else {
        Uuid::ZERO
    };
    let is_internal = dec.bool()?;
    let partitions = dec.array(|dec| {
        let partition = MetadataPartition {
            error_code: ErrorCode::from_code(dec.i16()?),
            partition_index: dec.i32()?,
            leader_id: dec.i32()?,
            leader_epoch: if version >= 7 { dec.i32()? } else { -1 },
            replica_nodes: dec.i32_array()?,
            isr_nodes: dec.i32_array()?,
            offline_replicas: if version >= 5 {
                dec.i32_array()?
            } else {
                Vec::new()
            },
        };
        dec.skip_tagged_fields()?;
        Ok(partition)
    })?;
    let topic_authorized_operations = if version >= 8 { dec.i32()? } else { i32::MIN };
    dec.skip_tagged_fields()?;
    Ok(MetadataTopic {
        error_code,
        name,
        topic_id,
        is_internal,
        partitions,
        topic_authorized_operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::primitives::Encoder;
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{BrokerId, TopicName};

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 4..=13 {
            for (topics, auto_create) in [
                (
                    Some(vec!["orders".to_owned(), "payments".to_owned()]),
                    false,
                ),
                (Some(Vec::new()), true),
                (None, true),
            ] {
                let request = MetadataRequest {
                    topics: topics.clone(),
                    allow_auto_topic_creation: auto_create,
                };
                let expected = kafka_protocol::messages::MetadataRequest::default()
                    .with_topics(topics.map(|names| {
                        names
                            .iter()
                            .map(|name| {
                                MetadataRequestTopic::default()
                                    .with_name(Some(TopicName(str_bytes(name))))
                            })
                            .collect()
                    }))
                    .with_allow_auto_topic_creation(auto_create);
                assert_eq!(
                    ours(&request, version),
                    theirs(&expected, version),
                    "v{version}"
                );
            }
        }
    }

    fn their_response(version: i16) -> kafka_protocol::messages::MetadataResponse {
        let partition = MetadataResponsePartition::default()
            .with_error_code(0)
            .with_partition_index(2)
            .with_leader_id(BrokerId(1))
            .with_leader_epoch(if version >= 7 { 9 } else { -1 })
            .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
            .with_isr_nodes(vec![BrokerId(1)])
            .with_offline_replicas(if version >= 5 {
                vec![BrokerId(2)]
            } else {
                Vec::new()
            });
        let topic = MetadataResponseTopic::default()
            .with_error_code(0)
            .with_name(Some(TopicName(str_bytes("orders"))))
            .with_is_internal(false)
            .with_partitions(vec![partition])
            .with_topic_authorized_operations(if version >= 8 { 0x0f } else { i32::MIN });
        let missing = MetadataResponseTopic::default()
            .with_error_code(3)
            .with_name(Some(TopicName(str_bytes("missing"))))
            .with_topic_authorized_operations(i32::MIN);
        kafka_protocol::messages::MetadataResponse::default()
            .with_throttle_time_ms(5)
            .with_brokers(vec![
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host(str_bytes("kafka-1"))
                    .with_port(9092)
                    .with_rack(Some(str_bytes("rack-a"))),
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(2))
                    .with_host(str_bytes("kafka-2"))
                    .with_port(9093),
            ])
            .with_cluster_id(Some(str_bytes("cluster-x")))
            .with_controller_id(BrokerId(2))
            .with_topics(vec![topic, missing])
            .with_cluster_authorized_operations(if (8..=10).contains(&version) {
                7
            } else {
                i32::MIN
            })
            .with_error_code(if version >= 13 { 129 } else { 0 })
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 4..=13 {
            let bytes = theirs(&their_response(version), version);
            let response = decode_response::<MetadataRequest>(&bytes, version).unwrap();
            assert_eq!(response.throttle_time_ms, 5);
            assert_eq!(
                response.brokers,
                vec![
                    MetadataBroker {
                        node_id: 1,
                        host: "kafka-1".into(),
                        port: 9092,
                        rack: Some("rack-a".into())
                    },
                    MetadataBroker {
                        node_id: 2,
                        host: "kafka-2".into(),
                        port: 9093,
                        rack: None
                    },
                ]
            );
            assert_eq!(response.cluster_id.as_deref(), Some("cluster-x"));
            assert_eq!(response.controller_id, 2);
            let topic = &response.topics[0];
            assert_eq!(topic.name.as_deref(), Some("orders"));
            assert_eq!(topic.error_code, ErrorCode::NONE);
            assert_eq!(
                topic.topic_authorized_operations,
                if version >= 8 { 0x0f } else { i32::MIN }
            );
            assert_eq!(
                topic.partitions,
                vec![MetadataPartition {
                    error_code: ErrorCode::NONE,
                    partition_index: 2,
                    leader_id: 1,
                    leader_epoch: if version >= 7 { 9 } else { -1 },
                    replica_nodes: vec![1, 2],
                    isr_nodes: vec![1],
                    offline_replicas: if version >= 5 { vec![2] } else { Vec::new() },
                }]
            );
            assert_eq!(
                response.topics[1].error_code,
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            );
            assert!(response.topics[1].partitions.is_empty());
            assert_eq!(
                response.cluster_authorized_operations,
                if (8..=10).contains(&version) {
                    7
                } else {
                    i32::MIN
                }
            );
            let expected_error = if version >= 13 {
                ErrorCode::REBOOTSTRAP_REQUIRED
            } else {
                ErrorCode::NONE
            };
            assert_eq!(response.error_code, expected_error);
        }
    }

    #[test]
    fn topic_ids_are_decoded_from_v10() {
        for version in 10..=13 {
            let mut bytes = BytesMut::new();
            let mut enc = Encoder::new(&mut bytes, true);
            enc.i32(0); // throttle
            enc.array::<()>(&[], |_, _| Ok(())).unwrap(); // brokers
            enc.nullable_string(None).unwrap(); // cluster id
            enc.i32(-1); // controller
            enc.array(&[()], |enc, _| {
                enc.i16(0);
                enc.string("t")?;
                enc.uuid(&Uuid([7; 16]));
                enc.bool(true);
                enc.array::<()>(&[], |_, _| Ok(()))?;
                enc.i32(i32::MIN);
                enc.empty_tagged_fields();
                Ok(())
            })
            .unwrap();
            if version == 10 {
                enc.i32(i32::MIN); // cluster authorized operations
            }
            if version >= 13 {
                enc.i16(0);
            }
            enc.empty_tagged_fields();
            let decoded = decode_response::<MetadataRequest>(&bytes, version).unwrap();
            assert_eq!(decoded.topics[0].topic_id, Uuid([7; 16]));
            assert!(decoded.topics[0].is_internal);
        }
    }

    #[test]
    fn truncated_responses_are_errors_at_every_cut() {
        let bytes = theirs(&their_response(12), 12);
        for cut in 0..bytes.len() {
            assert!(
                decode_response::<MetadataRequest>(&bytes[..cut], 12).is_err(),
                "cut {cut}"
            );
        }
    }
}
