//! Produce (key 0), v3–v13: append record batches to partitions.
//!
//! v3 is the first version carrying RecordBatch v2 (magic 2) and the
//! transactional id; v5 returns the log start offset, v7 allows zstd, v8 returns
//! per-record errors, v9 is flexible, v10 returns the new leader (tagged
//! `CurrentLeader` per partition, `NodeEndpoints` at the top, KIP-951) on
//! `NOT_LEADER_OR_FOLLOWER`, v11 allows `TRANSACTION_ABORTABLE`, v12 lets a
//! transactional producer's partitions join its transaction implicitly
//! (KIP-890; the same bytes as v11, and nothing changes for a producer without
//! transactions), v13 names topics by id instead of by name, in the request
//! and in the response (KIP-516). A request goes at v13 only when every topic
//! in it has an id ([`ProduceRequest::max_version`](Request::max_version)).
//!
//! The `records` of each partition are an already-encoded RecordBatch, carried
//! as `bytes::Bytes` so batches are shared, not copied: a connection writes
//! them from where the accumulator built them ([`Request::encode_spliced`]).

use bytes::{Bytes, BytesMut};

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::{Decoder, Encoder, Uuid};
use crate::protocol::splices::Splices;
use crate::protocol::request::{Request, Response};

/// Appends record batches to partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    /// The transactional id, `None` unless the producer is transactional.
    pub transactional_id: Option<String>,
    /// Whether the transactional producer uses transactions V2 (KIP-890):
    /// then v12+ (the broker adds partitions to the transaction itself);
    /// with V1 at most v11, as the Java client does.
    pub transaction_v2: bool,
    /// 0 (no response at all: send with `send_without_response`), 1 (leader),
    /// -1 (all in-sync replicas).
    pub acks: i16,
    /// How long the broker may wait for replication, in milliseconds.
    pub timeout_ms: i32,
    /// Data per topic.
    pub topics: Vec<ProduceTopicData>,
}

/// The batches for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceTopicData {
    /// Topic name (sent below v13).
    pub name: String,
    /// Topic id from Metadata (sent from v13); [`Uuid::ZERO`] when unknown,
    /// which keeps the request below v13.
    pub topic_id: Uuid,
    /// Data per partition.
    pub partitions: Vec<ProducePartitionData>,
}

/// The batch (or batches) for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducePartitionData {
    /// Partition number.
    pub index: i32,
    /// Encoded RecordBatch v2 bytes (one or more batches back to back).
    pub records: Option<Bytes>,
}

/// The broker's answer to a Produce request (not sent when `acks == 0`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProduceResponse {
    /// Results per topic.
    pub topics: Vec<ProduceTopicResponse>,
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// v10+: endpoints of the new leaders named in `current_leader` fields.
    pub node_endpoints: Vec<NodeEndpoint>,
}

/// Results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceTopicResponse {
    /// Topic name; empty from v13, which names the topic by id.
    pub name: String,
    /// Topic id (v13+; [`Uuid::ZERO`] before).
    pub topic_id: Uuid,
    /// Results per partition.
    pub partitions: Vec<ProducePartitionResponse>,
}

/// The result for one partition's batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducePartitionResponse {
    /// Partition number.
    pub index: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
    /// Offset of the first record of the batch.
    pub base_offset: i64,
    /// Broker append time when the topic uses LogAppendTime, else -1.
    pub log_append_time_ms: i64,
    /// Log start offset (v5+; -1 before).
    pub log_start_offset: i64,
    /// v8+: records that made the broker reject the batch (`INVALID_RECORD`).
    pub record_errors: Vec<RecordError>,
    /// v8+: a summary of why the batch was rejected.
    pub error_message: Option<String>,
    /// v10+: the current leader, sent with `NOT_LEADER_OR_FOLLOWER`.
    pub current_leader: Option<LeaderIdAndEpoch>,
}

/// A record the broker rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Index of the record within its batch.
    pub batch_index: i32,
    /// Why it was rejected.
    pub message: Option<String>,
}

/// A partition's leader as the broker knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderIdAndEpoch {
    /// Leader broker id, -1 if unknown.
    pub leader_id: i32,
    /// Leader epoch, -1 if unknown.
    pub leader_epoch: i32,
}

/// Where to reach a broker (v10+ `NodeEndpoints`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEndpoint {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
}

impl Request for ProduceRequest {
    const API_KEY: ApiKey = ApiKey::Produce;
    const MIN_VERSION: i16 = 3;
    const MAX_VERSION: i16 = 13;
    const FLEXIBLE_FROM: i16 = 9;
    type Response = ProduceResponse;

    /// v13 names topics by id: only when every topic has one.
    fn max_version(&self) -> i16 {
        if self.transactional_id.is_some() && !self.transaction_v2 {
            // Transactions V1: partitions are added with AddPartitionsToTxn;
            // v12+ would tell the broker to add them itself (KIP-890's V2),
            // which the Java client also uses only with V2.
            return 11;
        }
        if self.topics.iter().all(|t| !t.topic_id.is_zero()) {
            Self::MAX_VERSION
        } else {
            12
        }
    }

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        self.encode_body(&mut Self::body_encoder(buf, version)?, version)
    }

    /// The record batches stay where the accumulator built them.
    fn encode_spliced(
        &self,
        buf: &mut BytesMut,
        splices: &mut Splices,
        version: i16,
    ) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?.splicing_into(splices);
        self.encode_body(&mut enc, version)
    }
}

impl ProduceRequest {
    fn encode_body(&self, enc: &mut Encoder<'_>, version: i16) -> Result<(), EncodeError> {
        enc.nullable_string(self.transactional_id.as_deref())?;
        enc.i16(self.acks);
        enc.i32(self.timeout_ms);
        enc.array(&self.topics, |enc, topic| {
            if version >= 13 {
                enc.uuid(&topic.topic_id);
            } else {
                enc.string(&topic.name)?;
            }
            enc.array(&topic.partitions, |enc, partition| {
                enc.i32(partition.index);
                enc.nullable_shared_bytes(partition.records.as_ref())?;
                enc.empty_tagged_fields();
                Ok(())
            })?;
            enc.empty_tagged_fields();
            Ok(())
        })?;
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for ProduceResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 6
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        ProduceRequest::prepare_body_decoder(dec, version)?;
        let topics = dec.array(|dec| {
            let (name, topic_id) = if version >= 13 {
                (String::new(), dec.uuid()?)
            } else {
                (dec.string()?, Uuid::ZERO)
            };
            let partitions = dec.array(|dec| decode_partition(dec, version))?;
            dec.skip_tagged_fields()?;
            Ok(ProduceTopicResponse {
                name,
                topic_id,
                partitions,
            })
        })?;
        let throttle_time_ms = dec.i32()?;
        let mut node_endpoints = Vec::new();
        dec.tagged_fields(|tag, field| {
            if tag == 0 && version >= 10 {
                node_endpoints = field.array(|dec| {
                    let endpoint = NodeEndpoint {
                        node_id: dec.i32()?,
                        host: dec.string()?,
                        port: dec.i32()?,
                        rack: dec.nullable_string()?,
                    };
                    dec.skip_tagged_fields()?;
                    Ok(endpoint)
                })?;
            }
            Ok(())
        })?;
        Ok(ProduceResponse {
            topics,
            throttle_time_ms,
            node_endpoints,
        })
    }
}

fn decode_partition(
    dec: &mut Decoder<'_>,
    version: i16,
) -> Result<ProducePartitionResponse, DecodeError> {
    let index = dec.i32()?;
    let error_code = ErrorCode::from_code(dec.i16()?);
    let base_offset = dec.i64()?;
    let log_append_time_ms = dec.i64()?;
    let log_start_offset = if version >= 5 { dec.i64()? } else { -1 };
    let (record_errors, error_message) = if version >= 8 {
        let errors = dec.array(|dec| {
            let error = RecordError {
                batch_index: dec.i32()?,
                message: dec.nullable_string()?,
            };
            dec.skip_tagged_fields()?;
            Ok(error)
        })?;
        (errors, dec.nullable_string()?)
    } else {
        (Vec::new(), None)
    };
    let mut current_leader = None;
    dec.tagged_fields(|tag, field| {
        if tag == 0 && version >= 10 {
            current_leader = Some(LeaderIdAndEpoch {
                leader_id: field.i32()?,
                leader_epoch: field.i32()?,
            });
            field.skip_tagged_fields()?;
        }
        Ok(())
    })?;
    Ok(ProducePartitionResponse {
        index,
        error_code,
        base_offset,
        log_append_time_ms,
        log_start_offset,
        record_errors,
        error_message,
        current_leader,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::produce_response::{
        BatchIndexAndErrorMessage, LeaderIdAndEpoch as TheirLeader, NodeEndpoint as TheirEndpoint,
        PartitionProduceResponse, TopicProduceResponse,
    };
    use kafka_protocol::messages::{BrokerId, TopicName, TransactionalId};

    fn request(transactional_id: Option<&str>) -> ProduceRequest {
        ProduceRequest {
            transactional_id: transactional_id.map(str::to_owned),
            transaction_v2: false,
            acks: -1,
            timeout_ms: 30_000,
            topics: vec![
                ProduceTopicData {
                    name: "orders".into(),
                    topic_id: Uuid::ZERO,
                    partitions: vec![
                        ProducePartitionData {
                            index: 0,
                            records: Some(Bytes::from_static(b"batch-zero")),
                        },
                        ProducePartitionData {
                            index: 3,
                            records: None,
                        },
                    ],
                },
                ProduceTopicData {
                    name: "audit".into(),
                    topic_id: Uuid::ZERO,
                    partitions: vec![ProducePartitionData {
                        index: 1,
                        records: Some(Bytes::new()),
                    }],
                },
            ],
        }
    }

    fn their_request(transactional_id: Option<&str>) -> kafka_protocol::messages::ProduceRequest {
        let ours = request(transactional_id);
        kafka_protocol::messages::ProduceRequest::default()
            .with_transactional_id(transactional_id.map(|id| TransactionalId(str_bytes(id))))
            .with_acks(ours.acks)
            .with_timeout_ms(ours.timeout_ms)
            .with_topic_data(
                ours.topics
                    .iter()
                    .map(|topic| {
                        TopicProduceData::default()
                            .with_name(TopicName(str_bytes(&topic.name)))
                            .with_partition_data(
                                topic
                                    .partitions
                                    .iter()
                                    .map(|p| {
                                        PartitionProduceData::default()
                                            .with_index(p.index)
                                            .with_records(p.records.clone())
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
    }

    #[test]
    fn v13_names_topics_by_id_and_is_used_only_when_every_topic_has_one() {
        use kafka_protocol::protocol::Decodable;
        let mut with_ids = request(None);
        with_ids.topics[0].topic_id = Uuid([7; 16]);
        assert_eq!(with_ids.max_version(), 12, "one topic has no id");
        with_ids.topics[1].topic_id = Uuid([9; 16]);
        assert_eq!(with_ids.max_version(), 13);
        let mut transactional = request(Some("txn-1"));
        assert_eq!(transactional.max_version(), 11, "transactions V1");
        transactional.transaction_v2 = true;
        assert_eq!(transactional.max_version(), 12, "V2: v12+ adds partitions");
        let mut bytes = ours(&with_ids, 13).freeze();
        let decoded = kafka_protocol::messages::ProduceRequest::decode(&mut bytes, 13).unwrap();
        let ids: Vec<[u8; 16]> = decoded
            .topic_data
            .iter()
            .map(|t| *t.topic_id.as_bytes())
            .collect();
        assert_eq!(ids, vec![[7; 16], [9; 16]]);
        assert!(decoded.topic_data.iter().all(|t| t.name.is_empty()));
    }

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 3..=13 {
            for transactional_id in [None, Some("txn-1")] {
                assert_eq!(
                    ours(&request(transactional_id), version),
                    theirs(&their_request(transactional_id), version),
                    "v{version} {transactional_id:?}"
                );
            }
        }
    }

    fn their_response(version: i16) -> kafka_protocol::messages::ProduceResponse {
        let ok = PartitionProduceResponse::default()
            .with_index(0)
            .with_error_code(0)
            .with_base_offset(42)
            .with_log_append_time_ms(-1)
            .with_log_start_offset(if version >= 5 { 7 } else { -1 });
        let mut moved = PartitionProduceResponse::default()
            .with_index(3)
            .with_error_code(ErrorCode::NOT_LEADER_OR_FOLLOWER.code())
            .with_base_offset(-1)
            .with_log_append_time_ms(-1)
            .with_log_start_offset(-1);
        if version >= 8 {
            moved = moved
                .with_record_errors(vec![
                    BatchIndexAndErrorMessage::default()
                        .with_batch_index(4)
                        .with_batch_index_error_message(Some(str_bytes("bad record"))),
                ])
                .with_error_message(Some(str_bytes("not the leader")));
        }
        if version >= 10 {
            moved = moved.with_current_leader(
                TheirLeader::default()
                    .with_leader_id(BrokerId(2))
                    .with_leader_epoch(11),
            );
        }
        let mut response = kafka_protocol::messages::ProduceResponse::default()
            .with_responses(vec![
                TopicProduceResponse::default()
                    .with_name(TopicName(str_bytes("orders")))
                    .with_partition_responses(vec![ok, moved]),
            ])
            .with_throttle_time_ms(3);
        if version >= 10 {
            response = response.with_node_endpoints(vec![
                TheirEndpoint::default()
                    .with_node_id(BrokerId(2))
                    .with_host(str_bytes("kafka-2"))
                    .with_port(9093)
                    .with_rack(Some(str_bytes("r2"))),
            ]);
        }
        response
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 3..=13 {
            let bytes = theirs(&their_response(version), version);
            let response = decode_response::<ProduceRequest>(&bytes, version).unwrap();
            assert_eq!(response.throttle_time_ms, 3);
            let topic = &response.topics[0];
            // v13 names the topic by id only (nil in the fixture).
            assert_eq!(topic.name, if version >= 13 { "" } else { "orders" });
            assert_eq!(topic.topic_id, Uuid::ZERO);
            assert_eq!(
                topic.partitions[0],
                ProducePartitionResponse {
                    index: 0,
                    error_code: ErrorCode::NONE,
                    base_offset: 42,
                    log_append_time_ms: -1,
                    log_start_offset: if version >= 5 { 7 } else { -1 },
                    record_errors: Vec::new(),
                    error_message: None,
                    current_leader: None,
                }
            );
            let moved = &topic.partitions[1];
            assert_eq!(moved.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
            if version >= 8 {
                assert_eq!(
                    moved.record_errors,
                    vec![RecordError {
                        batch_index: 4,
                        message: Some("bad record".into())
                    }]
                );
                assert_eq!(moved.error_message.as_deref(), Some("not the leader"));
            } else {
                assert!(moved.record_errors.is_empty());
            }
            if version >= 10 {
                assert_eq!(
                    moved.current_leader,
                    Some(LeaderIdAndEpoch {
                        leader_id: 2,
                        leader_epoch: 11
                    })
                );
                assert_eq!(
                    response.node_endpoints,
                    vec![NodeEndpoint {
                        node_id: 2,
                        host: "kafka-2".into(),
                        port: 9093,
                        rack: Some("r2".into())
                    }]
                );
            } else {
                assert_eq!(moved.current_leader, None);
                assert!(response.node_endpoints.is_empty());
            }
        }
    }

    #[test]
    fn request_outside_the_range_is_refused() {
        let mut buf = BytesMut::new();
        for version in [2, 14] {
            assert!(matches!(
                request(None).encode(&mut buf, version),
                Err(EncodeError::UnsupportedVersion {
                    api: ApiKey::Produce,
                    ..
                })
            ));
        }
    }
}
