//! Fresh topics per run, and a check of how many records each run really wrote.
//!
//! Through librdkafka's admin client: it is already linked for the rdkafka
//! client, and starting a JVM per topic (`scripts/kafka topic`) would cost
//! seconds of CPU between runs on a two-core machine.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

/// Creates, checks and deletes benchmark topics.
pub struct TopicAdmin {
    admin: AdminClient<DefaultClientContext>,
}

const TIMEOUT: Duration = Duration::from_secs(30);

/// How long a new topic's leaders get before the first produce.
const SETTLE: Duration = Duration::from_millis(500);

impl TopicAdmin {
    /// An admin client for the cluster at `bootstrap`.
    pub fn connect(bootstrap: &str) -> anyhow::Result<TopicAdmin> {
        let admin = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .create()
            .with_context(|| format!("cannot create an admin client for {bootstrap}"))?;
        Ok(TopicAdmin { admin })
    }

    fn options() -> AdminOptions {
        AdminOptions::new()
            .operation_timeout(Some(TIMEOUT))
            .request_timeout(Some(TIMEOUT))
    }

    /// The leader's broker id of each partition of `name`, by partition.
    pub fn leaders(&self, name: &str) -> anyhow::Result<Vec<(i32, i32)>> {
        let metadata = self
            .admin
            .inner()
            .fetch_metadata(Some(name), Duration::from_secs(5))
            .with_context(|| format!("cannot read the metadata of topic {name}"))?;
        let topic = metadata
            .topics()
            .iter()
            .find(|t| t.name() == name)
            .with_context(|| format!("topic {name} is not in the metadata"))?;
        let mut leaders: Vec<(i32, i32)> = topic
            .partitions()
            .iter()
            .map(|p| (p.id(), p.leader()))
            .collect();
        leaders.sort_unstable();
        Ok(leaders)
    }

    /// Creates `name` with `partitions` partitions, `replication_factor`
    /// copies and, when given, that `min.insync.replicas`, and waits until
    /// every partition has a leader (and, when replicated, every replica is
    /// in sync).
    pub async fn create(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
        min_insync_replicas: Option<u32>,
    ) -> anyhow::Result<()> {
        let min_insync = min_insync_replicas.map(|n| n.to_string());
        let mut topic = NewTopic::new(
            name,
            partitions,
            TopicReplication::Fixed(replication_factor),
        );
        if let Some(min_insync) = &min_insync {
            topic = topic.set("min.insync.replicas", min_insync);
        }
        let results = self
            .admin
            .create_topics([&topic], &Self::options())
            .await
            .with_context(|| format!("cannot create topic {name}"))?;
        for result in results {
            if let Err((topic, code)) = result {
                bail!("cannot create topic {topic}: {code}");
            }
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let ready = self
                .admin
                .inner()
                .fetch_metadata(Some(name), Duration::from_secs(5))
                .map(|metadata| {
                    metadata.topics().iter().any(|t| {
                        t.name() == name
                            && t.error().is_none()
                            && t.partitions().len() == partitions as usize
                            && t.partitions().iter().all(|p| {
                                p.leader() >= 0
                                    && p.error().is_none()
                                    && p.isr().len() == replication_factor as usize
                            })
                    })
                })
                .unwrap_or(false);
            if ready {
                // Metadata names a leader a moment before the leader accepts
                // appends; a produce in that window gets NOT_LEADER_OR_FOLLOWER,
                // which is a test of recovery, not of speed. Let it settle.
                tokio::time::sleep(SETTLE).await;
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("topic {name} has no leader for every partition after {TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Records in `name`: the sum over its partitions of high minus low watermark.
    pub fn record_count(&self, name: &str, partitions: i32) -> anyhow::Result<u64> {
        let mut total = 0u64;
        for partition in 0..partitions {
            let (low, high) = self.watermarks(name, partition)?;
            total += u64::try_from(high - low).unwrap_or(0);
        }
        Ok(total)
    }

    /// A partition's low and high watermarks, asked up to three times, the
    /// topic's metadata fetched again before each retry (the answer, not a
    /// pause, is what the cache waits for): librdkafka answers `UnknownPartition` out of its metadata cache
    /// when the cache's copy of the topic lacks the partition (seen on the
    /// 3-broker cluster, three times back to back, for a topic whose every
    /// partition had a leader moments before), and a busy cluster can miss
    /// one request's 10 s. Neither says anything about the records.
    fn watermarks(&self, name: &str, partition: i32) -> anyhow::Result<(i64, i64)> {
        let client = self.admin.inner();
        let mut attempt = 1;
        loop {
            match client.fetch_watermarks(name, partition, Duration::from_secs(10)) {
                Ok(marks) => return Ok(marks),
                Err(_) if attempt < 3 => {
                    attempt += 1;
                    // Its own failure shows in the next attempt's.
                    let _ = client.fetch_metadata(Some(name), Duration::from_secs(5));
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot read the offsets of {name}-{partition} (asked 3 times)")
                    });
                }
            }
        }
    }

    /// Deletes `name`.
    pub async fn delete(&self, name: &str) -> anyhow::Result<()> {
        let results = self
            .admin
            .delete_topics(&[name], &Self::options())
            .await
            .with_context(|| format!("cannot delete topic {name}"))?;
        for result in results {
            if let Err((topic, code)) = result {
                bail!("cannot delete topic {topic}: {code}");
            }
        }
        Ok(())
    }
}
