//! Choosing a record's partition, with Java 4.x's rules:
//!
//! 1. a partition set on the record is used as is;
//! 2. else a custom [`Partitioner`] (a Rust trait object given to the producer
//!    builder, Java's `partitioner.class`) decides; when it returns `None` the
//!    built-in rules below apply;
//! 3. else a keyed record goes to `to_positive(murmur2(key)) % partitions`
//!    ([`partition_for_key`]), unless `partitioner.ignore.keys=true`;
//! 4. else the record is left to the topic's [`BuiltInPartitioner`] (uniform
//!    sticky, adaptive), which the accumulator asks when it appends.
//!
//! [`RecordPartitioner`] applies 1-3 and answers [`PartitionChoice::Sticky`] for 4.
//!
//! ```
//! use kafka_core::partitioner::{
//!     PartitionChoice, PartitionerCluster, RecordPartitioner, TopicPartitions,
//! };
//!
//! let cluster = PartitionerCluster::new().with_topic("orders", TopicPartitions::all_available(50));
//! let partitioner = RecordPartitioner::new(None, false);
//! let keyed = partitioner.choose("orders", None, Some(b"foobar"), None, &cluster)?;
//! assert_eq!(keyed, PartitionChoice::Partition(16));
//! let keyless = partitioner.choose("orders", None, None, Some(b"v"), &cluster)?;
//! assert_eq!(keyless, PartitionChoice::Sticky);
//! # Ok::<(), kafka_core::PartitionerError>(())
//! ```

mod cluster;
mod murmur2;
mod sticky;

use std::fmt;
use std::sync::Arc;

pub use cluster::{PartitionerCluster, TopicPartitions};
pub use murmur2::{murmur2, partition_for_key, to_positive};
pub use sticky::{BuiltInPartitioner, BuiltInPartitionerOptions, PartitionLoad, StickyPartition};

/// A custom partitioner (Java's `Partitioner` interface).
///
/// Return `Some(partition)` to choose a partition of `topic`, or `None` to let the
/// built-in rules decide (the key hash for keyed records, else the sticky
/// partitioner). Java 4.x has no such escape hatch: there, a negative partition is
/// an error. It is called for every record without an explicit partition, so it
/// should be cheap.
///
/// ```
/// use kafka_core::{Partitioner, PartitionerCluster};
///
/// /// Sends records whose key starts with `vip-` to partition 0, the rest as usual.
/// struct VipFirst;
///
/// impl Partitioner for VipFirst {
///     fn partition(
///         &self,
///         _topic: &str,
///         key: Option<&[u8]>,
///         _value: Option<&[u8]>,
///         _cluster: &PartitionerCluster,
///     ) -> Option<i32> {
///         key.filter(|k| k.starts_with(b"vip-")).map(|_| 0)
///     }
/// }
/// ```
pub trait Partitioner: Send + Sync + 'static {
    /// The partition for a record of `topic` with these serialized key and value,
    /// or `None` for the built-in choice.
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        cluster: &PartitionerCluster,
    ) -> Option<i32>;
}

/// The outcome of [`RecordPartitioner::choose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionChoice {
    /// Append to this partition.
    Partition(i32),
    /// Let the topic's [`BuiltInPartitioner`] pick when appending.
    Sticky,
}

/// Who chose a partition that turned out to be invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionSource {
    /// The partition set on the record.
    Record,
    /// The custom [`Partitioner`].
    CustomPartitioner,
}

impl fmt::Display for PartitionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartitionSource::Record => "the record",
            PartitionSource::CustomPartitioner => "the custom partitioner",
        })
    }
}

/// Why a record's partition could not be chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionerError {
    /// The cluster view has no metadata for the topic.
    #[error("no partition metadata for topic '{topic}'; wait for metadata before partitioning")]
    UnknownTopic {
        /// The topic.
        topic: String,
    },
    /// A partition outside `0..partition_count`.
    #[error(
        "invalid partition {partition} chosen by {chosen_by} for topic '{topic}': it has \
         {partition_count} partitions (0..{partition_count})"
    )]
    InvalidPartition {
        /// The topic.
        topic: String,
        /// The invalid partition.
        partition: i32,
        /// The topic's partition count.
        partition_count: usize,
        /// Who chose it.
        chosen_by: PartitionSource,
    },
}

/// Applies the partitioning rules that do not depend on the accumulator: explicit
/// partition, custom partitioner, key hash. One per producer.
#[derive(Clone)]
pub struct RecordPartitioner {
    custom: Option<Arc<dyn Partitioner>>,
    ignore_keys: bool,
}

impl fmt::Debug for RecordPartitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordPartitioner")
            .field("custom", &self.custom.as_ref().map(|_| "dyn Partitioner"))
            .field("ignore_keys", &self.ignore_keys)
            .finish()
    }
}

impl RecordPartitioner {
    /// Rules with an optional custom partitioner and `partitioner.ignore.keys`.
    pub fn new(custom: Option<Arc<dyn Partitioner>>, ignore_keys: bool) -> Self {
        RecordPartitioner {
            custom,
            ignore_keys,
        }
    }

    /// Java's `KafkaProducer.partition`, plus the range check Java does while
    /// waiting for metadata: a partition set on the record or returned by the
    /// custom partitioner must exist in `cluster`'s view of the topic.
    ///
    /// A record partition beyond the known count may mean the metadata is stale:
    /// the caller should refresh metadata (up to `max.block.ms`) before treating
    /// [`PartitionerError::InvalidPartition`] from [`PartitionSource::Record`] as final.
    pub fn choose(
        &self,
        topic: &str,
        record_partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        cluster: &PartitionerCluster,
    ) -> Result<PartitionChoice, PartitionerError> {
        let partitions = cluster
            .topic(topic)
            .ok_or_else(|| PartitionerError::UnknownTopic {
                topic: topic.to_owned(),
            })?;
        self.choose_in(topic, partitions, record_partition, key, value, cluster)
    }

    /// [`choose`](Self::choose) for a caller that looked up `topic`'s
    /// partitions in `cluster` already (the producer, which found them with
    /// the topic's metadata): the same rules without a second lookup per
    /// record. `partitions` must be `cluster`'s view of `topic`.
    // Always: every send runs it, and out of line its call and the return
    // of its result (and the caller's mapping of it) cost about 70
    // instructions a record (callgrind); the errors are made out of line.
    #[inline(always)]
    pub fn choose_in(
        &self,
        topic: &str,
        partitions: &TopicPartitions,
        record_partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        cluster: &PartitionerCluster,
    ) -> Result<PartitionChoice, PartitionerError> {
        let checked = |partition: i32, chosen_by| {
            if partitions.contains(partition) {
                Ok(PartitionChoice::Partition(partition))
            } else {
                Err(invalid_partition(topic, partition, partitions, chosen_by))
            }
        };
        if let Some(partition) = record_partition {
            return checked(partition, PartitionSource::Record);
        }
        if let Some(custom) = &self.custom
            && let Some(partition) = custom.partition(topic, key, value, cluster)
        {
            return checked(partition, PartitionSource::CustomPartitioner);
        }
        match key {
            Some(key) if !self.ignore_keys => {
                match partition_for_key(key, partitions.partition_count()) {
                    Some(partition) => Ok(PartitionChoice::Partition(partition)),
                    None => Err(unknown_topic(topic)),
                }
            }
            _ => Ok(PartitionChoice::Sticky),
        }
    }
}

#[cold]
fn invalid_partition(
    topic: &str,
    partition: i32,
    partitions: &TopicPartitions,
    chosen_by: PartitionSource,
) -> PartitionerError {
    PartitionerError::InvalidPartition {
        topic: topic.to_owned(),
        partition,
        partition_count: partitions.partition_count(),
        chosen_by,
    }
}

#[cold]
fn unknown_topic(topic: &str) -> PartitionerError {
    PartitionerError::UnknownTopic {
        topic: topic.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> PartitionerCluster {
        PartitionerCluster::new().with_topic("t", TopicPartitions::all_available(50))
    }

    struct Fixed(Option<i32>);

    impl Partitioner for Fixed {
        fn partition(
            &self,
            _: &str,
            _: Option<&[u8]>,
            _: Option<&[u8]>,
            _: &PartitionerCluster,
        ) -> Option<i32> {
            self.0
        }
    }

    #[test]
    fn record_partition_comes_first() {
        let rules = RecordPartitioner::new(Some(Arc::new(Fixed(Some(3)))), false);
        assert_eq!(
            rules.choose("t", Some(7), Some(b"foobar"), None, &cluster()),
            Ok(PartitionChoice::Partition(7))
        );
        let err = rules
            .choose("t", Some(50), None, None, &cluster())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid partition 50 chosen by the record for topic 't': it has 50 partitions (0..50)"
        );
    }

    #[test]
    fn custom_partitioner_decides_before_the_key() {
        let rules = RecordPartitioner::new(Some(Arc::new(Fixed(Some(3)))), false);
        assert_eq!(
            rules.choose("t", None, Some(b"foobar"), None, &cluster()),
            Ok(PartitionChoice::Partition(3))
        );
        let negative = RecordPartitioner::new(Some(Arc::new(Fixed(Some(-1)))), false);
        assert!(matches!(
            negative.choose("t", None, None, None, &cluster()),
            Err(PartitionerError::InvalidPartition {
                chosen_by: PartitionSource::CustomPartitioner,
                partition: -1,
                ..
            })
        ));
    }

    #[test]
    fn custom_partitioner_returning_none_falls_back_to_the_built_in_rules() {
        let rules = RecordPartitioner::new(Some(Arc::new(Fixed(None))), false);
        assert_eq!(
            rules.choose("t", None, Some(b"foobar"), None, &cluster()),
            Ok(PartitionChoice::Partition(16))
        );
        assert_eq!(
            rules.choose("t", None, None, Some(b"v"), &cluster()),
            Ok(PartitionChoice::Sticky)
        );
    }

    #[test]
    fn keys_are_hashed_unless_ignored() {
        let hashing = RecordPartitioner::new(None, false);
        assert_eq!(
            hashing.choose("t", None, Some(b"foobar"), None, &cluster()),
            Ok(PartitionChoice::Partition(16))
        );
        let ignoring = RecordPartitioner::new(None, true);
        assert_eq!(
            ignoring.choose("t", None, Some(b"foobar"), None, &cluster()),
            Ok(PartitionChoice::Sticky)
        );
    }

    #[test]
    fn choosing_in_known_partitions_follows_the_same_rules() {
        let cluster = cluster();
        let partitions = cluster.topic("t").unwrap();
        let rules = RecordPartitioner::new(None, false);
        for (record_partition, key) in [
            (None, None),
            (None, Some(&b"foobar"[..])),
            (Some(7), Some(&b"foobar"[..])),
            (Some(50), None),
        ] {
            assert_eq!(
                rules.choose_in("t", partitions, record_partition, key, None, &cluster),
                rules.choose("t", record_partition, key, None, &cluster),
                "partition {record_partition:?}, key {key:?}"
            );
        }
        assert_eq!(
            rules.choose_in("t", partitions, None, None, Some(b"v"), &cluster),
            Ok(PartitionChoice::Sticky)
        );
    }

    #[test]
    fn unknown_topics_are_an_error() {
        let rules = RecordPartitioner::new(None, false);
        assert_eq!(
            rules.choose("nope", None, Some(b"k"), None, &cluster()),
            Err(PartitionerError::UnknownTopic {
                topic: "nope".to_owned()
            })
        );
        let empty = PartitionerCluster::new().with_topic("e", TopicPartitions::new(0, []));
        assert!(rules.choose("e", None, Some(b"k"), None, &empty).is_err());
    }
}
