//! KIP-714 client metrics against a real Kafka 4.x broker.
//!
//! A broker offers the telemetry APIs only with a client telemetry receiver
//! plugged in (Kafka 4.1's `ClientMetricsManager` has an exporter only when a
//! metrics reporter implements `ClientTelemetry`). This test gives its own
//! broker `kafka-testkit/java/TelemetryRecorder.java`, which decodes every
//! accepted push with the OpenTelemetry classes Kafka ships and writes the
//! data points to a file; a subscription is made with Kafka's own
//! `kafka-client-metrics.sh` (`ClientMetricsCommand`). What the producer sent
//! is read back with Kafka's Java consumer.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};
use kafka_testkit::{Cluster, compile_broker_plugin};

const LIMIT: Duration = Duration::from_secs(60);
const PREFIX: &str = "org.apache.kafka.producer.";

/// One data point as the plugin wrote it.
#[derive(Debug, Clone)]
struct Point {
    instance: String,
    terminating: bool,
    client_id: String,
    name: String,
    kind: String,
    value: f64,
}

/// The client id of the producer under test: Kafka's own tools (admin
/// clients, the console consumer) push telemetry to this broker too.
const CLIENT_ID: &str = "kip714-producer";

/// What the plugin recorded from the producer under test.
/// The points the plugin recorded from producers whose `client.id` is `client_id`.
fn points(file: &Path, client_id: &str) -> Vec<Point> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f.len() == 6).then(|| Point {
                instance: f[0].to_owned(),
                terminating: f[1] == "true",
                client_id: f[2].to_owned(),
                name: f[3].to_owned(),
                kind: f[4].to_owned(),
                value: f[5].parse().unwrap_or(f64::NAN),
            })
        })
        .filter(|p| p.client_id == client_id)
        .collect()
}

/// Waits (polling the plugin's file) until `done` holds for what it recorded.
async fn until(
    file: &Path,
    client_id: &str,
    what: &str,
    done: impl Fn(&[Point]) -> bool,
) -> Vec<Point> {
    let deadline = Instant::now() + LIMIT;
    loop {
        let seen = points(file, client_id);
        if done(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "the broker's plugin never saw {what}; it saw {seen:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_broker_with_a_client_metrics_subscription_receives_the_pushes() {
    let plugin = compile_broker_plugin("TelemetryRecorder");
    let file = kafka_testkit::repo_root().join("target").join(format!(
        "{}.tsv",
        kafka_testkit::unique_name("kip714-pushes")
    ));
    let cluster = Cluster::start_with_plugin(
        &plugin,
        &[
            ("metric.reporters", "TelemetryRecorder"),
            (
                "telemetry.recorder.file",
                file.to_str().expect("a UTF-8 path"),
            ),
        ],
    );
    // The operator's subscription: every producer metric, every second.
    let altered = cluster.tool(
        "org.apache.kafka.tools.ClientMetricsCommand",
        &[
            "--alter",
            "--name",
            "all",
            "--metrics",
            PREFIX,
            "--interval",
            "1000",
        ],
    );
    assert!(
        altered.contains("Altered client metrics config"),
        "{altered}"
    );
    let (described, topic) = std::thread::scope(|scope| {
        let described = scope.spawn(|| {
            cluster.tool(
                "org.apache.kafka.tools.ClientMetricsCommand",
                &["--describe", "--name", "all"],
            )
        });
        let topic = cluster.create_topic("kip714", 1, 1);
        (described.join().expect("the describe ran"), topic)
    });
    assert!(
        described.contains(PREFIX) && described.contains("1000"),
        "{described}"
    );

    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", cluster.bootstrap()),
        ("client.id", CLIENT_ID),
        ("linger.ms", "0"),
    ])
    .expect("valid config");
    let producer = KafkaProducer::new(config).expect("producer");
    const RECORDS: usize = 25;
    let mut delivered = Vec::new();
    for i in 0..RECORDS {
        let record = ProducerRecord::new(topic.as_str(), format!("m{i}"));
        delivered.push(producer.send(record).await.expect("accepted"));
    }
    for future in delivered {
        future.await.expect("delivered");
    }

    // Pushes arrive, from this producer's instance, until they count every record.
    let send_total = format!("{PREFIX}record.send.total");
    let seen = until(
        &file,
        CLIENT_ID,
        "record.send.total adding up to the records sent",
        |seen| {
            let total: f64 = seen
                .iter()
                .filter(|p| p.name == send_total && p.kind == "sum/delta")
                .map(|p| p.value)
                .sum();
            total >= RECORDS as f64
        },
    )
    .await;
    let instance = producer
        .client_instance_id()
        .expect("the broker assigned a client instance id");
    assert!(seen.iter().all(|p| p.instance == instance), "{seen:#?}");
    assert!(seen.iter().all(|p| p.name.starts_with(PREFIX)), "{seen:#?}");
    // Delta sums add up to exactly what was sent (each push counts its share).
    let total: f64 = seen
        .iter()
        .filter(|p| p.name == send_total)
        .map(|p| p.value)
        .sum();
    assert_eq!(total, RECORDS as f64, "{seen:#?}");
    let connections: f64 = seen
        .iter()
        .filter(|p| p.name == format!("{PREFIX}connection.creation.total"))
        .map(|p| p.value)
        .sum();
    assert!(connections >= 1.0, "{seen:#?}");
    // Gauges with plausible values.
    let last: BTreeMap<&str, f64> = seen.iter().map(|p| (p.name.as_str(), p.value)).collect();
    let latency = last[format!("{PREFIX}request.latency.avg").as_str()];
    assert!(
        latency > 0.0 && latency < 30_000.0,
        "request latency {latency} ms"
    );
    assert_eq!(
        last[format!("{PREFIX}buffer.total.bytes").as_str()],
        33_554_432.0
    );
    assert!(seen.iter().all(|p| !p.terminating));

    // Close: one last push with terminating=true.
    producer.close(LIMIT).await;
    let seen = until(&file, CLIENT_ID, "a terminating push", |seen| {
        seen.iter().any(|p| p.terminating)
    })
    .await;
    assert!(
        seen.iter()
            .filter(|p| p.terminating)
            .all(|p| p.instance == instance)
    );

    // A producer that sends nothing registers and pushes too, as Java's:
    // its telemetry opens a connection of its own (without idempotence no
    // InitProducerId opens one).
    let idle = KafkaProducer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", cluster.bootstrap()),
            ("client.id", "kip714-idle"),
            ("enable.idempotence", "false"),
        ])
        .expect("valid config"),
    )
    .expect("producer");
    let deadline = std::time::Instant::now() + LIMIT;
    let idle_instance = loop {
        if let Some(instance) = idle.client_instance_id() {
            break instance;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the idle producer never got a client instance id"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(idle_instance, instance);
    until(
        &file,
        "kip714-idle",
        "a push from the producer that sent nothing",
        |seen| seen.iter().any(|p| p.instance == idle_instance),
    )
    .await;
    idle.close(LIMIT).await;

    // What the producer sent, read back by Kafka's own consumer.
    let records = cluster.read_all(&topic, RECORDS);
    assert_eq!(records.len(), RECORDS);
    let values: Vec<String> = records.iter().filter_map(|r| r.value_str()).collect();
    let expected: Vec<String> = (0..RECORDS).map(|i| format!("m{i}")).collect();
    assert_eq!(values, expected);
    let _ = std::fs::remove_file(&file);
}
