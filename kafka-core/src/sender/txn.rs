//! The sender's part of transactions (Java's `Sender.maybeSendAndPollTransactionalRequest`
//! with the `TxnRequestHandler`s of its `TransactionManager`).
//!
//! The producer handle moves the [`TxnShared`] state machine and queues one
//! operation at a time; each turn of the sender's loop [`Sender::drive_transaction`]
//! takes the next step of it: find the coordinator (FindCoordinator, key type
//! transaction or group), InitProducerId with the transactional id,
//! AddPartitionsToTxn for partitions whose first batch waits (V1),
//! AddOffsetsToTxn + TxnOffsetCommit, and EndTxn once every batch of the
//! transaction has its outcome. With transactions V2 (KIP-890, chosen at
//! InitProducerId when the coordinator offers it, as the Java 4.x client
//! chooses) Produce v12 adds partitions and TxnOffsetCommit v5 adds offsets
//! implicitly, and EndTxn v5 answers with the bumped epoch the next
//! transaction uses. Like every request of the sender, each is a
//! future on the sender's `FuturesUnordered`, one coordinator request at a
//! time; `NOT_COORDINATOR`, `COORDINATOR_LOAD_IN_PROGRESS`,
//! `CONCURRENT_TRANSACTIONS` and their kin are retried with backoff (a moved
//! coordinator is looked up again).
//!
//! A transaction is not over when EndTxn answers: the coordinator answers once
//! it has logged PrepareCommit (PrepareAbort), then writes the markers and
//! CompleteCommit. Until then it refuses to add a partition of the next
//! transaction with `CONCURRENT_TRANSACTIONS`: under V1 our AddPartitionsToTxn
//! (retried after [`ADD_PARTITIONS_RETRY_BACKOFF`], as Java does for the
//! first one of a transaction), under V2 the partition leader's check of our
//! first Produce, which the leader retries after its own
//! `add.partitions.to.txn.retry.backoff.ms` (20 ms). So after EndTxn the
//! producer asks the coordinator (DescribeTransactions on its transactional
//! id, back to back, then once a millisecond) until the transaction is
//! complete, and the next transaction's first request waits for that (at
//! most [`ADD_PARTITIONS_RETRY_BACKOFF`]); a coordinator that cannot be asked
//! gets a learned wait instead ([`TxnSettle`](super::txn_settle::TxnSettle)).
//! Measured on one broker with transactions of 1,000 records, a wait learned
//! from EndTxn's round trip still met the 20 ms retry in about one
//! transaction of sixteen and waited longer than needed in the others; asking
//! took the mean transaction from 7.7 to 4.7 ms.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::time::Instant;

use super::txn_settle::TxnSettle;
use super::{Event, Link, Sender, Target};
use crate::accumulator::exponential_backoff;
use crate::error::KafkaError;
use crate::network::NetworkError;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, AddPartitionsToTxnTopic, CoordinatorType,
    DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, InitProducerIdRequest, InitProducerIdResponse,
    TxnOffsetCommitPartition, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
    TxnOffsetCommitTopic,
};
use crate::transaction::{ConsumerGroupMetadata, OffsetAndMetadata, TopicPartition};
use crate::transaction::{TransactionError, TransactionProtocol};
use crate::transaction_manager::{TxnOp, TxnShared, TxnState};

/// The sender's transaction state: coordinators and the request in flight.
#[derive(Debug)]
pub(super) struct TxnDriver {
    pub shared: Arc<TxnShared>,
    /// The transaction coordinator: broker id and address.
    coordinator: Option<(i32, String)>,
    /// Group coordinators by group id.
    group_coordinators: HashMap<String, (i32, String)>,
    in_flight: bool,
    retry_at: Option<Instant>,
    attempts: u32,
    /// The SendOffsets operation whose AddOffsetsToTxn succeeded.
    offsets_added_for: Option<u64>,
    /// How long the next transaction's first request (V1: AddPartitionsToTxn,
    /// V2: Produce) waits after an EndTxn answer: the coordinator is still
    /// writing the markers and would refuse the partition with
    /// `CONCURRENT_TRANSACTIONS` (see the module docs).
    settle: TxnSettle,
}

/// Java's `TransactionManager.ADD_PARTITIONS_RETRY_BACKOFF_MS`: the backoff
/// after `CONCURRENT_TRANSACTIONS` on a transaction's first
/// AddPartitionsToTxn (the previous transaction is still completing), and the
/// broker's default `add.partitions.to.txn.retry.backoff.ms` for the same
/// check of a V2 Produce. Also the longest wait after EndTxn: waiting longer
/// would cost more than the retry it avoids.
pub(super) const ADD_PARTITIONS_RETRY_BACKOFF: Duration = Duration::from_millis(20);

impl TxnDriver {
    pub fn new(shared: Arc<TxnShared>) -> Self {
        TxnDriver {
            shared,
            coordinator: None,
            group_coordinators: HashMap::new(),
            in_flight: false,
            retry_at: None,
            attempts: 0,
            offsets_added_for: None,
            settle: TxnSettle::new(),
        }
    }

    /// When the coordinator has probably completed the last transaction, if
    /// that is still to come: the next transaction's first request waits.
    pub fn settling(&self, now: Instant) -> Option<Instant> {
        self.settle.settling(now)
    }

    /// A Produce went out at `sent_at` (under V2 the first of a transaction
    /// tells whether the wait after EndTxn was long enough).
    pub fn produce_sent(&mut self, sent_at: Instant) {
        self.settle.produce_sent(sent_at);
    }

    /// The Produce sent at `sent_at` was answered at `now`.
    pub fn produce_answered(&mut self, sent_at: Instant, now: Instant) {
        self.settle
            .produce_answered(sent_at, now, ADD_PARTITIONS_RETRY_BACKOFF);
    }
}

/// A coordinator request's answer.
pub(super) enum TxnEvent {
    Coordinator {
        key_type: CoordinatorType,
        key: String,
        result: Result<FindCoordinatorResponse, NetworkError>,
    },
    ProducerId {
        op: u64,
        result: Result<InitProducerIdResponse, NetworkError>,
    },
    PartitionsAdded {
        partitions: Vec<(Arc<str>, i32)>,
        result: Result<AddPartitionsToTxnResponse, NetworkError>,
    },
    OffsetsAdded {
        op: u64,
        result: Result<AddOffsetsToTxnResponse, NetworkError>,
    },
    OffsetsCommitted {
        op: u64,
        group: String,
        result: Result<TxnOffsetCommitResponse, NetworkError>,
    },
    Ended {
        op: u64,
        commit: bool,
        sent_at: Instant,
        result: Result<EndTxnResponse, NetworkError>,
    },
    /// Whether the last transaction is complete (after EndTxn).
    Described {
        result: Result<DescribeTransactionsResponse, NetworkError>,
    },
}

/// What to do about a coordinator's error code.
enum Verdict {
    Done,
    /// Try again after backoff; `refind` when the coordinator moved.
    Retry {
        refind: bool,
    },
    Fail(TransactionError),
}

impl Sender {
    /// The next step of the transaction, if one is due; returns when to look
    /// again (a retry backoff).
    pub(super) fn drive_transaction(&mut self, now: Instant) -> Option<Instant> {
        let txn = self.txn.as_ref()?.shared.clone();
        let state = txn.state();
        // Batches of a transaction that cannot commit never go out (Java's
        // `maybeAbortBatches`); an abort drops what is not sent yet.
        if matches!(
            state,
            TxnState::AbortableError | TxnState::FatalError | TxnState::Aborting
        ) {
            let error = match state {
                TxnState::Aborting => TransactionError::Aborted,
                _ => txn.error().unwrap_or(TransactionError::Aborted),
            };
            for batch in self.accumulator().take_all() {
                self.abort_batch(batch, KafkaError::Transaction(error.clone()));
            }
        }
        let driver = self.txn.as_ref()?;
        if driver.in_flight {
            return None;
        }
        if let Some(at) = driver.retry_at.filter(|at| *at > now) {
            return Some(at);
        }
        // Other coordinator requests would be refused while the last
        // transaction completes.
        if let Some(at) = self.txn.as_mut()?.settle.ask_at(now) {
            if at > now {
                return Some(at);
            }
            if self.ask_whether_complete(now) {
                return None;
            }
        }
        let settling = self.txn.as_ref()?.settling(now);
        let has_partitions_to_add = self
            .tm
            .as_ref()
            .is_some_and(|tm| tm.has_partitions_to_add());
        if has_partitions_to_add && matches!(state, TxnState::InTransaction | TxnState::Committing)
        {
            if let Some(at) = settling {
                return Some(at);
            }
            self.add_partitions(now);
            return None;
        }
        let (op_id, op, state) = txn.pending()?;
        match op {
            TxnOp::Init => self.init_producer_id(op_id, now),
            TxnOp::SendOffsets { offsets, group } => {
                let v2 = self.tm.as_ref().is_some_and(|tm| tm.transaction_v2());
                if v2 || self.txn.as_ref()?.offsets_added_for == Some(op_id) {
                    self.txn_offset_commit(op_id, &offsets, &group, now);
                } else {
                    self.add_offsets(op_id, &group.group_id, now);
                }
            }
            TxnOp::End { commit } => {
                if commit && state != TxnState::Committing {
                    let error = txn.error().unwrap_or(TransactionError::Aborted);
                    txn.finish(op_id, Err(error), None);
                    return None;
                }
                // Commit waits for every batch's outcome and every partition
                // to be added; abort for the batches in flight.
                let tm = self.tm.as_ref()?;
                if self.accumulator().has_incomplete() || (commit && tm.has_partitions_to_add()) {
                    return None;
                }
                if tm.transaction_started() {
                    self.end_txn(op_id, commit, now);
                } else if !commit && tm.bump_needed() {
                    // A batch with a sequence failed: a new epoch (KIP-360)
                    // before the next transaction.
                    self.init_producer_id(op_id, now);
                } else {
                    self.end_locally(op_id);
                }
            }
        }
        None
    }

    /// The transaction ended without (more) coordinator requests.
    fn end_locally(&mut self, op_id: u64) {
        if let Some(tm) = self.tm.as_mut() {
            tm.transaction_ended();
        }
        if let Some(driver) = self.txn.as_ref() {
            driver.shared.finish(op_id, Ok(()), Some(TxnState::Ready));
        }
    }

    /// Whether the producer may stop: no transaction left open. A transaction
    /// still open at close is aborted first (as Java's sender does).
    pub(super) fn transaction_settled(&mut self) -> bool {
        let Some(driver) = self.txn.as_ref() else {
            return true;
        };
        let txn = driver.shared.clone();
        match (txn.state(), txn.pending()) {
            (TxnState::InTransaction | TxnState::AbortableError, None) => {
                tracing::info!("aborting the open transaction: the producer is closing");
                let _ = txn.start_abort_on_close();
                false
            }
            (TxnState::FatalError, _) | (_, None) => true,
            (_, Some(_)) => false,
        }
    }

    /// A link to the coordinator of `key`, or `None` after starting to find
    /// or connect to it.
    fn coordinator_link(
        &mut self,
        key_type: CoordinatorType,
        key: &str,
        now: Instant,
    ) -> Option<Arc<dyn Link>> {
        let driver = self.txn.as_ref()?;
        let known = match key_type {
            CoordinatorType::Transaction => driver.coordinator.clone(),
            _ => driver.group_coordinators.get(key).cloned(),
        };
        if let Some((node, address)) = known {
            let target = Target::Node(node);
            if let Some(link) = self.connection(&target) {
                return Some(link);
            }
            self.connect(target, address, now);
            return None;
        }
        let (_, link) = self.any_connection(now)?;
        let timeout = self.config().request_timeout();
        let request = FindCoordinatorRequest {
            key_type,
            keys: vec![key.to_owned()],
        };
        let call = link.find_coordinator(request, timeout);
        let key = key.to_owned();
        self.start_txn_request(async move {
            TxnEvent::Coordinator {
                key_type,
                key,
                result: call.await,
            }
        });
        None
    }

    fn start_txn_request(&mut self, request: impl Future<Output = TxnEvent> + Send + 'static) {
        if let Some(driver) = self.txn.as_mut() {
            driver.in_flight = true;
        }
        self.events
            .push(async move { Event::Txn(request.await) }.boxed());
    }

    fn transactional_id(&self) -> String {
        self.txn
            .as_ref()
            .map(|d| d.shared.transactional_id.clone())
            .unwrap_or_default()
    }

    fn producer_id_and_epoch(&self) -> (i64, i16) {
        self.tm
            .as_ref()
            .map_or((-1, -1), |tm| tm.producer_id_and_epoch())
    }

    fn init_producer_id(&mut self, op: u64, now: Instant) {
        let id = self.transactional_id();
        let Some(link) = self.coordinator_link(CoordinatorType::Transaction, &id, now) else {
            return;
        };
        // With the current id and epoch once there is one: the coordinator
        // bumps the epoch (KIP-360) instead of fencing us.
        let (producer_id, producer_epoch) = self.producer_id_and_epoch();
        let request = InitProducerIdRequest {
            transactional_id: Some(id),
            transaction_timeout_ms: i32::try_from(self.config().transaction_timeout().as_millis())
                .unwrap_or(i32::MAX),
            producer_id,
            producer_epoch,
        };
        let call = link.init_producer_id(request, self.config().request_timeout());
        self.start_txn_request(async move {
            TxnEvent::ProducerId {
                op,
                result: call.await,
            }
        });
    }

    fn add_partitions(&mut self, now: Instant) {
        let id = self.transactional_id();
        let Some(link) = self.coordinator_link(CoordinatorType::Transaction, &id, now) else {
            return;
        };
        let Some(tm) = self.tm.as_mut() else { return };
        let partitions = tm.take_partitions_to_add();
        if partitions.is_empty() {
            return;
        }
        let mut topics: Vec<AddPartitionsToTxnTopic> = Vec::new();
        for (topic, partition) in &partitions {
            match topics.iter_mut().find(|t| *t.name == **topic) {
                Some(t) => t.partitions.push(*partition),
                None => topics.push(AddPartitionsToTxnTopic {
                    name: topic.to_string(),
                    partitions: vec![*partition],
                }),
            }
        }
        let (producer_id, producer_epoch) = tm.producer_id_and_epoch();
        let request = AddPartitionsToTxnRequest {
            transactional_id: id,
            producer_id,
            producer_epoch,
            topics,
        };
        let call = link.add_partitions_to_txn(request, self.config().request_timeout());
        self.start_txn_request(async move {
            TxnEvent::PartitionsAdded {
                partitions,
                result: call.await,
            }
        });
    }

    fn add_offsets(&mut self, op: u64, group_id: &str, now: Instant) {
        let id = self.transactional_id();
        let Some(link) = self.coordinator_link(CoordinatorType::Transaction, &id, now) else {
            return;
        };
        let (producer_id, producer_epoch) = self.producer_id_and_epoch();
        let request = AddOffsetsToTxnRequest {
            transactional_id: id,
            producer_id,
            producer_epoch,
            group_id: group_id.to_owned(),
        };
        let call = link.add_offsets_to_txn(request, self.config().request_timeout());
        self.start_txn_request(async move {
            TxnEvent::OffsetsAdded {
                op,
                result: call.await,
            }
        });
    }

    fn txn_offset_commit(
        &mut self,
        op: u64,
        offsets: &[(TopicPartition, OffsetAndMetadata)],
        group: &ConsumerGroupMetadata,
        now: Instant,
    ) {
        let Some(link) = self.coordinator_link(CoordinatorType::Group, &group.group_id, now) else {
            return;
        };
        let mut topics: Vec<TxnOffsetCommitTopic> = Vec::new();
        for (tp, offset) in offsets {
            let partition = TxnOffsetCommitPartition {
                partition_index: tp.partition,
                committed_offset: offset.offset,
                committed_leader_epoch: offset.leader_epoch.unwrap_or(-1),
                committed_metadata: Some(offset.metadata.clone()),
            };
            match topics.iter_mut().find(|t| t.name == tp.topic) {
                Some(t) => t.partitions.push(partition),
                None => topics.push(TxnOffsetCommitTopic {
                    name: tp.topic.clone(),
                    partitions: vec![partition],
                }),
            }
        }
        let v2 = self.tm.as_ref().is_some_and(|tm| tm.transaction_v2());
        if v2 && let Some(tm) = self.tm.as_mut() {
            // V2: the group coordinator adds the offsets partition to the
            // transaction before it checks the member and generation, so a
            // refused or unanswered TxnOffsetCommit may have started it:
            // from now on an abort goes to the coordinator (as Java's V2
            // sendOffsetsToTransaction marks the transaction started).
            tm.offsets_added();
        }
        let (producer_id, producer_epoch) = self.producer_id_and_epoch();
        let request = TxnOffsetCommitRequest {
            transactional_id: self.transactional_id(),
            group_id: group.group_id.clone(),
            producer_id,
            producer_epoch,
            generation_id: group.generation_id,
            member_id: group.member_id.clone(),
            group_instance_id: group.group_instance_id.clone(),
            topics,
            transaction_v2: v2,
        };
        let call = link.txn_offset_commit(request, self.config().request_timeout());
        let group = group.group_id.clone();
        self.start_txn_request(async move {
            TxnEvent::OffsetsCommitted {
                op,
                group,
                result: call.await,
            }
        });
    }

    /// Asks the coordinator whether the last transaction is complete (see
    /// `txn_settle`); false if it cannot be asked.
    fn ask_whether_complete(&mut self, now: Instant) -> bool {
        let id = self.transactional_id();
        let Some(link) = self.coordinator_link(CoordinatorType::Transaction, &id, now) else {
            // Finding or connecting to the coordinator first.
            return true;
        };
        if !link.supports_describe_transactions() {
            if let Some(driver) = self.txn.as_mut() {
                driver.settle.cannot_ask(true);
            }
            return false;
        }
        let request = DescribeTransactionsRequest {
            transactional_ids: vec![id],
        };
        let call = link.describe_transactions(request, self.config().request_timeout());
        self.start_txn_request(async move { TxnEvent::Described { result: call.await } });
        true
    }

    fn end_txn(&mut self, op: u64, commit: bool, now: Instant) {
        let id = self.transactional_id();
        let Some(link) = self.coordinator_link(CoordinatorType::Transaction, &id, now) else {
            return;
        };
        let (producer_id, producer_epoch) = self.producer_id_and_epoch();
        let request = EndTxnRequest {
            transactional_id: id,
            producer_id,
            producer_epoch,
            committed: commit,
            transaction_v2: self.tm.as_ref().is_some_and(|tm| tm.transaction_v2()),
        };
        let call = link.end_txn(request, self.config().request_timeout());
        let sent_at = Instant::now();
        self.start_txn_request(async move {
            TxnEvent::Ended {
                op,
                commit,
                sent_at,
                result: call.await,
            }
        });
    }

    // --- answers ------------------------------------------------------------------

    pub(super) fn on_txn_event(&mut self, event: TxnEvent) {
        let Some(driver) = self.txn.as_mut() else {
            return;
        };
        driver.in_flight = false;
        let txn = driver.shared.clone();
        match event {
            TxnEvent::Coordinator {
                key_type,
                key,
                result,
            } => {
                let found = result.map(|r| r.coordinators.into_iter().next());
                match found {
                    Ok(Some(c)) if c.error_code.is_ok() => {
                        tracing::debug!(node = c.node_id, host = %c.host, port = c.port, ?key_type, %key, "coordinator found");
                        let found = (c.node_id, format!("{}:{}", c.host, c.port));
                        match key_type {
                            CoordinatorType::Transaction => driver.coordinator = Some(found),
                            _ => {
                                driver.group_coordinators.insert(key, found);
                            }
                        }
                        driver.attempts = 0;
                        driver.retry_at = None;
                    }
                    Ok(Some(c)) => {
                        let operation = "FindCoordinator";
                        match self.verdict(operation, c.error_code, c.error_message) {
                            Verdict::Fail(error) => txn.fail(error),
                            _ => self.txn_backoff(false),
                        }
                    }
                    Ok(None) => self.txn_backoff(false),
                    Err(_) => self.txn_backoff(false),
                }
            }
            TxnEvent::ProducerId { op, result } => match result {
                Ok(r) if r.error_code.is_ok() => {
                    tracing::info!(
                        transactional_id = %txn.transactional_id,
                        producer_id = r.producer_id,
                        epoch = r.producer_epoch,
                        "transactional producer id"
                    );
                    if let Some(tm) = self.tm.as_mut() {
                        tm.set_producer_id(r.producer_id, r.producer_epoch);
                        tm.transaction_ended();
                    }
                    // As the Java 4.x client: V2 when the coordinator's
                    // cluster finalized transaction.version >= 2 and it
                    // offers Produce v12 and EndTxn v5.
                    let v2 = self
                        .txn
                        .as_ref()
                        .and_then(|d| d.coordinator.as_ref().map(|(node, _)| *node))
                        .and_then(|node| self.connection(&Target::Node(node)))
                        .is_some_and(|link| link.supports_transaction_v2());
                    if let Some(tm) = self.tm.as_mut() {
                        tm.set_transaction_v2(v2);
                    }
                    txn.set_protocol(if v2 {
                        TransactionProtocol::V2
                    } else {
                        TransactionProtocol::V1
                    });
                    self.txn_succeeded();
                    txn.finish(op, Ok(()), Some(TxnState::Ready));
                }
                Ok(r)
                    if matches!(
                        r.error_code,
                        ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                            | ErrorCode::CLUSTER_AUTHORIZATION_FAILED
                    ) =>
                {
                    let error = if r.error_code == ErrorCode::CLUSTER_AUTHORIZATION_FAILED {
                        TransactionError::FatalBroker {
                            operation: "InitProducerId",
                            code: r.error_code,
                            message: Some(
                                "the principal may not write idempotently to this cluster"
                                    .to_owned(),
                            ),
                        }
                    } else {
                        TransactionError::TransactionalIdAuthorizationFailed {
                            transactional_id: self.transactional_id(),
                        }
                    };
                    tracing::warn!(%error, "InitProducerId refused; init_transactions may be called again");
                    txn.finish_producer_id_unauthorized(op, error);
                }
                Ok(r) => self.on_txn_error(op, "InitProducerId", r.error_code, None, true),
                Err(error) => self.on_txn_network_error(CoordinatorType::Transaction, &error),
            },
            TxnEvent::PartitionsAdded { partitions, result } => match result {
                Ok(r) => {
                    let mut added = Vec::new();
                    let mut retry = Vec::new();
                    let mut refind = false;
                    let mut concurrent = false;
                    let mut failure = None;
                    for (topic, partition) in partitions {
                        let code = r
                            .results
                            .iter()
                            .find(|t| *t.name == *topic)
                            .and_then(|t| {
                                t.partitions.iter().find(|p| p.partition_index == partition)
                            })
                            .map_or(ErrorCode::OPERATION_NOT_ATTEMPTED, |p| p.error_code);
                        concurrent |= code == ErrorCode::CONCURRENT_TRANSACTIONS;
                        match self.verdict("AddPartitionsToTxn", code, None) {
                            Verdict::Done => added.push((topic, partition)),
                            Verdict::Retry { refind: r } => {
                                refind |= r;
                                retry.push((topic, partition));
                            }
                            Verdict::Fail(error) => {
                                failure.get_or_insert(error);
                                retry.push((topic, partition));
                            }
                        }
                    }
                    // As Java's `maybeOverrideRetryBackoffMs`: the transaction's
                    // first partitions refused as CONCURRENT_TRANSACTIONS mean
                    // the previous transaction is still completing, which
                    // takes milliseconds, not retry.backoff.ms.
                    let first_of_transaction =
                        !self.tm.as_ref().is_some_and(|tm| tm.transaction_started());
                    if first_of_transaction && let Some(driver) = self.txn.as_mut() {
                        driver.settle.first_request_judged(concurrent);
                    }
                    let first_of_transaction = concurrent && first_of_transaction;
                    if let Some(tm) = self.tm.as_mut() {
                        tm.partitions_added(&added, &retry);
                    }
                    if let Some(error) = failure {
                        if let TransactionError::AbortableBroker { code, .. } = &error {
                            self.coordinator_lost_producer_id(*code);
                        }
                        txn.fail(error);
                    } else if !retry.is_empty() && first_of_transaction && !refind {
                        self.txn_retry_after(
                            ADD_PARTITIONS_RETRY_BACKOFF.min(self.config().retry_backoff()),
                        );
                    } else if !retry.is_empty() {
                        self.txn_backoff(refind);
                    } else {
                        self.txn_succeeded();
                    }
                }
                Err(error) => {
                    if let Some(tm) = self.tm.as_mut() {
                        tm.partitions_added(&[], &partitions);
                    }
                    self.on_txn_network_error(CoordinatorType::Transaction, &error);
                }
            },
            TxnEvent::OffsetsAdded { op, result } => match result {
                Ok(r) if r.error_code.is_ok() => {
                    if let Some(tm) = self.tm.as_mut() {
                        tm.offsets_added();
                    }
                    if let Some(driver) = self.txn.as_mut() {
                        driver.offsets_added_for = Some(op);
                    }
                    self.txn_succeeded();
                }
                Ok(r) => self.on_txn_error(op, "AddOffsetsToTxn", r.error_code, None, false),
                Err(error) => self.on_txn_network_error(CoordinatorType::Transaction, &error),
            },
            TxnEvent::OffsetsCommitted { op, group, result } => match result {
                Ok(r) => {
                    let code = r
                        .topics
                        .iter()
                        .flat_map(|t| t.partitions.iter().map(|(_, code)| *code))
                        .find(|code| !code.is_ok())
                        .unwrap_or(ErrorCode::NONE);
                    if code.is_ok() {
                        self.txn_succeeded();
                        txn.finish(op, Ok(()), None);
                    } else {
                        if matches!(
                            code,
                            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE
                        ) && let Some(driver) = self.txn.as_mut()
                        {
                            driver.group_coordinators.remove(&group);
                        }
                        self.on_txn_error(op, "TxnOffsetCommit", code, None, false);
                    }
                }
                Err(error) => {
                    if let Some(driver) = self.txn.as_mut() {
                        driver.group_coordinators.remove(&group);
                    }
                    self.on_txn_network_error(CoordinatorType::Group, &error);
                }
            },
            TxnEvent::Ended {
                op,
                commit,
                sent_at,
                result,
            } => match result {
                Ok(r) if r.error_code.is_ok() => {
                    // The coordinator completes the transaction in a round
                    // trip or two more (see the module docs).
                    let now = Instant::now();
                    let v2 = self.tm.as_ref().is_some_and(|tm| tm.transaction_v2());
                    if let Some(driver) = self.txn.as_mut() {
                        let round_trips = driver.settle.round_trips();
                        let settle = driver.settle.transaction_ended(
                            now,
                            now.saturating_duration_since(sent_at),
                            ADD_PARTITIONS_RETRY_BACKOFF,
                            v2,
                        );
                        tracing::debug!(commit, longest_wait = ?settle, round_trips, "transaction ended");
                    }
                    self.txn_succeeded();
                    if let Some(tm) = self.tm.as_mut()
                        && tm.transaction_v2()
                        && r.producer_id >= 0
                    {
                        // V2: every EndTxn bumps the epoch; the next
                        // transaction starts every partition at sequence 0
                        // (which also settles a bump a failed batch asked for).
                        tracing::debug!(
                            producer_id = r.producer_id,
                            epoch = r.producer_epoch,
                            "new producer epoch from EndTxn"
                        );
                        tm.set_producer_id(r.producer_id, r.producer_epoch);
                    }
                    let bump = self.tm.as_ref().is_some_and(|tm| tm.bump_needed());
                    if let Some(tm) = self.tm.as_mut() {
                        tm.transaction_ended();
                    }
                    // After an abort with a failed batch, the epoch is bumped
                    // (next turn) before the operation ends.
                    if !bump {
                        txn.finish(op, Ok(()), Some(TxnState::Ready));
                    }
                }
                // An abort the coordinator refuses because it lost our
                // producer id, or because the transaction must be aborted
                // anyway, ends with InitProducerId (as Java's
                // `beginCompletingTransaction` when an epoch bump is due): the
                // coordinator aborts what it still holds under the new epoch.
                // Failing it instead left the producer aborting for good.
                Ok(r)
                    if !commit
                        && (lost_producer_id(r.error_code)
                            || r.error_code == ErrorCode::TRANSACTION_ABORTABLE) =>
                {
                    tracing::warn!(code = %r.error_code, "EndTxn (abort) refused; aborting with a new epoch instead");
                    if let Some(tm) = self.tm.as_mut() {
                        tm.end_with_new_epoch(true);
                    }
                    self.txn_succeeded();
                }
                Ok(r) => self.on_txn_error(op, "EndTxn", r.error_code, None, true),
                Err(error) => self.on_txn_network_error(CoordinatorType::Transaction, &error),
            },
            TxnEvent::Described { result } => {
                let described = result.map(|r| r.transaction_states.into_iter().next());
                if let Some(driver) = self.txn.as_mut() {
                    match described {
                        Ok(Some(t)) if t.error_code.is_ok() => {
                            if t.is_settled() {
                                let completing = driver.settle.settled();
                                tracing::debug!(
                                    completing,
                                    "the coordinator completed the last transaction"
                                );
                            } else {
                                driver.settle.still_completing(Instant::now());
                            }
                        }
                        Ok(Some(t)) => {
                            // A moving coordinator may answer next time; a
                            // refusal (an ACL without DESCRIBE) will not.
                            let for_good = !t.error_code.is_retriable();
                            tracing::debug!(code = %t.error_code, for_good, "DescribeTransactions failed; waiting the learned time");
                            driver.settle.cannot_ask(for_good);
                        }
                        Ok(None) => driver.settle.cannot_ask(true),
                        Err(error) => {
                            tracing::debug!(%error, "DescribeTransactions failed; waiting the learned time");
                            driver.settle.cannot_ask(false);
                        }
                    }
                }
            }
        }
        self.shared.wakeup.notify_one();
    }

    fn txn_succeeded(&mut self) {
        if let Some(driver) = self.txn.as_mut() {
            driver.attempts = 0;
            driver.retry_at = None;
        }
    }

    /// A fixed backoff before the next coordinator request.
    fn txn_retry_after(&mut self, backoff: Duration) {
        if let Some(driver) = self.txn.as_mut() {
            driver.retry_at = Some(Instant::now() + backoff);
        }
    }

    /// Backoff before the next coordinator request; `refind` forgets the
    /// transaction coordinator.
    fn txn_backoff(&mut self, refind: bool) {
        let (initial, max) = (
            self.config().retry_backoff(),
            self.config().retry_backoff_max(),
        );
        if let Some(driver) = self.txn.as_mut() {
            if refind {
                driver.coordinator = None;
            }
            driver.retry_at =
                Some(Instant::now() + exponential_backoff(initial, max, driver.attempts));
            driver.attempts = driver.attempts.saturating_add(1);
        }
    }

    fn on_txn_network_error(&mut self, key_type: CoordinatorType, error: &NetworkError) {
        tracing::debug!(%error, "coordinator request failed; finding the coordinator again");
        if let Some(driver) = self.txn.as_ref()
            && key_type == CoordinatorType::Transaction
            && let Some((node, _)) = driver.coordinator
        {
            self.disconnected(&Target::Node(node), error);
        }
        self.txn_backoff(key_type == CoordinatorType::Transaction);
    }

    fn on_txn_error(
        &mut self,
        op: u64,
        operation: &'static str,
        code: ErrorCode,
        message: Option<String>,
        fatal_otherwise: bool,
    ) {
        let verdict = match self.verdict(operation, code, message) {
            Verdict::Fail(TransactionError::AbortableBroker {
                operation,
                code,
                message,
            }) if fatal_otherwise
                && code != ErrorCode::TRANSACTION_ABORTABLE
                && !lost_producer_id(code) =>
            {
                Verdict::Fail(TransactionError::FatalBroker {
                    operation,
                    code,
                    message,
                })
            }
            other => other,
        };
        match verdict {
            Verdict::Done => {}
            Verdict::Retry { refind } => {
                tracing::debug!(operation, %code, "retrying the coordinator request");
                self.txn_backoff(refind);
            }
            Verdict::Fail(error) => {
                tracing::warn!(operation, %error, "transactional request failed");
                self.coordinator_lost_producer_id(code);
                if let Some(driver) = self.txn.as_ref() {
                    driver.shared.finish(op, Err(error), None);
                }
            }
        }
    }

    /// Java's split of a coordinator's error codes.
    fn verdict(
        &self,
        operation: &'static str,
        code: ErrorCode,
        message: Option<String>,
    ) -> Verdict {
        let transactional_id = self.transactional_id();
        match code {
            ErrorCode::NONE => Verdict::Done,
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
                Verdict::Retry { refind: true }
            }
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            | ErrorCode::CONCURRENT_TRANSACTIONS
            | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            | ErrorCode::REQUEST_TIMED_OUT
            | ErrorCode::OPERATION_NOT_ATTEMPTED => Verdict::Retry { refind: false },
            ErrorCode::PRODUCER_FENCED | ErrorCode::INVALID_PRODUCER_EPOCH => {
                Verdict::Fail(TransactionError::ProducerFenced { transactional_id })
            }
            ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED => {
                Verdict::Fail(TransactionError::TransactionalIdAuthorizationFailed {
                    transactional_id,
                })
            }
            ErrorCode::UNSUPPORTED_VERSION | ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT => {
                Verdict::Fail(TransactionError::UnsupportedVersion(format!(
                    "{operation} answered {code}"
                )))
            }
            ErrorCode::INVALID_TXN_STATE | ErrorCode::CLUSTER_AUTHORIZATION_FAILED => {
                Verdict::Fail(TransactionError::FatalBroker {
                    operation,
                    code,
                    message,
                })
            }
            code if code.is_retriable() => Verdict::Retry { refind: false },
            _ => Verdict::Fail(TransactionError::AbortableBroker {
                operation,
                code,
                message,
            }),
        }
    }

    /// Java's `abortableErrorIfPossible`: the coordinator no longer knows our
    /// producer id (`UNKNOWN_PRODUCER_ID`), or the transactional id expired
    /// (`INVALID_PRODUCER_ID_MAPPING`, after `transactional.id.expiration.ms`
    /// idle). The transaction is abortable, and the abort gets a new epoch
    /// with InitProducerId; for an expired id it skips EndTxn, which the
    /// coordinator would refuse the same way.
    pub(super) fn coordinator_lost_producer_id(&mut self, code: ErrorCode) {
        if !lost_producer_id(code) {
            return;
        }
        if let Some(tm) = self.tm.as_mut() {
            tm.end_with_new_epoch(code == ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        }
    }

    /// What a failed send means for its transaction.
    pub(super) fn transaction_error_for_send(&self, error: &KafkaError) -> TransactionError {
        let transactional_id = self.transactional_id();
        match error.error_code() {
            Some(ErrorCode::PRODUCER_FENCED) => {
                TransactionError::ProducerFenced { transactional_id }
            }
            // V2 bumps the epoch on every EndTxn, so a late produce with the
            // old epoch means this transaction cannot commit (Java 4.x: abortable).
            Some(ErrorCode::INVALID_PRODUCER_EPOCH)
                if self.tm.as_ref().is_some_and(|tm| tm.transaction_v2()) =>
            {
                TransactionError::SendFailed {
                    cause: Box::new(error.clone()),
                }
            }
            Some(ErrorCode::INVALID_PRODUCER_EPOCH) => {
                TransactionError::InvalidProducerEpoch { transactional_id }
            }
            Some(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED) => {
                TransactionError::TransactionalIdAuthorizationFailed { transactional_id }
            }
            // Fatal for the producer in Java's `maybeTransitionToErrorState`:
            // no later transaction can do better.
            Some(code @ ErrorCode::CLUSTER_AUTHORIZATION_FAILED) => TransactionError::FatalBroker {
                operation: "Produce",
                code,
                message: match error {
                    KafkaError::Broker {
                        topic,
                        partition,
                        message,
                        ..
                    } => Some(format!(
                        "writing to {topic}-{partition}{}",
                        message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    )),
                    _ => None,
                },
            },
            Some(ErrorCode::UNSUPPORTED_VERSION) => {
                TransactionError::UnsupportedVersion(error.to_string())
            }
            _ => TransactionError::SendFailed {
                cause: Box::new(error.clone()),
            },
        }
    }
}

/// A coordinator's answer that it does not know our producer id.
fn lost_producer_id(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::UNKNOWN_PRODUCER_ID | ErrorCode::INVALID_PRODUCER_ID_MAPPING
    )
}
