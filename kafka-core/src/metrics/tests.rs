//! The Java names, the facade names and what the recorded statistics give.

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;

use super::*;

fn batch<'a>(topic: &'a Arc<str>, records: u32, bytes: usize) -> SentBatch<'a> {
    SentBatch {
        topic,
        records,
        bytes,
        compression_ratio: 0.5,
        queue_time: Duration::from_millis(8),
        max_record_size: 100,
    }
}

/// A producer's metrics after two requests (one with a retried batch), two
/// responses and a failed batch.
fn recorded() -> ProducerMetrics {
    let metrics = ProducerMetrics::new("orders-app".to_owned(), WindowConfig::default());
    let orders: Arc<str> = Arc::from("orders");
    let audit: Arc<str> = Arc::from("audit");
    metrics.record_produce_request(1, [batch(&orders, 3, 300), batch(&audit, 2, 100)]);
    // The 4 records of a batch of `orders` queued again, and resent.
    metrics.record_retry("orders", 4);
    metrics.record_produce_request(2, [batch(&orders, 4, 500)]);
    metrics.record_produce_response(Some(1), Duration::from_millis(10));
    metrics.record_produce_response(Some(2), Duration::from_millis(30));
    // The two Produce responses' throttles, then a metadata response's: every
    // response counts in produce-throttle-time, as Java's NetworkClient.
    metrics.record_throttles(&[0, 5]);
    metrics.record_throttles(&[1]);
    // Node 1's Produce request and its connection's two handshake
    // requests; node 2's Produce request; a metadata request at bootstrap.
    metrics.record_outgoing(Some(1), 700, 3);
    metrics.record_outgoing(Some(2), 0, 1);
    metrics.record_outgoing(None, 50, 1);
    metrics.record_error("audit", "TimeoutException", 2);
    // Node 1 answered both its requests (240 bytes), node 2 one (60).
    metrics.record_incoming(Some(1), 240, 2);
    metrics.record_incoming(Some(2), 60, 1);
    // Three connections made, one of them closed; one batch split; the
    // metadata fetched.
    for _ in 0..3 {
        metrics.record_connection_created();
    }
    metrics.record_connection_closed();
    metrics.record_batch_split();
    metrics.record_metadata_fetch(true);
    metrics
}

#[test]
fn the_statistics_mean_what_javas_do() {
    let snapshot = recorded().snapshot(BufferState {
        total: 1000,
        available: 400,
        waiting: 0,
    });
    assert_eq!(snapshot.client_id, "orders-app");
    // Records in sent requests, the retried batch again.
    assert_eq!(snapshot.record_send_total, 9);
    assert_eq!(snapshot.record_retry_total, 4);
    assert_eq!(snapshot.record_error_total, 2);
    // Every request, not only Produce ones (Java's selector counts them).
    assert_eq!(snapshot.request_total, 5);
    assert_eq!(snapshot.records_per_request_avg, 4.5);
    assert_eq!(snapshot.batch_size_avg, 300.0);
    assert_eq!(snapshot.batch_size_max, 500.0);
    assert_eq!(snapshot.compression_rate_avg, 0.5);
    assert_eq!(snapshot.record_size_max, 100.0);
    assert_eq!(snapshot.record_queue_time_max, Duration::from_millis(8));
    assert_eq!(snapshot.request_latency_avg, Duration::from_millis(20));
    assert_eq!(snapshot.request_latency_max_ms, 30.0);
    assert_eq!(snapshot.produce_throttle_time_max, Duration::from_millis(5));
    assert_eq!(snapshot.produce_throttle_time_avg_ms, 2.0);
    assert_eq!(snapshot.produce_throttled_total, 2);
    assert_eq!(snapshot.outgoing_byte_total, 750);
    // Young rates are taken over at least one full window (30 s by default).
    assert!(snapshot.record_send_rate > 0.0 && snapshot.record_send_rate <= 9.0 / 30.0);
    assert!(snapshot.bufferpool_wait_ratio == 0.0);

    let orders = &snapshot.topics["orders"];
    assert_eq!(orders.record_send_total, 7);
    assert_eq!(orders.byte_total, 800);
    assert_eq!(orders.record_retry_total, 4);
    assert_eq!(orders.record_error_total, 0);
    let audit = &snapshot.topics["audit"];
    assert_eq!(audit.record_send_total, 2);
    assert_eq!(audit.record_error_total, 2);
    let node1 = &snapshot.nodes[&1];
    assert_eq!(node1.request_total, 3);
    assert_eq!(node1.outgoing_byte_total, 700);
    assert_eq!(node1.request_latency_max, 10.0);
    assert_eq!(snapshot.nodes[&2].request_latency_avg, 30.0);
}

#[test]
fn nothing_recorded_gives_javas_nan_averages() {
    let snapshot = ProducerMetrics::default().snapshot(BufferState::default());
    assert!(snapshot.request_latency_avg_ms.is_nan());
    assert!(snapshot.batch_size_max.is_nan());
    assert_eq!(snapshot.request_latency_avg, Duration::ZERO);
    assert_eq!(snapshot.record_send_rate, 0.0);
    assert!(snapshot.topics.is_empty() && snapshot.nodes.is_empty());
}

#[test]
fn metric_values_carry_javas_groups_names_and_tags() {
    let values = recorded().snapshot(BufferState::default()).metric_values();
    let find = |group: &str, name: &str, tag: Option<(&str, &str)>| {
        values
            .iter()
            .find(|v| {
                v.group == group
                    && v.name == name
                    && tag
                        .is_none_or(|(k, val)| v.tags.iter().any(|(tk, tv)| *tk == k && tv == val))
            })
            .unwrap_or_else(|| panic!("{group} {name} {tag:?} missing"))
    };
    let send = find(PRODUCER_GROUP, "record-send-total", None);
    assert_eq!(send.value, 9.0);
    assert_eq!(send.kind, MetricKind::Counter);
    assert_eq!(send.tags, vec![("client-id", "orders-app".to_owned())]);
    assert_eq!(send.facade_name(), "kafka.producer.record.send.total");
    assert_eq!(
        find(PRODUCER_GROUP, "record-send-rate", None).kind,
        MetricKind::Gauge
    );
    let topic = find(TOPIC_GROUP, "byte-total", Some(("topic", "orders")));
    assert_eq!(topic.value, 800.0);
    assert_eq!(topic.facade_name(), "kafka.producer.topic.byte.total");
    let node = find(
        NODE_GROUP,
        "request-latency-avg",
        Some(("node-id", "node-2")),
    );
    assert_eq!(node.value, 30.0);
    assert_eq!(
        node.facade_name(),
        "kafka.producer.node.request.latency.avg"
    );
    assert_eq!(
        node.facade_labels(),
        vec![
            ("client.id".to_owned(), "orders-app".to_owned()),
            ("node.id".to_owned(), "node-2".to_owned())
        ]
    );
    // Every `-total` is a counter, everything else a gauge (Micrometer's rule).
    for value in &values {
        let counter = value.name.ends_with("-total");
        assert_eq!(value.kind == MetricKind::Counter, counter, "{}", value.name);
    }
    // The producer-metrics names the issue lists are all there.
    for name in [
        "record-send-rate",
        "record-error-rate",
        "record-error-total",
        "record-retry-rate",
        "record-retry-total",
        "request-latency-avg",
        "request-latency-max",
        "request-rate",
        "request-total",
        "batch-size-avg",
        "batch-size-max",
        "compression-rate-avg",
        "records-per-request-avg",
        "record-queue-time-avg",
        "record-queue-time-max",
        "record-size-avg",
        "record-size-max",
        "buffer-available-bytes",
        "buffer-total-bytes",
        "bufferpool-wait-time-ns-total",
        "bufferpool-wait-ratio",
        "produce-throttle-time-avg",
        "produce-throttle-time-max",
        "outgoing-byte-rate",
        "outgoing-byte-total",
        // Java's further producer-metrics, Micrometer dashboards read them.
        "incoming-byte-rate",
        "incoming-byte-total",
        "response-rate",
        "response-total",
        "requests-in-flight",
        "connection-count",
        "connection-creation-rate",
        "connection-creation-total",
        "connection-close-rate",
        "connection-close-total",
        "batch-split-rate",
        "batch-split-total",
        "metadata-age",
        // BufferPool's and KafkaProducerMetrics' own.
        "buffer-exhausted-rate",
        "buffer-exhausted-total",
        "flush-time-ns-total",
        "metadata-wait-time-ns-total",
        "txn-init-time-ns-total",
        "txn-begin-time-ns-total",
        "txn-send-offsets-time-ns-total",
        "txn-commit-time-ns-total",
        "txn-abort-time-ns-total",
    ] {
        find(PRODUCER_GROUP, name, None);
    }
}

#[test]
fn call_times_and_buffer_exhaustion_as_java_sums_them() {
    let metrics = ProducerMetrics::default();
    let started = std::time::Instant::now() - Duration::from_millis(3);
    CallTimes::add(&metrics.call_times.flush, started);
    CallTimes::add(&metrics.call_times.txn_commit, started);
    metrics.record_buffer_exhausted();
    metrics.record_buffer_exhausted();
    let snapshot = metrics.snapshot(BufferState::default());
    assert!(snapshot.flush_time_total >= Duration::from_millis(3));
    assert!(snapshot.txn_commit_time_total >= Duration::from_millis(3));
    assert_eq!(snapshot.txn_abort_time_total, Duration::ZERO);
    assert_eq!(snapshot.buffer_exhausted_total, 2);
    assert!(snapshot.buffer_exhausted_rate > 0.0);
    let values = snapshot.metric_values();
    let flush = values
        .iter()
        .find(|v| v.name == "flush-time-ns-total")
        .expect("flush time");
    assert!(flush.value >= 3_000_000.0, "{}", flush.value);
    assert_eq!(flush.kind, MetricKind::Counter);
}

#[test]
fn connections_responses_and_metadata_age_as_java_counts_them() {
    let snapshot = recorded().snapshot(BufferState::default());
    assert_eq!(snapshot.incoming_byte_total, 300);
    assert_eq!(snapshot.response_total, 3);
    assert!(snapshot.response_rate > 0.0);
    assert_eq!(snapshot.nodes[&1].incoming_byte_total, 240);
    assert_eq!(snapshot.nodes[&2].response_total, 1);
    assert_eq!(
        (
            snapshot.connection_creation_total,
            snapshot.connection_close_total
        ),
        (3, 1)
    );
    assert_eq!(snapshot.connection_count, 2);
    assert!(snapshot.connection_creation_rate > snapshot.connection_close_rate);
    assert_eq!(snapshot.batch_split_total, 1);
    assert!(snapshot.batch_split_rate > 0.0);
    let age = snapshot.metadata_age.expect("fetched once");
    assert!(age < Duration::from_secs(60), "{age:?}");
    // No metadata-age before a first fetch (Java's is counted from start).
    let fresh = ProducerMetrics::new("fresh".to_owned(), WindowConfig::default());
    assert_eq!(fresh.snapshot(BufferState::default()).metadata_age, None);
}

#[test]
fn published_to_a_prometheus_recorder_under_micrometers_names() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let metrics = recorded();
    ::metrics::with_local_recorder(&recorder, || {
        metrics.publish(&metrics.snapshot(BufferState::default()));
    });
    let text = handle.render();
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(
        has(r#"kafka_producer_record_send_total{client_id="orders-app"} 9"#),
        "{text}"
    );
    assert!(
        has(r#"kafka_producer_topic_record_send_total{client_id="orders-app",topic="orders"} 7"#),
        "{text}"
    );
    assert!(
        has(r#"kafka_producer_node_request_total{client_id="orders-app",node_id="node-1"} 3"#),
        "{text}"
    );
    assert!(
        text.contains("# TYPE kafka_producer_record_send_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE kafka_producer_request_latency_avg gauge"),
        "{text}"
    );

    // Later publishes move the same handles: the counter holds the new total.
    let orders: Arc<str> = Arc::from("orders");
    metrics.record_produce_request(1, [batch(&orders, 6, 600)]);
    // No recorder in scope now: the handles registered above are used.
    metrics.publish(&metrics.snapshot(BufferState::default()));
    let text = handle.render();
    assert!(
        text.lines()
            .any(|l| l == r#"kafka_producer_record_send_total{client_id="orders-app"} 15"#),
        "{text}"
    );
}

/// How many updates each series got, whatever their values: what a
/// recorder with an idle timeout goes by.
#[derive(Default)]
struct UpdateCounts(std::sync::Mutex<std::collections::HashMap<::metrics::Key, Arc<Updates>>>);

#[derive(Default)]
struct Updates(std::sync::atomic::AtomicU64);

impl Updates {
    fn count(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl ::metrics::CounterFn for Updates {
    fn increment(&self, _: u64) {
        self.count();
    }
    fn absolute(&self, _: u64) {
        self.count();
    }
}

impl ::metrics::GaugeFn for Updates {
    fn increment(&self, _: f64) {
        self.count();
    }
    fn decrement(&self, _: f64) {
        self.count();
    }
    fn set(&self, _: f64) {
        self.count();
    }
}

impl UpdateCounts {
    fn series(&self, key: &::metrics::Key) -> Arc<Updates> {
        let mut series = self.0.lock().unwrap();
        Arc::clone(series.entry(key.clone()).or_default())
    }
}

impl ::metrics::Recorder for UpdateCounts {
    fn describe_counter(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn register_counter(
        &self,
        key: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Counter {
        ::metrics::Counter::from_arc(self.series(key))
    }
    fn register_gauge(
        &self,
        key: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Gauge {
        ::metrics::Gauge::from_arc(self.series(key))
    }
    fn register_histogram(
        &self,
        _: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Histogram {
        ::metrics::Histogram::noop()
    }
}

/// The facade cannot remove a closed producer's series; a recorder with an
/// idle timeout (the Prometheus exporter's `idle_timeout`) drops a series
/// nothing updated for a while. That keeps a live producer's series only if
/// each publish updates every one of them, changed or not.
#[test]
fn every_publish_updates_every_series_changed_or_not() {
    let recorder = UpdateCounts::default();
    let metrics = recorded();
    for _ in 0..2 {
        // Nothing recorded between the two: every value is the same.
        ::metrics::with_local_recorder(&recorder, || {
            metrics.publish(&metrics.snapshot(BufferState::default()));
        });
    }
    let series = recorder.0.lock().unwrap();
    let name = |name: &str| series.keys().any(|key| key.name() == name);
    assert!(name("kafka.producer.record.send.total"), "a counter");
    assert!(name("kafka.producer.buffer.available.bytes"), "a gauge");
    let stale: Vec<_> = series
        .iter()
        .filter(|(_, updates)| updates.0.load(std::sync::atomic::Ordering::Relaxed) != 2)
        .map(|(key, _)| key.name().to_owned())
        .collect();
    assert!(stale.is_empty(), "not updated by each publish: {stale:?}");
}

#[test]
fn producers_sharing_a_client_id_are_counted_while_they_live() {
    let id = "metrics-test-shared-client-id";
    let first = ProducerMetrics::new(id.to_owned(), WindowConfig::default());
    assert_eq!(live_with_client_id(id), 1);
    let second = ProducerMetrics::new(id.to_owned(), WindowConfig::default());
    assert_eq!(live_with_client_id(id), 2, "the second one is warned about");
    drop(first);
    assert_eq!(live_with_client_id(id), 1);
    drop(second);
    assert_eq!(live_with_client_id(id), 0);
}

#[test]
fn request_sizes_network_io_and_authentications_as_javas_selector_counts_them() {
    let metrics = recorded();
    // A connection's next count: 2 requests of 900 bytes in all, the larger
    // 600, one response; a re-authentication of 40 ms and one of 10 ms, and
    // one that failed.
    metrics.record_io(
        Some(1),
        Traffic {
            written: 900,
            requests: 2,
            responses: 1,
            read: 30,
            reauthenticated: 2,
            reauthentication_ns: 50_000_000,
            reauthentication_failed: 1,
        },
        Peaks {
            largest_request: 600,
            longest_reauthentication_ns: 40_000_000,
        },
    );
    metrics.record_authentication(true);
    metrics.record_authentication(true);
    metrics.record_authentication(false);
    let snapshot = metrics.snapshot(BufferState::default());
    // recorded(): 750 bytes in 5 requests (the largest 234); then 900 in 2.
    assert_eq!(snapshot.request_size_avg, 1650.0 / 7.0);
    assert_eq!(snapshot.request_size_max, 600.0);
    assert_eq!(snapshot.nodes[&1].request_size_avg, 1600.0 / 5.0);
    assert_eq!(snapshot.nodes[&2].request_size_avg, 0.0);
    // Every request written and response read: 7 + 3 + 1.
    assert_eq!(snapshot.network_io_total, 11);
    assert!(snapshot.network_io_rate > 0.0);
    assert_eq!(snapshot.successful_authentication_total, 2);
    assert_eq!(snapshot.failed_authentication_total, 1);
    assert_eq!(snapshot.successful_reauthentication_total, 2);
    assert_eq!(snapshot.failed_reauthentication_total, 1);
    assert_eq!(snapshot.reauthentication_latency_avg, 25.0);
    assert_eq!(snapshot.reauthentication_latency_max, 40.0);
    assert!(snapshot.failed_reauthentication_rate > 0.0);

    let values = snapshot.metric_values();
    let value = |group: &str, name: &str, node: Option<&str>| {
        values
            .iter()
            .find(|v| {
                v.group == group
                    && v.name == name
                    && node.is_none_or(|n| v.tags.iter().any(|(_, t)| t == n))
            })
            .map(|v| v.value)
    };
    assert_eq!(value(PRODUCER_GROUP, "request-size-max", None), Some(600.0));
    assert_eq!(value(PRODUCER_GROUP, "network-io-total", None), Some(11.0));
    assert_eq!(
        value(
            PRODUCER_GROUP,
            "successful-authentication-no-reauth-total",
            None
        ),
        Some(2.0)
    );
    assert_eq!(
        value(PRODUCER_GROUP, "reauthentication-latency-avg", None),
        Some(25.0)
    );
    assert_eq!(
        value(NODE_GROUP, "request-size-avg", Some("node-1")),
        Some(320.0)
    );
}

/// The network thread's waits as Java's selector times its `select` calls:
/// counted when a wait ends, the time before it work (`io-time-*`), and
/// recorded into the windows when a snapshot is taken.
#[test]
fn the_network_threads_waits_and_work_as_javas_selector_times_them() {
    let metrics = ProducerMetrics::new(String::new(), WindowConfig::default());
    const MS: u64 = 1_000_000;
    // From the epoch: 1 ms of work, a wait of 3 ms; 2 ms of work, a wait of
    // 5 ms; then 1 ms of work and a wait that has not ended.
    let io = &metrics.io_loop;
    io.waiting(MS);
    io.woke(4 * MS);
    io.waiting(6 * MS);
    io.woke(11 * MS);
    io.waiting(12 * MS);
    let snapshot = metrics.snapshot(BufferState::default());
    assert_eq!(snapshot.select_total, 2);
    assert!(snapshot.select_rate > 0.0);
    assert_eq!(snapshot.io_wait_time_total, Duration::from_millis(8));
    assert_eq!(snapshot.io_wait_time_ns_avg, 4.0 * MS as f64);
    assert_eq!(snapshot.io_time_total, Duration::from_millis(4));
    assert_eq!(snapshot.io_time_ns_avg, 2.0 * MS as f64);
    // Over a young producer's span (at least one full window, as Java's
    // `Rate`): 8 ms and 4 ms of 30 s.
    assert!(
        (snapshot.io_wait_ratio - 8.0 / 30_000.0).abs() < 1e-6,
        "{}",
        snapshot.io_wait_ratio
    );
    assert!(
        (snapshot.io_ratio - 4.0 / 30_000.0).abs() < 1e-6,
        "{}",
        snapshot.io_ratio
    );
    // Taken again with nothing new: the same totals, not counted twice.
    let again = metrics.snapshot(BufferState::default());
    assert_eq!(again.select_total, 2);
    assert_eq!(again.io_wait_time_total, Duration::from_millis(8));
    let values = again.metric_values();
    for (name, kind, value) in [
        ("select-total", MetricKind::Counter, 2.0),
        (
            "io-wait-time-ns-total",
            MetricKind::Counter,
            8.0 * MS as f64,
        ),
        ("io-wait-time-ns-avg", MetricKind::Gauge, 4.0 * MS as f64),
        ("io-time-ns-total", MetricKind::Counter, 4.0 * MS as f64),
        ("io-time-ns-avg", MetricKind::Gauge, 2.0 * MS as f64),
    ] {
        let metric = values
            .iter()
            .find(|v| v.group == PRODUCER_GROUP && v.name == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!((metric.kind, metric.value), (kind, value), "{name}");
    }
    for name in ["select-rate", "io-wait-ratio", "io-ratio"] {
        assert!(
            values
                .iter()
                .any(|v| v.name == name && v.kind == MetricKind::Gauge),
            "{name} missing"
        );
    }
}
