//! The producer when connections break, through the test kit's proxy: a Produce
//! request the broker wrote but whose answer was lost is retried without a
//! duplicate when idempotence is on (and, as the control that proves the check
//! can see duplicates, with one when it is off), and a close with the broker
//! gone resolves every handle with an error. A retry whose answer was lost
//! keeps its epoch when another partition's failure bumps it, so the broker
//! deduplicates it.
//!
//! The proxy listens on fixed ports, so the tests here take turns.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kafka_core::{KafkaError, ProducerRecord, RecordMetadata};
use kafka_testkit::proxy::{HarnessProxy, KafkaProxy, PRODUCE};
use kafka_testkit::{ConsumedRecord, Kafka, unique_name};

use support::{await_all, producer, run};

const LIMIT: Duration = Duration::from_secs(120);
const RECORDS: usize = 3_000;
const KEYS: usize = 30;

static PROXY_PORTS: Mutex<()> = Mutex::new(());

fn take_proxy_ports() -> MutexGuard<'static, ()> {
    PROXY_PORTS.lock().unwrap_or_else(|p| p.into_inner())
}

struct CutRun {
    acks: Vec<RecordMetadata>,
    consumed: Vec<ConsumedRecord>,
    cuts: u32,
    retries: u64,
}

/// Sends `RECORDS` keyed records through the proxy, which cuts the connection
/// once, a third of the way in, right after the broker answered a Produce request.
async fn send_through_one_cut(props: &[(&str, &str)]) -> CutRun {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("cut", 3, 1);
    let proxy = KafkaProxy::start();
    let mut all = vec![("linger.ms", "2"), ("request.timeout.ms", "10000")];
    all.extend_from_slice(props);
    let producer = producer(proxy.bootstrap(), &all);
    let mut handles = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        if i == RECORDS / 3 {
            // Connected, producer id obtained, records flowing: now arm the cut.
            producer.flush().await;
            proxy.cut_after_next_request(PRODUCE);
        }
        let record = ProducerRecord::new(topic.clone(), format!("cut-{i}"))
            .with_key(format!("key-{}", i % KEYS));
        handles.push(producer.send(record).await.expect("send accepted"));
        if i % 100 == 0 {
            // Spread the records over many requests.
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    producer.flush().await;
    let acks = await_all(handles).await;
    let retries = producer.metrics().record_retry_total;
    assert_eq!(producer.close(Duration::from_secs(10)).await, 0);
    let cuts = proxy.cuts();
    drop(proxy);
    // Read past RECORDS so that duplicates, if any, are all seen.
    let consumed = kafka.read(&topic, 2 * RECORDS, Duration::from_secs(5), false);
    CutRun {
        acks,
        consumed,
        cuts,
        retries,
    }
}

/// The send index in a record's value `cut-<i>`.
fn index(record: &ConsumedRecord) -> usize {
    record
        .value_str()
        .and_then(|v| v.strip_prefix("cut-").and_then(|n| n.parse().ok()))
        .filter(|i| *i < RECORDS)
        .unwrap_or_else(|| panic!("unexpected record {record:?}"))
}

/// How many times each record index was read back.
fn copies(consumed: &[ConsumedRecord]) -> Vec<usize> {
    let mut copies = vec![0usize; RECORDS];
    for record in consumed {
        copies[index(record)] += 1;
    }
    copies
}

#[test]
fn an_idempotent_retry_after_a_cut_connection_is_not_duplicated() {
    let _ports = take_proxy_ports();
    let run = run(
        LIMIT,
        send_through_one_cut(&[("enable.idempotence", "true"), ("acks", "all")]),
    );
    assert_eq!(run.cuts, 1, "the proxy must have cut exactly once");
    assert!(run.retries >= 1, "the cut request must have been retried");
    let copies = copies(&run.consumed);
    let wrong: Vec<(usize, usize)> = copies
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 1)
        .map(|(i, n)| (i, *n))
        .take(10)
        .collect();
    assert!(
        wrong.is_empty(),
        "(record, copies) not read exactly once: {wrong:?}"
    );
    assert_eq!(run.consumed.len(), RECORDS);
    // Send order holds within each partition (records come sorted by offset).
    let mut last: HashMap<i32, usize> = HashMap::new();
    for record in &run.consumed {
        let i = index(record);
        if let Some(previous) = last.insert(record.partition, i) {
            assert!(
                previous < i,
                "partition {}: #{i} after #{previous}",
                record.partition
            );
        }
    }
    // Each acknowledgement names where the record really is (a deduplicated
    // retry gets the original offset back).
    for (i, ack) in run.acks.iter().enumerate() {
        let stored = run
            .consumed
            .iter()
            .find(|r| r.partition == ack.partition && Some(r.offset) == ack.offset)
            .and_then(ConsumedRecord::value_str);
        assert_eq!(stored, Some(format!("cut-{i}")), "ack of #{i}: {ack:?}");
    }
}

#[test]
fn without_idempotence_the_same_cut_duplicates() {
    // The control: the check above can see a duplicate when there is one.
    let _ports = take_proxy_ports();
    let run = run(
        LIMIT,
        send_through_one_cut(&[
            ("enable.idempotence", "false"),
            ("max.in.flight.requests.per.connection", "1"),
            ("acks", "all"),
        ]),
    );
    assert_eq!(run.cuts, 1);
    assert!(run.retries >= 1);
    let copies = copies(&run.consumed);
    let lost: Vec<usize> = (0..RECORDS).filter(|i| copies[*i] == 0).collect();
    let twice: Vec<usize> = (0..RECORDS).filter(|i| copies[*i] > 1).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost: {} records, first {:?}; duplicated: {:?}; read {}; acks of lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)],
        &twice[..twice.len().min(10)],
        run.consumed.len(),
        lost.iter()
            .take(5)
            .map(|i| &run.acks[*i])
            .collect::<Vec<_>>()
    );
    let duplicated = copies.iter().filter(|n| **n > 1).count();
    assert!(
        duplicated > 0,
        "the resent batch was expected to be stored twice without idempotence"
    );
    assert_eq!(run.consumed.len(), RECORDS + duplicated);
    eprintln!("without idempotence, one cut stored {duplicated} records twice");
}

/// A batch whose answer was lost waits for its retry when a batch of another
/// partition fails for good (a keyless record on a compacted topic), which
/// bumps the producer epoch. As Java's producer, the retry goes out with its
/// old epoch and sequence: the broker finds it a duplicate, and the record is
/// delivered, once (read by Kafka's consumer). Before, it failed as
/// "possibly written".
#[test]
fn a_lost_answer_retried_across_an_epoch_bump_is_delivered_once() {
    let _ports = take_proxy_ports();
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("bump-retry", 1, 1);
        let compacted = unique_name("bump-compacted");
        kafka.create_topic_named(&compacted, 1, 1, &["cleanup.policy=compact"]);
        let proxy = KafkaProxy::start();
        // A long retry backoff: the retry of the lost answer waits while the
        // other partition's failure bumps the epoch.
        let producer = producer(
            proxy.bootstrap(),
            &[
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("retry.backoff.ms", "4000"),
                ("retry.backoff.max.ms", "4000"),
            ],
        );
        let warm = [
            ProducerRecord::new(topic.clone(), "warm"),
            ProducerRecord::new(compacted.clone(), "warm").with_key("k"),
        ];
        for record in warm {
            producer
                .send(record)
                .await
                .expect("send accepted")
                .await
                .expect("written");
        }
        proxy.cut_after_next_request(PRODUCE);
        let first = producer
            .send(ProducerRecord::new(topic.clone(), "first"))
            .await
            .expect("send accepted");
        let deadline = Instant::now() + Duration::from_secs(30);
        while proxy.cuts() == 0 {
            assert!(Instant::now() < deadline, "the proxy never cut");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let keyless = producer
            .send(ProducerRecord::new(compacted.clone(), "keyless"))
            .await
            .expect("send accepted")
            .await
            .expect_err("a keyless record on a compacted topic is refused");
        assert!(
            matches!(keyless.error(), KafkaError::Broker { code, .. } if code.name() == "INVALID_RECORD"),
            "{keyless:?}"
        );
        assert!(
            !first.is_done(),
            "the test needs the lost answer's retry still waiting"
        );
        let metadata = first
            .await
            .expect("delivered: the broker deduplicated the retry");
        let second = producer
            .send(ProducerRecord::new(topic.clone(), "second"))
            .await
            .expect("send accepted")
            .await
            .expect("written under the new epoch");
        assert!(second.offset > metadata.offset);
        assert_eq!(producer.metrics().producer_epoch_bump_total, 1);
        assert_eq!(producer.close(Duration::from_secs(10)).await, 0);
        drop(proxy);
        let values: Vec<String> = kafka
            .read(&topic, 4, Duration::from_secs(5), false)
            .iter()
            .filter_map(|r| r.value_str())
            .collect();
        assert_eq!(values, ["warm", "first", "second"], "each written once");
    });
}

#[test]
fn close_with_the_broker_unreachable_fails_every_handle_and_callback() {
    let _ports = take_proxy_ports();
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("close-unreachable", 3, 1);
        let proxy = KafkaProxy::start();
        let producer = producer(proxy.bootstrap(), &[]);
        // Learn the topic's metadata and connect while the broker is reachable.
        let mut first = Vec::new();
        for i in 0..20 {
            let record = ProducerRecord::new(topic.clone(), format!("early-{i}"));
            first.push(producer.send(record).await.expect("send accepted"));
        }
        producer.flush().await;
        await_all(first).await;

        let fronts: Vec<String> = proxy.bootstrap().split(',').map(str::to_owned).collect();
        drop(proxy);
        wait_until_nothing_listens(&fronts);

        // Accepted (metadata is known), but they can never be sent.
        let mut handles = Vec::new();
        for i in 0..100 {
            let record = ProducerRecord::new(topic.clone(), format!("late-{i}"));
            handles.push(producer.send(record).await.expect("send accepted"));
        }
        let failed_callbacks = Arc::new(AtomicUsize::new(0));
        let other_outcomes = Arc::new(std::sync::Mutex::new(Vec::new()));
        for i in 0..20 {
            let failed = failed_callbacks.clone();
            let others = other_outcomes.clone();
            producer
                .send_with_callback(
                    ProducerRecord::new(topic.clone(), format!("late-cb-{i}")),
                    move |result| match result {
                        Err(e) if failed_by_the_close(e.error()) => {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                        other => others
                            .lock()
                            .unwrap()
                            .push(format!("{:?}", other.map(|sent| sent.metadata))),
                    },
                )
                .await
                .expect("send accepted");
        }

        let timeout = Duration::from_millis(500);
        let started = Instant::now();
        let lost = producer.close(timeout).await;
        let elapsed = started.elapsed();
        assert!(
            elapsed < timeout + Duration::from_millis(1500),
            "close took {elapsed:?} with a {timeout:?} timeout"
        );
        assert_eq!(lost, 120, "close must report every undelivered record");
        assert_eq!(
            failed_callbacks.load(Ordering::SeqCst),
            20,
            "callbacks that the close did not fail: {:?}",
            other_outcomes.lock().unwrap()
        );
        for (i, handle) in handles.into_iter().enumerate() {
            assert!(handle.is_done(), "handle #{i} unresolved after close");
            let error = handle.await.expect_err("undeliverable");
            assert!(failed_by_the_close(error.error()), "{error:?}");
            let value = error.record().and_then(|r| r.value.clone());
            assert_eq!(value.as_deref(), Some(format!("late-{i}").as_bytes()));
        }
    });
}

/// A record failed by the close: `ProducerClosed`, or, when its batch had
/// been written to the connection the proxy had just closed before the
/// producer saw it closed (a loaded machine), `DeliveryUnknown` caused by
/// the close: the producer cannot know the proxy did not pass it on.
fn failed_by_the_close(error: &KafkaError) -> bool {
    match error {
        KafkaError::ProducerClosed(_) => true,
        KafkaError::DeliveryUnknown { cause, .. } => {
            matches!(**cause, KafkaError::ProducerClosed(_))
        }
        _ => false,
    }
}

/// The proxy stops listening on a thread of its own; wait for it, so the next
/// test can bind the same ports and this one really has no broker.
fn wait_until_nothing_listens(addresses: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for address in addresses {
        let address = address.parse().expect("proxy address");
        while std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the proxy still listens on {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
