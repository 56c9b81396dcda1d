//! Transactions against a real broker (issue 13). What became visible is decided
//! by Kafka's own console consumer with `--isolation-level read_committed` (and
//! `read_uncommitted` for what was written but aborted), and the group's
//! committed offsets by Kafka's `kafka-consumer-groups --describe`.
//!
//! The read_committed reads ask for exactly the committed records and end when
//! they arrived: a committed record written after the aborted ones (the
//! sentinel) comes after them in the log, so if an aborted record were visible
//! it would be among those read.
//!
//! Against the shared broker (Kafka 4.1, transactions V2 when its
//! finalized `transaction.version` is 2, as Kafka's `kafka-features describe`
//! reports) and, for visibility and a transaction over 6 partitions, a Kafka
//! 3.9.1 broker of its own (V1); the coordinator-kill
//! test runs a 3-broker cluster of its own (10 kills with SIGKILL and
//! restarts; minutes, most of it brokers restarting).

mod support;

use std::time::Duration;

use kafka_core::{
    ConsumerGroupMetadata, KafkaError, KafkaProducer, OffsetAndMetadata, ProducerRecord,
    TopicPartition, TransactionError, TransactionProtocol,
};
use kafka_testkit::{Cluster, Kafka, committed_offset, unique_name};

use support::{await_all, producer};

const LIMIT: Duration = Duration::from_secs(120);

fn transactional(kafka: &Kafka, id: &str) -> KafkaProducer {
    producer(
        kafka.bootstrap(),
        &[("transactional.id", id), ("linger.ms", "5")],
    )
}

fn values(records: &[kafka_testkit::ConsumedRecord]) -> Vec<String> {
    records.iter().filter_map(|r| r.value_str()).collect()
}

/// Sends `values` to `topic`-`partition` in the open transaction; returns the
/// delivery handles.
async fn send(
    producer: &KafkaProducer,
    topic: &str,
    partition: i32,
    values: &[String],
) -> Vec<kafka_core::DeliveryFuture> {
    let mut handles = Vec::new();
    for value in values {
        let record = ProducerRecord::new(topic, value.clone()).with_partition(partition);
        handles.push(producer.send(record).await.expect("accepted"));
    }
    handles
}

fn named(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// (1) Committed records are visible; aborted ones never are to read_committed
/// and are in the log (read_uncommitted). Returns the negotiated protocol.
async fn committed_are_visible_and_aborted_never(kafka: &Kafka) -> TransactionProtocol {
    let topic = kafka.create_topic("txn-visibility", 1, 1);
    let producer = transactional(kafka, &unique_name("txn-visibility"));
    producer
        .init_transactions()
        .await
        .expect("init_transactions");
    let protocol = producer
        .transaction_protocol()
        .expect("known after init_transactions");

    producer.begin_transaction().expect("begin");
    let first = send(&producer, &topic, 0, &named("c", 0..5)).await;
    producer.commit_transaction().await.expect("commit");
    await_all(first).await;

    producer.begin_transaction().expect("begin");
    // Acknowledged: the aborted records are in the log, not just buffered.
    await_all(send(&producer, &topic, 0, &named("a", 0..5)).await).await;
    producer.abort_transaction().await.expect("abort");

    producer.begin_transaction().expect("begin");
    let sentinel = send(&producer, &topic, 0, &named("c", 5..10)).await;
    producer.commit_transaction().await.expect("commit");
    await_all(sentinel).await;
    // Java's KafkaProducerMetrics: the time spent in each call, summed.
    let metrics = producer.metrics();
    for (call, total) in [
        ("init", metrics.txn_init_time_total),
        ("begin", metrics.txn_begin_time_total),
        ("commit", metrics.txn_commit_time_total),
        ("abort", metrics.txn_abort_time_total),
    ] {
        assert!(total > Duration::ZERO, "txn-{call}-time-ns-total");
    }
    assert_eq!(metrics.txn_send_offsets_time_total, Duration::ZERO);
    producer.close(LIMIT).await;

    let committed = kafka.read(&topic, 10, Duration::from_secs(10), true);
    assert_eq!(values(&committed), named("c", 0..10), "read_committed");
    let everything = kafka.read(&topic, 15, Duration::from_secs(10), false);
    let mut expected = named("c", 0..5);
    expected.extend(named("a", 0..5));
    expected.extend(named("c", 5..10));
    assert_eq!(values(&everything), expected, "read_uncommitted");
    protocol
}

/// (2) One transaction over 2 topics and 6 partitions: aborted whole, then
/// committed whole.
async fn one_transaction_over_two_topics_and_six_partitions(kafka: &Kafka) {
    let topics = [
        kafka.create_topic("txn-wide-a", 3, 1),
        kafka.create_topic("txn-wide-b", 3, 1),
    ];
    let producer = transactional(kafka, &unique_name("txn-wide"));
    producer
        .init_transactions()
        .await
        .expect("init_transactions");
    for commit in [false, true] {
        producer.begin_transaction().expect("begin");
        let mut handles = Vec::new();
        for topic in &topics {
            for partition in 0..3 {
                let prefix = format!("{}-{partition}-{commit}-", &topic[..10]);
                handles.extend(send(&producer, topic, partition, &named(&prefix, 0..20)).await);
            }
        }
        if commit {
            producer.commit_transaction().await.expect("commit");
            await_all(handles).await;
        } else {
            await_all(handles).await;
            producer.abort_transaction().await.expect("abort");
        }
    }
    producer.close(LIMIT).await;
    for topic in &topics {
        let committed = kafka.read(topic, 60, Duration::from_secs(10), true);
        assert_eq!(committed.len(), 60, "{topic}: every committed record");
        for partition in 0..3 {
            let prefix = format!("{}-{partition}-true-", &topic[..10]);
            let got: Vec<_> = committed
                .iter()
                .filter(|r| r.partition == partition)
                .filter_map(|r| r.value_str())
                .collect();
            assert_eq!(got, named(&prefix, 0..20), "{topic}-{partition}");
        }
    }
}

/// The protocol a Java 4.x client uses with `kafka`: V2 when the cluster's
/// finalized `transaction.version` is 2 or more, as Kafka's own
/// `kafka-features describe` reports it.
fn expected_protocol(kafka: &Kafka) -> TransactionProtocol {
    let described = kafka.tool("org.apache.kafka.tools.FeatureCommand", &["describe"]);
    assert!(
        described.contains("Feature: metadata.version"),
        "kafka-features describe failed:\n{described}"
    );
    // A broker that does not know the feature (Kafka 3.x) is at level 0.
    let level = described
        .lines()
        .find(|l| l.starts_with("Feature: transaction.version\t"))
        .and_then(|l| {
            l.split('\t')
                .find_map(|c| c.strip_prefix("FinalizedVersionLevel: "))
        })
        .map_or(0, |level| level.trim().parse::<i16>().expect("a level"));
    if level >= 2 {
        TransactionProtocol::V2
    } else {
        TransactionProtocol::V1
    }
}

#[test]
fn committed_records_are_visible_and_aborted_ones_never() {
    let kafka = Kafka::get();
    let expected = expected_protocol(kafka);
    assert_eq!(
        expected,
        TransactionProtocol::V2,
        "the shared Kafka 4.1 broker finalizes transaction.version 2 when formatted fresh"
    );
    support::run(LIMIT, async {
        let protocol = committed_are_visible_and_aborted_never(kafka).await;
        assert_eq!(protocol, expected, "negotiated as Kafka's features say");
        one_transaction_over_two_topics_and_six_partitions(kafka).await;
    });
}

#[test]
fn a_second_producer_with_the_same_transactional_id_fences_the_first() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("txn-fencing", 1, 1);
    let id = unique_name("txn-fencing");
    support::run(LIMIT, async {
        let first = transactional(kafka, &id);
        first.init_transactions().await.expect("init first");
        assert_eq!(first.transaction_protocol(), Some(expected_protocol(kafka)));
        first.begin_transaction().expect("begin");
        await_all(send(&first, &topic, 0, &named("zombie", 0..3)).await).await;

        let second = transactional(kafka, &id);
        second.init_transactions().await.expect("init second");

        let fenced = first.commit_transaction().await.expect_err("fenced");
        assert!(
            matches!(fenced, TransactionError::ProducerFenced { .. }),
            "{fenced:?}"
        );
        assert!(fenced.is_fatal());
        let refused = first
            .send(ProducerRecord::new(topic.as_str(), "late"))
            .await
            .expect_err("a fenced producer sends nothing");
        assert!(
            matches!(
                refused.error(),
                KafkaError::Transaction(TransactionError::ProducerFenced { .. })
            ),
            "{refused}"
        );
        first.close(LIMIT).await;

        second.begin_transaction().expect("begin");
        let handles = send(&second, &topic, 0, &named("live", 0..3)).await;
        second.commit_transaction().await.expect("commit");
        await_all(handles).await;
        second.close(LIMIT).await;
    });
    let committed = kafka.read(&topic, 3, Duration::from_secs(10), true);
    assert_eq!(values(&committed), named("live", 0..3));
}

#[test]
fn offsets_sent_to_a_transaction_move_the_group_only_on_commit() {
    let kafka = Kafka::get();
    let input = kafka.create_topic("txn-input", 1, 1);
    let output = kafka.create_topic("txn-output", 1, 1);
    kafka.produce_with_console(&input, &[(None, "i0"), (None, "i1"), (None, "i2")]);
    let group = ConsumerGroupMetadata::new(unique_name("txn-group"));
    support::run(LIMIT, async {
        let producer = transactional(kafka, &unique_name("txn-ctp"));
        producer.init_transactions().await.expect("init");
        // V2: TxnOffsetCommit v5 without AddOffsetsToTxn.
        assert_eq!(
            producer.transaction_protocol(),
            Some(expected_protocol(kafka))
        );
        for (commit, offset) in [(false, 2), (true, 3)] {
            producer.begin_transaction().expect("begin");
            let handles = send(&producer, &output, 0, &[format!("out-{commit}")]).await;
            let offsets = [(
                TopicPartition::new(input.as_str(), 0),
                OffsetAndMetadata::new(offset),
            )];
            producer
                .send_offsets_to_transaction(offsets, &group)
                .await
                .expect("offsets");
            if commit {
                producer.commit_transaction().await.expect("commit");
                await_all(handles).await;
            } else {
                await_all(handles).await;
                producer.abort_transaction().await.expect("abort");
                let described = kafka.describe_group(&group.group_id);
                assert_eq!(
                    committed_offset(&described, &input, 0),
                    None,
                    "an aborted transaction commits no offset:\n{described}"
                );
            }
        }
        producer.close(LIMIT).await;
    });
    let described = kafka.describe_group(&group.group_id);
    assert_eq!(
        committed_offset(&described, &input, 0),
        Some(3),
        "the committed transaction's offset:\n{described}"
    );
    let committed = kafka.read(&output, 1, Duration::from_secs(10), true);
    assert_eq!(values(&committed), vec!["out-true".to_owned()]);
}

/// A transaction of offsets only whose TxnOffsetCommit the group refuses (a
/// member the group does not know, as after a rebalance) is aborted on the
/// coordinator (under V2 the offsets partition joined it first): the
/// producer's next transaction commits, not fenced by a dangling one.
#[test]
fn an_abort_after_refused_offsets_leaves_no_transaction_open() {
    let kafka = Kafka::get();
    let output = kafka.create_topic("txn-refused-offsets", 1, 1);
    let group = ConsumerGroupMetadata::new(unique_name("txn-ghost-group")).with_member(4, "ghost");
    support::run(LIMIT, async {
        let id = unique_name("txn-refused");
        let producer = transactional(kafka, &id);
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        let offsets = [(
            TopicPartition::new(output.as_str(), 0),
            OffsetAndMetadata::new(1),
        )];
        let refused = producer
            .send_offsets_to_transaction(offsets, &group)
            .await
            .expect_err("no member ghost in generation 4");
        assert!(refused.is_abortable(), "{refused:?}");
        producer.abort_transaction().await.expect("abort");
        let described = kafka.describe_transaction(&id);
        assert!(
            described.contains("CompleteAbort") && !described.contains("Ongoing"),
            "the coordinator still has the transaction open:\n{described}"
        );
        producer.begin_transaction().expect("begin");
        let handles = send(&producer, &output, 0, &["after".to_owned()]).await;
        producer.commit_transaction().await.expect("commit");
        await_all(handles).await;
        producer.close(LIMIT).await;
    });
    let committed = kafka.read(&output, 1, Duration::from_secs(10), true);
    assert_eq!(values(&committed), vec!["after".to_owned()]);
}

/// A transactional id the coordinator expired (idle longer than
/// `transactional.id.expiration.ms`, 1 s on a broker of its own) is refused
/// with `INVALID_PRODUCER_ID_MAPPING`. As Java's producer: the transaction is
/// abortable, not the producer failed; the abort gets a new producer id
/// without EndTxn (which the coordinator would refuse the same way); the
/// next transaction commits. Read back with Kafka's read_committed consumer.
#[test]
fn an_expired_transactional_id_aborts_the_transaction_and_the_producer_goes_on() {
    let cluster = Cluster::start_with_properties(&[
        ("transactional.id.expiration.ms", "1000"),
        (
            "transaction.remove.expired.transaction.cleanup.interval.ms",
            "200",
        ),
    ]);
    let topic = cluster.create_topic("txn-expired-id", 1, 1);
    support::run(LIMIT, async {
        let id = unique_name("txn-expired");
        let producer = transactional(&cluster, &id);
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        let handles = send(&producer, &topic, 0, &["first".to_owned()]).await;
        producer.commit_transaction().await.expect("commit");
        await_all(handles).await;
        // Idle until the coordinator has forgotten the transactional id.
        cluster.wait_for_transaction(
            &id,
            |described| described.contains("could not be found"),
            Duration::from_secs(60),
        );
        producer.begin_transaction().expect("begin");
        let refused = send(&producer, &topic, 0, &["refused".to_owned()]).await;
        let commit = producer
            .commit_transaction()
            .await
            .expect_err("the coordinator no longer knows the producer");
        assert!(commit.is_abortable() && !commit.is_fatal(), "{commit:?}");
        assert!(
            commit.to_string().contains("INVALID_PRODUCER_ID_MAPPING"),
            "{commit}"
        );
        for handle in refused {
            handle.await.expect_err("not committed");
        }
        producer.abort_transaction().await.expect("abort");
        producer.begin_transaction().expect("begin again");
        let handles = send(&producer, &topic, 0, &["second".to_owned()]).await;
        producer.commit_transaction().await.expect("commit");
        await_all(handles).await;
        producer.close(LIMIT).await;
    });
    let committed = cluster.read(&topic, 2, Duration::from_secs(10), true);
    assert_eq!(values(&committed), ["first", "second"]);
}

#[test]
fn transactions_work_against_kafka_3_9_with_the_v1_protocol() {
    let cluster = Cluster::start(1, Some("3.9.1"));
    let status = cluster.script(&["status"]);
    assert!(status.starts_with("Kafka 3.9.1,"), "not 3.9.1: {status}");
    assert_eq!(expected_protocol(&cluster), TransactionProtocol::V1);
    support::run(LIMIT, async {
        let protocol = committed_are_visible_and_aborted_never(&cluster).await;
        assert_eq!(
            protocol,
            TransactionProtocol::V1,
            "Kafka 3.9 has no KIP-890 V2"
        );
        one_transaction_over_two_topics_and_six_partitions(&cluster).await;
    });
}

/// The transaction coordinator's node of `transactional_id`, as Kafka's
/// `kafka-transactions --describe` names it.
fn coordinator_of(cluster: &Cluster, transactional_id: &str) -> u32 {
    let stdout = cluster.describe_transaction(transactional_id);
    stdout
        .lines()
        .nth(1)
        .and_then(|row| row.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no coordinator in kafka-transactions' answer:\n{stdout}"))
}

/// Sends `r<rep>-<partition>-<n>` to every partition of the 3-partition `topics`.
async fn send_repetition(
    producer: &KafkaProducer,
    topics: &[String],
    rep: usize,
    per_partition: usize,
) -> Vec<kafka_core::DeliveryFuture> {
    let mut handles = Vec::new();
    for topic in topics {
        for partition in 0..3 {
            let prefix = format!("r{rep}-{partition}-");
            handles.extend(
                send(
                    producer,
                    topic,
                    partition,
                    &named(&prefix, 0..per_partition),
                )
                .await,
            );
        }
    }
    handles
}

/// Commits, resuming after a timeout; an abortable error aborts instead.
/// Whether the transaction committed.
async fn commit_or_abort(producer: &KafkaProducer) -> bool {
    loop {
        match producer.commit_transaction().await {
            Ok(()) => return true,
            Err(TransactionError::Timeout { .. }) => continue,
            Err(e) if e.is_abortable() => loop {
                match producer.abort_transaction().await {
                    Ok(()) => return false,
                    Err(TransactionError::Timeout { .. }) => continue,
                    Err(e) => panic!("abort failed: {e}"),
                }
            },
            Err(e) => panic!("commit failed with a fatal error: {e}"),
        }
    }
}

#[test]
fn a_transaction_commits_or_aborts_whole_when_its_coordinator_is_killed() {
    // Each repetition restarts a broker (about 40 s): the test command runs
    // 2, `scripts/chaos --transactions 10` the 10.
    let repetitions: usize = std::env::var("TXN_KILL_REPETITIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    const PER_PARTITION: usize = 5;
    let cluster = std::sync::Arc::new(Cluster::start(3, None));
    let topics = [
        cluster.create_topic("txn-chaos-a", 3, 3),
        cluster.create_topic("txn-chaos-b", 3, 3),
    ];
    let id = unique_name("txn-chaos");
    let outcomes = support::run(Duration::from_secs(600), async {
        let producer = transactional(&cluster, &id);
        producer.init_transactions().await.expect("init");
        let mut outcomes = Vec::new();
        for rep in 0..repetitions {
            producer.begin_transaction().expect("begin");
            let handles = send_repetition(&producer, &topics, rep, PER_PARTITION).await;
            // In the log, not yet committed: then the coordinator dies and
            // restarts while the commit runs.
            for handle in handles {
                handle.await.expect("acknowledged before the kill");
            }
            let c = cluster.clone();
            let coordinator = tokio::task::spawn_blocking({
                let id = id.clone();
                move || {
                    let node = coordinator_of(&c, &id);
                    c.kill(node);
                    node
                }
            })
            .await
            .expect("kill");
            let c = cluster.clone();
            let restart = tokio::task::spawn_blocking(move || c.restart(coordinator));
            let committed = commit_or_abort(&producer).await;
            restart.await.expect("restart");
            eprintln!("repetition {rep}: coordinator {coordinator} killed, committed: {committed}");
            outcomes.push(committed);
            // The next kill must leave the transaction log two in-sync
            // replicas (its min.insync.replicas); the topics' replicas catch up
            // on their own (acks=all sends wait for them meanwhile).
            let c = cluster.clone();
            tokio::task::spawn_blocking(move || {
                c.wait_in_sync("__transaction_state", Duration::from_secs(60))
                    .unwrap_or_else(|lagging| panic!("transaction log not in sync: {lagging:?}"));
            })
            .await
            .expect("in sync");
        }
        // A last transaction, committed without a fault, after every other in
        // each partition: a read_committed read that reaches it has passed
        // every record the repetitions wrote.
        producer.begin_transaction().expect("begin");
        let handles = send_repetition(&producer, &topics, repetitions, PER_PARTITION).await;
        assert!(commit_or_abort(&producer).await, "the sentinel commits");
        await_all(handles).await;
        producer.close(LIMIT).await;
        outcomes.push(true);
        outcomes
    });
    let committed_reps: Vec<usize> = (0..=repetitions).filter(|r| outcomes[*r]).collect();
    assert!(
        !committed_reps.is_empty(),
        "some transaction commits: {outcomes:?}"
    );
    let expected_per_topic = committed_reps.len() * 3 * PER_PARTITION;
    for topic in &topics {
        let read = cluster.read(topic, expected_per_topic, Duration::from_secs(10), true);
        for partition in 0..3 {
            let got: Vec<String> = read
                .iter()
                .filter(|r| r.partition == partition)
                .filter_map(|r| r.value_str())
                .collect();
            let expected: Vec<String> = committed_reps
                .iter()
                .flat_map(|rep| named(&format!("r{rep}-{partition}-"), 0..PER_PARTITION))
                .collect();
            assert_eq!(
                got, expected,
                "{topic}-{partition}: exactly the committed transactions, whole (outcomes {outcomes:?})"
            );
        }
    }
}
