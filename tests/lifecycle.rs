//! The producer's lifecycle against the real broker: a service that returns
//! from `main` without `close()` loses nothing and is told the truth, and a
//! producer dropped while its requests are unanswered reports those records as
//! "possibly written", never as "not sent". What landed is read back with
//! Kafka's own Java consumer.

#[allow(dead_code)]
mod support;

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};
use kafka_testkit::Kafka;
use kafka_testkit::proxy::{HarnessProxy, KafkaProxy};

use support::run;

const SERVICE: &str = env!("CARGO_BIN_EXE_readme_service");

/// The outcome lines a child printed, by record id (`RUN-I`).
fn outcomes(stdout: &str) -> (HashMap<String, String>, bool) {
    let mut by_id = HashMap::new();
    let mut returned = false;
    for line in stdout.lines() {
        if line == "returning" {
            returned = true;
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(kind), Some(id)) = (parts.next(), parts.next()) else {
            panic!("unexpected line from the service: {line:?}");
        };
        let previous = by_id.insert(
            id.to_owned(),
            format!("{kind} {}", parts.next().unwrap_or("")),
        );
        assert!(
            previous.is_none(),
            "record {id}: a second outcome {line:?} after {previous:?}"
        );
    }
    (by_id, returned)
}

/// The README's pattern, `runs` times as a child process: enqueue with a
/// callback, return from `#[tokio::main]` without `close()`. Every callback
/// runs once and reports success; the Java consumer finds every record once.
fn readme_pattern(mode: &str, runs: usize, records: usize) {
    let kafka = Kafka::get();
    let topic = kafka.create_topic(&format!("readme-{mode}"), 3, 1);
    for run in 0..runs {
        let output = Command::new(SERVICE)
            .args([mode, &records.to_string(), &run.to_string()])
            .env("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap())
            .env("APP_TOPIC", &topic)
            .env_remove("KAFKA_PROFILES_ACTIVE")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("the service runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "run {run} failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let (by_id, returned) = outcomes(&stdout);
        assert!(returned, "run {run}: main did not reach its end");
        assert_eq!(by_id.len(), records, "run {run}: callbacks that ran");
        let failed: Vec<_> = by_id
            .iter()
            .filter(|(_, o)| !o.starts_with("ok"))
            .take(5)
            .collect();
        assert!(
            failed.is_empty(),
            "run {run}: callbacks that reported a failure: {failed:?}"
        );
    }
    let consumed = kafka.read(&topic, runs * records + 1, Duration::from_secs(5), false);
    let mut copies: HashMap<String, usize> = HashMap::new();
    for record in &consumed {
        // The template sends JSON (`{"user":..,"text":"RUN-I"}`), the core the id itself.
        let value = record.value_str().unwrap_or_default();
        let id = match serde_json::from_str::<serde_json::Value>(&value) {
            Ok(json) => json["text"].as_str().unwrap_or_default().to_owned(),
            Err(_) => value,
        };
        *copies.entry(id).or_default() += 1;
    }
    for run in 0..runs {
        for i in 0..records {
            let id = format!("{run}-{i}");
            assert_eq!(
                copies.get(&id),
                Some(&1),
                "record {id}: copies the Java consumer read"
            );
        }
    }
    assert_eq!(consumed.len(), runs * records);
}

#[test]
fn a_template_service_returning_from_main_without_close_delivers_every_record() {
    readme_pattern("template", 20, 1_000);
}

#[test]
fn a_core_producer_dropped_when_main_returns_delivers_every_record() {
    readme_pattern("core", 10, 1_000);
}

/// The proxy's ports are fixed: the tests that use it take turns.
static PROXY_PORTS: Mutex<()> = Mutex::new(());

fn take_proxy_ports() -> MutexGuard<'static, ()> {
    PROXY_PORTS.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone, PartialEq)]
enum Reported {
    Written,
    PossiblyWritten,
    NotWritten(String),
}

/// Requests reach the broker but their answers never come back; then the
/// connections are cut and the producer dropped. Whatever the broker holds was
/// never reported "not sent", and the records whose answers never came are
/// reported "possibly written".
#[test]
fn records_whose_answer_never_came_are_reported_possibly_written_on_drop() {
    let _ports = take_proxy_ports();
    let kafka = Kafka::get();
    let topic = kafka.create_topic("unanswered", 3, 1);
    let proxy = KafkaProxy::start();
    let reported: Arc<Mutex<HashMap<usize, Reported>>> = Arc::default();
    const BEFORE: usize = 300;
    const DURING: usize = 600;
    run(Duration::from_secs(120), async {
        let config = ProducerConfig::from_properties([
            ("bootstrap.servers", proxy.bootstrap()),
            ("linger.ms", "5"),
            ("request.timeout.ms", "30000"),
            ("delivery.timeout.ms", "60000"),
        ])
        .expect("config");
        let producer = KafkaProducer::builder(config)
            .close_timeout(Duration::from_secs(3))
            .build()
            .expect("producer");
        let send = |i: usize| {
            let reported = reported.clone();
            let record = ProducerRecord::new(topic.clone(), format!("rec-{i}"))
                .with_key(format!("key-{}", i % 11));
            producer.send_with_callback(record, move |result| {
                let outcome = match result {
                    Ok(_) => Reported::Written,
                    Err(e) if e.possibly_written() => Reported::PossiblyWritten,
                    Err(e) => Reported::NotWritten(e.to_string()),
                };
                let previous = reported.lock().unwrap().insert(i, outcome);
                assert!(previous.is_none(), "record {i} reported twice");
            })
        };
        for i in 0..BEFORE {
            send(i).await.expect("accepted");
        }
        producer.flush().await;
        proxy.withhold_responses(true);
        for i in BEFORE..BEFORE + DURING {
            send(i).await.expect("accepted");
            if i % 50 == 0 {
                tokio::task::yield_now().await;
            }
        }
        // Wait until some requests went out unanswered, then cut the connections
        // under them: the producer reconnects and resends into the same silence.
        let deadline = Instant::now() + Duration::from_secs(20);
        while proxy.withheld() == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            proxy.withheld() > 0,
            "no request went out while withholding"
        );
        proxy.cut_all();
        let started = Instant::now();
        drop(producer);
        // The drop waited for the close timeout, then settled every record.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the drop took {:?}",
            started.elapsed()
        );
    });
    drop(proxy);
    let reported = reported.lock().unwrap().clone();
    assert_eq!(reported.len(), BEFORE + DURING, "every callback ran once");
    for i in 0..BEFORE {
        assert_eq!(
            reported[&i],
            Reported::Written,
            "record {i} (acknowledged before the stall)"
        );
    }
    let consumed = kafka.read(&topic, 2 * (BEFORE + DURING), Duration::from_secs(5), false);
    let found: HashSet<usize> = consumed
        .iter()
        .filter_map(|r| r.value_str()?.strip_prefix("rec-")?.parse().ok())
        .collect();
    let mut possibly = 0;
    for (i, outcome) in &reported {
        match outcome {
            Reported::NotWritten(error) => assert!(
                !found.contains(i),
                "record {i} was reported not written ({error}) but the broker holds it"
            ),
            Reported::PossiblyWritten => possibly += 1,
            Reported::Written => {
                assert!(found.contains(i), "record {i} acknowledged but not found")
            }
        }
    }
    let unanswered_but_written: Vec<_> = (BEFORE..BEFORE + DURING)
        .filter(|i| found.contains(i))
        .collect();
    assert!(
        !unanswered_but_written.is_empty(),
        "the broker should hold records whose answers were withheld"
    );
    for i in &unanswered_but_written {
        assert_eq!(
            reported[i],
            Reported::PossiblyWritten,
            "record {i}: written, answer withheld"
        );
    }
    assert!(possibly >= unanswered_but_written.len());
}

/// A callback that drops the producer's last handle runs on the network
/// thread, which cannot wait for itself: the drop must not deadlock, and the
/// records still buffered are delivered.
#[test]
fn the_last_handle_dropped_inside_a_callback_does_not_deadlock() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("drop-in-callback", 1, 1);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    run(Duration::from_secs(60), async {
        let config = ProducerConfig::from_properties([
            ("bootstrap.servers", kafka.bootstrap()),
            ("linger.ms", "20"),
        ])
        .expect("config");
        let producer = KafkaProducer::new(config).expect("producer");
        let slot = Arc::new(Mutex::new(Some(producer.clone())));
        let in_callback = slot.clone();
        let (main_dropped_tx, main_dropped) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        producer
            .send_with_callback(ProducerRecord::new(topic.clone(), "first"), move |result| {
                result.expect("first record delivered");
                let _ = started_tx.send(());
                // Hold the network thread until the application's handle is
                // gone, so this one is the last, with other batches pending.
                main_dropped
                    .recv_timeout(Duration::from_secs(20))
                    .expect("the application dropped its handle");
                drop(in_callback.lock().unwrap().take());
            })
            .await
            .expect("accepted");
        // The first record's batch went alone: its callback holds the
        // network thread now. (Not `flush`: it waits for that callback,
        // which waits for the handle this task drops below.)
        tokio::task::spawn_blocking(move || started.recv_timeout(Duration::from_secs(20)))
            .await
            .expect("joined")
            .expect("the first record's callback started");
        for i in 0..100 {
            let done_tx = done_tx.clone();
            producer
                .send_with_callback(
                    ProducerRecord::new(topic.clone(), format!("after-{i}")),
                    move |r| {
                        let _ = done_tx.send(r.is_ok());
                    },
                )
                .await
                .expect("accepted");
        }
        drop(producer);
        main_dropped_tx.send(()).expect("the callback waits");
    });
    drop(done_tx);
    // A deadlocked drop would leave these callbacks unrun: fail, do not hang.
    let outcomes: Vec<bool> = (0..100)
        .map_while(|_| done_rx.recv_timeout(Duration::from_secs(30)).ok())
        .collect();
    assert_eq!(outcomes.len(), 100, "every callback ran");
    assert!(outcomes.iter().all(|ok| *ok), "every record delivered");
    assert_eq!(kafka.read_all(&topic, 101).len(), 101);
}
