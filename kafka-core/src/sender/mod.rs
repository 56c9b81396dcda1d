//! The `Sender`: one tokio task per producer, on the producer's network
//! thread, that turns ready batches into Produce requests (Java's `Sender`
//! with its `NetworkClient`).
//!
//! The task is a coordinator: each turn of its loop it refreshes metadata when
//! needed, obtains a producer id (idempotence), fails batches past
//! `delivery.timeout.ms`, asks the accumulator which brokers lead a ready batch
//! (`ready`), and for every such broker whose [`sink`] may take a request
//! drains the head batch of each of its partitions (`drain`) into one
//! multi-partition ProduceRequest. It never awaits a socket: writes, answers,
//! connections and metadata answers are all futures on one
//! `FuturesUnordered`, handled as events, so a broker that stops reading or
//! answering holds back only its own partitions.
//!
//! Files: `sink.rs` (per-broker state: connection, writer, in-flight limit,
//! KIP-219 mute), `link.rs` (the connection seam the unit tests fill with an
//! in-memory broker), `tests.rs` (one test per decision).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{Notify, SetOnce};
use tokio::time::Instant;

use crate::accumulator::{BatchOutcome, ProducerBatch, RecordAccumulator, exponential_backoff};
use crate::config::{MetadataRecoveryStrategy, ProducerConfig};
use crate::error::KafkaError;
use crate::metadata::{Cluster, FetchFailure, Metadata};
use crate::metrics::{
    BufferState, MetricValue, MetricsSnapshot, Peaks, ProducerMetrics, SentBatch, Traffic,
};
use crate::network::{ConnectionOptions, NetworkError};
use crate::protocol::ApiKey;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::{
    InitProducerIdRequest, InitProducerIdResponse, MetadataRequest, MetadataResponse,
    ProducePartitionResponse, ProduceResponse,
};
use crate::transaction_manager::{NO_PRODUCER_ID, PidState, TransactionManager, TxnShared};

mod link;
mod sink;
mod telemetry;
#[cfg(test)]
mod tests;
mod txn;
mod txn_settle;

pub(crate) use link::Connector;
use link::{Answer, Link, TcpConnector};
use sink::Sink;
use telemetry::TelemetryEvent;
use txn::{TxnDriver, TxnEvent};

/// State shared by the producer handle (`send`) and the sender task.
#[derive(Debug)]
pub(crate) struct ProducerShared {
    pub config: ProducerConfig,
    pub accumulator: RecordAccumulator,
    pub metadata: Metadata,
    pub metrics: Arc<ProducerMetrics>,
    pub wakeup: Arc<Notify>,
    /// The transaction state machine, for a producer with `transactional.id`.
    pub txn: Option<Arc<TxnShared>>,
    /// Set by a `close` whose timeout ran out: fail what is left and stop.
    pub force_close: AtomicBool,
    /// Set when the network thread has finished (for `close`, which awaits it).
    pub sender_done: SetOnce<()>,
    /// The same, for a drop, which blocks on it.
    pub sender_finished: Finished,
    /// KIP-714: the id a broker assigned to this client instance.
    pub client_instance_id: std::sync::OnceLock<crate::protocol::Uuid>,
    /// The network thread panicked and ended (sends are refused since).
    pub crashed: AtomicBool,
}

impl ProducerShared {
    /// The producer's metrics now.
    pub fn metrics_snapshot(&self) -> MetricsSnapshot {
        let pool = self.accumulator.pool();
        self.metrics.snapshot(BufferState {
            total: pool.total(),
            available: pool.available(),
            waiting: pool.waiters(),
        })
    }

    /// Every metric with its Java group, name and tags: the one place the
    /// facade publisher (and any other reporter, e.g. KIP-714 telemetry)
    /// reads the producer's metric values from.
    pub fn metric_values(&self) -> Vec<MetricValue> {
        self.metrics_snapshot().metric_values()
    }

    /// Publishes the metrics to the `metrics` facade.
    pub fn publish_metrics(&self) {
        self.metrics.publish(&self.metrics_snapshot());
    }
}

/// How often the network thread publishes the metrics to the `metrics` facade.
const PUBLISH_INTERVAL: Duration = Duration::from_secs(1);

/// Counts what was written to and read from `sink`'s connection since last
/// counted, and the quota throttles its responses gave.
fn count_outgoing(metrics: &ProducerMetrics, target: &Target, sink: &mut Sink) {
    let Some(link) = &sink.link else { return };
    let so_far = link.traffic();
    let new = so_far.since(sink.counted);
    sink.counted = so_far;
    let node = match target {
        Target::Node(id) => Some(*id),
        Target::Bootstrap(_) => None,
    };
    // The maxima are taken with counts to go with them: a request written
    // after the traffic was read keeps its size for the next count, which
    // has its bytes (taken now, it would be dropped with an empty count).
    let peaks = if new.requests > 0 || new.reauthenticated > 0 {
        link.take_peaks()
    } else {
        Peaks::default()
    };
    metrics.record_io(node, new, peaks);
    metrics.record_throttles(&link.take_throttles());
}

/// A flag set once that a thread can wait on with a timeout.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    done: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
    /// The thread that sets it.
    thread: std::sync::OnceLock<std::thread::ThreadId>,
}

impl Finished {
    /// Called by the thread that will set it.
    pub fn started_here(&self) {
        let _ = self.thread.set(std::thread::current().id());
    }

    /// Whether the calling thread is the one that sets it (waiting would never end).
    pub fn is_network_thread(&self) -> bool {
        self.thread.get() == Some(&std::thread::current().id())
    }

    pub fn set(&self) {
        *self.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.changed.notify_all();
    }

    /// Waits until set or `timeout` passes; whether it was set.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            let wait = match deadline {
                Some(at) => match at.checked_duration_since(std::time::Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return false,
                },
                None => Duration::from_secs(3600),
            };
            done = self
                .changed
                .wait_timeout(done, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

/// Where a connection goes: a broker by id, or a bootstrap address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Target {
    Node(i32),
    Bootstrap(String),
}

enum Event {
    Connected(Target, Result<Arc<dyn Link>, NetworkError>),
    Metadata(Target, Result<MetadataResponse, NetworkError>),
    ProducerId(Target, Result<InitProducerIdResponse, NetworkError>),
    /// A Produce request is on the socket (or failed to get there).
    Written {
        target: Target,
        batches: Vec<ProducerBatch>,
        sent_at: Instant,
        result: Result<Option<Answer>, NetworkError>,
    },
    Produced {
        target: Target,
        batches: Vec<ProducerBatch>,
        sent_at: Instant,
        result: Result<ProduceResponse, NetworkError>,
    },
    /// A transaction coordinator's (or group coordinator's) answer.
    Txn(TxnEvent),
    /// A KIP-714 telemetry answer.
    Telemetry(TelemetryEvent),
}

pub(crate) struct Sender {
    shared: Arc<ProducerShared>,
    /// `Some` when idempotence is on.
    tm: Option<TransactionManager>,
    /// `Some` for a transactional producer.
    txn: Option<TxnDriver>,
    /// One sink per broker (and per bootstrap address until the cluster is known).
    nodes: HashMap<Target, Sink>,
    bootstrap: Vec<String>,
    next_bootstrap: usize,
    /// A broker answered REBOOTSTRAP_REQUIRED, or no metadata came for
    /// `metadata.recovery.rebootstrap.trigger.ms` (KIP-1102): the next
    /// cluster-wide request goes to a bootstrap address.
    rebootstrap: bool,
    events: FuturesUnordered<BoxFuture<'static, Event>>,
    metadata_in_flight: bool,
    /// Since when metadata has been asked for without an answer applied
    /// (Java's `metadataAttemptStartMs`), for the rebootstrap trigger.
    metadata_attempt_started: Option<Instant>,
    pid_in_flight: bool,
    pid_retry_at: Option<Instant>,
    produce_in_flight: usize,
    connector: Arc<dyn Connector>,
    /// When the metrics are next published to the facade.
    next_publish: Instant,
    /// KIP-714 client metrics, with `enable.metrics.push`.
    telemetry: Option<crate::telemetry::ClientTelemetry>,
    /// At close: how long the terminating telemetry push may take.
    telemetry_close_deadline: Option<Instant>,
    /// The connection telemetry requests go to while it stays open (KIP-714,
    /// Java's `TelemetrySender.stickyNode`).
    telemetry_target: Option<Target>,
}

impl Sender {
    /// A sender that connects to brokers over TCP (TLS, SASL) as configured.
    pub fn new(shared: Arc<ProducerShared>) -> Self {
        let config = &shared.config;
        let options = ConnectionOptions {
            client_id: config.client_id().to_owned(),
            connect_timeout: config.socket_connection_setup_timeout(),
            security: config.security().connection().clone(),
            send_buffer_bytes: config.send_buffer_bytes(),
            receive_buffer_bytes: config.receive_buffer_bytes(),
            ..ConnectionOptions::default()
        };
        Self::with_connector(shared, Arc::new(TcpConnector { options }))
    }

    /// A sender that opens its connections with `connector`.
    pub fn with_connector(shared: Arc<ProducerShared>, connector: Arc<dyn Connector>) -> Self {
        let config = &shared.config;
        let mut sender = Sender {
            tm: match &shared.txn {
                Some(_) => Some(TransactionManager::transactional()),
                None => config.idempotence_enabled().then(TransactionManager::new),
            },
            txn: shared.txn.clone().map(TxnDriver::new),
            bootstrap: config.bootstrap_servers().to_vec(),
            shared,
            nodes: HashMap::new(),
            next_bootstrap: 0,
            rebootstrap: false,
            events: FuturesUnordered::new(),
            metadata_in_flight: false,
            metadata_attempt_started: None,
            pid_in_flight: false,
            pid_retry_at: None,
            produce_in_flight: 0,
            connector,
            next_publish: Instant::now(),
            telemetry: None,
            telemetry_close_deadline: None,
            telemetry_target: None,
        };
        sender.telemetry = sender.new_telemetry();
        sender
    }

    fn config(&self) -> &ProducerConfig {
        &self.shared.config
    }

    fn accumulator(&self) -> &RecordAccumulator {
        &self.shared.accumulator
    }

    /// The task's body; returns when the producer is closed and everything
    /// accepted has an outcome.
    pub async fn run(mut self) {
        let shared = self.shared.clone();
        loop {
            let now = Instant::now();
            if shared.force_close.load(Ordering::Acquire) {
                self.abort_all();
                break;
            }
            let acc = self.accumulator();
            // Unfinished batches are looked for before the sweep of the
            // queues' locks (no sweep while any remain) and again after it
            // (an append that found the producer open may have just added one).
            if acc.is_closed()
                && !acc.has_incomplete()
                && acc.appends_settled()
                && !acc.has_incomplete()
                && self.transaction_settled()
                && self.telemetry_settled(now)
            {
                break;
            }
            let mut next_wake = now + Duration::from_secs(5);
            if let Some(at) = self.telemetry_close_wake() {
                next_wake = next_wake.min(at);
            }
            if let Some(at) = self.close_idle_connections(now) {
                next_wake = next_wake.min(at);
            }

            if !self.metadata_in_flight
                && let Some(at) = shared.metadata.next_refresh(now)
            {
                if at <= now {
                    self.start_metadata_fetch(now);
                } else {
                    next_wake = next_wake.min(at);
                }
            }
            if let Some(at) = self.maybe_init_producer_id(now) {
                next_wake = next_wake.min(at);
            }
            self.expire_batches(now);
            if let Some(at) = self.drive_transaction(now) {
                next_wake = next_wake.min(at);
            }
            let cluster = shared.metadata.cluster();
            if let Some(at) = self.send_ready(&cluster, now) {
                next_wake = next_wake.min(at);
            }
            if let Some(at) = self.drive_telemetry(now) {
                next_wake = next_wake.min(at);
            }
            for sink in self.nodes.values() {
                if let Some(until) = sink.backoff_until.filter(|u| *u > now) {
                    next_wake = next_wake.min(until);
                }
            }
            if now >= self.next_publish {
                self.publish_metrics();
                self.next_publish = now + PUBLISH_INTERVAL;
            }
            next_wake = next_wake.min(self.next_publish);

            tokio::select! {
                _ = shared.wakeup.notified() => {}
                _ = tokio::time::sleep_until(next_wake) => {}
                Some(event) = self.events.next(), if !self.events.is_empty() => self.handle(event),
            }
            // Handle everything else that is already done before the next turn.
            while let Some(Some(event)) = self.events.next().now_or_never() {
                self.handle(event);
            }
        }
        // The final values, exact: everything has its outcome.
        self.publish_metrics();
        self.nodes.clear();
        tracing::debug!("sender stopped");
    }

    /// Counts the bytes written to every connection, then publishes the
    /// metrics to the `metrics` facade.
    fn publish_metrics(&mut self) {
        self.count_all_outgoing();
        self.shared.publish_metrics();
    }

    fn count_all_outgoing(&mut self) {
        let metrics = &self.shared.metrics;
        let mut in_flight = 0;
        for (target, sink) in &mut self.nodes {
            count_outgoing(metrics, target, sink);
            if let Some(link) = sink.open_link() {
                in_flight += link.in_flight() as u64;
            }
        }
        metrics
            .requests_in_flight
            .store(in_flight, Ordering::Relaxed);
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Connected(target, result) => self.on_connected(target, result),
            Event::Metadata(target, result) => self.on_metadata(target, result),
            Event::ProducerId(target, result) => self.on_producer_id(target, result),
            Event::Written {
                target,
                batches,
                sent_at,
                result,
            } => self.on_written(target, batches, sent_at, result),
            Event::Produced {
                target,
                batches,
                sent_at,
                result,
            } => self.on_produced(target, batches, sent_at, result),
            Event::Txn(event) => self.on_txn_event(event),
            Event::Telemetry(event) => self.on_telemetry_event(event),
        }
    }

    // --- connections ----------------------------------------------------------

    fn connection(&self, target: &Target) -> Option<Arc<dyn Link>> {
        self.nodes.get(target).and_then(Sink::open_link)
    }

    /// Starts connecting to `target` unless already connecting or backing off.
    fn connect(&mut self, target: Target, address: String, now: Instant) {
        let sink = self.nodes.entry(target.clone()).or_default();
        if sink.connecting || sink.backoff_until.is_some_and(|u| u > now) {
            return;
        }
        sink.connecting = true;
        // Java's `socket.connection.setup.timeout.ms`, doubled (with ±20%
        // jitter) after each failed attempt in a row, up to `.max.ms`.
        let config = &self.shared.config;
        let setup_timeout = exponential_backoff(
            config.socket_connection_setup_timeout(),
            config.socket_connection_setup_timeout_max(),
            sink.failures,
        );
        let connecting = self
            .connector
            .connect(address, setup_timeout, sink.failures);
        self.events.push(
            async move {
                let result = connecting.await;
                Event::Connected(target, result)
            }
            .boxed(),
        );
    }

    /// Closes the connections idle for `connections.max.idle.ms`; returns
    /// when the next one will be, if nothing uses it before.
    fn close_idle_connections(&mut self, now: Instant) -> Option<Instant> {
        let max_idle = self.config().connections_max_idle()?;
        let mut next: Option<Instant> = None;
        for (target, sink) in &mut self.nodes {
            let Some(deadline) = sink.idle_deadline(max_idle, now) else {
                continue;
            };
            if deadline > now {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
                continue;
            }
            count_outgoing(&self.shared.metrics, target, sink);
            if let Some(link) = sink.link.take() {
                tracing::debug!(
                    address = link.address(),
                    idle = ?max_idle,
                    "closing an idle connection (connections.max.idle.ms)"
                );
                link.close();
                self.shared.metrics.record_connection_closed();
            }
            sink.last_active = None;
        }
        next
    }

    fn on_connected(&mut self, target: Target, result: Result<Arc<dyn Link>, NetworkError>) {
        let (initial, max) = (
            self.config().reconnect_backoff(),
            self.config().reconnect_backoff_max(),
        );
        let sink = self.nodes.entry(target.clone()).or_default();
        sink.connecting = false;
        match result {
            Ok(link) => {
                tracing::debug!(address = link.address(), "connected");
                self.shared.metrics.record_connection_created();
                self.shared.metrics.record_authentication(true);
                sink.link = Some(link);
                sink.last_active = None;
                sink.counted = Traffic::default();
                sink.failures = 0;
                sink.backoff_until = None;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot connect");
                sink.failures += 1;
                sink.backoff_until =
                    Some(Instant::now() + exponential_backoff(initial, max, sink.failures - 1));
                let failure = FetchFailure {
                    message: error.to_string(),
                    unreachable: true,
                };
                if error.is_authentication_failure() {
                    self.shared.metrics.record_authentication(false);
                    // Not retriable: `send` reports it at once (within max.block.ms).
                    self.shared.metadata.authentication_failed(error);
                } else if matches!(target, Target::Bootstrap(_)) {
                    self.shared.metadata.fetch_failed(failure);
                } else {
                    self.shared.metadata.note_failure(failure);
                    self.shared.metadata.request_update();
                }
            }
        }
    }

    fn disconnected(&mut self, target: &Target, error: &NetworkError) {
        if let Some(sink) = self.nodes.get_mut(target) {
            count_outgoing(&self.shared.metrics, target, sink);
        }
        if let Some(sink) = self.nodes.get_mut(target)
            && let Some(link) = sink.link.take()
        {
            tracing::debug!(address = link.address(), %error, "connection lost");
            link.close();
            self.shared.metrics.record_connection_closed();
        }
        self.shared.metadata.request_update();
    }

    /// A connection for cluster-wide requests (metadata, producer id): the least
    /// loaded one open, else a new one to a known broker or a bootstrap address;
    /// after REBOOTSTRAP_REQUIRED, only a bootstrap address.
    fn any_connection(&mut self, now: Instant) -> Option<(Target, Arc<dyn Link>)> {
        if self.rebootstrap {
            let bootstrap = |t: &Target| matches!(t, Target::Bootstrap(_));
            let open = self
                .nodes
                .iter()
                .filter(|(t, _)| bootstrap(t))
                .find_map(|(t, s)| s.open_link().map(|link| (t.clone(), link)));
            if open.is_none() && !self.nodes.iter().any(|(t, s)| bootstrap(t) && s.connecting) {
                self.connect_bootstrap(now);
            }
            return open;
        }
        if let Some(open) = self.least_loaded_open() {
            return Some(open);
        }
        if self.nodes.values().any(|s| s.connecting) {
            return None;
        }
        let cluster = self.shared.metadata.cluster();
        let known: Vec<_> = cluster
            .brokers
            .iter()
            .map(|(id, b)| (Target::Node(*id), b.to_address()))
            .filter(|(t, _)| {
                self.nodes
                    .get(t)
                    .is_none_or(|s| s.backoff_until.is_none_or(|u| u <= now))
            })
            .collect();
        if let Some((target, address)) = known.into_iter().next() {
            self.connect(target, address, now);
            return None;
        }
        // Re-bootstrapping (KIP-899): none of the known brokers can be
        // reached, so the bootstrap addresses are tried again, unless
        // `metadata.recovery.strategy=none` keeps to the brokers once known.
        let keep_to_known = !cluster.brokers.is_empty()
            && self.shared.config.metadata_recovery_strategy() == MetadataRecoveryStrategy::None;
        if !keep_to_known {
            self.connect_bootstrap(now);
        }
        None
    }

    /// Opens a connection to the next bootstrap address not backing off.
    fn connect_bootstrap(&mut self, now: Instant) {
        for _ in 0..self.bootstrap.len() {
            let address = self.bootstrap[self.next_bootstrap % self.bootstrap.len()].clone();
            self.next_bootstrap += 1;
            let target = Target::Bootstrap(address.clone());
            if self
                .nodes
                .get(&target)
                .is_none_or(|s| s.backoff_until.is_none_or(|u| u <= now))
            {
                self.connect(target, address, now);
                break;
            }
        }
    }

    /// The open connection with the fewest Produce requests in flight (Java's
    /// `leastLoadedNode` among connected nodes); opens none.
    fn least_loaded_open(&self) -> Option<(Target, Arc<dyn Link>)> {
        self.nodes
            .iter()
            .filter_map(|(t, s)| s.open_link().map(|c| (s.in_flight, t.clone(), c)))
            .min_by_key(|(load, _, _)| *load)
            .map(|(_, target, link)| (target, link))
    }

    // --- metadata ---------------------------------------------------------------

    fn start_metadata_fetch(&mut self, now: Instant) {
        let topics = self.shared.metadata.topics_to_fetch();
        if topics.is_empty() {
            // Nothing asked for: no attempt under way (a later one starts
            // its own timer).
            self.metadata_attempt_started = None;
            return;
        }
        self.maybe_rebootstrap_after_trigger(now);
        let Some((target, connection)) = self.any_connection(now) else {
            return;
        };
        self.metadata_in_flight = true;
        let timeout = self.config().request_timeout();
        let request = MetadataRequest {
            topics: Some(topics),
            // As the Java producer: the broker's auto.create.topics.enable decides.
            allow_auto_topic_creation: true,
        };
        let call = connection.metadata(request, timeout);
        self.events
            .push(async move { Event::Metadata(target, call.await) }.boxed());
    }

    /// KIP-1102's timer: metadata asked for, and none applied for
    /// `metadata.recovery.rebootstrap.trigger.ms`, from brokers that may well
    /// be reachable (a cluster replaced behind the same addresses, brokers
    /// that answer but cannot serve): the bootstrap addresses are asked again,
    /// as Java's `NetworkClient` does, and the timer starts over.
    fn maybe_rebootstrap_after_trigger(&mut self, now: Instant) {
        let config = &self.shared.config;
        let started = *self.metadata_attempt_started.get_or_insert(now);
        if self.rebootstrap
            || self.bootstrap.is_empty()
            || config.metadata_recovery_strategy() != MetadataRecoveryStrategy::Rebootstrap
            || now.saturating_duration_since(started)
                <= config.metadata_recovery_rebootstrap_trigger()
        {
            return;
        }
        tracing::info!(
            trigger = ?config.metadata_recovery_rebootstrap_trigger(),
            "no metadata from the known brokers for metadata.recovery.rebootstrap.trigger.ms; \
             asking the bootstrap servers again (KIP-1102)"
        );
        self.rebootstrap = true;
        self.metadata_attempt_started = Some(now);
    }

    fn on_metadata(&mut self, target: Target, result: Result<MetadataResponse, NetworkError>) {
        self.metadata_in_flight = false;
        let applied = result
            .as_ref()
            .is_ok_and(|r| r.error_code.is_ok() && !r.brokers.is_empty());
        // An answer not applied is no refresh (Java's `failedUpdate`): the
        // metadata's age goes on growing.
        self.shared.metrics.record_metadata_fetch(applied);
        match result {
            // Java's `NetworkClient`: an answer with an error of its own
            // (Metadata v13's top-level error) or naming no brokers (a broker
            // still starting up) is not applied; the cluster known so far
            // stays, and the fetch is tried again after the retry backoff
            // (from a bootstrap address after REBOOTSTRAP_REQUIRED, unless
            // `metadata.recovery.strategy=none`; where Java replaces its
            // metadata with the bootstrap nodes, records here go on to the
            // leaders known until the new answer). Applied, it would leave
            // every partition without a leader.
            Ok(response) if !applied => {
                if response.error_code == ErrorCode::REBOOTSTRAP_REQUIRED
                    && self.shared.config.metadata_recovery_strategy()
                        == MetadataRecoveryStrategy::Rebootstrap
                    && !self.bootstrap.is_empty()
                {
                    tracing::info!("a broker asked this client to re-bootstrap (KIP-1102)");
                    self.rebootstrap = true;
                }
                let message = if response.error_code.is_err() {
                    format!(
                        "the broker refused the metadata request: {}",
                        response.error_code
                    )
                } else {
                    "the broker's metadata named no brokers (it may be starting up)".to_owned()
                };
                tracing::debug!(target = ?target, "{message}; metadata kept, asked again");
                self.shared.metadata.fetch_failed(FetchFailure {
                    message,
                    unreachable: false,
                });
            }
            Ok(response) => {
                self.shared.metadata.update(&response);
                self.metadata_attempt_started = None;
                if matches!(target, Target::Bootstrap(_)) {
                    self.rebootstrap = false;
                }
                // Once the cluster is known, bootstrap connections are not needed.
                self.count_all_outgoing();
                let metrics = &self.shared.metrics;
                self.nodes.retain(|t, s| {
                    let keep = !matches!(t, Target::Bootstrap(_)) || s.in_flight > 0;
                    if !keep && s.open_link().is_some() {
                        metrics.record_connection_closed();
                    }
                    keep
                });
            }
            Err(error) => {
                self.disconnected(&target, &error);
                self.shared.metadata.fetch_failed(FetchFailure {
                    message: error.to_string(),
                    unreachable: false,
                });
            }
        }
    }

    // --- idempotence --------------------------------------------------------------

    /// Obtains or bumps the producer id when needed; returns when to try again.
    fn maybe_init_producer_id(&mut self, now: Instant) -> Option<Instant> {
        if self.txn.is_some() {
            // A transactional producer's id comes from init_transactions.
            return None;
        }
        let tm = self.tm.as_mut()?;
        match tm.state() {
            PidState::Ready => return None,
            PidState::Uninitialized => {}
            // Bump only once nothing is in flight, so no answer of the old
            // epoch arrives after the new one.
            PidState::BumpNeeded if self.produce_in_flight == 0 => {
                self.shared
                    .metrics
                    .epoch_bumps
                    .fetch_add(1, Ordering::Relaxed);
                if tm.bump_epoch_locally() {
                    let (producer_id, epoch) = tm.producer_id_and_epoch();
                    tracing::debug!(producer_id, epoch, "producer epoch bumped");
                    self.shared.wakeup.notify_one();
                    return None;
                }
                // The epoch is exhausted: a new producer id.
            }
            PidState::BumpNeeded => return None,
        }
        if self.pid_in_flight {
            return None;
        }
        if let Some(at) = self.pid_retry_at.filter(|at| *at > now) {
            return Some(at);
        }
        let (target, connection) = self.any_connection(now)?;
        self.pid_in_flight = true;
        let timeout = self.config().request_timeout();
        let request = InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: i32::try_from(self.config().transaction_timeout().as_millis())
                .unwrap_or(i32::MAX),
            producer_id: NO_PRODUCER_ID,
            producer_epoch: -1,
        };
        let call = connection.init_producer_id(request, timeout);
        self.events
            .push(async move { Event::ProducerId(target, call.await) }.boxed());
        None
    }

    fn on_producer_id(
        &mut self,
        target: Target,
        result: Result<InitProducerIdResponse, NetworkError>,
    ) {
        self.pid_in_flight = false;
        let backoff = self.config().retry_backoff();
        let Some(tm) = self.tm.as_mut() else { return };
        match result {
            Ok(response) if response.error_code.is_ok() => {
                tracing::debug!(
                    producer_id = response.producer_id,
                    epoch = response.producer_epoch,
                    "producer id"
                );
                tm.set_producer_id(response.producer_id, response.producer_epoch);
                self.pid_retry_at = None;
                self.shared.wakeup.notify_one();
            }
            Ok(response) => {
                // A coordinator still loading (a fresh or restarted broker) or
                // moved is routine and retried, as Java's producer does quietly.
                let code = response.error_code;
                tm.reset_producer_id();
                self.pid_retry_at = Some(Instant::now() + backoff);
                if code.is_retriable() {
                    tracing::debug!(error = %code, "InitProducerId to be retried");
                } else if matches!(
                    code,
                    ErrorCode::CLUSTER_AUTHORIZATION_FAILED
                        | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                ) {
                    // As Java's sender on an authorization error
                    // (`shouldHandleAuthorizationError`): the records waiting
                    // for an id fail now with the broker's reason, not at
                    // delivery.timeout.ms with none; later sends ask again.
                    tracing::warn!(error = %code, "InitProducerId refused; failing the queued records");
                    self.fail_queued_for_producer_id(code);
                } else {
                    tracing::warn!(error = %code, "InitProducerId failed");
                }
            }
            Err(error) => {
                self.disconnected(&target, &error);
                self.pid_retry_at = Some(Instant::now() + backoff);
            }
        }
    }

    // --- draining and sending ---------------------------------------------------

    /// Starts a Produce request on every sink that leads a ready batch and may
    /// take one; returns when a batch not ready yet will be. Never waits for a
    /// socket: each write is a future of its own (see [`sink`]).
    fn send_ready(&mut self, cluster: &Cluster, now: Instant) -> Option<Instant> {
        let ready = self.accumulator().ready(cluster, now);
        let mut next = ready.next_ready;
        if !ready.unknown_leader_topics.is_empty() {
            // As Java's sender: asked for again, in case the topic expired
            // from the metadata while records of it were queued.
            for topic in &ready.unknown_leader_topics {
                self.shared.metadata.ask_for(topic);
            }
            self.shared.metadata.request_update();
        }
        let may_drain = self
            .tm
            .as_ref()
            .is_none_or(|tm| tm.state() == PidState::Ready);
        if !may_drain {
            return next;
        }
        // After EndTxn, the next transaction's first Produce waits for the
        // coordinator to complete the last one (see `txn.rs`).
        if let Some(at) = self.txn.as_ref().and_then(|d| d.settling(now)) {
            return Some(next.map_or(at, |n| n.min(at)));
        }
        let max_in_flight = self.config().max_in_flight_requests_per_connection();
        let max_size = self.config().max_request_size();
        for node in ready.ready_nodes {
            let target = Target::Node(node);
            let Some(link) = self.connection(&target) else {
                self.shared
                    .accumulator
                    .update_node_latency_stats(node, now, false);
                if let Some(broker) = cluster.brokers.get(&node) {
                    let address = broker.to_address();
                    self.connect(target, address, now);
                }
                continue;
            };
            let may_produce = self
                .nodes
                .get(&target)
                .map_or(Ok(()), |sink| sink.may_produce(max_in_flight, now));
            self.shared
                .accumulator
                .update_node_latency_stats(node, now, may_produce.is_ok());
            if let Err(unmuted_at) = may_produce {
                if let Some(at) = unmuted_at {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                continue;
            }
            let drained =
                self.shared
                    .accumulator
                    .drain(cluster, node, max_size, now, self.tm.as_mut());
            for batch in drained.unsafe_retries {
                let error = KafkaError::OutOfOrderSequence {
                    topic: batch.topic.to_string(),
                    partition: batch.partition,
                };
                self.fail_batch(batch, error);
            }
            // Through `fail_batch`, as every failure of a record: an open
            // transaction becomes abortable rather than commit without it.
            for (batch, error) in drained.unencodable {
                self.fail_batch(batch, error);
            }
            if drained.batches.is_empty() {
                // Everything ready there waits for an older retry: look again soon.
                let soon = now + self.config().retry_backoff();
                next = Some(next.map_or(soon, |n| n.min(soon)));
                continue;
            }
            self.send_produce(target, link, cluster, drained.batches);
        }
        next
    }

    /// Starts writing one Produce request for `batches` to `target`'s sink.
    fn send_produce(
        &mut self,
        target: Target,
        link: Arc<dyn Link>,
        cluster: &Cluster,
        batches: Vec<ProducerBatch>,
    ) {
        let timeout = self.config().request_timeout();
        let acks = self.config().acks().as_i16();
        let transactional_id = self
            .txn
            .as_ref()
            .map(|t| t.shared.transactional_id.as_str());
        let mut request = sink::produce_request(&batches, cluster, acks, timeout, transactional_id);
        request.transaction_v2 = self.tm.as_ref().is_some_and(|tm| tm.transaction_v2());
        if let Target::Node(node) = &target {
            let node = *node;
            let drained_at = Instant::now();
            self.shared.metrics.record_produce_request(
                node,
                batches.iter().map(|batch| SentBatch {
                    topic: &batch.topic,
                    records: batch.record_count(),
                    bytes: batch.size_in_bytes(),
                    compression_ratio: batch.compression_ratio(),
                    queue_time: drained_at.saturating_duration_since(batch.created),
                    max_record_size: batch.max_record_size(),
                }),
            );
        }
        if let Some(sink) = self.nodes.get_mut(&target) {
            sink.begin_write();
        }
        self.produce_in_flight += 1;
        let sent_at = Instant::now();
        if let Some(driver) = self.txn.as_mut() {
            driver.produce_sent(sent_at);
        }
        let address = link.address().to_owned();
        let write = link.produce(request, timeout);
        self.events.push(
            async move {
                // `request.timeout.ms` covers the write too (as Java's
                // NetworkClient counts it from the send): a broker that stops
                // reading fails the request, and dropping the half-written
                // frame closes the connection.
                let result = match tokio::time::timeout(timeout, write).await {
                    Ok(result) => result,
                    Err(_) => Err(NetworkError::RequestTimeout {
                        address,
                        api: ApiKey::Produce,
                        correlation_id: -1,
                        timeout,
                    }),
                };
                Event::Written {
                    target,
                    batches,
                    sent_at,
                    result,
                }
            }
            .boxed(),
        );
    }

    /// A Produce request is written: the sink may take the next one, and the
    /// answer is awaited on its own.
    fn on_written(
        &mut self,
        target: Target,
        batches: Vec<ProducerBatch>,
        sent_at: Instant,
        result: Result<Option<Answer>, NetworkError>,
    ) {
        if let Some(sink) = self.nodes.get_mut(&target) {
            sink.writing = false;
            count_outgoing(&self.shared.metrics, &target, sink);
        }
        match result {
            Ok(Some(answer)) => self.events.push(
                async move {
                    let result = answer.await;
                    Event::Produced {
                        target,
                        batches,
                        sent_at,
                        result,
                    }
                }
                .boxed(),
            ),
            Ok(None) => {
                // acks=0: no answer comes; the batches are done once written
                // (offset unknown).
                self.request_done(&target);
                for mut batch in batches {
                    self.landed(&mut batch);
                    batch.complete(BatchOutcome::Delivered {
                        base_offset: -1,
                        log_append_time: -1,
                    });
                }
            }
            Err(error) => {
                self.request_done(&target);
                self.on_request_failed(&target, batches, error);
            }
        }
        self.shared.wakeup.notify_one();
    }

    /// `batch`'s request was answered or failed: no longer in flight.
    fn landed(&self, batch: &mut ProducerBatch) {
        batch.in_flight = false;
        self.shared.accumulator.unmute(batch);
    }

    fn request_done(&mut self, target: &Target) {
        if let Some(sink) = self.nodes.get_mut(target) {
            sink.request_done();
        }
        self.produce_in_flight = self.produce_in_flight.saturating_sub(1);
    }

    fn on_produced(
        &mut self,
        target: Target,
        batches: Vec<ProducerBatch>,
        sent_at: Instant,
        result: Result<ProduceResponse, NetworkError>,
    ) {
        self.request_done(&target);
        match result {
            Ok(response) => {
                let now = Instant::now();
                if let Some(driver) = self.txn.as_mut() {
                    driver.produce_answered(sent_at, now);
                }
                let node = match &target {
                    Target::Node(id) => Some(*id),
                    Target::Bootstrap(_) => None,
                };
                self.shared
                    .metrics
                    .record_produce_response(node, now - sent_at);
                if response.throttle_time_ms > 0 {
                    tracing::debug!(
                        throttle_ms = response.throttle_time_ms,
                        "the broker throttles this client (quota)"
                    );
                }
                // The connection muted itself (KIP-219); its throttle values
                // go to the metrics now, with this response's.
                if let Some(sink) = self.nodes.get_mut(&target) {
                    count_outgoing(&self.shared.metrics, &target, sink);
                }
                let cluster = self.shared.metadata.cluster();
                // The retries of partitions whose leader moved go without
                // backing off (see `backing_off`).
                self.apply_leader_hints(&response, &cluster);
                for mut batch in batches {
                    self.landed(&mut batch);
                    // v13 answers by topic id, older versions by name.
                    let topic_id = cluster.topic_id(&batch.topic);
                    let partition_response = response
                        .topics
                        .iter()
                        .find(|t| {
                            *t.name == *batch.topic
                                || (!topic_id.is_zero() && t.topic_id == topic_id)
                        })
                        .and_then(|t| t.partitions.iter().find(|p| p.index == batch.partition))
                        .cloned();
                    match partition_response {
                        Some(p) => self.complete_batch(batch, p),
                        None => {
                            let error = KafkaError::Internal(format!(
                                "the broker's Produce response has no result for {}-{}",
                                batch.topic, batch.partition
                            ));
                            self.retry_or_fail(batch, error);
                        }
                    }
                }
            }
            Err(error) => self.on_request_failed(&target, batches, error),
        }
        self.shared.wakeup.notify_one();
    }

    /// KIP-951: the new leaders a Produce answer names for the partitions it
    /// refused as not led there go into the metadata at once (a full refresh
    /// is still asked for), so their retries need not wait for it.
    fn apply_leader_hints(&self, response: &ProduceResponse, cluster: &Cluster) {
        let mut hints = Vec::new();
        for topic in &response.topics {
            for p in &topic.partitions {
                let Some(leader) = p.current_leader.as_ref().filter(|l| {
                    l.leader_id >= 0
                        && l.leader_epoch >= 0
                        && matches!(
                            p.error_code,
                            ErrorCode::NOT_LEADER_OR_FOLLOWER | ErrorCode::FENCED_LEADER_EPOCH
                        )
                }) else {
                    continue;
                };
                // v13 answers by topic id.
                let name = if topic.name.is_empty() {
                    cluster
                        .topics
                        .iter()
                        .find(|(_, t)| !topic.topic_id.is_zero() && t.topic_id == topic.topic_id)
                        .map(|(name, _)| Arc::<str>::from(name.as_str()))
                } else {
                    Some(Arc::<str>::from(topic.name.as_str()))
                };
                if let Some(name) = name {
                    hints.push((name, p.index, leader.leader_id, leader.leader_epoch));
                }
            }
        }
        if !hints.is_empty() {
            self.shared
                .metadata
                .update_partition_leadership(&hints, &response.node_endpoints);
        }
    }

    /// The request's fate is unknown (timeout, disconnect): retry every batch with
    /// its sequence unchanged, so the broker can deduplicate.
    fn on_request_failed(
        &mut self,
        target: &Target,
        batches: Vec<ProducerBatch>,
        error: NetworkError,
    ) {
        tracing::debug!(%error, batches = batches.len(), "produce request failed");
        self.disconnected(target, &error);
        for mut batch in batches {
            self.landed(&mut batch);
            batch.fate_unknown = true;
            batch.maybe_written = true;
            let retriable = error.is_retriable();
            if retriable {
                self.retry_or_fail(batch, KafkaError::Network(error.clone()));
            } else {
                self.fail_batch(batch, KafkaError::Network(error.clone()));
            }
        }
    }

    fn complete_batch(&mut self, mut batch: ProducerBatch, response: ProducePartitionResponse) {
        let code = response.error_code;
        let state = batch.producer_state;
        if code.is_ok() || code == ErrorCode::DUPLICATE_SEQUENCE_NUMBER {
            if let (Some(tm), Some(state)) = (self.tm.as_mut(), state) {
                tm.acked(&batch.topic, batch.partition, state, batch.record_count());
            }
            batch.complete(BatchOutcome::Delivered {
                base_offset: response.base_offset,
                log_append_time: response.log_append_time_ms,
            });
            return;
        }
        match code {
            // The broker checked this producer's sequences for the partition
            // and found the batch's absent (an earlier attempt included).
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID => {
                batch.fate_unknown = false;
            }
            // The leader appended this attempt; only its replication fell short.
            ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND | ErrorCode::REQUEST_TIMED_OUT => {
                batch.fate_unknown = true;
                batch.maybe_written = true;
            }
            // Any other refusal says nothing of an earlier attempt whose answer
            // was lost (a broker that no longer leads did not look).
            _ => {}
        }
        if !response.record_errors.is_empty()
            && !code.is_retriable()
            && !matches!(
                code,
                ErrorCode::MESSAGE_TOO_LARGE | ErrorCode::RECORD_LIST_TOO_LARGE
            )
        {
            self.fail_batch_with_record_errors(batch, &response);
            return;
        }
        let message = response.error_message.clone().or_else(|| {
            let messages: Vec<_> = response
                .record_errors
                .iter()
                .filter_map(|e| e.message.clone())
                .collect();
            (!messages.is_empty()).then(|| messages.join("; "))
        });
        let error = KafkaError::Broker {
            topic: batch.topic.to_string(),
            partition: batch.partition,
            code,
            message,
        };
        match code {
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER => {
                let earlier_failed = match (self.tm.as_ref(), state) {
                    (Some(tm), Some(state)) => tm.is_out_of_order_because_of_earlier_failure(
                        &batch.topic,
                        batch.partition,
                        state,
                    ),
                    _ => false,
                };
                if earlier_failed {
                    self.retry_or_fail(batch, error);
                } else if let (Some(tm), Some(state), None) =
                    (self.tm.as_mut(), state, self.txn.as_ref())
                {
                    // As Java's idempotent producer: the batch is the next one,
                    // so every earlier one was written and this one was not;
                    // the partition restarts under a new epoch and the batch
                    // goes again.
                    tm.forget(&batch.topic, batch.partition, state);
                    tm.request_epoch_bump(
                        &batch.topic,
                        batch.partition,
                        "OUT_OF_ORDER_SEQUENCE_NUMBER",
                    );
                    self.retry_or_fail(batch, error);
                } else {
                    let error = KafkaError::OutOfOrderSequence {
                        topic: batch.topic.to_string(),
                        partition: batch.partition,
                    };
                    self.fail_batch(batch, error);
                }
            }
            ErrorCode::UNKNOWN_PRODUCER_ID if self.txn.is_none() => {
                // The broker lost our producer state (retention): it rejected this
                // batch, so a new epoch and sequence cannot duplicate it.
                // The batch keeps its old sequence until the new epoch (the
                // drain stamps it anew then): batches queued back meanwhile
                // stay in their sequence order.
                if let (Some(tm), Some(state)) = (self.tm.as_mut(), state) {
                    tm.forget(&batch.topic, batch.partition, state);
                    tm.request_epoch_bump(&batch.topic, batch.partition, "UNKNOWN_PRODUCER_ID");
                }
                self.retry_or_fail(batch, error);
            }
            ErrorCode::MESSAGE_TOO_LARGE | ErrorCode::RECORD_LIST_TOO_LARGE
                if batch.record_count() > 1 =>
            {
                let (topic, partition, records) =
                    (batch.topic.clone(), batch.partition, batch.record_count());
                match self
                    .shared
                    .accumulator
                    .split_and_reenqueue(batch, self.tm.as_mut())
                {
                    Ok(parts) => tracing::info!(
                        %topic,
                        partition,
                        records,
                        parts,
                        %code,
                        "the broker found the batch too large: split and queued again"
                    ),
                    Err(batch) => self.fail_batch(*batch, error),
                }
            }
            _ if code.is_retriable() => {
                if matches!(
                    code,
                    ErrorCode::NOT_LEADER_OR_FOLLOWER
                        | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                        | ErrorCode::LEADER_NOT_AVAILABLE
                        | ErrorCode::KAFKA_STORAGE_ERROR
                        | ErrorCode::FENCED_LEADER_EPOCH
                        | ErrorCode::UNKNOWN_TOPIC_ID
                ) {
                    self.shared.metadata.request_update();
                }
                self.retry_or_fail(batch, error);
            }
            _ => self.fail_batch(batch, error),
        }
    }

    /// The broker refused the batch for the records it names
    /// (`record_errors`): as Java's `failBatch`, each of those gets its own
    /// error (the partition's code when it is the only one, else
    /// `INVALID_RECORD`, with its message, else the partition's), and every
    /// other record [`KafkaError::BatchHadInvalidRecords`]: it was valid, and
    /// not written.
    fn fail_batch_with_record_errors(
        &mut self,
        batch: ProducerBatch,
        response: &ProducePartitionResponse,
    ) {
        let code = response.error_code;
        let single = response.record_errors.len() == 1;
        let record_errors: Vec<(u32, KafkaError)> = response
            .record_errors
            .iter()
            // From the broker: an index outside the batch names no record.
            .filter_map(|record_error| {
                let index = u32::try_from(record_error.batch_index)
                    .ok()
                    .filter(|index| *index < batch.record_count())?;
                let error = KafkaError::Broker {
                    topic: batch.topic.to_string(),
                    partition: batch.partition,
                    code: if single {
                        code
                    } else {
                        ErrorCode::INVALID_RECORD
                    },
                    message: record_error
                        .message
                        .clone()
                        .or_else(|| response.error_message.clone()),
                };
                Some((index, error))
            })
            .collect();
        let others = KafkaError::BatchHadInvalidRecords {
            topic: batch.topic.to_string(),
            partition: batch.partition,
            code,
            invalid_records: response.record_errors.len(),
        };
        let others = self.batch_failing(&batch, others);
        batch.fail_with_record_errors(others, record_errors);
    }

    /// Retries the batch if `retries` and `delivery.timeout.ms` allow, else fails it.
    fn retry_or_fail(&mut self, mut batch: ProducerBatch, error: KafkaError) {
        let now = Instant::now();
        let delivery_timeout = self.config().delivery_timeout();
        let expired = now >= batch.created + delivery_timeout;
        let retries_left = i64::from(batch.attempts) <= i64::from(self.config().retries());
        batch.last_error = Some(error.to_string());
        if !expired && retries_left && !self.shared.force_close.load(Ordering::Acquire) {
            tracing::debug!(topic = %batch.topic, partition = batch.partition, attempts = batch.attempts, %error, "retrying batch");
            self.shared
                .metrics
                .record_retry(&batch.topic, u64::from(batch.record_count()));
            self.shared.accumulator.reenqueue(batch, now);
        } else if expired {
            let error = KafkaError::DeliveryTimeout {
                topic: batch.topic.to_string(),
                partition: batch.partition,
                delivery_timeout,
                last_error: batch.last_error.clone(),
            };
            self.fail_batch(batch, error);
        } else {
            self.fail_batch(batch, error);
        }
    }

    /// Fails a batch for good. A batch that held a sequence leaves a gap the
    /// broker would reject, so the epoch is bumped before more is sent.
    fn fail_batch(&mut self, batch: ProducerBatch, error: KafkaError) {
        let error = self.batch_failing(&batch, error);
        batch.fail(error);
    }

    /// Withdraws a batch not sent (its transaction cannot commit), as
    /// `fail_batch` but, as Java's `abortUndrainedBatches`, not counted in
    /// `record-error-*`.
    fn abort_batch(&mut self, batch: ProducerBatch, error: KafkaError) {
        let error = self.batch_failing(&batch, error);
        batch.abort(error);
    }

    /// What failing `batch` with `error` means for the producer's state;
    /// returns the error its records get.
    fn batch_failing(&mut self, batch: &ProducerBatch, error: KafkaError) -> KafkaError {
        let error = match error {
            KafkaError::OutOfOrderSequence { .. } => KafkaError::OutOfOrderSequence {
                topic: batch.topic.to_string(),
                partition: batch.partition,
            },
            other => other,
        };
        // Only a gap in the sequences the partition still uses needs a new
        // epoch (an older epoch's, while batches of it are outstanding, too).
        if let (Some(tm), Some(state)) = (self.tm.as_mut(), batch.producer_state)
            && tm.holds_sequences_of(&batch.topic, batch.partition, state.0, state.1)
        {
            tm.forget(&batch.topic, batch.partition, state);
            tm.request_epoch_bump(&batch.topic, batch.partition, error.kind_name());
        }
        // A transaction in which a send failed cannot commit (Java's
        // abortable error); fencing ends the producer.
        if let Some(driver) = self.txn.as_ref()
            && !matches!(error, KafkaError::Transaction(_))
        {
            let txn_error = self.transaction_error_for_send(&error);
            driver.shared.fail(txn_error);
            // V2: the partition leader asks the coordinator, and passes on
            // that it no longer knows the producer.
            if let Some(code) = error.error_code() {
                self.coordinator_lost_producer_id(code);
            }
        }
        error
    }

    /// Fails batches still queued past `delivery.timeout.ms`.
    fn expire_batches(&mut self, now: Instant) {
        let timeout = self.config().delivery_timeout();
        for batch in self.accumulator().expired_batches(now, timeout) {
            let error = KafkaError::DeliveryTimeout {
                topic: batch.topic.to_string(),
                partition: batch.partition,
                delivery_timeout: timeout,
                last_error: batch.last_error.clone(),
            };
            self.fail_batch(batch, error);
        }
    }

    /// The broker refused the idempotent producer an id for authorization
    /// (`code`): every queued batch, which cannot be sent without one, fails
    /// with it.
    fn fail_queued_for_producer_id(&mut self, code: ErrorCode) {
        let hint = "the idempotent producer (enable.idempotence=true, the default) could not \
                    get a producer id: grant the principal WRITE on the topic \
                    (IDEMPOTENT_WRITE on the cluster before Kafka 3.0), or set \
                    enable.idempotence=false";
        for batch in self.accumulator().take_all() {
            let error = KafkaError::Broker {
                topic: batch.topic.to_string(),
                partition: batch.partition,
                code,
                message: Some(hint.to_owned()),
            };
            self.fail_batch(batch, error);
        }
    }

    /// A forced close: every queued batch fails now; in-flight ones fail as their
    /// futures are dropped.
    fn abort_all(&mut self) {
        let batches = self.accumulator().take_all();
        if !batches.is_empty() {
            tracing::warn!(
                batches = batches.len(),
                "producer closed before these batches were sent"
            );
        }
        for batch in batches {
            batch.abort(KafkaError::ProducerClosed(
                "the close timeout ran out before the record was sent",
            ));
        }
        self.events = FuturesUnordered::new();
    }
}
