//! DescribeTransactions (key 65), v0 (KIP-664, Kafka 3.0+): the coordinator's
//! state of transactional ids.
//!
//! The producer asks for its own transactional id after EndTxn, to learn when
//! the coordinator has completed the transaction (see `sender::txn`).
//! Authorized by `DESCRIBE` on the transactional id, which the `WRITE` a
//! transactional producer needs implies.

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// Asks the coordinator for the state of transactional ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeTransactionsRequest {
    /// The transactional ids to describe.
    pub transactional_ids: Vec<String>,
}

/// One transactional id's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedTransaction {
    /// `NONE`, or why the id could not be described
    /// (`TRANSACTIONAL_ID_NOT_FOUND`, `NOT_COORDINATOR`, ...).
    pub error_code: ErrorCode,
    /// The transactional id.
    pub transactional_id: String,
    /// The coordinator's state name: `Empty`, `Ongoing`, `PrepareCommit`,
    /// `PrepareAbort`, `CompleteCommit`, `CompleteAbort`, `PrepareEpochFence`
    /// or `Dead`.
    pub transaction_state: String,
    /// The transaction timeout in milliseconds.
    pub transaction_timeout_ms: i32,
    /// When the current transaction started (ms since the epoch), or -1.
    pub transaction_start_time_ms: i64,
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// The partitions in the transaction, by topic.
    pub topics: Vec<(String, Vec<i32>)>,
}

impl DescribedTransaction {
    /// Whether the coordinator holds no transaction in the middle of ending:
    /// neither preparing to commit or abort nor fencing an epoch, so it
    /// accepts the partitions and offsets of a new transaction.
    pub fn is_settled(&self) -> bool {
        matches!(
            self.transaction_state.as_str(),
            "Empty" | "Ongoing" | "CompleteCommit" | "CompleteAbort"
        )
    }
}

/// The states of the transactional ids asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeTransactionsResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// One per transactional id asked for.
    pub transaction_states: Vec<DescribedTransaction>,
}

impl Request for DescribeTransactionsRequest {
    const API_KEY: ApiKey = ApiKey::DescribeTransactions;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 0;
    const FLEXIBLE_FROM: i16 = 0;
    type Response = DescribeTransactionsResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.string_array(&self.transactional_ids)?;
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for DescribeTransactionsResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        DescribeTransactionsRequest::prepare_body_decoder(dec, version)?;
        let throttle_time_ms = dec.i32()?;
        let transaction_states = dec.array(|dec| {
            let error_code = ErrorCode::from_code(dec.i16()?);
            let transactional_id = dec.string()?;
            let transaction_state = dec.string()?;
            let transaction_timeout_ms = dec.i32()?;
            let transaction_start_time_ms = dec.i64()?;
            let producer_id = dec.i64()?;
            let producer_epoch = dec.i16()?;
            let topics = dec.array(|dec| {
                let topic = dec.string()?;
                let partitions = dec.i32_array()?;
                dec.skip_tagged_fields()?;
                Ok((topic, partitions))
            })?;
            dec.skip_tagged_fields()?;
            Ok(DescribedTransaction {
                error_code,
                transactional_id,
                transaction_state,
                transaction_timeout_ms,
                transaction_start_time_ms,
                producer_id,
                producer_epoch,
                topics,
            })
        })?;
        dec.skip_tagged_fields()?;
        Ok(DescribeTransactionsResponse {
            throttle_time_ms,
            transaction_states,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
    use kafka_protocol::messages::{ProducerId, TopicName, TransactionalId};

    #[test]
    fn request_bytes_match_kafka_protocol() {
        let request = DescribeTransactionsRequest {
            transactional_ids: vec!["txn-1".into(), "txn-2".into()],
        };
        let expected = kafka_protocol::messages::DescribeTransactionsRequest::default()
            .with_transactional_ids(vec![
                TransactionalId(str_bytes("txn-1")),
                TransactionalId(str_bytes("txn-2")),
            ]);
        assert_eq!(ours(&request, 0), theirs(&expected, 0));
    }

    #[test]
    fn response_decodes() {
        let their_response = kafka_protocol::messages::DescribeTransactionsResponse::default()
            .with_throttle_time_ms(3)
            .with_transaction_states(vec![
                TransactionState::default()
                    .with_error_code(0)
                    .with_transactional_id(TransactionalId(str_bytes("txn-1")))
                    .with_transaction_state(str_bytes("PrepareCommit"))
                    .with_transaction_timeout_ms(60_000)
                    .with_transaction_start_time_ms(1_700_000_000_000)
                    .with_producer_id(ProducerId(42))
                    .with_producer_epoch(7)
                    .with_topics(vec![
                        TopicData::default()
                            .with_topic(TopicName(str_bytes("orders")))
                            .with_partitions(vec![0, 5]),
                    ]),
                TransactionState::default()
                    .with_error_code(ErrorCode::TRANSACTIONAL_ID_NOT_FOUND.code())
                    .with_transactional_id(TransactionalId(str_bytes("txn-2")))
                    .with_producer_id(ProducerId(-1))
                    .with_producer_epoch(-1),
            ]);
        let bytes = theirs(&their_response, 0);
        let decoded = decode_response::<DescribeTransactionsRequest>(&bytes, 0).unwrap();
        assert_eq!(decoded.throttle_time_ms, 3);
        assert_eq!(
            decoded.transaction_states[0],
            DescribedTransaction {
                error_code: ErrorCode::NONE,
                transactional_id: "txn-1".into(),
                transaction_state: "PrepareCommit".into(),
                transaction_timeout_ms: 60_000,
                transaction_start_time_ms: 1_700_000_000_000,
                producer_id: 42,
                producer_epoch: 7,
                topics: vec![("orders".into(), vec![0, 5])],
            }
        );
        assert!(!decoded.transaction_states[0].is_settled());
        let missing = &decoded.transaction_states[1];
        assert_eq!(missing.error_code, ErrorCode::TRANSACTIONAL_ID_NOT_FOUND);
        assert_eq!(missing.transactional_id, "txn-2");
    }

    #[test]
    fn settled_states_are_those_that_accept_a_new_transaction() {
        let described = |state: &str| DescribedTransaction {
            error_code: ErrorCode::NONE,
            transactional_id: "t".into(),
            transaction_state: state.into(),
            transaction_timeout_ms: 0,
            transaction_start_time_ms: -1,
            producer_id: 1,
            producer_epoch: 0,
            topics: Vec::new(),
        };
        for state in ["Empty", "Ongoing", "CompleteCommit", "CompleteAbort"] {
            assert!(described(state).is_settled(), "{state}");
        }
        for state in ["PrepareCommit", "PrepareAbort", "PrepareEpochFence", "Dead", ""] {
            assert!(!described(state).is_settled(), "{state}");
        }
    }
}
