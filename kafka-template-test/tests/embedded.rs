//! The embedded broker against itself and kafka-core's producer: what was sent
//! is read back by Kafka's own Java consumer; kill, restart, pause and a
//! proxy's cut; nothing outlives the test process; Java missing fails at once.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};
use kafka_template_test::proxy::PRODUCE;
use kafka_template_test::{EmbeddedKafka, EmbeddedKafkaError, NewTopic, ReadOptions};

fn producer(bootstrap: &str, props: &[(&str, &str)]) -> KafkaProducer {
    let mut all = vec![("bootstrap.servers", bootstrap)];
    all.extend_from_slice(props);
    let config = ProducerConfig::from_properties(all.iter().copied()).expect("producer config");
    KafkaProducer::new(config).expect("the producer starts inside a runtime")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn send(producer: &KafkaProducer, record: ProducerRecord) {
    producer
        .send(record)
        .await
        .expect("send accepted")
        .await
        .expect("acknowledged");
}

#[test]
fn what_a_test_sends_is_read_back_with_keys_values_and_headers() {
    let kafka = EmbeddedKafka::builder()
        .topic(NewTopic::new("orders", 3).config("cleanup.policy", "delete"))
        .broker_property("auto.create.topics.enable", "false")
        .start()
        .expect("the embedded broker starts");
    assert!(kafka.bootstrap_servers().starts_with("127.0.0.1:"));
    assert!(kafka.is_running());
    // No time retention: a record a test sends with a CreateTime years old
    // stays until the test reads it.
    let broker = kafka
        .run_tool(
            "kafka.admin.ConfigCommand",
            &[
                "--bootstrap-server",
                kafka.bootstrap_servers(),
                "--entity-type",
                "brokers",
                "--entity-name",
                "1",
                "--describe",
                "--all",
            ],
        )
        .expect("the broker's configuration");
    assert!(
        broker
            .lines()
            .any(|line| line.trim_start().starts_with("log.retention.ms=-1 ")),
        "{broker}"
    );
    kafka.create_topic("audit", 1).expect("topic created");
    runtime().block_on(async {
        let p = producer(kafka.bootstrap_servers(), &[("acks", "all")]);
        for i in 0..3 {
            send(
                &p,
                ProducerRecord::new("orders", format!("{{\"n\":{i}}}"))
                    .with_key(format!("order-{i}"))
                    .with_header("tenant", "acme"),
            )
            .await;
        }
        send(&p, ProducerRecord::new("audit", vec![0u8, 1, 2, 255])).await;
        p.close(Duration::from_secs(10)).await;
    });
    let orders = kafka.read("orders", 3).expect("read");
    assert_eq!(orders.len(), 3, "{orders:?}");
    let mut keys: Vec<_> = orders.iter().filter_map(|r| r.key_str()).collect();
    keys.sort();
    assert_eq!(keys, ["order-0", "order-1", "order-2"]);
    assert!(
        orders
            .iter()
            .all(|r| r.header_str("tenant").as_deref() == Some("acme"))
    );
    let n: serde_json::Value = orders[0].value_json().expect("JSON value");
    assert!(n["n"].is_u64());
    let audit = kafka.read("audit", 1).expect("read");
    assert_eq!(audit[0].value.as_deref(), Some(&[0u8, 1, 2, 255][..]));
    assert_eq!(audit[0].key, None);
    // An unknown topic is not created by reading it (auto-creation off here).
    let none = kafka
        .read_with(
            "missing",
            &ReadOptions::default().idle_timeout(Duration::from_secs(2)),
        )
        .expect("an empty read");
    assert!(none.is_empty());
}

#[test]
fn kill_restart_pause_and_a_cut_connection() {
    let kafka = EmbeddedKafka::builder()
        .topic(NewTopic::new("events", 1))
        .start()
        .expect("the embedded broker starts");
    // A second broker in parallel has its own ports and data.
    let other = EmbeddedKafka::start().expect("a second broker");
    assert_ne!(kafka.bootstrap_servers(), other.bootstrap_servers());
    let rt = runtime();
    rt.block_on(async {
        let p = producer(kafka.bootstrap_servers(), &[]);
        send(&p, ProducerRecord::new("events", "before-kill")).await;
        p.close(Duration::from_secs(10)).await;
    });
    let pid = kafka.pid().expect("running");
    kafka.kill().expect("killed");
    assert!(!kafka.is_running());
    assert!(!process_alive(pid), "kill -9 ended the broker");
    assert!(matches!(
        kafka.kill(),
        Err(EmbeddedKafkaError::NotRunning { .. })
    ));
    kafka.restart().expect("restarted with its data");
    assert!(kafka.is_running());

    kafka.pause().expect("paused");
    assert!(kafka.is_running(), "a paused broker still runs");
    kafka.resume().expect("resumed");

    let proxy = kafka.proxy().expect("proxy");
    rt.block_on(async {
        let p = producer(proxy.bootstrap(), &[("enable.idempotence", "true")]);
        send(&p, ProducerRecord::new("events", "through-proxy")).await;
        // The broker stores the next batch, its answer never comes back: the
        // idempotent producer retries and the broker keeps one copy.
        proxy.cut_after_next_request(PRODUCE);
        send(&p, ProducerRecord::new("events", "cut-once")).await;
        p.close(Duration::from_secs(10)).await;
    });
    assert_eq!(proxy.cuts(), 1);
    let values: Vec<_> = kafka
        .read("events", 3)
        .expect("read")
        .iter()
        .filter_map(|r| r.value_str())
        .collect();
    assert_eq!(values, ["before-kill", "through-proxy", "cut-once"]);
    let elsewhere = other
        .read_with(
            "events",
            &ReadOptions::default().idle_timeout(Duration::from_secs(2)),
        )
        .expect("read the other broker");
    assert!(elsewhere.is_empty(), "brokers share nothing: {elsewhere:?}");
}

fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
}

/// Run by the tests below in a child process of their own (`CHILD_ROLE`).
#[test]
#[ignore = "a child process's part of the tests below"]
fn child_role() {
    match std::env::var("CHILD_ROLE").as_deref() {
        Ok("hold-a-broker") => {
            let kafka = EmbeddedKafka::start().expect("the embedded broker starts");
            let pid = kafka.pid().expect("running");
            say(&format!("BROKER_PID {pid} {}", kafka.log_file().display()));
            // Never drops it: the parent kills this process.
            loop {
                std::thread::park();
            }
        }
        Ok("start-without-java") => match EmbeddedKafka::start() {
            Err(e @ EmbeddedKafkaError::JavaNotFound { .. }) => say(&format!("ERROR {e}")),
            other => panic!("expected JavaNotFound, got {other:?}"),
        },
        _ => {}
    }
}

/// A line to the parent test: straight to stdout, past libtest's capture of
/// `println!`, on a line of its own (libtest's `test child_role ... ` has no
/// newline yet).
fn say(line: &str) {
    let mut out = std::io::stdout();
    writeln!(out, "\n{line}").expect("stdout");
    out.flush().expect("stdout");
}

fn child(role: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "--exact",
            "child_role",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CHILD_ROLE", role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    command
}

#[test]
fn the_broker_does_not_outlive_a_killed_test_process() {
    let mut test_process = child("hold-a-broker").spawn().expect("child test");
    let stdout = test_process.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("BROKER_PID "));
        let _ = tx.send(line);
    });
    // A guard against a hang: the child's broker start has its own 120 s bound.
    let line = match rx.recv_timeout(Duration::from_secs(300)) {
        Ok(Some(line)) => line,
        other => {
            let _ = test_process.kill();
            panic!("the child test did not report its broker: {other:?}");
        }
    };
    let mut words = line["BROKER_PID ".len()..].split_whitespace();
    let broker: u32 = words.next().and_then(|p| p.parse().ok()).expect("a pid");
    let log = std::path::PathBuf::from(words.next().expect("its log file"));
    assert!(log.exists());
    assert!(process_alive(broker));
    test_process.kill().expect("kill -9 the test process"); // no Drop runs
    test_process.wait().expect("reaped");
    let deadline = Instant::now() + Duration::from_secs(30);
    while process_alive(broker) {
        assert!(
            Instant::now() < deadline,
            "broker {broker} still runs 30 s after its test process died"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The watchdog also removed the broker's directory.
    let dir = log.parent().expect("the broker's directory");
    let deadline = Instant::now() + Duration::from_secs(30);
    while dir.exists() {
        assert!(
            Instant::now() < deadline,
            "{} was left behind",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn java_missing_is_a_clear_error_at_once() {
    let mut test_process = child("start-without-java")
        .env("PATH", "/nonexistent")
        .env_remove("JAVA_HOME")
        .spawn()
        .expect("child test");
    // A guard against a hang, not a speed check: without Java nothing slow runs.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = test_process.try_wait().expect("child status") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = test_process.kill();
            panic!("EmbeddedKafka::start() without Java hung for 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut test_process.stdout.take().expect("piped"), &mut stdout)
        .expect("child output");
    assert!(status.success(), "{stdout}");
    let message = stdout
        .lines()
        .find(|l| l.starts_with("ERROR "))
        .expect("the error was printed");
    assert!(message.contains("no `java` on PATH"), "{message}");
    assert!(message.contains("JDK 17"), "{message}");

    let err = EmbeddedKafka::builder()
        .java_home("/nonexistent-jdk")
        .start()
        .expect_err("no java there");
    assert!(
        err.to_string()
            .contains("JAVA_HOME is /nonexistent-jdk, but it has no bin/java"),
        "{err}"
    );
}
