//! The API version ranges a broker reported, and picking the version to use.

use crate::protocol::messages::ApiVersionRange;
use crate::protocol::{ApiKey, Request};

/// The version ranges one broker supports, from its ApiVersions response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerApiVersions {
    /// Sorted by API key, one entry per key.
    ranges: Vec<ApiVersionRange>,
}

impl BrokerApiVersions {
    /// Keep the broker's ranges (duplicates: the first wins; inverted ranges dropped).
    pub fn new(mut ranges: Vec<ApiVersionRange>) -> Self {
        ranges.retain(|range| range.min_version <= range.max_version);
        ranges.sort_by_key(|range| range.api_key);
        ranges.dedup_by_key(|range| range.api_key);
        BrokerApiVersions { ranges }
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
