//! Replaying a failure journal to a real broker: what Kafka's own consumer
//! reads back is what the journal held (topic, partition, key, value, headers,
//! timestamp), and the journal is left with only what failed again.

use std::time::Duration;

use bytes::Bytes;
use kafka_core::{Header, KafkaProducer, ProducerConfig};
use kafka_template::journal::{FailureJournal, JournalEntry, ReplayReport, replay};
use kafka_testkit::Kafka;

fn producer(kafka: &Kafka) -> KafkaProducer {
    let config = ProducerConfig::builder()
        .bootstrap_servers(kafka.bootstrap())
        // A missing topic fails fast instead of waiting the default minute.
        .max_block(Duration::from_secs(5))
        .build()
        .unwrap();
    KafkaProducer::new(config).unwrap()
}

/// Attempted, sent, failed and remaining entries.
fn counts(report: &ReplayReport) -> (u64, u64, u64, u64) {
    (
        report.attempted,
        report.sent,
        report.failed,
        report.remaining,
    )
}

fn entry(topic: &str, i: u32) -> JournalEntry {
    JournalEntry {
        topic: topic.to_owned(),
        partition: Some((i % 2) as i32),
        key: if i % 5 == 4 {
            None
        } else {
            Some(Bytes::from(format!("key-{i}")))
        },
        value: if i % 7 == 6 {
            None
        } else {
            Some(Bytes::from(format!("välue-{i} ✓")))
        },
        headers: vec![
            Header::new("seq", i.to_string()),
            Header::null("null-valued"),
            Header::new("origin", "journal-test"),
        ],
        timestamp: Some(1_700_000_000_000 + i64::from(i) * 1000),
        error: format!("delivery timeout {i}"),
        failed_at_ms: 1_700_000_500_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_delivers_every_field_and_empties_the_journal() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("journal-replay", 2, 1);
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    let entries: Vec<_> = (0..40).map(|i| entry(&topic, i)).collect();
    journal.append_all(&entries).unwrap();

    let producer = producer(kafka);
    let report = replay(&journal, &producer).await.unwrap();
    assert_eq!(counts(&report), (40, 40, 0, 0));
    assert_eq!(report.last_error, None);
    assert!(journal.is_empty());
    assert_eq!(FailureJournal::open(journal.path()).unwrap().len(), 0);
    producer.close(Duration::from_secs(10)).await;

    let consumed = kafka.read_all(&topic, 40);
    assert_eq!(consumed.len(), 40);
    for record in &consumed {
        let seq: u32 = record.header_str("seq").unwrap().parse().unwrap();
        let expected = &entries[seq as usize];
        assert_eq!(record.topic, topic);
        assert_eq!(Some(record.partition), expected.partition, "seq {seq}");
        assert_eq!(record.key.as_deref(), expected.key.as_deref(), "seq {seq}");
        assert_eq!(
            record.value.as_deref(),
            expected.value.as_deref(),
            "seq {seq}"
        );
        assert_eq!(Some(record.timestamp), expected.timestamp, "seq {seq}");
        assert_eq!(record.timestamp_type, "CreateTime");
        let headers: Vec<(String, Option<Vec<u8>>)> = expected
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
            .collect();
        assert_eq!(record.headers, headers, "seq {seq}");
    }
    // Per partition, the journal's order.
    for partition in 0..2 {
        let seqs: Vec<u32> = consumed
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.header_str("seq").unwrap().parse().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_that_fail_again_stay_with_their_first_error() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("journal-replay-partial", 1, 1);
    let missing = kafka_testkit::unique_name("journal-no-such-topic");
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    let mut to_missing = entry(&missing, 1);
    to_missing.partition = None;
    let mut also_missing = entry(&missing, 3);
    also_missing.partition = Some(0);
    let mut good = vec![entry(&topic, 0), entry(&topic, 2)];
    for e in &mut good {
        e.partition = Some(0);
    }
    journal
        .append_all(&[
            good[0].clone(),
            to_missing.clone(),
            good[1].clone(),
            also_missing.clone(),
        ])
        .unwrap();

    let producer = producer(kafka);
    let started = std::time::Instant::now();
    let report = replay(&journal, &producer).await.unwrap();
    // The second entry to the missing topic does not wait max.block.ms (5 s) again.
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(counts(&report), (4, 2, 2, 2));
    let last_error = report.last_error.unwrap();
    assert!(
        last_error.contains("not sent: an earlier record"),
        "{last_error}"
    );
    assert!(last_error.contains(&missing), "{last_error}");
    let left: Vec<_> = journal.entries().unwrap().map(Result::unwrap).collect();
    assert_eq!(left, [to_missing, also_missing]);
    producer.close(Duration::from_secs(10)).await;

    let consumed = kafka.read_all(&topic, 2);
    let values: Vec<_> = consumed.iter().map(|r| r.value_str().unwrap()).collect();
    assert_eq!(values, ["välue-0 ✓", "välue-2 ✓"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_kept_stay_in_journal_order_when_a_later_one_fails_first() {
    let kafka = Kafka::get();
    // The broker refuses records over 1 KiB on this topic: that entry fails
    // only once its request is answered.
    let small = kafka_testkit::unique_name("journal-replay-small");
    kafka.create_topic_named(&small, 1, 1, &["max.message.bytes=1024"]);
    let missing = kafka_testkit::unique_name("journal-no-such-topic");
    let dir = tempfile::tempdir().unwrap();
    let journal = FailureJournal::open(dir.path().join("failed.journal")).unwrap();
    let mut too_large = entry(&small, 0);
    too_large.partition = Some(0);
    too_large.value = Some(Bytes::from(vec![b'x'; 4096]));
    // Refused at the send (its topic's metadata never comes), while the
    // first is still in flight.
    let mut to_missing = entry(&missing, 1);
    to_missing.partition = None;
    journal
        .append_all(&[too_large.clone(), to_missing.clone()])
        .unwrap();
    // One entry that is delivered, so that the journal is rewritten.
    let topic = kafka.create_topic("journal-replay-order", 1, 1);
    let mut good = entry(&topic, 2);
    good.partition = Some(0);
    journal.append(&good).unwrap();

    let producer = producer(kafka);
    let report = replay(&journal, &producer).await.unwrap();
    assert_eq!(counts(&report), (3, 1, 2, 2), "{report:?}");
    let left: Vec<_> = journal.entries().unwrap().map(Result::unwrap).collect();
    assert_eq!(left, [too_large, to_missing], "the journal's order");
    producer.close(Duration::from_secs(10)).await;
}
