//! What a partitioner may know about the cluster: per topic, how many partitions
//! it has and which of them currently have a leader.

use std::collections::HashMap;
use std::sync::Arc;

/// One topic's partitions as the partitioners see them.
///
/// ```
/// use kafka_core::TopicPartitions;
/// // Partition 1 has no leader right now (an election is in progress).
/// let orders = TopicPartitions::new(3, [2, 0]);
/// assert_eq!(orders.partition_count(), 3);
/// assert_eq!(orders.available_partitions(), [0, 2]);
/// assert!(!orders.is_available(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPartitions {
    partition_count: usize,
    available: Arc<[i32]>,
}

impl TopicPartitions {
    /// A view of a topic with `partition_count` partitions, of which `available`
    /// (in any order) have a leader. Ids outside `0..partition_count` and
    /// duplicates are dropped, so the view is always consistent.
    pub fn new(partition_count: usize, available: impl IntoIterator<Item = i32>) -> Self {
        let mut ids: Vec<i32> = available
            .into_iter()
            .filter(|id| usize::try_from(*id).is_ok_and(|id| id < partition_count))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        TopicPartitions {
            partition_count,
            available: ids.into(),
        }
    }

    /// A topic whose partitions all have a leader.
    pub fn all_available(partition_count: usize) -> Self {
        let last = i32::try_from(partition_count).unwrap_or(i32::MAX);
        TopicPartitions::new(partition_count, 0..last)
    }

    /// The number of partitions of the topic.
    pub fn partition_count(&self) -> usize {
        self.partition_count
    }

    /// The partitions that have a leader, ascending.
    pub fn available_partitions(&self) -> &[i32] {
        &self.available
    }

    /// Whether `partition` has a leader.
    pub fn is_available(&self, partition: i32) -> bool {
        self.available.binary_search(&partition).is_ok()
    }

    /// Whether `partition` is a partition of the topic (with or without a leader).
    pub fn contains(&self, partition: i32) -> bool {
        usize::try_from(partition).is_ok_and(|p| p < self.partition_count)
    }
}

/// The topics a partitioner can look up (Java's `Cluster`, reduced to what
/// partitioning needs). Built by the metadata layer from each metadata response.
///
/// ```
/// use kafka_core::{PartitionerCluster, TopicPartitions};
/// let cluster = PartitionerCluster::new()
///     .with_topic("orders", TopicPartitions::all_available(6));
/// assert_eq!(cluster.partition_count("orders"), Some(6));
/// assert_eq!(cluster.topic("payments"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionerCluster {
    // foldhash: looked up for every record; topic names are not attacker-chosen keys.
    topics: HashMap<String, TopicPartitions, foldhash::fast::RandomState>,
}

impl PartitionerCluster {
    /// An empty view.
    pub fn new() -> Self {
        PartitionerCluster::default()
    }

    /// This view with `topic` added (or replaced).
    #[must_use]
    pub fn with_topic(mut self, topic: impl Into<String>, partitions: TopicPartitions) -> Self {
        self.insert(topic, partitions);
        self
    }

    /// Adds or replaces `topic`.
    pub fn insert(&mut self, topic: impl Into<String>, partitions: TopicPartitions) {
        self.topics.insert(topic.into(), partitions);
    }

    /// Drops `topic` (its metadata expired).
    pub(crate) fn remove(&mut self, topic: &str) {
        self.topics.remove(topic);
    }

    /// The partitions of `topic`, if its metadata is known.
    pub fn topic(&self, topic: &str) -> Option<&TopicPartitions> {
        self.topics.get(topic)
    }

    /// The partition count of `topic`, if its metadata is known.
    pub fn partition_count(&self, topic: &str) -> Option<usize> {
        self.topic(topic).map(TopicPartitions::partition_count)
    }

    /// The partitions of `topic` with a leader (empty when the topic is unknown).
    pub fn available_partitions(&self, topic: &str) -> &[i32] {
        self.topic(topic)
            .map_or(&[], TopicPartitions::available_partitions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_stay_consistent_with_their_partition_count() {
        let view = TopicPartitions::new(3, [5, -1, 2, 2, 0]);
        assert_eq!(view.available_partitions(), [0, 2]);
        assert!(view.contains(1));
        assert!(!view.contains(3));
        assert!(!view.contains(-1));
        assert_eq!(
            TopicPartitions::all_available(0).available_partitions(),
            [0; 0]
        );
        assert_eq!(
            TopicPartitions::all_available(2).available_partitions(),
            [0, 1]
        );
    }

    #[test]
    fn unknown_topics_have_nothing_available() {
        let cluster = PartitionerCluster::new().with_topic("a", TopicPartitions::new(2, [1]));
        assert_eq!(cluster.available_partitions("a"), [1]);
        assert_eq!(cluster.available_partitions("b"), [0; 0]);
        assert_eq!(cluster.partition_count("b"), None);
    }
}
