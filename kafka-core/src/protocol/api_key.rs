//! Kafka API keys: the first field of every request header.

/// A Kafka API, identified on the wire by its `int16` key.
///
/// Lists every API up to Kafka 4.1 (including inter-broker ones, so a broker's
/// ApiVersions answer can be printed by name). Unknown keys are handled as raw
/// `i16` by [`ApiKey::from_code`] returning `None`.
///
/// ```
/// use kafka_core::protocol::ApiKey;
/// assert_eq!(ApiKey::Produce.code(), 0);
/// assert_eq!(ApiKey::from_code(18), Some(ApiKey::ApiVersions));
/// assert_eq!(ApiKey::from_code(-7), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i16)]
#[non_exhaustive]
pub enum ApiKey {
    /// Produce (key 0).
    Produce = 0,
    /// Fetch (key 1).
    Fetch = 1,
    /// List Offsets (key 2).
    ListOffsets = 2,
    /// Metadata (key 3).
    Metadata = 3,
    /// Leader And Isr (key 4).
    LeaderAndIsr = 4,
    /// Stop Replica (key 5).
    StopReplica = 5,
    /// Update Metadata (key 6).
    UpdateMetadata = 6,
    /// Controlled Shutdown (key 7).
    ControlledShutdown = 7,
    /// Offset Commit (key 8).
    OffsetCommit = 8,
    /// Offset Fetch (key 9).
    OffsetFetch = 9,
    /// Find Coordinator (key 10).
    FindCoordinator = 10,
    /// Join Group (key 11).
    JoinGroup = 11,
    /// Heartbeat (key 12).
    Heartbeat = 12,
    /// Leave Group (key 13).
    LeaveGroup = 13,
    /// Sync Group (key 14).
    SyncGroup = 14,
    /// Describe Groups (key 15).
    DescribeGroups = 15,
    /// List Groups (key 16).
    ListGroups = 16,
    /// Sasl Handshake (key 17).
    SaslHandshake = 17,
    /// Api Versions (key 18).
    ApiVersions = 18,
    /// Create Topics (key 19).
    CreateTopics = 19,
    /// Delete Topics (key 20).
    DeleteTopics = 20,
    /// Delete Records (key 21).
    DeleteRecords = 21,
    /// Init Producer Id (key 22).
    InitProducerId = 22,
    /// Offset For Leader Epoch (key 23).
    OffsetForLeaderEpoch = 23,
    /// Add Partitions To Txn (key 24).
    AddPartitionsToTxn = 24,
    /// Add Offsets To Txn (key 25).
    AddOffsetsToTxn = 25,
    /// End Txn (key 26).
    EndTxn = 26,
    /// Write Txn Markers (key 27).
    WriteTxnMarkers = 27,
    /// Txn Offset Commit (key 28).
    TxnOffsetCommit = 28,
    /// Describe Acls (key 29).
    DescribeAcls = 29,
    /// Create Acls (key 30).
    CreateAcls = 30,
    /// Delete Acls (key 31).
    DeleteAcls = 31,
    /// Describe Configs (key 32).
    DescribeConfigs = 32,
    /// Alter Configs (key 33).
    AlterConfigs = 33,
    /// Alter Replica Log Dirs (key 34).
    AlterReplicaLogDirs = 34,
    /// Describe Log Dirs (key 35).
    DescribeLogDirs = 35,
    /// Sasl Authenticate (key 36).
    SaslAuthenticate = 36,
    /// Create Partitions (key 37).
    CreatePartitions = 37,
    /// Create Delegation Token (key 38).
    CreateDelegationToken = 38,
    /// Renew Delegation Token (key 39).
    RenewDelegationToken = 39,
    /// Expire Delegation Token (key 40).
    ExpireDelegationToken = 40,
    /// Describe Delegation Token (key 41).
    DescribeDelegationToken = 41,
    /// Delete Groups (key 42).
    DeleteGroups = 42,
    /// Elect Leaders (key 43).
    ElectLeaders = 43,
    /// Incremental Alter Configs (key 44).
    IncrementalAlterConfigs = 44,
    /// Alter Partition Reassignments (key 45).
    AlterPartitionReassignments = 45,
    /// List Partition Reassignments (key 46).
    ListPartitionReassignments = 46,
    /// Offset Delete (key 47).
    OffsetDelete = 47,
    /// Describe Client Quotas (key 48).
    DescribeClientQuotas = 48,
    /// Alter Client Quotas (key 49).
    AlterClientQuotas = 49,
    /// Describe User Scram Credentials (key 50).
    DescribeUserScramCredentials = 50,
    /// Alter User Scram Credentials (key 51).
    AlterUserScramCredentials = 51,
    /// Vote (key 52).
    Vote = 52,
    /// Begin Quorum Epoch (key 53).
    BeginQuorumEpoch = 53,
    /// End Quorum Epoch (key 54).
    EndQuorumEpoch = 54,
    /// Describe Quorum (key 55).
    DescribeQuorum = 55,
    /// Alter Partition (key 56).
    AlterPartition = 56,
    /// Update Features (key 57).
    UpdateFeatures = 57,
    /// Envelope (key 58).
    Envelope = 58,
    /// Fetch Snapshot (key 59).
    FetchSnapshot = 59,
    /// Describe Cluster (key 60).
    DescribeCluster = 60,
    /// Describe Producers (key 61).
    DescribeProducers = 61,
    /// Broker Registration (key 62).
    BrokerRegistration = 62,
    /// Broker Heartbeat (key 63).
    BrokerHeartbeat = 63,
    /// Unregister Broker (key 64).
    UnregisterBroker = 64,
    /// Describe Transactions (key 65).
    DescribeTransactions = 65,
    /// List Transactions (key 66).
    ListTransactions = 66,
    /// Allocate Producer Ids (key 67).
    AllocateProducerIds = 67,
    /// Consumer Group Heartbeat (key 68).
    ConsumerGroupHeartbeat = 68,
    /// Consumer Group Describe (key 69).
    ConsumerGroupDescribe = 69,
    /// Controller Registration (key 70).
    ControllerRegistration = 70,
    /// Get Telemetry Subscriptions (key 71).
    GetTelemetrySubscriptions = 71,
    /// Push Telemetry (key 72).
    PushTelemetry = 72,
    /// Assign Replicas To Dirs (key 73).
    AssignReplicasToDirs = 73,
    /// List Config Resources (key 74).
    ListConfigResources = 74,
    /// Describe Topic Partitions (key 75).
    DescribeTopicPartitions = 75,
    /// Share Group Heartbeat (key 76).
    ShareGroupHeartbeat = 76,
    /// Share Group Describe (key 77).
    ShareGroupDescribe = 77,
    /// Share Fetch (key 78).
    ShareFetch = 78,
    /// Share Acknowledge (key 79).
    ShareAcknowledge = 79,
    /// Add Raft Voter (key 80).
    AddRaftVoter = 80,
    /// Remove Raft Voter (key 81).
    RemoveRaftVoter = 81,
    /// Update Raft Voter (key 82).
    UpdateRaftVoter = 82,
    /// Initialize Share Group State (key 83).
    InitializeShareGroupState = 83,
    /// Read Share Group State (key 84).
    ReadShareGroupState = 84,
    /// Write Share Group State (key 85).
    WriteShareGroupState = 85,
    /// Delete Share Group State (key 86).
    DeleteShareGroupState = 86,
    /// Read Share Group State Summary (key 87).
    ReadShareGroupStateSummary = 87,
    /// Streams Group Heartbeat (key 88).
    StreamsGroupHeartbeat = 88,
    /// Streams Group Describe (key 89).
    StreamsGroupDescribe = 89,
    /// Describe Share Group Offsets (key 90).
    DescribeShareGroupOffsets = 90,
    /// Alter Share Group Offsets (key 91).
    AlterShareGroupOffsets = 91,
    /// Delete Share Group Offsets (key 92).
    DeleteShareGroupOffsets = 92,
}

impl ApiKey {
    /// Every API key this enum knows, in key order.
    pub const ALL: &'static [ApiKey] = &[
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::Metadata,
        ApiKey::LeaderAndIsr,
        ApiKey::StopReplica,
        ApiKey::UpdateMetadata,
        ApiKey::ControlledShutdown,
        ApiKey::OffsetCommit,
        ApiKey::OffsetFetch,
        ApiKey::FindCoordinator,
        ApiKey::JoinGroup,
        ApiKey::Heartbeat,
        ApiKey::LeaveGroup,
        ApiKey::SyncGroup,
        ApiKey::DescribeGroups,
        ApiKey::ListGroups,
        ApiKey::SaslHandshake,
        ApiKey::ApiVersions,
        ApiKey::CreateTopics,
        ApiKey::DeleteTopics,
        ApiKey::DeleteRecords,
        ApiKey::InitProducerId,
        ApiKey::OffsetForLeaderEpoch,
        ApiKey::AddPartitionsToTxn,
        ApiKey::AddOffsetsToTxn,
        ApiKey::EndTxn,
        ApiKey::WriteTxnMarkers,
        ApiKey::TxnOffsetCommit,
        ApiKey::DescribeAcls,
        ApiKey::CreateAcls,
        ApiKey::DeleteAcls,
        ApiKey::DescribeConfigs,
        ApiKey::AlterConfigs,
        ApiKey::AlterReplicaLogDirs,
        ApiKey::DescribeLogDirs,
        ApiKey::SaslAuthenticate,
        ApiKey::CreatePartitions,
        ApiKey::CreateDelegationToken,
        ApiKey::RenewDelegationToken,
        ApiKey::ExpireDelegationToken,
        ApiKey::DescribeDelegationToken,
        ApiKey::DeleteGroups,
        ApiKey::ElectLeaders,
        ApiKey::IncrementalAlterConfigs,
        ApiKey::AlterPartitionReassignments,
        ApiKey::ListPartitionReassignments,
        ApiKey::OffsetDelete,
        ApiKey::DescribeClientQuotas,
        ApiKey::AlterClientQuotas,
        ApiKey::DescribeUserScramCredentials,
        ApiKey::AlterUserScramCredentials,
        ApiKey::Vote,
        ApiKey::BeginQuorumEpoch,
        ApiKey::EndQuorumEpoch,
        ApiKey::DescribeQuorum,
        ApiKey::AlterPartition,
        ApiKey::UpdateFeatures,
        ApiKey::Envelope,
        ApiKey::FetchSnapshot,
        ApiKey::DescribeCluster,
        ApiKey::DescribeProducers,
        ApiKey::BrokerRegistration,
        ApiKey::BrokerHeartbeat,
        ApiKey::UnregisterBroker,
        ApiKey::DescribeTransactions,
        ApiKey::ListTransactions,
        ApiKey::AllocateProducerIds,
        ApiKey::ConsumerGroupHeartbeat,
        ApiKey::ConsumerGroupDescribe,
        ApiKey::ControllerRegistration,
        ApiKey::GetTelemetrySubscriptions,
        ApiKey::PushTelemetry,
        ApiKey::AssignReplicasToDirs,
        ApiKey::ListConfigResources,
        ApiKey::DescribeTopicPartitions,
        ApiKey::ShareGroupHeartbeat,
        ApiKey::ShareGroupDescribe,
        ApiKey::ShareFetch,
        ApiKey::ShareAcknowledge,
        ApiKey::AddRaftVoter,
        ApiKey::RemoveRaftVoter,
        ApiKey::UpdateRaftVoter,
        ApiKey::InitializeShareGroupState,
        ApiKey::ReadShareGroupState,
        ApiKey::WriteShareGroupState,
        ApiKey::DeleteShareGroupState,
        ApiKey::ReadShareGroupStateSummary,
        ApiKey::StreamsGroupHeartbeat,
        ApiKey::StreamsGroupDescribe,
        ApiKey::DescribeShareGroupOffsets,
        ApiKey::AlterShareGroupOffsets,
        ApiKey::DeleteShareGroupOffsets,
    ];

    /// The key as sent on the wire.
    pub const fn code(self) -> i16 {
        self as i16
    }

    /// The API for a wire key, or `None` for a key this client does not know.
    pub const fn from_code(code: i16) -> Option<ApiKey> {
        Some(match code {
            0 => ApiKey::Produce,
            1 => ApiKey::Fetch,
            2 => ApiKey::ListOffsets,
            3 => ApiKey::Metadata,
            4 => ApiKey::LeaderAndIsr,
            5 => ApiKey::StopReplica,
            6 => ApiKey::UpdateMetadata,
            7 => ApiKey::ControlledShutdown,
            8 => ApiKey::OffsetCommit,
            9 => ApiKey::OffsetFetch,
            10 => ApiKey::FindCoordinator,
            11 => ApiKey::JoinGroup,
            12 => ApiKey::Heartbeat,
            13 => ApiKey::LeaveGroup,
            14 => ApiKey::SyncGroup,
            15 => ApiKey::DescribeGroups,
            16 => ApiKey::ListGroups,
            17 => ApiKey::SaslHandshake,
            18 => ApiKey::ApiVersions,
            19 => ApiKey::CreateTopics,
            20 => ApiKey::DeleteTopics,
            21 => ApiKey::DeleteRecords,
            22 => ApiKey::InitProducerId,
            23 => ApiKey::OffsetForLeaderEpoch,
            24 => ApiKey::AddPartitionsToTxn,
            25 => ApiKey::AddOffsetsToTxn,
            26 => ApiKey::EndTxn,
            27 => ApiKey::WriteTxnMarkers,
            28 => ApiKey::TxnOffsetCommit,
            29 => ApiKey::DescribeAcls,
            30 => ApiKey::CreateAcls,
            31 => ApiKey::DeleteAcls,
            32 => ApiKey::DescribeConfigs,
            33 => ApiKey::AlterConfigs,
            34 => ApiKey::AlterReplicaLogDirs,
            35 => ApiKey::DescribeLogDirs,
            36 => ApiKey::SaslAuthenticate,
            37 => ApiKey::CreatePartitions,
            38 => ApiKey::CreateDelegationToken,
            39 => ApiKey::RenewDelegationToken,
            40 => ApiKey::ExpireDelegationToken,
            41 => ApiKey::DescribeDelegationToken,
            42 => ApiKey::DeleteGroups,
            43 => ApiKey::ElectLeaders,
            44 => ApiKey::IncrementalAlterConfigs,
            45 => ApiKey::AlterPartitionReassignments,
            46 => ApiKey::ListPartitionReassignments,
            47 => ApiKey::OffsetDelete,
            48 => ApiKey::DescribeClientQuotas,
            49 => ApiKey::AlterClientQuotas,
            50 => ApiKey::DescribeUserScramCredentials,
            51 => ApiKey::AlterUserScramCredentials,
            52 => ApiKey::Vote,
            53 => ApiKey::BeginQuorumEpoch,
            54 => ApiKey::EndQuorumEpoch,
            55 => ApiKey::DescribeQuorum,
            56 => ApiKey::AlterPartition,
            57 => ApiKey::UpdateFeatures,
            58 => ApiKey::Envelope,
            59 => ApiKey::FetchSnapshot,
            60 => ApiKey::DescribeCluster,
            61 => ApiKey::DescribeProducers,
            62 => ApiKey::BrokerRegistration,
            63 => ApiKey::BrokerHeartbeat,
            64 => ApiKey::UnregisterBroker,
            65 => ApiKey::DescribeTransactions,
            66 => ApiKey::ListTransactions,
            67 => ApiKey::AllocateProducerIds,
            68 => ApiKey::ConsumerGroupHeartbeat,
            69 => ApiKey::ConsumerGroupDescribe,
            70 => ApiKey::ControllerRegistration,
            71 => ApiKey::GetTelemetrySubscriptions,
            72 => ApiKey::PushTelemetry,
            73 => ApiKey::AssignReplicasToDirs,
            74 => ApiKey::ListConfigResources,
            75 => ApiKey::DescribeTopicPartitions,
            76 => ApiKey::ShareGroupHeartbeat,
            77 => ApiKey::ShareGroupDescribe,
            78 => ApiKey::ShareFetch,
            79 => ApiKey::ShareAcknowledge,
            80 => ApiKey::AddRaftVoter,
            81 => ApiKey::RemoveRaftVoter,
            82 => ApiKey::UpdateRaftVoter,
            83 => ApiKey::InitializeShareGroupState,
            84 => ApiKey::ReadShareGroupState,
            85 => ApiKey::WriteShareGroupState,
            86 => ApiKey::DeleteShareGroupState,
            87 => ApiKey::ReadShareGroupStateSummary,
            88 => ApiKey::StreamsGroupHeartbeat,
            89 => ApiKey::StreamsGroupDescribe,
            90 => ApiKey::DescribeShareGroupOffsets,
            91 => ApiKey::AlterShareGroupOffsets,
            92 => ApiKey::DeleteShareGroupOffsets,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::ApiKey;

    #[test]
    fn every_key_round_trips_through_its_code() {
        for &key in ApiKey::ALL {
            assert_eq!(ApiKey::from_code(key.code()), Some(key));
        }
        assert_eq!(ApiKey::ALL.len(), 93);
    }

    #[test]
    fn keys_match_kafka_protocol_crate() {
        for &key in ApiKey::ALL {
            if let Ok(theirs) = kafka_protocol::messages::ApiKey::try_from(key.code()) {
                assert_eq!(format!("{theirs:?}"), key.to_string());
            }
        }
    }
}
