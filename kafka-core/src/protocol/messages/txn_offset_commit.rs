//! TxnOffsetCommit (key 28), v0–v4: commits a consumer group's offsets as part
//! of the producer's transaction, sent to the *group* coordinator. They become
//! the group's committed offsets only when the transaction commits.
//!
//! v2 adds the committed leader epoch, v3 is flexible and adds the consumer's
//! generation id, member id and group instance id (KIP-447: the group
//! coordinator fences offsets of a member that was rebalanced away), v4 allows
//! `TRANSACTION_ABORTABLE` (KIP-890), v5 (the same bytes) adds the offsets to
//! the transaction itself (KIP-890's transactions V2: no AddOffsetsToTxn). v5
//! is sent only by a producer using V2
//! ([`TxnOffsetCommitRequest::transaction_v2`]), as the Java client does.

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Commits offsets within a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The consumer group.
    pub group_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// The consumer's generation (v3+; -1 when unknown).
    pub generation_id: i32,
    /// The consumer's member id (v3+; empty when unknown).
    pub member_id: String,
    /// The consumer's group instance id (v3+).
    pub group_instance_id: Option<String>,
    /// The offsets, per topic.
    pub topics: Vec<TxnOffsetCommitTopic>,
    /// Whether the producer uses transactions V2 (KIP-890): only then v5.
    pub transaction_v2: bool,
}

/// Offsets of one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitTopic {
    /// Topic name.
    pub name: String,
    /// Offsets per partition.
    pub partitions: Vec<TxnOffsetCommitPartition>,
}

/// The offset of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitPartition {
    /// Partition number.
    pub partition_index: i32,
    /// The offset to commit (the next record to consume).
    pub committed_offset: i64,
    /// The leader epoch of the last consumed record (v2+; -1 when unknown).
    pub committed_leader_epoch: i32,
    /// Metadata stored with the offset.
    pub committed_metadata: Option<String>,
}

/// Per-partition results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// Results per topic.
    pub topics: Vec<TxnOffsetCommitTopicResult>,
}

/// Results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitTopicResult {
    /// Topic name.
    pub name: String,
    /// `(partition, error)` per partition.
    pub partitions: Vec<(i32, ErrorCode)>,
}

impl Request for TxnOffsetCommitRequest {
    const API_KEY: ApiKey = ApiKey::TxnOffsetCommit;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 5;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = TxnOffsetCommitResponse;

    /// v5 (transactions V2) only for a producer that uses V2.
    fn max_version(&self) -> i16 {
        if self.transaction_v2 { 5 } else { 4 }
    }

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.string(&self.transactional_id)?;
        enc.string(&self.group_id)?;
        enc.i64(self.producer_id);
        enc.i16(self.producer_epoch);
        if version >= 3 {
            enc.i32(self.generation_id);
            enc.string(&self.member_id)?;
            enc.nullable_string(self.group_instance_id.as_deref())?;
        }
        enc.array(&self.topics, |enc, topic| {
            enc.string(&topic.name)?;
            enc.array(&topic.partitions, |enc, p| {
                enc.i32(p.partition_index);
                enc.i64(p.committed_offset);
                if version >= 2 {
                    enc.i32(p.committed_leader_epoch);
                }
                enc.nullable_string(p.committed_metadata.as_deref())?;
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

impl Response for TxnOffsetCommitResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 1
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        TxnOffsetCommitRequest::prepare_body_decoder(dec, version)?;
        let throttle_time_ms = dec.i32()?;
        let topics = dec.array(|dec| {
            let name = dec.string()?;
            let partitions = dec.array(|dec| {
                let result = (dec.i32()?, ErrorCode::from_code(dec.i16()?));
                dec.skip_tagged_fields()?;
                Ok(result)
            })?;
            dec.skip_tagged_fields()?;
            Ok(TxnOffsetCommitTopicResult { name, partitions })
        })?;
        dec.skip_tagged_fields()?;
        Ok(TxnOffsetCommitResponse {
            throttle_time_ms,
            topics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::txn_offset_commit_request::{
        TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::txn_offset_commit_response::{
        TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
    };
    use kafka_protocol::messages::{GroupId, ProducerId, TopicName, TransactionalId};

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 0..=5 {
            let request = TxnOffsetCommitRequest {
                transactional_id: "txn-9".into(),
                group_id: "orders-app".into(),
                producer_id: 12,
                producer_epoch: 1,
                generation_id: 7,
                member_id: "member-1".into(),
                group_instance_id: Some("instance-a".into()),
                topics: vec![TxnOffsetCommitTopic {
                    name: "orders".into(),
                    partitions: vec![TxnOffsetCommitPartition {
                        partition_index: 2,
                        committed_offset: 42,
                        committed_leader_epoch: 3,
                        committed_metadata: Some("m".into()),
                    }],
                }],
                transaction_v2: version == 5,
            };
            assert_eq!(request.max_version(), if version == 5 { 5 } else { 4 });
            let expected = kafka_protocol::messages::TxnOffsetCommitRequest::default()
                .with_transactional_id(TransactionalId(str_bytes("txn-9")))
                .with_group_id(GroupId(str_bytes("orders-app")))
                .with_producer_id(ProducerId(12))
                .with_producer_epoch(1)
                .with_generation_id(if version >= 3 { 7 } else { -1 })
                .with_member_id(str_bytes(if version >= 3 { "member-1" } else { "" }))
                .with_group_instance_id((version >= 3).then(|| str_bytes("instance-a")))
                .with_topics(vec![
                    TxnOffsetCommitRequestTopic::default()
                        .with_name(TopicName(str_bytes("orders")))
                        .with_partitions(vec![
                            TxnOffsetCommitRequestPartition::default()
                                .with_partition_index(2)
                                .with_committed_offset(42)
                                .with_committed_leader_epoch(if version >= 2 { 3 } else { -1 })
                                .with_committed_metadata(Some(str_bytes("m"))),
                        ]),
                ]);
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
            let their_response = kafka_protocol::messages::TxnOffsetCommitResponse::default()
                .with_throttle_time_ms(4)
                .with_topics(vec![
                    TxnOffsetCommitResponseTopic::default()
                        .with_name(TopicName(str_bytes("orders")))
                        .with_partitions(vec![
                            TxnOffsetCommitResponsePartition::default()
                                .with_partition_index(2)
                                .with_error_code(ErrorCode::ILLEGAL_GENERATION.code()),
                        ]),
                ]);
            let bytes = theirs(&their_response, version);
            assert_eq!(
                decode_response::<TxnOffsetCommitRequest>(&bytes, version).unwrap(),
                TxnOffsetCommitResponse {
                    throttle_time_ms: 4,
                    topics: vec![TxnOffsetCommitTopicResult {
                        name: "orders".into(),
                        partitions: vec![(2, ErrorCode::ILLEGAL_GENERATION)],
                    }],
                }
            );
        }
    }
}
