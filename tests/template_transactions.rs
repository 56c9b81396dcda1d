//! `KafkaTemplate::execute_in_transaction` against the real broker: what a
//! transaction committed is visible to Kafka's own console consumer reading
//! `read_committed`, what it aborted (the closure failed or panicked) never
//! is, and is there, aborted, for `read_uncommitted`; concurrent
//! transactions run on different producers of the pool; a transactional
//! template refuses plain sends unless `allow-non-transactional` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kafka_template::core::TransactionError;
use kafka_template::core::{KafkaError, LazyRecord, ProducerRecord, RecordMetadata, SendError};
use kafka_template::{KafkaConfig, KafkaTemplate, ProducerListener, TransactionFailure};
use kafka_testkit::{ConsumedRecord, Kafka, unique_name};

/// A template whose `application.yml` has these lines under `kafka:` (with
/// the shared broker's address and a 1 ms linger).
fn template(lines: &str, listener: Option<Counting>) -> KafkaTemplate {
    template_at(Kafka::get().bootstrap(), lines, listener)
}

/// [`template`] for the broker at `bootstrap`.
fn template_at(bootstrap: &str, lines: &str, listener: Option<Counting>) -> KafkaTemplate {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!("kafka:\n  bootstrap-servers: {bootstrap}\n  producer:\n    linger: 1ms\n{lines}"),
    )
    .expect("write config");
    let config = KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("config loads");
    let mut builder = KafkaTemplate::builder().config(config);
    if let Some(listener) = listener {
        builder = builder.listener(listener);
    }
    builder.build().expect("template")
}

fn keys(records: &[ConsumedRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.key_str().unwrap_or_default())
        .collect()
}

#[derive(Clone, Default)]
struct Counting {
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl ProducerListener for Counting {
    fn on_success(&self, _record: &LazyRecord, _metadata: &RecordMetadata) {
        self.ok.fetch_add(1, Ordering::SeqCst);
    }
    fn on_error(&self, _record: Option<&ProducerRecord>, _error: &KafkaError) {
        self.failed.fetch_add(1, Ordering::SeqCst);
    }
}

fn record(topic: &str, key: &str) -> ProducerRecord {
    ProducerRecord::new(topic, format!("value of {key}")).with_key(key.to_owned())
}

/// Runs one transaction that sends `key` to `topic`; returns the
/// `transactional.id` it ran on.
async fn send_one(
    template: &KafkaTemplate,
    topic: &str,
    key: &str,
) -> Result<Option<String>, TransactionFailure<SendError>> {
    template
        .execute_in_transaction(|tx| async move {
            tx.send(record(topic, key)).await?;
            Ok(tx.transactional_id().map(str::to_owned))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_records_are_visible_and_aborted_ones_never_are() {
    let kafka = Kafka::get();
    // One partition: offsets order every record, aborted ones included.
    let topic = kafka.create_topic("tx-visible", 1, 1);
    let listener = Counting::default();
    let prefix = format!("{}-", unique_name("tx-visible"));
    let template = template(
        &format!("    transaction-id-prefix: {prefix}\n"),
        Some(listener.clone()),
    );

    let committed = template
        .execute_in_transaction(|tx| {
            let topic = topic.clone();
            async move {
                // Not awaited one by one: the commit waits for them.
                for i in 0..3 {
                    drop(
                        tx.enqueue(record(&topic, &format!("committed-{i}")))
                            .await?,
                    );
                }
                Ok::<_, SendError>(tx.transactional_id().map(str::to_owned))
            }
        })
        .await
        .expect("the first transaction commits");
    assert_eq!(committed, Some(format!("{prefix}0")));

    // The closure fails after the broker acknowledged its records: aborted.
    let failure = template
        .execute_in_transaction(|tx| {
            let topic = topic.clone();
            async move {
                for i in 0..2 {
                    tx.send(record(&topic, &format!("failed-{i}")))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Err::<(), _>("the work failed".to_owned())
            }
        })
        .await
        .expect_err("an Err aborts");
    assert!(
        matches!(&failure, TransactionFailure::Aborted { error, abort_error: None } if error == "the work failed"),
        "{failure:?}"
    );

    // The closure panics: aborted, then the panic goes on.
    let panicked = tokio::spawn({
        let (template, topic) = (template.clone(), topic.clone());
        async move {
            template
                .execute_in_transaction(|tx| async move {
                    for i in 0..2 {
                        tx.send(record(&topic, &format!("panicked-{i}"))).await?;
                    }
                    if tx.transactional_id().is_some() {
                        panic!("a bug in the closure");
                    }
                    Ok::<_, SendError>(())
                })
                .await
        }
    })
    .await
    .expect_err("the panic reaches the caller");
    assert!(panicked.is_panic());

    // A last transaction, after the aborted ones: read_committed reads up
    // to it and stops, so seeing exactly these records proves the aborted
    // ones before it were skipped (no waiting for silence).
    send_one(&template, &topic, "last")
        .await
        .expect("the last transaction commits");

    let read_committed = kafka.read(&topic, 4, Duration::from_secs(20), true);
    assert_eq!(
        keys(&read_committed),
        ["committed-0", "committed-1", "committed-2", "last"]
    );
    // read_uncommitted sees the aborted records too: they were written, and
    // only the abort markers hide them.
    let read_uncommitted = kafka.read(&topic, 8, Duration::from_secs(20), false);
    assert_eq!(
        keys(&read_uncommitted),
        [
            "committed-0",
            "committed-1",
            "committed-2",
            "failed-0",
            "failed-1",
            "panicked-0",
            "panicked-1",
            "last"
        ]
    );
    // The listener heard each acknowledgement, aborted records' included:
    // success in a transaction is final only when it commits.
    assert_eq!(listener.ok.load(Ordering::SeqCst), 8);
    assert_eq!(listener.failed.load(Ordering::SeqCst), 0);
    assert_eq!(template.close(Duration::from_secs(10)).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transactions_run_on_different_producers_of_the_pool() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("tx-concurrent", 3, 1);
    let prefix = format!("{}-", unique_name("tx-pool"));
    let template = template(&format!("    transaction-id-prefix: {prefix}\n"), None);
    // Both transactions are open at once: each waits for the other inside.
    let both_open = Arc::new(tokio::sync::Barrier::new(2));
    let run = |name: &'static str| {
        let (template, topic, both_open) = (template.clone(), topic.clone(), both_open.clone());
        tokio::spawn(async move {
            template
                .execute_in_transaction(|tx| async move {
                    tx.send(record(&topic, &format!("{name}-0"))).await?;
                    both_open.wait().await;
                    tx.send(record(&topic, &format!("{name}-1"))).await?;
                    Ok::<_, SendError>(tx.transactional_id().map(str::to_owned))
                })
                .await
                .expect("commits")
        })
    };
    let (a, b) = (run("a"), run("b"));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    let mut ids = vec![a, b];
    ids.sort();
    assert_eq!(ids, [format!("{prefix}0"), format!("{prefix}1")]);

    // The producers went back to the pool: the next transaction reuses one.
    let reused = send_one(&template, &topic, "c-0").await.unwrap().unwrap();
    assert!(ids.contains(&reused), "{reused} is one of {ids:?}");
    // (What committed transactions make visible is the first test's.)
    template.close(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_sends_are_refused_unless_allow_non_transactional() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("tx-plain", 1, 1);
    let refusing = template(
        &format!(
            "    transaction-id-prefix: {}\n",
            unique_name("tx-refusing")
        ),
        None,
    );
    let refused = refusing
        .send(record(&topic, "refused"))
        .await
        .expect_err("a transactional template refuses plain sends");
    assert!(
        matches!(
            refused.error(),
            KafkaError::Transaction(TransactionError::InvalidState { .. })
        ),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("allow-non-transactional"),
        "{refused}"
    );
    assert!(refusing.producer().is_none());

    let allowing = template(
        &format!(
            "    transaction-id-prefix: {}\n  template:\n    allow-non-transactional: true\n",
            unique_name("tx-allowing")
        ),
        None,
    );
    allowing
        .send(record(&topic, "plain"))
        .await
        .expect("allowed: sent without a transaction");
    send_one(&allowing, &topic, "in-tx")
        .await
        .expect("transactions still work");
    assert_eq!(
        keys(&kafka.read(&topic, 2, Duration::from_secs(20), true)),
        ["plain", "in-tx"]
    );
    allowing.close(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_producer_of_the_pool_is_closed_and_replaced() {
    use kafka_template::core::{KafkaProducer, ProducerConfig};

    let kafka = Kafka::get();
    let topic = kafka.create_topic("tx-fenced", 1, 1);
    let prefix = format!("{}-", unique_name("tx-fenced"));
    let template = template(&format!("    transaction-id-prefix: {prefix}\n"), None);
    let first = send_one(&template, &topic, "before")
        .await
        .expect("commits");
    assert_eq!(first, Some(format!("{prefix}0")));

    // Another instance starts with the same transactional.id: the pool's
    // idle producer is fenced.
    let intruder = KafkaProducer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", kafka.bootstrap()),
            ("transactional.id", &format!("{prefix}0")),
        ])
        .unwrap(),
    )
    .unwrap();
    intruder
        .init_transactions()
        .await
        .expect("the intruder starts");

    let fenced = send_one(&template, &topic, "fenced")
        .await
        .expect_err("the fenced producer cannot commit");
    let fatal = match &fenced {
        TransactionFailure::Aborted {
            abort_error: Some(e),
            ..
        }
        | TransactionFailure::Commit { error: e, .. } => e.is_fatal(),
        _ => false,
    };
    assert!(fatal, "{fenced:?}");

    // The fenced producer was closed; its number goes to a new producer,
    // whose init_transactions fences the intruder in turn.
    let replaced = send_one(&template, &topic, "after")
        .await
        .expect("a new producer commits");
    assert_eq!(replaced, Some(format!("{prefix}0")));
    assert_eq!(
        keys(&kafka.read(&topic, 2, Duration::from_secs(20), true)),
        ["before", "after"]
    );
    intruder.close(Duration::ZERO).await;
    template.close(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_dropped_during_its_commit_gives_its_producer_number_back() {
    use std::future::Future;
    use std::sync::atomic::AtomicBool;
    use std::task::Poll;

    let kafka = Kafka::get();
    let topic = kafka.create_topic("tx-dropped-commit", 1, 1);
    let prefix = format!("{}-", unique_name("tx-dropped-commit"));
    let template = template(&format!("    transaction-id-prefix: {prefix}\n"), None);
    let first = send_one(&template, &topic, "before")
        .await
        .expect("commits");
    assert_eq!(first, Some(format!("{prefix}0")));

    // The closure finishes, the commit starts (it waits for the broker),
    // and the future is dropped then: a timeout around it firing there.
    let work_done = Arc::new(AtomicBool::new(false));
    {
        let transaction = template.execute_in_transaction(|tx| {
            let (topic, work_done) = (topic.clone(), work_done.clone());
            async move {
                tx.send(record(&topic, "dropped")).await?;
                work_done.store(true, Ordering::SeqCst);
                Ok::<_, SendError>(())
            }
        });
        let mut transaction = std::pin::pin!(transaction);
        let committing = std::future::poll_fn(|cx| match transaction.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(false),
            Poll::Pending if work_done.load(Ordering::SeqCst) => Poll::Ready(true),
            Poll::Pending => Poll::Pending,
        })
        .await;
        assert!(committing, "the commit waits for the broker");
    } // The transaction's future is dropped here.

    // Its producer's number is free again at once: the next transaction
    // runs as `{prefix}0` (whose start fences the dropped one's producer),
    // not on a number the pool lost.
    let next = send_one(&template, &topic, "after").await.expect("commits");
    assert_eq!(next, Some(format!("{prefix}0")));
    let read = keys(&kafka.read(&topic, 3, Duration::from_secs(3), true));
    assert!(
        read == ["before", "after"] || read == ["before", "dropped", "after"],
        "the dropped commit happened wholly or not at all: {read:?}"
    );
    template.close(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_sent_in_a_transaction_move_the_group_only_on_commit() {
    use kafka_template::core::{ConsumerGroupMetadata, OffsetAndMetadata, TopicPartition};
    use kafka_testkit::committed_offset;

    let kafka = Kafka::get();
    // The records go to the topic whose offsets the group commits: what
    // the transactions write is checked by the other tests; here, the group.
    let input = kafka.create_topic("tx-input", 1, 1);
    let output = input.clone();
    let group = ConsumerGroupMetadata::new(unique_name("tx-group"));
    let template = template(
        &format!("    transaction-id-prefix: {}-\n", unique_name("tx-ctp")),
        None,
    );
    // Consume-transform-produce: the output record and the input offset go
    // into one transaction.
    let process = |key: &'static str, offset: i64, fail: bool| {
        let (template, input, output, group) = (
            template.clone(),
            input.clone(),
            output.clone(),
            group.clone(),
        );
        async move {
            template
                .execute_in_transaction(|tx| async move {
                    tx.send(record(&output, key))
                        .await
                        .map_err(|e| e.to_string())?;
                    let offsets = [(
                        TopicPartition::new(input, 0),
                        OffsetAndMetadata::new(offset),
                    )];
                    tx.send_offsets(offsets, &group)
                        .await
                        .map_err(|e| e.to_string())?;
                    if fail {
                        return Err("the transform failed".to_owned());
                    }
                    Ok(())
                })
                .await
        }
    };
    process("out-aborted", 2, true)
        .await
        .expect_err("the closure's Err aborts");
    let described = kafka.describe_group(&group.group_id);
    assert_eq!(
        committed_offset(&described, &input, 0),
        None,
        "an aborted transaction commits no offset:\n{described}"
    );
    process("out-committed", 3, false).await.expect("commits");
    let described = kafka.describe_group(&group.group_id);
    assert_eq!(
        committed_offset(&described, &input, 0),
        Some(3),
        "the committed transaction's offset:\n{described}"
    );
    template.close(Duration::from_secs(10)).await;
}

/// A transaction whose abort times out (its broker stalled with a Produce
/// request in flight) is aborted in the background once the broker answers,
/// not left open: the pool closes such a producer within the close timeout
/// (a closing producer aborts what it left open) instead of forcing it shut,
/// which left the transaction `Ongoing` until `transaction.timeout.ms`,
/// holding `read_committed` consumers back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_whose_abort_timed_out_is_aborted_in_the_background() {
    let cluster = kafka_testkit::Cluster::start(1, None);
    let topic = cluster.create_topic("tx-stalled-abort", 1, 1);
    let prefix = format!("{}-", unique_name("tx-stalled-abort"));
    let template = template_at(
        cluster.bootstrap(),
        &format!(
            "    transaction-id-prefix: {prefix}\n    properties:\n      max.block.ms: 1500\n"
        ),
        None,
    );
    send_one(&template, &topic, "before")
        .await
        .expect("commits");

    let failed = template
        .execute_in_transaction(|tx| {
            let (topic, cluster) = (topic.clone(), &cluster);
            async move {
                // Stalled before the record goes out: its Produce waits in
                // the socket, and the abort waits for its answer.
                cluster.pause(1);
                let producer = tx.producer().expect("a real producer");
                let sent_before = producer.metrics().record_send_total;
                let _pending = tx
                    .enqueue(record(&topic, "stalled"))
                    .await
                    .map_err(|e| e.to_string())?;
                // Until its Produce request is written (and waits there).
                while producer.metrics().record_send_total == sent_before {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err::<(), String>("the business step failed".to_owned())
            }
        })
        .await;
    assert!(failed.is_err(), "the closure failed");
    cluster.resume(1);

    let id = format!("{prefix}0");
    // The transaction is aborted, not left open.
    cluster.wait_for_transaction(
        &id,
        |described| described.contains("CompleteAbort"),
        Duration::from_secs(30),
    );
    let read = keys(&cluster.read(&topic, 2, Duration::from_secs(3), true));
    assert_eq!(read, ["before"]);
    template.close(Duration::from_secs(10)).await;
}

/// As Spring's thread-bound transactional producer: the template's own
/// `send` inside `execute_in_transaction`'s closure (a service method that
/// holds the template) joins the transaction; without
/// `allow-non-transactional` it was refused, and with it went out at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_templates_own_sends_inside_the_closure_join_the_transaction() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("tx-template-sends", 1, 1);
    let prefix = format!("{}-", unique_name("tx-template-sends"));
    let template = template(&format!("    transaction-id-prefix: {prefix}\n"), None);
    // Outside a transaction a transactional template has no producer to ask.
    assert_eq!(template.metrics().record_send_total, 0);
    for (key, commit) in [("rolled-back", false), ("committed", true)] {
        let service = template.clone();
        let topic = topic.clone();
        let result = template
            .execute_in_transaction(|_tx| async move {
                service
                    .send(record(&topic, key))
                    .await
                    .map_err(|e| e.to_string())?;
                // Spring's metrics(): the transaction's producer's.
                let metrics = service.metrics();
                assert!(metrics.record_send_total >= 1, "{metrics:?}");
                assert!(metrics.client_id.starts_with("producer-"), "{metrics:?}");
                if commit {
                    Ok(())
                } else {
                    Err("the business step failed".to_owned())
                }
            })
            .await;
        assert_eq!(result.is_ok(), commit, "{result:?}");
    }
    let read = keys(&kafka.read(&topic, 1, Duration::from_secs(5), true));
    assert_eq!(read, ["committed"]);

    // Callbacks of the template's own enqueues inside the closure have run,
    // in order, when the commit returns (Java's commit flushes, and a flush
    // returns after the callbacks).
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (service, log, in_topic) = (template.clone(), heard.clone(), topic.clone());
    template
        .execute_in_transaction(|_tx| async move {
            for key in ["c-1", "c-2", "c-3"] {
                let log = log.clone();
                service
                    .enqueue_with_callback(record(&in_topic, key), move |result| {
                        let offset = result.ok().and_then(|r| r.record_metadata.offset);
                        log.lock().expect("log").push((key, offset));
                    })
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        })
        .await
        .expect("committed");
    let heard = heard.lock().expect("log").clone();
    assert_eq!(
        heard.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
        ["c-1", "c-2", "c-3"]
    );
    assert!(
        heard.windows(2).all(|w| w[0].1 < w[1].1) && heard[0].1.is_some(),
        "{heard:?}"
    );
    template.close(Duration::from_secs(10)).await;
}
