//! Idempotent producer state (Java's `TransactionManager`, idempotence part):
//! the producer id and epoch from InitProducerId, and per partition the next
//! sequence to assign, the last acknowledged sequence and the sequences in flight.
//!
//! Sequences are assigned when a batch is drained, so a batch keeps its sequence
//! across retries and the broker deduplicates a resend of a batch it already
//! wrote. When the sequence of a partition can no longer be trusted (a batch with
//! a sequence failed for good, `OUT_OF_ORDER_SEQUENCE_NUMBER`,
//! `UNKNOWN_PRODUCER_ID`), the idempotent producer bumps its epoch itself
//! (KIP-360, as Java's `bumpIdempotentProducerEpoch`) once nothing is in flight.
//! The partitions whose sequences broke start again at 0 under the new epoch.
//! As in Java, every other partition keeps its epoch and sequences while
//! batches of it are outstanding: a retry whose earlier answer was lost goes
//! out as it was, so the broker deduplicates it; that partition moves to the
//! new epoch at its next new batch once those are settled.
//!
//! Owned by the sender task alone, so it needs no locks.
//!
//! Transactions (`transactional.id`): the [`TxnShared`] state machine (Java's
//! `TransactionManager.State`: UNINITIALIZED, INITIALIZING, READY,
//! IN_TRANSACTION, COMMITTING, ABORTING, ABORTABLE_ERROR, FATAL_ERROR) is shared
//! by the producer handle, whose methods move it and queue one operation at a
//! time (init, offsets, end), and the sender, which carries the operations out
//! against the coordinator and reports their outcome. The partitions of the
//! current transaction are the sender's alone, kept here.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::transaction::{
    ConsumerGroupMetadata, OffsetAndMetadata, TopicPartition, TransactionError, TransactionProtocol,
};

/// No producer id yet.
pub(crate) const NO_PRODUCER_ID: i64 = -1;

#[derive(Debug)]
struct PartitionSequences {
    /// The id and epoch these sequences belong to: the producer's, or an
    /// older one while batches stamped with it are outstanding.
    producer_id: i64,
    epoch: i16,
    next: i32,
    last_acked: Option<i32>,
    in_flight: BTreeSet<i32>,
}

/// What to do about the producer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PidState {
    /// No id yet: InitProducerId must run before anything is drained.
    Uninitialized,
    /// Draining may proceed with this id and epoch.
    Ready,
    /// The epoch must be bumped once nothing is in flight.
    BumpNeeded,
}

#[derive(Debug)]
pub(crate) struct TransactionManager {
    producer_id: i64,
    epoch: i16,
    state: PidState,
    partitions: HashMap<(Arc<str>, i32), PartitionSequences>,
    /// Partitions whose sequences broke: they restart at the next epoch.
    to_restart: HashSet<(Arc<str>, i32)>,
    /// `Some` for a transactional producer: the current transaction's partitions.
    txn: Option<TxnPartitions>,
    /// Transactions V2 (KIP-890): Produce adds partitions itself.
    transaction_v2: bool,
}

/// The partitions of the current transaction (V1: each added with
/// AddPartitionsToTxn before its first batch is sent).
#[derive(Debug, Default)]
struct TxnPartitions {
    added: HashSet<(Arc<str>, i32)>,
    /// Waiting for AddPartitionsToTxn.
    pending: BTreeSet<(Arc<str>, i32)>,
    /// In an AddPartitionsToTxn request now.
    adding: BTreeSet<(Arc<str>, i32)>,
    /// Whether the coordinator knows of this transaction (partitions or
    /// offsets were added): only then is EndTxn needed.
    started: bool,
}

impl TransactionManager {
    pub fn new() -> Self {
        TransactionManager {
            producer_id: NO_PRODUCER_ID,
            epoch: -1,
            state: PidState::Uninitialized,
            partitions: HashMap::new(),
            to_restart: HashSet::new(),
            txn: None,
            transaction_v2: false,
        }
    }

    /// The state of a transactional producer.
    pub fn transactional() -> Self {
        TransactionManager {
            txn: Some(TxnPartitions::default()),
            ..Self::new()
        }
    }

    /// Whether batches are written as transactional.
    pub fn is_transactional(&self) -> bool {
        self.txn.is_some()
    }

    /// Whether the producer uses transactions V2 with its coordinator.
    pub fn transaction_v2(&self) -> bool {
        self.transaction_v2 && self.txn.is_some()
    }

    /// Chooses the transaction protocol (at InitProducerId).
    pub fn set_transaction_v2(&mut self, v2: bool) {
        self.transaction_v2 = v2;
    }

    /// Whether a batch of this partition may be drained in the current
    /// transaction: it was added to it. When not, it is queued for
    /// AddPartitionsToTxn. Always true without transactions.
    pub fn may_send_in_transaction(&mut self, topic: &Arc<str>, partition: i32) -> bool {
        let Some(txn) = self.txn.as_mut() else {
            return true;
        };
        let key = (topic.clone(), partition);
        if txn.added.contains(&key) {
            return true;
        }
        if self.transaction_v2 {
            // V2: the Produce request (v12+) adds the partition; the
            // transaction is started once a batch of it goes out.
            txn.added.insert(key);
            txn.started = true;
            return true;
        }
        if !txn.adding.contains(&key) {
            txn.pending.insert(key);
        }
        false
    }

    /// The partitions to add now (they move to "adding").
    pub fn take_partitions_to_add(&mut self) -> Vec<(Arc<str>, i32)> {
        let Some(txn) = self.txn.as_mut() else {
            return Vec::new();
        };
        let taken: Vec<_> = std::mem::take(&mut txn.pending).into_iter().collect();
        txn.adding.extend(taken.iter().cloned());
        taken
    }

    /// Whether partitions wait to be added or are being added.
    pub fn has_partitions_to_add(&self) -> bool {
        self.txn
            .as_ref()
            .is_some_and(|t| !t.pending.is_empty() || !t.adding.is_empty())
    }

    /// The coordinator answered for these partitions: the added ones may be
    /// drained, the others are asked for again.
    pub fn partitions_added(&mut self, added: &[(Arc<str>, i32)], retry: &[(Arc<str>, i32)]) {
        if let Some(txn) = self.txn.as_mut() {
            for key in added {
                txn.adding.remove(key);
                txn.added.insert(key.clone());
                txn.started = true;
            }
            for key in retry {
                txn.adding.remove(key);
                txn.pending.insert(key.clone());
            }
        }
    }

    /// Offsets were added to the transaction (AddOffsetsToTxn).
    pub fn offsets_added(&mut self) {
        if let Some(txn) = self.txn.as_mut() {
            txn.started = true;
        }
    }

    /// Whether the coordinator knows of the current transaction.
    pub fn transaction_started(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.started)
    }

    /// The transaction ended (committed or aborted): the next starts empty.
    pub fn transaction_ended(&mut self) {
        if let Some(txn) = self.txn.as_mut() {
            *txn = TxnPartitions::default();
        }
    }

    pub fn state(&self) -> PidState {
        self.state
    }

    pub fn producer_id_and_epoch(&self) -> (i64, i16) {
        (self.producer_id, self.epoch)
    }

    /// A new id or epoch (from InitProducerId, or bumped here). A
    /// transactional producer's partitions all restart at 0 (its batches of
    /// the old epoch were aborted); an idempotent producer's keep their
    /// sequences while batches stamped with them are outstanding.
    pub fn set_producer_id(&mut self, producer_id: i64, epoch: i16) {
        self.producer_id = producer_id;
        self.epoch = epoch;
        self.state = PidState::Ready;
        if self.txn.is_some() {
            self.partitions.clear();
        } else {
            let restart = std::mem::take(&mut self.to_restart);
            self.partitions
                .retain(|key, seq| !seq.in_flight.is_empty() && !restart.contains(key));
        }
        self.to_restart.clear();
    }

    /// The idempotent producer's epoch bump (Java's
    /// `bumpIdempotentProducerEpoch`): the broker accepts a higher epoch of a
    /// producer id it knows at sequence 0, so no request is needed. Returns
    /// false when the epoch is exhausted: a new id must be asked for.
    pub fn bump_epoch_locally(&mut self) -> bool {
        match self.epoch.checked_add(1) {
            Some(epoch) if self.producer_id != NO_PRODUCER_ID => {
                self.set_producer_id(self.producer_id, epoch);
                true
            }
            _ => {
                self.state = PidState::Uninitialized;
                false
            }
        }
    }

    /// The InitProducerId for a new id failed: ask again, keeping the
    /// partitions' outstanding sequences and those to restart.
    pub fn reset_producer_id(&mut self) {
        self.state = PidState::Uninitialized;
    }

    /// Whether an epoch bump is due (a batch with a sequence failed).
    pub fn bump_needed(&self) -> bool {
        self.state == PidState::BumpNeeded
    }

    /// The sequences of this partition broke (a batch with a sequence failed
    /// for good, or the broker lost our state): it restarts at 0 under a new
    /// epoch, which is due.
    pub fn request_epoch_bump(&mut self, topic: &Arc<str>, partition: i32, why: &str) {
        self.to_restart.insert((topic.clone(), partition));
        if self.state == PidState::Ready {
            tracing::info!(
                producer_id = self.producer_id,
                epoch = self.epoch,
                %topic,
                partition,
                reason = why,
                "bumping the producer epoch"
            );
            self.state = PidState::BumpNeeded;
        }
    }

    /// The transaction must end under a new epoch (InitProducerId): the
    /// coordinator lost our producer id, or refused to abort. With
    /// `skip_end_txn` (it no longer knows the transactional id, or refused
    /// EndTxn already) the abort sends no EndTxn: InitProducerId alone ends
    /// the transaction, the coordinator aborting what it still holds.
    pub fn end_with_new_epoch(&mut self, skip_end_txn: bool) {
        if self.state == PidState::Ready {
            self.state = PidState::BumpNeeded;
        }
        if skip_end_txn && let Some(txn) = self.txn.as_mut() {
            txn.started = false;
        }
    }

    /// Whether a batch stamped with this id and epoch belongs to the current one.
    pub fn is_current(&self, producer_id: i64, epoch: i16) -> bool {
        producer_id == self.producer_id && epoch == self.epoch
    }

    /// The partition's sequences when they belong to this id and epoch.
    fn sequences(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        producer_id: i64,
        epoch: i16,
    ) -> Option<&mut PartitionSequences> {
        self.partitions
            .get_mut(&(topic.clone(), partition))
            .filter(|s| s.producer_id == producer_id && s.epoch == epoch)
    }

    /// Whether a batch stamped with this id and epoch may go out as it is:
    /// its partition's sequences still belong to them (the current epoch, or
    /// an older one whose batches are outstanding). When not, its partition
    /// restarted and the batch must be stamped anew.
    pub fn holds_sequences_of(
        &self,
        topic: &Arc<str>,
        partition: i32,
        producer_id: i64,
        epoch: i16,
    ) -> bool {
        self.partitions
            .get(&(topic.clone(), partition))
            .is_some_and(|s| s.producer_id == producer_id && s.epoch == epoch)
    }

    /// Assigns the base sequence for a batch of `records` records (wrapping at
    /// `i32::MAX` as the protocol does). A partition still on an older epoch
    /// (nothing of it outstanding, see [`Self::may_send_new`]) starts at 0.
    pub fn assign_sequence(&mut self, topic: &Arc<str>, partition: i32, records: u32) -> i32 {
        let (producer_id, epoch) = (self.producer_id, self.epoch);
        let fresh = || PartitionSequences {
            producer_id,
            epoch,
            next: 0,
            last_acked: None,
            in_flight: BTreeSet::new(),
        };
        let seq = self
            .partitions
            .entry((topic.clone(), partition))
            .or_insert_with(fresh);
        if seq.producer_id != producer_id || seq.epoch != epoch {
            *seq = fresh();
        }
        let base = seq.next;
        seq.next = increment_sequence(base, records);
        seq.in_flight.insert(base);
        base
    }

    /// A retried batch may go only when it is the oldest in flight of its
    /// partition, so retries go out in their original order.
    pub fn may_send_retry(&self, topic: &Arc<str>, partition: i32, base_sequence: i32) -> bool {
        self.partitions
            .get(&(topic.clone(), partition))
            .and_then(|s| s.in_flight.first().copied())
            .is_none_or(|first| first == base_sequence)
    }

    /// Whether a batch without a sequence may be drained for the partition now.
    ///
    /// Until the broker has acknowledged a first batch of this epoch on the
    /// partition it holds no state for us there and accepts *any* first sequence;
    /// if the first batch failed (say `NOT_LEADER_OR_FOLLOWER` on a new topic)
    /// while a later one was in flight, the later one would be written first and
    /// the retried first batch would be out of order for ever. So one batch at a
    /// time until the first acknowledgement; after it the broker enforces order.
    /// A partition still on an older epoch waits until its batches of that
    /// epoch are settled (Java's `hasStaleProducerIdAndEpoch`): a batch at
    /// sequence 0 of the new epoch written before them would fence them.
    pub fn may_send_new(&self, topic: &Arc<str>, partition: i32) -> bool {
        self.partitions
            .get(&(topic.clone(), partition))
            .is_none_or(|s| {
                s.in_flight.is_empty()
                    || (s.last_acked.is_some() && self.is_current(s.producer_id, s.epoch))
            })
    }

    /// The broker acknowledged the batch.
    pub fn acked(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        state: (i64, i16, i32),
        records: u32,
    ) {
        let (producer_id, epoch, base_sequence) = state;
        let Some(seq) = self.sequences(topic, partition, producer_id, epoch) else {
            return;
        };
        seq.in_flight.remove(&base_sequence);
        let last = increment_sequence(base_sequence, records.saturating_sub(1));
        seq.last_acked = Some(match seq.last_acked {
            Some(prev) if prev > last && prev - last < i32::MAX / 2 => prev,
            _ => last,
        });
    }

    /// A batch in flight was split (the broker found it too large): its parts,
    /// with these base sequences, take its place in flight.
    pub fn split(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        state: (i64, i16, i32),
        parts: &[i32],
    ) {
        let (producer_id, epoch, base_sequence) = state;
        if let Some(seq) = self.sequences(topic, partition, producer_id, epoch) {
            seq.in_flight.remove(&base_sequence);
            seq.in_flight.extend(parts.iter().copied());
        }
    }

    /// The batch left the in-flight set without an acknowledgement.
    pub fn forget(&mut self, topic: &Arc<str>, partition: i32, state: (i64, i16, i32)) {
        let (producer_id, epoch, base_sequence) = state;
        if let Some(seq) = self.sequences(topic, partition, producer_id, epoch) {
            seq.in_flight.remove(&base_sequence);
        }
    }

    /// Whether `OUT_OF_ORDER_SEQUENCE_NUMBER` for this batch only means an older
    /// batch of the partition failed first (then it is retried, not fatal).
    pub fn is_out_of_order_because_of_earlier_failure(
        &self,
        topic: &Arc<str>,
        partition: i32,
        state: (i64, i16, i32),
    ) -> bool {
        let (producer_id, epoch, base_sequence) = state;
        match self.partitions.get(&(topic.clone(), partition)) {
            Some(s) if s.producer_id == producer_id && s.epoch == epoch => match s.last_acked {
                Some(last) => base_sequence != increment_sequence(last, 1),
                None => base_sequence != 0,
            },
            _ => false,
        }
    }
}

/// Java's `TransactionManager.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnState {
    Uninitialized,
    Initializing,
    Ready,
    InTransaction,
    Committing,
    Aborting,
    AbortableError,
    FatalError,
}

impl TxnState {
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Uninitialized => "uninitialized (init_transactions not called)",
            TxnState::Initializing => "initializing",
            TxnState::Ready => "ready (no transaction in progress)",
            TxnState::InTransaction => "in a transaction",
            TxnState::Committing => "committing a transaction",
            TxnState::Aborting => "aborting a transaction",
            TxnState::AbortableError => "in an aborted-only transaction (an earlier error)",
            TxnState::FatalError => "failed (a fatal error)",
        }
    }
}

/// An operation the producer handle queued for the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxnOp {
    /// InitProducerId with the transactional id.
    Init,
    /// AddOffsetsToTxn, then TxnOffsetCommit to the group coordinator.
    SendOffsets {
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
        group: ConsumerGroupMetadata,
    },
    /// Flush, then EndTxn.
    End { commit: bool },
}

#[derive(Debug)]
struct TxnInner {
    state: TxnState,
    /// Why the state is `AbortableError` or `FatalError`.
    error: Option<TransactionError>,
    /// The operation the sender carries out now, with its id.
    pending: Option<(u64, TxnOp)>,
    /// A commit or abort called while `send_offsets_to_transaction` was
    /// pending: it runs next (Java queues its EndTxn behind the offsets).
    queued: Option<(u64, TxnOp)>,
    /// The outcomes of the last operations, by id, for their waiters.
    finished: std::collections::VecDeque<(u64, Result<(), TransactionError>)>,
    /// The last operation started, with its id.
    last: Option<(u64, TxnOp)>,
    /// An operation whose caller stopped waiting (`max.block.ms`) and has
    /// not learned its outcome since (Java's unacknowledged
    /// `pendingTransition`): calling it again returns that outcome, even once
    /// it has finished; nothing else starts before.
    unacknowledged: Option<(u64, TxnOp)>,
    next_id: u64,
    protocol: Option<TransactionProtocol>,
}

impl TxnOp {
    /// The producer method that starts it, for messages.
    fn method(&self) -> &'static str {
        match self {
            TxnOp::Init => "init_transactions",
            TxnOp::SendOffsets { .. } => "send_offsets_to_transaction",
            TxnOp::End { commit: true } => "commit_transaction",
            TxnOp::End { commit: false } => "abort_transaction",
        }
    }
}

/// The transaction state machine, shared by the producer handle and the sender.
#[derive(Debug)]
pub(crate) struct TxnShared {
    pub transactional_id: String,
    inner: Mutex<TxnInner>,
    /// Counts finished operations (their outcomes are in `finished`).
    done: watch::Sender<u64>,
}

/// Java's "the previous call to X timed out and must be retried".
fn must_be_called_again(
    operation: &'static str,
    state: TxnState,
    unacknowledged: &TxnOp,
) -> TransactionError {
    TransactionError::InvalidState {
        operation,
        state: state.name(),
        hint: match unacknowledged {
            // Only init, commit and abort stay unacknowledged (as in Java).
            TxnOp::Init | TxnOp::SendOffsets { .. } => {
                "init_transactions timed out: call it again to learn its outcome first"
            }
            TxnOp::End { commit: true } => {
                "commit_transaction timed out: call it again to learn whether the transaction \
                 committed first"
            }
            TxnOp::End { commit: false } => {
                "abort_transaction timed out: call it again to learn its outcome first"
            }
        },
    }
}

fn lock(m: &Mutex<TxnInner>) -> std::sync::MutexGuard<'_, TxnInner> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TxnShared {
    pub fn new(transactional_id: String) -> Self {
        TxnShared {
            transactional_id,
            inner: Mutex::new(TxnInner {
                state: TxnState::Uninitialized,
                error: None,
                pending: None,
                queued: None,
                finished: std::collections::VecDeque::new(),
                last: None,
                unacknowledged: None,
                next_id: 0,
                protocol: None,
            }),
            done: watch::Sender::new(0),
        }
    }

    pub fn state(&self) -> TxnState {
        lock(&self.inner).state
    }

    /// The error of `AbortableError` / `FatalError`.
    pub fn error(&self) -> Option<TransactionError> {
        lock(&self.inner).error.clone()
    }

    pub fn protocol(&self) -> Option<TransactionProtocol> {
        lock(&self.inner).protocol
    }

    pub fn set_protocol(&self, protocol: TransactionProtocol) {
        lock(&self.inner).protocol = Some(protocol);
    }

    /// Whether a record may be sent now: only inside a transaction.
    pub fn check_send(&self) -> Result<(), TransactionError> {
        let inner = lock(&self.inner);
        match inner.state {
            TxnState::InTransaction => Ok(()),
            TxnState::AbortableError | TxnState::FatalError => {
                Err(inner.error.clone().unwrap_or(TransactionError::Closed))
            }
            state => Err(TransactionError::InvalidState {
                operation: "send",
                state: state.name(),
                hint: "a transactional producer sends only inside a transaction: call begin_transaction first (and init_transactions once before)",
            }),
        }
    }

    /// `begin_transaction`: READY -> IN_TRANSACTION.
    pub fn begin(&self) -> Result<(), TransactionError> {
        let mut inner = lock(&self.inner);
        if let Some((_, op)) = &inner.unacknowledged {
            return Err(must_be_called_again("begin a transaction", inner.state, op));
        }
        match inner.state {
            TxnState::Ready => {
                inner.state = TxnState::InTransaction;
                Ok(())
            }
            TxnState::FatalError => Err(inner.error.clone().unwrap_or(TransactionError::Closed)),
            state => Err(TransactionError::InvalidState {
                operation: "begin a transaction",
                state: state.name(),
                hint: match state {
                    TxnState::Uninitialized | TxnState::Initializing => {
                        "call init_transactions first"
                    }
                    TxnState::AbortableError => "call abort_transaction first",
                    _ => "commit or abort the current transaction first",
                },
            }),
        }
    }

    /// Queues `op` for the sender, moving the state as Java does, and returns
    /// its id; a call repeated after a timeout gets the id of that operation,
    /// pending or finished since (as Java's cached `TransactionalRequestResult`:
    /// a commit that timed out and then succeeded is reported as such).
    pub fn start(&self, op: TxnOp) -> Result<u64, TransactionError> {
        let mut inner = lock(&self.inner);
        if let Some((id, pending)) = &inner.pending
            && *pending == op
        {
            return Ok(*id);
        }
        if let Some((id, unacknowledged)) = inner.unacknowledged.take() {
            if unacknowledged == op {
                return Ok(id);
            }
            let error = must_be_called_again(op.method(), inner.state, &unacknowledged);
            inner.unacknowledged = Some((id, unacknowledged));
            return Err(error);
        }
        let state = inner.state;
        let invalid = |operation, hint| {
            Err(TransactionError::InvalidState {
                operation,
                state: state.name(),
                hint,
            })
        };
        if state == TxnState::FatalError {
            return Err(inner.error.clone().unwrap_or(TransactionError::Closed));
        }
        let behind_offsets = matches!(
            (&inner.pending, &op),
            (Some((_, TxnOp::SendOffsets { .. })), TxnOp::End { .. })
        ) && inner.queued.is_none();
        if let Some((id, queued)) = &inner.queued
            && *queued == op
        {
            return Ok(*id);
        }
        if inner.pending.is_some() && !behind_offsets {
            return invalid(
                "start a transactional operation",
                "another transactional call is still in progress; await it first",
            );
        }
        let next = match (&op, state) {
            (TxnOp::Init, TxnState::Uninitialized) => TxnState::Initializing,
            (TxnOp::Init, _) => {
                return invalid(
                    "init_transactions",
                    "init_transactions is called once, before the first transaction",
                );
            }
            (TxnOp::SendOffsets { .. }, TxnState::InTransaction) => TxnState::InTransaction,
            (TxnOp::End { commit: true }, TxnState::InTransaction) => TxnState::Committing,
            (TxnOp::End { commit: false }, TxnState::InTransaction | TxnState::AbortableError) => {
                TxnState::Aborting
            }
            (TxnOp::SendOffsets { .. } | TxnOp::End { commit: true }, TxnState::AbortableError) => {
                return Err(inner.error.clone().unwrap_or(TransactionError::Closed));
            }
            (TxnOp::SendOffsets { .. }, _) => {
                return invalid("send offsets", "call begin_transaction first");
            }
            (TxnOp::End { commit: true }, _) => {
                return invalid(
                    "commit",
                    "there is no transaction to commit: call begin_transaction first",
                );
            }
            (TxnOp::End { commit: false }, _) => {
                return invalid(
                    "abort",
                    "there is no transaction to abort: call begin_transaction first",
                );
            }
        };
        inner.state = next;
        inner.next_id += 1;
        let id = inner.next_id;
        inner.last = Some((id, op.clone()));
        if behind_offsets {
            inner.queued = Some((id, op));
        } else {
            inner.pending = Some((id, op));
        }
        Ok(id)
    }

    /// The abort a closing producer makes of the transaction left open: no
    /// caller is left to learn an earlier operation's outcome.
    pub fn start_abort_on_close(&self) -> Result<u64, TransactionError> {
        lock(&self.inner).unacknowledged = None;
        self.start(TxnOp::End { commit: false })
    }

    /// Waits at most `max_block` for operation `id`'s outcome.
    pub async fn wait(
        &self,
        id: u64,
        operation: &'static str,
        max_block: Duration,
    ) -> Result<(), TransactionError> {
        let mut done = self.done.subscribe();
        let outcome = || {
            lock(&self.inner)
                .finished
                .iter()
                .find(|(finished, _)| *finished == id)
                .map(|(_, result)| result.clone())
        };
        let waited = tokio::time::timeout(max_block, async {
            loop {
                if let Some(result) = outcome() {
                    return result;
                }
                if done.changed().await.is_err() {
                    return Err(TransactionError::Closed);
                }
            }
        })
        .await;
        match waited {
            Ok(result) => result,
            Err(_) => {
                let mut inner = lock(&self.inner);
                // Java caches the outcome of init, commit and abort for the
                // call repeated after a timeout (not of sendOffsets).
                if let Some((last_id, op)) = &inner.last
                    && *last_id == id
                    && !matches!(op, TxnOp::SendOffsets { .. })
                {
                    inner.unacknowledged = Some((id, op.clone()));
                }
                Err(TransactionError::Timeout {
                    operation,
                    max_block,
                })
            }
        }
    }

    /// The operation the sender is to carry out, with the state now.
    pub fn pending(&self) -> Option<(u64, TxnOp, TxnState)> {
        let inner = lock(&self.inner);
        inner
            .pending
            .as_ref()
            .map(|(id, op)| (*id, op.clone(), inner.state))
    }

    /// The sender finished operation `id`: success moves to `on_success`
    /// (when given), a fatal error to FATAL_ERROR, an abortable one to
    /// ABORTABLE_ERROR.
    pub fn finish(
        &self,
        id: u64,
        result: Result<(), TransactionError>,
        on_success: Option<TxnState>,
    ) {
        let mut inner = lock(&self.inner);
        if inner.pending.as_ref().is_none_or(|(i, _)| *i != id) {
            return;
        }
        inner.pending = inner.queued.take();
        match &result {
            Ok(()) => {
                if let Some(next) = on_success {
                    inner.state = next;
                }
            }
            Err(error) => Self::enter_error(&mut inner, error.clone()),
        }
        self.finished(inner, id, result);
    }

    /// Keeps operation `id`'s outcome for its waiters and wakes them.
    fn finished(
        &self,
        mut inner: std::sync::MutexGuard<'_, TxnInner>,
        id: u64,
        result: Result<(), TransactionError>,
    ) {
        // A few: a waiter looks as soon as it is woken.
        if inner.finished.len() == 8 {
            inner.finished.pop_front();
        }
        inner.finished.push_back((id, result));
        drop(inner);
        self.done.send_modify(|count| *count += 1);
    }

    /// The InitProducerId of operation `id` (`init_transactions`, or an
    /// abort's epoch bump) was refused for authorization: as Java's sender
    /// (`shouldHandleAuthorizationError`), the operation fails with `error`
    /// and the producer goes back to UNINITIALIZED, so `init_transactions`
    /// may be called again once the principal's ACLs allow it.
    pub fn finish_producer_id_unauthorized(&self, id: u64, error: TransactionError) {
        let mut inner = lock(&self.inner);
        if inner.pending.as_ref().is_none_or(|(i, _)| *i != id) {
            return;
        }
        inner.pending = inner.queued.take();
        inner.state = TxnState::Uninitialized;
        inner.error = None;
        self.finished(inner, id, Err(error));
    }

    fn enter_error(inner: &mut TxnInner, error: TransactionError) {
        if error.is_fatal() {
            inner.state = TxnState::FatalError;
            inner.error = Some(error);
        } else if error.is_abortable()
            && matches!(
                inner.state,
                TxnState::InTransaction | TxnState::Committing | TxnState::AbortableError
            )
        {
            if inner.state != TxnState::AbortableError {
                inner.error = Some(error);
            }
            inner.state = TxnState::AbortableError;
        }
    }

    /// A send refused before it was buffered, as Java's `doSend` hands it to
    /// `maybeTransitionToErrorState`: [`fail`](Self::fail), for a send of a
    /// transaction (in one, or in one that failed already). Outside one (not
    /// begun, initializing, committing) the refusal is the send's alone:
    /// the record's size is checked before the transaction's state, and a
    /// record too large must not fail an `init_transactions` or a commit
    /// in flight.
    pub fn fail_send(&self, error: TransactionError) {
        let inner = lock(&self.inner);
        if matches!(
            inner.state,
            TxnState::InTransaction | TxnState::AbortableError
        ) {
            self.fail_locked(inner, error);
        }
    }

    /// An error outside an operation (a send of the transaction failed):
    /// fatal ones end the producer, others make the transaction abort-only.
    /// A pending operation other than an abort fails with it.
    pub fn fail(&self, error: TransactionError) {
        self.fail_locked(lock(&self.inner), error);
    }

    fn fail_locked(&self, mut inner: std::sync::MutexGuard<'_, TxnInner>, error: TransactionError) {
        if inner.state == TxnState::Aborting && !error.is_fatal() {
            return;
        }
        Self::enter_error(&mut inner, error.clone());
        let fail_pending = match &inner.pending {
            Some((_, TxnOp::End { commit: false })) => error.is_fatal(),
            Some(_) => true,
            None => false,
        };
        if fail_pending && let Some((id, _)) = inner.pending.take() {
            let reported = inner.error.clone().unwrap_or(error);
            inner.pending = inner.queued.take();
            self.finished(inner, id, Err(reported));
        }
    }
}

/// `sequence + increment`, wrapping to 0 past `i32::MAX` (Java's
/// `DefaultRecordBatch.incrementSequence`).
pub(crate) fn increment_sequence(sequence: i32, increment: u32) -> i32 {
    let next = i64::from(sequence) + i64::from(increment);
    if next > i64::from(i32::MAX) {
        (next - i64::from(i32::MAX) - 1) as i32
    } else {
        next as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> Arc<str> {
        Arc::from("t")
    }

    #[test]
    fn sequences_advance_by_record_count_and_wrap() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, 0);
        assert_eq!(tm.assign_sequence(&topic(), 0, 10), 0);
        assert_eq!(tm.assign_sequence(&topic(), 0, 5), 10);
        assert_eq!(tm.assign_sequence(&topic(), 1, 5), 0);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    }

    #[test]
    fn retries_go_out_oldest_first() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, 0);
        let a = tm.assign_sequence(&topic(), 0, 10);
        let b = tm.assign_sequence(&topic(), 0, 10);
        assert!(tm.may_send_retry(&topic(), 0, a));
        assert!(!tm.may_send_retry(&topic(), 0, b));
        tm.acked(&topic(), 0, (7, 0, a), 10);
        assert!(tm.may_send_retry(&topic(), 0, b));
        // b failed with OUT_OF_ORDER while a was acked: b is next, so it is real.
        assert!(!tm.is_out_of_order_because_of_earlier_failure(&topic(), 0, (7, 0, b)));
        let c = tm.assign_sequence(&topic(), 0, 1);
        assert!(tm.is_out_of_order_because_of_earlier_failure(&topic(), 0, (7, 0, c)));
    }

    #[test]
    fn one_batch_at_a_time_until_the_partition_has_a_first_acknowledgement() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, 0);
        assert!(tm.may_send_new(&topic(), 0));
        let first = tm.assign_sequence(&topic(), 0, 10);
        assert!(
            !tm.may_send_new(&topic(), 0),
            "the first batch is unacknowledged"
        );
        assert!(
            tm.may_send_new(&topic(), 1),
            "other partitions are not held back"
        );
        tm.acked(&topic(), 0, (7, 0, first), 10);
        tm.assign_sequence(&topic(), 0, 10);
        assert!(
            tm.may_send_new(&topic(), 0),
            "pipelining once the broker has state"
        );
    }

    #[test]
    fn a_new_epoch_restarts_the_broken_partition_and_keeps_the_others_until_settled() {
        let mut tm = TransactionManager::new();
        assert_eq!(tm.state(), PidState::Uninitialized);
        tm.set_producer_id(7, 0);
        // Partition 0 breaks; partition 1 has a batch outstanding (its answer
        // was lost, say), partition 2 has everything acknowledged.
        tm.assign_sequence(&topic(), 0, 10);
        let outstanding = tm.assign_sequence(&topic(), 1, 10);
        let settled = tm.assign_sequence(&topic(), 2, 10);
        tm.acked(&topic(), 2, (7, 0, settled), 10);
        tm.request_epoch_bump(&topic(), 0, "test");
        assert_eq!(tm.state(), PidState::BumpNeeded);
        assert!(tm.bump_epoch_locally(), "KIP-360: the same id, a new epoch");
        assert_eq!(tm.producer_id_and_epoch(), (7, 1));
        assert!(tm.is_current(7, 1));
        assert!(!tm.is_current(7, 0));
        // The broken partition restarts at 0.
        assert!(!tm.holds_sequences_of(&topic(), 0, 7, 0));
        assert!(tm.may_send_new(&topic(), 0));
        assert_eq!(tm.assign_sequence(&topic(), 0, 1), 0);
        // The outstanding batch goes again as it was, before anything new.
        assert!(tm.holds_sequences_of(&topic(), 1, 7, 0));
        assert!(tm.may_send_retry(&topic(), 1, outstanding));
        assert!(!tm.may_send_new(&topic(), 1));
        tm.acked(&topic(), 1, (7, 0, outstanding), 10);
        assert!(tm.may_send_new(&topic(), 1));
        assert_eq!(tm.assign_sequence(&topic(), 1, 1), 0, "then the new epoch");
        assert!(tm.holds_sequences_of(&topic(), 1, 7, 1));
        assert_eq!(tm.assign_sequence(&topic(), 2, 1), 0);
    }

    #[test]
    fn an_exhausted_epoch_asks_for_a_new_id() {
        let mut tm = TransactionManager::new();
        tm.set_producer_id(7, i16::MAX);
        tm.assign_sequence(&topic(), 0, 1);
        tm.request_epoch_bump(&topic(), 0, "test");
        assert!(!tm.bump_epoch_locally());
        assert_eq!(tm.state(), PidState::Uninitialized);
        tm.set_producer_id(8, 0);
        assert_eq!(tm.assign_sequence(&topic(), 0, 1), 0);
    }

    #[test]
    fn a_transactional_producer_restarts_every_partition() {
        let mut tm = TransactionManager::transactional();
        tm.set_producer_id(7, 0);
        tm.assign_sequence(&topic(), 1, 10);
        tm.set_producer_id(7, 1);
        assert!(!tm.holds_sequences_of(&topic(), 1, 7, 0));
        assert!(tm.may_send_new(&topic(), 1));
    }

    #[test]
    fn transactions_v2_adds_partitions_implicitly() {
        let mut tm = TransactionManager::transactional();
        tm.set_producer_id(7, 0);
        assert!(
            !tm.may_send_in_transaction(&topic(), 0),
            "V1 waits for AddPartitionsToTxn"
        );
        assert!(tm.has_partitions_to_add());
        tm.transaction_ended();
        tm.set_transaction_v2(true);
        assert!(tm.transaction_v2());
        assert!(!tm.transaction_started());
        assert!(tm.may_send_in_transaction(&topic(), 0));
        assert!(!tm.has_partitions_to_add());
        assert!(tm.transaction_started(), "EndTxn is due");
        assert!(
            !TransactionManager::new().transaction_v2(),
            "only transactional"
        );
    }

    #[test]
    fn the_transaction_state_machine_refuses_what_java_refuses() {
        let txn = TxnShared::new("tx".into());
        let invalid = |r: Result<u64, TransactionError>| {
            matches!(r, Err(TransactionError::InvalidState { .. }))
        };
        assert!(invalid(txn.start(TxnOp::End { commit: true })));
        assert!(matches!(
            txn.begin(),
            Err(TransactionError::InvalidState { hint, .. }) if hint.contains("init_transactions")
        ));
        let init = txn.start(TxnOp::Init).unwrap();
        assert_eq!(txn.state(), TxnState::Initializing);
        assert_eq!(
            txn.start(TxnOp::Init).unwrap(),
            init,
            "a retried call resumes"
        );
        txn.finish(init, Ok(()), Some(TxnState::Ready));
        assert!(invalid(txn.start(TxnOp::Init)), "init only once");
        assert!(invalid(txn.start(TxnOp::End { commit: false })));
        txn.begin().unwrap();
        assert!(txn.check_send().is_ok());
        assert!(txn.begin().is_err(), "no nested transactions");

        // A failed send: commit is refused with the abortable error, abort is allowed.
        txn.fail(TransactionError::SendFailed {
            cause: Box::new(crate::KafkaError::Internal("x".into())),
        });
        assert_eq!(txn.state(), TxnState::AbortableError);
        assert!(txn.check_send().unwrap_err().is_abortable());
        assert!(
            txn.start(TxnOp::End { commit: true })
                .unwrap_err()
                .is_abortable()
        );
        let abort = txn.start(TxnOp::End { commit: false }).unwrap();
        assert_eq!(txn.state(), TxnState::Aborting);
        txn.finish(abort, Ok(()), Some(TxnState::Ready));
        assert_eq!(txn.state(), TxnState::Ready);

        // Fencing is fatal for every later call.
        txn.begin().unwrap();
        txn.fail(TransactionError::ProducerFenced {
            transactional_id: "tx".into(),
        });
        assert_eq!(txn.state(), TxnState::FatalError);
        assert!(txn.begin().unwrap_err().is_fatal());
        assert!(txn.check_send().unwrap_err().is_fatal());
        assert!(
            txn.start(TxnOp::End { commit: false })
                .unwrap_err()
                .is_fatal()
        );
    }

    /// An operation whose caller timed out holds back every other call until
    /// it is called again; a closing producer's abort does not wait for that.
    #[tokio::test]
    async fn an_unacknowledged_operation_is_returned_again_and_close_aborts_anyway() {
        let txn = TxnShared::new("tx".into());
        let init = txn.start(TxnOp::Init).unwrap();
        txn.finish(init, Ok(()), Some(TxnState::Ready));
        txn.begin().unwrap();
        let commit = txn.start(TxnOp::End { commit: true }).unwrap();
        let timed_out = txn.wait(commit, "commit", Duration::from_millis(1)).await;
        assert!(matches!(timed_out, Err(TransactionError::Timeout { .. })));
        txn.finish(
            commit,
            Err(TransactionError::SendFailed {
                cause: Box::new(crate::KafkaError::Internal("x".into())),
            }),
            None,
        );
        assert_eq!(txn.state(), TxnState::AbortableError);
        assert!(matches!(
            txn.start(TxnOp::End { commit: false }),
            Err(TransactionError::InvalidState { hint, .. }) if hint.contains("commit_transaction timed out")
        ));
        // Called again: the commit's outcome.
        assert_eq!(txn.start(TxnOp::End { commit: true }).unwrap(), commit);
        assert!(
            txn.wait(commit, "commit", Duration::from_secs(1))
                .await
                .unwrap_err()
                .is_abortable()
        );
        let abort = txn.start_abort_on_close().unwrap();
        assert_ne!(abort, commit);
        assert_eq!(txn.state(), TxnState::Aborting);
    }

    /// As Java, whose sendOffsetsToTransaction holds no pending transition:
    /// a commit or abort called meanwhile runs after it, and the offsets'
    /// caller still learns their outcome.
    #[tokio::test]
    async fn an_end_called_while_offsets_are_pending_runs_after_them() {
        let txn = TxnShared::new("tx".into());
        let init = txn.start(TxnOp::Init).unwrap();
        txn.finish(init, Ok(()), Some(TxnState::Ready));
        txn.begin().unwrap();
        let offsets = txn
            .start(TxnOp::SendOffsets {
                offsets: Vec::new(),
                group: ConsumerGroupMetadata::new("g"),
            })
            .unwrap();
        let timed_out = txn
            .wait(offsets, "send offsets", Duration::from_millis(1))
            .await;
        assert!(matches!(timed_out, Err(TransactionError::Timeout { .. })));
        let abort = txn.start(TxnOp::End { commit: false }).unwrap();
        assert_eq!(txn.state(), TxnState::Aborting);
        assert_eq!(txn.start(TxnOp::End { commit: false }).unwrap(), abort);
        assert!(matches!(
            txn.pending(),
            Some((id, TxnOp::SendOffsets { .. }, _)) if id == offsets
        ));
        txn.finish(offsets, Ok(()), None);
        assert!(matches!(
            txn.pending(),
            Some((id, TxnOp::End { commit: false }, _)) if id == abort
        ));
        txn.finish(abort, Ok(()), Some(TxnState::Ready));
        assert!(
            txn.wait(offsets, "send offsets", Duration::from_secs(1))
                .await
                .is_ok()
        );
        assert!(
            txn.wait(abort, "abort", Duration::from_secs(1))
                .await
                .is_ok()
        );
        assert_eq!(txn.state(), TxnState::Ready);
    }
}
