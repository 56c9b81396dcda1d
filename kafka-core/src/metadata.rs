//! The producer's view of the cluster: brokers, and for each topic it uses the
//! partitions and their leaders (Java's `ProducerMetadata`).
//!
//! `send` waits here (at most `max.block.ms`) for a topic it has not seen; the
//! sender fetches metadata when asked to (unknown topic, unknown leader,
//! `NOT_LEADER_OR_FOLLOWER`, a disconnect) and every `metadata.max.age.ms`.
//! Topics unused for `metadata.max.idle.ms` are dropped from the fetch.

use std::cell::{Ref, RefCell};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use thread_local::ThreadLocal;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::accumulator::{RecordAccumulator, TopicQueues};
use crate::clock::wall_clock_ms;
use crate::error::KafkaError;
use crate::network::NetworkError;
use crate::partitioner::{PartitionerCluster, TopicPartitions};
use crate::protocol::Uuid;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::{MetadataResponse, NodeEndpoint};

/// A broker's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BrokerAddress {
    pub host: String,
    pub port: i32,
}

impl BrokerAddress {
    pub fn to_address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// One partition's leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PartitionLeader {
    /// `None` while the partition has no leader (election in progress).
    pub leader: Option<i32>,
    pub leader_epoch: i32,
}

/// What metadata said of one topic.
#[derive(Clone, Debug)]
pub(crate) struct TopicMetadata {
    /// When `send` last used the topic (wall-clock ms), shared with the
    /// interest table so marking use costs one atomic store on the hot path.
    pub last_used: Arc<LastUsed>,
    pub error: ErrorCode,
    /// Indexed by partition number.
    pub partitions: Vec<PartitionLeader>,
    /// The partitioner's view: count and partitions with a leader.
    pub view: TopicPartitions,
    /// The topic's id (KIP-516), zero when the broker sent none.
    pub topic_id: Uuid,
    /// The accumulator's queues of the topic, found once per snapshot (and
    /// kept from the previous one), so `send` looks a topic up once per
    /// record: here.
    pub queues: OnceLock<Arc<TopicQueues>>,
}

impl TopicMetadata {
    /// Whether the topic is known well enough to send to `partition` (any
    /// partition when `None`) now: `send`'s fast path, without waiting or
    /// reading the monotonic clock. Marks the topic used at `now_ms` if so.
    #[inline]
    pub fn ready_for(&self, partition: Option<i32>, now_ms: i64) -> bool {
        let known = self.error.is_ok()
            && match partition {
                Some(p) => usize::try_from(p).is_ok_and(|p| p < self.partitions.len()),
                None => !self.partitions.is_empty(),
            };
        // Written once a millisecond, not once a record: the line stays
        // shared between the threads that send to the topic.
        if known && self.last_used.load(Ordering::Relaxed) != now_ms {
            self.last_used.store(now_ms, Ordering::Relaxed);
        }
        known
    }

    /// The accumulator's queues of the topic, looked up in `accumulator`
    /// the first time.
    #[inline]
    pub fn queues(&self, accumulator: &RecordAccumulator, topic: &str) -> &Arc<TopicQueues> {
        self.queues.get_or_init(|| accumulator.topic(topic))
    }
}

/// An immutable snapshot of the cluster.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cluster {
    pub brokers: HashMap<i32, BrokerAddress>,
    /// foldhash: looked up for every record.
    pub topics: HashMap<String, TopicMetadata, foldhash::fast::RandomState>,
    /// The same topics as the custom partitioner sees them.
    pub partitioner_view: PartitionerCluster,
}

impl Cluster {
    /// The topic's id, [`Uuid::ZERO`] when unknown (Produce then stays below v13).
    pub fn topic_id(&self, topic: &str) -> Uuid {
        self.topics.get(topic).map_or(Uuid::ZERO, |t| t.topic_id)
    }

    #[cfg(test)]
    pub fn leader_for(&self, topic: &str, partition: i32) -> Option<i32> {
        self.topics
            .get(topic)?
            .partitions
            .get(usize::try_from(partition).ok()?)?
            .leader
    }
}

/// The partitioner's view of a topic: its count, and the partitions with a
/// leader.
fn partitioner_view(partitions: &[PartitionLeader]) -> TopicPartitions {
    let available = partitions
        .iter()
        .enumerate()
        .filter(|(_, p)| p.leader.is_some())
        .map(|(i, _)| i32::try_from(i).unwrap_or(i32::MAX));
    TopicPartitions::new(partitions.len(), available)
}

/// Why the last attempt to learn the cluster failed.
#[derive(Clone, Debug)]
pub(crate) struct FetchFailure {
    pub message: String,
    /// No connection could be made (refused, unresolvable, timed out).
    pub unreachable: bool,
}

/// The cluster snapshot lent to a send: this thread's copy, or a share of
/// the snapshot when the copy could not be used.
#[derive(Debug)]
pub(crate) enum ClusterRef<'a> {
    Copy(Ref<'a, Arc<Cluster>>),
    Shared(Arc<Cluster>),
}

impl Deref for ClusterRef<'_> {
    type Target = Arc<Cluster>;

    fn deref(&self) -> &Arc<Cluster> {
        match self {
            ClusterRef::Copy(copy) => copy,
            ClusterRef::Shared(shared) => shared,
        }
    }
}

/// A thread's copy of the snapshot, with the generation read before it was
/// taken.
type ClusterCopy = (u64, Arc<Cluster>);

/// Wall-clock milliseconds when a topic was last used; an atomic so that `send`
/// marks use without a lock.
pub(crate) type LastUsed = std::sync::atomic::AtomicI64;

/// The metadata manager shared by `send` and the sender.
#[derive(Debug)]
pub(crate) struct Metadata {
    cluster: RwLock<Arc<Cluster>>,
    /// Bumped, under the write lock, each time `cluster` is replaced.
    generation: AtomicU64,
    /// Each sending thread's copy of `cluster`, with the generation read
    /// before it was taken ([`current`](Self::current)). A thread's copy
    /// stays until it sends again or the producer is dropped (an ended
    /// thread's slot goes to a later thread): at most one snapshot per
    /// thread that ever sent.
    per_thread: ThreadLocal<RefCell<Option<ClusterCopy>>>,
    /// Bumped on every update, so waiters can sleep until the next one.
    updates: watch::Sender<u64>,
    topics: RwLock<HashMap<String, Arc<LastUsed>>>,
    need_update: AtomicBool,
    last_refresh: Mutex<Option<Instant>>,
    last_error: Mutex<Option<FetchFailure>>,
    /// A failure to authenticate (SASL or TLS), reported to `send` at once until
    /// a metadata fetch succeeds again.
    authentication_error: Mutex<Option<NetworkError>>,
    max_age: Duration,
    max_idle: Duration,
    refresh_backoff: Duration,
}

impl Metadata {
    pub fn new(max_age: Duration, max_idle: Duration, refresh_backoff: Duration) -> Self {
        Metadata {
            cluster: RwLock::default(),
            generation: AtomicU64::new(0),
            per_thread: ThreadLocal::new(),
            updates: watch::Sender::new(0),
            topics: RwLock::default(),
            need_update: AtomicBool::new(true),
            last_refresh: Mutex::new(None),
            last_error: Mutex::new(None),
            authentication_error: Mutex::new(None),
            max_age,
            max_idle,
            refresh_backoff,
        }
    }

    pub fn cluster(&self) -> Arc<Cluster> {
        self.cluster
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The snapshot, as [`cluster`](Self::cluster) gives it, for `send`'s
    /// every record: this thread's copy while no update has replaced it.
    /// The read lock and the share of the snapshot are atomic writes to lines
    /// the network thread uses too; under perf they were about three
    /// quarters of `send_now`'s samples (100-byte records).
    #[inline]
    pub fn current(&self) -> ClusterRef<'_> {
        // Read before the snapshot is taken: a copy is never kept under a
        // generation newer than itself, so an update is never missed.
        let generation = self.generation.load(Ordering::Acquire);
        let slot = self.per_thread.get_or_default();
        // A borrow fails only when code run inside a send (a custom
        // partitioner) sends again while the copy is lent or being
        // replaced: that send takes a share of the snapshot instead.
        if let Ok(copy) = slot.try_borrow()
            && let Ok(copy) = Ref::filter_map(copy, |copy| match copy {
                Some((taken_at, cluster)) if *taken_at == generation => Some(cluster),
                _ => None,
            })
        {
            return ClusterRef::Copy(copy);
        }
        self.renew_copy(slot, generation)
    }

    /// [`current`](Self::current) when this thread's copy is missing or
    /// older than `generation`: a share of the snapshot, kept as the copy.
    #[cold]
    #[inline(never)]
    fn renew_copy(&self, slot: &RefCell<Option<ClusterCopy>>, generation: u64) -> ClusterRef<'_> {
        let cluster = self.cluster();
        if let Ok(mut copy) = slot.try_borrow_mut() {
            *copy = Some((generation, Arc::clone(&cluster)));
        }
        ClusterRef::Shared(cluster)
    }

    /// Replaces the snapshot (`cluster` is its write guard).
    fn replace(&self, cluster: &mut Arc<Cluster>, with: Cluster) {
        *cluster = Arc::new(with);
        // After the replacement: a thread that reads the new generation
        // takes the new snapshot (see `current`).
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Asks the sender for a fetch soon.
    pub fn request_update(&self) {
        self.need_update.store(true, Ordering::Release);
    }

    /// Topics to fetch, forgetting those idle longer than `metadata.max.idle.ms`.
    ///
    /// A forgotten topic leaves the cluster snapshot too (Java's metadata
    /// drops an expired topic), so that its next send waits for metadata
    /// and asks for it again: left there, its sends would go on from the
    /// last snapshot, its use marked where no fetch looks, and never be
    /// refreshed again (nothing at all is fetched once no topic is asked for).
    pub fn topics_to_fetch(&self) -> Vec<String> {
        let now_ms = wall_clock_ms();
        let max_idle = i64::try_from(self.max_idle.as_millis()).unwrap_or(i64::MAX);
        let mut expired = Vec::new();
        let kept = {
            let mut topics = self.topics.write().unwrap_or_else(|p| p.into_inner());
            topics.retain(|topic, used| {
                let keep = now_ms.saturating_sub(used.load(Ordering::Relaxed)) < max_idle;
                if !keep {
                    expired.push(topic.clone());
                }
                keep
            });
            topics.keys().cloned().collect()
        };
        if !expired.is_empty() {
            tracing::debug!(topics = ?expired, "metadata.max.idle.ms passed without a send: topics forgotten");
            let mut cluster = self.cluster.write().unwrap_or_else(|p| p.into_inner());
            let mut pruned = Cluster::clone(&cluster);
            for topic in &expired {
                pruned.topics.remove(topic);
                pruned.partitioner_view.remove(topic);
            }
            self.replace(&mut cluster, pruned);
        }
        kept
    }

    /// When the sender should fetch next; `None` when nothing is of interest.
    pub fn next_refresh(&self, now: Instant) -> Option<Instant> {
        if self
            .topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
        {
            return None;
        }
        let last = *self.last_refresh.lock().unwrap_or_else(|p| p.into_inner());
        Some(match last {
            None => now,
            Some(last) if self.need_update.load(Ordering::Acquire) => {
                (last + self.refresh_backoff).max(now)
            }
            Some(last) => last + self.max_age,
        })
    }

    /// Records a failed fetch, for the error a timed-out `send` reports.
    /// Connecting failed to authenticate: waiting `send` calls fail with it now.
    pub fn authentication_failed(&self, error: NetworkError) {
        self.note_failure(FetchFailure {
            message: error.to_string(),
            unreachable: false,
        });
        *self
            .authentication_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(error);
        self.need_update.store(true, Ordering::Release);
        self.updates.send_modify(|v| *v += 1);
    }

    pub fn fetch_failed(&self, failure: FetchFailure) {
        *self.last_refresh.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.note_failure(failure);
        self.need_update.store(true, Ordering::Release);
        self.updates.send_modify(|v| *v += 1);
    }

    /// Remembers why the cluster could not be reached, for the error of a send
    /// that waits for metadata, without counting as a fetch.
    pub fn note_failure(&self, failure: FetchFailure) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure);
    }

    /// Applies a Metadata response; topics without leaders ask for another fetch.
    pub fn update(&self, response: &MetadataResponse) {
        let previous = self.cluster();
        let mut cluster = Cluster::default();
        for broker in &response.brokers {
            cluster.brokers.insert(
                broker.node_id,
                BrokerAddress {
                    host: broker.host.clone(),
                    port: broker.port,
                },
            );
        }
        let mut incomplete = false;
        for topic in &response.topics {
            let Some(name) = topic.name.clone() else {
                continue;
            };
            // A topic's partitions are numbered 0..n and all listed: an index
            // outside that (from a broken or hostile broker) is left out
            // rather than sized for.
            let count = topic.partitions.len();
            let mut partitions = vec![
                PartitionLeader {
                    leader: None,
                    leader_epoch: -1
                };
                count
            ];
            for p in &topic.partitions {
                let Some(index) = usize::try_from(p.partition_index)
                    .ok()
                    .filter(|index| *index < count)
                else {
                    tracing::warn!(topic = %name, partition = p.partition_index, partitions = count, "metadata lists a partition outside the topic's range; left out");
                    incomplete = true;
                    continue;
                };
                // A broker that has not caught up may answer with an older
                // leader epoch than the last snapshot had: the newer leader is
                // kept (Java's `Metadata.updateLatestMetadata`).
                // (Not across a topic recreated under the same name: a new
                // topic id starts its epochs again.)
                let newer_known = previous
                    .topics
                    .get(&name)
                    .filter(|t| t.topic_id == topic.topic_id)
                    .and_then(|t| t.partitions.get(index))
                    .filter(|old| p.leader_epoch >= 0 && old.leader_epoch > p.leader_epoch);
                let (leader_id, leader_epoch) = match newer_known {
                    Some(old) => (old.leader.unwrap_or(-1), old.leader_epoch),
                    None => (p.leader_id, p.leader_epoch),
                };
                // A lagging broker may not list the newer leader (learned
                // from a Produce answer, KIP-951) yet: its address is kept.
                if newer_known.is_some()
                    && !cluster.brokers.contains_key(&leader_id)
                    && let Some(address) = previous.brokers.get(&leader_id)
                {
                    cluster.brokers.insert(leader_id, address.clone());
                }
                let leader = (leader_id >= 0 && cluster.brokers.contains_key(&leader_id))
                    .then_some(leader_id);
                incomplete |= leader.is_none();
                partitions[index] = PartitionLeader {
                    leader,
                    leader_epoch,
                };
            }
            incomplete |= topic.error_code.is_err();
            let view = partitioner_view(&partitions);
            cluster.partitioner_view.insert(name.clone(), view.clone());
            let last_used = self
                .topics
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&name)
                .cloned()
                .unwrap_or_default();
            // The queues found for the previous snapshot serve this one.
            let queues = previous
                .topics
                .get(&name)
                .and_then(|t| t.queues.get().cloned())
                .map(OnceLock::from)
                .unwrap_or_default();
            cluster.topics.insert(
                name,
                TopicMetadata {
                    last_used,
                    error: topic.error_code,
                    partitions,
                    view,
                    topic_id: topic.topic_id,
                    queues,
                },
            );
        }
        self.replace(
            &mut self.cluster.write().unwrap_or_else(|p| p.into_inner()),
            cluster,
        );
        *self.last_refresh.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self
            .authentication_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
        self.need_update.store(incomplete, Ordering::Release);
        self.updates.send_modify(|v| *v += 1);
    }

    /// KIP-951 (Java's `Metadata.updatePartitionLeadership`): the new leaders
    /// a Produce answer named for partitions it refused as not led there,
    /// with the `endpoints` of those leaders. A hint is applied only when it
    /// is newer (a higher leader epoch) than what the snapshot holds, for a
    /// partition the snapshot has, with a leader whose address is known;
    /// the rest of the snapshot is kept. Returns the partitions updated.
    pub fn update_partition_leadership(
        &self,
        hints: &[(Arc<str>, i32, i32, i32)],
        endpoints: &[NodeEndpoint],
    ) -> Vec<(Arc<str>, i32)> {
        let previous = self.cluster();
        let mut cluster = (*previous).clone();
        for endpoint in endpoints {
            cluster.brokers.insert(
                endpoint.node_id,
                BrokerAddress {
                    host: endpoint.host.clone(),
                    port: endpoint.port,
                },
            );
        }
        let mut updated = Vec::new();
        for (topic, partition, leader, epoch) in hints {
            if *leader < 0 || *epoch < 0 || !cluster.brokers.contains_key(leader) {
                continue;
            }
            let Some(metadata) = cluster.topics.get_mut(&**topic) else {
                continue;
            };
            let Some(current) = usize::try_from(*partition)
                .ok()
                .and_then(|index| metadata.partitions.get_mut(index))
            else {
                continue;
            };
            if current.leader_epoch >= 0 && *epoch <= current.leader_epoch {
                continue;
            }
            let had_leader = current.leader.is_some();
            *current = PartitionLeader {
                leader: Some(*leader),
                leader_epoch: *epoch,
            };
            if !had_leader {
                // Available to the partitioner again.
                metadata.view = partitioner_view(&metadata.partitions);
                cluster
                    .partitioner_view
                    .insert(topic.to_string(), metadata.view.clone());
            }
            updated.push((topic.clone(), *partition));
        }
        if !updated.is_empty() {
            tracing::debug!(?updated, "new leaders from a Produce answer (KIP-951)");
            self.replace(
                &mut self.cluster.write().unwrap_or_else(|p| p.into_inner()),
                cluster,
            );
            self.updates.send_modify(|v| *v += 1);
        }
        updated
    }

    /// Waits until `topic` (and `partition`, if given) is in the metadata, at most
    /// until `deadline` (`max.block.ms`).
    /// Adds `topic` to the topics the next fetches ask for (the sender
    /// must be woken and an update requested for it to be fetched soon).
    pub fn ask_for(&self, topic: &str) {
        self.topics
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(topic.to_owned())
            .or_default()
            .store(wall_clock_ms(), Ordering::Relaxed);
    }

    pub async fn wait_for(
        &self,
        topic: &str,
        partition: Option<i32>,
        deadline: Instant,
        max_block: Duration,
        wake_sender: impl Fn(),
    ) -> Result<Arc<Cluster>, KafkaError> {
        let mut updates = self.updates.subscribe();
        let mut asked = false;
        loop {
            if let Some(error) = self
                .authentication_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                return Err(KafkaError::Network(error));
            }
            let cluster = self.cluster();
            if let Some(t) = cluster.topics.get(topic) {
                t.last_used.store(wall_clock_ms(), Ordering::Relaxed);
                match t.error {
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED | ErrorCode::INVALID_TOPIC_EXCEPTION => {
                        return Err(KafkaError::Broker {
                            topic: topic.to_owned(),
                            partition: partition.unwrap_or(-1),
                            code: t.error,
                            message: None,
                        });
                    }
                    _ => {}
                }
                let has_partition = match partition {
                    Some(p) => usize::try_from(p).is_ok_and(|p| p < t.partitions.len()),
                    None => !t.partitions.is_empty(),
                };
                if has_partition {
                    return Ok(cluster);
                }
            }
            if !asked {
                self.ask_for(topic);
                asked = true;
            }
            self.request_update();
            wake_sender();
            if tokio::time::timeout_at(deadline, updates.changed())
                .await
                .is_err()
            {
                let last_error = self
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let unreachable = last_error.as_ref().is_some_and(|e| e.unreachable)
                    && cluster.brokers.is_empty();
                let known = cluster.topics.get(topic);
                let topic_error = known
                    .filter(|t| t.error.is_err())
                    .map(|t| format!("{} ({})", t.error.name(), t.error.description()))
                    .or_else(|| {
                        // As Java's "with partition count N": the topic
                        // exists, with fewer partitions than asked for.
                        let count = known?.partitions.len();
                        (count > 0 && partition.is_some()).then(|| {
                            format!(
                                "topic '{topic}' has {count} partition(s), 0 to {}",
                                count - 1
                            )
                        })
                    });
                return Err(KafkaError::MetadataTimeout {
                    topic: topic.to_owned(),
                    partition,
                    max_block,
                    last_error: last_error.map(|e| e.message).or(topic_error),
                    unreachable,
                });
            }
        }
    }
}

/// A Metadata answer naming one broker (`leader`, at localhost:9092) that
/// leads every one of `partitions` partitions of `topic`: the benchmark's
/// and the tests' cluster.
#[cfg(any(test, feature = "unstable"))]
pub(crate) fn one_topic_response(topic: &str, partitions: i32, leader: i32) -> MetadataResponse {
    use crate::protocol::messages::{MetadataBroker, MetadataPartition, MetadataTopic};
    MetadataResponse {
        throttle_time_ms: 0,
        brokers: vec![MetadataBroker {
            node_id: leader,
            host: "localhost".into(),
            port: 9092,
            rack: None,
        }],
        cluster_id: None,
        controller_id: leader,
        topics: vec![MetadataTopic {
            error_code: ErrorCode::NONE,
            name: Some(topic.into()),
            topic_id: Uuid::ZERO,
            is_internal: false,
            partitions: (0..partitions)
                .map(|partition_index| MetadataPartition {
                    error_code: ErrorCode::NONE,
                    partition_index,
                    leader_id: leader,
                    leader_epoch: 0,
                    replica_nodes: vec![leader],
                    isr_nodes: vec![leader],
                    offline_replicas: Vec::new(),
                })
                .collect(),
            topic_authorized_operations: i32::MIN,
        }],
        cluster_authorized_operations: i32::MIN,
        error_code: ErrorCode::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProducerConfig;
    use crate::accumulator::AccumulatorConfig;
    use crate::metrics::ProducerMetrics;

    #[test]
    fn a_topics_queues_are_looked_up_once_and_kept_across_updates() {
        let config = ProducerConfig::builder()
            .bootstrap_servers("localhost:9092")
            .build()
            .unwrap();
        let accumulator = RecordAccumulator::new(
            AccumulatorConfig::from_config(&config),
            Arc::new(ProducerMetrics::default()),
            Arc::new(tokio::sync::Notify::new()),
        );
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::from_secs(300),
            Duration::from_millis(100),
        );
        metadata.update(&one_topic_response("orders", 3, 1));
        let first = metadata.cluster();
        let topic = first.topics.get("orders").unwrap();
        assert!(topic.ready_for(Some(2), 1_000));
        assert!(!topic.ready_for(Some(3), 1_000), "no partition 3");
        let queues = topic.queues(&accumulator, "orders").clone();
        assert!(Arc::ptr_eq(&queues, &accumulator.topic("orders")));
        // A new snapshot (the topic grew) keeps the queues found before.
        metadata.update(&one_topic_response("orders", 4, 1));
        let second = metadata.cluster();
        let kept = second.topics.get("orders").unwrap().queues.get();
        assert!(kept.is_some_and(|kept| Arc::ptr_eq(kept, &queues)));
        assert!(
            second
                .topics
                .get("orders")
                .unwrap()
                .ready_for(Some(3), 1_000)
        );
    }

    #[test]
    fn each_threads_copy_follows_every_replacement_of_the_snapshot() {
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::ZERO,
            Duration::from_millis(100),
        );
        let partitions = |metadata: &Metadata| {
            let cluster = metadata.current();
            cluster.topics.get("orders").map(|t| t.partitions.len())
        };
        assert_eq!(partitions(&metadata), None, "nothing known yet");
        metadata.ask_for("orders");
        metadata.update(&one_topic_response("orders", 3, 1));
        assert_eq!(partitions(&metadata), Some(3));
        // The copy is kept while nothing changed: the same snapshot.
        assert!(matches!(metadata.current(), ClusterRef::Copy(_)));
        assert!(Arc::ptr_eq(&metadata.current(), &metadata.cluster()));
        // Another thread has a copy of its own, and sees the next update.
        std::thread::scope(|scope| {
            scope.spawn(|| assert_eq!(partitions(&metadata), Some(3)));
        });
        metadata.update(&one_topic_response("orders", 4, 1));
        assert_eq!(partitions(&metadata), Some(4));
        std::thread::scope(|scope| {
            scope.spawn(|| assert_eq!(partitions(&metadata), Some(4)));
        });
        // A leader learned from a Produce answer.
        let moved = metadata.update_partition_leadership(
            &[(Arc::from("orders"), 1, 2, 1)],
            &[NodeEndpoint {
                node_id: 2,
                host: "localhost".into(),
                port: 9102,
                rack: None,
            }],
        );
        assert_eq!(moved.len(), 1);
        assert_eq!(metadata.current().leader_for("orders", 1), Some(2));
        // A topic forgotten after metadata.max.idle.ms.
        assert!(metadata.topics_to_fetch().is_empty());
        assert_eq!(partitions(&metadata), None);
        // A copy lent out while the snapshot is replaced (a callback run
        // inside a send, sending again): the newer send takes the
        // snapshot itself, and the lent copy stays as it was.
        metadata.update(&one_topic_response("orders", 5, 1));
        assert_eq!(partitions(&metadata), Some(5));
        let lent = metadata.current();
        assert!(matches!(lent, ClusterRef::Copy(_)));
        metadata.update(&one_topic_response("orders", 6, 1));
        assert_eq!(partitions(&metadata), Some(6));
        assert!(matches!(metadata.current(), ClusterRef::Shared(_)));
        assert_eq!(
            lent.topics.get("orders").map(|t| t.partitions.len()),
            Some(5)
        );
        drop(lent);
        assert_eq!(partitions(&metadata), Some(6));
        assert!(matches!(metadata.current(), ClusterRef::Copy(_)));
    }

    #[tokio::test]
    async fn a_topic_idle_past_max_idle_leaves_the_snapshot_and_is_asked_for_again() {
        // Idle at once: every topic expires at the next fetch.
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::ZERO,
            Duration::from_millis(100),
        );
        metadata.ask_for("orders");
        metadata.update(&one_topic_response("orders", 3, 1));
        assert!(metadata.cluster().topics.contains_key("orders"));
        let now = Instant::now();
        assert!(metadata.next_refresh(now).is_some());

        assert!(metadata.topics_to_fetch().is_empty());
        // Gone from the snapshot too: a send cannot go on from stale
        // metadata that nothing refreshes any more.
        let cluster = metadata.cluster();
        assert!(!cluster.topics.contains_key("orders"));
        assert_eq!(cluster.partitioner_view.topic("orders"), None);
        assert_eq!(metadata.next_refresh(now), None, "nothing to fetch");

        // The next send waits for metadata, which asks for the topic again.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(10);
        let waited = metadata
            .wait_for("orders", None, deadline, Duration::from_millis(10), || {})
            .await;
        assert!(waited.is_err(), "no fetch answered it here");
        assert!(metadata.next_refresh(now).is_some());
        assert_eq!(metadata.topics.read().unwrap().len(), 1);
    }

    #[test]
    fn partition_indexes_outside_the_list_are_left_out_not_sized_for() {
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::from_secs(300),
            Duration::from_millis(100),
        );
        let mut response = one_topic_response("orders", 2, 1);
        response.topics[0].partitions[1].partition_index = 2_000_000_000;
        metadata.update(&response);
        let cluster = metadata.cluster();
        let orders = cluster.topics.get("orders").unwrap();
        assert_eq!(orders.partitions.len(), 2);
        assert_eq!(orders.partitions[0].leader, Some(1));
        assert_eq!(orders.partitions[1].leader, None, "not listed as itself");
    }

    #[tokio::test]
    async fn a_partition_past_the_end_says_how_many_the_topic_has() {
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::from_secs(300),
            Duration::from_millis(100),
        );
        metadata.update(&one_topic_response("orders", 2, 1));
        let deadline = tokio::time::Instant::now() + Duration::from_millis(10);
        let Err(error) = metadata
            .wait_for(
                "orders",
                Some(5),
                deadline,
                Duration::from_millis(10),
                || {},
            )
            .await
        else {
            panic!("orders has no partition 5");
        };
        let message = error.to_string();
        assert!(
            message.contains("orders-5") && message.contains("has 2 partition(s), 0 to 1"),
            "{message}"
        );
        assert!(!message.contains("does the topic exist"), "{message}");
    }

    #[test]
    fn leader_hints_apply_only_when_newer_known_and_addressable() {
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::from_secs(300),
            Duration::from_millis(100),
        );
        metadata.update(&one_topic_response("orders", 2, 1));
        let orders: Arc<str> = Arc::from("orders");
        let endpoint = |node_id| NodeEndpoint {
            node_id,
            host: "localhost".into(),
            port: 9100 + node_id,
            rack: None,
        };
        let leader = |p| metadata.cluster().leader_for("orders", p);
        // Not newer than epoch 0, an unknown topic or partition, a node
        // without an address: ignored.
        let ignored = [
            (orders.clone(), 0, 2, 0),
            (Arc::from("other"), 0, 1, 5),
            (orders.clone(), 9, 1, 5),
            (orders.clone(), 1, 3, 5),
        ];
        assert!(
            metadata
                .update_partition_leadership(&ignored, &[endpoint(2)])
                .is_empty()
        );
        assert_eq!((leader(0), leader(1)), (Some(1), Some(1)));
        // Newer, with the new leader's endpoint: that partition moves alone.
        let moved =
            metadata.update_partition_leadership(&[(orders.clone(), 1, 3, 1)], &[endpoint(3)]);
        assert_eq!(moved, [(orders.clone(), 1)]);
        assert_eq!((leader(0), leader(1)), (Some(1), Some(3)));
        assert_eq!(
            metadata.cluster().brokers[&3].to_address(),
            "localhost:9103"
        );
        // A lagging Metadata answer, which does not even list broker 3 yet,
        // does not undo it.
        metadata.update(&one_topic_response("orders", 2, 1));
        assert_eq!(leader(1), Some(3));
        assert_eq!(
            metadata.cluster().brokers[&3].to_address(),
            "localhost:9103"
        );
    }

    #[test]
    fn an_answer_with_an_older_leader_epoch_keeps_the_newer_leader() {
        let metadata = Metadata::new(
            Duration::from_secs(300),
            Duration::from_secs(300),
            Duration::from_millis(100),
        );
        let answer = |leader: i32, epoch: i32| {
            let mut response = one_topic_response("orders", 1, leader);
            response
                .brokers
                .push(crate::protocol::messages::MetadataBroker {
                    node_id: if leader == 1 { 2 } else { 1 },
                    host: "localhost".into(),
                    port: 9093,
                    rack: None,
                });
            response.topics[0].partitions[0].leader_epoch = epoch;
            response
        };
        metadata.update(&answer(2, 7));
        // A lagging broker still names the leader of epoch 6.
        metadata.update(&answer(1, 6));
        let leader = |m: &Metadata| m.cluster().leader_for("orders", 0);
        assert_eq!(leader(&metadata), Some(2));
        // A newer epoch moves it.
        metadata.update(&answer(1, 8));
        assert_eq!(leader(&metadata), Some(1));
        // The topic deleted and made again: its epochs start over.
        let mut recreated = answer(2, 0);
        recreated.topics[0].topic_id = Uuid([7; 16]);
        metadata.update(&recreated);
        assert_eq!(leader(&metadata), Some(2));
    }
}
