use super::*;

const ID: Uuid = Uuid([3; 16]);

fn subscription(prefixes: &[&str], delta: bool) -> Subscription {
    Subscription {
        id: 11,
        requested_metrics: prefixes.iter().map(|p| (*p).to_owned()).collect(),
        push_interval: Duration::from_millis(1000),
        delta_temporality: delta,
        accepted_compression_types: vec![4, 3, 1, 2],
        telemetry_max_bytes: 1 << 20,
    }
}

fn response(prefixes: &[&str], id: Uuid) -> GetTelemetrySubscriptionsResponse {
    let s = subscription(prefixes, true);
    GetTelemetrySubscriptionsResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::NONE,
        client_instance_id: id,
        subscription_id: s.id,
        accepted_compression_types: s.accepted_compression_types,
        push_interval_ms: 1000,
        telemetry_max_bytes: s.telemetry_max_bytes,
        delta_temporality: true,
        requested_metrics: s.requested_metrics,
    }
}

fn snapshot(sent: u64) -> MetricsSnapshot {
    MetricsSnapshot {
        record_send_total: sent,
        request_latency_avg: Duration::from_micros(2500),
        request_latency_avg_ms: 2.5,
        produce_throttle_time_max: Duration::from_millis(7),
        produce_throttle_time_max_ms: 7.0,
        buffer_total_bytes: 32 << 20,
        ..MetricsSnapshot::default()
    }
}

/// Name -> (value, temporality of a sum or `None` for a gauge).
fn metrics(data: &MetricsData) -> BTreeMap<String, (f64, Option<i32>)> {
    let mut out = BTreeMap::new();
    for metric in &data.resource_metrics[0].scope_metrics[0].metrics {
        let (points, temporality) = match metric.data.as_ref().unwrap() {
            MetricData::Gauge(g) => (&g.data_points, None),
            MetricData::Sum(s) => {
                assert!(s.is_monotonic);
                (&s.data_points, Some(s.aggregation_temporality))
            }
        };
        let Some(NumberValue::AsDouble(value)) = points[0].value else {
            panic!("a double")
        };
        out.insert(metric.name.clone(), (value, temporality));
    }
    out
}

use std::collections::BTreeMap;

#[test]
fn names_follow_kip_714() {
    assert_eq!(
        telemetry_name("producer-metrics", "record-queue-time-avg"),
        "org.apache.kafka.producer.record.queue.time.avg"
    );
    assert_eq!(
        telemetry_name("producer-metrics", "produce-throttle-time-max"),
        "org.apache.kafka.producer.produce.throttle.time.max"
    );
    assert_eq!(
        telemetry_name("producer-node-metrics", "request-latency-avg"),
        "org.apache.kafka.producer.node.request.latency.avg"
    );
    assert_eq!(
        telemetry_name("producer-topic-metrics", "record-send-total"),
        "org.apache.kafka.producer.topic.record.send.total"
    );
}

#[test]
fn only_the_requested_prefixes_are_collected() {
    let mut collector = Collector::new(SystemTime::now());
    let wanted = subscription(
        &[
            "org.apache.kafka.producer.record.",
            "org.apache.kafka.producer.produce.throttle",
        ],
        false,
    );
    let data = collector.collect(&snapshot(5), &wanted, &[], SystemTime::now());
    let names: Vec<_> = metrics(&data).into_keys().collect();
    assert!(names.contains(&"org.apache.kafka.producer.record.send.total".to_owned()));
    assert!(names.contains(&"org.apache.kafka.producer.produce.throttle.time.max".to_owned()));
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("org.apache.kafka.producer.record.")
                || n.starts_with("org.apache.kafka.producer.produce.throttle")),
        "{names:?}"
    );

    for all in [&["*"][..], &[""][..]] {
        let data = collector.collect(
            &snapshot(5),
            &subscription(all, false),
            &[],
            SystemTime::now(),
        );
        let all_metrics = metrics(&data);
        assert_eq!(
            all_metrics.len(),
            producer_metrics(&snapshot(5)).len(),
            "{all:?}"
        );
        assert_eq!(
            all_metrics["org.apache.kafka.producer.request.latency.avg"],
            (2.5, None),
            "gauges in milliseconds, as Java's"
        );
        assert_eq!(
            all_metrics["org.apache.kafka.producer.buffer.total.bytes"].0,
            (32u64 << 20) as f64
        );
    }
    assert!(!subscription(&[], false).wants("org.apache.kafka.producer.record.send.total"));
    // Java's selector: exactly ["*"] is everything; `*` among prefixes
    // matches no name, an empty prefix every name.
    let name = "org.apache.kafka.producer.record.send.total";
    assert!(subscription(&["*"], false).wants(name));
    assert!(!subscription(&["*", "org.apache.kafka.producer.node."], false).wants(name));
    assert!(subscription(&["", "x"], false).wants(name));
}

#[test]
fn delta_sums_count_since_the_previous_push_and_cumulative_ones_since_the_start() {
    let started = UNIX_EPOCH + Duration::from_secs(1_000);
    let first = started + Duration::from_secs(10);
    let second = first + Duration::from_secs(10);
    let name = "org.apache.kafka.producer.record.send.total";
    let start_of = |data: &MetricsData| match data.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
        .and_then(|m| m.data.as_ref())
    {
        Some(MetricData::Sum(s)) => s.data_points[0].start_time_unix_nano,
        _ => panic!("a sum"),
    };
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;

    let mut delta = Collector::new(started);
    let wanted = subscription(&["*"], true);
    let data = delta.collect(&snapshot(10), &wanted, &[], first);
    assert_eq!(
        metrics(&data)[name],
        (10.0, Some(AggregationTemporality::Delta as i32))
    );
    assert_eq!(start_of(&data), secs(started));
    let data = delta.collect(&snapshot(25), &wanted, &[], second);
    assert_eq!(
        metrics(&data)[name],
        (15.0, Some(AggregationTemporality::Delta as i32))
    );
    assert_eq!(start_of(&data), secs(first));

    let mut cumulative = Collector::new(started);
    let wanted = subscription(&["*"], false);
    cumulative.collect(&snapshot(10), &wanted, &[], first);
    let data = cumulative.collect(&snapshot(25), &wanted, &[], second);
    assert_eq!(
        metrics(&data)[name],
        (25.0, Some(AggregationTemporality::Cumulative as i32))
    );
    assert_eq!(start_of(&data), secs(started));
}

#[test]
fn the_payload_uses_the_first_codec_the_broker_accepts() {
    let mut collector = Collector::new(SystemTime::now());
    let resource = [KeyValue::string("transactional_id", "tx-1")];
    let data = collector.collect(
        &snapshot(3),
        &subscription(&["*"], true),
        &resource,
        SystemTime::now(),
    );
    for (accepted, expected) in [
        (vec![4, 3, 1, 2], Compression::Zstd { level: None }),
        (vec![3, 4], Compression::Lz4 { level: None }),
        (vec![9, 1], Compression::Gzip { level: None }),
        (vec![2], Compression::Snappy),
        (vec![], Compression::None),
        (vec![0], Compression::None),
        // The broker prefers none: Java's first accepted type, not the
        // first codec after it.
        (vec![0, 4], Compression::None),
    ] {
        let wanted = Subscription {
            accepted_compression_types: accepted.clone(),
            ..subscription(&["*"], true)
        };
        let codec = wanted.compression();
        assert_eq!(codec, expected, "{accepted:?}");
        let (id, bytes) = payload(&data, codec);
        assert_eq!(i16::from(id), expected.attribute_bits());
        let raw = codec.decompress(&bytes, 1 << 20).unwrap();
        let decoded = MetricsData::decode(raw.as_slice()).unwrap();
        assert_eq!(decoded, data);
        assert_eq!(
            decoded.resource_metrics[0]
                .resource
                .as_ref()
                .unwrap()
                .attributes,
            resource.to_vec()
        );
    }
}

fn subscribed(prefixes: &[&str]) -> (ClientTelemetry, Instant) {
    let now = Instant::now();
    let mut telemetry = ClientTelemetry::new(None, now);
    match telemetry.poll(now, || unreachable!("no push before a subscription")) {
        Step::Subscribe(request) => assert!(request.client_instance_id.is_zero()),
        other => panic!("{other:?}"),
    }
    assert!(telemetry.in_flight());
    telemetry.on_subscription(Ok(response(prefixes, ID)), now);
    assert_eq!(telemetry.client_instance_id(), Some(ID));
    (telemetry, now)
}

fn push_at(telemetry: &mut ClientTelemetry, at: Instant) -> PushTelemetryRequest {
    match telemetry.poll(at, || snapshot(1)) {
        Step::Push(request) => request,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_first_push_is_jittered_then_every_interval() {
    let (mut telemetry, now) = subscribed(&["*"]);
    let Err(Some(first)) = telemetry.due(now) else {
        panic!("a push is planned")
    };
    let wait = first - now;
    assert!(
        (Duration::from_millis(500)..=Duration::from_millis(1500)).contains(&wait),
        "{wait:?}"
    );
    assert!(matches!(
        telemetry.poll(now, || unreachable!()),
        Step::Wait(Some(_))
    ));
    let push = push_at(&mut telemetry, first);
    assert_eq!((push.client_instance_id, push.subscription_id), (ID, 11));
    assert!(!push.terminating);
    assert_eq!(push.compression_type, 4);
    telemetry.on_push(
        Ok(PushTelemetryResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
        }),
        first,
    );
    assert_eq!(
        telemetry.due(first),
        Err(Some(first + Duration::from_millis(1000)))
    );
}

fn refused(code: ErrorCode) -> Result<PushTelemetryResponse, NetworkError> {
    Ok(PushTelemetryResponse {
        throttle_time_ms: 0,
        error_code: code,
    })
}

#[test]
fn push_errors_are_handled_as_kip_714_says() {
    let interval = Duration::from_millis(1000);
    // A changed subscription or codec: ask again at once, with the assigned id.
    for code in [
        ErrorCode::UNKNOWN_SUBSCRIPTION_ID,
        ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
    ] {
        let (mut telemetry, now) = subscribed(&["*"]);
        let at = now + Duration::from_secs(2);
        push_at(&mut telemetry, at);
        telemetry.on_push(refused(code), at);
        match telemetry.poll(at, || unreachable!()) {
            Step::Subscribe(request) => assert_eq!(request.client_instance_id, ID, "{code}"),
            other => panic!("{code}: {other:?}"),
        }
    }
    // Throttled or too large: the subscription again after the interval.
    for code in [
        ErrorCode::THROTTLING_QUOTA_EXCEEDED,
        ErrorCode::TELEMETRY_TOO_LARGE,
    ] {
        let (mut telemetry, now) = subscribed(&["*"]);
        let at = now + Duration::from_secs(2);
        push_at(&mut telemetry, at);
        telemetry.on_push(refused(code), at);
        assert_eq!(telemetry.due(at), Err(Some(at + interval)), "{code}");
        assert!(matches!(
            telemetry.poll(at + interval, || unreachable!()),
            Step::Subscribe(_)
        ));
    }
    // The broker cannot take them, or a code Java does not map: telemetry
    // stops, no terminating push.
    for code in [
        ErrorCode::INVALID_RECORD,
        ErrorCode::INVALID_REQUEST,
        ErrorCode::UNSUPPORTED_VERSION,
        ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
    ] {
        let (mut telemetry, now) = subscribed(&["*"]);
        let at = now + Duration::from_secs(2);
        push_at(&mut telemetry, at);
        telemetry.on_push(refused(code), at);
        assert!(telemetry.is_terminated(), "{code}");
        telemetry.close();
        assert!(telemetry.is_terminated());
        assert!(matches!(
            telemetry.poll(at + interval * 10, || unreachable!()),
            Step::Wait(None)
        ));
    }
    // A lost connection: push again after the interval.
    let (mut telemetry, now) = subscribed(&["*"]);
    let at = now + Duration::from_secs(2);
    push_at(&mut telemetry, at);
    telemetry.on_push(
        Err(NetworkError::Disconnected {
            address: "b:9092".into(),
            reason: crate::network::DisconnectReason::ClosedByClient,
        }),
        at,
    );
    assert!(matches!(
        push_at(&mut telemetry, at + interval),
        PushTelemetryRequest {
            terminating: false,
            ..
        }
    ));
}

#[test]
fn no_requested_metrics_means_asking_again_later_and_no_push() {
    let (mut telemetry, now) = subscribed(&[]);
    let later = now + Duration::from_millis(1000);
    assert_eq!(telemetry.due(now), Err(Some(later)));
    assert!(matches!(
        telemetry.poll(later, || unreachable!()),
        Step::Subscribe(_)
    ));
    telemetry.on_subscription(Ok(response(&[], Uuid::ZERO)), later);
    assert_eq!(telemetry.client_instance_id(), Some(ID), "the id is kept");
    telemetry.close();
    assert!(telemetry.is_terminated(), "nothing to end with a push");
}

#[test]
fn closing_sends_one_terminating_push() {
    // Closing while waiting to push: the terminating push goes at once.
    let (mut telemetry, now) = subscribed(&["*"]);
    telemetry.close();
    let push = push_at(&mut telemetry, now);
    assert!(push.terminating);
    telemetry.on_push(refused(ErrorCode::NONE), now);
    assert!(telemetry.is_terminated());

    // Closing with a push under way: its answer, then the terminating push.
    let (mut telemetry, now) = subscribed(&["*"]);
    let at = now + Duration::from_secs(2);
    assert!(!push_at(&mut telemetry, at).terminating);
    telemetry.close();
    assert!(matches!(
        telemetry.poll(at, || unreachable!()),
        Step::Wait(None)
    ));
    telemetry.on_push(refused(ErrorCode::NONE), at);
    assert!(push_at(&mut telemetry, at).terminating);
    telemetry.on_push(refused(ErrorCode::INVALID_REQUEST), at);
    assert!(telemetry.is_terminated());

    // Closing before any subscription: nothing to push.
    let mut telemetry = ClientTelemetry::new(None, now);
    telemetry.close();
    assert!(telemetry.is_terminated());
}

/// A telemetry that asked for its subscription at `now`.
fn subscribing(now: Instant) -> ClientTelemetry {
    let mut telemetry = ClientTelemetry::new(None, now);
    assert!(matches!(
        telemetry.poll(now, || unreachable!()),
        Step::Subscribe(_)
    ));
    telemetry
}

#[test]
fn get_subscription_errors() {
    let now = Instant::now();
    let mut telemetry = subscribing(now);
    let mut refused = response(&["*"], ID);
    refused.error_code = ErrorCode::THROTTLING_QUOTA_EXCEEDED;
    telemetry.on_subscription(Ok(refused.clone()), now);
    assert_eq!(telemetry.due(now), Err(Some(now + DEFAULT_INTERVAL)));
    assert_eq!(
        telemetry.client_instance_id(),
        None,
        "an error answer assigns nothing"
    );

    let mut telemetry = subscribing(now);
    refused.error_code = ErrorCode::UNSUPPORTED_VERSION;
    telemetry.on_subscription(Ok(refused), now);
    assert!(telemetry.is_terminated());
}

#[test]
fn tagged_points_share_their_metric_and_keep_their_own_deltas() {
    let node = |id: &str, kind, value| Point {
        group: "producer-node-metrics",
        name: if kind == Kind::Gauge {
            "request-latency-avg"
        } else {
            "request-total"
        },
        kind,
        value,
        tags: vec![("node-id", id.to_owned())],
    };
    let mut collector = Collector::new(SystemTime::now());
    let wanted = subscription(&["org.apache.kafka.producer.node."], true);
    let points = |a, b| {
        vec![
            node("node-1", Kind::Gauge, 3.0),
            node("node-2", Kind::Gauge, 5.0),
            node("node-1", Kind::Counter, a),
            node("node-2", Kind::Counter, b),
            Point::producer("record-send-total", Kind::Counter, 1.0),
        ]
    };
    collector.collect_points(points(4.0, 10.0), &wanted, &[], SystemTime::now());
    let data = collector.collect_points(points(6.0, 10.0), &wanted, &[], SystemTime::now());
    let metrics = &data.resource_metrics[0].scope_metrics[0].metrics;
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "org.apache.kafka.producer.node.request.latency.avg",
            "org.apache.kafka.producer.node.request.total"
        ]
    );
    let values = |metric: &Metric| -> Vec<(String, f64)> {
        let points = match metric.data.as_ref().unwrap() {
            MetricData::Gauge(g) => &g.data_points,
            MetricData::Sum(s) => &s.data_points,
        };
        points
            .iter()
            .map(|p| {
                assert_eq!(p.attributes.len(), 1);
                assert_eq!(p.attributes[0].key, "node_id");
                let Some(otlp::AnyValueKind::StringValue(id)) =
                    p.attributes[0].value.as_ref().and_then(|v| v.value.clone())
                else {
                    panic!("a string attribute")
                };
                let Some(NumberValue::AsDouble(v)) = p.value else {
                    panic!("a double")
                };
                (id, v)
            })
            .collect()
    };
    assert_eq!(
        values(&metrics[0]),
        [("node-1".to_owned(), 3.0), ("node-2".to_owned(), 5.0)]
    );
    assert_eq!(
        values(&metrics[1]),
        [("node-1".to_owned(), 2.0), ("node-2".to_owned(), 0.0)],
        "each node's delta since the previous push"
    );
}

#[test]
fn a_quota_throttle_in_an_answer_delays_the_next_request() {
    let (mut telemetry, now) = subscribed(&["*"]);
    let at = now + Duration::from_secs(2);
    push_at(&mut telemetry, at);
    telemetry.on_push(
        Ok(PushTelemetryResponse {
            throttle_time_ms: 5_000,
            error_code: ErrorCode::NONE,
        }),
        at,
    );
    assert_eq!(telemetry.due(at), Err(Some(at + Duration::from_secs(5))));
}

#[test]
fn a_refused_subscription_is_handled_as_a_refused_push() {
    // As Java's maybeFetchErrorIntervalMs for GetTelemetrySubscriptions too:
    // what retrying cannot fix (or an unmapped code) stops telemetry.
    for code in [
        ErrorCode::INVALID_REQUEST,
        ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
    ] {
        let now = Instant::now();
        let mut telemetry = subscribing(now);
        let mut refused = response(&["*"], ID);
        refused.error_code = code;
        telemetry.on_subscription(Ok(refused), now);
        assert!(telemetry.is_terminated(), "{code}");
    }
    // (Throttled: asked again after the interval; see get_subscription_errors.)
}
