//! Kafka error codes, as the Java client's `Errors` enum defines them.
//!
//! The table is the Kafka 4.1.1 Java client's own (`org.apache.kafka.common.protocol.Errors`),
//! with `retriable` set exactly where that client's exception is a `RetriableException`.

/// A Kafka protocol error code (`int16`), as found in response fields.
///
/// A newtype rather than an enum so that codes newer than this table survive
/// decoding unchanged; known codes are available as associated constants, which
/// work in `match` patterns.
///
/// ```
/// use kafka_core::ErrorCode;
/// let code = ErrorCode::from_code(6);
/// assert_eq!(code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
/// assert!(code.is_retriable());
/// assert_eq!(code.name(), "NOT_LEADER_OR_FOLLOWER");
/// assert!(!ErrorCode::MESSAGE_TOO_LARGE.is_retriable());
/// match code {
///     ErrorCode::NONE => unreachable!(),
///     ErrorCode::NOT_LEADER_OR_FOLLOWER => { /* refresh metadata, retry */ }
///     other => panic!("unexpected {other}"),
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(i16);

/// What the Java client knows about one error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The wire code.
    pub code: i16,
    /// The Java client's enum constant name, e.g. `NOT_LEADER_OR_FOLLOWER`.
    pub name: &'static str,
    /// Whether the Java client's exception for it is a `RetriableException`.
    pub retriable: bool,
    /// The Java client's default message for it.
    pub description: &'static str,
}

/// The table, written once: each row is `code NAME kind "the Java client's
/// message"`, where kind is `retriable` (the Java client's exception is a
/// `RetriableException`), `fatal`, or `ok` (only `NONE`). It makes the
/// associated constants of [`ErrorCode`] and [`ERROR_TABLE`], in code order.
macro_rules! error_codes {
    ($($code:literal $name:ident $kind:ident $description:literal;)*) => {
        impl ErrorCode {
            $(error_codes!(@const $code $name $kind $description);)*
        }

        /// Every known error code, indexed by `code + 1` (codes are contiguous from -1).
        pub static ERROR_TABLE: [ErrorInfo; [$(stringify!($name)),*].len()] = [
            $(ErrorInfo {
                code: $code,
                name: stringify!($name),
                retriable: error_codes!(@retriable $kind),
                description: $description,
            },)*
        ];
    };
    (@const $code:literal $name:ident ok $description:literal) => {
        #[doc = concat!("`", stringify!($code), "`: no error.")]
        pub const $name: ErrorCode = ErrorCode($code);
    };
    (@const $code:literal $name:ident retriable $description:literal) => {
        #[doc = concat!("`", stringify!($code), "` (retriable): ", $description)]
        pub const $name: ErrorCode = ErrorCode($code);
    };
    (@const $code:literal $name:ident fatal $description:literal) => {
        #[doc = concat!("`", stringify!($code), "`: ", $description)]
        pub const $name: ErrorCode = ErrorCode($code);
    };
    (@retriable retriable) => { true };
    (@retriable fatal) => { false };
    (@retriable ok) => { false };
}

error_codes! {
    -1 UNKNOWN_SERVER_ERROR fatal "The server experienced an unexpected error when processing the request.";
    0 NONE ok "";
    1 OFFSET_OUT_OF_RANGE fatal "The requested offset is not within the range of offsets maintained by the server.";
    2 CORRUPT_MESSAGE retriable "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.";
    3 UNKNOWN_TOPIC_OR_PARTITION retriable "This server does not host this topic-partition.";
    4 INVALID_FETCH_SIZE fatal "The requested fetch size is invalid.";
    5 LEADER_NOT_AVAILABLE retriable "There is no leader for this topic-partition as we are in the middle of a leadership election.";
    6 NOT_LEADER_OR_FOLLOWER retriable "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.";
    7 REQUEST_TIMED_OUT retriable "The request timed out.";
    8 BROKER_NOT_AVAILABLE fatal "The broker is not available.";
    9 REPLICA_NOT_AVAILABLE retriable "The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition.";
    10 MESSAGE_TOO_LARGE fatal "The request included a message larger than the max message size the server will accept.";
    11 STALE_CONTROLLER_EPOCH fatal "The controller moved to another broker.";
    12 OFFSET_METADATA_TOO_LARGE fatal "The metadata field of the offset request was too large.";
    13 NETWORK_EXCEPTION retriable "The server disconnected before a response was received.";
    14 COORDINATOR_LOAD_IN_PROGRESS retriable "The coordinator is loading and hence can't process requests.";
    15 COORDINATOR_NOT_AVAILABLE retriable "The coordinator is not available.";
    16 NOT_COORDINATOR retriable "This is not the correct coordinator.";
    17 INVALID_TOPIC_EXCEPTION fatal "The request attempted to perform an operation on an invalid topic.";
    18 RECORD_LIST_TOO_LARGE fatal "The request included message batch larger than the configured segment size on the server.";
    19 NOT_ENOUGH_REPLICAS retriable "Messages are rejected since there are fewer in-sync replicas than required.";
    20 NOT_ENOUGH_REPLICAS_AFTER_APPEND retriable "Messages are written to the log, but to fewer in-sync replicas than required.";
    21 INVALID_REQUIRED_ACKS fatal "Produce request specified an invalid value for required acks.";
    22 ILLEGAL_GENERATION fatal "Specified group generation id is not valid.";
    23 INCONSISTENT_GROUP_PROTOCOL fatal "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.";
    24 INVALID_GROUP_ID fatal "The group id is invalid.";
    25 UNKNOWN_MEMBER_ID fatal "The coordinator is not aware of this member.";
    26 INVALID_SESSION_TIMEOUT fatal "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).";
    27 REBALANCE_IN_PROGRESS fatal "The group is rebalancing, so a rejoin is needed.";
    28 INVALID_COMMIT_OFFSET_SIZE fatal "The committing offset data size is not valid.";
    29 TOPIC_AUTHORIZATION_FAILED fatal "Topic authorization failed.";
    30 GROUP_AUTHORIZATION_FAILED fatal "Group authorization failed.";
    31 CLUSTER_AUTHORIZATION_FAILED fatal "Cluster authorization failed.";
    32 INVALID_TIMESTAMP fatal "The timestamp of the message is out of acceptable range.";
    33 UNSUPPORTED_SASL_MECHANISM fatal "The broker does not support the requested SASL mechanism.";
    34 ILLEGAL_SASL_STATE fatal "Request is not valid given the current SASL state.";
    35 UNSUPPORTED_VERSION fatal "The version of API is not supported.";
    36 TOPIC_ALREADY_EXISTS fatal "Topic with this name already exists.";
    37 INVALID_PARTITIONS fatal "Number of partitions is below 1.";
    38 INVALID_REPLICATION_FACTOR fatal "Replication factor is below 1 or larger than the number of available brokers.";
    39 INVALID_REPLICA_ASSIGNMENT fatal "Replica assignment is invalid.";
    40 INVALID_CONFIG fatal "Configuration is invalid.";
    41 NOT_CONTROLLER retriable "This is not the correct controller for this cluster.";
    42 INVALID_REQUEST fatal "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.";
    43 UNSUPPORTED_FOR_MESSAGE_FORMAT fatal "The message format version on the broker does not support the request.";
    44 POLICY_VIOLATION fatal "Request parameters do not satisfy the configured policy.";
    45 OUT_OF_ORDER_SEQUENCE_NUMBER fatal "The broker received an out of order sequence number.";
    46 DUPLICATE_SEQUENCE_NUMBER fatal "The broker received a duplicate sequence number.";
    47 INVALID_PRODUCER_EPOCH fatal "Producer attempted to produce with an old epoch.";
    48 INVALID_TXN_STATE fatal "The producer attempted a transactional operation in an invalid state.";
    49 INVALID_PRODUCER_ID_MAPPING fatal "The producer attempted to use a producer id which is not currently assigned to its transactional id.";
    50 INVALID_TRANSACTION_TIMEOUT fatal "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).";
    51 CONCURRENT_TRANSACTIONS retriable "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.";
    52 TRANSACTION_COORDINATOR_FENCED fatal "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.";
    53 TRANSACTIONAL_ID_AUTHORIZATION_FAILED fatal "Transactional Id authorization failed.";
    54 SECURITY_DISABLED fatal "Security features are disabled.";
    55 OPERATION_NOT_ATTEMPTED fatal "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest.";
    56 KAFKA_STORAGE_ERROR retriable "Disk error when trying to access log file on the disk.";
    57 LOG_DIR_NOT_FOUND fatal "The user-specified log directory is not found in the broker config.";
    58 SASL_AUTHENTICATION_FAILED fatal "SASL Authentication failed.";
    59 UNKNOWN_PRODUCER_ID fatal "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception.";
    60 REASSIGNMENT_IN_PROGRESS fatal "A partition reassignment is in progress.";
    61 DELEGATION_TOKEN_AUTH_DISABLED fatal "Delegation Token feature is not enabled.";
    62 DELEGATION_TOKEN_NOT_FOUND fatal "Delegation Token is not found on server.";
    63 DELEGATION_TOKEN_OWNER_MISMATCH fatal "Specified Principal is not valid Owner/Renewer.";
    64 DELEGATION_TOKEN_REQUEST_NOT_ALLOWED fatal "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels.";
    65 DELEGATION_TOKEN_AUTHORIZATION_FAILED fatal "Delegation Token authorization failed.";
    66 DELEGATION_TOKEN_EXPIRED fatal "Delegation Token is expired.";
    67 INVALID_PRINCIPAL_TYPE fatal "Supplied principalType is not supported.";
    68 NON_EMPTY_GROUP fatal "The group is not empty.";
    69 GROUP_ID_NOT_FOUND fatal "The group id does not exist.";
    70 FETCH_SESSION_ID_NOT_FOUND retriable "The fetch session ID was not found.";
    71 INVALID_FETCH_SESSION_EPOCH retriable "The fetch session epoch is invalid.";
    72 LISTENER_NOT_FOUND retriable "There is no listener on the leader broker that matches the listener on which metadata request was processed.";
    73 TOPIC_DELETION_DISABLED fatal "Topic deletion is disabled.";
    74 FENCED_LEADER_EPOCH retriable "The leader epoch in the request is older than the epoch on the broker.";
    75 UNKNOWN_LEADER_EPOCH retriable "The leader epoch in the request is newer than the epoch on the broker.";
    76 UNSUPPORTED_COMPRESSION_TYPE fatal "The requesting client does not support the compression type of given partition.";
    77 STALE_BROKER_EPOCH fatal "Broker epoch has changed.";
    78 OFFSET_NOT_AVAILABLE retriable "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.";
    79 MEMBER_ID_REQUIRED fatal "The group member needs to have a valid member id before actually entering a consumer group.";
    80 PREFERRED_LEADER_NOT_AVAILABLE retriable "The preferred leader was not available.";
    81 GROUP_MAX_SIZE_REACHED fatal "The group has reached its maximum size.";
    82 FENCED_INSTANCE_ID fatal "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.";
    83 ELIGIBLE_LEADERS_NOT_AVAILABLE retriable "Eligible topic partition leaders are not available.";
    84 ELECTION_NOT_NEEDED retriable "Leader election not needed for topic partition.";
    85 NO_REASSIGNMENT_IN_PROGRESS fatal "No partition reassignment is in progress.";
    86 GROUP_SUBSCRIBED_TO_TOPIC fatal "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.";
    87 INVALID_RECORD fatal "This record has failed the validation on broker and hence will be rejected.";
    88 UNSTABLE_OFFSET_COMMIT retriable "There are unstable offsets that need to be cleared.";
    89 THROTTLING_QUOTA_EXCEEDED retriable "The throttling quota has been exceeded.";
    90 PRODUCER_FENCED fatal "There is a newer producer with the same transactionalId which fences the current one.";
    91 RESOURCE_NOT_FOUND fatal "A request illegally referred to a resource that does not exist.";
    92 DUPLICATE_RESOURCE fatal "A request illegally referred to the same resource twice.";
    93 UNACCEPTABLE_CREDENTIAL fatal "Requested credential would not meet criteria for acceptability.";
    94 INCONSISTENT_VOTER_SET fatal "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters.";
    95 INVALID_UPDATE_VERSION fatal "The given update version was invalid.";
    96 FEATURE_UPDATE_FAILED fatal "Unable to update finalized features due to an unexpected server error.";
    97 PRINCIPAL_DESERIALIZATION_FAILURE fatal "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup.";
    98 SNAPSHOT_NOT_FOUND fatal "Requested snapshot was not found.";
    99 POSITION_OUT_OF_RANGE fatal "Requested position is not greater than or equal to zero, and less than the size of the snapshot.";
    100 UNKNOWN_TOPIC_ID retriable "This server does not host this topic ID.";
    101 DUPLICATE_BROKER_REGISTRATION fatal "This broker ID is already in use.";
    102 BROKER_ID_NOT_REGISTERED fatal "The given broker ID was not registered.";
    103 INCONSISTENT_TOPIC_ID retriable "The log's topic ID did not match the topic ID in the request.";
    104 INCONSISTENT_CLUSTER_ID fatal "The clusterId in the request does not match that found on the server.";
    105 TRANSACTIONAL_ID_NOT_FOUND fatal "The transactionalId could not be found.";
    106 FETCH_SESSION_TOPIC_ID_ERROR retriable "The fetch session encountered inconsistent topic ID usage.";
    107 INELIGIBLE_REPLICA fatal "The new ISR contains at least one ineligible replica.";
    108 NEW_LEADER_ELECTED fatal "The AlterPartition request successfully updated the partition state but the leader has changed.";
    109 OFFSET_MOVED_TO_TIERED_STORAGE fatal "The requested offset is moved to tiered storage.";
    110 FENCED_MEMBER_EPOCH fatal "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.";
    111 UNRELEASED_INSTANCE_ID fatal "The instance ID is still used by another member in the consumer group. That member must leave first.";
    112 UNSUPPORTED_ASSIGNOR fatal "The assignor or its version range is not supported by the consumer group.";
    113 STALE_MEMBER_EPOCH fatal "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.";
    114 MISMATCHED_ENDPOINT_TYPE fatal "The request was sent to an endpoint of the wrong type.";
    115 UNSUPPORTED_ENDPOINT_TYPE fatal "This endpoint type is not supported yet.";
    116 UNKNOWN_CONTROLLER_ID fatal "This controller ID is not known.";
    117 UNKNOWN_SUBSCRIPTION_ID fatal "Client sent a push telemetry request with an invalid or outdated subscription ID.";
    118 TELEMETRY_TOO_LARGE fatal "Client sent a push telemetry request larger than the maximum size the broker will accept.";
    119 INVALID_REGISTRATION fatal "The controller has considered the broker registration to be invalid.";
    120 TRANSACTION_ABORTABLE fatal "The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.";
    121 INVALID_RECORD_STATE fatal "The record state is invalid. The acknowledgement of delivery could not be completed.";
    122 SHARE_SESSION_NOT_FOUND retriable "The share session was not found.";
    123 INVALID_SHARE_SESSION_EPOCH retriable "The share session epoch is invalid.";
    124 FENCED_STATE_EPOCH fatal "The share coordinator rejected the request because the share-group state epoch did not match.";
    125 INVALID_VOTER_KEY fatal "The voter key doesn't match the receiving replica's key.";
    126 DUPLICATE_VOTER fatal "The voter is already part of the set of voters.";
    127 VOTER_NOT_FOUND fatal "The voter is not part of the set of voters.";
    128 INVALID_REGULAR_EXPRESSION fatal "The regular expression is not valid.";
    129 REBOOTSTRAP_REQUIRED fatal "Client metadata is stale. The client should rebootstrap to obtain new metadata.";
    130 STREAMS_INVALID_TOPOLOGY fatal "The supplied topology is invalid.";
    131 STREAMS_INVALID_TOPOLOGY_EPOCH fatal "The supplied topology epoch is invalid.";
    132 STREAMS_TOPOLOGY_FENCED fatal "The supplied topology epoch is outdated.";
    133 SHARE_SESSION_LIMIT_REACHED retriable "The limit of share sessions has been reached.";
}

/// The simple name of the exception the Java client raises for each code,
/// indexed as [`ERROR_TABLE`] (`code + 1`; empty for `NONE`): what Spring's
/// and Micrometer's tags show for a failed send (`exception`, `error`).
static JAVA_EXCEPTIONS: [&str; ERROR_TABLE.len()] = [
    "UnknownServerException",
    "",
    "OffsetOutOfRangeException",
    "CorruptRecordException",
    "UnknownTopicOrPartitionException",
    "InvalidFetchSizeException",
    "LeaderNotAvailableException",
    "NotLeaderOrFollowerException",
    "TimeoutException",
    "BrokerNotAvailableException",
    "ReplicaNotAvailableException",
    "RecordTooLargeException",
    "ControllerMovedException",
    "OffsetMetadataTooLarge",
    "NetworkException",
    "CoordinatorLoadInProgressException",
    "CoordinatorNotAvailableException",
    "NotCoordinatorException",
    "InvalidTopicException",
    "RecordBatchTooLargeException",
    "NotEnoughReplicasException",
    "NotEnoughReplicasAfterAppendException",
    "InvalidRequiredAcksException",
    "IllegalGenerationException",
    "InconsistentGroupProtocolException",
    "InvalidGroupIdException",
    "UnknownMemberIdException",
    "InvalidSessionTimeoutException",
    "RebalanceInProgressException",
    "InvalidCommitOffsetSizeException",
    "TopicAuthorizationException",
    "GroupAuthorizationException",
    "ClusterAuthorizationException",
    "InvalidTimestampException",
    "UnsupportedSaslMechanismException",
    "IllegalSaslStateException",
    "UnsupportedVersionException",
    "TopicExistsException",
    "InvalidPartitionsException",
    "InvalidReplicationFactorException",
    "InvalidReplicaAssignmentException",
    "InvalidConfigurationException",
    "NotControllerException",
    "InvalidRequestException",
    "UnsupportedForMessageFormatException",
    "PolicyViolationException",
    "OutOfOrderSequenceException",
    "DuplicateSequenceException",
    "InvalidProducerEpochException",
    "InvalidTxnStateException",
    "InvalidPidMappingException",
    "InvalidTxnTimeoutException",
    "ConcurrentTransactionsException",
    "TransactionCoordinatorFencedException",
    "TransactionalIdAuthorizationException",
    "SecurityDisabledException",
    "OperationNotAttemptedException",
    "KafkaStorageException",
    "LogDirNotFoundException",
    "SaslAuthenticationException",
    "UnknownProducerIdException",
    "ReassignmentInProgressException",
    "DelegationTokenDisabledException",
    "DelegationTokenNotFoundException",
    "DelegationTokenOwnerMismatchException",
    "UnsupportedByAuthenticationException",
    "DelegationTokenAuthorizationException",
    "DelegationTokenExpiredException",
    "InvalidPrincipalTypeException",
    "GroupNotEmptyException",
    "GroupIdNotFoundException",
    "FetchSessionIdNotFoundException",
    "InvalidFetchSessionEpochException",
    "ListenerNotFoundException",
    "TopicDeletionDisabledException",
    "FencedLeaderEpochException",
    "UnknownLeaderEpochException",
    "UnsupportedCompressionTypeException",
    "StaleBrokerEpochException",
    "OffsetNotAvailableException",
    "MemberIdRequiredException",
    "PreferredLeaderNotAvailableException",
    "GroupMaxSizeReachedException",
    "FencedInstanceIdException",
    "EligibleLeadersNotAvailableException",
    "ElectionNotNeededException",
    "NoReassignmentInProgressException",
    "GroupSubscribedToTopicException",
    "InvalidRecordException",
    "UnstableOffsetCommitException",
    "ThrottlingQuotaExceededException",
    "ProducerFencedException",
    "ResourceNotFoundException",
    "DuplicateResourceException",
    "UnacceptableCredentialException",
    "InconsistentVoterSetException",
    "InvalidUpdateVersionException",
    "FeatureUpdateFailedException",
    "PrincipalDeserializationException",
    "SnapshotNotFoundException",
    "PositionOutOfRangeException",
    "UnknownTopicIdException",
    "DuplicateBrokerRegistrationException",
    "BrokerIdNotRegisteredException",
    "InconsistentTopicIdException",
    "InconsistentClusterIdException",
    "TransactionalIdNotFoundException",
    "FetchSessionTopicIdException",
    "IneligibleReplicaException",
    "NewLeaderElectedException",
    "OffsetMovedToTieredStorageException",
    "FencedMemberEpochException",
    "UnreleasedInstanceIdException",
    "UnsupportedAssignorException",
    "StaleMemberEpochException",
    "MismatchedEndpointTypeException",
    "UnsupportedEndpointTypeException",
    "UnknownControllerIdException",
    "UnknownSubscriptionIdException",
    "TelemetryTooLargeException",
    "InvalidRegistrationException",
    "TransactionAbortableException",
    "InvalidRecordStateException",
    "ShareSessionNotFoundException",
    "InvalidShareSessionEpochException",
    "FencedStateEpochException",
    "InvalidVoterKeyException",
    "DuplicateVoterException",
    "VoterNotFoundException",
    "InvalidRegularExpression",
    "RebootstrapRequiredException",
    "StreamsInvalidTopologyException",
    "StreamsInvalidTopologyEpochException",
    "StreamsTopologyFencedException",
    "ShareSessionLimitReachedException",
];

impl ErrorCode {
    /// The error code for a raw wire value (known or not).
    pub const fn from_code(code: i16) -> ErrorCode {
        ErrorCode(code)
    }

    /// The raw wire value.
    pub const fn code(self) -> i16 {
        self.0
    }

    /// `true` for [`ErrorCode::NONE`].
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// `true` for any code other than [`ErrorCode::NONE`].
    pub const fn is_err(self) -> bool {
        self.0 != 0
    }

    /// The table entry for this code, or `None` for a code newer than this client.
    pub const fn info(self) -> Option<&'static ErrorInfo> {
        let index = self.0 as i32 + 1;
        if index < 0 || index >= ERROR_TABLE.len() as i32 {
            return None;
        }
        Some(&ERROR_TABLE[index as usize])
    }

    /// `true` when this client's table knows the code.
    pub const fn is_known(self) -> bool {
        self.info().is_some()
    }

    /// The Java client's name for the code; `UNKNOWN_ERROR_CODE` when unknown.
    pub const fn name(self) -> &'static str {
        match self.info() {
            Some(info) => info.name,
            None => "UNKNOWN_ERROR_CODE",
        }
    }

    /// The Java client's default message for the code.
    pub const fn description(self) -> &'static str {
        match self.info() {
            Some(info) if info.code == 0 => "No error.",
            Some(info) => info.description,
            None => {
                "An error code this client does not know (a newer broker?); treated as not retriable."
            }
        }
    }

    /// The simple name of the exception the Java client raises for this
    /// code (`NotLeaderOrFollowerException`), as Spring's send timer tags a
    /// failure; `UnknownServerException` for a code this client does not
    /// know, as Java's `Errors.forCode` maps it; `None` for `NONE`.
    ///
    /// ```
    /// use kafka_core::ErrorCode;
    /// assert_eq!(
    ///     ErrorCode::NOT_LEADER_OR_FOLLOWER.java_exception(),
    ///     Some("NotLeaderOrFollowerException")
    /// );
    /// assert_eq!(ErrorCode::from_code(9999).java_exception(), Some("UnknownServerException"));
    /// assert_eq!(ErrorCode::NONE.java_exception(), None);
    /// ```
    pub fn java_exception(self) -> Option<&'static str> {
        if self.is_ok() {
            return None;
        }
        let index = usize::try_from(i32::from(self.0) + 1).ok();
        Some(
            index
                .and_then(|i| JAVA_EXCEPTIONS.get(i))
                .copied()
                .unwrap_or("UnknownServerException"),
        )
    }

    /// Whether the operation may succeed if retried, exactly as the Java client
    /// decides (its exception extends `RetriableException`). Unknown codes are not
    /// retriable, as the Java client maps them to `UNKNOWN_SERVER_ERROR`.
    pub const fn is_retriable(self) -> bool {
        match self.info() {
            Some(info) => info.retriable,
            None => false,
        }
    }

    /// `Ok(())` for [`ErrorCode::NONE`], otherwise `Err(self)`.
    pub const fn into_result(self) -> Result<(), ErrorCode> {
        if self.is_ok() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (code {}): {}",
            self.name(),
            self.0,
            self.description()
        )
    }
}

impl std::error::Error for ErrorCode {}

impl Default for ErrorCode {
    fn default() -> Self {
        ErrorCode::NONE
    }
}

impl From<i16> for ErrorCode {
    fn from(code: i16) -> Self {
        ErrorCode(code)
    }
}

impl From<ErrorCode> for i16 {
    fn from(code: ErrorCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_code_plus_one() {
        for (index, info) in ERROR_TABLE.iter().enumerate() {
            assert_eq!(info.code as i32 + 1, index as i32);
            assert_eq!(ErrorCode::from_code(info.code).info(), Some(info));
        }
    }

    #[test]
    fn retriable_flags_follow_the_java_client() {
        let retriable = [
            ErrorCode::NOT_LEADER_OR_FOLLOWER,
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            ErrorCode::NOT_ENOUGH_REPLICAS,
            ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            ErrorCode::REQUEST_TIMED_OUT,
            ErrorCode::NETWORK_EXCEPTION,
            ErrorCode::LEADER_NOT_AVAILABLE,
            ErrorCode::KAFKA_STORAGE_ERROR,
            ErrorCode::CORRUPT_MESSAGE,
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
            ErrorCode::COORDINATOR_NOT_AVAILABLE,
            ErrorCode::NOT_COORDINATOR,
            ErrorCode::CONCURRENT_TRANSACTIONS,
        ];
        for code in retriable {
            assert!(code.is_retriable(), "{code:?} must be retriable");
        }
        let fatal = [
            ErrorCode::NONE,
            ErrorCode::UNKNOWN_SERVER_ERROR,
            ErrorCode::MESSAGE_TOO_LARGE,
            ErrorCode::RECORD_LIST_TOO_LARGE,
            ErrorCode::INVALID_RECORD,
            ErrorCode::TOPIC_AUTHORIZATION_FAILED,
            ErrorCode::INVALID_PRODUCER_EPOCH,
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            ErrorCode::TRANSACTION_ABORTABLE,
            ErrorCode::UNSUPPORTED_VERSION,
        ];
        for code in fatal {
            assert!(!code.is_retriable(), "{code:?} must not be retriable");
        }
        assert_eq!(ERROR_TABLE.iter().filter(|info| info.retriable).count(), 32);
    }

    #[test]
    fn java_exceptions_are_the_java_clients_for_each_code() {
        for (code, exception) in [
            (ErrorCode::MESSAGE_TOO_LARGE, "RecordTooLargeException"),
            (ErrorCode::CORRUPT_MESSAGE, "CorruptRecordException"),
            (ErrorCode::REQUEST_TIMED_OUT, "TimeoutException"),
            (ErrorCode::NETWORK_EXCEPTION, "NetworkException"),
            (ErrorCode::UNKNOWN_SERVER_ERROR, "UnknownServerException"),
            (ErrorCode::TOPIC_AUTHORIZATION_FAILED, "TopicAuthorizationException"),
            (ErrorCode::TRANSACTION_ABORTABLE, "TransactionAbortableException"),
            (ErrorCode::INVALID_REGULAR_EXPRESSION, "InvalidRegularExpression"),
        ] {
            assert_eq!(code.java_exception(), Some(exception), "{code:?}");
        }
        // Every known code but NONE has one.
        for info in ERROR_TABLE.iter().filter(|info| info.code != 0) {
            let exception = ErrorCode::from_code(info.code).java_exception();
            assert!(
                exception.is_some_and(|name| name.starts_with(char::is_uppercase)),
                "{}: {exception:?}",
                info.name
            );
        }
        assert_eq!(ErrorCode::NONE.java_exception(), None);
        assert_eq!(
            ErrorCode::from_code(-2).java_exception(),
            Some("UnknownServerException")
        );
    }

    #[test]
    fn unknown_codes_survive_and_are_not_retriable() {
        let code = ErrorCode::from_code(9_999);
        assert_eq!(code.code(), 9_999);
        assert!(!code.is_known());
        assert!(!code.is_retriable());
        assert_eq!(code.name(), "UNKNOWN_ERROR_CODE");
        assert!(ErrorCode::from_code(-2).info().is_none());
        assert!(code.to_string().contains("9999"));
    }

    #[test]
    fn agrees_with_kafka_protocol_crate() {
        use kafka_protocol::error::ResponseError;
        // kafka-protocol 0.18 predates Kafka 4.0 making ConcurrentTransactionsException
        // a RetriableException; the Java client (our reference) wins.
        let known_differences = [ErrorCode::CONCURRENT_TRANSACTIONS.code()];
        let mut compared = 0;
        for info in ERROR_TABLE.iter().filter(|info| info.code != 0) {
            if let Some(theirs) = ResponseError::try_from_code(info.code) {
                compared += 1;
                assert_eq!(theirs.code(), info.code);
                if !known_differences.contains(&info.code) {
                    assert_eq!(theirs.is_retriable(), info.retriable, "{}", info.name);
                }
            }
        }
        assert!(compared > 100, "compared only {compared} codes");
    }
}
