//! AddPartitionsToTxn (key 24), v0–v3: register partitions with an ongoing
//! transaction before producing to them.
//!
//! v1 is the same as v0 (throttling behaviour), v2 allows `PRODUCER_FENCED`, v3 is
//! flexible. v4+ batch several transactions and are for brokers only, so clients
//! (like the Java producer) stop at v3.

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Adds partitions to the producer's current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// The partitions to add, per topic.
    pub topics: Vec<AddPartitionsToTxnTopic>,
}

/// Partitions of one topic to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopic {
    /// Topic name.
    pub name: String,
    /// Partition numbers.
    pub partitions: Vec<i32>,
}

/// Per-partition results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// Results per topic.
    pub results: Vec<AddPartitionsToTxnTopicResult>,
}

/// Results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopicResult {
    /// Topic name.
    pub name: String,
    /// Results per partition.
    pub partitions: Vec<AddPartitionsToTxnPartitionResult>,
}

/// The result for one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddPartitionsToTxnPartitionResult {
    /// Partition number.
    pub partition_index: i32,
    /// `NONE` when added.
    pub error_code: ErrorCode,
}

impl Request for AddPartitionsToTxnRequest {
    const API_KEY: ApiKey = ApiKey::AddPartitionsToTxn;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 3;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = AddPartitionsToTxnResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.string(&self.transactional_id)?;
        enc.i64(self.producer_id);
        enc.i16(self.producer_epoch);
        enc.array(&self.topics, |enc, topic| {
            enc.string(&topic.name)?;
            enc.i32_array(&topic.partitions)?;
            enc.empty_tagged_fields();
            Ok(())
        })?;
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for AddPartitionsToTxnResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 1
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        AddPartitionsToTxnRequest::prepare_body_decoder(dec, version)?;
        let throttle_time_ms = dec.i32()?;
        let results = dec.array(|dec| {
            let name = dec.string()?;
            let partitions = dec.array(|dec| {
                let result = AddPartitionsToTxnPartitionResult {
                    partition_index: dec.i32()?,
                    error_code: ErrorCode::from_code(dec.i16()?),
                };
                dec.skip_tagged_fields()?;
                Ok(result)
            })?;
            dec.skip_tagged_fields()?;
            Ok(AddPartitionsToTxnTopicResult { name, partitions })
        })?;
        dec.skip_tagged_fields()?;
        Ok(AddPartitionsToTxnResponse {
            throttle_time_ms,
            results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic as TheirTopic;
    use kafka_protocol::messages::add_partitions_to_txn_response::{
        AddPartitionsToTxnPartitionResult as TheirPartition,
        AddPartitionsToTxnTopicResult as TheirResult,
    };
    use kafka_protocol::messages::{ProducerId, TopicName, TransactionalId};

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        let request = AddPartitionsToTxnRequest {
            transactional_id: "txn-1".into(),
            producer_id: 4000,
            producer_epoch: 2,
            topics: vec![
                AddPartitionsToTxnTopic {
                    name: "orders".into(),
                    partitions: vec![0, 5],
                },
                AddPartitionsToTxnTopic {
                    name: "audit".into(),
                    partitions: vec![1],
                },
            ],
        };
        let expected = kafka_protocol::messages::AddPartitionsToTxnRequest::default()
            .with_v3_and_below_transactional_id(TransactionalId(str_bytes("txn-1")))
            .with_v3_and_below_producer_id(ProducerId(4000))
            .with_v3_and_below_producer_epoch(2)
            .with_v3_and_below_topics(vec![
                TheirTopic::default()
                    .with_name(TopicName(str_bytes("orders")))
                    .with_partitions(vec![0, 5]),
                TheirTopic::default()
                    .with_name(TopicName(str_bytes("audit")))
                    .with_partitions(vec![1]),
            ]);
        for version in 0..=3 {
            assert_eq!(
                ours(&request, version),
                theirs(&expected, version),
                "v{version}"
            );
        }
    }

    #[test]
    fn response_decodes_at_every_version() {
        let their_response = kafka_protocol::messages::AddPartitionsToTxnResponse::default()
            .with_throttle_time_ms(9)
            .with_results_by_topic_v3_and_below(vec![
                TheirResult::default()
                    .with_name(TopicName(str_bytes("orders")))
                    .with_results_by_partition(vec![
                        TheirPartition::default()
                            .with_partition_index(0)
                            .with_partition_error_code(0),
                        TheirPartition::default()
                            .with_partition_index(5)
                            .with_partition_error_code(ErrorCode::CONCURRENT_TRANSACTIONS.code()),
                    ]),
            ]);
        for version in 0..=3 {
            let bytes = theirs(&their_response, version);
            let response = decode_response::<AddPartitionsToTxnRequest>(&bytes, version).unwrap();
            assert_eq!(
                response,
                AddPartitionsToTxnResponse {
                    throttle_time_ms: 9,
                    results: vec![AddPartitionsToTxnTopicResult {
                        name: "orders".into(),
                        partitions: vec![
                            AddPartitionsToTxnPartitionResult {
                                partition_index: 0,
                                error_code: ErrorCode::NONE
                            },
                            AddPartitionsToTxnPartitionResult {
                                partition_index: 5,
                                error_code: ErrorCode::CONCURRENT_TRANSACTIONS
                            },
                        ],
                    }],
                }
            );
        }
    }
}
