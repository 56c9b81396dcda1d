//! The order service's `/metrics` against a real broker: after N orders the
//! Java-named producer metrics a Prometheus scrape gets agree with what Kafka's
//! own console consumer reads back from the topics.
//!
//! One test per binary: the Prometheus recorder is global to the process.

use kafka_template::KafkaConfig;
use kafka_testkit::{Kafka, unique_name};
use order_service::management::MetricsEndpoint;
use order_service::{OrderService, sample_order};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A plain HTTP GET of `url` (`http://host:port/path`): status line and body.
async fn get(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .expect("the endpoint accepts connections");
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/plain\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request written");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("the endpoint answers and closes");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

/// The value of the sample `name{labels}` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (label_text, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.split_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        labels
            .iter()
            .all(|(k, v)| label_text.split(',').any(|l| l == format!("{k}=\"{v}\"")))
            .then(|| value.trim().parse().ok())?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_metrics_agree_with_what_the_console_consumer_reads() {
    const ORDERS: usize = 25;
    let kafka = Kafka::get();
    let orders_topic = kafka.create_topic("metrics-orders", 3, 1);
    let audit_topic = kafka.create_topic("metrics-audit", 1, 1);
    let client_id = unique_name("order-service-metrics");
    let config = KafkaConfig::builder()
        .dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
        .profiles(Vec::<String>::new())
        .env_source([("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap())])
        .override_value("kafka.client-id", &client_id)
        .override_value("app.topics.orders", &orders_topic)
        .override_value("app.topics.audit", &audit_topic)
        .load()
        .expect("configuration");

    // As the service starts: the endpoint first (port 0 in application.yml).
    let endpoint = MetricsEndpoint::from_config(&config)
        .await
        .expect("the endpoint starts")
        .expect("application.yml sets management.server.port");
    assert_ne!(endpoint.local_addr().port(), 0, "the port actually bound");
    let service = OrderService::from_config(config).expect("the service starts");
    for n in 0..ORDERS {
        // Each order: OrderPlaced to the orders topic, an audit line to the audit topic.
        service
            .place_order(sample_order(n as u32))
            .await
            .expect("placed");
    }
    for template in service.templates() {
        template.flush().await;
    }

    // The scrape, over HTTP, while the service runs.
    let (status, text) = get(&endpoint.url()).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{text}");
    let client = [("client_id", client_id.as_str())];
    let metric = |name: &str| {
        sample(&text, name, &client).unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };

    // What Kafka's console consumer finds, independently.
    let orders_read = kafka.read_all(&orders_topic, ORDERS);
    let audit_read = kafka.read_all(&audit_topic, ORDERS);
    assert_eq!(orders_read.len(), ORDERS);
    assert_eq!(audit_read.len(), ORDERS);
    let landed = (orders_read.len() + audit_read.len()) as f64;

    assert_eq!(metric("kafka_producer_record_retry_total"), 0.0, "{text}");
    assert_eq!(metric("kafka_producer_record_send_total"), landed, "{text}");
    assert_eq!(metric("kafka_producer_record_error_total"), 0.0, "{text}");
    assert_eq!(
        sample(
            &text,
            "kafka_producer_topic_record_send_total",
            &[("client_id", &client_id), ("topic", &orders_topic)]
        ),
        Some(ORDERS as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "kafka_producer_topic_record_send_total",
            &[("client_id", &client_id), ("topic", &audit_topic)]
        ),
        Some(ORDERS as f64),
        "{text}"
    );
    // Bytes: the batches (compressed, lz4) are part of what went out; every
    // record's value alone is at least a few bytes, and the requests carry
    // headers, topic names and metadata requests besides.
    let batch_bytes: f64 = [&orders_topic, &audit_topic]
        .iter()
        .map(|topic| {
            sample(
                &text,
                "kafka_producer_topic_byte_total",
                &[("client_id", &client_id), ("topic", topic)],
            )
            .unwrap_or_else(|| panic!("byte total of {topic} missing:\n{text}"))
        })
        .sum();
    let outgoing = metric("kafka_producer_outgoing_byte_total");
    let value_bytes: usize = orders_read
        .iter()
        .chain(&audit_read)
        .map(|r| r.value.as_ref().map_or(0, Vec::len))
        .sum();
    assert!(batch_bytes > 0.0, "{text}");
    assert!(
        outgoing > batch_bytes,
        "outgoing {outgoing} must exceed the batches' {batch_bytes}"
    );
    assert!(
        outgoing < (value_bytes as f64) * 4.0 + 64.0 * 1024.0,
        "outgoing {outgoing} implausibly large for {value_bytes} value bytes"
    );
    assert!(metric("kafka_producer_request_total") >= 1.0, "{text}");
    assert!(
        metric("kafka_producer_request_latency_max") >= 0.0,
        "{text}"
    );
    // A per-node series, tagged as Micrometer tags it.
    assert!(
        text.lines()
            .any(|l| l.starts_with("kafka_producer_node_request_total{")
                && l.contains(&format!("client_id=\"{client_id}\""))
                && l.contains("node_id=\"node-")),
        "{text}"
    );
    // Spring Boot Actuator's path serves the same.
    let actuator = endpoint.url().replace("/metrics", "/actuator/prometheus");
    let (status, _) = get(&actuator).await;
    assert_eq!(status, "HTTP/1.1 200 OK");

    for template in service.templates() {
        assert_eq!(template.close(std::time::Duration::from_secs(10)).await, 0);
    }
}
