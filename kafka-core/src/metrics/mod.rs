//! The producer's metrics, with the Java client's names and meanings.
//!
//! Three views of the same numbers:
//! - [`KafkaProducer::metrics`](crate::KafkaProducer::metrics): a typed
//!   [`MetricsSnapshot`];
//! - [`KafkaProducer::metric_values`](crate::KafkaProducer::metric_values):
//!   every metric as Java's `producer.metrics()` lists it ([`MetricValue`]:
//!   group, name, tags, value), `producer-metrics`, `producer-topic-metrics`
//!   (tag `topic`) and `producer-node-metrics` (tag `node-id`, `node-<id>`), all
//!   tagged `client-id`;
//! - the [`metrics`](https://docs.rs/metrics) crate's facade, where any
//!   exporter (Prometheus, OpenTelemetry, StatsD, ...) installed as the global
//!   recorder sees them under the names Micrometer's `KafkaClientMetrics` gives
//!   a Spring Boot service: `kafka.producer.record.send.total{client.id}`,
//!   `kafka.producer.topic.byte.total{client.id,topic}`,
//!   `kafka.producer.node.request.latency.avg{client.id,node.id}`
//!   ([`MetricValue::facade_name`]). `-total` metrics are counters, the others
//!   gauges. The producer's network thread publishes them about once a second
//!   and once more when it stops (after `close`), and `flush` publishes before it
//!   returns, so the final values are exact. Install the recorder before
//!   building the producer: its handles are registered once, with the recorder
//!   installed at the first publish.
//!
//! Rates, averages and maxima are Java's windowed statistics: over
//! `metrics.num.samples` (default 2) windows of `metrics.sample.window.ms`
//! (default 30 s); an average or maximum with nothing recorded in that span
//! is NaN, as in Java. Counting costs one relaxed atomic per record at most;
//! the windowed statistics are recorded per batch, request or response on the
//! network thread.

mod facade;
mod stats;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub(crate) use stats::WindowConfig;
use stats::{Avg, AvgMax, Meter};

/// Java's metric group of the producer's own metrics.
pub const PRODUCER_GROUP: &str = "producer-metrics";
/// Java's metric group of the per-topic metrics (tag `topic`).
pub const TOPIC_GROUP: &str = "producer-topic-metrics";
/// Java's metric group of the per-broker metrics (tag `node-id`).
pub const NODE_GROUP: &str = "producer-node-metrics";

/// Whether a metric only grows (a counter: Java's `-total` metrics) or is a
/// point-in-time value (a gauge: rates, averages, maxima, buffer bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricKind {
    /// Only grows; published as a facade counter.
    Counter,
    /// A value now; published as a facade gauge.
    Gauge,
}

/// One metric as the Java client's `producer.metrics()` map holds it.
///
/// ```no_run
/// # fn example(producer: kafka_core::KafkaProducer) {
/// for metric in producer.metric_values() {
///     println!("{} {} {:?} = {}", metric.group, metric.name, metric.tags, metric.value);
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MetricValue {
    /// Java's group: [`PRODUCER_GROUP`], [`TOPIC_GROUP`] or [`NODE_GROUP`].
    pub group: &'static str,
    /// Java's name, e.g. `record-send-total`.
    pub name: &'static str,
    /// Java's description.
    pub description: &'static str,
    /// Java's tags: `client-id`, and `topic` or `node-id` in their groups.
    pub tags: Vec<(&'static str, String)>,
    /// Counter or gauge.
    pub kind: MetricKind,
    /// The value (NaN for an average or maximum with nothing recorded in the
    /// sample windows, as in Java).
    pub value: f64,
}

impl MetricValue {
    /// The name under which Micrometer's `KafkaClientMetrics` shows this metric,
    /// and under which it is published to the `metrics` facade: `kafka.`, the
    /// group without `-metrics`, the name, with `-` turned into `.`
    /// (`kafka.producer.record.send.total`, `kafka.producer.topic.byte.rate`,
    /// `kafka.producer.node.request.latency.avg`). A Prometheus exporter shows
    /// `kafka_producer_record_send_total`.
    pub fn facade_name(&self) -> String {
        let group = self.group.strip_suffix("-metrics").unwrap_or(self.group);
        format!("kafka.{group}.{}", self.name).replace('-', ".")
    }

    /// The tags as facade labels: Micrometer's spelling (`client.id`,
    /// `node.id`, `topic`).
    pub fn facade_labels(&self) -> Vec<(String, String)> {
        self.tags
            .iter()
            .map(|(key, value)| (key.replace('-', "."), value.clone()))
            .collect()
    }
}

/// The buffer pool's state, read when a snapshot is taken.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BufferState {
    pub total: usize,
    pub available: usize,
    pub waiting: usize,
}

/// One batch in a Produce request, as the request metrics see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SentBatch<'a> {
    pub topic: &'a Arc<str>,
    pub records: u32,
    pub bytes: usize,
    /// Compressed / uncompressed bytes (1.0 without compression).
    pub compression_ratio: f64,
    /// From the batch's creation to this drain.
    pub queue_time: Duration,
    /// The largest record appended to the batch, in bytes, as Java counts
    /// it (its upper bound alone in a batch, the batch header included).
    pub max_record_size: usize,
}

#[derive(Debug, Default)]
struct TopicSensors {
    record_send: Meter,
    bytes: Meter,
    compression_rate: Avg,
    record_error: Meter,
    record_retry: Meter,
}

#[derive(Debug, Default)]
struct NodeSensors {
    io: IoMeters,
    latency: AvgMax,
}

/// A connection's traffic as Java's selector meters it: `outgoing-byte-*`,
/// `request-*` (`request-size-*` too), `incoming-byte-*`, `response-*`.
#[derive(Debug, Default)]
struct IoMeters {
    written: Meter,
    requests: Meter,
    request_size: AvgMax,
    read: Meter,
    responses: Meter,
}

impl IoMeters {
    fn record(&mut self, window: &WindowConfig, traffic: Traffic, peaks: Peaks, now: u64) {
        self.written.record(window, traffic.written as f64, now);
        self.requests.record(window, traffic.requests as f64, now);
        self.request_size.record_events(
            window,
            traffic.written as f64,
            peaks.largest_request as f64,
            traffic.requests,
            now,
        );
        self.read.record(window, traffic.read as f64, now);
        self.responses.record(window, traffic.responses as f64, now);
    }
}

/// The windowed statistics, recorded per batch, request or response.
#[derive(Debug, Default)]
struct Sensors {
    record_send: Meter,
    record_retry: Meter,
    record_error: Meter,
    io: IoMeters,
    latency: AvgMax,
    batch_size: AvgMax,
    compression_rate: Avg,
    records_per_request: Avg,
    queue_time: AvgMax,
    record_size: AvgMax,
    throttle: AvgMax,
    /// Nanoseconds appends waited for buffer memory.
    bufferpool_wait: Meter,
    /// Sends refused because buffer memory stayed full (`buffer-exhausted-*`).
    buffer_exhausted: Meter,
    connection_creation: Meter,
    connection_close: Meter,
    /// Reads and writes completed, both ways (`network-io-*`).
    network_io: Meter,
    successful_authentication: Meter,
    failed_authentication: Meter,
    successful_reauthentication: Meter,
    failed_reauthentication: Meter,
    /// Milliseconds each re-authentication took.
    reauthentication_latency: AvgMax,
    batch_split: Meter,
    /// The network thread's waits (`select-*`), nanoseconds waited
    /// (`io-wait-*`) and worked between waits (`io-time-*`, `io-ratio`).
    select: Meter,
    io_wait: Meter,
    io_wait_avg: Avg,
    io_time: Meter,
    io_time_avg: Avg,
    /// [`IoLoop`]'s counts when last recorded here.
    io_loop_recorded: IoLoopCounts,
    topics: BTreeMap<Arc<str>, TopicSensors>,
    nodes: BTreeMap<i32, NodeSensors>,
}

impl Sensors {
    fn topic(&mut self, topic: &Arc<str>) -> &mut TopicSensors {
        self.topics.entry(Arc::clone(topic)).or_default()
    }
}

/// Bytes and requests written to, and bytes and responses read from, a
/// connection: so far, or since last counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Traffic {
    pub written: u64,
    pub requests: u64,
    pub read: u64,
    pub responses: u64,
    /// KIP-368 re-authentications that succeeded, and their time (ns).
    pub reauthenticated: u64,
    pub reauthentication_ns: u64,
    /// Re-authentications that failed.
    pub reauthentication_failed: u64,
}

/// The largest values a connection saw since they were last taken: what
/// windowed maxima need beside [`Traffic`]'s sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Peaks {
    /// Bytes of the largest request frame written (`request-size-max`).
    pub largest_request: u64,
    /// The longest re-authentication, in ns (`reauthentication-latency-max`).
    pub longest_reauthentication_ns: u64,
}

impl Traffic {
    /// What went over the connection between `earlier` and `self`.
    pub fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            written: self.written.saturating_sub(earlier.written),
            requests: self.requests.saturating_sub(earlier.requests),
            read: self.read.saturating_sub(earlier.read),
            responses: self.responses.saturating_sub(earlier.responses),
            reauthenticated: self.reauthenticated.saturating_sub(earlier.reauthenticated),
            reauthentication_ns: self
                .reauthentication_ns
                .saturating_sub(earlier.reauthentication_ns),
            reauthentication_failed: self
                .reauthentication_failed
                .saturating_sub(earlier.reauthentication_failed),
        }
    }
}

/// Nanoseconds spent in the producer's calls, as Java's
/// `KafkaProducerMetrics` sums them (`<call>-time-ns-total`).
#[derive(Debug, Default)]
pub(crate) struct CallTimes {
    pub flush: AtomicU64,
    pub metadata_wait: AtomicU64,
    pub txn_init: AtomicU64,
    pub txn_begin: AtomicU64,
    pub txn_send_offsets: AtomicU64,
    pub txn_commit: AtomicU64,
    pub txn_abort: AtomicU64,
}

impl CallTimes {
    /// Adds the time since `started` to `total`.
    pub fn add(total: &AtomicU64, started: std::time::Instant) {
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        total.fetch_add(ns, Ordering::Relaxed);
    }
}

/// The network thread's loop as Java's selector times its `select` calls:
/// how often and how long it waited for sockets and timers, and how long it
/// worked between waits. Kept by the thread's runtime (its park and unpark
/// hooks), so only that thread writes it.
#[derive(Debug, Default)]
pub(crate) struct IoLoop {
    /// Waits ended (`select-total`).
    waits: AtomicU64,
    /// Nanoseconds waited, in all (`io-wait-time-ns-total`).
    waited_ns: AtomicU64,
    /// Nanoseconds worked between waits, in all (`io-time-ns-total`).
    worked_ns: AtomicU64,
    /// When the current wait or stretch of work began, in nanoseconds from
    /// the metrics' epoch.
    turned_at_ns: AtomicU64,
}

/// [`IoLoop`]'s counts, so far or since last taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct IoLoopCounts {
    waits: u64,
    waited_ns: u64,
    worked_ns: u64,
}

impl IoLoop {
    /// The thread is about to wait: what it did since it last woke is work.
    fn waiting(&self, now_ns: u64) {
        let began = self.turned_at_ns.swap(now_ns, Ordering::Relaxed);
        self.worked_ns
            .fetch_add(now_ns.saturating_sub(began), Ordering::Relaxed);
    }

    /// The thread woke: one wait more, as long as since it began.
    fn woke(&self, now_ns: u64) {
        let began = self.turned_at_ns.swap(now_ns, Ordering::Relaxed);
        self.waited_ns
            .fetch_add(now_ns.saturating_sub(began), Ordering::Relaxed);
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    fn counts(&self) -> IoLoopCounts {
        IoLoopCounts {
            waits: self.waits.load(Ordering::Relaxed),
            waited_ns: self.waited_ns.load(Ordering::Relaxed),
            worked_ns: self.worked_ns.load(Ordering::Relaxed),
        }
    }
}

impl IoLoopCounts {
    fn since(self, earlier: IoLoopCounts) -> IoLoopCounts {
        IoLoopCounts {
            waits: self.waits.saturating_sub(earlier.waits),
            waited_ns: self.waited_ns.saturating_sub(earlier.waited_ns),
            worked_ns: self.worked_ns.saturating_sub(earlier.worked_ns),
        }
    }
}

/// The producer's counters and statistics.
#[derive(Debug)]
pub(crate) struct ProducerMetrics {
    client_id: String,
    window: WindowConfig,
    /// Zero of the statistics' millisecond clock.
    epoch: std::time::Instant,
    /// Records of acknowledged batches.
    pub records_acked: AtomicU64,
    /// Bytes of acknowledged batches.
    pub bytes_acked: AtomicU64,
    /// Acknowledged batches.
    pub batches_acked: AtomicU64,
    /// Requests of every kind sent (`request-total`).
    pub requests_sent: AtomicU64,
    pub records_failed: AtomicU64,
    /// Records withdrawn unsent: their transaction aborted, or a forced
    /// close (not record errors, as in Java).
    pub records_withdrawn: AtomicU64,
    pub metadata_refreshes: AtomicU64,
    pub epoch_bumps: AtomicU64,
    pub throttled_responses: AtomicU64,
    pub batch_splits: AtomicU64,
    /// Connections to brokers established (`connection-creation-total`).
    pub connections_created: AtomicU64,
    /// Connections closed, by either side (`connection-close-total`).
    pub connections_closed: AtomicU64,
    /// Requests written and not answered yet, as the sender last counted
    /// them (`requests-in-flight`).
    pub requests_in_flight: AtomicU64,
    /// When metadata was last fetched successfully (`metadata-age`).
    last_metadata_update: Mutex<Option<std::time::Instant>>,
    /// Nanoseconds spent in the calls Java's `KafkaProducerMetrics` times.
    pub call_times: CallTimes,
    /// The network thread's waits and work between them.
    io_loop: IoLoop,
    errors_by_kind: Mutex<BTreeMap<&'static str, u64>>,
    sensors: Mutex<Sensors>,
    facade: Mutex<facade::Publisher>,
}

impl Default for ProducerMetrics {
    fn default() -> Self {
        ProducerMetrics::new(String::new(), WindowConfig::default())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn nanos(total: &AtomicU64) -> Duration {
    Duration::from_nanos(total.load(Ordering::Relaxed))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A windowed value in milliseconds as a `Duration` (zero when NaN).
fn duration_ms(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        // Via whole nanoseconds: 300.0 ms is exactly 300 ms.
        Duration::from_nanos((ms * 1e6).round() as u64)
    } else {
        Duration::ZERO
    }
}

fn count(total: f64) -> u64 {
    // Totals are sums of whole numbers: exact in an f64 up to 2^53.
    total as u64
}

/// How many live producers of this process use each `client.id`: two with
/// the same one share their metrics' labels (Java warns likewise when it
/// cannot register the second one's metrics bean).
static LIVE_CLIENT_IDS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// Live producers with `client_id`.
#[cfg(test)]
fn live_with_client_id(client_id: &str) -> usize {
    lock(&LIVE_CLIENT_IDS).get(client_id).copied().unwrap_or(0)
}

impl Drop for ProducerMetrics {
    fn drop(&mut self) {
        if self.client_id.is_empty() {
            return;
        }
        let mut live = lock(&LIVE_CLIENT_IDS);
        if let Some(count) = live.get_mut(&self.client_id) {
            *count -= 1;
            if *count == 0 {
                live.remove(&self.client_id);
            }
        }
    }
}

impl ProducerMetrics {
    pub fn new(client_id: String, window: WindowConfig) -> Self {
        if !client_id.is_empty() {
            let mut live = lock(&LIVE_CLIENT_IDS);
            let count = live.entry(client_id.clone()).or_insert(0);
            *count += 1;
            if *count > 1 {
                tracing::warn!(
                    client_id,
                    producers = *count,
                    "several producers in this process have client.id '{client_id}': their metrics \
                     carry the same client-id tag and overwrite each other; give each its own client.id"
                );
            }
        }
        ProducerMetrics {
            client_id,
            window,
            epoch: std::time::Instant::now(),
            records_acked: AtomicU64::new(0),
            bytes_acked: AtomicU64::new(0),
            batches_acked: AtomicU64::new(0),
            requests_sent: AtomicU64::new(0),
            records_failed: AtomicU64::new(0),
            records_withdrawn: AtomicU64::new(0),
            metadata_refreshes: AtomicU64::new(0),
            epoch_bumps: AtomicU64::new(0),
            throttled_responses: AtomicU64::new(0),
            batch_splits: AtomicU64::new(0),
            connections_created: AtomicU64::new(0),
            connections_closed: AtomicU64::new(0),
            requests_in_flight: AtomicU64::new(0),
            last_metadata_update: Mutex::new(None),
            call_times: CallTimes::default(),
            io_loop: IoLoop::default(),
            errors_by_kind: Mutex::new(BTreeMap::new()),
            sensors: Mutex::new(Sensors::default()),
            facade: Mutex::new(facade::Publisher::default()),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The network thread is about to wait for its sockets and timers (its
    /// runtime's park hook).
    pub fn network_thread_waiting(&self) {
        self.io_loop.waiting(self.now_ns());
    }

    /// The network thread woke from a wait (its runtime's unpark hook).
    pub fn network_thread_woke(&self) {
        self.io_loop.woke(self.now_ns());
    }

    /// Records what the network thread's loop did since last recorded into
    /// the windowed statistics: once per snapshot (about every second, as
    /// the sender publishes), not in the hooks, which run on every wait.
    fn record_io_loop(&self, sensors: &mut Sensors, now: u64) {
        let counts = self.io_loop.counts();
        let new = counts.since(sensors.io_loop_recorded);
        if new == IoLoopCounts::default() {
            return;
        }
        sensors.io_loop_recorded = counts;
        let window = &self.window;
        let (waited, worked) = (new.waited_ns as f64, new.worked_ns as f64);
        sensors.select.record(window, new.waits as f64, now);
        sensors.io_wait.record(window, waited, now);
        sensors
            .io_wait_avg
            .record_events(window, waited, new.waits, now);
        sensors.io_time.record(window, worked, now);
        sensors
            .io_time_avg
            .record_events(window, worked, new.waits, now);
    }

    /// `records` of `topic` failed for good (or a send call refused one).
    pub fn record_error(&self, topic: &str, kind: &'static str, records: u64) {
        self.count_error(Some(topic), kind, records);
    }

    /// A record a send call refused before it was buffered (too large, a
    /// metadata or buffer timeout, a bad topic name): counted in the
    /// producer's `record-error-*`, not its topic's, as Java's topic metrics
    /// count failed batches only (and a mistyped name would otherwise make a
    /// metric series of its own).
    pub fn record_refused(&self, kind: &'static str) {
        self.count_error(None, kind, 1);
    }

    fn count_error(&self, topic: Option<&str>, kind: &'static str, records: u64) {
        self.records_failed.fetch_add(records, Ordering::Relaxed);
        *lock(&self.errors_by_kind).entry(kind).or_insert(0) += 1;
        let now = self.now_ms();
        let window = &self.window;
        let mut sensors = lock(&self.sensors);
        sensors.record_error.record(window, records as f64, now);
        if let Some(topic) = topic {
            sensors
                .topic(&Arc::from(topic))
                .record_error
                .record(window, records as f64, now);
        }
    }

    /// Records that ended without an outcome of their own, failed or
    /// withdrawn: what a close that ran out of time counts as lost.
    pub fn records_ended_unsent(&self) -> u64 {
        self.records_failed.load(Ordering::Relaxed) + self.records_withdrawn.load(Ordering::Relaxed)
    }

    /// `records` of `topic` queued again for a retry (Java's `recordRetries`,
    /// counted when the retry is decided, as `Sender.reenqueueBatch` does).
    pub fn record_retry(&self, topic: &str, records: u64) {
        let now = self.now_ms();
        let window = &self.window;
        let mut sensors = lock(&self.sensors);
        sensors.record_retry.record(window, records as f64, now);
        sensors
            .topic(&Arc::from(topic))
            .record_retry
            .record(window, records as f64, now);
    }

    /// One Produce request to broker `node` with `batches` (Java's
    /// `updateProduceRequestMetrics`).
    pub fn record_produce_request<'a>(
        &self,
        node: i32,
        batches: impl IntoIterator<Item = SentBatch<'a>>,
    ) {
        let now = self.now_ms();
        let window = &self.window;
        let mut guard = lock(&self.sensors);
        let sensors = &mut *guard;
        let mut records = 0u64;
        for batch in batches {
            let n = f64::from(batch.records);
            let bytes = batch.bytes as f64;
            let topic = sensors.topic(batch.topic);
            topic.record_send.record(window, n, now);
            topic.bytes.record(window, bytes, now);
            topic
                .compression_rate
                .record(window, batch.compression_ratio, now);
            sensors.batch_size.record(window, bytes, now);
            sensors
                .queue_time
                .record(window, millis(batch.queue_time), now);
            sensors
                .compression_rate
                .record(window, batch.compression_ratio, now);
            sensors
                .record_size
                .record(window, batch.max_record_size as f64, now);
            records += u64::from(batch.records);
        }
        sensors.record_send.record(window, records as f64, now);
        sensors
            .records_per_request
            .record(window, records as f64, now);
        // Known to the node metrics from its first request on.
        sensors.nodes.entry(node).or_default();
    }

    /// The `throttle_time_ms` of responses, of every kind (Java's
    /// `NetworkClient` records each response's in `produce-throttle-time`).
    pub fn record_throttles(&self, throttles_ms: &[u32]) {
        if throttles_ms.is_empty() {
            return;
        }
        let throttled = throttles_ms.iter().filter(|ms| **ms > 0).count();
        self.throttled_responses
            .fetch_add(throttled as u64, Ordering::Relaxed);
        let now = self.now_ms();
        let mut sensors = lock(&self.sensors);
        for ms in throttles_ms {
            sensors.throttle.record(&self.window, f64::from(*ms), now);
        }
    }

    /// A Produce response from `node`: its latency.
    pub fn record_produce_response(&self, node: Option<i32>, latency: Duration) {
        let now = self.now_ms();
        let window = &self.window;
        let mut sensors = lock(&self.sensors);
        sensors.latency.record(window, millis(latency), now);
        if let Some(node) = node {
            sensors
                .nodes
                .entry(node)
                .or_default()
                .latency
                .record(window, millis(latency), now);
        }
    }

    /// A connection to a broker was established (`connection-creation-*`).
    pub fn record_connection_created(&self) {
        self.count_event(&self.connections_created, |s| &mut s.connection_creation);
    }

    /// A connection's setup ended: its TLS handshake and SASL exchange
    /// passed (`ok`), or the broker refused its credentials. Java counts
    /// every connection that becomes ready, plaintext ones included, in
    /// `successful-authentication-*`.
    pub fn record_authentication(&self, ok: bool) {
        let now = self.now_ms();
        let mut sensors = lock(&self.sensors);
        let meter = if ok {
            &mut sensors.successful_authentication
        } else {
            &mut sensors.failed_authentication
        };
        meter.record(&self.window, 1.0, now);
    }

    /// A connection was closed, by either side (`connection-close-*`).
    pub fn record_connection_closed(&self) {
        self.count_event(&self.connections_closed, |s| &mut s.connection_close);
    }

    /// A batch the broker found too large was split (`batch-split-*`).
    pub fn record_batch_split(&self) {
        self.count_event(&self.batch_splits, |s| &mut s.batch_split);
    }

    /// One event: its `-total` counter and its `-rate` meter.
    fn count_event(&self, total: &AtomicU64, meter: impl FnOnce(&mut Sensors) -> &mut Meter) {
        total.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        meter(&mut lock(&self.sensors)).record(&self.window, 1.0, now);
    }

    /// Metadata was fetched: `metadata-age` counts from now when `ok`.
    pub fn record_metadata_fetch(&self, ok: bool) {
        self.metadata_refreshes.fetch_add(1, Ordering::Relaxed);
        if ok {
            *lock(&self.last_metadata_update) = Some(std::time::Instant::now());
        }
    }

    /// `responses` read from a broker's connection, in `bytes` (`node`,
    /// when it is a known broker): Java's `incoming-byte-*` and `response-*`.
    #[cfg(test)]
    pub fn record_incoming(&self, node: Option<i32>, bytes: u64, responses: u64) {
        self.record_io(
            node,
            Traffic {
                read: bytes,
                responses,
                ..Traffic::default()
            },
            Peaks::default(),
        );
    }

    /// `requests` of any kind in `bytes` written to a broker's connection
    /// (`node`, when it is a known broker), as Java's selector counts them.
    #[cfg(test)]
    pub fn record_outgoing(&self, node: Option<i32>, bytes: u64, requests: u64) {
        self.record_io(
            node,
            Traffic {
                written: bytes,
                requests,
                ..Traffic::default()
            },
            Peaks {
                largest_request: bytes.div_ceil(requests.max(1)),
                ..Peaks::default()
            },
        );
    }

    /// What went over a broker's connection since last counted (`node`, when
    /// it is a known broker), as Java's selector counts it: `request-*`,
    /// `outgoing-byte-*`, `response-*`, `incoming-byte-*`.
    pub fn record_io(&self, node: Option<i32>, traffic: Traffic, peaks: Peaks) {
        if traffic == Traffic::default() {
            return;
        }
        self.requests_sent
            .fetch_add(traffic.requests, Ordering::Relaxed);
        let now = self.now_ms();
        let window = &self.window;
        let mut guard = lock(&self.sensors);
        let sensors = &mut *guard;
        sensors.io.record(window, traffic, peaks, now);
        let transfers = traffic.requests + traffic.responses;
        if transfers > 0 {
            sensors.network_io.record(window, transfers as f64, now);
        }
        if traffic.reauthenticated > 0 {
            let n = traffic.reauthenticated;
            sensors
                .successful_reauthentication
                .record(window, n as f64, now);
            sensors.reauthentication_latency.record_events(
                window,
                traffic.reauthentication_ns as f64 / 1e6,
                peaks.longest_reauthentication_ns as f64 / 1e6,
                n,
                now,
            );
        }
        if traffic.reauthentication_failed > 0 {
            sensors.failed_reauthentication.record(
                window,
                traffic.reauthentication_failed as f64,
                now,
            );
        }
        if let Some(node) = node {
            sensors
                .nodes
                .entry(node)
                .or_default()
                .io
                .record(window, traffic, peaks, now);
        }
    }

    /// An append waited `waited` for buffer memory (Java's `bufferpool-wait-time`).
    pub fn record_buffer_wait(&self, waited: Duration) {
        let ns = waited.as_nanos() as f64;
        let now = self.now_ms();
        lock(&self.sensors)
            .bufferpool_wait
            .record(&self.window, ns, now);
    }

    /// A send refused because buffer memory stayed full for `max.block.ms`.
    pub fn record_buffer_exhausted(&self) {
        let now = self.now_ms();
        lock(&self.sensors)
            .buffer_exhausted
            .record(&self.window, 1.0, now);
    }

    /// Everything now, as the typed snapshot.
    pub fn snapshot(&self, buffer: BufferState) -> MetricsSnapshot {
        let now = self.now_ms();
        let window = &self.window;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut guard = lock(&self.sensors);
        let s = &mut *guard;
        self.record_io_loop(s, now);
        let topics = s
            .topics
            .iter_mut()
            .map(|(topic, t)| {
                (
                    topic.to_string(),
                    TopicMetrics {
                        record_send_total: count(t.record_send.total()),
                        record_send_rate: t.record_send.rate(window, now),
                        byte_total: count(t.bytes.total()),
                        byte_rate: t.bytes.rate(window, now),
                        compression_rate: t.compression_rate.value(window, now),
                        record_error_total: count(t.record_error.total()),
                        record_error_rate: t.record_error.rate(window, now),
                        record_retry_total: count(t.record_retry.total()),
                        record_retry_rate: t.record_retry.rate(window, now),
                    },
                )
            })
            .collect();
        let nodes = s
            .nodes
            .iter_mut()
            .map(|(node, n)| {
                (
                    *node,
                    NodeMetrics {
                        request_total: count(n.io.requests.total()),
                        request_rate: n.io.requests.rate(window, now),
                        request_latency_avg: n.latency.avg(window, now),
                        request_latency_max: n.latency.max(window, now),
                        request_size_avg: n.io.request_size.avg(window, now),
                        request_size_max: n.io.request_size.max(window, now),
                        outgoing_byte_total: count(n.io.written.total()),
                        outgoing_byte_rate: n.io.written.rate(window, now),
                        incoming_byte_total: count(n.io.read.total()),
                        incoming_byte_rate: n.io.read.rate(window, now),
                        response_total: count(n.io.responses.total()),
                        response_rate: n.io.responses.rate(window, now),
                    },
                )
            })
            .collect();
        let latency_avg = s.latency.avg(window, now);
        let latency_max = s.latency.max(window, now);
        let throttle_avg = s.throttle.avg(window, now);
        let throttle_max = s.throttle.max(window, now);
        let queue_avg = s.queue_time.avg(window, now);
        let queue_max = s.queue_time.max(window, now);
        MetricsSnapshot {
            client_id: self.client_id.clone(),
            record_send_total: count(s.record_send.total()),
            record_send_rate: s.record_send.rate(window, now),
            record_ack_total: load(&self.records_acked),
            byte_total: load(&self.bytes_acked),
            batch_total: load(&self.batches_acked),
            request_total: load(&self.requests_sent),
            request_rate: s.io.requests.rate(window, now),
            record_retry_total: count(s.record_retry.total()),
            record_retry_rate: s.record_retry.rate(window, now),
            record_error_total: load(&self.records_failed),
            record_error_rate: s.record_error.rate(window, now),
            errors_by_kind: lock(&self.errors_by_kind).clone(),
            buffer_total_bytes: buffer.total,
            buffer_available_bytes: buffer.available,
            waiting_appends: buffer.waiting,
            bufferpool_wait_time_total: Duration::from_nanos(count(s.bufferpool_wait.total())),
            bufferpool_wait_ratio: s.bufferpool_wait.rate_per(window, now, 1e-6),
            buffer_exhausted_total: count(s.buffer_exhausted.total()),
            buffer_exhausted_rate: s.buffer_exhausted.rate(window, now),
            flush_time_total: nanos(&self.call_times.flush),
            metadata_wait_time_total: nanos(&self.call_times.metadata_wait),
            txn_init_time_total: nanos(&self.call_times.txn_init),
            txn_begin_time_total: nanos(&self.call_times.txn_begin),
            txn_send_offsets_time_total: nanos(&self.call_times.txn_send_offsets),
            txn_commit_time_total: nanos(&self.call_times.txn_commit),
            txn_abort_time_total: nanos(&self.call_times.txn_abort),
            request_latency_avg: duration_ms(latency_avg),
            request_latency_max: duration_ms(latency_max),
            request_latency_avg_ms: latency_avg,
            request_latency_max_ms: latency_max,
            metadata_refresh_total: load(&self.metadata_refreshes),
            producer_epoch_bump_total: load(&self.epoch_bumps),
            produce_throttle_time_avg: duration_ms(throttle_avg),
            produce_throttle_time_max: duration_ms(throttle_max),
            produce_throttle_time_avg_ms: throttle_avg,
            produce_throttle_time_max_ms: throttle_max,
            produce_throttled_total: load(&self.throttled_responses),
            batch_split_total: load(&self.batch_splits),
            batch_split_rate: s.batch_split.rate(window, now),
            select_total: count(s.select.total()),
            select_rate: s.select.rate(window, now),
            io_wait_time_total: Duration::from_nanos(count(s.io_wait.total())),
            io_wait_time_ns_avg: s.io_wait_avg.value(window, now),
            io_wait_ratio: s.io_wait.rate_per(window, now, 1e-6),
            io_time_total: Duration::from_nanos(count(s.io_time.total())),
            io_time_ns_avg: s.io_time_avg.value(window, now),
            io_ratio: s.io_time.rate_per(window, now, 1e-6),
            connection_creation_total: load(&self.connections_created),
            connection_creation_rate: s.connection_creation.rate(window, now),
            connection_close_total: load(&self.connections_closed),
            connection_close_rate: s.connection_close.rate(window, now),
            connection_count: load(&self.connections_created)
                .saturating_sub(load(&self.connections_closed)),
            requests_in_flight: load(&self.requests_in_flight),
            metadata_age: lock(&self.last_metadata_update).map(|at| at.elapsed()),
            incoming_byte_total: count(s.io.read.total()),
            incoming_byte_rate: s.io.read.rate(window, now),
            request_size_avg: s.io.request_size.avg(window, now),
            request_size_max: s.io.request_size.max(window, now),
            network_io_total: count(s.network_io.total()),
            network_io_rate: s.network_io.rate(window, now),
            successful_authentication_total: count(s.successful_authentication.total()),
            successful_authentication_rate: s.successful_authentication.rate(window, now),
            failed_authentication_total: count(s.failed_authentication.total()),
            failed_authentication_rate: s.failed_authentication.rate(window, now),
            successful_reauthentication_total: count(s.successful_reauthentication.total()),
            successful_reauthentication_rate: s.successful_reauthentication.rate(window, now),
            failed_reauthentication_total: count(s.failed_reauthentication.total()),
            failed_reauthentication_rate: s.failed_reauthentication.rate(window, now),
            reauthentication_latency_avg: s.reauthentication_latency.avg(window, now),
            reauthentication_latency_max: s.reauthentication_latency.max(window, now),
            response_total: count(s.io.responses.total()),
            response_rate: s.io.responses.rate(window, now),
            batch_size_avg: s.batch_size.avg(window, now),
            batch_size_max: s.batch_size.max(window, now),
            compression_rate_avg: s.compression_rate.value(window, now),
            records_per_request_avg: s.records_per_request.value(window, now),
            record_queue_time_avg: duration_ms(queue_avg),
            record_queue_time_max: duration_ms(queue_max),
            record_queue_time_avg_ms: queue_avg,
            record_queue_time_max_ms: queue_max,
            record_size_avg: s.record_size.avg(window, now),
            record_size_max: s.record_size.max(window, now),
            outgoing_byte_total: count(s.io.written.total()),
            outgoing_byte_rate: s.io.written.rate(window, now),
            topics,
            nodes,
        }
    }

    /// Sets the facade's counters and gauges to `snapshot`'s values
    /// (registering a metric's handle the first time it is seen).
    pub fn publish(&self, snapshot: &MetricsSnapshot) {
        lock(&self.facade).publish(&snapshot.metric_values());
    }
}

/// One topic's metrics (Java's `producer-topic-metrics`, tag `topic`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct TopicMetrics {
    /// Records sent in Produce requests, retries again (`record-send-total`).
    pub record_send_total: u64,
    /// Per second (`record-send-rate`).
    pub record_send_rate: f64,
    /// Bytes of record batches sent, retries again (`byte-total`).
    pub byte_total: u64,
    /// Per second (`byte-rate`).
    pub byte_rate: f64,
    /// Average compressed / uncompressed size of its batches (`compression-rate`).
    pub compression_rate: f64,
    /// Records that failed for good (`record-error-total`).
    pub record_error_total: u64,
    /// Per second (`record-error-rate`).
    pub record_error_rate: f64,
    /// Records sent again after a retriable error (`record-retry-total`).
    pub record_retry_total: u64,
    /// Per second (`record-retry-rate`).
    pub record_retry_rate: f64,
}

/// One broker's metrics (Java's `producer-node-metrics`, tag `node-id` = `node-<id>`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct NodeMetrics {
    /// Requests of every kind sent to it (`request-total`).
    pub request_total: u64,
    /// Per second (`request-rate`).
    pub request_rate: f64,
    /// Average Produce latency in ms (`request-latency-avg`).
    pub request_latency_avg: f64,
    /// Longest in ms (`request-latency-max`).
    pub request_latency_max: f64,
    /// Average bytes of the requests sent to it, size prefix included
    /// (`request-size-avg`; NaN with no request in the windows).
    pub request_size_avg: f64,
    /// Largest (`request-size-max`).
    pub request_size_max: f64,
    /// Bytes written to its connections, every request (`outgoing-byte-total`).
    pub outgoing_byte_total: u64,
    /// Per second (`outgoing-byte-rate`).
    pub outgoing_byte_rate: f64,
    /// Bytes of responses read from its connections (`incoming-byte-total`).
    pub incoming_byte_total: u64,
    /// Per second (`incoming-byte-rate`).
    pub incoming_byte_rate: f64,
    /// Responses read from it, of every kind (`response-total`).
    pub response_total: u64,
    /// Per second (`response-rate`).
    pub response_rate: f64,
}

/// A point-in-time view of the producer's metrics.
///
/// Fields named after a Java metric mean what the Java client's does; rates
/// are per second and, with averages and maxima, taken over the sample
/// windows (`metrics.sample.window.ms` × `metrics.num.samples`); an `f64`
/// average or maximum is NaN when nothing was recorded in them (as in Java),
/// a `Duration` one zero.
///
/// ```no_run
/// # async fn example(producer: kafka_core::KafkaProducer) {
/// let metrics = producer.metrics();
/// println!("{} records sent, {} failed", metrics.record_send_total, metrics.record_error_total);
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// `client.id`, the `client-id` tag of every metric.
    pub client_id: String,
    /// Records sent in Produce requests (Java: `record-send-total`; a retried
    /// record counts again).
    pub record_send_total: u64,
    /// Per second (`record-send-rate`).
    pub record_send_rate: f64,
    /// Records the broker acknowledged.
    pub record_ack_total: u64,
    /// Bytes of record batches acknowledged, after compression. (Java's
    /// `byte-total` is per topic and counts every attempt: see [`topics`](Self::topics).)
    pub byte_total: u64,
    /// Record batches acknowledged.
    pub batch_total: u64,
    /// Requests of every kind sent, as Java's `request-total`: Produce,
    /// metadata, the transaction's, the connections' `ApiVersions` (not the
    /// SASL exchange, which Java's selector does not count either).
    pub request_total: u64,
    /// Per second (`request-rate`).
    pub request_rate: f64,
    /// Records sent again after a retriable error (Java: `record-retry-total`).
    pub record_retry_total: u64,
    /// Per second (`record-retry-rate`).
    pub record_retry_rate: f64,
    /// Records that failed for good (Java: `record-error-total`), including
    /// records a send call refused; as in Java, not records withdrawn unsent
    /// by a transaction's abort or a forced close.
    pub record_error_total: u64,
    /// Per second (`record-error-rate`).
    pub record_error_rate: f64,
    /// Failures by kind ([`KafkaError::kind_name`](crate::KafkaError::kind_name)), counted per batch or per send call.
    pub errors_by_kind: BTreeMap<&'static str, u64>,
    /// `buffer.memory` (Java: `buffer-total-bytes`).
    pub buffer_total_bytes: usize,
    /// Buffer bytes not held by any batch (Java: `buffer-available-bytes`).
    pub buffer_available_bytes: usize,
    /// Sends waiting for buffer space (Java: `waiting-threads`).
    pub waiting_appends: usize,
    /// Time sends waited for buffer space, in all (Java: `bufferpool-wait-time-ns-total`).
    pub bufferpool_wait_time_total: Duration,
    /// The fraction of time sends waited for buffer space (`bufferpool-wait-ratio`).
    pub bufferpool_wait_ratio: f64,
    /// Sends refused because buffer memory stayed full for `max.block.ms`
    /// (`buffer-exhausted-total`).
    pub buffer_exhausted_total: u64,
    /// Per second (`buffer-exhausted-rate`).
    pub buffer_exhausted_rate: f64,
    /// Time spent in `flush` (`flush-time-ns-total`).
    pub flush_time_total: Duration,
    /// Time sends waited for their topic's metadata
    /// (`metadata-wait-time-ns-total`).
    pub metadata_wait_time_total: Duration,
    /// Time spent in `init_transactions` (`txn-init-time-ns-total`).
    pub txn_init_time_total: Duration,
    /// Time spent in `begin_transaction` (`txn-begin-time-ns-total`).
    pub txn_begin_time_total: Duration,
    /// Time spent in `send_offsets_to_transaction`
    /// (`txn-send-offsets-time-ns-total`).
    pub txn_send_offsets_time_total: Duration,
    /// Time spent in `commit_transaction` (`txn-commit-time-ns-total`).
    pub txn_commit_time_total: Duration,
    /// Time spent in `abort_transaction` (`txn-abort-time-ns-total`).
    pub txn_abort_time_total: Duration,
    /// Average time from writing a Produce request to its response (Java: `request-latency-avg`).
    pub request_latency_avg: Duration,
    /// Longest such time (Java: `request-latency-max`).
    pub request_latency_max: Duration,
    /// `request-latency-avg` in ms as Java gives it (NaN with no response in the windows).
    pub request_latency_avg_ms: f64,
    /// `request-latency-max` in ms (NaN with no response in the windows).
    pub request_latency_max_ms: f64,
    /// Metadata fetches completed.
    pub metadata_refresh_total: u64,
    /// Times the idempotent producer bumped its epoch to recover sequences.
    pub producer_epoch_bump_total: u64,
    /// Average time responses asked this client to wait because of a quota,
    /// over all responses of every kind, unthrottled ones included (Java:
    /// `produce-throttle-time-avg`, which its `NetworkClient` records for
    /// every response).
    pub produce_throttle_time_avg: Duration,
    /// Longest such time (Java: `produce-throttle-time-max`).
    pub produce_throttle_time_max: Duration,
    /// `produce-throttle-time-avg` in ms (NaN with no response in the windows).
    pub produce_throttle_time_avg_ms: f64,
    /// `produce-throttle-time-max` in ms (NaN with no response in the windows).
    pub produce_throttle_time_max_ms: f64,
    /// Responses (of every kind) that gave a quota throttle time: from
    /// KIP-219's versions on, the broker was not sent to for that long.
    pub produce_throttled_total: u64,
    /// Batches split because the broker found them too large
    /// (`MESSAGE_TOO_LARGE`; Java: `batch-split-total`).
    pub batch_split_total: u64,
    /// Per second (`batch-split-rate`).
    pub batch_split_rate: f64,
    /// Times the network thread waited for its sockets and timers, having
    /// nothing else to do (Java: `select-total`, its selector's `select`
    /// calls; a busy thread here checks its sockets between tasks without
    /// waiting, and that is not counted).
    pub select_total: u64,
    /// Per second (`select-rate`).
    pub select_rate: f64,
    /// Time the network thread waited, in all (`io-wait-time-ns-total`).
    pub io_wait_time_total: Duration,
    /// The average wait, in nanoseconds (`io-wait-time-ns-avg`).
    pub io_wait_time_ns_avg: f64,
    /// The fraction of time the network thread waited (`io-wait-ratio`):
    /// near 0, it is busy all the time and records queue behind it.
    pub io_wait_ratio: f64,
    /// Time the network thread worked between waits, in all
    /// (`io-time-ns-total`). Java counts its socket reads and writes only;
    /// this is all the thread's work (reads, writes, draining batches into
    /// requests, completing records and running their callbacks), so
    /// `io_ratio` and `io_wait_ratio` add up to about 1 once the producer
    /// is older than the sample windows (before, both are taken over at
    /// least one window, as Java's rates are).
    pub io_time_total: Duration,
    /// The average work between two waits, in nanoseconds (`io-time-ns-avg`).
    pub io_time_ns_avg: f64,
    /// The fraction of time the network thread worked (`io-ratio`).
    pub io_ratio: f64,
    /// Connections to brokers established, bootstrap ones included (Java:
    /// `connection-creation-total`).
    pub connection_creation_total: u64,
    /// Per second (`connection-creation-rate`).
    pub connection_creation_rate: f64,
    /// Connections closed, by the broker, an error or the client (an idle
    /// one); Java: `connection-close-total`.
    pub connection_close_total: u64,
    /// Per second (`connection-close-rate`).
    pub connection_close_rate: f64,
    /// Connections open now (`connection-count`).
    pub connection_count: u64,
    /// Requests written and not answered yet, of every kind, as counted at
    /// the last publish (at most a second ago; `requests-in-flight`).
    pub requests_in_flight: u64,
    /// Time since metadata was last fetched successfully (`metadata-age`,
    /// in seconds there); `None` before the first fetch.
    pub metadata_age: Option<Duration>,
    /// Bytes of responses read from brokers (`incoming-byte-total`).
    pub incoming_byte_total: u64,
    /// Per second (`incoming-byte-rate`).
    pub incoming_byte_rate: f64,
    /// Average bytes of the requests sent, of every kind, size prefix
    /// included (`request-size-avg`; NaN with no request in the windows).
    pub request_size_avg: f64,
    /// Largest (`request-size-max`).
    pub request_size_max: f64,
    /// Reads and writes completed on all connections: requests written plus
    /// responses read (`network-io-total`).
    pub network_io_total: u64,
    /// Per second (`network-io-rate`).
    pub network_io_rate: f64,
    /// Connections whose setup (TLS, SASL) passed, plaintext ones included,
    /// as Java counts them (`successful-authentication-total`).
    pub successful_authentication_total: u64,
    /// Per second (`successful-authentication-rate`).
    pub successful_authentication_rate: f64,
    /// Connections the broker refused the credentials of
    /// (`failed-authentication-total`).
    pub failed_authentication_total: u64,
    /// Per second (`failed-authentication-rate`).
    pub failed_authentication_rate: f64,
    /// SASL sessions renewed on an open connection (KIP-368;
    /// `successful-reauthentication-total`).
    pub successful_reauthentication_total: u64,
    /// Per second (`successful-reauthentication-rate`).
    pub successful_reauthentication_rate: f64,
    /// Renewals the broker refused, each closing its connection
    /// (`failed-reauthentication-total`; a renewal cut short by a timeout or
    /// a lost connection is not counted, as in Java).
    pub failed_reauthentication_total: u64,
    /// Per second (`failed-reauthentication-rate`).
    pub failed_reauthentication_rate: f64,
    /// Average ms a renewal took (`reauthentication-latency-avg`; NaN with
    /// none in the windows).
    pub reauthentication_latency_avg: f64,
    /// Longest (`reauthentication-latency-max`).
    pub reauthentication_latency_max: f64,
    /// Responses read, of every kind (`response-total`).
    pub response_total: u64,
    /// Per second (`response-rate`).
    pub response_rate: f64,
    /// Average bytes of the batches sent (`batch-size-avg`).
    pub batch_size_avg: f64,
    /// Largest (`batch-size-max`).
    pub batch_size_max: f64,
    /// Average compressed / uncompressed size of the batches sent (`compression-rate-avg`).
    pub compression_rate_avg: f64,
    /// Average records per Produce request (`records-per-request-avg`).
    pub records_per_request_avg: f64,
    /// Average time batches waited in the accumulator before being sent (`record-queue-time-avg`).
    pub record_queue_time_avg: Duration,
    /// Longest (`record-queue-time-max`).
    pub record_queue_time_max: Duration,
    /// `record-queue-time-avg` in ms (NaN with no batch in the windows).
    pub record_queue_time_avg_ms: f64,
    /// `record-queue-time-max` in ms (NaN with no batch in the windows).
    pub record_queue_time_max_ms: f64,
    /// Average over sent batches of their largest record's size (`record-size-avg`, as Java counts it).
    pub record_size_avg: f64,
    /// Largest record sent, in bytes (`record-size-max`).
    pub record_size_max: f64,
    /// Bytes written to brokers, every request (`outgoing-byte-total`).
    pub outgoing_byte_total: u64,
    /// Per second (`outgoing-byte-rate`).
    pub outgoing_byte_rate: f64,
    /// Per topic (`producer-topic-metrics`), by name.
    pub topics: BTreeMap<String, TopicMetrics>,
    /// Per broker (`producer-node-metrics`), by node id.
    pub nodes: BTreeMap<i32, NodeMetrics>,
}

macro_rules! metric_table {
    ($($id:ident = ($name:literal, $kind:ident, $description:literal);)*) => {
        #[derive(Clone, Copy)]
        #[allow(non_camel_case_types)]
        enum Name { $($id,)* }
        impl Name {
            const fn name(self) -> &'static str {
                match self { $(Name::$id => $name,)* }
            }
            const fn kind(self) -> MetricKind {
                match self { $(Name::$id => MetricKind::$kind,)* }
            }
            const fn description(self) -> &'static str {
                match self { $(Name::$id => $description,)* }
            }
        }
    };
}

metric_table! {
    RecordSendRate = ("record-send-rate", Gauge, "The average number of records sent per second.");
    RecordSendTotal = ("record-send-total", Counter, "The total number of records sent.");
    RecordErrorRate = ("record-error-rate", Gauge, "The average per-second number of record sends that resulted in errors");
    RecordErrorTotal = ("record-error-total", Counter, "The total number of record sends that resulted in errors");
    RecordRetryRate = ("record-retry-rate", Gauge, "The average per-second number of retried record sends");
    RecordRetryTotal = ("record-retry-total", Counter, "The total number of retried record sends");
    RequestLatencyAvg = ("request-latency-avg", Gauge, "The average request latency in ms");
    RequestLatencyMax = ("request-latency-max", Gauge, "The maximum request latency in ms");
    RequestRate = ("request-rate", Gauge, "The number of requests sent per second");
    RequestTotal = ("request-total", Counter, "The total number of requests sent");
    BatchSizeAvg = ("batch-size-avg", Gauge, "The average number of bytes sent per partition per-request.");
    BatchSizeMax = ("batch-size-max", Gauge, "The max number of bytes sent per partition per-request.");
    CompressionRateAvg = ("compression-rate-avg", Gauge, "The average compression rate of record batches, defined as the average ratio of the compressed batch size over the uncompressed size.");
    RecordsPerRequestAvg = ("records-per-request-avg", Gauge, "The average number of records per request.");
    RecordQueueTimeAvg = ("record-queue-time-avg", Gauge, "The average time in ms record batches spent in the send buffer.");
    RecordQueueTimeMax = ("record-queue-time-max", Gauge, "The maximum time in ms record batches spent in the send buffer.");
    RecordSizeAvg = ("record-size-avg", Gauge, "The average record size");
    RecordSizeMax = ("record-size-max", Gauge, "The maximum record size");
    BufferAvailableBytes = ("buffer-available-bytes", Gauge, "The total amount of buffer memory that is not being used (either unallocated or in the free list).");
    BufferTotalBytes = ("buffer-total-bytes", Gauge, "The maximum amount of buffer memory the client can use (whether or not it is currently used).");
    WaitingThreads = ("waiting-threads", Gauge, "The number of user threads blocked waiting for buffer memory to enqueue their records");
    BufferpoolWaitTimeNsTotal = ("bufferpool-wait-time-ns-total", Counter, "The total time in nanoseconds an appender waits for space allocation.");
    BufferpoolWaitRatio = ("bufferpool-wait-ratio", Gauge, "The fraction of time an appender waits for space allocation.");
    BufferExhaustedRate = ("buffer-exhausted-rate", Gauge, "The average per-second number of record sends that are dropped due to buffer exhaustion");
    BufferExhaustedTotal = ("buffer-exhausted-total", Counter, "The total number of record sends that are dropped due to buffer exhaustion");
    FlushTimeNsTotal = ("flush-time-ns-total", Counter, "Total time producer has spent in flush in nanoseconds.");
    MetadataWaitTimeNsTotal = ("metadata-wait-time-ns-total", Counter, "Total time producer has spent waiting on topic metadata in nanoseconds.");
    TxnInitTimeNsTotal = ("txn-init-time-ns-total", Counter, "Total time producer has spent in initTransactions in nanoseconds.");
    TxnBeginTimeNsTotal = ("txn-begin-time-ns-total", Counter, "Total time producer has spent in beginTransaction in nanoseconds.");
    TxnSendOffsetsTimeNsTotal = ("txn-send-offsets-time-ns-total", Counter, "Total time producer has spent in sendOffsetsToTransaction in nanoseconds.");
    TxnCommitTimeNsTotal = ("txn-commit-time-ns-total", Counter, "Total time producer has spent in commitTransaction in nanoseconds.");
    TxnAbortTimeNsTotal = ("txn-abort-time-ns-total", Counter, "Total time producer has spent in abortTransaction in nanoseconds.");
    ProduceThrottleTimeAvg = ("produce-throttle-time-avg", Gauge, "The average time in ms a request was throttled by a broker");
    ProduceThrottleTimeMax = ("produce-throttle-time-max", Gauge, "The maximum time in ms a request was throttled by a broker");
    OutgoingByteRate = ("outgoing-byte-rate", Gauge, "The number of outgoing bytes sent to all servers per second");
    OutgoingByteTotal = ("outgoing-byte-total", Counter, "The total number of outgoing bytes sent to all servers");
    BatchSplitTotal = ("batch-split-total", Counter, "The total number of batch splits");
    ConnectionCreationTotal = ("connection-creation-total", Counter, "The total number of new connections established");
    ConnectionCloseTotal = ("connection-close-total", Counter, "The total number of connections closed");
    ConnectionCreationRate = ("connection-creation-rate", Gauge, "The number of new connections established per second");
    ConnectionCloseRate = ("connection-close-rate", Gauge, "The number of connections closed per second");
    ConnectionCount = ("connection-count", Gauge, "The current number of active connections.");
    BatchSplitRate = ("batch-split-rate", Gauge, "The average number of batch splits per second");
    RequestsInFlight = ("requests-in-flight", Gauge, "The current number of in-flight requests awaiting a response.");
    MetadataAge = ("metadata-age", Gauge, "The age in seconds of the current producer metadata being used.");
    IncomingByteRate = ("incoming-byte-rate", Gauge, "The number of bytes read off all sockets per second");
    IncomingByteTotal = ("incoming-byte-total", Counter, "The total number of bytes read off all sockets");
    ResponseRate = ("response-rate", Gauge, "The number of responses received per second");
    ResponseTotal = ("response-total", Counter, "The total number of responses received");
    ByteRate = ("byte-rate", Gauge, "The average number of bytes sent per second for a topic.");
    ByteTotal = ("byte-total", Counter, "The total number of bytes sent for a topic.");
    RequestSizeAvg = ("request-size-avg", Gauge, "The average size of requests sent.");
    RequestSizeMax = ("request-size-max", Gauge, "The maximum size of any request sent.");
    NetworkIoRate = ("network-io-rate", Gauge, "The number of network operations (reads or writes) on all connections per second");
    NetworkIoTotal = ("network-io-total", Counter, "The total number of network operations (reads or writes) on all connections");
    SuccessfulAuthenticationRate = ("successful-authentication-rate", Gauge, "The number of connections with successful authentication per second");
    SuccessfulAuthenticationTotal = ("successful-authentication-total", Counter, "The total number of connections with successful authentication");
    SuccessfulAuthenticationNoReauthTotal = ("successful-authentication-no-reauth-total", Counter, "The total number of connections with successful authentication where the client does not support re-authentication");
    FailedAuthenticationRate = ("failed-authentication-rate", Gauge, "The number of connections with failed authentication per second");
    FailedAuthenticationTotal = ("failed-authentication-total", Counter, "The total number of connections with failed authentication");
    SuccessfulReauthenticationRate = ("successful-reauthentication-rate", Gauge, "The number of successful re-authentication of connections per second");
    SuccessfulReauthenticationTotal = ("successful-reauthentication-total", Counter, "The total number of successful re-authentication of connections");
    FailedReauthenticationRate = ("failed-reauthentication-rate", Gauge, "The number of failed re-authentication of connections per second");
    FailedReauthenticationTotal = ("failed-reauthentication-total", Counter, "The total number of failed re-authentication of connections");
    ReauthenticationLatencyMax = ("reauthentication-latency-max", Gauge, "The max latency observed due to re-authentication");
    ReauthenticationLatencyAvg = ("reauthentication-latency-avg", Gauge, "The average latency observed due to re-authentication");
    SelectRate = ("select-rate", Gauge, "The number of times the I/O layer checked for new I/O to perform per second");
    SelectTotal = ("select-total", Counter, "The total number of times the I/O layer checked for new I/O to perform");
    IoWaitTimeNsAvg = ("io-wait-time-ns-avg", Gauge, "The average length of time the I/O thread spent waiting for a socket ready for reads or writes in nanoseconds.");
    IoWaitTimeNsTotal = ("io-wait-time-ns-total", Counter, "The total time the I/O thread spent waiting");
    IoWaitRatio = ("io-wait-ratio", Gauge, "The fraction of time the I/O thread spent waiting");
    IoTimeNsAvg = ("io-time-ns-avg", Gauge, "The average length of time for I/O per select call in nanoseconds.");
    IoTimeNsTotal = ("io-time-ns-total", Counter, "The total time the I/O thread spent doing I/O");
    IoRatio = ("io-ratio", Gauge, "The fraction of time the I/O thread spent doing I/O");
    CompressionRate = ("compression-rate", Gauge, "The average compression rate of record batches for a topic, defined as the average ratio of the compressed batch size over the uncompressed size.");
}

/// Collects [`MetricValue`]s of one group with the same tags.
struct Collect<'a> {
    out: &'a mut Vec<MetricValue>,
    group: &'static str,
    tags: Vec<(&'static str, String)>,
}

impl Collect<'_> {
    fn add(&mut self, name: Name, value: f64) {
        self.out.push(MetricValue {
            group: self.group,
            name: name.name(),
            description: name.description(),
            tags: self.tags.clone(),
            kind: name.kind(),
            value,
        });
    }
}

impl MetricsSnapshot {
    /// Every metric as the Java client lists it: the `producer-metrics` group,
    /// then `producer-topic-metrics` per topic and `producer-node-metrics` per
    /// broker, each tagged `client-id` (the values KIP-714 telemetry and the
    /// facade publish).
    pub fn metric_values(&self) -> Vec<MetricValue> {
        let mut out = Vec::with_capacity(88 + 9 * self.topics.len() + 12 * self.nodes.len());
        let client = ("client-id", self.client_id.clone());
        let mut m = Collect {
            out: &mut out,
            group: PRODUCER_GROUP,
            tags: vec![client.clone()],
        };
        m.add(Name::RecordSendRate, self.record_send_rate);
        m.add(Name::RecordSendTotal, self.record_send_total as f64);
        m.add(Name::RecordErrorRate, self.record_error_rate);
        m.add(Name::RecordErrorTotal, self.record_error_total as f64);
        m.add(Name::RecordRetryRate, self.record_retry_rate);
        m.add(Name::RecordRetryTotal, self.record_retry_total as f64);
        m.add(Name::RequestLatencyAvg, self.request_latency_avg_ms);
        m.add(Name::RequestLatencyMax, self.request_latency_max_ms);
        m.add(Name::RequestRate, self.request_rate);
        m.add(Name::RequestTotal, self.request_total as f64);
        m.add(Name::BatchSizeAvg, self.batch_size_avg);
        m.add(Name::BatchSizeMax, self.batch_size_max);
        m.add(Name::CompressionRateAvg, self.compression_rate_avg);
        m.add(Name::RecordsPerRequestAvg, self.records_per_request_avg);
        m.add(Name::RecordQueueTimeAvg, self.record_queue_time_avg_ms);
        m.add(Name::RecordQueueTimeMax, self.record_queue_time_max_ms);
        m.add(Name::RecordSizeAvg, self.record_size_avg);
        m.add(Name::RecordSizeMax, self.record_size_max);
        m.add(
            Name::BufferAvailableBytes,
            self.buffer_available_bytes as f64,
        );
        m.add(Name::BufferTotalBytes, self.buffer_total_bytes as f64);
        m.add(Name::WaitingThreads, self.waiting_appends as f64);
        m.add(
            Name::BufferpoolWaitTimeNsTotal,
            self.bufferpool_wait_time_total.as_nanos() as f64,
        );
        m.add(Name::BufferpoolWaitRatio, self.bufferpool_wait_ratio);
        m.add(Name::BufferExhaustedRate, self.buffer_exhausted_rate);
        m.add(
            Name::BufferExhaustedTotal,
            self.buffer_exhausted_total as f64,
        );
        for (name, total) in [
            (Name::FlushTimeNsTotal, self.flush_time_total),
            (Name::MetadataWaitTimeNsTotal, self.metadata_wait_time_total),
            (Name::TxnInitTimeNsTotal, self.txn_init_time_total),
            (Name::TxnBeginTimeNsTotal, self.txn_begin_time_total),
            (
                Name::TxnSendOffsetsTimeNsTotal,
                self.txn_send_offsets_time_total,
            ),
            (Name::TxnCommitTimeNsTotal, self.txn_commit_time_total),
            (Name::TxnAbortTimeNsTotal, self.txn_abort_time_total),
        ] {
            m.add(name, total.as_nanos() as f64);
        }
        m.add(
            Name::ProduceThrottleTimeAvg,
            self.produce_throttle_time_avg_ms,
        );
        m.add(
            Name::ProduceThrottleTimeMax,
            self.produce_throttle_time_max_ms,
        );
        m.add(Name::OutgoingByteRate, self.outgoing_byte_rate);
        m.add(Name::OutgoingByteTotal, self.outgoing_byte_total as f64);
        m.add(Name::BatchSplitTotal, self.batch_split_total as f64);
        m.add(
            Name::ConnectionCreationTotal,
            self.connection_creation_total as f64,
        );
        m.add(
            Name::ConnectionCloseTotal,
            self.connection_close_total as f64,
        );
        m.add(Name::ConnectionCreationRate, self.connection_creation_rate);
        m.add(Name::ConnectionCloseRate, self.connection_close_rate);
        m.add(Name::ConnectionCount, self.connection_count as f64);
        m.add(Name::BatchSplitRate, self.batch_split_rate);
        m.add(Name::RequestsInFlight, self.requests_in_flight as f64);
        if let Some(age) = self.metadata_age {
            m.add(Name::MetadataAge, age.as_secs_f64());
        }
        m.add(Name::IncomingByteRate, self.incoming_byte_rate);
        m.add(Name::IncomingByteTotal, self.incoming_byte_total as f64);
        m.add(Name::ResponseRate, self.response_rate);
        m.add(Name::ResponseTotal, self.response_total as f64);
        m.add(Name::RequestSizeAvg, self.request_size_avg);
        m.add(Name::RequestSizeMax, self.request_size_max);
        m.add(Name::NetworkIoRate, self.network_io_rate);
        m.add(Name::NetworkIoTotal, self.network_io_total as f64);
        m.add(Name::SelectRate, self.select_rate);
        m.add(Name::SelectTotal, self.select_total as f64);
        m.add(Name::IoWaitTimeNsAvg, self.io_wait_time_ns_avg);
        m.add(
            Name::IoWaitTimeNsTotal,
            self.io_wait_time_total.as_nanos() as f64,
        );
        m.add(Name::IoWaitRatio, self.io_wait_ratio);
        m.add(Name::IoTimeNsAvg, self.io_time_ns_avg);
        m.add(Name::IoTimeNsTotal, self.io_time_total.as_nanos() as f64);
        m.add(Name::IoRatio, self.io_ratio);
        m.add(
            Name::SuccessfulAuthenticationRate,
            self.successful_authentication_rate,
        );
        m.add(
            Name::SuccessfulAuthenticationTotal,
            self.successful_authentication_total as f64,
        );
        // A client never tells a broker it cannot re-authenticate: Java's
        // producer counts every first authentication here too.
        m.add(
            Name::SuccessfulAuthenticationNoReauthTotal,
            self.successful_authentication_total as f64,
        );
        m.add(
            Name::FailedAuthenticationRate,
            self.failed_authentication_rate,
        );
        m.add(
            Name::FailedAuthenticationTotal,
            self.failed_authentication_total as f64,
        );
        m.add(
            Name::SuccessfulReauthenticationRate,
            self.successful_reauthentication_rate,
        );
        m.add(
            Name::SuccessfulReauthenticationTotal,
            self.successful_reauthentication_total as f64,
        );
        m.add(
            Name::FailedReauthenticationRate,
            self.failed_reauthentication_rate,
        );
        m.add(
            Name::FailedReauthenticationTotal,
            self.failed_reauthentication_total as f64,
        );
        m.add(
            Name::ReauthenticationLatencyMax,
            self.reauthentication_latency_max,
        );
        m.add(
            Name::ReauthenticationLatencyAvg,
            self.reauthentication_latency_avg,
        );
        for (topic, t) in &self.topics {
            let mut m = Collect {
                out: &mut out,
                group: TOPIC_GROUP,
                tags: vec![client.clone(), ("topic", topic.clone())],
            };
            m.add(Name::RecordSendRate, t.record_send_rate);
            m.add(Name::RecordSendTotal, t.record_send_total as f64);
            m.add(Name::ByteRate, t.byte_rate);
            m.add(Name::ByteTotal, t.byte_total as f64);
            m.add(Name::CompressionRate, t.compression_rate);
            m.add(Name::RecordErrorRate, t.record_error_rate);
            m.add(Name::RecordErrorTotal, t.record_error_total as f64);
            m.add(Name::RecordRetryRate, t.record_retry_rate);
            m.add(Name::RecordRetryTotal, t.record_retry_total as f64);
        }
        for (node, n) in &self.nodes {
            let mut m = Collect {
                out: &mut out,
                group: NODE_GROUP,
                tags: vec![client.clone(), ("node-id", format!("node-{node}"))],
            };
            m.add(Name::RequestRate, n.request_rate);
            m.add(Name::RequestTotal, n.request_total as f64);
            m.add(Name::RequestLatencyAvg, n.request_latency_avg);
            m.add(Name::RequestLatencyMax, n.request_latency_max);
            m.add(Name::RequestSizeAvg, n.request_size_avg);
            m.add(Name::RequestSizeMax, n.request_size_max);
            m.add(Name::OutgoingByteRate, n.outgoing_byte_rate);
            m.add(Name::OutgoingByteTotal, n.outgoing_byte_total as f64);
            m.add(Name::IncomingByteRate, n.incoming_byte_rate);
            m.add(Name::IncomingByteTotal, n.incoming_byte_total as f64);
            m.add(Name::ResponseRate, n.response_rate);
            m.add(Name::ResponseTotal, n.response_total as f64);
        }
        out
    }
}

#[cfg(test)]
mod tests;
