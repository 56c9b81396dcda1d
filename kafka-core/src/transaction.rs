//! Transactions' public types (the Java client's names): [`TransactionError`]
//! with Java's split of fatal and abortable errors, [`TopicPartition`],
//! [`OffsetAndMetadata`] and [`ConsumerGroupMetadata`] for
//! [`KafkaProducer::send_offsets_to_transaction`](crate::KafkaProducer::send_offsets_to_transaction).

use std::fmt;
use std::time::Duration;

use crate::error::KafkaError;
use crate::protocol::error_code::ErrorCode;

/// A partition of a topic (Java's `TopicPartition`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// The partition `partition` of `topic`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// An offset to commit for a consumer group, with optional metadata (Java's
/// `OffsetAndMetadata`). The offset is the *next* record to consume: the last
/// processed offset + 1, as Java consumers commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Free text stored with the offset (Java's default: empty).
    pub metadata: String,
    /// The leader epoch of the last consumed record, when known (KIP-320).
    pub leader_epoch: Option<i32>,
}

impl OffsetAndMetadata {
    /// The offset `offset` without metadata.
    pub fn new(offset: i64) -> Self {
        OffsetAndMetadata {
            offset,
            metadata: String::new(),
            leader_epoch: None,
        }
    }

    /// With `metadata` stored alongside the offset.
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = metadata.into();
        self
    }

    /// With the leader epoch of the last consumed record.
    pub fn with_leader_epoch(mut self, leader_epoch: i32) -> Self {
        self.leader_epoch = Some(leader_epoch);
        self
    }
}

/// The consumer group whose offsets a transaction commits (Java's
/// `ConsumerGroupMetadata`, from `KafkaConsumer::groupMetadata()`).
///
/// With the generation id and member id of the consumer that read the records
/// (KIP-447), the group coordinator rejects offsets of a member that has since
/// been fenced by a rebalance (a "zombie"), so only one of two instances that
/// processed the same input can commit. [`ConsumerGroupMetadata::new`] alone
/// (generation -1, no member id) commits without that check, as Java's
/// `new ConsumerGroupMetadata(groupId)` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsumerGroupMetadata {
    /// The group id.
    pub group_id: String,
    /// The consumer's generation, -1 when unknown.
    pub generation_id: i32,
    /// The consumer's member id, empty when unknown.
    pub member_id: String,
    /// The consumer's `group.instance.id` (static membership), if any.
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// The group `group_id`, without generation or member (no fencing of zombies).
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }

    /// With the consumer's generation and member id (KIP-447 fencing).
    pub fn with_member(mut self, generation_id: i32, member_id: impl Into<String>) -> Self {
        self.generation_id = generation_id;
        self.member_id = member_id.into();
        self
    }

    /// With the consumer's `group.instance.id`.
    pub fn with_group_instance_id(mut self, group_instance_id: impl Into<String>) -> Self {
        self.group_instance_id = Some(group_instance_id.into());
        self
    }
}

/// The transaction protocol the producer uses with its transaction
/// coordinator.
///
/// Chosen at `init_transactions` as the Java 4.x client chooses: V2 when the
/// coordinator's cluster finalized `transaction.version` >= 2 (Kafka 4.0+
/// clusters formatted fresh at 4.1 have it) and the broker offers Produce v12
/// and EndTxn v5; V1 otherwise (Kafka 3.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransactionProtocol {
    /// Kafka 3.x's protocol: each partition is added with AddPartitionsToTxn
    /// before its first batch.
    V1,
    /// KIP-890 (Kafka 4.0+ with `transaction.version` >= 2): Produce adds
    /// partitions itself and every EndTxn bumps the epoch.
    V2,
}

/// Why a transactional operation failed, split as the Java client splits it:
///
/// - [`is_fatal`](Self::is_fatal): the producer cannot go on (it was fenced by
///   a newer instance with the same `transactional.id`, it is not authorized,
///   the broker is too old). Close it; a new producer may take over.
/// - [`is_abortable`](Self::is_abortable): this transaction cannot commit (a
///   send in it failed or its outcome is unknown, the coordinator refused an
///   offset commit): call [`abort_transaction`](crate::KafkaProducer::abort_transaction)
///   and run the transaction again.
/// - otherwise the call was made in the wrong state (commit without begin) or
///   timed out (`max.block.ms`): the transaction is as it was; a timed-out call
///   may be called again and resumes.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// A transactional method on a producer without `transactional.id`.
    #[error(
        "{operation} needs a transactional producer; set transactional.id in the producer's configuration"
    )]
    NotTransactional {
        /// The method called.
        operation: &'static str,
    },
    /// The method is not allowed in the transaction's current state.
    #[error("cannot {operation} while the producer is {state}: {hint}")]
    InvalidState {
        /// What was attempted.
        operation: &'static str,
        /// The state the producer is in (Java's state names, lower case).
        state: &'static str,
        /// What to do instead.
        hint: &'static str,
    },
    /// The operation did not finish within `max.block.ms`. It goes on in the
    /// background; calling the same method again waits for it.
    #[error(
        "{operation} did not finish within max.block.ms ({max_block:?}); the coordinator may be \
         unavailable. Call it again to keep waiting, or close the producer"
    )]
    Timeout {
        /// The method that timed out.
        operation: &'static str,
        /// The configured `max.block.ms`.
        max_block: Duration,
    },
    /// Fatal: another producer with the same `transactional.id` (a newer epoch)
    /// took over (Java's `ProducerFencedException`).
    #[error(
        "producer fenced: another producer with transactional.id '{transactional_id}' has started \
         (a newer epoch); this producer can only be closed"
    )]
    ProducerFenced {
        /// The transactional id.
        transactional_id: String,
    },
    /// Fatal: the broker saw an epoch older than its own for this producer
    /// (Java's `InvalidProducerEpochException`, fatal for transactions).
    #[error(
        "invalid producer epoch for transactional.id '{transactional_id}': the transaction was \
         timed out or fenced by the coordinator; close this producer and start a new one"
    )]
    InvalidProducerEpoch {
        /// The transactional id.
        transactional_id: String,
    },
    /// Fatal: the principal may not use this `transactional.id`.
    #[error(
        "not authorized to use transactional.id '{transactional_id}'; grant WRITE and DESCRIBE \
         on the TransactionalId resource to this principal"
    )]
    TransactionalIdAuthorizationFailed {
        /// The transactional id.
        transactional_id: String,
    },
    /// Fatal: the broker does not support what transactions need.
    #[error("the broker does not support transactions as needed: {0}; use Kafka 2.5 or newer")]
    UnsupportedVersion(String),
    /// Fatal: the coordinator answered an error the producer cannot recover from.
    #[error(
        "{operation} failed: {} ({}){}; the producer cannot continue, close it",
        code.name(), code.description(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    FatalBroker {
        /// The request that failed.
        operation: &'static str,
        /// Kafka's error code.
        code: ErrorCode,
        /// The broker's message, if any.
        message: Option<String>,
    },
    /// Abortable: a send in this transaction failed or its outcome is unknown,
    /// so it cannot commit. Abort it and run it again.
    #[error(
        "the transaction cannot commit because a send in it failed: {cause}; call abort_transaction \
         and run the transaction again"
    )]
    SendFailed {
        /// The send's error.
        #[source]
        cause: Box<KafkaError>,
    },
    /// Abortable: the coordinator refused part of the transaction (an offset
    /// commit, a partition), so it cannot commit. Abort it and run it again.
    #[error(
        "{operation} failed: {} ({}){}; call abort_transaction and run the transaction again",
        code.name(), code.description(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    AbortableBroker {
        /// The request that failed.
        operation: &'static str,
        /// Kafka's error code.
        code: ErrorCode,
        /// The broker's message, if any.
        message: Option<String>,
    },
    /// The transaction was aborted before this record could be sent (Java's
    /// `TransactionAbortedException`); the record was not written.
    #[error("the transaction was aborted before the record was sent; it was not written")]
    Aborted,
    /// The producer is closed.
    #[error("the producer is closed; transactional operations need an open producer")]
    Closed,
}

impl TransactionError {
    /// Whether the producer cannot go on: close it (Java's fatal errors:
    /// `ProducerFencedException`, `InvalidProducerEpochException`,
    /// `TransactionalIdAuthorizationException`, `UnsupportedVersionException`).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            TransactionError::ProducerFenced { .. }
                | TransactionError::InvalidProducerEpoch { .. }
                | TransactionError::TransactionalIdAuthorizationFailed { .. }
                | TransactionError::UnsupportedVersion(_)
                | TransactionError::FatalBroker { .. }
        )
    }

    /// Whether this transaction must be aborted (and may then be run again).
    pub fn is_abortable(&self) -> bool {
        matches!(
            self,
            TransactionError::SendFailed { .. } | TransactionError::AbortableBroker { .. }
        )
    }
}
