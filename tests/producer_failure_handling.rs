//! The failures the Java producer handles without the application noticing,
//! against the real broker, with Kafka's own Java consumer as the witness:
//! a batch larger than the topic's `max.message.bytes` (split and sent again,
//! Java's `splitAndReenqueue`), a `producer_byte_rate` quota (the broker
//! throttles the client, KIP-219), and every broker it knew gone behind
//! its bootstrap address (bootstrapped again, KIP-899's
//! `metadata.recovery.strategy`).

mod support;

use std::time::Duration;

use kafka_core::{KafkaError, ProducerRecord};
use kafka_testkit::{ConsumedRecord, Kafka, unique_name};

use support::{await_all, producer, run};

const LIMIT: Duration = Duration::from_secs(180);

/// The `producer_byte_rate` quota of the throttling test, in bytes a second.
const QUOTA: u32 = 20_000;

/// Checks the Java consumer read `count` records `prefix<i>...` of one
/// partition, each once, in send order.
fn assert_once_in_order(consumed: &[ConsumedRecord], prefix: &str, count: usize) {
    assert_eq!(
        consumed.len(),
        count,
        "the Java consumer read {} of {count} records",
        consumed.len()
    );
    for (position, record) in consumed.iter().enumerate() {
        let value = record.value_str().unwrap_or_default();
        let index: usize = value
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected record {record:?}"));
        assert_eq!(
            index, position,
            "offset {}: record #{index} where #{position} belongs (lost, duplicated or reordered)",
            record.offset
        );
    }
}

#[test]
fn batches_over_max_message_bytes_are_split_and_land_once_in_order() {
    run(LIMIT, async {
        const COUNT: usize = 3_000;
        let kafka = Kafka::get();
        let topic = unique_name("split");
        // Each record (~130 bytes) fits; the producer's 64 KiB batches do not.
        kafka.create_topic_named(&topic, 1, 1, &["max.message.bytes=2048"]);
        let producer = producer(
            kafka.bootstrap(),
            &[
                ("batch.size", "65536"),
                ("linger.ms", "100"),
                ("acks", "all"),
            ],
        );
        let mut handles = Vec::with_capacity(COUNT);
        for i in 0..COUNT {
            let value = format!("split-{i}-{}", "x".repeat(120));
            let record = ProducerRecord::new(topic.clone(), value).with_partition(0);
            handles.push(producer.send(record).await.expect("send accepted"));
        }
        let acks = await_all(handles).await;
        assert!(
            acks.windows(2)
                .all(|w| w[1].offset.is_some() && w[1].offset == w[0].offset.map(|o| o + 1)),
            "acknowledged offsets follow send order"
        );
        let metrics = producer.metrics();
        assert!(
            metrics.batch_split_total > 0,
            "no batch was split: {metrics:?}"
        );
        assert_eq!(metrics.record_error_total, 0, "{metrics:?}");
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);

        let consumed = kafka.read_all(&topic, COUNT);
        assert_once_in_order(&consumed, "split-", COUNT);
    });
}

#[test]
fn a_producer_byte_rate_quota_throttles_without_errors() {
    run(LIMIT, async {
        // The broker measures the rate over at least 10 s (11 one-second
        // samples): ~400 KB is twice this quota over that window, so the
        // client is throttled for about 10 s in all.
        const COUNT: usize = 400;
        let kafka = Kafka::get();
        let topic = kafka.create_topic("quota", 1, 1);
        let client_id = unique_name("quota-client");
        // 20 KB/s for this client id only.
        kafka.script(&[
            "tool",
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            kafka.bootstrap(),
            "--alter",
            "--add-config",
            &format!("producer_byte_rate={QUOTA}"),
            "--entity-type",
            "clients",
            "--entity-name",
            &client_id,
        ]);
        wait_for_quota(kafka, &client_id);

        let producer = producer(
            kafka.bootstrap(),
            &[("client.id", &client_id), ("acks", "all")],
        );
        let mut handles = Vec::with_capacity(COUNT);
        for i in 0..COUNT {
            let value = format!("quota-{i}-{}", "q".repeat(1_000));
            let record = ProducerRecord::new(topic.clone(), value).with_partition(0);
            handles.push(producer.send(record).await.expect("send accepted"));
        }
        await_all(handles).await;
        let metrics = producer.metrics();
        assert_eq!(metrics.record_error_total, 0, "{metrics:?}");
        assert!(
            metrics.produce_throttled_total > 0 && !metrics.produce_throttle_time_max.is_zero(),
            "the broker never throttled the client: {metrics:?}"
        );
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);

        let consumed = kafka.read_all(&topic, COUNT);
        assert_once_in_order(&consumed, "quota-", COUNT);
    });
}

/// Waits until the broker reports the client's quota (a dynamic config takes
/// effect asynchronously).
fn wait_for_quota(kafka: &Kafka, client_id: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let described = kafka.script(&[
            "tool",
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            kafka.bootstrap(),
            "--describe",
            "--entity-type",
            "clients",
            "--entity-name",
            client_id,
        ]);
        if described.contains(&format!("producer_byte_rate={QUOTA}")) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the quota never showed: {described}"
        );
    }
}

/// A record without a key on a compacted topic is refused by the broker
/// with the batch it is in (`INVALID_RECORD`, its index in `record_errors`):
/// that record fails with the broker's reason, the others of the batch as
/// valid but not written; sent again, they land (read by Kafka's consumer).
#[test]
fn an_invalid_record_fails_alone_and_its_batch_mates_can_be_sent_again() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = unique_name("compacted");
        kafka.create_topic_named(&topic, 1, 1, &["cleanup.policy=compact"]);
        let producer = producer(kafka.bootstrap(), &[("linger.ms", "200")]);
        let mut handles = Vec::new();
        for (key, value) in [
            (Some("a"), "first"),
            (None, "keyless"),
            (Some("c"), "third"),
        ] {
            let mut record = ProducerRecord::new(topic.clone(), value).with_partition(0);
            if let Some(key) = key {
                record = record.with_key(key);
            }
            handles.push(producer.send(record).await.expect("send accepted"));
        }
        let mut again = Vec::new();
        for (position, handle) in handles.into_iter().enumerate() {
            let failed = handle.await.expect_err("the batch was refused");
            match (position, failed.error()) {
                (1, KafkaError::Broker { code, message, .. }) => {
                    assert_eq!(code.name(), "INVALID_RECORD", "{failed}");
                    assert!(
                        message.as_deref().is_some_and(|m| m.contains("key")),
                        "the broker's reason: {failed}"
                    );
                }
                (
                    0 | 2,
                    KafkaError::BatchHadInvalidRecords {
                        invalid_records: 1, ..
                    },
                ) => {
                    again.push(failed.into_record().expect("the record handed back"));
                }
                _ => panic!("record {position}: {failed:?}"),
            }
        }
        for record in again {
            producer
                .send(record)
                .await
                .expect("send accepted")
                .await
                .expect("written");
        }
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);
        let consumed = kafka.read_all(&topic, 2);
        let values: Vec<_> = consumed
            .iter()
            .map(|r| r.value_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(values, ["first", "third"]);
    });
}

/// KIP-951: a leader moved by a preferred-leader election, which the
/// producer's metadata does not know yet (`metadata.max.age.ms` 5 min). The
/// old leader refuses the batch with `NOT_LEADER_OR_FOLLOWER` naming the new
/// leader and its endpoint; the producer takes it into its metadata and sends
/// the retry there at once, without its backoff (20 s here, at least 16 with
/// its jitter), as Java's producer does. Kafka's consumer reads both
/// records, once each.
#[test]
fn a_moved_leader_named_in_the_produce_answer_takes_the_retry_at_once() {
    let cluster = kafka_testkit::Cluster::start(2, None);
    let topic = unique_name("moved-leader");
    let created = cluster.tool(
        "org.apache.kafka.tools.TopicCommand",
        &["--create", "--topic", &topic, "--replica-assignment", "1:2"],
    );
    assert!(created.contains("Created topic"), "{created}");
    run(Duration::from_secs(300), async {
        let producer = producer(
            cluster.bootstrap(),
            &[
                ("metadata.max.age.ms", "300000"),
                // Also the metadata refresh's backoff: long enough to tell a
                // retry that waited from one that did not, short enough that
                // the first record, sent to a topic its brokers may not all
                // know yet, is retried well within delivery.timeout.ms.
                ("retry.backoff.ms", "20000"),
                ("retry.backoff.max.ms", "20000"),
                ("delivery.timeout.ms", "180000"),
                ("linger.ms", "0"),
            ],
        );
        let first = producer
            .send(ProducerRecord::new(topic.clone(), "before").with_partition(0))
            .await
            .expect("send accepted")
            .await
            .expect("written by broker 1");
        // Broker 2 first in the replica list (same replicas: nothing moves),
        // then the preferred leader elected: broker 2 leads.
        let plan = std::env::temp_dir().join(format!("{topic}.json"));
        std::fs::write(
            &plan,
            format!(
                r#"{{"version":1,"partitions":[{{"topic":"{topic}","partition":0,"replicas":[2,1]}}]}}"#
            ),
        )
        .expect("the reassignment plan is written");
        let plan_path = plan.to_string_lossy().into_owned();
        let reassigned = cluster.tool(
            "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
            &["--reassignment-json-file", &plan_path, "--execute"],
        );
        let _ = std::fs::remove_file(&plan);
        assert!(reassigned.contains("Successfully started"), "{reassigned}");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let elected = cluster.tool(
                "org.apache.kafka.tools.LeaderElectionCommand",
                &[
                    "--election-type",
                    "PREFERRED",
                    "--topic",
                    &topic,
                    "--partition",
                    "0",
                ],
            );
            let described = cluster.tool(
                "org.apache.kafka.tools.TopicCommand",
                &["--describe", "--topic", &topic],
            );
            if described.contains("Leader: 2") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "broker 2 never became the leader:\n{elected}\n{described}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let started = std::time::Instant::now();
        let moved = producer
            .send(ProducerRecord::new(topic.clone(), "after").with_partition(0))
            .await
            .expect("send accepted")
            .await
            .expect("written by broker 2");
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(10),
            "the retry waited for its backoff or a metadata refresh: {took:?}"
        );
        assert!(moved.offset > first.offset);
        assert!(
            producer.metrics().record_retry_total >= 1,
            "it was refused first"
        );
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);
    });
    let values: Vec<String> = cluster
        .read(&topic, 2, Duration::from_secs(5), false)
        .iter()
        .filter_map(ConsumedRecord::value_str)
        .collect();
    assert_eq!(values, ["before", "after"]);
}

/// A TCP forwarder standing where a load balancer or a DNS name stands in
/// front of a cluster: every new connection to [`address`](Self::address)
/// is forwarded to the broker named by [`point_to`](Self::point_to) at that
/// moment. Connections already made stay where they went.
struct BootstrapFront {
    address: String,
    target: std::sync::Arc<std::sync::Mutex<String>>,
}

impl BootstrapFront {
    fn start(target: &str) -> BootstrapFront {
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the front");
        let address = listener.local_addr().expect("bound").to_string();
        let target = std::sync::Arc::new(std::sync::Mutex::new(target.to_owned()));
        let current = std::sync::Arc::clone(&target);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let to = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
                // A broker that is gone: the client sees the connection close.
                let Ok(server) = TcpStream::connect(&to) else {
                    continue;
                };
                for (mut from, mut into) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ]
                .into_iter()
                .filter_map(|(a, b)| Some((a.ok()?, b.ok()?)))
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut into);
                        let _ = into.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        BootstrapFront { address, target }
    }

    fn address(&self) -> &str {
        &self.address
    }

    fn point_to(&self, target: &str) {
        *self.target.lock().unwrap_or_else(|p| p.into_inner()) = target.to_owned();
    }
}

/// KIP-899, as a service behind a load balancer meets it: every broker the
/// producer knew is gone and the bootstrap address now leads to other
/// brokers. With `metadata.recovery.strategy=rebootstrap` (the default) the
/// producer bootstraps again and its record lands on the new brokers, where
/// Kafka's Java consumer reads it; with `none` it keeps to the brokers it knew
/// and the send fails once `max.block.ms` has passed, nothing written.
#[test]
fn with_every_known_broker_gone_the_producer_bootstraps_again_unless_told_not_to() {
    let old = kafka_testkit::Cluster::start(1, None);
    let new = kafka_testkit::Cluster::start(1, None);
    let before = old.create_topic("rebootstrap-before", 1, 1);
    // A topic of its own on the new brokers: the producer id the old cluster
    // gave has no sequence there yet, as on a cluster that kept its state.
    let after = new.create_topic("rebootstrap-after", 1, 1);
    let front = BootstrapFront::start(old.bootstrap());
    let settings = |strategy| {
        vec![
            ("metadata.recovery.strategy", strategy),
            ("linger.ms", "0"),
            ("reconnect.backoff.ms", "100"),
            ("reconnect.backoff.max.ms", "500"),
            ("request.timeout.ms", "5000"),
            ("max.block.ms", "15000"),
            ("delivery.timeout.ms", "30000"),
        ]
    };
    run(LIMIT, async {
        let rebootstrapping = producer(front.address(), &settings("rebootstrap"));
        let keeping = producer(front.address(), &settings("none"));
        for (name, producer) in [("rebootstrap", &rebootstrapping), ("none", &keeping)] {
            producer
                .send(ProducerRecord::new(
                    before.clone(),
                    format!("before-{name}"),
                ))
                .await
                .expect("send accepted")
                .await
                .unwrap_or_else(|e| panic!("{name}: the first record was not written: {e}"));
        }
        front.point_to(new.bootstrap());
        old.kill(1);

        let landed = rebootstrapping
            .send(ProducerRecord::new(after.clone(), "after-rebootstrap"))
            .await
            .expect("send accepted")
            .await
            .expect(
                "with rebootstrap, the record reaches the brokers behind the bootstrap address",
            );
        assert_eq!(
            (landed.topic.as_str(), landed.partition),
            (after.as_str(), 0)
        );

        let kept = keeping
            .send(ProducerRecord::new(after.clone(), "after-none"))
            .await;
        let error = match kept {
            Err(refused) => refused.into_error(),
            Ok(handle) => match handle.await {
                Err(error) => error.into_error(),
                Ok(metadata) => panic!("with none, the record was written: {metadata:?}"),
            },
        };
        assert!(
            matches!(error, KafkaError::MetadataTimeout { .. }),
            "with none, the send must time out waiting for the brokers it knew: {error:?}"
        );
        assert_eq!(rebootstrapping.close(Duration::from_secs(10)).await, 0);
        keeping.close(Duration::from_secs(1)).await;
    });
    let read = new.read(&after, 2, Duration::from_secs(5), false);
    let values: Vec<_> = read
        .iter()
        .map(|r| r.value_str().unwrap_or_default())
        .collect();
    assert_eq!(values, ["after-rebootstrap"], "what the new brokers hold");
}
