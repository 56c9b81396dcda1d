//! The sender's decisions, one test each, against an in-memory fake cluster at
//! the connection seam ([`Connector`] / [`Link`]): a real `KafkaProducer`
//! (accumulator, sender, network thread) whose connections are the fake's.
//!
//! The fake keeps each partition's log and, as a Kafka broker does, the
//! idempotent producer state per partition: a batch is appended only if its
//! sequence is the next one, a resend of the last batch is a
//! `DUPLICATE_SEQUENCE_NUMBER`, a gap is `OUT_OF_ORDER_SEQUENCE_NUMBER`, a new
//! epoch starts at sequence 0. Faults are injected per batch by a rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::link::Call;
use super::link::{Answer, Connector, Link};
use crate::network::{DisconnectReason, NetworkError};
use crate::protocol::ErrorCode;
use crate::protocol::Uuid;
use crate::protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnPartitionResult,
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnTopicResult,
    Coordinator, DescribeTransactionsRequest, DescribeTransactionsResponse, DescribedTransaction,
    EndTxnRequest, EndTxnResponse, FindCoordinatorRequest, FindCoordinatorResponse,
    GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse, InitProducerIdRequest,
    InitProducerIdResponse, LeaderIdAndEpoch, MetadataBroker, MetadataPartition, MetadataRequest,
    MetadataResponse, MetadataTopic, NodeEndpoint, ProducePartitionResponse, ProduceRequest,
    ProduceResponse, ProduceTopicResponse, PushTelemetryRequest, PushTelemetryResponse,
    RecordError, TxnOffsetCommitRequest, TxnOffsetCommitResponse, TxnOffsetCommitTopicResult,
};
use crate::record_batch::decode_batches;
use crate::{
    KafkaError, KafkaProducer, ProducerConfig, ProducerRecord, RecordRef, SendError, SentRecord,
    TrySendError,
};

const TOPIC: &str = "orders";
/// The fake's id for `TOPIC`: requests name it by id and answers come by id
/// only, as with Produce v13.
const TOPIC_ID: Uuid = Uuid([5; 16]);
const LIMIT: Duration = Duration::from_secs(30);

/// One batch as the fake broker received it.
#[derive(Clone, Debug)]
struct Incoming {
    node: i32,
    partition: i32,
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    values: Vec<String>,
    size: usize,
    /// When it arrived.
    at: std::time::Instant,
}

/// What a fault rule does with a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Answer with this error; nothing is appended.
    Reject(ErrorCode),
    /// Answer with this error naming these records of the batch
    /// (`record_errors`, with a message each); nothing is appended.
    RejectRecords(ErrorCode, &'static [i32]),
    /// Append as usual, but the whole request's answer is lost (the
    /// connection drops): the producer cannot know it was written.
    LoseAnswer,
}

type Rule = Box<dyn FnMut(&Incoming) -> Option<Fault> + Send>;

#[derive(Default)]
struct State {
    /// Partition leaders of `TOPIC`.
    leaders: Vec<i32>,
    brokers: BTreeSet<i32>,
    /// What each partition holds, in log order.
    logs: BTreeMap<i32, Vec<String>>,
    /// Broker-side idempotence: (producer id, epoch, last sequence) per partition.
    sequences: HashMap<i32, (i64, i16, i32)>,
    next_producer_id: i64,
    init_requests: Vec<InitProducerIdRequest>,
    metadata_requests: usize,
    /// Every batch received, in arrival order.
    received: Vec<Incoming>,
    rule: Option<Rule>,
    /// What Metadata answers instead of the truth while set: (leaders,
    /// brokers), as a broker that has not caught up with a leader change.
    stale_metadata: Option<(Vec<i32>, Vec<i32>)>,
    /// Produce answers `NOT_LEADER_OR_FOLLOWER` with the new leader and its
    /// endpoint (v10+, KIP-951), at leader epoch 1.
    leader_hints: bool,
    /// Brokers that stopped reading: writes to them never complete.
    stalled: BTreeSet<i32>,
    /// Batches larger than this are `MESSAGE_TOO_LARGE` (the topic's
    /// `max.message.bytes`).
    max_message_bytes: Option<usize>,
    /// `throttle_time_ms` of every Produce answer.
    throttle_ms: i32,
    /// How long an answer takes to come back (network latency), so that
    /// several requests are in flight at once.
    answer_delay: Duration,
    /// The transaction coordinator's log: one line per request, in order
    /// (`Produce p<partition>` lines are added for transactional batches).
    txn_log: Vec<String>,
    /// Partitions of the open transaction (AddPartitionsToTxn).
    txn_partitions: BTreeSet<i32>,
    /// Error codes the coordinator answers, one per request, before answering
    /// normally again.
    txn_faults: std::collections::VecDeque<ErrorCode>,
    /// The brokers speak transactions V2 (KIP-890: a Kafka 4.x cluster with
    /// `transaction.version` 2): Produce v12 adds partitions, EndTxn v5
    /// bumps the epoch, and a transactional batch of an older epoch is
    /// refused with `INVALID_PRODUCER_EPOCH`.
    transaction_v2: bool,
    /// The transactional producer's current epoch, as the coordinator knows it.
    txn_epoch: i16,
    /// The error of every idempotent (not transactional) InitProducerId
    /// request while set.
    pid_error: Option<ErrorCode>,
    /// Connecting panics (application code on the network thread, such as
    /// a token provider, failing).
    connect_panics: bool,
    /// Topics the metadata answers with TOPIC_AUTHORIZATION_FAILED (an ACL
    /// without WRITE).
    denied_topics: Vec<String>,
    /// How long EndTxn's answer takes to come back; the coordinator then
    /// completes the transaction (markers, CompleteCommit) half as long after
    /// its answer arrived.
    end_txn_delay: Duration,
    /// Until when the coordinator completes the last transaction: a partition
    /// of the next one is refused with `CONCURRENT_TRANSACTIONS` (V1:
    /// AddPartitionsToTxn; V2: the leader's check of the Produce, which a
    /// real leader retries 20 ms later, here appended at once).
    completing_until: Option<std::time::Instant>,
    /// Partitions the coordinator was asked to add while it completed the last
    /// transaction.
    early_adds: usize,
    /// The brokers predate DescribeTransactions (Kafka 3.0).
    no_describe_transactions: bool,
    /// The error DescribeTransactions answers with (an ACL without `DESCRIBE`).
    describe_error: Option<ErrorCode>,
    /// DescribeTransactions requests answered, and how many of them found the
    /// last transaction still completing.
    describes: usize,
    describes_completing: usize,
    /// KIP-714: `Some` when the brokers advertise the telemetry APIs.
    telemetry: Option<TelemetryBroker>,
    /// Connection attempts refused before one is accepted, per node.
    refuse_connections: BTreeMap<i32, usize>,
    /// The setup timeout of every connection attempt, with its node.
    /// Per connection attempt: the node, its setup timeout, its attempt number.
    connect_timeouts: Vec<(i32, Duration, u32)>,
    /// Connections the producer closed, by node.
    closed_by_client: Vec<i32>,
    /// Metadata requests answered REBOOTSTRAP_REQUIRED (KIP-1102), per node.
    rebootstrap_required: BTreeMap<i32, usize>,
}

/// A broker's client-metrics side (Kafka's `ClientMetricsManager`, reduced).
#[derive(Default)]
struct TelemetryBroker {
    /// The current subscription: its id, prefixes and push interval.
    subscription_id: i32,
    requested_metrics: Vec<String>,
    push_interval_ms: i32,
    /// Error codes the next pushes get, one per push, before the usual checks.
    push_faults: std::collections::VecDeque<ErrorCode>,
    /// The client instance id of every GetTelemetrySubscriptions, in order.
    subscription_requests: Vec<Uuid>,
    /// Every push, in order.
    pushes: Vec<PushTelemetryRequest>,
    /// The broker each push went to, in order.
    push_nodes: Vec<i32>,
    /// Pushes are never answered (a broker whose plugin hangs).
    hang_pushes: bool,
}

/// The id the fake assigns to a client instance.
const CLIENT_INSTANCE_ID: Uuid = Uuid([9; 16]);

/// The fake cluster: brokers 1..=n at `127.0.0.1:1900n`.
#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl Fake {
    fn new(brokers: i32, leaders: &[i32]) -> Fake {
        let state = State {
            leaders: leaders.to_vec(),
            brokers: (1..=brokers).collect(),
            next_producer_id: 1000,
            ..State::default()
        };
        Fake {
            state: Arc::new(Mutex::new(state)),
            changed: Arc::new(Notify::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn rule(&self, rule: impl FnMut(&Incoming) -> Option<Fault> + Send + 'static) {
        self.with(|s| s.rule = Some(Box::new(rule)));
    }

    /// Changes the state and wakes whoever waits on it.
    fn set(&self, f: impl FnOnce(&mut State)) {
        self.with(f);
        self.changed.notify_waiters();
    }

    fn log(&self, partition: i32) -> Vec<String> {
        self.with(|s| s.logs.get(&partition).cloned().unwrap_or_default())
    }

    /// Waits until `done` holds for the state.
    async fn until(&self, done: impl Fn(&State) -> bool) {
        loop {
            let changed = self.changed.notified();
            if self.with(|s| done(s)) {
                return;
            }
            changed.await;
        }
    }

    fn metadata(&self, node: i32) -> MetadataResponse {
        let rebootstrap = self.with(|s| match s.rebootstrap_required.get_mut(&node) {
            Some(left) if *left > 0 => {
                *left -= 1;
                s.metadata_requests += 1;
                true
            }
            _ => false,
        });
        let response = if rebootstrap {
            MetadataResponse {
                throttle_time_ms: 0,
                brokers: vec![],
                cluster_id: None,
                controller_id: -1,
                topics: vec![],
                cluster_authorized_operations: i32::MIN,
                error_code: ErrorCode::REBOOTSTRAP_REQUIRED,
            }
        } else {
            self.metadata_answer()
        };
        // For tests waiting on `metadata_requests`.
        self.changed.notify_waiters();
        response
    }

    fn metadata_answer(&self) -> MetadataResponse {
        self.with(|s| {
            s.metadata_requests += 1;
            let (leaders, brokers) = match &s.stale_metadata {
                Some((leaders, brokers)) => (leaders.clone(), brokers.clone()),
                None => (s.leaders.clone(), s.brokers.iter().copied().collect()),
            };
            MetadataResponse {
                throttle_time_ms: 0,
                brokers: brokers
                    .iter()
                    .map(|&node_id| MetadataBroker {
                        node_id,
                        host: "127.0.0.1".into(),
                        port: 19_000 + node_id,
                        rack: None,
                    })
                    .collect(),
                cluster_id: Some("fake".into()),
                controller_id: 1,
                topics: vec![MetadataTopic {
                    error_code: ErrorCode::NONE,
                    name: Some(TOPIC.into()),
                    topic_id: TOPIC_ID,
                    is_internal: false,
                    partitions: leaders
                        .iter()
                        .enumerate()
                        .map(|(i, &leader)| MetadataPartition {
                            error_code: ErrorCode::NONE,
                            partition_index: i as i32,
                            leader_id: leader,
                            leader_epoch: 0,
                            replica_nodes: vec![leader],
                            isr_nodes: vec![leader],
                            offline_replicas: vec![],
                        })
                        .collect(),
                    topic_authorized_operations: i32::MIN,
                }]
                .into_iter()
                .chain(s.denied_topics.iter().map(|name| MetadataTopic {
                    error_code: ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    name: Some(name.clone()),
                    topic_id: Uuid::ZERO,
                    is_internal: false,
                    partitions: vec![],
                    topic_authorized_operations: i32::MIN,
                }))
                .collect(),
                cluster_authorized_operations: i32::MIN,
                error_code: ErrorCode::NONE,
            }
        })
    }

    fn init_producer_id(&self, request: InitProducerIdRequest) -> InitProducerIdResponse {
        self.with(|s| {
            // As a Kafka broker: without a transactional id, always a new id;
            // with one, the coordinator bumps the epoch of the id it knows.
            let (producer_id, producer_epoch) =
                if request.producer_id >= 0 && request.transactional_id.is_some() {
                    (request.producer_id, request.producer_epoch + 1)
                } else {
                    s.next_producer_id += 1;
                    (s.next_producer_id, 0)
                };
            if request.transactional_id.is_some() {
                s.txn_epoch = producer_epoch;
            }
            s.init_requests.push(request);
            InitProducerIdResponse {
                throttle_time_ms: 0,
                error_code: ErrorCode::NONE,
                producer_id,
                producer_epoch,
            }
        })
    }

    /// The broker's handling of one Produce request; `None` when the answer is lost.
    fn produce(&self, node: i32, request: &ProduceRequest) -> Option<ProduceResponse> {
        let mut lost = false;
        let mut topics = Vec::new();
        let mut endpoints = Vec::new();
        let response = self.with(|s| {
            for topic in &request.topics {
                let mut partitions = Vec::new();
                for data in &topic.partitions {
                    let bytes = data.records.clone().unwrap_or_default();
                    let batch = &decode_batches(&bytes).expect("a valid record batch")[0];
                    let incoming = Incoming {
                        node,
                        partition: data.index,
                        producer_id: batch.producer_id,
                        epoch: batch.producer_epoch,
                        base_sequence: batch.base_sequence,
                        values: batch
                            .records
                            .iter()
                            .map(|r| {
                                String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
                                    .into_owned()
                            })
                            .collect(),
                        size: bytes.len(),
                        at: std::time::Instant::now(),
                    };
                    s.received.push(incoming.clone());
                    let transactional = batch.attributes & 0x10 != 0;
                    if transactional {
                        s.txn_log.push(format!(
                            "Produce p{} epoch {}",
                            data.index, batch.producer_epoch
                        ));
                    }
                    let fault = s.rule.as_mut().and_then(|rule| rule(&incoming));
                    let v2 = transactional && s.transaction_v2 && request.transaction_v2;
                    let record_errors = match &fault {
                        Some(Fault::RejectRecords(_, indexes)) => indexes
                            .iter()
                            .map(|&batch_index| RecordError {
                                batch_index,
                                message: Some(format!("record {batch_index} is invalid")),
                            })
                            .collect(),
                        _ => vec![],
                    };
                    let code = match fault {
                        Some(Fault::Reject(code) | Fault::RejectRecords(code, _)) => code,
                        _ if v2 && batch.producer_epoch != s.txn_epoch => {
                            ErrorCode::INVALID_PRODUCER_EPOCH
                        }
                        // Produce v12+: the broker adds the partition itself.
                        _ if v2 => {
                            if s.txn_partitions.insert(data.index) && s.completing() {
                                s.early_adds += 1;
                            }
                            s.append(&incoming)
                        }
                        // As a broker verifying the transaction (KIP-890 part 1).
                        _ if transactional && !s.txn_partitions.contains(&data.index) => {
                            ErrorCode::INVALID_TXN_STATE
                        }
                        _ => s.append(&incoming),
                    };
                    lost |= fault == Some(Fault::LoseAnswer);
                    let current_leader = (code == ErrorCode::NOT_LEADER_OR_FOLLOWER
                        && s.leader_hints)
                        .then(|| s.leaders.get(data.index as usize).copied())
                        .flatten()
                        .map(|leader_id| {
                            if !endpoints
                                .iter()
                                .any(|e: &NodeEndpoint| e.node_id == leader_id)
                            {
                                endpoints.push(NodeEndpoint {
                                    node_id: leader_id,
                                    host: "127.0.0.1".into(),
                                    port: 19_000 + leader_id,
                                    rack: None,
                                });
                            }
                            LeaderIdAndEpoch {
                                leader_id,
                                leader_epoch: 1,
                            }
                        });
                    partitions.push(ProducePartitionResponse {
                        index: data.index,
                        error_code: code,
                        base_offset: 0,
                        log_append_time_ms: -1,
                        log_start_offset: 0,
                        record_errors,
                        error_message: None,
                        current_leader,
                    });
                }
                // As Produce v13 (KIP-516) does when the request named topics by id.
                let by_id = !topic.topic_id.is_zero();
                topics.push(ProduceTopicResponse {
                    name: if by_id {
                        String::new()
                    } else {
                        topic.name.clone()
                    },
                    topic_id: topic.topic_id,
                    partitions,
                });
            }
            ProduceResponse {
                topics,
                throttle_time_ms: s.throttle_ms,
                node_endpoints: endpoints,
            }
        });
        self.changed.notify_waiters();
        (!lost).then_some(response)
    }
}

impl State {
    /// Appends a batch as a Kafka broker would, checking idempotent sequences.
    fn append(&mut self, batch: &Incoming) -> ErrorCode {
        if self.leaders.get(batch.partition as usize) != Some(&batch.node) {
            return ErrorCode::NOT_LEADER_OR_FOLLOWER;
        }
        if self.max_message_bytes.is_some_and(|max| batch.size > max) {
            return ErrorCode::MESSAGE_TOO_LARGE;
        }
        let count = batch.values.len() as i32;
        if batch.producer_id >= 0 {
            let last = batch.base_sequence + count - 1;
            match self.sequences.get(&batch.partition).copied() {
                Some((pid, epoch, _)) if pid == batch.producer_id && batch.epoch < epoch => {
                    return ErrorCode::INVALID_PRODUCER_EPOCH;
                }
                Some((pid, epoch, seq)) if pid == batch.producer_id && batch.epoch == epoch => {
                    if batch.base_sequence <= seq {
                        return ErrorCode::DUPLICATE_SEQUENCE_NUMBER;
                    }
                    if batch.base_sequence != seq + 1 {
                        return ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER;
                    }
                }
                Some((pid, _, _)) if pid == batch.producer_id && batch.base_sequence != 0 => {
                    // A new epoch starts at 0.
                    return ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER;
                }
                _ => {}
            }
            self.sequences
                .insert(batch.partition, (batch.producer_id, batch.epoch, last));
        }
        self.logs
            .entry(batch.partition)
            .or_default()
            .extend(batch.values.iter().cloned());
        ErrorCode::NONE
    }
}

struct FakeLink {
    fake: Fake,
    node: i32,
    address: String,
    closed: std::sync::atomic::AtomicBool,
    /// As a connection's: what its answers said about quota throttling.
    throttle: crate::network::ThrottleLog,
}

impl FakeLink {
    fn disconnected(&self) -> NetworkError {
        NetworkError::Disconnected {
            address: self.address.clone(),
            reason: DisconnectReason::ClosedByClient,
        }
    }
}

impl Link for FakeLink {
    fn address(&self) -> &str {
        &self.address
    }

    fn take_throttles(&self) -> Vec<u32> {
        self.throttle.take()
    }

    fn muted_until(&self) -> Option<tokio::time::Instant> {
        self.throttle.muted_until()
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Acquire)
    }

    fn close(&self) {
        if !self.closed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            self.fake.set(|s| s.closed_by_client.push(self.node));
        }
    }

    fn supports_transaction_v2(&self) -> bool {
        self.fake.with(|s| s.transaction_v2)
    }

    fn supports_telemetry(&self) -> bool {
        self.fake.with(|s| s.telemetry.is_some())
    }

    fn get_telemetry_subscriptions(
        self: Arc<Self>,
        request: GetTelemetrySubscriptionsRequest,
        _: Duration,
    ) -> Call<GetTelemetrySubscriptionsResponse> {
        let mut answer = None;
        self.fake.set(|s| {
            let t = s.telemetry.as_mut().expect("telemetry advertised");
            t.subscription_requests.push(request.client_instance_id);
            answer = Some(GetTelemetrySubscriptionsResponse {
                throttle_time_ms: 0,
                error_code: ErrorCode::NONE,
                client_instance_id: if request.client_instance_id.is_zero() {
                    CLIENT_INSTANCE_ID
                } else {
                    Uuid::ZERO
                },
                subscription_id: t.subscription_id,
                accepted_compression_types: vec![4, 3, 1, 2],
                push_interval_ms: t.push_interval_ms,
                telemetry_max_bytes: 1 << 20,
                delta_temporality: true,
                requested_metrics: t.requested_metrics.clone(),
            });
        });
        async move { Ok(answer.expect("answered")) }.boxed()
    }

    fn push_telemetry(
        self: Arc<Self>,
        request: PushTelemetryRequest,
        _: Duration,
    ) -> Call<PushTelemetryResponse> {
        let mut code = ErrorCode::NONE;
        let mut hang = false;
        self.fake.set(|s| {
            let t = s.telemetry.as_mut().expect("telemetry advertised");
            code = if let Some(fault) = t.push_faults.pop_front() {
                fault
            } else if request.subscription_id != t.subscription_id {
                ErrorCode::UNKNOWN_SUBSCRIPTION_ID
            } else {
                ErrorCode::NONE
            };
            hang = t.hang_pushes;
            t.pushes.push(request);
            t.push_nodes.push(self.node);
        });
        async move {
            if hang {
                std::future::pending::<()>().await;
            }
            Ok(PushTelemetryResponse {
                throttle_time_ms: 0,
                error_code: code,
            })
        }
        .boxed()
    }

    fn metadata(
        self: Arc<Self>,
        _: MetadataRequest,
        _: Duration,
    ) -> BoxFuture<'static, Result<MetadataResponse, NetworkError>> {
        async move { Ok(self.fake.metadata(self.node)) }.boxed()
    }

    fn init_producer_id(
        self: Arc<Self>,
        request: InitProducerIdRequest,
        _: Duration,
    ) -> BoxFuture<'static, Result<InitProducerIdResponse, NetworkError>> {
        async move {
            if let Some(id) = &request.transactional_id {
                let code = self.fake.coordinator(format!(
                    "InitProducerId {id} epoch {}",
                    request.producer_epoch
                ));
                if !code.is_ok() {
                    return Ok(InitProducerIdResponse {
                        throttle_time_ms: 0,
                        error_code: code,
                        producer_id: -1,
                        producer_epoch: -1,
                    });
                }
            } else if let Some(code) = self.fake.with(|s| s.pid_error) {
                return Ok(InitProducerIdResponse {
                    throttle_time_ms: 0,
                    error_code: code,
                    producer_id: -1,
                    producer_epoch: -1,
                });
            }
            Ok(self.fake.init_producer_id(request))
        }
        .boxed()
    }

    fn find_coordinator(
        self: Arc<Self>,
        request: FindCoordinatorRequest,
        _: Duration,
    ) -> Call<FindCoordinatorResponse> {
        async move { Ok(self.find_coordinator_answer(&request)) }.boxed()
    }

    fn add_partitions_to_txn(
        self: Arc<Self>,
        request: AddPartitionsToTxnRequest,
        _: Duration,
    ) -> Call<AddPartitionsToTxnResponse> {
        async move {
            let partitions: Vec<i32> = request
                .topics
                .iter()
                .flat_map(|t| t.partitions.iter().copied())
                .collect();
            let line = format!(
                "AddPartitionsToTxn {partitions:?} epoch {}",
                request.producer_epoch
            );
            let code = if self.fake.with(|s| s.completing()) {
                self.fake.with(|s| s.early_adds += 1);
                let code = ErrorCode::CONCURRENT_TRANSACTIONS;
                self.fake.set(|s| s.txn_log.push(format!("{line}: {code}")));
                code
            } else {
                self.fake.coordinator(line)
            };
            if code.is_ok() {
                self.fake.set(|s| s.txn_partitions.extend(&partitions));
            }
            Ok(AddPartitionsToTxnResponse {
                throttle_time_ms: 0,
                results: request
                    .topics
                    .iter()
                    .map(|t| AddPartitionsToTxnTopicResult {
                        name: t.name.clone(),
                        partitions: t
                            .partitions
                            .iter()
                            .map(|&partition_index| AddPartitionsToTxnPartitionResult {
                                partition_index,
                                error_code: code,
                            })
                            .collect(),
                    })
                    .collect(),
            })
        }
        .boxed()
    }

    fn add_offsets_to_txn(
        self: Arc<Self>,
        request: AddOffsetsToTxnRequest,
        _: Duration,
    ) -> Call<AddOffsetsToTxnResponse> {
        async move {
            let code = self
                .fake
                .coordinator(format!("AddOffsetsToTxn {}", request.group_id));
            Ok(AddOffsetsToTxnResponse {
                throttle_time_ms: 0,
                error_code: code,
            })
        }
        .boxed()
    }

    fn txn_offset_commit(
        self: Arc<Self>,
        request: TxnOffsetCommitRequest,
        _: Duration,
    ) -> Call<TxnOffsetCommitResponse> {
        async move {
            let offsets: Vec<_> = request
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().map(move |p| {
                        format!("{}-{}@{}", t.name, p.partition_index, p.committed_offset)
                    })
                })
                .collect();
            let code = self.fake.coordinator(format!(
                "TxnOffsetCommit{} {} gen {} member {} {offsets:?}",
                if request.transaction_v2 { " v5" } else { "" },
                request.group_id,
                request.generation_id,
                request.member_id
            ));
            Ok(TxnOffsetCommitResponse {
                throttle_time_ms: 0,
                topics: request
                    .topics
                    .iter()
                    .map(|t| TxnOffsetCommitTopicResult {
                        name: t.name.clone(),
                        partitions: t
                            .partitions
                            .iter()
                            .map(|p| (p.partition_index, code))
                            .collect(),
                    })
                    .collect(),
            })
        }
        .boxed()
    }

    fn supports_describe_transactions(&self) -> bool {
        !self.fake.with(|s| s.no_describe_transactions)
    }

    fn describe_transactions(
        self: Arc<Self>,
        request: DescribeTransactionsRequest,
        _: Duration,
    ) -> Call<DescribeTransactionsResponse> {
        async move {
            let delay = self.fake.with(|s| s.answer_delay);
            let error_code = self
                .fake
                .with(|s| s.describe_error.unwrap_or(ErrorCode::NONE));
            let (state, producer_epoch) = self.fake.with(|s| {
                s.describes += 1;
                let completing = s
                    .completing_until
                    .is_some_and(|until| std::time::Instant::now() < until);
                s.describes_completing += usize::from(completing);
                let state = if completing {
                    "PrepareCommit"
                } else if s.txn_partitions.is_empty() {
                    "CompleteCommit"
                } else {
                    "Ongoing"
                };
                (state, s.txn_epoch)
            });
            tokio::time::sleep(delay).await;
            Ok(DescribeTransactionsResponse {
                throttle_time_ms: 0,
                transaction_states: request
                    .transactional_ids
                    .into_iter()
                    .map(|transactional_id| DescribedTransaction {
                        error_code,
                        transactional_id,
                        transaction_state: state.into(),
                        transaction_timeout_ms: 60_000,
                        transaction_start_time_ms: -1,
                        producer_id: 1001,
                        producer_epoch,
                        topics: Vec::new(),
                    })
                    .collect(),
            })
        }
        .boxed()
    }

    fn end_txn(self: Arc<Self>, request: EndTxnRequest, _: Duration) -> Call<EndTxnResponse> {
        async move {
            let v2 = request.transaction_v2 && self.fake.with(|s| s.transaction_v2);
            let code = self.fake.coordinator(format!(
                "EndTxn{} {} epoch {}",
                if v2 { " v5" } else { "" },
                if request.committed { "commit" } else { "abort" },
                request.producer_epoch
            ));
            let (mut producer_id, mut producer_epoch) = (-1, -1);
            let delay = self.fake.with(|s| s.end_txn_delay);
            if code.is_ok() {
                self.fake.set(|s| {
                    if !delay.is_zero() {
                        s.completing_until = Some(std::time::Instant::now() + delay + delay / 2);
                    }
                    s.txn_partitions.clear();
                    if v2 {
                        // KIP-890: every EndTxn bumps the epoch.
                        s.txn_epoch = request.producer_epoch + 1;
                        (producer_id, producer_epoch) = (request.producer_id, s.txn_epoch);
                    }
                });
            }
            tokio::time::sleep(delay).await;
            Ok(EndTxnResponse {
                throttle_time_ms: 0,
                error_code: code,
                producer_id,
                producer_epoch,
            })
        }
        .boxed()
    }

    fn produce(
        self: Arc<Self>,
        request: ProduceRequest,
        _: Duration,
    ) -> BoxFuture<'static, Result<Option<Answer>, NetworkError>> {
        async move {
            // A broker that stopped reading: the write completes only once it
            // reads again.
            self.fake.until(|s| !s.stalled.contains(&self.node)).await;
            if self.is_closed() {
                return Err(self.disconnected());
            }
            let delay = self.fake.with(|s| s.answer_delay);
            let answer = match self.fake.produce(self.node, &request) {
                Some(response) => Ok(response),
                None => {
                    self.close();
                    Err(self.disconnected())
                }
            };
            Ok(Some(
                async move {
                    tokio::time::sleep(delay).await;
                    if let Ok(response) = &answer {
                        // As a connection decoding a Produce v6+ answer.
                        self.throttle.response(
                            response.throttle_time_ms,
                            true,
                            tokio::time::Instant::now(),
                        );
                    }
                    answer
                }
                .boxed() as Answer,
            ))
        }
        .boxed()
    }
}

impl State {
    /// Whether the coordinator is still completing the last transaction.
    fn completing(&self) -> bool {
        self.completing_until
            .is_some_and(|at| at > std::time::Instant::now())
    }
}

impl Fake {
    /// The coordinator's answer code for the next request, logging it.
    fn coordinator(&self, line: String) -> ErrorCode {
        let code = self.with(|s| s.txn_faults.pop_front().unwrap_or(ErrorCode::NONE));
        let line = if code.is_ok() {
            line
        } else {
            format!("{line}: {code}")
        };
        self.set(|s| s.txn_log.push(line));
        code
    }
}

impl FakeLink {
    fn find_coordinator_answer(&self, request: &FindCoordinatorRequest) -> FindCoordinatorResponse {
        let code = self
            .fake
            .coordinator(format!("FindCoordinator {:?}", request.key_type));
        FindCoordinatorResponse {
            throttle_time_ms: 0,
            coordinators: vec![Coordinator {
                key: None,
                node_id: 1,
                host: "127.0.0.1".into(),
                port: 19_001,
                error_code: code,
                error_message: None,
            }],
        }
    }
}

impl Connector for Fake {
    fn connect(
        &self,
        address: String,
        setup_timeout: Duration,
        attempt: u32,
    ) -> BoxFuture<'static, Result<Arc<dyn Link>, NetworkError>> {
        let node = address
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse::<i32>().ok())
            .map_or(-1, |port| port - 19_000);
        let refused = self.with(|s| {
            s.connect_timeouts.push((node, setup_timeout, attempt));
            match s.refuse_connections.get_mut(&node) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    true
                }
                _ => false,
            }
        });
        // For tests waiting on `connect_timeouts`.
        self.changed.notify_waiters();
        if self.with(|s| s.connect_panics) {
            return async move { panic!("the token provider failed") }.boxed();
        }
        if refused {
            let error = NetworkError::Connect {
                address,
                source: Arc::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            };
            return async move { Err(error) }.boxed();
        }
        let link = FakeLink {
            fake: self.clone(),
            node,
            address,
            closed: Default::default(),
            throttle: Default::default(),
        };
        async move { Ok(Arc::new(link) as Arc<dyn Link>) }.boxed()
    }
}

/// A rule: `fault` for the first batch whose base sequence is `sequence` or more.
fn once_from_sequence(sequence: i32, fault: Fault) -> impl FnMut(&Incoming) -> Option<Fault> {
    let mut done = false;
    move |batch| {
        if done || batch.base_sequence < sequence {
            return None;
        }
        done = true;
        Some(fault)
    }
}

/// A producer whose connections go to `fake`, with these extra properties.
fn producer(fake: &Fake, props: &[(&str, &str)]) -> KafkaProducer {
    let mut all = vec![
        ("bootstrap.servers", "127.0.0.1:19001"),
        ("retry.backoff.ms", "5"),
        ("retry.backoff.max.ms", "20"),
    ];
    all.extend_from_slice(props);
    let config = ProducerConfig::from_properties(all.iter().copied()).expect("valid config");
    KafkaProducer::builder(config)
        .build_with(Some(Arc::new(fake.clone())))
        .expect("producer")
}

fn values(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("v{i}")).collect()
}

/// Sends `values` to `partition` one by one (each its own batch with
/// `linger.ms=0` once the previous is in flight) and returns the outcomes.
async fn send_all(
    producer: &KafkaProducer,
    partition: i32,
    values: &[String],
) -> Vec<Result<crate::RecordMetadata, crate::SendError>> {
    let mut futures = Vec::new();
    for value in values {
        let record = ProducerRecord::new(TOPIC, value.clone()).with_partition(partition);
        futures.push(producer.send(record).await.expect("accepted"));
    }
    let mut outcomes = Vec::new();
    for future in futures {
        outcomes.push(future.await);
    }
    outcomes
}

/// Sends `values` to `partition`; every one must be delivered.
async fn deliver_all(producer: &KafkaProducer, partition: i32, values: &[String]) {
    for (i, outcome) in send_all(producer, partition, values)
        .await
        .into_iter()
        .enumerate()
    {
        if let Err(e) = outcome {
            panic!("{} was not delivered: {e}", values[i]);
        }
    }
}

async fn within<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, test)
        .await
        .expect("the test finished in time")
}

/// `batch.size` small enough that every 3 records make a batch of their own.
const SMALL_BATCHES: (&str, &str) = ("batch.size", "64");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_go_out_in_sequence_order_and_land_once() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.answer_delay = Duration::from_millis(20));
        // The 3rd batch of partition 0 fails once (retriable): the batches
        // written after it are refused as out of order until it is retried.
        fake.rule(once_from_sequence(
            6,
            Fault::Reject(ErrorCode::NOT_ENOUGH_REPLICAS),
        ));
        let producer = producer(&fake, &[SMALL_BATCHES]);
        let sent = values(0..60);
        deliver_all(&producer, 0, &sent).await;
        let sequences: Vec<i32> =
            fake.with(|s| s.received.iter().map(|b| b.base_sequence).collect());
        assert!(
            sequences.windows(2).any(|w| w[1] < w[0]),
            "later batches were in flight when the failed one was retried: {sequences:?}"
        );
        assert_eq!(fake.log(0), sent, "every record once, in order");
        // Java's counting: a retried record is sent (and counted) again.
        let metrics = producer.metrics();
        assert!(metrics.record_retry_total > 0);
        assert_eq!(metrics.record_ack_total, 60);
        assert_eq!(
            metrics.record_send_total,
            60 + metrics.record_retry_total,
            "{metrics:?}"
        );
        let topic = metrics.topics.values().next().expect("the topic's metrics");
        assert_eq!(topic.record_retry_total, metrics.record_retry_total);
        assert_eq!(topic.record_send_total, metrics.record_send_total);
        assert_eq!(metrics.record_error_total, 0);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_resent_with_the_same_sequence_and_deduplicated() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.answer_delay = Duration::from_millis(20));
        fake.rule(once_from_sequence(9, Fault::LoseAnswer));
        let producer = producer(&fake, &[SMALL_BATCHES]);
        let sent = values(0..40);
        deliver_all(&producer, 0, &sent).await;
        assert_eq!(fake.log(0), sent, "written once although sent twice");
        let sequences: Vec<i32> =
            fake.with(|s| s.received.iter().map(|b| b.base_sequence).collect());
        let first_resend = sequences.windows(2).any(|w| w[1] <= w[0]);
        assert!(first_resend, "some batch was resent: {sequences:?}");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_producer_id_bumps_the_epoch_and_restarts_sequences() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.rule(once_from_sequence(
            6,
            Fault::Reject(ErrorCode::UNKNOWN_PRODUCER_ID),
        ));
        let producer = producer(
            &fake,
            &[
                SMALL_BATCHES,
                ("max.in.flight.requests.per.connection", "1"),
            ],
        );
        let sent = values(0..30);
        deliver_all(&producer, 0, &sent).await;
        assert_eq!(fake.log(0), sent);
        let (inits, epochs) = fake.with(|s| {
            (
                s.init_requests.clone(),
                s.received.iter().map(|b| b.epoch).collect::<BTreeSet<_>>(),
            )
        });
        assert_eq!(
            inits.len(),
            1,
            "KIP-360: the idempotent producer bumps its epoch itself, as Java's"
        );
        assert_eq!(epochs, BTreeSet::from([0, 1]));
        assert_eq!(
            fake.with(|s| s
                .received
                .iter()
                .map(|b| b.producer_id)
                .collect::<BTreeSet<_>>()),
            BTreeSet::from([1001]),
            "the same id"
        );
        assert_eq!(producer.metrics().producer_epoch_bump_total, 1);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_out_of_order_sequence_is_sent_again_under_a_new_epoch() {
    within(async {
        let fake = Fake::new(1, &[1]);
        // The broker lost track: it refuses the batch that is in fact next.
        fake.rule(once_from_sequence(
            3,
            Fault::Reject(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER),
        ));
        let producer = producer(
            &fake,
            &[
                SMALL_BATCHES,
                ("max.in.flight.requests.per.connection", "1"),
            ],
        );
        let sent = values(0..12);
        // As Java's idempotent producer: every batch before it was
        // acknowledged and it was refused, so it goes again, at sequence 0 of
        // a new epoch, and nothing fails.
        deliver_all(&producer, 0, &sent).await;
        assert_eq!(fake.log(0), sent, "everything lands once, in order");
        let refused = fake.with(|s| {
            s.received
                .iter()
                .find(|b| b.base_sequence >= 3 && b.epoch == 0)
                .map(|b| b.values.clone())
                .expect("the refused batch")
        });
        let resent = fake.with(|s| {
            s.received
                .iter()
                .find(|b| b.epoch == 1)
                .map(|b| (b.values.clone(), b.base_sequence))
                .expect("a batch of the new epoch")
        });
        assert_eq!(resent, (refused, 0), "the refused batch first, at 0");
        assert_eq!(producer.metrics().producer_epoch_bump_total, 1);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_partition_sends_its_retries_one_at_a_time_until_the_first_is_acknowledged() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let delay = Duration::from_millis(30);
        fake.set(|s| s.answer_delay = delay);
        // The broker refuses the next batch as out of order; the batches in
        // flight behind it are refused too, and all are queued again for the
        // new epoch.
        fake.rule(once_from_sequence(
            6,
            Fault::Reject(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER),
        ));
        let producer = producer(&fake, &[SMALL_BATCHES]);
        let sent = values(0..30);
        deliver_all(&producer, 0, &sent).await;
        assert_eq!(fake.log(0), sent, "everything lands once, in order");
        let restarted: Vec<(i32, std::time::Instant)> = fake.with(|s| {
            s.received
                .iter()
                .filter(|b| b.epoch == 1)
                .map(|b| (b.base_sequence, b.at))
                .collect()
        });
        assert!(restarted.len() >= 2, "{restarted:?}");
        // Until the broker acknowledged a first batch of the new epoch it
        // holds no sequence to check the next against (after losing our
        // state it accepts any): the second goes only after the first's answer.
        assert_eq!(restarted[0].0, 0);
        assert!(
            restarted[1].1 >= restarted[0].1 + delay,
            "the second batch of the new epoch went {:?} after the first, before its answer",
            restarted[1].1 - restarted[0].1
        );
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_named_in_the_produce_answer_takes_the_retry_at_once() {
    within(async {
        let fake = Fake::new(2, &[1]);
        // A long backoff and a short delivery timeout: only a retry sent to
        // the new leader at once, without waiting for metadata, delivers.
        let producer = producer(
            &fake,
            &[
                ("retry.backoff.ms", "30000"),
                ("retry.backoff.max.ms", "30000"),
                ("linger.ms", "0"),
                ("request.timeout.ms", "2000"),
                ("delivery.timeout.ms", "10000"),
            ],
        );
        deliver_all(&producer, 0, &values(0..1)).await;
        // The leader moves to broker 2, which the producer has never heard
        // of; Metadata still answers the old leader (a lagging broker).
        fake.set(|s| {
            s.leaders = vec![2];
            s.stale_metadata = Some((vec![1], vec![1]));
            s.leader_hints = true;
        });
        let started = std::time::Instant::now();
        producer
            .send(ProducerRecord::new(TOPIC, "moved").with_partition(0))
            .await
            .expect("accepted")
            .await
            .expect("delivered by the new leader");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the retry waited for its backoff: {:?}",
            started.elapsed()
        );
        assert_eq!(fake.log(0), ["v0", "moved"]);
        let nodes: Vec<i32> = fake.with(|s| {
            s.received
                .iter()
                .filter(|b| b.values == ["moved"])
                .map(|b| b.node)
                .collect()
        });
        assert_eq!(nodes, [1, 2], "refused by the old leader, taken by the new");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_timestamp_is_refused_before_it_can_fail_its_batch() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[]);
        // Once with the topic's metadata unknown, once known.
        for _ in 0..2 {
            let refused = producer
                .send(
                    ProducerRecord::new(TOPIC, "v")
                        .with_partition(0)
                        .with_timestamp(-5),
                )
                .await
                .expect_err("refused as Java's ProducerRecord refuses it");
            assert!(
                matches!(
                    refused.error(),
                    KafkaError::InvalidTimestamp { timestamp: -5, .. }
                ),
                "{refused:?}"
            );
            deliver_all(&producer, 0, &values(0..1)).await;
        }
        assert_eq!(fake.log(0), ["v0", "v0"], "nothing else was sent");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_expire_after_the_delivery_timeout() {
    within(async {
        // Partition 0's leader is unknown (-1): its batches can go nowhere.
        let fake = Fake::new(1, &[-1, 1]);
        let producer = producer(
            &fake,
            &[
                ("delivery.timeout.ms", "300"),
                ("request.timeout.ms", "200"),
                ("linger.ms", "0"),
            ],
        );
        let stuck = producer
            .send(ProducerRecord::new(TOPIC, "stuck").with_partition(0))
            .await
            .expect("accepted");
        let error = stuck.await.expect_err("expired");
        assert!(
            matches!(
                error.error(),
                KafkaError::DeliveryTimeout { partition: 0, .. }
            ),
            "{error}"
        );
        assert_eq!(
            error.record().map(|r| r.value.clone()),
            Some(Some(Bytes::from("stuck")))
        );
        // The other partition is not held back.
        deliver_all(&producer, 1, &values(0..3)).await;
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_leader_refreshes_metadata_and_reroutes_to_the_new_leader() {
    within(async {
        let fake = Fake::new(2, &[1]);
        let producer = producer(&fake, &[]);
        deliver_all(&producer, 0, &values(0..2)).await;
        let fetched = fake.with(|s| s.metadata_requests);
        // Leadership moves to broker 2; broker 1 answers NOT_LEADER_OR_FOLLOWER.
        fake.with(|s| s.leaders = vec![2]);
        deliver_all(&producer, 0, &values(2..5)).await;
        assert_eq!(fake.log(0), values(0..5));
        let (refetched, last_node) =
            fake.with(|s| (s.metadata_requests, s.received.last().map(|b| b.node)));
        assert!(refetched > fetched, "metadata fetched again");
        assert_eq!(last_node, Some(2));
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_stops_reading_holds_back_only_its_own_partitions() {
    within(async {
        let fake = Fake::new(2, &[1, 2]);
        let producer = producer(&fake, &[]);
        // Both brokers are connected and known first.
        deliver_all(&producer, 0, &values(0..1)).await;
        deliver_all(&producer, 1, &values(0..1)).await;
        fake.with(|s| s.stalled.insert(1));
        let mut stuck = Vec::new();
        for value in values(1..4) {
            let record = ProducerRecord::new(TOPIC, value).with_partition(0);
            stuck.push(producer.send(record).await.expect("accepted"));
        }
        // Broker 2 keeps taking records while broker 1's write hangs.
        deliver_all(&producer, 1, &values(1..50)).await;
        assert_eq!(fake.log(1), values(0..50));
        assert!(
            stuck.iter().all(|f| !f.is_done()),
            "broker 1's records wait"
        );
        // Broker 1 reads again: everything lands.
        fake.set(|s| s.stalled.clear());
        fake.until(|s| s.logs.get(&0).is_some_and(|l| l.len() == 4))
            .await;
        assert_eq!(fake.log(0), values(0..4));
        producer.close(LIMIT).await;
    })
    .await;
}

/// Waits until `count` sends wait for buffer memory.
async fn until_waiting_for_memory(producer: &KafkaProducer, count: usize) {
    while producer.metrics().waiting_appends < count {
        tokio::task::yield_now().await;
    }
}

/// Values of 40 bytes: with `SMALL_BATCHES` each record is a batch of its
/// own, for which 125 bytes of `buffer.memory` are reserved.
fn wide_values(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("v{i:039}")).collect()
}

/// `buffer.memory` for two batches of `wide_values`: the third send waits.
const TWO_BATCHES: (&str, &str) = ("buffer.memory", "300");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_waits_for_buffer_memory_and_lands_in_order_once_memory_is_freed() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[SMALL_BATCHES, TWO_BATCHES]);
        let values = wide_values(0..4);
        deliver_all(&producer, 0, &values[..1]).await;
        fake.with(|s| s.stalled.insert(1));
        let mut accepted = Vec::new();
        for value in &values[1..3] {
            let record = ProducerRecord::new(TOPIC, value.clone()).with_partition(0);
            accepted.push(producer.send(record).await.expect("accepted at once"));
        }
        let waiting = tokio::spawn({
            let producer = producer.clone();
            let record = ProducerRecord::new(TOPIC, values[3].clone()).with_partition(0);
            async move { producer.send(record).await }
        });
        until_waiting_for_memory(&producer, 1).await;
        assert!(!waiting.is_finished(), "the third send waits for memory");
        // The broker reads again: memory comes back, the waiting send
        // appends, and every record lands once, in order.
        fake.set(|s| s.stalled.clear());
        let last = waiting
            .await
            .expect("no panic")
            .expect("accepted after waiting");
        accepted.push(last);
        for future in accepted {
            future.await.expect("delivered");
        }
        assert_eq!(fake.log(0), values);
        let metrics = producer.metrics();
        assert_eq!(metrics.waiting_appends, 0);
        assert!(metrics.bufferpool_wait_time_total > Duration::ZERO);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_waiting_for_buffer_memory_fails_after_max_block_with_its_record() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(
            &fake,
            &[SMALL_BATCHES, TWO_BATCHES, ("max.block.ms", "200")],
        );
        let values = wide_values(0..4);
        deliver_all(&producer, 0, &values[..1]).await;
        fake.with(|s| s.stalled.insert(1));
        for value in &values[1..3] {
            let record = ProducerRecord::new(TOPIC, value.clone()).with_partition(0);
            drop(producer.send(record).await.expect("accepted at once"));
        }
        let record = ProducerRecord::new(TOPIC, values[3].clone()).with_partition(0);
        let (told, heard) = std::sync::mpsc::channel();
        let error = producer
            .send_with_callback(record.clone(), move |result| {
                told.send(result).expect("the test hears")
            })
            .await
            .expect_err("no memory within max.block.ms");
        assert!(
            matches!(error.error(), KafkaError::BufferExhausted { .. }),
            "{error}"
        );
        assert_eq!(error.record(), Some(&record));
        assert!(error.refused_before_sending());
        // The callback heard the refusal before the send returned it, once.
        let told = heard
            .try_recv()
            .expect("the callback ran")
            .expect_err("refused");
        assert!(matches!(told.error(), KafkaError::BufferExhausted { .. }));
        assert_eq!(told.record(), Some(&record));
        assert!(told.refused_before_sending());
        assert!(heard.try_recv().is_err(), "the callback ran once");
        let metrics = producer.metrics();
        assert_eq!(metrics.waiting_appends, 0);
        assert_eq!(
            metrics.record_error_total, 1,
            "the refused record is counted"
        );
        assert_eq!(metrics.buffer_exhausted_total, 1, "as BufferPool counts it");
        fake.set(|s| s.stalled.clear());
        producer.close(LIMIT).await;
        assert_eq!(fake.log(0), values[..3]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_max_message_bytes_is_split_and_lands_once_in_order() {
    within(async {
        let fake = Fake::new(1, &[1]);
        // The topic takes batches of at most ~4 of these records.
        fake.set(|s| {
            s.max_message_bytes = Some(400);
            s.answer_delay = Duration::from_millis(5);
        });
        let producer = producer(&fake, &[("linger.ms", "50"), ("compression.type", "lz4")]);
        let sent: Vec<String> = (0..200)
            .map(|i| format!("{i:0>4}-{}", "x".repeat(70)))
            .collect();
        let callbacks = Arc::new(Mutex::new(Vec::new()));
        let mut futures = Vec::new();
        for (i, value) in sent.iter().enumerate() {
            let record = ProducerRecord::new(TOPIC, value.clone()).with_partition(0);
            if i % 2 == 0 {
                futures.push((i, producer.send(record).await.expect("accepted")));
            } else {
                let callbacks = callbacks.clone();
                producer
                    .send_with_callback(record, move |result| {
                        let sent = result.expect("delivered");
                        callbacks
                            .lock()
                            .unwrap()
                            .push((i, sent.record.value.clone()));
                    })
                    .await
                    .expect("accepted");
            }
        }
        for (i, future) in futures {
            let metadata = future.await.unwrap_or_else(|e| panic!("record {i}: {e}"));
            assert_eq!(metadata.partition, 0);
        }
        producer.close(LIMIT).await;
        assert_eq!(fake.log(0), sent, "every record once, in order");
        let callbacks = callbacks.lock().unwrap().clone();
        assert_eq!(callbacks.len(), 100, "every callback ran once");
        for (i, value) in callbacks {
            assert_eq!(
                value.as_deref(),
                Some(sent[i].as_bytes()),
                "record {i} given back"
            );
        }
        let (too_large, biggest_written) = fake.with(|s| {
            let max = s.max_message_bytes.unwrap_or(0);
            (
                s.received.iter().filter(|b| b.size > max).count(),
                s.received
                    .iter()
                    .filter(|b| b.size <= max)
                    .map(|b| b.size)
                    .max(),
            )
        });
        assert!(too_large > 0, "some batch was too large");
        assert!(biggest_written.is_some());
        assert!(producer.metrics().batch_split_total as usize >= too_large);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_record_over_max_message_bytes_fails_alone() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.max_message_bytes = Some(200));
        let producer = producer(&fake, &[("linger.ms", "0")]);
        let big = producer
            .send(ProducerRecord::new(TOPIC, "y".repeat(300)).with_partition(0))
            .await
            .expect("accepted");
        let error = big.await.expect_err("too large for the topic");
        assert_eq!(
            error.error().error_code(),
            Some(ErrorCode::MESSAGE_TOO_LARGE),
            "{error}"
        );
        deliver_all(&producer, 0, &values(0..5)).await;
        assert_eq!(fake.log(0), values(0..5));
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_broker_is_not_sent_to_before_the_throttle_time_passes() {
    within(async {
        const THROTTLE: Duration = Duration::from_millis(300);
        // Broker 1 throttles this client (KIP-219); broker 2 does not.
        let fake = Fake::new(2, &[1, 2]);
        fake.set(|s| s.throttle_ms = THROTTLE.as_millis() as i32);
        let producer = producer(&fake, &[("linger.ms", "0")]);
        deliver_all(&producer, 0, &values(0..1)).await;
        fake.set(|s| s.throttle_ms = 0);
        deliver_all(&producer, 1, &values(0..1)).await;
        deliver_all(&producer, 0, &values(1..2)).await;
        let arrivals: Vec<(i32, std::time::Instant)> =
            fake.with(|s| s.received.iter().map(|b| (b.node, b.at)).collect());
        let to_1: Vec<_> = arrivals
            .iter()
            .filter(|(n, _)| *n == 1)
            .map(|(_, at)| *at)
            .collect();
        assert_eq!(to_1.len(), 2);
        assert!(
            to_1[1] - to_1[0] >= THROTTLE,
            "broker 1 was sent to {:?} after it throttled the client for {THROTTLE:?}",
            to_1[1] - to_1[0]
        );
        let metrics = producer.metrics();
        assert_eq!(metrics.produce_throttled_total, 1);
        assert_eq!(metrics.produce_throttle_time_max, THROTTLE);
        producer.close(LIMIT).await;
    })
    .await;
}

// --- transactions -------------------------------------------------------------

const TX: (&str, &str) = ("transactional.id", "tx");

/// A transactional producer on `fake`, initialized, in a transaction.
async fn in_transaction(fake: &Fake) -> KafkaProducer {
    let producer = producer(fake, &[TX]);
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    producer
}

fn txn_log(fake: &Fake) -> Vec<String> {
    fake.with(|s| s.txn_log.clone())
}

/// Index of the first line of `log` that starts with `prefix`.
fn position(log: &[String], prefix: &str) -> usize {
    log.iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' in {log:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_adds_its_partitions_before_their_batches_and_ends_after_them() {
    within(async {
        let fake = Fake::new(1, &[1, 1]);
        let producer = producer(&fake, &[TX]);
        producer.init_transactions().await.expect("init");
        assert_eq!(
            producer.transaction_protocol(),
            Some(crate::TransactionProtocol::V1)
        );
        producer.begin_transaction().expect("begin");
        let mut delivered = Vec::new();
        for partition in [0, 1] {
            let record =
                ProducerRecord::new(TOPIC, format!("v{partition}")).with_partition(partition);
            delivered.push(producer.send(record).await.expect("accepted"));
        }
        let group = crate::ConsumerGroupMetadata::new("billing").with_member(4, "m-1");
        let offsets = [(
            crate::TopicPartition::new("input", 0),
            crate::OffsetAndMetadata::new(42),
        )];
        producer
            .send_offsets_to_transaction(offsets, &group)
            .await
            .expect("offsets");
        producer.commit_transaction().await.expect("commit");
        for d in delivered {
            d.await.expect("delivered before the commit returned");
        }
        let log = txn_log(&fake);
        assert_eq!(log[0], "FindCoordinator Transaction");
        assert_eq!(log[1], "InitProducerId tx epoch -1");
        for partition in [0, 1] {
            let produced = position(&log, &format!("Produce p{partition}"));
            let added = log
                .iter()
                .position(|l| {
                    l.starts_with("AddPartitionsToTxn") && l.contains(&partition.to_string())
                })
                .expect("partition added");
            assert!(added < produced, "AddPartitionsToTxn first: {log:#?}");
        }
        assert!(
            position(&log, "AddOffsetsToTxn billing")
                < position(
                    &log,
                    "TxnOffsetCommit billing gen 4 member m-1 [\"input-0@42\"]"
                )
        );
        assert_eq!(log.last().unwrap(), "EndTxn commit epoch 0", "{log:#?}");
        // Outside a transaction again: sends are refused.
        let refused = producer
            .send(ProducerRecord::new(TOPIC, "late"))
            .await
            .expect_err("no transaction");
        assert!(matches!(refused.error(), KafkaError::Transaction(_)));
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_transaction_waits_for_the_coordinator_to_complete_the_last() {
    /// How the coordinator takes DescribeTransactions.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Describe {
        Answers,
        /// A broker before Kafka 3.0.
        Unsupported,
        /// An ACL without DESCRIBE on the transactional id.
        Refused,
    }
    within(async {
        let cases = [
            (false, Describe::Answers),
            (true, Describe::Answers),
            (false, Describe::Unsupported),
            (true, Describe::Unsupported),
            (true, Describe::Refused),
        ];
        for (v2, describe) in cases {
            let fake = Fake::new(1, &[1, 1]);
            fake.set(|s| {
                s.transaction_v2 = v2;
                s.no_describe_transactions = describe == Describe::Unsupported;
                s.describe_error = (describe == Describe::Refused)
                    .then_some(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
                s.end_txn_delay = Duration::from_millis(10);
            });
            let producer = producer(&fake, &[TX]);
            producer.init_transactions().await.expect("init");
            let mut delivered = Vec::new();
            for round in 0..3 {
                producer.begin_transaction().expect("begin");
                for partition in [0, 1] {
                    let record = ProducerRecord::new(TOPIC, format!("r{round}p{partition}"))
                        .with_partition(partition);
                    delivered.push(producer.send(record).await.expect("accepted"));
                }
                // At once: the commit sends the batches without linger.ms.
                producer.commit_transaction().await.expect("commit");
            }
            for d in delivered {
                d.await.expect("delivered");
            }
            let log = txn_log(&fake);
            let case = format!("V2 {v2}, DescribeTransactions {describe:?}");
            assert_eq!(
                fake.with(|s| s.early_adds),
                0,
                "{case}: no partition reached the coordinator while it completed the last transaction: {log:#?}"
            );
            let (describes, completing) = fake.with(|s| (s.describes, s.describes_completing));
            match describe {
                // Asked after each of the two EndTxns followed by a
                // transaction, until the coordinator had completed it.
                Describe::Answers => {
                    assert!(completing >= 2, "{case}: {describes} asked, {completing} completing");
                    assert!(describes >= completing + 2, "{case}: {describes} asked");
                }
                Describe::Unsupported => assert_eq!(describes, 0, "{case}"),
                // A refusal for good is not asked again: the learned wait.
                Describe::Refused => assert_eq!(describes, 1, "{case}"),
            }
            for partition in [0, 1] {
                let expected: Vec<String> = (0..3).map(|r| format!("r{r}p{partition}")).collect();
                assert_eq!(fake.log(partition), expected, "{case}");
            }
            producer.close(LIMIT).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transactions_on_the_first_partitions_is_retried_soon_not_after_retry_backoff() {
    within(async {
        let fake = Fake::new(1, &[1]);
        // Far beyond the test's limit: only Java's 20 ms lets the test finish.
        let producer = producer(
            &fake,
            &[
                TX,
                ("retry.backoff.ms", "60000"),
                ("retry.backoff.max.ms", "60000"),
            ],
        );
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        fake.set(|s| s.txn_faults.push_back(ErrorCode::CONCURRENT_TRANSACTIONS));
        let delivered = producer
            .send(ProducerRecord::new(TOPIC, "a").with_partition(0))
            .await
            .expect("accepted");
        producer.commit_transaction().await.expect("commit");
        delivered.await.expect("delivered");
        let log = txn_log(&fake);
        let refused = position(
            &log,
            "AddPartitionsToTxn [0] epoch 0: CONCURRENT_TRANSACTIONS",
        );
        assert_eq!(
            log[refused + 1],
            "AddPartitionsToTxn [0] epoch 0",
            "{log:#?}"
        );
        assert_eq!(fake.log(0), vec!["a".to_owned()]);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_v2_adds_nothing_explicitly_and_every_end_txn_bumps_the_epoch() {
    within(async {
        let fake = Fake::new(1, &[1, 1]);
        fake.set(|s| s.transaction_v2 = true);
        let producer = producer(&fake, &[TX]);
        producer.init_transactions().await.expect("init");
        assert_eq!(
            producer.transaction_protocol(),
            Some(crate::TransactionProtocol::V2)
        );
        let group = crate::ConsumerGroupMetadata::new("billing").with_member(4, "m-1");
        for (round, epoch) in [(0, 0), (1, 1), (2, 2)] {
            producer.begin_transaction().expect("begin");
            for partition in [0, 1] {
                let record = ProducerRecord::new(TOPIC, format!("r{round}p{partition}"))
                    .with_partition(partition);
                producer
                    .send(record)
                    .await
                    .expect("accepted")
                    .await
                    .expect("written: Produce v12 added the partition");
            }
            let offsets = [(
                crate::TopicPartition::new("input", 0),
                crate::OffsetAndMetadata::new(round),
            )];
            producer
                .send_offsets_to_transaction(offsets, &group)
                .await
                .expect("offsets");
            if round == 1 {
                producer.abort_transaction().await.expect("abort");
            } else {
                producer.commit_transaction().await.expect("commit");
            }
            let log = txn_log(&fake);
            let end = if round == 1 { "abort" } else { "commit" };
            assert_eq!(
                log.last().unwrap(),
                &format!("EndTxn v5 {end} epoch {epoch}"),
                "the epoch EndTxn v5 returned is the next transaction's: {log:#?}"
            );
            for partition in [0, 1] {
                position(&log, &format!("Produce p{partition} epoch {epoch}"));
            }
        }
        let log = txn_log(&fake);
        assert!(
            !log.iter()
                .any(|l| l.starts_with("AddPartitionsToTxn") || l.starts_with("AddOffsetsToTxn")),
            "V2 adds partitions and offsets implicitly: {log:#?}"
        );
        assert_eq!(
            log.iter()
                .filter(|l| l.starts_with("InitProducerId"))
                .count(),
            1,
            "the epoch comes from EndTxn, not InitProducerId: {log:#?}"
        );
        position(
            &log,
            "TxnOffsetCommit v5 billing gen 4 member m-1 [\"input-0@2\"]",
        );
        // Sequences restart at 0 with every new epoch: the broker accepted
        // every batch, in order.
        assert_eq!(
            fake.log(0),
            vec!["r0p0".to_owned(), "r1p0".to_owned(), "r2p0".to_owned()]
        );
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_transactions_v2_a_stale_epoch_on_produce_is_abortable() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.transaction_v2 = true);
        let producer = in_transaction(&fake).await;
        // The coordinator moved on to a later epoch (as after a transaction
        // timeout): the broker refuses the batch.
        fake.set(|s| s.txn_epoch += 1);
        let failed = producer
            .send(ProducerRecord::new(TOPIC, "late").with_partition(0))
            .await
            .expect("accepted");
        let error = failed.await.expect_err("stale epoch");
        assert_eq!(
            error.error().error_code(),
            Some(ErrorCode::INVALID_PRODUCER_EPOCH),
            "{error}"
        );
        let commit = producer
            .commit_transaction()
            .await
            .expect_err("cannot commit");
        assert!(commit.is_abortable() && !commit.is_fatal(), "{commit}");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_makes_the_transaction_abort_only_and_the_abort_bumps_the_epoch() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.rule(once_from_sequence(
            0,
            Fault::Reject(ErrorCode::INVALID_RECORD),
        ));
        let producer = in_transaction(&fake).await;
        let failed = producer
            .send(ProducerRecord::new(TOPIC, "bad").with_partition(0))
            .await
            .expect("accepted");
        assert!(failed.await.is_err());
        let commit = producer
            .commit_transaction()
            .await
            .expect_err("cannot commit");
        assert!(commit.is_abortable() && !commit.is_fatal(), "{commit}");
        let refused = producer
            .send(ProducerRecord::new(TOPIC, "more"))
            .await
            .expect_err("abort-only");
        assert!(
            refused.to_string().contains("call abort_transaction"),
            "{refused}"
        );
        producer.abort_transaction().await.expect("abort");
        let log = txn_log(&fake);
        let aborted = position(&log, "EndTxn abort epoch 0");
        assert_eq!(
            log[aborted + 1],
            "InitProducerId tx epoch 0",
            "KIP-360 bump: {log:#?}"
        );

        producer.begin_transaction().expect("begin again");
        producer
            .send(ProducerRecord::new(TOPIC, "good").with_partition(0))
            .await
            .expect("accepted")
            .await
            .expect("delivered");
        producer.commit_transaction().await.expect("commit");
        assert_eq!(txn_log(&fake).last().unwrap(), "EndTxn commit epoch 1");
        assert_eq!(fake.log(0), vec!["good".to_owned()]);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_errors_are_retried_and_a_moved_coordinator_is_found_again() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| {
            s.txn_faults.extend([
                ErrorCode::NONE, // FindCoordinator
                ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
                ErrorCode::NOT_COORDINATOR,
                ErrorCode::NONE, // FindCoordinator again
                ErrorCode::CONCURRENT_TRANSACTIONS,
            ])
        });
        let producer = producer(&fake, &[TX]);
        producer
            .init_transactions()
            .await
            .expect("init after retries");
        let log = txn_log(&fake);
        assert_eq!(
            log.iter()
                .filter(|l| l.starts_with("FindCoordinator"))
                .count(),
            2,
            "{log:#?}"
        );
        assert_eq!(
            log.iter()
                .filter(|l| l.starts_with("InitProducerId"))
                .count(),
            4,
            "{log:#?}"
        );
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_producer_fails_every_later_call_with_producer_fenced() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = in_transaction(&fake).await;
        producer
            .send(ProducerRecord::new(TOPIC, "v").with_partition(0))
            .await
            .expect("accepted")
            .await
            .expect("delivered");
        fake.set(|s| s.txn_faults.push_back(ErrorCode::PRODUCER_FENCED));
        let error = producer.commit_transaction().await.expect_err("fenced");
        assert!(error.is_fatal(), "{error}");
        assert!(matches!(
            error,
            crate::TransactionError::ProducerFenced { .. }
        ));
        let again = producer.begin_transaction().expect_err("still fenced");
        assert!(matches!(
            again,
            crate::TransactionError::ProducerFenced { .. }
        ));
        let abort = producer
            .abort_transaction()
            .await
            .expect_err("still fenced");
        assert!(abort.is_fatal());
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_transactional_id_is_abortable_and_the_abort_gets_a_new_epoch_without_end_txn() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = in_transaction(&fake).await;
        // The coordinator forgot the transactional id (idle longer than
        // transactional.id.expiration.ms): as Java's, abortable, not fatal.
        fake.set(|s| {
            s.txn_faults
                .push_back(ErrorCode::INVALID_PRODUCER_ID_MAPPING)
        });
        let refused = producer
            .send(ProducerRecord::new(TOPIC, "refused").with_partition(0))
            .await
            .expect("accepted");
        refused.await.expect_err("its partition could not be added");
        let commit = producer.commit_transaction().await.expect_err("abortable");
        assert!(commit.is_abortable() && !commit.is_fatal(), "{commit:?}");
        producer.abort_transaction().await.expect("abort");
        let log = txn_log(&fake);
        let refused_at = position(&log, "AddPartitionsToTxn [0] epoch 0: INVALID_PRODUCER_ID_MAPPING");
        assert_eq!(
            log[refused_at + 1..],
            ["InitProducerId tx epoch 0"],
            "the abort asks for a new epoch and skips EndTxn, which the coordinator would refuse: {log:#?}"
        );
        producer.begin_transaction().expect("begin again");
        let kept = producer
            .send(ProducerRecord::new(TOPIC, "kept").with_partition(0))
            .await
            .expect("accepted");
        producer.commit_transaction().await.expect("commit");
        kept.await.expect("delivered");
        assert_eq!(fake.log(0), ["kept"]);
        assert_eq!(txn_log(&fake).last().unwrap(), "EndTxn commit epoch 1");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_produce_refused_for_cluster_authorization_or_version_is_fatal_to_the_transaction() {
    within(async {
        for code in [
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            ErrorCode::UNSUPPORTED_VERSION,
        ] {
            let fake = Fake::new(1, &[1]);
            let producer = in_transaction(&fake).await;
            fake.rule(move |_| Some(Fault::Reject(code)));
            producer
                .send(ProducerRecord::new(TOPIC, "v").with_partition(0))
                .await
                .expect("accepted")
                .await
                .expect_err("refused");
            // As Java's `maybeTransitionToErrorState`: no later transaction
            // can do better, so the producer is failed, not the transaction.
            let commit = producer.commit_transaction().await.expect_err("refused");
            assert!(commit.is_fatal(), "{code:?}: {commit:?}");
            assert!(
                commit.to_string().contains(code.name()),
                "{code:?}: {commit}"
            );
            let again = producer.begin_transaction().expect_err("fatal");
            assert!(again.is_fatal(), "{again:?}");
            producer.close(LIMIT).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_producer_id_at_the_coordinator_is_abortable_and_the_abort_bumps_the_epoch() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = in_transaction(&fake).await;
        producer
            .send(ProducerRecord::new(TOPIC, "written").with_partition(0))
            .await
            .expect("accepted")
            .await
            .expect("delivered");
        fake.set(|s| s.txn_faults.push_back(ErrorCode::UNKNOWN_PRODUCER_ID));
        let commit = producer.commit_transaction().await.expect_err("refused");
        assert!(commit.is_abortable() && !commit.is_fatal(), "{commit:?}");
        producer.abort_transaction().await.expect("abort");
        let log = txn_log(&fake);
        let refused_at = position(&log, "EndTxn commit epoch 0: UNKNOWN_PRODUCER_ID");
        assert_eq!(
            log[refused_at + 1..],
            ["EndTxn abort epoch 0", "InitProducerId tx epoch 0"],
            "{log:#?}"
        );
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_the_coordinator_refuses_ends_with_a_new_epoch_and_the_producer_goes_on() {
    within(async {
        for code in [
            ErrorCode::UNKNOWN_PRODUCER_ID,
            ErrorCode::INVALID_PRODUCER_ID_MAPPING,
            ErrorCode::TRANSACTION_ABORTABLE,
        ] {
            let fake = Fake::new(1, &[1]);
            let producer = in_transaction(&fake).await;
            producer
                .send(ProducerRecord::new(TOPIC, "written").with_partition(0))
                .await
                .expect("accepted")
                .await
                .expect("delivered");
            fake.set(|s| s.txn_faults.push_back(code));
            // As Java's: InitProducerId ends it (the coordinator aborts what
            // it holds); before, the producer stayed "aborting" for good.
            producer.abort_transaction().await.expect("aborted");
            let log = txn_log(&fake);
            let refused = position(&log, &format!("EndTxn abort epoch 0: {code}"));
            assert_eq!(
                log[refused + 1..],
                ["InitProducerId tx epoch 0"],
                "{log:#?}"
            );
            producer.begin_transaction().expect("begin again");
            let kept = producer
                .send(ProducerRecord::new(TOPIC, "kept").with_partition(0))
                .await
                .expect("accepted");
            producer.commit_transaction().await.expect("commit");
            kept.await.expect("delivered");
            assert_eq!(txn_log(&fake).last().unwrap(), "EndTxn commit epoch 1");
            producer.close(LIMIT).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_drops_records_not_yet_sent_without_asking_the_coordinator() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[TX, ("linger.ms", "60000")]);
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        let pending = producer
            .send(ProducerRecord::new(TOPIC, "never").with_partition(0))
            .await
            .expect("accepted");
        producer.abort_transaction().await.expect("abort");
        let error = pending.await.expect_err("aborted");
        assert!(
            matches!(
                error.error(),
                KafkaError::Transaction(crate::TransactionError::Aborted)
            ),
            "{error:?}"
        );
        let log = txn_log(&fake);
        assert!(
            !log.iter()
                .any(|l| l.starts_with("EndTxn") || l.starts_with("Produce")),
            "{log:#?}"
        );
        assert!(fake.log(0).is_empty());
        // Withdrawn, not refused: as Java's abortUndrainedBatches, not a
        // record error.
        assert_eq!(producer.metrics().record_error_total, 0);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_close_fails_unsent_records_without_counting_record_errors() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[]);
        deliver_all(&producer, 0, &values(0..1)).await;
        // The broker stops reading: the next batch's write hangs, the ones
        // after it stay queued.
        fake.with(|s| s.stalled.insert(1));
        let mut pending = Vec::new();
        for value in values(1..3) {
            let record = ProducerRecord::new(TOPIC, value).with_partition(0);
            pending.push(producer.send(record).await.expect("accepted"));
        }
        assert_eq!(producer.close(Duration::ZERO).await, 2);
        for outcome in pending {
            let error = outcome.await.expect_err("closed before an answer");
            assert!(
                matches!(
                    error.error(),
                    KafkaError::ProducerClosed(_) | KafkaError::DeliveryUnknown { .. }
                ),
                "{error:?}"
            );
        }
        // As Java's abortIncompleteBatches: withdrawn, not record errors.
        assert_eq!(producer.metrics().record_error_total, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_partition_is_refused_at_once() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[]);
        let record = ProducerRecord::new(TOPIC, "v").with_partition(-1);
        // At once, not after max.block.ms (60 s) waiting for partition -1.
        let error = producer.send(record).await.expect_err("no partition -1");
        assert!(
            matches!(error.error(), KafkaError::InvalidPartition(m) if m.contains("-1")),
            "{error}"
        );
        assert!(error.error().is_before_send());
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_send_is_a_producer_error_without_a_topic_series_of_its_own() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[]);
        let error = producer
            .send(ProducerRecord::new("no such/topic", "v"))
            .await
            .expect_err("not a topic name");
        assert!(
            matches!(error.error(), KafkaError::InvalidTopic { .. }),
            "{error}"
        );
        let metrics = producer.metrics();
        assert_eq!(metrics.record_error_total, 1);
        assert!(
            !metrics.topics.contains_key("no such/topic"),
            "{:?}",
            metrics.topics.keys()
        );
        producer.close(LIMIT).await;
    })
    .await;
}

// --- KIP-714 client metrics ---------------------------------------------------

/// A fake whose brokers advertise the telemetry APIs with a subscription to
/// `prefixes`, pushed every 50 ms.
fn telemetry_fake(prefixes: &[&str]) -> Fake {
    let fake = Fake::new(1, &[1]);
    fake.set(|s| {
        s.telemetry = Some(TelemetryBroker {
            subscription_id: 1,
            requested_metrics: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            push_interval_ms: 50,
            ..TelemetryBroker::default()
        })
    });
    fake
}

fn telemetry<T>(fake: &Fake, f: impl FnOnce(&TelemetryBroker) -> T) -> T {
    fake.with(|s| f(s.telemetry.as_ref().expect("telemetry advertised")))
}

/// A push's metrics by name: (value, is a delta sum).
fn pushed_metrics(push: &PushTelemetryRequest) -> BTreeMap<String, f64> {
    use crate::telemetry::otlp::{MetricData, MetricsData, NumberValue};
    use prost::Message as _;
    let codec = crate::Compression::from_attribute_bits(i16::from(push.compression_type))
        .expect("a known codec");
    let raw = codec
        .decompress(&push.metrics, 1 << 20)
        .expect("the payload decompresses");
    let data = MetricsData::decode(raw.as_slice()).expect("a MetricsData protobuf");
    let mut metrics = BTreeMap::new();
    for resource in &data.resource_metrics {
        for scope in &resource.scope_metrics {
            for metric in &scope.metrics {
                let points = match &metric.data {
                    Some(MetricData::Gauge(g)) => &g.data_points,
                    Some(MetricData::Sum(s)) => &s.data_points,
                    None => panic!("{} has no data", metric.name),
                };
                let value = match points[0].value {
                    Some(NumberValue::AsDouble(v)) => v,
                    Some(NumberValue::AsInt(v)) => v as f64,
                    None => panic!("{} has no value", metric.name),
                };
                metrics.insert(metric.name.clone(), value);
            }
        }
    }
    metrics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_pushed_as_subscribed_and_a_terminating_push_ends_them() {
    within(async {
        let fake = telemetry_fake(&["org.apache.kafka.producer.record."]);
        let producer = producer(&fake, &[]);
        deliver_all(&producer, 0, &values(0..7)).await;
        // Delta sums: the pushes' record.send.total add up to what was sent.
        let name = "org.apache.kafka.producer.record.send.total";
        let sent = |t: &TelemetryBroker| -> f64 {
            t.pushes
                .iter()
                .map(|p| pushed_metrics(p).get(name).copied().unwrap_or(0.0))
                .sum()
        };
        fake.until(|s| s.telemetry.as_ref().is_some_and(|t| sent(t) == 7.0))
            .await;
        assert_eq!(
            producer.client_instance_id().as_deref(),
            Some(CLIENT_INSTANCE_ID.to_string().as_str())
        );
        // One connection: the bootstrap address is broker 1's.
        assert!(producer.metrics().connection_creation_total >= 1);
        producer.close(LIMIT).await;

        telemetry(&fake, |t| {
            assert_eq!(
                t.subscription_requests[0],
                Uuid::ZERO,
                "the first asks for an id"
            );
            for push in &t.pushes {
                assert_eq!(push.client_instance_id, CLIENT_INSTANCE_ID);
                assert_eq!(push.subscription_id, 1);
                assert_eq!(push.compression_type, 4, "zstd, the broker's first choice");
                let metrics = pushed_metrics(push);
                assert!(
                    metrics
                        .keys()
                        .all(|n| n.starts_with("org.apache.kafka.producer.record.")),
                    "only what the subscription asks for: {metrics:?}"
                );
                assert!(metrics.contains_key(name), "{metrics:?}");
            }
            let terminating: Vec<bool> = t.pushes.iter().map(|p| p.terminating).collect();
            assert_eq!(
                terminating.iter().filter(|t| **t).count(),
                1,
                "one terminating push: {terminating:?}"
            );
            assert_eq!(terminating.last(), Some(&true), "and it is the last");
        });
    })
    .await;
}

/// KIP-714: a client keeps pushing to one broker while its connection is
/// open (Java's `TelemetrySender.stickyNode`), however the load on the
/// connections moves; when that connection closes, the next broker takes
/// the pushes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_stays_on_one_broker_while_its_connection_is_open() {
    within(async {
        let fake = Fake::new(2, &[1, 2]);
        fake.set(|s| {
            s.answer_delay = Duration::from_millis(15);
            s.telemetry = Some(TelemetryBroker {
                subscription_id: 1,
                requested_metrics: vec!["*".to_owned()],
                push_interval_ms: 20,
                ..TelemetryBroker::default()
            });
        });
        let producer = producer(&fake, &[]);
        // Both leaders busy, by turns, with requests in flight.
        for round in 0..30 {
            let partition = round % 2;
            let sends: Vec<_> = (0..4)
                .map(|i| {
                    producer.send(
                        ProducerRecord::new(TOPIC, format!("r{round}-{i}"))
                            .with_partition(partition),
                    )
                })
                .collect();
            for send in sends {
                send.await.expect("accepted").await.expect("delivered");
            }
        }
        fake.until(|s| s.telemetry.as_ref().is_some_and(|t| t.pushes.len() >= 10))
            .await;
        let nodes = telemetry(&fake, |t| t.push_nodes.clone());
        assert!(
            nodes.windows(2).all(|pair| pair[0] == pair[1]),
            "pushes moved between brokers with both connections open: {nodes:?}"
        );
        // Its connection drops (an answer lost): the pushes go on, through
        // whichever connection is open next.
        let sticky = nodes[0];
        let mut dropped = false;
        fake.rule(move |incoming| {
            (incoming.node == sticky && !std::mem::replace(&mut dropped, true))
                .then_some(Fault::LoseAnswer)
        });
        let partition = sticky - 1;
        let lost = producer
            .send(ProducerRecord::new(TOPIC, "lost").with_partition(partition))
            .await
            .expect("accepted")
            .await;
        assert!(lost.is_ok(), "retried after the lost answer: {lost:?}");
        let pushed = nodes.len();
        fake.until(|s| {
            s.telemetry
                .as_ref()
                .is_some_and(|t| t.pushes.len() >= pushed + 5)
        })
        .await;
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_subscription_is_fetched_again_and_invalid_record_stops_the_pushes() {
    within(async {
        let fake = telemetry_fake(&["*"]);
        let producer = producer(&fake, &[]);
        deliver_all(&producer, 0, &values(0..3)).await;
        fake.until(|s| s.telemetry.as_ref().is_some_and(|t| !t.pushes.is_empty()))
            .await;
        // The operator changes the subscription: the next push is refused
        // with UNKNOWN_SUBSCRIPTION_ID and the client asks again, with its id.
        fake.set(|s| s.telemetry.as_mut().unwrap().subscription_id = 2);
        fake.until(|s| {
            s.telemetry
                .as_ref()
                .is_some_and(|t| t.pushes.last().is_some_and(|p| p.subscription_id == 2))
        })
        .await;
        telemetry(&fake, |t| {
            assert!(t.subscription_requests.len() >= 2);
            assert!(
                t.subscription_requests[1..]
                    .iter()
                    .all(|id| *id == CLIENT_INSTANCE_ID)
            );
            assert!(
                t.pushes.iter().any(|p| p.subscription_id == 1),
                "pushes under the old subscription came first"
            );
        });
        // The broker's plugin cannot take the metrics: pushing stops for good,
        // without a terminating push at close.
        fake.set(|s| {
            s.telemetry
                .as_mut()
                .unwrap()
                .push_faults
                .push_back(ErrorCode::INVALID_RECORD)
        });
        let refused_at = fake.with(|s| s.telemetry.as_ref().unwrap().pushes.len()) + 1;
        fake.until(|s| {
            s.telemetry
                .as_ref()
                .is_some_and(|t| t.pushes.len() >= refused_at)
        })
        .await;
        producer.close(LIMIT).await;
        telemetry(&fake, |t| {
            assert_eq!(t.pushes.len(), refused_at, "nothing after INVALID_RECORD");
            assert!(t.pushes.iter().all(|p| !p.terminating));
        });
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_asked_without_a_subscription_or_with_metrics_push_off() {
    within(async {
        // No metrics requested: subscriptions only, no push, no terminating push.
        let fake = telemetry_fake(&[]);
        let producer = producer(&fake, &[]);
        deliver_all(&producer, 0, &values(0..2)).await;
        fake.until(|s| {
            s.telemetry
                .as_ref()
                .is_some_and(|t| t.subscription_requests.len() >= 2)
        })
        .await;
        producer.close(LIMIT).await;
        telemetry(&fake, |t| assert!(t.pushes.is_empty()));

        // enable.metrics.push=false: not even a subscription.
        let fake = telemetry_fake(&["*"]);
        let producer = self::producer(&fake, &[("enable.metrics.push", "false")]);
        deliver_all(&producer, 0, &values(0..2)).await;
        producer.close(LIMIT).await;
        telemetry(&fake, |t| {
            assert!(t.subscription_requests.is_empty());
            assert!(t.pushes.is_empty());
        });
        assert_eq!(producer.client_instance_id(), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_is_never_answered_holds_up_no_record() {
    within(async {
        let fake = telemetry_fake(&["*"]);
        fake.set(|s| s.telemetry.as_mut().unwrap().hang_pushes = true);
        let producer = producer(&fake, &[("request.timeout.ms", "1000")]);
        fake.until(|s| s.telemetry.as_ref().is_some_and(|t| !t.pushes.is_empty()))
            .await;
        // The push hangs on the broker's side; records go on being delivered.
        deliver_all(&producer, 0, &values(0..20)).await;
        assert_eq!(fake.log(0), values(0..20));
        // The close waits for the hanging push at most request.timeout.ms.
        producer.close(LIMIT).await;
        telemetry(&fake, |t| assert!(t.pushes.iter().all(|p| !p.terminating)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_refused_for_an_unknown_producer_id_keep_their_order() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.answer_delay = Duration::from_millis(20));
        // The broker lost the producer's state from the 3rd batch on: every
        // batch of the old epoch from there is refused, several in flight.
        fake.rule(|batch| {
            (batch.epoch == 0 && batch.base_sequence >= 6)
                .then_some(Fault::Reject(ErrorCode::UNKNOWN_PRODUCER_ID))
        });
        let producer = producer(&fake, &[SMALL_BATCHES]);
        let sent = values(0..40);
        deliver_all(&producer, 0, &sent).await;
        let refused_in_flight = fake.with(|s| {
            s.received
                .iter()
                .filter(|b| b.epoch == 0 && b.base_sequence >= 6)
                .count()
        });
        assert!(
            refused_in_flight > 1,
            "several batches were refused: {refused_in_flight}"
        );
        assert_eq!(fake.log(0), sent, "every record once, in order");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_whose_first_answer_was_lost_keeps_its_epoch_when_another_partition_bumps_it() {
    within(async {
        let fake = Fake::new(1, &[1, 1]);
        // The first batch of partition 0 is written but its answer lost; its
        // resends are refused as sent to a broker that no longer leads (which
        // says nothing of the first attempt) until the broker has seen the
        // new epoch, so the bump happens while the batch waits for a retry.
        let mut seen_first = false;
        let mut failed_other = false;
        fake.rule(move |batch| {
            if batch.partition == 1 {
                return (!std::mem::replace(&mut failed_other, true))
                    .then_some(Fault::Reject(ErrorCode::INVALID_RECORD));
            }
            if batch.epoch != 0 || batch.base_sequence != 0 {
                return None;
            }
            if !std::mem::replace(&mut seen_first, true) {
                return Some(Fault::LoseAnswer);
            }
            (!failed_other).then_some(Fault::Reject(ErrorCode::NOT_LEADER_OR_FOLLOWER))
        });
        let producer = producer(&fake, &[]);
        let first = producer
            .send(ProducerRecord::new(TOPIC, "first").with_partition(0))
            .await
            .expect("accepted");
        fake.until(|s| {
            s.received
                .iter()
                .filter(|b| b.partition == 0 && b.epoch == 0)
                .count()
                >= 2
        })
        .await;
        // A batch of partition 1 fails for good: its sequences broke, so the
        // epoch is bumped.
        let other = producer
            .send(ProducerRecord::new(TOPIC, "other").with_partition(1))
            .await
            .expect("accepted");
        assert!(other.await.is_err(), "INVALID_RECORD fails the batch");
        let later = producer
            .send(ProducerRecord::new(TOPIC, "later").with_partition(1))
            .await
            .expect("accepted");
        later
            .await
            .expect("partition 1 goes on under the new epoch");
        // As Java's: the retry keeps its epoch and sequence, so the broker
        // finds it a duplicate of the first attempt and it is delivered.
        first
            .await
            .expect("delivered: the broker deduplicated the retry");
        assert_eq!(fake.log(0), ["first"], "written once, by the first attempt");
        let second = producer
            .send(ProducerRecord::new(TOPIC, "second").with_partition(0))
            .await
            .expect("accepted");
        second.await.expect("delivered");
        assert_eq!(fake.log(0), ["first", "second"]);
        let (epochs, ids) = fake.with(|s| {
            let epochs: Vec<(String, i16, i32)> = s
                .received
                .iter()
                .map(|b| (b.values.join(","), b.epoch, b.base_sequence))
                .collect();
            let ids: BTreeSet<i64> = s.received.iter().map(|b| b.producer_id).collect();
            (epochs, ids)
        });
        assert!(
            epochs.contains(&("later".into(), 1, 0)) && epochs.contains(&("second".into(), 1, 0)),
            "new batches start at 0 under the new epoch: {epochs:?}"
        );
        assert_eq!(ids.len(), 1, "KIP-360: the same producer id");
        assert_eq!(producer.metrics().producer_epoch_bump_total, 1);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_leader_appended_but_could_not_replicate_fails_as_possibly_written() {
    within(async {
        for code in [
            ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            ErrorCode::REQUEST_TIMED_OUT,
        ] {
            let fake = Fake::new(1, &[1]);
            // Without retries the producer is not idempotent (as Java's): the
            // batch has no sequence, so the first one is refused by count.
            let mut refused = false;
            fake.rule(move |_| {
                (!std::mem::replace(&mut refused, true)).then_some(Fault::Reject(code))
            });
            let producer = producer(&fake, &[("retries", "0")]);
            let outcome = producer
                .send(ProducerRecord::new(TOPIC, "v").with_partition(0))
                .await
                .expect("accepted")
                .await;
            let error = outcome.expect_err("no retries");
            assert!(error.error().possibly_written(), "{code:?}: {error:?}");
            producer.close(LIMIT).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_size_and_retries_are_counted_as_java_counts_them() {
    within(async {
        let fake = Fake::new(1, &[1]);
        // The first batch is refused once (retriable), then written.
        fake.rule(once_from_sequence(
            0,
            Fault::Reject(ErrorCode::NOT_ENOUGH_REPLICAS),
        ));
        let producer = producer(&fake, &[]);
        let value = "x".repeat(50);
        producer
            .send(ProducerRecord::new(TOPIC, value.clone()).with_partition(0))
            .await
            .expect("accepted")
            .await
            .expect("delivered");
        let metrics = producer.metrics();
        // Java's `record-size-max`: the record's upper bound alone in a
        // batch (`estimateSizeInBytesUpperBound`), batch header included.
        let upper_bound = crate::record_batch::RecordBatchBuilder::estimate_record_size(0, 50, &[]);
        assert_eq!(metrics.record_size_max, upper_bound as f64);
        // One retry decided, its record sent twice.
        assert_eq!(metrics.record_retry_total, 1);
        assert_eq!(metrics.record_send_total, 2);
        assert_eq!(metrics.topics[TOPIC].record_retry_total, 1);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_timeout_doubles_and_the_address_moves_on_after_each_failed_attempt() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| {
            s.refuse_connections.insert(1, 4);
        });
        let producer = producer(
            &fake,
            &[
                ("socket.connection.setup.timeout.ms", "1000"),
                ("socket.connection.setup.timeout.max.ms", "3000"),
                ("reconnect.backoff.ms", "1"),
                ("reconnect.backoff.max.ms", "1"),
            ],
        );
        deliver_all(&producer, 0, &values(0..1)).await;
        let (timeouts, attempts): (Vec<u128>, Vec<u32>) = fake.with(|s| {
            s.connect_timeouts
                .iter()
                .filter(|(node, ..)| *node == 1)
                .map(|(_, t, attempt)| (t.as_millis(), *attempt))
                .take(5)
                .unzip()
        });
        // Each attempt starts at the next of the name's addresses (Java's
        // moveToNextAddress), the one after four failures connects.
        assert_eq!(attempts, [0, 1, 2, 3, 4]);
        // Java's ExponentialBackoff: doubled per failure in a row, capped,
        // with ±20% jitter.
        let expected = [
            (800, 1200),
            (1600, 2400),
            (2400, 3600),
            (2400, 3600),
            (2400, 3600),
        ];
        assert_eq!(timeouts.len(), 5, "{timeouts:?}");
        for (timeout, (low, high)) in timeouts.iter().zip(expected) {
            assert!((low..=high).contains(timeout), "{timeouts:?}");
        }
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_idle_for_connections_max_idle_ms_is_closed_and_reopened_when_needed() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[("connections.max.idle.ms", "200")]);
        deliver_all(&producer, 0, &values(0..1)).await;
        let created = producer.metrics().connection_creation_total;
        // The sender closes it once idle long enough (it wakes for that).
        fake.until(|s| s.closed_by_client.contains(&1)).await;
        deliver_all(&producer, 0, &values(1..2)).await;
        assert!(
            producer.metrics().connection_creation_total > created,
            "a new connection carried the second record"
        );
        assert_eq!(fake.log(0), values(0..2));
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_too_large_is_refused_as_such_whatever_the_transactions_state() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[TX, ("max.request.size", "1000")]);
        producer.init_transactions().await.expect("init");
        let small = || ProducerRecord::new(TOPIC, "small").with_partition(0);
        // Outside a transaction: Java's doSend checks the size first.
        refused_as_too_large(&producer).await;
        let outside = producer.send(small()).await.expect_err("outside");
        assert!(
            matches!(
                outside.error(),
                KafkaError::Transaction(crate::TransactionError::InvalidState { .. })
            ),
            "{outside:?}"
        );
        // In a transaction a refused send leaves in an error state: a
        // record too large is still refused as too large.
        producer.begin_transaction().expect("begin");
        for _ in 0..2 {
            refused_as_too_large(&producer).await;
        }
        let in_error = producer.send(small()).await.expect_err("in error");
        assert!(
            matches!(in_error.error(), KafkaError::Transaction(_)),
            "{in_error:?}"
        );
        producer.abort_transaction().await.expect("abort");
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_hears_a_refusal_at_once_and_a_later_failure_is_not_one() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[("max.request.size", "1000")]);
        let (told, heard) = std::sync::mpsc::channel();
        let callback = |told: std::sync::mpsc::Sender<_>| {
            move |result: Result<SentRecord, SendError>| told.send(result).expect("heard")
        };
        deliver_all(&producer, 0, &wide_values(0..1)).await;

        // Too large: refused at the send call, which returns the error while
        // the callback has heard it.
        let too_large = ProducerRecord::new(TOPIC, "x".repeat(2000)).with_partition(0);
        let refused = producer
            .send_with_callback(too_large.clone(), callback(told.clone()))
            .await
            .expect_err("too large");
        let told_at_once = heard.try_recv().expect("run before the send returned");
        for error in [&refused, told_at_once.as_ref().expect_err("refused")] {
            assert!(
                matches!(error.error(), KafkaError::RecordTooLarge { .. }),
                "{error:?}"
            );
            assert!(error.refused_before_sending());
            assert_eq!(error.record(), Some(&too_large));
        }

        // The plain call: refused the same way, the callback run.
        let lent = RecordRef::new(TOPIC, too_large.value.as_deref().unwrap_or_default());
        match producer.try_send_ref_with_callback(lent, &[], callback(told.clone())) {
            Err(TrySendError::Refused(error)) => assert!(error.refused_before_sending()),
            other => panic!("a too-large record must be refused: {other:?}"),
        }
        let told_by_try = heard.try_recv().expect("run by the plain call");
        assert!(told_by_try.expect_err("refused").refused_before_sending());

        // A record that fails after it was buffered is not a refusal.
        fake.rule(|_| Some(Fault::Reject(ErrorCode::INVALID_RECORD)));
        let record = ProducerRecord::new(TOPIC, "invalid").with_partition(0);
        producer
            .send_with_callback(record, callback(told))
            .await
            .expect("buffered");
        producer.flush().await;
        let failed = heard.try_recv().expect("told after the flush");
        assert!(!failed.expect_err("failed").refused_before_sending());
        assert!(heard.try_recv().is_err(), "each callback ran once");
        producer.close(LIMIT).await;
    })
    .await;
}

/// Sends a record over the tests' `max.request.size` of 1000 and checks it
/// is refused as too large.
async fn refused_as_too_large(producer: &KafkaProducer) {
    let too_large = ProducerRecord::new(TOPIC, "x".repeat(2000)).with_partition(0);
    let refused = producer.send(too_large).await.expect_err("too large");
    assert!(
        matches!(refused.error(), KafkaError::RecordTooLarge { .. }),
        "{refused:?}"
    );
}

/// Waits until the coordinator's log has a line starting with `prefix`.
async fn logged(fake: &Fake, prefix: &str) {
    fake.until(|s| s.txn_log.iter().any(|l| l.starts_with(prefix)))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_refused_while_a_commit_or_init_is_in_flight_leaves_it_alone() {
    within(async {
        let fake = Fake::new(1, &[1]);
        // Retried after a backoff long enough to send meanwhile.
        let producer = Arc::new(producer(
            &fake,
            &[
                TX,
                ("max.request.size", "1000"),
                ("retry.backoff.ms", "300"),
                ("retry.backoff.max.ms", "300"),
            ],
        ));
        // init_transactions in flight: the coordinator is loading.
        fake.set(|s| {
            s.txn_faults
                .extend([ErrorCode::NONE, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS])
        });
        let init = tokio::spawn({
            let producer = producer.clone();
            async move { producer.init_transactions().await }
        });
        logged(&fake, "InitProducerId").await;
        refused_as_too_large(&producer).await;
        init.await
            .expect("joined")
            .expect("init is not failed by the refusal");

        // A commit in flight: the coordinator answers CONCURRENT_TRANSACTIONS once.
        producer.begin_transaction().expect("begin");
        producer
            .send(ProducerRecord::new(TOPIC, "a").with_partition(0))
            .await
            .expect("accepted")
            .await
            .expect("delivered");
        fake.set(|s| s.txn_faults.push_back(ErrorCode::CONCURRENT_TRANSACTIONS));
        let commit = tokio::spawn({
            let producer = producer.clone();
            async move { producer.commit_transaction().await }
        });
        logged(&fake, "EndTxn commit").await;
        refused_as_too_large(&producer).await;
        commit
            .await
            .expect("joined")
            .expect("the commit is not failed by the refusal");
        assert_eq!(fake.log(0), vec!["a".to_owned()]);
        producer.close(LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_refused_inside_a_transaction_makes_it_abortable() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[TX, ("max.request.size", "1000")]);
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        let small = producer
            .send(ProducerRecord::new(TOPIC, "small").with_partition(0))
            .await
            .expect("accepted");
        refused_as_too_large(&producer).await;
        // As Java's doSend: the transaction cannot commit without the record.
        let commit = producer.commit_transaction().await;
        assert!(commit.is_err(), "{commit:?}");
        producer.abort_transaction().await.expect("abort");
        // Sent before the abort or failed by it: either way it has an outcome.
        let _ = small.await;
        // The next transaction is clean.
        producer.begin_transaction().expect("begin");
        let next = producer
            .send(ProducerRecord::new(TOPIC, "next").with_partition(0))
            .await
            .expect("accepted");
        producer.commit_transaction().await.expect("commit");
        next.await.expect("delivered");
        producer.close(LIMIT).await;
    })
    .await;
}

/// A callback's work started on the network thread's runtime (as a
/// template's failure journal starts its write) ends before a drop of the
/// producer returns, though every record already has its outcome.
#[test]
fn dropping_the_producer_waits_for_work_its_callbacks_started() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    runtime.block_on(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[]);
        let finished = done.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        producer
            .send_with_callback(
                ProducerRecord::new(TOPIC, "v").with_partition(0),
                move |_| {
                    // Work of its own on the producer's runtime, a while long.
                    tokio::spawn(async move {
                        for _ in 0..10_000 {
                            tokio::task::yield_now().await;
                        }
                        finished.store(true, std::sync::atomic::Ordering::SeqCst);
                    });
                    let _ = tx.send(());
                },
            )
            .await
            .expect("accepted");
        rx.await.expect("the callback ran");
        tokio::task::spawn_blocking(move || drop(producer))
            .await
            .unwrap();
    });
    assert!(
        done.load(std::sync::atomic::Ordering::SeqCst),
        "the callback's work ended before the drop returned"
    );
}

/// A commit that outlives `max.block.ms` and then succeeds is reported as a
/// success when called again (Java's cached `TransactionalRequestResult`),
/// not as "no transaction to commit"; nothing else starts before the caller
/// has learned it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_timed_out_and_then_finished_is_reported_when_called_again() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[TX, ("max.block.ms", "200")]);
        producer.init_transactions().await.expect("init");
        fake.set(|s| s.end_txn_delay = Duration::from_millis(600));
        producer.begin_transaction().expect("begin");
        let delivered = producer
            .send(ProducerRecord::new(TOPIC, "only").with_partition(0))
            .await
            .expect("accepted");
        let error = producer.commit_transaction().await.unwrap_err();
        assert!(
            matches!(error, crate::TransactionError::Timeout { .. }),
            "{error:?}"
        );
        delivered.await.expect("delivered");
        // The commit completes while nobody waits.
        tokio::time::timeout(Duration::from_secs(10), async {
            while producer.transaction_state() != Some(crate::transaction_manager::TxnState::Ready) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("committed");
        let refused = producer.begin_transaction().unwrap_err();
        assert!(
            matches!(refused, crate::TransactionError::InvalidState { hint, .. } if hint.contains("commit_transaction timed out")),
            "{refused:?}"
        );
        let refused = producer.abort_transaction().await.unwrap_err();
        assert!(
            matches!(refused, crate::TransactionError::InvalidState { .. }),
            "{refused:?}"
        );
        producer
            .commit_transaction()
            .await
            .expect("the commit that finished meanwhile");
        // Learned: the next transaction goes ahead.
        producer.begin_transaction().expect("begin again");
        producer.abort_transaction().await.expect("abort");
        producer.close(LIMIT).await;
    })
    .await;
}

/// A send refused because the topic is not authorized makes the transaction
/// abortable, as Java's `doSend` does with any `ApiException`: the commit
/// cannot succeed without the record, even when the send's error was ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_refused_for_topic_authorization_makes_the_transaction_abortable() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.denied_topics = vec!["secret".into()]);
        let producer = in_transaction(&fake).await;
        let delivered = producer
            .send(ProducerRecord::new(TOPIC, "allowed").with_partition(0))
            .await
            .expect("accepted");
        let refused = producer
            .send(ProducerRecord::new("secret", "denied"))
            .await
            .unwrap_err();
        assert!(
            matches!(refused.error(), KafkaError::Broker { code, .. } if *code == ErrorCode::TOPIC_AUTHORIZATION_FAILED),
            "{refused:?}"
        );
        let error = producer.commit_transaction().await.unwrap_err();
        assert!(error.is_abortable(), "{error:?}");
        producer.abort_transaction().await.expect("abort");
        assert!(delivered.await.is_err(), "aborted with its transaction");
        producer.close(LIMIT).await;
    })
    .await;
}

/// A principal refused a producer id (idempotence is on by default) learns
/// it from its records at once, as Java's sender aborts them with the
/// authorization error; not from a delivery timeout without a cause. The
/// next send asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_fail_with_the_reason_an_idempotent_producer_id_was_refused() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.pid_error = Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED));
        let producer = producer(&fake, &[("delivery.timeout.ms", "60000")]);
        let started = std::time::Instant::now();
        let delivered = producer
            .send(ProducerRecord::new(TOPIC, "v").with_partition(0))
            .await
            .expect("accepted");
        let error = delivered.await.unwrap_err();
        assert!(
            matches!(error.error(), KafkaError::Broker { code, message: Some(hint), .. }
                if *code == ErrorCode::CLUSTER_AUTHORIZATION_FAILED && hint.contains("enable.idempotence")),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(30), "not at delivery.timeout.ms");
        // Granted: the next record gets an id and is written.
        fake.set(|s| s.pid_error = None);
        deliver_all(&producer, 0, &values(1..2)).await;
        assert_eq!(fake.log(0), values(1..2));
        producer.close(LIMIT).await;
    })
    .await;
}

/// init_transactions refused for the transactional id's ACL may be called
/// again once the ACL allows it (Java's `initTransactions` contract), not
/// left failed for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_transactions_refused_for_authorization_may_be_called_again() {
    within(async {
        let fake = Fake::new(1, &[1]);
        // FindCoordinator answers, then InitProducerId is refused.
        fake.set(|s| {
            s.txn_faults = [
                ErrorCode::NONE,
                ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            ]
            .into_iter()
            .collect()
        });
        let producer = producer(&fake, &[TX]);
        let error = producer.init_transactions().await.unwrap_err();
        assert!(
            matches!(
                error,
                crate::TransactionError::TransactionalIdAuthorizationFailed { .. }
            ),
            "{error:?}"
        );
        // The ACL fixed: the same producer initializes and commits.
        producer.init_transactions().await.expect("init again");
        producer.begin_transaction().expect("begin");
        let delivered = producer
            .send(ProducerRecord::new(TOPIC, "after").with_partition(0))
            .await
            .expect("accepted");
        producer.commit_transaction().await.expect("commit");
        delivered.await.expect("delivered");
        producer.close(LIMIT).await;
    })
    .await;
}

/// V2: the group coordinator adds the offsets partition to the transaction
/// before it checks the member, so a transaction of offsets only whose
/// TxnOffsetCommit was refused (a rebalance) is open on the coordinator:
/// the abort must go there, not end locally and leave it open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_an_abort_after_refused_offsets_goes_to_the_coordinator() {
    within(async {
        let fake = Fake::new(1, &[1]);
        fake.set(|s| s.transaction_v2 = true);
        let producer = in_transaction(&fake).await;
        // The group's FindCoordinator answers; its TxnOffsetCommit is refused.
        fake.set(|s| {
            s.txn_faults
                .extend([ErrorCode::NONE, ErrorCode::ILLEGAL_GENERATION])
        });
        let group = crate::ConsumerGroupMetadata::new("billing").with_member(4, "m-1");
        let offsets = [(
            crate::TopicPartition::new("input", 0),
            crate::OffsetAndMetadata::new(7),
        )];
        let error = producer
            .send_offsets_to_transaction(offsets, &group)
            .await
            .unwrap_err();
        assert!(error.is_abortable(), "{error:?}");
        producer.abort_transaction().await.expect("abort");
        let log = txn_log(&fake);
        assert!(
            log.last().is_some_and(|l| l.starts_with("EndTxn v5 abort")),
            "{log:#?}"
        );
        producer.close(LIMIT).await;
    })
    .await;
}

/// A batch refused for some of its records (`record_errors`, as a broker
/// does for a record without a key on a compacted topic) fails each named
/// record with its own error and the others as valid but not written, as
/// Java's `failBatch`; not all with one merged error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_errors_fail_the_named_records_and_the_others_as_not_written() {
    within(async {
        let cases: [(&'static [i32], ErrorCode); 2] = [
            (&[1], ErrorCode::INVALID_TIMESTAMP),
            (&[0, 2], ErrorCode::INVALID_RECORD),
        ];
        for (named, expected_code) in cases {
            let fake = Fake::new(1, &[1]);
            fake.set(move |s| {
                s.rule = Some(Box::new(move |_| {
                    Some(Fault::RejectRecords(ErrorCode::INVALID_TIMESTAMP, named))
                }))
            });
            let producer = producer(&fake, &[("linger.ms", "50")]);
            let mut futures = Vec::new();
            for i in 0..3 {
                let record = ProducerRecord::new(TOPIC, format!("r{i}")).with_partition(0);
                futures.push(producer.send(record).await.expect("accepted"));
            }
            for (i, future) in futures.into_iter().enumerate() {
                let failed = future.await.unwrap_err();
                let index = i32::try_from(i).unwrap();
                match failed.error() {
                    KafkaError::Broker { code, message, .. } if named.contains(&index) => {
                        assert_eq!(*code, expected_code, "record {i}");
                        assert_eq!(
                            message.as_deref(),
                            Some(format!("record {i} is invalid").as_str())
                        );
                    }
                    KafkaError::BatchHadInvalidRecords {
                        invalid_records, ..
                    } if !named.contains(&index) => {
                        assert_eq!(*invalid_records, named.len());
                    }
                    other => panic!("record {i} of {named:?}: {other:?}"),
                }
                assert_eq!(
                    failed.record().map(|r| r.value.clone()),
                    Some(Some(format!("r{i}").into()))
                );
            }
            producer.close(LIMIT).await;
        }
    })
    .await;
}

/// Idempotence off with `max.in.flight.requests.per.connection=1`: Java
/// guarantees the order (`guaranteeMessageOrder` mutes a partition while a
/// batch of it is in flight). A record sent while the first was in flight
/// to a leader that then moved must not overtake it on the new leader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_idempotence_one_in_flight_keeps_the_order_across_a_leader_move() {
    within(async {
        let fake = Fake::new(2, &[1]);
        fake.set(|s| {
            s.answer_delay = Duration::from_millis(300);
            let mut refused = false;
            s.rule = Some(Box::new(move |incoming| {
                (incoming.node == 1 && !std::mem::replace(&mut refused, true))
                    .then_some(Fault::Reject(ErrorCode::NOT_LEADER_OR_FOLLOWER))
            }));
        });
        let producer = producer(
            &fake,
            &[
                ("enable.idempotence", "false"),
                ("acks", "1"),
                ("max.in.flight.requests.per.connection", "1"),
                ("linger.ms", "0"),
            ],
        );
        let first = producer
            .send(ProducerRecord::new(TOPIC, "v0").with_partition(0))
            .await
            .expect("accepted");
        // v0 reached broker 1 (its refusal comes 300 ms later); broker 2
        // leads now, and the producer learns it meanwhile.
        fake.until(|s| s.received.iter().any(|b| b.node == 1)).await;
        fake.set(|s| {
            s.leaders = vec![2];
            s.denied_topics = vec!["elsewhere".into()];
        });
        // A send to a topic it has no metadata for fetches the cluster's.
        let refused = producer
            .send(ProducerRecord::new("elsewhere", "x"))
            .await
            .unwrap_err();
        assert!(
            matches!(refused.error(), KafkaError::Broker { .. }),
            "{refused:?}"
        );
        assert!(
            fake.with(|s| s.received.len()) == 1,
            "v0's refusal has not come yet"
        );
        let second = producer
            .send(ProducerRecord::new(TOPIC, "v1").with_partition(0))
            .await
            .expect("accepted");
        first.await.expect("v0 delivered after its retry");
        second.await.expect("v1 delivered");
        assert_eq!(fake.log(0), values(0..2), "v1 overtook v0");
        producer.close(LIMIT).await;
    })
    .await;
}

/// A panic on the network thread outside a send callback (a token provider,
/// a SASL mechanism, a metrics recorder) ends it: the records it was to send
/// fail, later sends are refused, and close returns. They waited forever,
/// and so did close and a drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_on_the_network_thread_fails_records_instead_of_hanging() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[("linger.ms", "0")]);
        deliver_all(&producer, 0, &values(0..1)).await;
        // The connection drops; the reconnect panics.
        fake.set(|s| {
            s.connect_panics = true;
            s.rule = Some(Box::new(|_| Some(Fault::LoseAnswer)));
        });
        let lost = producer
            .send(ProducerRecord::new(TOPIC, "v1").with_partition(0))
            .await
            .expect("accepted");
        let error = tokio::time::timeout(Duration::from_secs(10), lost)
            .await
            .expect("an outcome, not a hang")
            .unwrap_err();
        assert!(
            error.error().possibly_written() || matches!(error.error(), KafkaError::Internal(_)),
            "{error:?}"
        );
        let refused = producer
            .send(ProducerRecord::new(TOPIC, "v2").with_partition(0))
            .await
            .unwrap_err();
        assert!(
            matches!(refused.error(), KafkaError::ProducerClosed(why) if why.contains("panic")),
            "{refused:?}"
        );
        tokio::time::timeout(Duration::from_secs(10), producer.close(LIMIT))
            .await
            .expect("close returns");
    })
    .await;
}

/// flush returns once the flushed records' callbacks have run, not only
/// once their outcomes are known (Java's flush waits for the callbacks): a
/// template's failure journal is written by then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_returns_after_the_flushed_records_callbacks_have_run() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[("linger.ms", "0")]);
        deliver_all(&producer, 0, &values(0..1)).await;
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..50 {
            let ran = ran.clone();
            producer
                .send_with_callback(
                    ProducerRecord::new(TOPIC, format!("c{i}")).with_partition(0),
                    move |_| {
                        // A callback with work of its own (a journal write).
                        std::thread::sleep(Duration::from_millis(2));
                        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    },
                )
                .await
                .expect("accepted");
        }
        producer.flush().await;
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 50);
        producer.close(LIMIT).await;
    })
    .await;
}

/// As Java (sendOffsetsToTransaction sets no pending transition): an abort
/// called while the offsets are still being sent, after their call timed
/// out, runs once they are done; it was refused as "another call in
/// progress".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_after_offsets_timed_out_runs_once_they_are_done() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[TX, ("max.block.ms", "100")]);
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        // The coordinator is loading: AddOffsetsToTxn is retried for a while.
        fake.set(|s| {
            s.txn_faults
                .extend([ErrorCode::COORDINATOR_LOAD_IN_PROGRESS; 12])
        });
        let group = crate::ConsumerGroupMetadata::new("billing");
        let offsets = [(
            crate::TopicPartition::new("input", 0),
            crate::OffsetAndMetadata::new(3),
        )];
        let error = producer
            .send_offsets_to_transaction(offsets, &group)
            .await
            .unwrap_err();
        assert!(
            matches!(error, crate::TransactionError::Timeout { .. }),
            "{error:?}"
        );
        // The abort waits for the offsets (its own max.block.ms may pass).
        let aborted = loop {
            match producer.abort_transaction().await {
                Err(crate::TransactionError::Timeout { .. }) => continue,
                other => break other,
            }
        };
        aborted.expect("aborted after the offsets");
        let log = txn_log(&fake);
        let offsets_done = position(&log, "TxnOffsetCommit");
        assert!(
            log.last().is_some_and(|l| l.starts_with("EndTxn abort"))
                && offsets_done < log.len() - 1,
            "{log:#?}"
        );
        producer.close(LIMIT).await;
    })
    .await;
}

/// A bootstrap address apart from the brokers: the fake's node 9.
const BOOTSTRAP_AT_NODE_9: (&str, &str) = ("bootstrap.servers", "127.0.0.1:19009");

/// The connection attempts to [`BOOTSTRAP_AT_NODE_9`].
fn bootstrap_connects(state: &State) -> usize {
    state
        .connect_timeouts
        .iter()
        .filter(|(node, ..)| *node == 9)
        .count()
}

/// `metadata.recovery.strategy`: when no broker of the metadata can be
/// reached, `rebootstrap` (the default) asks the bootstrap address again,
/// `none` waits for the known brokers (as Java clients before 4.0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_brokers_send_the_producer_back_to_bootstrap_unless_the_strategy_is_none() {
    within(async {
        for (strategy, rebootstraps) in [("rebootstrap", true), ("NONE", false)] {
            let fake = Fake::new(1, &[1]);
            let producer = producer(
                &fake,
                &[
                    BOOTSTRAP_AT_NODE_9,
                    ("metadata.recovery.strategy", strategy),
                    ("connections.max.idle.ms", "100"),
                    ("reconnect.backoff.ms", "300"),
                    ("reconnect.backoff.max.ms", "300"),
                ],
            );
            deliver_all(&producer, 0, &values(0..1)).await;
            // Broker 1's connection closes (idle); the next two attempts to
            // reach it are refused.
            fake.until(|s| s.closed_by_client.contains(&1)).await;
            fake.set(|s| {
                s.refuse_connections.insert(1, 2);
            });
            deliver_all(&producer, 0, &values(1..2)).await;
            let bootstrap_connects = fake.with(|s| bootstrap_connects(s));
            if rebootstraps {
                assert!(bootstrap_connects > 1, "{strategy}: {bootstrap_connects}");
            } else {
                assert_eq!(bootstrap_connects, 1, "{strategy}: only the first metadata");
            }
            assert_eq!(fake.log(0), values(0..2), "{strategy}");
            producer.close(LIMIT).await;
        }
    })
    .await;
}

/// A Metadata answer naming no brokers (a broker starting up) is not
/// applied, as in Java: the cluster known so far keeps carrying records.
/// (Applied, it left every partition without a leader until a full answer.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_answer_without_brokers_keeps_the_cluster_known() {
    within(async {
        let fake = Fake::new(1, &[1]);
        let producer = producer(&fake, &[("metadata.max.age.ms", "50")]);
        deliver_all(&producer, 0, &values(0..1)).await;
        // From now on every Metadata answer names the partition's leader but
        // no brokers; the producer refreshes every 50 ms.
        fake.set(|s| s.stale_metadata = Some((vec![1], vec![])));
        let stale_since = std::time::Instant::now();
        let asked = fake.with(|s| s.metadata_requests);
        fake.until(|s| s.metadata_requests >= asked + 2).await;
        // No refresh either: the metadata's age goes on from the last
        // answer applied (Java's `failedUpdate`).
        let stale_for = stale_since.elapsed();
        let age = producer.metrics().metadata_age.expect("fetched");
        assert!(age >= stale_for, "age {age:?}, stale for {stale_for:?}");
        deliver_all(&producer, 0, &values(1..3)).await;
        assert_eq!(fake.log(0), values(0..3));
        producer.close(LIMIT).await;
    })
    .await;
}

/// KIP-1102's timer: brokers that answer but whose metadata cannot be
/// applied for `metadata.recovery.rebootstrap.trigger.ms` send the producer
/// back to a bootstrap address (the default strategy), while `none`, or a
/// trigger not yet reached, keeps it on the brokers it knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_not_applied_for_the_trigger_sends_the_producer_back_to_bootstrap() {
    within(async {
        for (strategy, trigger_ms, rebootstraps) in [
            ("rebootstrap", "200", true),
            ("none", "200", false),
            ("rebootstrap", "300000", false),
        ] {
            let case = format!("{strategy}, trigger {trigger_ms} ms");
            let fake = Fake::new(1, &[1]);
            let producer = producer(
                &fake,
                &[
                    BOOTSTRAP_AT_NODE_9,
                    ("metadata.recovery.strategy", strategy),
                    ("metadata.recovery.rebootstrap.trigger.ms", trigger_ms),
                    ("metadata.max.age.ms", "50"),
                    ("retry.backoff.ms", "20"),
                    ("retry.backoff.max.ms", "20"),
                ],
            );
            deliver_all(&producer, 0, &values(0..1)).await;
            assert_eq!(fake.with(|s| bootstrap_connects(s)), 1, "{case}");
            // Broker 1 still answers, with metadata that cannot be applied.
            fake.set(|s| s.stale_metadata = Some((vec![1], vec![])));
            let asked = fake.with(|s| s.metadata_requests);
            if rebootstraps {
                fake.until(|s| bootstrap_connects(s) >= 2).await;
            } else {
                // Well past 200 ms: refreshes come at most every 20 ms, jittered.
                fake.until(|s| s.metadata_requests >= asked + 20).await;
                assert_eq!(fake.with(|s| bootstrap_connects(s)), 1, "{case}");
            }
            fake.set(|s| s.stale_metadata = None);
            deliver_all(&producer, 0, &values(1..2)).await;
            assert_eq!(fake.log(0), values(0..2), "{case}");
            producer.close(LIMIT).await;
        }
    })
    .await;
}

/// KIP-1102: a broker's REBOOTSTRAP_REQUIRED sends the next metadata request
/// to a bootstrap address (the known cluster kept meanwhile), unless
/// `metadata.recovery.strategy=none`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebootstrap_required_sends_the_next_metadata_request_to_bootstrap() {
    within(async {
        for (strategy, rebootstraps) in [("rebootstrap", true), ("none", false)] {
            let fake = Fake::new(1, &[1]);
            let producer = producer(
                &fake,
                &[
                    BOOTSTRAP_AT_NODE_9,
                    ("metadata.recovery.strategy", strategy),
                    ("metadata.max.age.ms", "50"),
                ],
            );
            deliver_all(&producer, 0, &values(0..1)).await;
            assert_eq!(fake.with(|s| bootstrap_connects(s)), 1, "{strategy}");
            fake.set(|s| {
                s.rebootstrap_required.insert(1, 1);
            });
            let asked = fake.with(|s| s.metadata_requests);
            if rebootstraps {
                fake.until(|s| bootstrap_connects(s) >= 2).await;
            } else {
                // Refreshes go on from broker 1, the answer not applied once.
                fake.until(|s| s.metadata_requests >= asked + 3).await;
                assert_eq!(fake.with(|s| bootstrap_connects(s)), 1, "{strategy}");
            }
            assert_eq!(fake.with(|s| s.rebootstrap_required[&1]), 0, "{strategy}");
            deliver_all(&producer, 0, &values(1..2)).await;
            assert_eq!(fake.log(0), values(0..2), "{strategy}");
            producer.close(LIMIT).await;
        }
    })
    .await;
}
