//! Request and response messages, one API per file, encoded exactly as Kafka's
//! JSON message schemas (`clients/src/main/resources/common/message/*.json`) say.
//!
//! | API | key | versions | flexible from |
//! |---|---|---|---|
//! | [`ApiVersionsRequest`] | 18 | 0–3 | 3 |
//! | [`MetadataRequest`] | 3 | 4–13 | 9 |
//! | [`ProduceRequest`] | 0 | 3–13 | 9 |
//! | [`InitProducerIdRequest`] | 22 | 0–5 | 2 |
//! | [`FindCoordinatorRequest`] | 10 | 0–4 | 3 |
//! | [`AddPartitionsToTxnRequest`] | 24 | 0–3 | 3 |
//! | [`AddOffsetsToTxnRequest`] | 25 | 0–4 | 3 |
//! | [`EndTxnRequest`] | 26 | 0–5 | 3 |
//! | [`TxnOffsetCommitRequest`] | 28 | 0–5 | 3 |
//! | [`DescribeTransactionsRequest`] | 65 | 0 | 0 |
//! | [`SaslHandshakeRequest`] | 17 | 1 | – |
//! | [`SaslAuthenticateRequest`] | 36 | 0–2 | 2 |
//! | [`GetTelemetrySubscriptionsRequest`] | 71 | 0 | 0 |
//! | [`PushTelemetryRequest`] | 72 | 0 | 0 |

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod api_versions;
pub mod describe_transactions;
pub mod end_txn;
pub mod find_coordinator;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;
pub mod sasl;
pub mod telemetry;
pub mod txn_offset_commit;

pub use add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
pub use add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    AddPartitionsToTxnTopic, AddPartitionsToTxnTopicResult,
};
pub use api_versions::{ApiVersionRange, ApiVersionsRequest, ApiVersionsResponse, FinalizedFeature};
pub use describe_transactions::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, DescribedTransaction,
};
pub use end_txn::{EndTxnRequest, EndTxnResponse};
pub use find_coordinator::{
    Coordinator, CoordinatorType, FindCoordinatorRequest, FindCoordinatorResponse,
};
pub use init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
pub use metadata::{
    MetadataBroker, MetadataPartition, MetadataRequest, MetadataResponse, MetadataTopic,
};
pub use produce::{
    LeaderIdAndEpoch, NodeEndpoint, ProducePartitionData, ProducePartitionResponse, ProduceRequest,
    ProduceResponse, ProduceTopicData, ProduceTopicResponse, RecordError,
};
pub use sasl::{
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
pub use telemetry::{
    GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse, PushTelemetryRequest,
    PushTelemetryResponse,
};
pub use txn_offset_commit::{
    TxnOffsetCommitPartition, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
    TxnOffsetCommitTopic, TxnOffsetCommitTopicResult,
};

#[cfg(test)]
pub(crate) mod test_support;
