//! KIP-714 client metrics: the producer pushes its metrics to a broker whose
//! client-metrics subscriptions ask for them (`enable.metrics.push`, on by
//! default as in Java 3.7+).
//!
//! [`ClientTelemetry`] is the state machine of Java's `ClientTelemetryReporter`,
//! without I/O: the sender's loop asks it for the next request
//! ([`ClientTelemetry::poll`]) and hands it the answers; it never holds up a
//! Produce request (its requests are futures on the sender's event set like any
//! other). The steps:
//!
//! 1. GetTelemetrySubscriptions with the zero client instance id (the broker
//!    assigns one), later with the assigned one.
//! 2. A subscription with requested metrics: a push after the push interval
//!    (the first one jittered to 0.5–1.5 intervals, as Java, so a fleet of
//!    clients does not push in step), then every interval. No requested
//!    metrics: ask again after the interval.
//! 3. Each push is an OpenTelemetry `MetricsData` protobuf of the metrics whose
//!    names start with a requested prefix, named `org.apache.kafka.producer.` +
//!    the Java metric name with dots (`record.queue.time.avg`), counters as sums
//!    (delta or cumulative as the subscription says) and the rest as gauges,
//!    compressed with the first codec the broker accepts.
//! 4. Errors as the KIP says: `UNKNOWN_SUBSCRIPTION_ID` and
//!    `UNSUPPORTED_COMPRESSION_TYPE` fetch the subscription again at once;
//!    throttling and `TELEMETRY_TOO_LARGE` fetch it again after the interval;
//!    `INVALID_REQUEST`, `INVALID_RECORD` and `UNSUPPORTED_VERSION` stop
//!    telemetry for this producer; network errors retry after the interval;
//!    an answer's quota throttle (`throttle_time_ms`) holds the next request
//!    back at least that long.
//! 5. On close, one last push with `terminating = true`.

pub(crate) mod otlp;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prost::Message as _;
use tokio::time::Instant;

use crate::metrics::{MetricKind, MetricsSnapshot};
use crate::network::NetworkError;
use crate::protocol::Uuid;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::{
    GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse, PushTelemetryRequest,
    PushTelemetryResponse,
};
use crate::record_batch::Compression;
use otlp::{
    AggregationTemporality, Gauge, KeyValue, Metric, MetricData, MetricsData, NumberDataPoint,
    NumberValue, Resource, ResourceMetrics, ScopeMetrics, Sum,
};

/// Java's `ClientTelemetryReporter.DEFAULT_PUSH_INTERVAL_MS`: how long to wait
/// when no subscription says (errors before the first subscription).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// The broker's "all metrics" marker (`ClientMetricsConfigs.ALL_SUBSCRIBED_METRICS`).
const ALL_METRICS: &str = "*";

/// What a subscription asks of this client.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Subscription {
    pub id: i32,
    pub requested_metrics: Vec<String>,
    pub push_interval: Duration,
    pub delta_temporality: bool,
    pub accepted_compression_types: Vec<i8>,
    pub telemetry_max_bytes: i32,
}

impl Subscription {
    /// Whether a metric named `name` is asked for, as Java's
    /// `getSelectorFromRequestedMetrics` reads the list: empty asks for none,
    /// exactly `["*"]` for all, else a name prefix must match (an empty one
    /// matches all).
    pub fn wants(&self, name: &str) -> bool {
        if let [only] = self.requested_metrics.as_slice()
            && only == ALL_METRICS
        {
            return true;
        }
        self.requested_metrics
            .iter()
            .any(|prefix| name.starts_with(prefix.as_str()))
    }

    fn wants_any(&self) -> bool {
        !self.requested_metrics.is_empty()
    }

    /// The first codec the broker accepts (it lists them in its order of
    /// preference; `none` included, as Java's `preferredCompressionType`
    /// takes it), ids this client does not know skipped; none without any.
    pub fn compression(&self) -> Compression {
        self.accepted_compression_types
            .iter()
            .filter(|&&id| (0..=4).contains(&id))
            .find_map(|&id| Compression::from_attribute_bits(i16::from(id)).ok())
            .unwrap_or(Compression::None)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Ask for the subscription at `next_at`.
    SubscriptionNeeded,
    /// Push at `next_at`.
    PushNeeded,
    /// A request is under way.
    InFlight,
    /// The terminating push is due (close).
    TerminatingPushNeeded,
    /// The terminating push is under way.
    TerminatingInFlight,
    /// Nothing more: disabled by the broker's answer, or closed.
    Terminated,
}

/// The next telemetry request to send, if any.
#[derive(Debug)]
pub(crate) enum Step {
    /// Nothing to send; look again at this instant (or when woken).
    Wait(Option<Instant>),
    Subscribe(GetTelemetrySubscriptionsRequest),
    Push(PushTelemetryRequest),
}

/// The producer's KIP-714 state, owned by the sender.
#[derive(Debug)]
pub(crate) struct ClientTelemetry {
    state: State,
    next_at: Instant,
    client_instance_id: Uuid,
    subscription: Option<Subscription>,
    collector: Collector,
    resource: Vec<KeyValue>,
    /// The producer is closing: the answer under way leads to the
    /// terminating push (or to the end).
    closing: bool,
}

impl ClientTelemetry {
    /// A client that asks for its subscription at once. `transactional_id`
    /// becomes a resource attribute, as Java's `ClientTelemetryProvider` adds it.
    pub fn new(transactional_id: Option<&str>, now: Instant) -> ClientTelemetry {
        ClientTelemetry {
            state: State::SubscriptionNeeded,
            next_at: now,
            client_instance_id: Uuid::ZERO,
            subscription: None,
            collector: Collector::new(SystemTime::now()),
            resource: transactional_id
                .map(|id| vec![KeyValue::string("transactional_id", id)])
                .unwrap_or_default(),
            closing: false,
        }
    }

    /// The id the broker assigned to this client instance, once it has.
    pub fn client_instance_id(&self) -> Option<Uuid> {
        (!self.client_instance_id.is_zero()).then_some(self.client_instance_id)
    }

    /// Whether a request is under way.
    #[cfg(test)]
    pub fn in_flight(&self) -> bool {
        matches!(self.state, State::InFlight | State::TerminatingInFlight)
    }

    /// Whether nothing more will be sent.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// `Ok` when a request is due at `now`, else when one will be (`None`:
    /// after an answer, or never).
    pub fn due(&self, now: Instant) -> Result<(), Option<Instant>> {
        match self.state {
            State::InFlight | State::TerminatingInFlight | State::Terminated => Err(None),
            State::SubscriptionNeeded | State::PushNeeded if now < self.next_at => {
                Err(Some(self.next_at))
            }
            _ => Ok(()),
        }
    }

    /// The next request to send at `now`; `snapshot` is read only for a push.
    pub fn poll(&mut self, now: Instant, snapshot: impl FnOnce() -> MetricsSnapshot) -> Step {
        match self.state {
            State::InFlight | State::TerminatingInFlight | State::Terminated => Step::Wait(None),
            State::SubscriptionNeeded | State::PushNeeded if now < self.next_at => {
                Step::Wait(Some(self.next_at))
            }
            State::SubscriptionNeeded => {
                self.state = State::InFlight;
                Step::Subscribe(GetTelemetrySubscriptionsRequest {
                    client_instance_id: self.client_instance_id,
                })
            }
            State::PushNeeded => match self.push_request(false, &snapshot()) {
                Some(request) => {
                    self.state = State::InFlight;
                    Step::Push(request)
                }
                None => self.resubscribe(now, Duration::ZERO),
            },
            State::TerminatingPushNeeded => match self.push_request(true, &snapshot()) {
                Some(request) => {
                    self.state = State::TerminatingInFlight;
                    Step::Push(request)
                }
                None => {
                    self.state = State::Terminated;
                    Step::Wait(None)
                }
            },
        }
    }

    /// The producer closes: a terminating push is due if metrics are being
    /// pushed (after the request under way, if any); otherwise telemetry ends.
    pub fn close(&mut self) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.state = match self.state {
            // The answer under way decides (`on_subscription` / `on_push`).
            State::InFlight
            | State::TerminatingPushNeeded
            | State::TerminatingInFlight
            | State::Terminated => self.state,
            State::PushNeeded | State::SubscriptionNeeded => self.after_close(),
        };
    }

    /// Where a closing client goes once nothing is under way.
    fn after_close(&self) -> State {
        if self
            .subscription
            .as_ref()
            .is_some_and(Subscription::wants_any)
        {
            State::TerminatingPushNeeded
        } else {
            State::Terminated
        }
    }

    /// The connection chosen cannot carry telemetry (the broker does not
    /// advertise both APIs): look again after an interval.
    pub fn unsupported_here(&mut self, now: Instant) {
        if self.state == State::InFlight {
            self.state = State::SubscriptionNeeded;
        }
        self.next_at = now + self.interval();
    }

    /// The answer to GetTelemetrySubscriptions.
    pub fn on_subscription(
        &mut self,
        result: Result<GetTelemetrySubscriptionsResponse, NetworkError>,
        now: Instant,
    ) {
        let throttle = result.as_ref().map_or(0, |r| r.throttle_time_ms);
        self.subscription_answered(result, now);
        self.respect_throttle(throttle, now);
    }

    /// The answer to PushTelemetry.
    pub fn on_push(&mut self, result: Result<PushTelemetryResponse, NetworkError>, now: Instant) {
        let throttle = result.as_ref().map_or(0, |r| r.throttle_time_ms);
        self.push_answered(result, now);
        self.respect_throttle(throttle, now);
    }

    /// KIP-219 for telemetry: nothing more to this client's brokers before a
    /// quota throttle given in an answer has passed.
    fn respect_throttle(&mut self, throttle_time_ms: i32, now: Instant) {
        let Ok(ms) = u64::try_from(throttle_time_ms) else {
            return;
        };
        if ms > 0 && matches!(self.state, State::SubscriptionNeeded | State::PushNeeded) {
            self.next_at = self.next_at.max(now + Duration::from_millis(ms));
        }
    }

    fn subscription_answered(
        &mut self,
        result: Result<GetTelemetrySubscriptionsResponse, NetworkError>,
        now: Instant,
    ) {
        let closing = self.closing;
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(%error, "GetTelemetrySubscriptions failed; trying again later");
                self.retry_subscription(now, closing);
                return;
            }
        };
        if !response.error_code.is_ok() {
            let code = response.error_code;
            tracing::debug!(error = %code, "GetTelemetrySubscriptions refused");
            match refusal(code) {
                Refusal::Final => {
                    tracing::warn!(error = %code, "the broker refused this client's telemetry subscription; metrics push stops");
                    self.terminate(code.name());
                }
                Refusal::SubscribeAgainNow => self.after_push_error(now, Duration::ZERO, closing),
                Refusal::SubscribeAgainLater => self.retry_subscription(now, closing),
            }
            return;
        }
        if !response.client_instance_id.is_zero() {
            self.client_instance_id = response.client_instance_id;
        }
        if self.client_instance_id.is_zero() {
            tracing::warn!("the broker assigned no client instance id; telemetry stops");
            self.terminate("no client instance id");
            return;
        }
        let interval_ms = u64::try_from(response.push_interval_ms).unwrap_or(0);
        let subscription = Subscription {
            id: response.subscription_id,
            requested_metrics: response.requested_metrics,
            push_interval: if interval_ms == 0 {
                DEFAULT_INTERVAL
            } else {
                Duration::from_millis(interval_ms)
            },
            delta_temporality: response.delta_temporality,
            accepted_compression_types: response.accepted_compression_types,
            telemetry_max_bytes: response.telemetry_max_bytes,
        };
        let interval = subscription.push_interval;
        let pushing = subscription.wants_any();
        tracing::debug!(
            client_instance_id = %self.client_instance_id,
            subscription_id = subscription.id,
            ?interval,
            metrics = ?subscription.requested_metrics,
            "telemetry subscription"
        );
        if pushing
            && self.subscription.as_ref().map(|s| s.delta_temporality)
                != Some(subscription.delta_temporality)
        {
            // A new temporality starts a new series.
            self.collector.reset();
        }
        self.subscription = Some(subscription);
        if closing {
            self.state = self.after_close();
        } else if pushing {
            self.state = State::PushNeeded;
            // Java's jitter: the first push at 0.5–1.5 intervals.
            self.next_at = now + interval.mul_f64(0.5 + fastrand::f64());
        } else {
            self.state = State::SubscriptionNeeded;
            self.next_at = now + interval;
        }
    }

    fn push_answered(&mut self, result: Result<PushTelemetryResponse, NetworkError>, now: Instant) {
        let closing = self.closing;
        if self.state == State::TerminatingInFlight {
            match &result {
                Ok(r) if r.error_code.is_err() => {
                    tracing::debug!(error = %r.error_code, "the terminating telemetry push was refused")
                }
                Err(error) => tracing::debug!(%error, "the terminating telemetry push failed"),
                Ok(_) => tracing::debug!("terminating telemetry pushed"),
            }
            self.state = State::Terminated;
            return;
        }
        let code = match result {
            Ok(response) => response.error_code,
            Err(error) => {
                tracing::debug!(%error, "PushTelemetry failed; trying again later");
                self.state = if closing {
                    self.after_close()
                } else {
                    State::PushNeeded
                };
                self.next_at = now + self.interval();
                return;
            }
        };
        match code {
            ErrorCode::NONE => {
                self.state = if closing {
                    self.after_close()
                } else {
                    State::PushNeeded
                };
                self.next_at = now + self.interval();
            }
            code => match refusal(code) {
                Refusal::Final => {
                    tracing::warn!(error = %code, "the broker refused this client's metrics; metrics push stops");
                    self.terminate(code.name());
                }
                Refusal::SubscribeAgainNow => {
                    tracing::debug!(error = %code, "telemetry subscription changed; fetching it again");
                    self.after_push_error(now, Duration::ZERO, closing);
                }
                Refusal::SubscribeAgainLater => {
                    tracing::debug!(error = %code, "PushTelemetry refused; fetching the subscription again later");
                    let interval = self.interval();
                    self.after_push_error(now, interval, closing);
                }
            },
        }
    }

    fn after_push_error(&mut self, now: Instant, wait: Duration, closing: bool) {
        if closing {
            // No time to fetch a subscription again: the close goes on.
            self.state = State::Terminated;
        } else {
            self.state = State::SubscriptionNeeded;
            self.next_at = now + wait;
        }
    }

    fn retry_subscription(&mut self, now: Instant, closing: bool) {
        // (Also a failed request: the broker may be back later.)
        if closing {
            self.state = State::Terminated;
        } else {
            self.state = State::SubscriptionNeeded;
            self.next_at = now + self.interval();
        }
    }

    fn resubscribe(&mut self, now: Instant, wait: Duration) -> Step {
        self.state = State::SubscriptionNeeded;
        self.next_at = now + wait;
        Step::Wait(Some(self.next_at))
    }

    fn terminate(&mut self, why: &str) {
        tracing::debug!(why, "client telemetry stops");
        self.state = State::Terminated;
    }

    fn interval(&self) -> Duration {
        self.subscription
            .as_ref()
            .map_or(DEFAULT_INTERVAL, |s| s.push_interval)
    }

    /// A push of the requested metrics, `None` without a subscription that
    /// asks for some.
    fn push_request(
        &mut self,
        terminating: bool,
        snapshot: &MetricsSnapshot,
    ) -> Option<PushTelemetryRequest> {
        let subscription = self.subscription.as_ref().filter(|s| s.wants_any())?;
        let data =
            self.collector
                .collect(snapshot, subscription, &self.resource, SystemTime::now());
        let (compression_type, metrics) = payload(&data, subscription.compression());
        Some(PushTelemetryRequest {
            client_instance_id: self.client_instance_id,
            subscription_id: subscription.id,
            terminating,
            compression_type,
            metrics,
        })
    }
}

/// The protobuf of `data`, compressed with `compression` (uncompressed, and
/// said so, if the codec fails).
pub(crate) fn payload(data: &MetricsData, compression: Compression) -> (i8, Bytes) {
    let raw = data.encode_to_vec();
    if compression == Compression::None {
        return (0, Bytes::from(raw));
    }
    let mut out = Vec::with_capacity(compression.max_compressed_len(raw.len()));
    match compression.compress(&raw, &mut out) {
        Ok(()) => (compression.attribute_bits() as i8, Bytes::from(out)),
        Err(error) => {
            tracing::debug!(%error, codec = %compression, "cannot compress telemetry; sent uncompressed");
            (0, Bytes::from(raw))
        }
    }
}

/// How a metric is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A monotonic counter (Java's `-total` metrics): an OTLP sum.
    Counter,
    /// A current value (averages, maxima, levels): an OTLP gauge.
    Gauge,
}

/// A metric's Java tags but `client-id`: (tag, value).
type Tags = Vec<(&'static str, String)>;

/// One value of one metric, as the Java client names it.
#[derive(Clone, Debug, PartialEq)]
struct Point {
    /// The Java metric group (`producer-metrics`, `producer-node-metrics`,
    /// `producer-topic-metrics`).
    group: &'static str,
    /// The Java metric name (`record-send-total`).
    name: &'static str,
    kind: Kind,
    value: f64,
    /// The Java tags but `client-id` (`node-id`, `topic`), sent as data
    /// point attributes with `_` for `-` (`node_id`).
    tags: Tags,
}

impl Point {
    #[cfg(test)]
    fn producer(name: &'static str, kind: Kind, value: f64) -> Point {
        Point {
            group: crate::metrics::PRODUCER_GROUP,
            name,
            kind,
            value,
            tags: Vec::new(),
        }
    }
}

/// The producer's metrics with their Java groups, names and tags, as
/// [`MetricsSnapshot::metric_values`] lists them (the one source the facade
/// publishes from too), but `client-id`, which the resource carries. An
/// average or maximum with nothing recorded in its windows (NaN in Java) is
/// left out.
fn producer_metrics(s: &MetricsSnapshot) -> Vec<Point> {
    s.metric_values()
        .into_iter()
        .filter(|metric| metric.value.is_finite())
        .map(|metric| Point {
            group: metric.group,
            name: metric.name,
            kind: match metric.kind {
                MetricKind::Counter => Kind::Counter,
                MetricKind::Gauge => Kind::Gauge,
            },
            value: metric.value,
            tags: metric
                .tags
                .into_iter()
                .filter(|(tag, _)| *tag != "client-id")
                .collect(),
        })
        .collect()
}

/// KIP-714's name of a Java metric (Java's `TelemetryMetricNamingConvention`):
/// `org.apache.kafka.` + the group without `-metrics` + `.` + the name, `-`
/// as `.` throughout: `producer-node-metrics` / `request-latency-avg` is
/// `org.apache.kafka.producer.node.request.latency.avg`.
pub(crate) fn telemetry_name(group: &str, name: &str) -> String {
    let group = group.strip_suffix("-metrics").unwrap_or(group);
    let dotted = |text: &str| text.replace('-', ".");
    format!("org.apache.kafka.{}.{}", dotted(group), dotted(name))
}

/// Turns snapshots into `MetricsData`, remembering what delta sums need.
#[derive(Debug)]
struct Collector {
    /// When the producer started: a cumulative sum's start time.
    started: SystemTime,
    /// The previous collection: a delta sum's start time.
    last: Option<SystemTime>,
    /// Counter values at the previous collection, by name and tags, for deltas.
    last_values: HashMap<(String, Tags), f64>,
}

impl Collector {
    fn new(started: SystemTime) -> Collector {
        Collector {
            started,
            last: None,
            last_values: HashMap::new(),
        }
    }

    fn reset(&mut self) {
        self.last = None;
        self.last_values.clear();
    }

    fn collect(
        &mut self,
        snapshot: &MetricsSnapshot,
        subscription: &Subscription,
        resource: &[KeyValue],
        now: SystemTime,
    ) -> MetricsData {
        self.collect_points(producer_metrics(snapshot), subscription, resource, now)
    }

    fn collect_points(
        &mut self,
        points: Vec<Point>,
        subscription: &Subscription,
        resource: &[KeyValue],
        now: SystemTime,
    ) -> MetricsData {
        let nanos = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        };
        let time_unix_nano = nanos(now);
        let delta = subscription.delta_temporality;
        let start = if delta {
            self.last.unwrap_or(self.started)
        } else {
            self.started
        };
        // One OTLP metric per name, one data point per tag set, in table order.
        let mut metrics: Vec<Metric> = Vec::new();
        for point in points {
            let name = telemetry_name(point.group, point.name);
            let previous = match point.kind {
                Kind::Counter => self
                    .last_values
                    .insert((name.clone(), point.tags.clone()), point.value),
                Kind::Gauge => None,
            };
            if !subscription.wants(&name) {
                continue;
            }
            let attributes = point
                .tags
                .iter()
                .map(|(key, value)| KeyValue::string(&key.replace('-', "_"), value))
                .collect();
            let (value, start_time_unix_nano) = match point.kind {
                Kind::Gauge => (point.value, 0),
                // A counter that went back (cannot happen for these) reports
                // its whole value.
                Kind::Counter if delta => (
                    point.value - previous.filter(|p| *p <= point.value).unwrap_or(0.0),
                    nanos(start),
                ),
                Kind::Counter => (point.value, nanos(start)),
            };
            let data_point = NumberDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                value: Some(NumberValue::AsDouble(value)),
            };
            match metrics.iter_mut().find(|m| m.name == name) {
                Some(Metric {
                    data: Some(MetricData::Gauge(Gauge { data_points })),
                    ..
                })
                | Some(Metric {
                    data: Some(MetricData::Sum(Sum { data_points, .. })),
                    ..
                }) => data_points.push(data_point),
                _ => metrics.push(Metric {
                    name,
                    description: String::new(),
                    unit: String::new(),
                    data: Some(match point.kind {
                        Kind::Gauge => MetricData::Gauge(Gauge {
                            data_points: vec![data_point],
                        }),
                        Kind::Counter => MetricData::Sum(Sum {
                            data_points: vec![data_point],
                            aggregation_temporality: if delta {
                                AggregationTemporality::Delta
                            } else {
                                AggregationTemporality::Cumulative
                            } as i32,
                            is_monotonic: true,
                        }),
                    }),
                }),
            }
        }
        self.last = Some(now);
        MetricsData {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: resource.to_vec(),
                    dropped_attributes_count: 0,
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: None,
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }
}

/// What a telemetry refusal means (Java's
/// `ClientTelemetryUtils.maybeFetchErrorIntervalMs`, for both requests).
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// A request trying again cannot fix, or a code Java does not know:
    /// telemetry stops.
    Final,
    /// The subscription changed: fetch it again at once.
    SubscribeAgainNow,
    /// Too large or throttled: fetch the subscription again after the
    /// push interval.
    SubscribeAgainLater,
}

fn refusal(code: ErrorCode) -> Refusal {
    match code {
        ErrorCode::UNKNOWN_SUBSCRIPTION_ID | ErrorCode::UNSUPPORTED_COMPRESSION_TYPE => {
            Refusal::SubscribeAgainNow
        }
        ErrorCode::TELEMETRY_TOO_LARGE | ErrorCode::THROTTLING_QUOTA_EXCEEDED => {
            Refusal::SubscribeAgainLater
        }
        // INVALID_REQUEST, INVALID_RECORD, UNSUPPORTED_VERSION, and every
        // unmapped code ("Unmapped error for telemetry, disable telemetry").
        _ => Refusal::Final,
    }
}

#[cfg(test)]
mod tests;
