//! Kafka API keys: the first field of every request header.

/// The table, written once: each row is `key Name;`. It makes the [`ApiKey`]
/// enum, [`ApiKey::ALL`] and [`ApiKey::from_code`].
macro_rules! api_keys {
    ($($code:literal $name:ident;)*) => {
        /// A Kafka API, identified on the wire by its `int16` key.
        ///
        /// Lists every API up to Kafka 4.1 (including inter-broker ones, so a broker's
        /// ApiVersions answer can be printed by name). Unknown keys are handled as raw
        /// `i16` by [`ApiKey::from_code`] returning `None`.
        ///
        /// ```
        /// use kafka_core::ApiKey;
        /// assert_eq!(ApiKey::Produce.code(), 0);
        /// assert_eq!(ApiKey::from_code(18), Some(ApiKey::ApiVersions));
        /// assert_eq!(ApiKey::from_code(-7), None);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i16)]
        #[non_exhaustive]
        pub enum ApiKey {
            $(
                #[doc = concat!(stringify!($name), " (key ", stringify!($code), ").")]
                $name = $code,
            )*
        }

        impl ApiKey {
            /// Every API key this enum knows, in key order.
            pub const ALL: &'static [ApiKey] = &[$(ApiKey::$name),*];

            /// The API for a wire key, or `None` for a key this client does not know.
            pub const fn from_code(code: i16) -> Option<ApiKey> {
                Some(match code {
                    $($code => ApiKey::$name,)*
                    _ => return None,
                })
            }
        }
    };
}

api_keys! {
    0 Produce;
    1 Fetch;
    2 ListOffsets;
    3 Metadata;
    4 LeaderAndIsr;
    5 StopReplica;
    6 UpdateMetadata;
    7 ControlledShutdown;
    8 OffsetCommit;
    9 OffsetFetch;
    10 FindCoordinator;
    11 JoinGroup;
    12 Heartbeat;
    13 LeaveGroup;
    14 SyncGroup;
    15 DescribeGroups;
    16 ListGroups;
    17 SaslHandshake;
    18 ApiVersions;
    19 CreateTopics;
    20 DeleteTopics;
    21 DeleteRecords;
    22 InitProducerId;
    23 OffsetForLeaderEpoch;
    24 AddPartitionsToTxn;
    25 AddOffsetsToTxn;
    26 EndTxn;
    27 WriteTxnMarkers;
    28 TxnOffsetCommit;
    29 DescribeAcls;
    30 CreateAcls;
    31 DeleteAcls;
    32 DescribeConfigs;
    33 AlterConfigs;
    34 AlterReplicaLogDirs;
    35 DescribeLogDirs;
    36 SaslAuthenticate;
    37 CreatePartitions;
    38 CreateDelegationToken;
    39 RenewDelegationToken;
    40 ExpireDelegationToken;
    41 DescribeDelegationToken;
    42 DeleteGroups;
    43 ElectLeaders;
    44 IncrementalAlterConfigs;
    45 AlterPartitionReassignments;
    46 ListPartitionReassignments;
    47 OffsetDelete;
    48 DescribeClientQuotas;
    49 AlterClientQuotas;
    50 DescribeUserScramCredentials;
    51 AlterUserScramCredentials;
    52 Vote;
    53 BeginQuorumEpoch;
    54 EndQuorumEpoch;
    55 DescribeQuorum;
    56 AlterPartition;
    57 UpdateFeatures;
    58 Envelope;
    59 FetchSnapshot;
    60 DescribeCluster;
    61 DescribeProducers;
    62 BrokerRegistration;
    63 BrokerHeartbeat;
    64 UnregisterBroker;
    65 DescribeTransactions;
    66 ListTransactions;
    67 AllocateProducerIds;
    68 ConsumerGroupHeartbeat;
    69 ConsumerGroupDescribe;
    70 ControllerRegistration;
    71 GetTelemetrySubscriptions;
    72 PushTelemetry;
    73 AssignReplicasToDirs;
    74 ListConfigResources;
    75 DescribeTopicPartitions;
    76 ShareGroupHeartbeat;
    77 ShareGroupDescribe;
    78 ShareFetch;
    79 ShareAcknowledge;
    80 AddRaftVoter;
    81 RemoveRaftVoter;
    82 UpdateRaftVoter;
    83 InitializeShareGroupState;
    84 ReadShareGroupState;
    85 WriteShareGroupState;
    86 DeleteShareGroupState;
    87 ReadShareGroupStateSummary;
    88 StreamsGroupHeartbeat;
    89 StreamsGroupDescribe;
    90 DescribeShareGroupOffsets;
    91 AlterShareGroupOffsets;
    92 DeleteShareGroupOffsets;
}

impl ApiKey {
    /// The key as sent on the wire.
    pub const fn code(self) -> i16 {
        self as i16
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
