//! Transactions: [`KafkaTemplate::execute_in_transaction`], the
//! [`Transaction`] handle its closure sends through, and the pool of
//! transactional producers behind them (Spring's
//! `DefaultKafkaProducerFactory` with a `transaction-id-prefix`).
//!
//! # The pool
//!
//! A template with `spring.kafka.producer.transaction-id-prefix: tx-` (or a
//! `properties.transactional.id`, which Spring's factory takes as the prefix;
//! `template.transaction-id-prefix` overrides either) keeps transactional producers with
//! `transactional.id` `tx-0`, `tx-1`, ... as Spring names them. A transaction
//! takes an idle one, or creates the next (lowest free number first) and runs
//! `init_transactions` on it once; when the transaction ends the producer goes
//! back to the pool. So concurrent transactions each have their own producer
//! and never wait on one another, and the ids stay few and stable across
//! restarts (a restarted service's `tx-0` fences its previous incarnation's
//! and aborts what that left open). A producer that hit a fatal error
//! (fenced, not authorized), or whose transaction could not be ended cleanly,
//! is closed and its number given to the next producer created. The pool has
//! no upper bound: it holds as many producers as transactions ran at once.
//!
//! # Sends outside a transaction
//!
//! As in Spring, a transactional template refuses them
//! ([`TransactionError::InvalidState`] in the send's error) unless
//! `spring.kafka.template.allow-non-transactional: true`; then they go
//! through a producer of the template's own without `transactional.id`.
//!
//! # The listener, interceptors and the failure journal
//!
//! - Interceptors see every record of a transaction in `on_send`, and its
//!   acknowledgement in `on_acknowledgement`, as for any send (as Java's
//!   interceptors do).
//! - The [`ProducerListener`](crate::ProducerListener) hears each record's
//!   acknowledgement by the broker as usual. For a record in a transaction,
//!   `on_success` means the broker holds it in the transaction: it becomes
//!   visible to `read_committed` consumers only if the transaction commits,
//!   which `execute_in_transaction` returning `Ok` says. A failed send is
//!   heard in `on_error` as usual, and so is a record the abort dropped
//!   before it was sent (`KafkaError::Transaction(TransactionError::Aborted)`,
//!   as Java's callbacks get `TransactionAbortedException`): it was not
//!   written.
//! - The failure journal does not store records of a transaction. A record
//!   that failed in a transaction dooms the whole transaction (it cannot
//!   commit), and replaying that one record later, outside its transaction,
//!   would write it without the others: what exactly-once forbids. Nor are
//!   the records of an aborted transaction journaled as lost. The unit to
//!   retry is the transaction, whose failure `execute_in_transaction` returns
//!   ([`TransactionFailure`]).
//!
//! # The mock
//!
//! On a template backed by a [`MockProducer`],
//! `execute_in_transaction` works without a prefix: a transaction's records
//! join the mock's history only when it commits, as with Java's
//! `MockProducer`, and
//! [`committed_transactions`](crate::MockProducer::committed_transactions) /
//! [`aborted_transactions`](crate::MockProducer::aborted_transactions) count
//! the outcomes.

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use kafka_core::{
    ConsumerGroupMetadata, KafkaError, KafkaProducer, OffsetAndMetadata, Partitioner,
    ProducerConfig, SendError, TopicPartition, TransactionError,
};
use tokio::sync::RwLock;

use crate::config::TRANSACTIONAL_ID;
use crate::mock::{MockProducer, MockTransaction};
use crate::template::{
    Backend, IntoProducerRecord, KafkaTemplate, PendingSend, SendResult, Target,
};

/// Why [`KafkaTemplate::execute_in_transaction`] did not commit. `E` is the
/// closure's own error type.
///
/// In every case but a timed-out commit (see [`Commit`](Self::Commit)) the
/// transaction's records never become visible to `read_committed` consumers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionFailure<E> {
    /// The closure returned `Err(error)`; the transaction was aborted.
    /// `abort_error` is set when the abort itself failed (the producer was
    /// then closed, and the transaction is aborted by the coordinator when
    /// the next producer with its `transactional.id` starts, or when
    /// `transaction.timeout.ms` passes).
    #[error(
        "the transaction was rolled back because its work failed: {error}{}",
        abort_note(.abort_error.as_ref())
    )]
    Aborted {
        /// The closure's error.
        #[source]
        error: E,
        /// Why the abort failed, if it did.
        abort_error: Option<TransactionError>,
    },
    /// The closure returned `Ok`, and the commit failed. When `error` is
    /// [abortable](TransactionError::is_abortable) (a send in the
    /// transaction failed) the transaction was aborted, and may be run again;
    /// when it is [fatal](TransactionError::is_fatal) (the producer was
    /// fenced) the producer was closed and the transaction never commits.
    /// When it is [`TransactionError::Timeout`] the outcome is the
    /// coordinator's: the producer was closed, and the transaction either
    /// completes or is aborted when `transaction.timeout.ms` passes or the
    /// next producer with its id starts; check the topic before running it
    /// again.
    #[error(
        "the transaction did not commit: {error}{}",
        abort_note(.abort_error.as_ref())
    )]
    Commit {
        /// Why the commit failed.
        #[source]
        error: TransactionError,
        /// Why the abort that followed failed, if it did.
        abort_error: Option<TransactionError>,
    },
    /// No transaction could be started: a pooled producer's
    /// `init_transactions` or `begin_transaction` failed (the broker is
    /// unreachable within `max.block.ms`, the `transactional.id` is not
    /// authorized, the broker is too old). The closure did not run.
    #[error("cannot start a transaction: {0}")]
    Begin(#[source] TransactionError),
    /// A transactional producer could not be created (or the template is
    /// closed). The closure did not run.
    #[error("cannot create a transactional producer: {0}")]
    Producer(#[source] KafkaError),
    /// The template has no transaction id prefix. Set
    /// `spring.kafka.producer.transaction-id-prefix` (Spring's rule: only a
    /// transactional producer factory runs transactions). The closure did
    /// not run.
    #[error(
        "the template is not transactional: set spring.kafka.producer.transaction-id-prefix \
         (or kafka.producer.transaction-id-prefix) to run transactions"
    )]
    NotTransactional,
    /// `execute_in_transaction` was called inside the closure of another
    /// `execute_in_transaction` of the same template (Spring refuses nested
    /// calls too): a second transaction would commit or abort on its own,
    /// and the outer one would no longer be all or nothing. The template's
    /// own sends inside the closure already join the outer transaction. The
    /// closure did not run.
    #[error(
        "execute_in_transaction was called inside another execute_in_transaction of this \
         template, whose transaction would no longer be all or nothing; send through the outer \
         transaction (the template's own sends inside its closure join it)"
    )]
    Nested,
}

fn abort_note(abort_error: Option<&TransactionError>) -> String {
    abort_error
        .map(|e| format!(" (and the abort failed: {e}; the producer was closed)"))
        .unwrap_or_default()
}

impl<E> TransactionFailure<E> {
    /// The closure's error, when that is why the transaction was rolled back.
    pub fn work_error(&self) -> Option<&E> {
        match self {
            TransactionFailure::Aborted { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The producer's error, when the transaction failed on the producer's
    /// side (start, commit) rather than in the closure.
    pub fn transaction_error(&self) -> Option<&TransactionError> {
        match self {
            TransactionFailure::Commit { error, .. } | TransactionFailure::Begin(error) => {
                Some(error)
            }
            _ => None,
        }
    }
}

/// The transaction a closure given to
/// [`KafkaTemplate::execute_in_transaction`] sends in. Cheap to clone (for
/// tasks the closure spawns); every send through it, before the closure's
/// future completes, is part of the transaction. A send after that is
/// refused ([`TransactionError::InvalidState`]).
///
/// The sends mirror the template's: interceptors, record types, topic
/// placeholders and Avro framing apply alike.
#[derive(Clone)]
pub struct Transaction {
    shared: Arc<TxShared>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("transactional_id", &self.transactional_id())
            .field("open", &self.shared.open.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

struct TxShared {
    template: KafkaTemplate,
    backend: TxBackend,
    /// Cleared when the transaction ends; read under `gate`.
    open: AtomicBool,
    /// Held (shared) while a send appends its record; taken (exclusive) when
    /// the transaction ends, so no record joins a transaction being committed.
    gate: RwLock<()>,
}

enum TxBackend {
    Producer {
        producer: KafkaProducer,
        transactional_id: Arc<str>,
    },
    Mock {
        mock: MockProducer,
        transaction: MockTransaction,
    },
}

tokio::task_local! {
    /// The transaction `execute_in_transaction` runs its closure in, for
    /// the template's own sends made inside it (Spring's thread-bound
    /// transactional producer).
    static CURRENT: Transaction;
}

impl Transaction {
    /// The transaction of `template` the current task runs in (inside
    /// `execute_in_transaction`'s closure, tasks it spawns excepted, as
    /// Spring's transaction is bound to its thread).
    pub(crate) fn current(template: &KafkaTemplate) -> Option<Transaction> {
        CURRENT
            .try_with(|tx| {
                Arc::ptr_eq(&tx.shared.template.inner, &template.inner).then(|| tx.clone())
            })
            .ok()
            .flatten()
    }

    /// Appends `record` to this transaction and runs `callback` with its
    /// outcome where the producer reports it, as outside a transaction: in
    /// order per partition, and before the commit (which flushes) returns.
    pub(crate) async fn enqueue_with_callback<F>(
        self,
        record: crate::ProducerRecord,
        callback: F,
    ) -> Result<(), SendError>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        self.append(record, callback).await
    }

    /// The `transactional.id` of the producer this transaction runs on
    /// (`<prefix><n>`); `None` on a mock template.
    pub fn transactional_id(&self) -> Option<&str> {
        match &self.shared.backend {
            TxBackend::Producer {
                transactional_id, ..
            } => Some(transactional_id),
            TxBackend::Mock { .. } => None,
        }
    }

    /// The transactional producer this transaction runs on (`None` on a mock
    /// template). It belongs to the template's pool: do not begin, commit or
    /// close transactions on it.
    pub fn producer(&self) -> Option<&KafkaProducer> {
        match &self.shared.backend {
            TxBackend::Producer { producer, .. } => Some(producer),
            TxBackend::Mock { .. } => None,
        }
    }

    fn target(&self) -> Target<'_> {
        match &self.shared.backend {
            TxBackend::Producer { producer, .. } => Target::Producer(producer),
            TxBackend::Mock { mock, transaction } => Target::Mock(mock, Some(transaction)),
        }
    }

    /// Sends a record in the transaction and waits for the broker's
    /// acknowledgement (it is visible to `read_committed` consumers once the
    /// transaction commits). Takes what [`KafkaTemplate::send`] takes: a
    /// derived record (`&event`) or a [`ProducerRecord`](crate::ProducerRecord).
    pub async fn send(&self, record: impl IntoProducerRecord) -> Result<SendResult, SendError> {
        self.enqueue(record).await?.await
    }

    /// Appends a record to the transaction without waiting for the broker;
    /// the commit waits for it. Await the [`PendingSend`] for its outcome, or
    /// drop it: a record that fails makes the commit fail.
    pub async fn enqueue(&self, record: impl IntoProducerRecord) -> Result<PendingSend, SendError> {
        let template = &self.shared.template;
        let record = record
            .into_producer_record(template)
            .map_err(|error| template.failed_before_sending(error))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.append(record, move |result| drop(tx.send(result)))
            .await?;
        Ok(PendingSend(rx))
    }

    /// Appends `record` while the transaction is open, `reply` to hear its
    /// outcome.
    async fn append<F>(&self, record: crate::ProducerRecord, reply: F) -> Result<(), SendError>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        let shared = &self.shared;
        let _appending = shared.gate.read().await;
        if !shared.open.load(Ordering::Acquire) {
            let error = KafkaError::Transaction(TransactionError::InvalidState {
                operation: "send through a Transaction handle",
                state: "done with that transaction",
                hint: "send only inside execute_in_transaction's closure, before its future \
                       completes",
            });
            shared
                .template
                .inner
                .tx_observers
                .heard_refusal(Some(&record), &error);
            let error = shared
                .template
                .failed_before_sending(SendError::new(error, record));
            return Err(crate::template::told(reply, error));
        }
        let template = &shared.template;
        template
            .dispatch(self.target(), &template.inner.tx_observers, record, reply)
            .await
    }

    /// Adds a consumer group's offsets to the transaction (Java's
    /// `sendOffsetsToTransaction`, the consume-transform-produce loop): they
    /// become the group's committed offsets if the transaction commits, and
    /// never otherwise. Offsets are of the next record to consume. A no-op on
    /// a mock template.
    pub async fn send_offsets(
        &self,
        offsets: impl IntoIterator<Item = (TopicPartition, OffsetAndMetadata)>,
        group: &ConsumerGroupMetadata,
    ) -> Result<(), TransactionError> {
        // As `enqueue`: only while this transaction is open, and not beside
        // its commit (the pooled producer may run another caller's
        // transaction by then).
        let shared = &self.shared;
        let _adding = shared.gate.read().await;
        if !shared.open.load(Ordering::Acquire) {
            return Err(TransactionError::InvalidState {
                operation: "send_offsets through a Transaction handle",
                state: "done with that transaction",
                hint: "add offsets only inside execute_in_transaction's closure, before its \
                       future completes",
            });
        }
        match &shared.backend {
            TxBackend::Producer { producer, .. } => {
                producer.send_offsets_to_transaction(offsets, group).await
            }
            TxBackend::Mock { .. } => Ok(()),
        }
    }
}

impl KafkaTemplate {
    /// Runs `work` in a Kafka transaction (Spring's `executeInTransaction`):
    /// every record it sends through the [`Transaction`] it is given is
    /// committed together when it returns `Ok`, and aborted when it returns
    /// `Err` or panics (the panic goes on once the transaction is aborted).
    /// Returns `work`'s value, or a [`TransactionFailure`] telling the
    /// closure's error from a failure to start or commit.
    ///
    /// Needs `spring.kafka.producer.transaction-id-prefix` (or a mock
    /// template). Each transaction runs on a producer of the template's pool
    /// (`transactional.id` = prefix + n), so concurrent transactions do not
    /// wait on one another; see [the module](crate::transaction) for the pool,
    /// and for what the listener, interceptors and failure journal do with a
    /// transaction's records.
    ///
    /// ```no_run
    /// # async fn demo(template: kafka_template::KafkaTemplate) -> Result<(), Box<dyn std::error::Error>> {
    /// use kafka_template::{KafkaRecord, core::SendError};
    ///
    /// #[derive(serde::Serialize, KafkaRecord)]
    /// #[kafka(topic = "payments", format = "json")]
    /// struct PaymentTaken { #[kafka(key)] order: String, cents: i64 }
    ///
    /// #[derive(serde::Serialize, KafkaRecord)]
    /// #[kafka(topic = "orders", format = "json")]
    /// struct OrderPaid { #[kafka(key)] order: String }
    ///
    /// // Both records become visible together, or neither does.
    /// let offset = template
    ///     .execute_in_transaction(|tx| async move {
    ///         drop(tx.enqueue(&PaymentTaken { order: "o-1".into(), cents: 1999 }).await?); // the commit waits for it
    ///         let sent = tx.send(&OrderPaid { order: "o-1".into() }).await?;
    ///         Ok::<_, SendError>(sent.record_metadata.offset)
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn execute_in_transaction<F, Fut, T, E>(
        &self,
        work: F,
    ) -> Result<T, TransactionFailure<E>>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if Transaction::current(self).is_some() {
            return Err(TransactionFailure::Nested);
        }
        let mut lease = self.begin_transaction().await?;
        let transaction = Transaction {
            shared: lease.shared.clone(),
        };
        // The template's own sends inside the closure join the transaction.
        let outcome = AssertUnwindSafe(
            CURRENT.scope(transaction.clone(), async move { work(transaction).await }),
        )
        .catch_unwind()
        .await;
        lease.stop_sends().await;
        match outcome {
            Ok(Ok(value)) => lease.commit().await.map(|()| value),
            Ok(Err(error)) => Err(TransactionFailure::Aborted {
                error,
                abort_error: lease.abort().await.err(),
            }),
            Err(panic) => {
                if let Err(abort_error) = lease.abort().await {
                    tracing::error!(error = %abort_error, "cannot abort the transaction of a panicked closure");
                }
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// A producer from the pool (or the mock) with a transaction begun.
    async fn begin_transaction<E>(&self) -> Result<Lease, TransactionFailure<E>> {
        let (backend, pool) = match (&self.inner.backend, &self.inner.transactions) {
            (Backend::Mock(mock), _) if mock.is_closed() => {
                return Err(TransactionFailure::Producer(KafkaError::ProducerClosed(
                    "the template was closed; transactions need an open template",
                )));
            }
            (Backend::Mock(mock), _) => (
                TxBackend::Mock {
                    mock: mock.clone(),
                    transaction: MockTransaction::default(),
                },
                None,
            ),
            (_, Some(pool)) => {
                let pooled = pool.acquire().await?;
                if let Err(error) = pooled.producer.begin_transaction() {
                    pool.release(pooled, false).await;
                    return Err(TransactionFailure::Begin(error));
                }
                (
                    TxBackend::Producer {
                        producer: pooled.producer.clone(),
                        transactional_id: pooled.transactional_id.clone(),
                    },
                    Some((pool.clone(), pooled)),
                )
            }
            (_, None) => return Err(TransactionFailure::NotTransactional),
        };
        Ok(Lease {
            shared: Arc::new(TxShared {
                template: self.clone(),
                backend,
                open: AtomicBool::new(true),
                gate: RwLock::new(()),
            }),
            pooled: pool,
            ended: false,
        })
    }
}

/// One running transaction's hold on its producer: given back to the pool
/// when the transaction ends, or, if `execute_in_transaction`'s future is
/// dropped midway, aborted in the background (see `Drop`).
struct Lease {
    shared: Arc<TxShared>,
    pooled: Option<(Arc<TransactionPool>, Pooled)>,
    /// Set once the transaction was committed or aborted.
    ended: bool,
}

impl Lease {
    /// No send joins the transaction from now on; waits for sends appending.
    async fn stop_sends(&self) {
        self.shared.open.store(false, Ordering::Release);
        drop(self.shared.gate.write().await);
    }

    async fn commit<E>(&mut self) -> Result<(), TransactionFailure<E>> {
        self.ended = true;
        // The producer stays in the lease while the commit runs, so that a
        // future dropped midway gives it back (see `Drop`).
        let Some((_, pooled)) = &self.pooled else {
            if let TxBackend::Mock { mock, transaction } = &self.shared.backend {
                // As a real producer: a transaction with a failed send
                // cannot commit, and is aborted.
                if let Some(cause) = transaction.failed() {
                    mock.end(transaction, false);
                    return Err(TransactionFailure::Commit {
                        error: TransactionError::SendFailed {
                            cause: Box::new(cause),
                        },
                        abort_error: None,
                    });
                }
                mock.end(transaction, true);
            }
            return Ok(());
        };
        let producer = pooled.producer.clone();
        let Err(error) = producer.commit_transaction().await else {
            self.give_back(true).await;
            return Ok(());
        };
        let abort_error = if error.is_abortable() {
            producer.abort_transaction().await.err()
        } else {
            None
        };
        // Reused only when cleanly aborted; after a fatal error or an
        // unknown commit outcome the producer is closed.
        self.give_back(error.is_abortable() && abort_error.is_none())
            .await;
        Err(TransactionFailure::Commit { error, abort_error })
    }

    async fn abort(&mut self) -> Result<(), TransactionError> {
        self.ended = true;
        let Some((_, pooled)) = &self.pooled else {
            if let TxBackend::Mock { mock, transaction } = &self.shared.backend {
                mock.end(transaction, false);
            }
            return Ok(());
        };
        let aborted = pooled.producer.clone().abort_transaction().await;
        self.give_back(aborted.is_ok()).await;
        aborted
    }

    /// Hands the producer back to the pool: idle again when `reusable`.
    async fn give_back(&mut self, reusable: bool) {
        if let Some((pool, pooled)) = self.pooled.take() {
            pool.release(pooled, reusable).await;
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.shared.open.store(false, Ordering::Release);
        let Some((pool, pooled)) = self.pooled.take() else {
            if !self.ended
                && let TxBackend::Mock { mock, transaction } = &self.shared.backend
            {
                mock.end(transaction, false);
            }
            return;
        };
        if self.ended {
            // The future was dropped while the transaction was being
            // committed or aborted: how it ended is not known here. The
            // producer is closed (in the background: its commit or abort
            // may still finish) and its number given out again at once; a
            // producer with that id fences this one when it starts, and the
            // broker finishes or aborts what this one left first.
            pool.retire(pooled);
            return;
        }
        // The transaction never ended: `execute_in_transaction`'s future was
        // dropped (a timeout around it, a cancelled task). Abort it.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let aborted = pooled.producer.abort_transaction().await.is_ok();
                    pool.release(pooled, aborted).await;
                });
            }
            // No runtime to abort on: the producer is dropped (closed), and
            // the next producer with its id aborts what it left open.
            Err(_) => pool.forget(pooled),
        }
    }
}

/// A producer of the pool, with its id and number.
#[derive(Debug)]
pub(crate) struct Pooled {
    producer: KafkaProducer,
    transactional_id: Arc<str>,
    suffix: u32,
}

/// The transactional producers of a template (see the module docs).
pub(crate) struct TransactionPool {
    prefix: String,
    /// The producer's Java properties, without `transactional.id`;
    /// `client.id` apart.
    properties: Vec<(String, String)>,
    client_id: Option<String>,
    close_timeout: Duration,
    partitioner: Option<Arc<dyn Partitioner>>,
    state: Mutex<PoolState>,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Pooled>,
    /// Numbers of closed producers, given out again lowest first.
    free: BTreeSet<u32>,
    next: u32,
    closed: bool,
}

impl std::fmt::Debug for TransactionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionPool")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl TransactionPool {
    /// A pool for `prefix`; the configuration is checked now (as the first
    /// producer's), so that a bad one fails when the template is built.
    pub(crate) fn new(
        prefix: &str,
        properties: &[(&str, &str)],
        close_timeout: Duration,
        partitioner: Option<Arc<dyn Partitioner>>,
    ) -> Result<TransactionPool, KafkaError> {
        let client_id = properties
            .iter()
            .find(|(k, _)| *k == "client.id")
            .map(|(_, v)| (*v).to_owned());
        let pool = TransactionPool {
            prefix: prefix.to_owned(),
            properties: properties
                .iter()
                .filter(|(k, _)| *k != TRANSACTIONAL_ID && *k != "client.id")
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            client_id,
            close_timeout,
            partitioner,
            state: Mutex::default(),
        };
        ProducerConfig::check_properties(pool.properties_for(0).iter().map(|(k, v)| (k, v)))?;
        Ok(pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Java properties of producer `suffix`: `transactional.id` =
    /// prefix + suffix and, when `client.id` is set, `client.id-suffix` (as
    /// Spring's factory numbers its producers' client ids).
    fn properties_for(&self, suffix: u32) -> Vec<(String, String)> {
        let mut properties = self.properties.clone();
        properties.push((
            TRANSACTIONAL_ID.to_owned(),
            format!("{}{suffix}", self.prefix),
        ));
        if let Some(client_id) = &self.client_id {
            properties.push(("client.id".to_owned(), format!("{client_id}-{suffix}")));
        }
        properties
    }

    /// An idle producer, or a new one with `init_transactions` done.
    async fn acquire<E>(&self) -> Result<Pooled, TransactionFailure<E>> {
        let suffix = {
            let mut state = self.lock();
            if state.closed {
                return Err(TransactionFailure::Producer(KafkaError::ProducerClosed(
                    "the template was closed; transactions need an open template",
                )));
            }
            if let Some(pooled) = state.idle.pop() {
                return Ok(pooled);
            }
            match state.free.pop_first() {
                Some(free) => free,
                None => {
                    state.next += 1;
                    state.next - 1
                }
            }
        };
        // Given back if this future is dropped or creating the producer fails.
        let mut reserved = Reserved {
            pool: self,
            suffix: Some(suffix),
        };
        let properties = self.properties_for(suffix);
        let producer = ProducerConfig::from_properties(properties.iter().map(|(k, v)| (k, v)))
            .map_err(KafkaError::from)
            .and_then(|config| {
                let mut builder = KafkaProducer::builder(config).close_timeout(self.close_timeout);
                if let Some(partitioner) = &self.partitioner {
                    builder = builder.partitioner(partitioner.clone());
                }
                builder.build()
            })
            .map_err(TransactionFailure::Producer)?;
        if let Err(error) = producer.init_transactions().await {
            producer.close(Duration::ZERO).await;
            return Err(TransactionFailure::Begin(error));
        }
        reserved.suffix = None;
        Ok(Pooled {
            producer,
            transactional_id: format!("{}{suffix}", self.prefix).into(),
            suffix,
        })
    }

    /// Takes `pooled` back: idle again when `reusable` and the template is
    /// open, else closed (its number freed).
    async fn release(&self, pooled: Pooled, reusable: bool) {
        let pooled = {
            let mut state = self.lock();
            if reusable && !state.closed {
                state.idle.push(pooled);
                return;
            }
            pooled
        };
        // Not reused: after a fatal error, an unknown commit outcome, or an
        // abort that failed or timed out, whose transaction may still be
        // open. Closed in the background within the close timeout (a
        // closing producer aborts a transaction left open, once a call still
        // under way has finished), not forced shut: that left the
        // transaction open, holding read_committed consumers back until
        // transaction.timeout.ms. Its number is free at once: a producer
        // with that id fences this one and aborts what it left.
        self.retire(pooled);
    }

    /// Drops `pooled` without closing it first (no runtime to await on).
    fn forget(&self, pooled: Pooled) {
        self.lock().free.insert(pooled.suffix);
        drop(pooled);
    }

    /// Frees `pooled`'s number now and closes it in the background (within
    /// the close timeout, so that a commit it was sending can finish).
    fn retire(&self, pooled: Pooled) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.forget(pooled);
        };
        self.lock().free.insert(pooled.suffix);
        let timeout = self.close_timeout;
        runtime.spawn(async move {
            pooled.producer.close(timeout).await;
        });
    }

    /// Closes the idle producers; producers of running transactions are
    /// closed when their transaction ends. Returns how many records could
    /// not be delivered (none: an idle producer holds nothing).
    pub(crate) async fn close(&self, timeout: Duration) -> usize {
        let idle = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.idle)
        };
        let mut undelivered = 0;
        for pooled in idle {
            undelivered += pooled.producer.close(timeout).await;
        }
        undelivered
    }

    /// The number of producers the pool holds idle (for tests).
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.lock().idle.len()
    }
}

/// A producer number being given a producer; freed if that fails.
struct Reserved<'a> {
    pool: &'a TransactionPool,
    suffix: Option<u32>,
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        if let Some(suffix) = self.suffix.take() {
            self.pool.lock().free.insert(suffix);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::KafkaConfig;
    use crate::template::tests::{CountingListener, Heard, OrderPlaced};
    use kafka_core::ProducerRecord;

    /// A template on `mock` whose listener counts into the returned `Heard`.
    fn listened(mock: &MockProducer) -> (KafkaTemplate, Arc<Heard>) {
        let heard = Arc::new(Heard::default());
        let template = KafkaTemplate::mock_builder(mock.clone())
            .listener(CountingListener(heard.clone()))
            .build()
            .unwrap();
        (template, heard)
    }

    /// Whether the send was refused for the transaction's state.
    fn refused_by_state(error: &SendError) -> bool {
        matches!(
            error.error(),
            KafkaError::Transaction(TransactionError::InvalidState { .. })
        )
    }

    pub(crate) fn config(pairs: &[(&str, &str)]) -> KafkaConfig {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = KafkaConfig::builder()
            .dir(dir.path())
            .env_source(Vec::<(String, String)>::new());
        for (key, value) in pairs {
            builder = builder.override_value(*key, *value);
        }
        builder.load().expect("config loads")
    }

    #[tokio::test]
    async fn a_mock_transaction_shows_its_records_only_when_it_commits() {
        let mock = MockProducer::new(1);
        let (template, heard) = listened(&mock);
        let offset = template
            .execute_in_transaction(|tx| async move {
                tx.send(&OrderPlaced { id: "o-1".into() }).await?;
                tx.enqueue(ProducerRecord::new("orders", "raw"))
                    .await?
                    .await?;
                Ok::<_, SendError>(7)
            })
            .await
            .unwrap();
        assert_eq!(offset, 7);
        assert_eq!(mock.history().len(), 2);
        assert_eq!(mock.committed_transactions(), 1);
        // The listener hears the acknowledgements, as for any send.
        assert_eq!(heard.ok.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_closure_aborts_and_its_error_comes_back() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::with_mock(mock.clone());
        let failure = template
            .execute_in_transaction(|tx| async move {
                tx.send(&OrderPlaced { id: "o-1".into() })
                    .await
                    .map_err(|e| e.to_string())?;
                Err::<(), _>("payment declined".to_owned())
            })
            .await
            .unwrap_err();
        assert_eq!(
            failure.work_error().map(String::as_str),
            Some("payment declined")
        );
        assert!(
            matches!(
                failure,
                TransactionFailure::Aborted {
                    abort_error: None,
                    ..
                }
            ),
            "{failure:?}"
        );
        assert!(mock.history().is_empty(), "aborted records are never seen");
        assert_eq!(mock.aborted_transactions(), 1);
        assert_eq!(mock.committed_transactions(), 0);
    }

    #[tokio::test]
    async fn a_failed_send_dooms_the_transaction_and_is_not_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let mock = MockProducer::new(1);
        let (template, journal, heard) =
            crate::template::tests::journaled_template(&mock, dir.path());
        mock.fail_next(KafkaError::Internal("broker said no".into()));
        // The closure ignores the failed sends and returns Ok: as a real
        // producer's, the transaction refuses the next send and the commit,
        // and is aborted.
        let failure = template
            .execute_in_transaction(|tx| async move {
                let failed = tx.send(&OrderPlaced { id: "o-1".into() }).await;
                assert!(failed.is_err());
                let refused = tx
                    .send(&OrderPlaced { id: "o-2".into() })
                    .await
                    .unwrap_err();
                assert!(
                    matches!(
                        refused.error(),
                        KafkaError::Transaction(TransactionError::SendFailed { .. })
                    ),
                    "{refused:?}"
                );
                Ok::<_, SendError>(())
            })
            .await
            .unwrap_err();
        let error = failure.transaction_error().expect("a commit failure");
        assert!(error.is_abortable(), "{error}");
        assert!(failure.to_string().contains("broker said no"), "{failure}");
        assert!(mock.history().is_empty());
        assert_eq!(mock.aborted_transactions(), 1);
        // The listener heard both failures; the journal stores nothing of a
        // transaction (replaying one record alone would break it).
        assert_eq!(heard.failed.load(Ordering::SeqCst), 2);
        assert_eq!(journal.entries().unwrap().count(), 0);
    }

    /// As Spring's thread-bound transactional producer: the template's own
    /// sends inside `execute_in_transaction`'s closure (a service method
    /// called there, holding the template) join the transaction, and roll
    /// back with it; outside it they go as before.
    #[tokio::test]
    async fn the_templates_own_sends_inside_the_closure_join_the_transaction() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::mock_builder(mock.clone())
            .config(config(&[
                ("kafka.producer.transaction-id-prefix", "tx-"),
                ("kafka.template.allow-non-transactional", "true"),
            ]))
            .build()
            .unwrap();
        let service = template.clone();
        let failure = template
            .execute_in_transaction(|_tx| async move {
                service.send(&OrderPlaced { id: "o-1".into() }).await?;
                let (sent, heard) = tokio::sync::oneshot::channel();
                service
                    .enqueue_with_callback(&OrderPlaced { id: "o-2".into() }, move |r| {
                        let _ = sent.send(r.is_ok());
                    })
                    .await?;
                assert!(heard.await.unwrap());
                if let Err(pending) =
                    service.try_enqueue_with_callback(&OrderPlaced { id: "o-3".into() }, |_| {})
                {
                    pending.await?;
                }
                Err::<(), SendError>(SendError::without_record(KafkaError::Internal(
                    "the business step failed".into(),
                )))
            })
            .await
            .unwrap_err();
        assert!(
            matches!(failure, TransactionFailure::Aborted { .. }),
            "{failure:?}"
        );
        assert!(
            mock.history().is_empty(),
            "rolled back with the transaction: {:?}",
            mock.history()
        );
        // Outside a transaction: straight through (allow-non-transactional).
        template
            .send(&OrderPlaced { id: "o-4".into() })
            .await
            .unwrap();
        assert_eq!(mock.history().len(), 1);
    }

    #[tokio::test]
    async fn a_nested_execute_in_transaction_is_refused_as_spring_refuses_it() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::with_mock(mock.clone());
        let service = template.clone();
        let failure = template
            .execute_in_transaction(|tx| async move {
                tx.send(&OrderPlaced { id: "o-1".into() }).await?;
                // A service method that runs its own transaction: refused,
                // its closure not run, so nothing commits apart from the
                // outer transaction.
                let nested = service
                    .execute_in_transaction(|inner| async move {
                        inner.send(&OrderPlaced { id: "o-2".into() }).await?;
                        Ok::<_, SendError>(())
                    })
                    .await
                    .unwrap_err();
                assert!(matches!(nested, TransactionFailure::Nested), "{nested:?}");
                assert!(service.in_transaction());
                assert!(nested.to_string().contains("inside another"), "{nested}");
                Err::<(), SendError>(SendError::without_record(KafkaError::Internal(
                    "the outer work failed".into(),
                )))
            })
            .await
            .unwrap_err();
        assert!(matches!(failure, TransactionFailure::Aborted { .. }));
        assert!(mock.history().is_empty(), "{:?}", mock.history());
        assert_eq!(mock.committed_transactions(), 0);
        assert!(!template.in_transaction());
        // Outside it, a transaction runs as usual.
        template
            .execute_in_transaction(|tx| async move {
                tx.send(&OrderPlaced { id: "o-3".into() }).await?;
                Ok::<_, SendError>(())
            })
            .await
            .unwrap();
        assert_eq!(mock.history().len(), 1);
    }

    #[tokio::test]
    async fn callbacks_in_a_transaction_have_run_in_order_when_it_commits() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::mock_builder(mock.clone())
            .config(config(&[("kafka.producer.transaction-id-prefix", "tx-")]))
            .build()
            .unwrap();
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let service = template.clone();
        let log = heard.clone();
        template
            .execute_in_transaction(|tx| async move {
                for id in ["o-1", "o-2", "o-3"] {
                    let log = log.clone();
                    service
                        .enqueue_with_callback(&OrderPlaced { id: id.into() }, move |result| {
                            log.lock().unwrap().push((id, result.is_ok()));
                        })
                        .await?;
                }
                drop(tx);
                Ok::<_, SendError>(())
            })
            .await
            .unwrap();
        // As Java's commit (a flush) returns after the callbacks ran.
        assert_eq!(
            *heard.lock().unwrap(),
            [("o-1", true), ("o-2", true), ("o-3", true)]
        );
    }

    /// A closed mock template refuses sends and transactions, as a closed
    /// real one does.
    #[tokio::test]
    async fn a_closed_mock_template_refuses_sends_and_transactions() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::with_mock(mock.clone());
        template.close(Duration::ZERO).await;
        let refused = template
            .send(&OrderPlaced { id: "o-1".into() })
            .await
            .unwrap_err();
        assert!(
            matches!(refused.error(), KafkaError::ProducerClosed(_)),
            "{refused:?}"
        );
        let failure = template
            .execute_in_transaction(|_tx| async move { Ok::<_, SendError>(()) })
            .await
            .unwrap_err();
        assert!(
            matches!(
                failure,
                TransactionFailure::Producer(KafkaError::ProducerClosed(_))
            ),
            "{failure:?}"
        );
        assert!(mock.history().is_empty());
    }

    #[tokio::test]
    async fn a_transaction_whose_future_is_dropped_is_aborted() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::with_mock(mock.clone());
        let (sent, sent_rx) = tokio::sync::oneshot::channel();
        let running = template.execute_in_transaction(|tx| async move {
            tx.send(&OrderPlaced { id: "o-1".into() }).await?;
            drop(sent.send(tx.clone()));
            std::future::pending::<()>().await;
            Ok::<_, SendError>(())
        });
        // Services run transactions in spawned tasks: the future is Send.
        fn spawnable<T: Send>(_: &T) {}
        spawnable(&running);
        // Dropped (as a timeout around it would) once its record is sent.
        let tx = tokio::select! {
            _ = running => unreachable!("the closure never returns"),
            tx = sent_rx => tx.unwrap(),
        };
        assert!(mock.history().is_empty());
        assert_eq!(mock.aborted_transactions(), 1);
        assert!(tx.send(&OrderPlaced { id: "late".into() }).await.is_err());
    }

    #[tokio::test]
    async fn a_panic_aborts_then_goes_on() {
        let mock = MockProducer::new(1);
        let template = KafkaTemplate::with_mock(mock.clone());
        let panicked = tokio::spawn({
            let template = template.clone();
            async move {
                template
                    .execute_in_transaction(|tx| async move {
                        tx.send(&OrderPlaced { id: "o-1".into() }).await?;
                        if tx.transactional_id().is_none() {
                            panic!("the closure's bug");
                        }
                        Ok::<_, SendError>(())
                    })
                    .await
            }
        })
        .await
        .unwrap_err();
        assert!(panicked.is_panic());
        let message = panicked.into_panic();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"the closure's bug"));
        assert!(mock.history().is_empty());
        assert_eq!(mock.aborted_transactions(), 1);
    }

    #[tokio::test]
    async fn a_handle_kept_past_its_transaction_cannot_send() {
        let mock = MockProducer::new(1);
        let (template, heard) = listened(&mock);
        let kept = template
            .execute_in_transaction(|tx| async move { Ok::<_, SendError>(tx.clone()) })
            .await
            .unwrap();
        let error = kept
            .send(&OrderPlaced { id: "late".into() })
            .await
            .unwrap_err();
        assert!(refused_by_state(&error), "{error}");
        assert!(
            error.to_string().contains("execute_in_transaction"),
            "{error}"
        );
        assert_eq!(error.record().map(|r| r.topic.as_str()), Some("orders"));
        assert!(mock.history().is_empty());
        assert_eq!(heard.failed.load(Ordering::SeqCst), 1);
        // Nor add offsets (which would land in whatever transaction the
        // pooled producer runs by then).
        let group = ConsumerGroupMetadata::new("billing");
        let offsets = [(TopicPartition::new("input", 0), OffsetAndMetadata::new(1))];
        let error = kept.send_offsets(offsets, &group).await.unwrap_err();
        assert!(
            matches!(error, TransactionError::InvalidState { .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_transactional_template_refuses_plain_sends_unless_allowed() {
        let mock = MockProducer::new(1);
        let heard = Arc::new(Heard::default());
        let refusing = KafkaTemplate::mock_builder(mock.clone())
            .config(config(&[("kafka.producer.transaction-id-prefix", "tx-")]))
            .listener(CountingListener(heard.clone()))
            .build()
            .unwrap();
        let error = refusing
            .send(ProducerRecord::new("orders", "v").with_key("k"))
            .await
            .unwrap_err();
        assert!(refused_by_state(&error), "{error}");
        let message = error.to_string();
        assert!(
            message.contains("execute_in_transaction")
                && message.contains("allow-non-transactional"),
            "{message}"
        );
        assert_eq!(error.record().map(|r| r.topic.as_str()), Some("orders"));
        let (told, heard_by_callback) = std::sync::mpsc::channel();
        let callback_error = refusing
            .enqueue_with_callback(&OrderPlaced { id: "o".into() }, move |result| {
                told.send(result.map(drop)).expect("the test hears")
            })
            .await
            .unwrap_err();
        assert!(matches!(callback_error.error(), KafkaError::Transaction(_)));
        // The callback heard the same refusal, once.
        let told = heard_by_callback.try_recv().expect("the callback ran");
        assert!(matches!(told, Err(e) if matches!(e.error(), KafkaError::Transaction(_))));
        assert!(heard_by_callback.try_recv().is_err(), "once");
        assert_eq!(heard.failed.load(Ordering::SeqCst), 2);
        assert!(mock.history().is_empty());

        let allowing = KafkaTemplate::mock_builder(mock.clone())
            .config(config(&[
                ("kafka.producer.transaction-id-prefix", "tx-"),
                ("kafka.template.allow-non-transactional", "true"),
            ]))
            .build()
            .unwrap();
        allowing
            .send(ProducerRecord::new("orders", "v").with_key("k"))
            .await
            .unwrap();
        assert_eq!(mock.history().len(), 1);
    }

    #[tokio::test]
    async fn a_template_without_prefix_has_no_transactions() {
        let template = KafkaTemplate::builder()
            .config(config(&[("kafka.bootstrap-servers", "127.0.0.1:1")]))
            .build()
            .unwrap();
        let failure = template
            .execute_in_transaction(|_tx| async { Ok::<_, SendError>(()) })
            .await
            .unwrap_err();
        assert!(matches!(failure, TransactionFailure::NotTransactional));
        assert!(
            failure.to_string().contains("transaction-id-prefix"),
            "{failure}"
        );
    }

    #[tokio::test]
    async fn the_pool_numbers_producers_as_spring_and_reuses_freed_numbers() {
        let properties = [("bootstrap.servers", "127.0.0.1:1"), ("client.id", "shop")];
        let pool = TransactionPool::new("tx-", &properties, Duration::from_secs(1), None).unwrap();
        let ids = |suffix| {
            pool.properties_for(suffix)
                .into_iter()
                .filter(|(k, _)| k == TRANSACTIONAL_ID || k == "client.id")
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(3),
            [
                (TRANSACTIONAL_ID.to_owned(), "tx-3".to_owned()),
                ("client.id".to_owned(), "shop-3".to_owned())
            ]
        );
        {
            let mut state = pool.lock();
            state.next = 3;
            state.free.extend([2, 0]);
        }
        // A number reserved for a producer that is never made (its creation
        // failed, or the future was dropped) is given back, lowest first.
        for _ in 0..2 {
            let reserved = Reserved {
                pool: &pool,
                suffix: pool.lock().free.pop_first(),
            };
            assert_eq!(reserved.suffix, Some(0), "lowest free number first");
        }
        assert_eq!(pool.idle(), 0);
        assert_eq!(pool.close(Duration::ZERO).await, 0);
        let closed = pool.acquire::<()>().await.unwrap_err();
        assert!(matches!(
            closed,
            TransactionFailure::Producer(KafkaError::ProducerClosed(_))
        ));
    }
}
