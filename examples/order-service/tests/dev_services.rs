//! The order service in the dev profile with no broker configured: dev
//! services start one, the orders land (read by Kafka's own console consumer),
//! and the broker stops when the template closes / the program ends.

use std::process::{Command, Stdio};
use std::time::Duration;

use kafka_template::{KafkaConfig, KafkaTemplate};
use order_service::{OrderPlaced, OrderService, OrderShipped, sample_order};

fn process_gone(pid: u32) -> bool {
    // A zombie (exited, not reaped yet) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
}

/// The text without terminal colour sequences (`ESC [ ... m`).
fn without_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_profile_without_a_broker_starts_one_and_the_orders_land() {
    let config = KafkaConfig::builder()
        .dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
        .profiles(["dev"])
        .env_source(Vec::<(String, String)>::new()) // no KAFKA_BOOTSTRAP_SERVERS
        .load()
        .expect("configuration");
    let template = KafkaTemplate::builder()
        .config(config)
        .register::<OrderPlaced>()
        .register::<OrderShipped>()
        .build()
        .expect("the template starts, with a dev services broker");
    let broker = template
        .dev_services_broker()
        .expect("dev services started a broker");
    let pid = broker.pid().expect("running");
    // The registered types' topics exist before anything is sent.
    let topics = broker
        .run_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", broker.bootstrap_servers(), "--list"],
        )
        .expect("topics listed");
    assert!(topics.lines().any(|t| t == "orders-dev"), "{topics}");
    assert!(topics.lines().any(|t| t == "shipments"), "{topics}");

    let service = OrderService::new(template.clone());
    for n in 0..5 {
        service.place_order(sample_order(n)).await.expect("placed");
    }
    service
        .ship_order("order-00000", "TRACK-0", "acme")
        .await
        .expect("shipped");
    template.flush().await;

    let orders = broker.read("orders-dev", 5).expect("read orders");
    let mut keys: Vec<_> = orders.iter().filter_map(|r| r.key_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "order-00000",
            "order-00001",
            "order-00002",
            "order-00003",
            "order-00004"
        ]
    );
    assert!(orders.iter().all(|r| r.header_str("tenant").is_some()));
    let shipments = broker.read("shipments", 1).expect("read shipments");
    assert_eq!(shipments[0].key_str().as_deref(), Some("order-00000"));

    assert_eq!(template.close(Duration::from_secs(10)).await, 0);
    assert!(!broker.is_running(), "close stopped the dev broker");
    assert!(process_gone(pid));
}

#[test]
fn cargo_run_in_the_dev_profile_needs_no_broker() {
    let output = Command::new(env!("CARGO_BIN_EXE_order-service"))
        .env("KAFKA_PROFILES_ACTIVE", "dev")
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("KAFKA_CONFIG_LOCATION")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("order-service ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = without_ansi(&String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let started = stderr
        .lines()
        .find(|l| l.contains("dev services: started a local Kafka broker"))
        .unwrap_or_else(|| panic!("the broker's address was logged:\n{stderr}"));
    assert!(
        started.contains("bootstrap_servers=\"127.0.0.1:"),
        "{started}"
    );
    let pid: u32 = started
        .split_whitespace()
        .find_map(|w| w.strip_prefix("pid="))
        .and_then(|p| p.parse().ok())
        .expect("the broker's pid was logged");
    let placed = stdout.lines().filter(|l| l.starts_with("placed ")).count();
    assert_eq!(placed, 20, "{stdout}");
    assert!(
        stdout.contains(", 0 failed, 0 undelivered at close"),
        "{stdout}"
    );
    assert!(process_gone(pid), "the dev broker outlived the program");
}
