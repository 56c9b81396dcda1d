//! The API version ranges a broker reported, and picking the version to use.

use crate::protocol::messages::{ApiVersionRange, FinalizedFeature};
use crate::protocol::{ApiKey, Request};

/// The finalized feature that selects the transaction protocol (KIP-890).
pub const TRANSACTION_VERSION_FEATURE: &str = "transaction.version";

/// The version ranges one broker supports, from its ApiVersions response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerApiVersions {
    /// Sorted by API key, one entry per key.
    ranges: Vec<ApiVersionRange>,
    /// The cluster's finalized features, as this broker reported them.
    finalized_features: Vec<FinalizedFeature>,
}

impl BrokerApiVersions {
    /// Keep the broker's ranges (duplicates: the first wins; inverted ranges dropped).
    pub fn new(mut ranges: Vec<ApiVersionRange>) -> Self {
        ranges.retain(|range| range.min_version <= range.max_version);
        ranges.sort_by_key(|range| range.api_key);
        ranges.dedup_by_key(|range| range.api_key);
        BrokerApiVersions {
            ranges,
            finalized_features: Vec::new(),
        }
    }

    /// With the cluster's finalized features (ApiVersions v3+).
    pub fn with_finalized_features(mut self, features: Vec<FinalizedFeature>) -> Self {
        self.finalized_features = features;
        self
    }

    /// The finalized (max) level of feature `name`, if the broker reported it.
    pub fn finalized_feature_level(&self, name: &str) -> Option<i16> {
        FinalizedFeature::level_of(&self.finalized_features, name)
    }

    /// Whether a transactional producer uses transactions V2 (KIP-890) with
    /// this broker, as the Java 4.x client decides: the cluster finalized
    /// `transaction.version` >= 2 and the broker offers Produce v12 and
    /// EndTxn v5.
    pub fn supports_transaction_v2(&self) -> bool {
        self.finalized_feature_level(TRANSACTION_VERSION_FEATURE)
            .is_some_and(|level| level >= 2)
            && self.range(ApiKey::Produce).is_some_and(|(_, max)| max >= 12)
            && self.range(ApiKey::EndTxn).is_some_and(|(_, max)| max >= 5)
    }

    /// The broker's range for `api`, if it offers it.
    pub fn range(&self, api: ApiKey) -> Option<(i16, i16)> {
        self.ranges
            .binary_search_by_key(&api.code(), |range| range.api_key)
            .ok()
            .map(|index| {
                (
                    self.ranges[index].min_version,
                    self.ranges[index].max_version,
                )
            })
    }

    /// The highest version of `R` both this client and the broker support.
    pub fn highest_common<R: Request>(&self) -> Option<i16> {
        let (broker_min, broker_max) = self.range(R::API_KEY)?;
        let highest = broker_max.min(R::MAX_VERSION);
        (highest >= broker_min.max(R::MIN_VERSION)).then_some(highest)
    }

    /// All ranges, sorted by API key.
    pub fn ranges(&self) -> &[ApiVersionRange] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::{MetadataRequest, ProduceRequest};

    fn range(api_key: i16, min_version: i16, max_version: i16) -> ApiVersionRange {
        ApiVersionRange {
            api_key,
            min_version,
            max_version,
        }
    }

    #[test]
    fn transactions_v2_needs_the_feature_and_the_versions() {
        let feature = |level| {
            vec![FinalizedFeature {
                name: TRANSACTION_VERSION_FEATURE.into(),
                max_version_level: level,
                min_version_level: 0,
            }]
        };
        let kafka_41 = || BrokerApiVersions::new(vec![range(0, 3, 13), range(26, 0, 5)]);
        assert!(kafka_41().with_finalized_features(feature(2)).supports_transaction_v2());
        assert!(
            !kafka_41().with_finalized_features(feature(1)).supports_transaction_v2(),
            "transaction.version 1 is V1"
        );
        assert!(!kafka_41().supports_transaction_v2(), "no feature reported");
        let kafka_39 = BrokerApiVersions::new(vec![range(0, 3, 11), range(26, 0, 4)]);
        assert!(!kafka_39.with_finalized_features(feature(2)).supports_transaction_v2());
        let no_end_txn_v5 = BrokerApiVersions::new(vec![range(0, 3, 12), range(26, 0, 4)]);
        assert!(!no_end_txn_v5.with_finalized_features(feature(2)).supports_transaction_v2());
    }

    #[test]
    fn picks_the_highest_common_version() {
        let versions =
            BrokerApiVersions::new(vec![range(3, 0, 12), range(0, 0, 12), range(0, 9, 9)]);
        assert_eq!(versions.highest_common::<ProduceRequest>(), Some(12));
        assert_eq!(versions.highest_common::<MetadataRequest>(), Some(12));
        assert_eq!(versions.range(ApiKey::Produce), Some((0, 12)));

        let old = BrokerApiVersions::new(vec![range(0, 0, 2), range(3, 0, 3)]);
        assert_eq!(old.highest_common::<ProduceRequest>(), None);
        assert_eq!(old.highest_common::<MetadataRequest>(), None);

        let newer_min = BrokerApiVersions::new(vec![range(0, 14, 20)]);
        assert_eq!(newer_min.highest_common::<ProduceRequest>(), None);

        assert_eq!(
            BrokerApiVersions::default().highest_common::<ProduceRequest>(),
            None
        );
        assert_eq!(
            BrokerApiVersions::new(vec![range(0, 5, 4)]).range(ApiKey::Produce),
            None
        );
    }
}
