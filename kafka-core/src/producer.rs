//! [`KafkaProducer`]: the public face of the send path.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use tokio::sync::{Notify, SetOnce};
use tokio::time::Instant;

use crate::accumulator::{
    AccumulatorConfig, AppendNow, AppendRecord, Appended, DeliveryFuture, PendingAppend,
    PendingCallback, RecordAccumulator,
};
use crate::clock::wall_clock_ms;
use crate::config::{ConfigError, ProducerConfig};
use crate::error::{KafkaError, SendError, TrySendError};
use crate::metadata::{Cluster, Metadata, TopicMetadata};
use crate::metrics::{CallTimes, MetricValue, MetricsSnapshot, ProducerMetrics, WindowConfig};
use crate::partitioner::{PartitionChoice, Partitioner, PartitionerError, RecordPartitioner};
use crate::record::{ProducerRecord, RecordRef, SentRecord};
use crate::sender::{Connector, Finished, ProducerShared, Sender};
use crate::transaction::{
    ConsumerGroupMetadata, OffsetAndMetadata, TopicPartition, TransactionError, TransactionProtocol,
};
use crate::transaction_manager::{TxnOp, TxnShared};

/// A Kafka producer with the Java `KafkaProducer`'s model: `send` appends to an
/// in-memory batch and returns at once; a sender task batches, compresses and
/// sends in the background, retrying until `delivery.timeout.ms`.
///
/// Cheap to clone (all clones share one producer) and `Send + Sync`.
///
/// ```no_run
/// use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ProducerConfig::builder().bootstrap_servers("localhost:9092").build()?;
/// let producer = KafkaProducer::new(config)?;
///
/// // Synchronous style: wait for the broker's acknowledgement.
/// let metadata = producer.send(ProducerRecord::new("orders", "hello").with_key("k1")).await?.await?;
/// println!("written at {}-{}@{:?}", metadata.topic, metadata.partition, metadata.offset);
///
/// // Fire and forget: drop the handle; the record is still delivered.
/// let _ = producer.send(ProducerRecord::new("orders", "fire")).await?;
///
/// // Callback style.
/// producer
///     .send_with_callback(ProducerRecord::new("orders", "cb"), |result| {
///         if let Err(e) = result {
///             eprintln!("failed: {e}");
///         }
///     })
///     .await?;
///
/// producer.close(std::time::Duration::from_secs(30)).await;
/// # Ok(())
/// # }
/// ```
///
/// # The network thread, and dropping without `close`
///
/// As the Java client and librdkafka own their I/O thread, the producer owns
/// one: the sender runs on a thread of its own (named
/// `kafka-producer-network-thread | <client.id>`, with a single-threaded tokio
/// runtime), not on the application's runtime. `send` only appends to a batch
/// in memory; the thread does every connection, request and callback. So
/// records keep going out while the application's runtime is busy, and after
/// it has shut down.
///
/// Dropping the last clone without [`close`](Self::close) closes the producer
/// in [`Drop`]: it stops accepting records and **blocks the dropping thread**
/// until every record already accepted has its outcome (acknowledged, or
/// failed by `delivery.timeout.ms`), at most the close timeout
/// ([`KafkaProducerBuilder::close_timeout`]; by default `delivery.timeout.ms`,
/// by which every record has an outcome anyway, as Java's `close()` without a
/// timeout). So a service whose `main` returns right after its last send loses
/// nothing. When the timeout runs out, records not yet sent fail with
/// [`KafkaError::ProducerClosed`] and records whose request is out fail with
/// [`KafkaError::DeliveryUnknown`] (they may have been written). Every future
/// resolves and every callback runs exactly once. A drop with nothing buffered
/// does not wait.
#[derive(Clone, Debug)]
pub struct KafkaProducer {
    inner: Arc<ProducerHandle>,
}

#[derive(Debug)]
struct ProducerHandle {
    shared: Arc<ProducerShared>,
    partitioner: RecordPartitioner,
    close_timeout: Duration,
}

impl Drop for ProducerHandle {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.accumulator.close();
        shared.wakeup.notify_one();
        let pending = shared.accumulator.incomplete().len();
        if shared.sender_finished.is_network_thread() {
            // The last handle went away inside a callback: the network thread
            // cannot wait for itself. It delivers what is left and then ends.
            return;
        }
        if pending == 0 {
            // Every record has its outcome, but what callbacks started on
            // the network thread's runtime (a template's failure journal:
            // its write, its listener, the caller's reply) ends only before
            // that thread does: wait for it, as close() does.
            if !shared.sender_finished.wait(self.close_timeout) {
                tracing::error!(
                    timeout = ?self.close_timeout,
                    "producer dropped: work started by its callbacks did not end within the close timeout"
                );
            }
            return;
        }
        tracing::info!(
            batches = pending,
            timeout = ?self.close_timeout,
            "producer dropped without close(): delivering the records already accepted"
        );
        if shared.sender_finished.wait(self.close_timeout) {
            return;
        }
        let failed_before = shared.metrics.records_ended_unsent();
        shared.force_close.store(true, Ordering::Release);
        shared.wakeup.notify_one();
        // A forced close only fails what is left: it ends promptly.
        shared.sender_finished.wait(Duration::MAX);
        let failed = shared
            .metrics
            .records_ended_unsent()
            .saturating_sub(failed_before);
        tracing::error!(
            records = failed,
            timeout = ?self.close_timeout,
            "producer dropped: records had no outcome within the close timeout and were failed"
        );
    }
}

/// Builds a [`KafkaProducer`] with options that are not plain configuration,
/// such as a custom [`Partitioner`].
///
/// ```no_run
/// use std::sync::Arc;
/// use kafka_core::{KafkaProducer, Partitioner, PartitionerCluster, ProducerConfig};
///
/// struct VipFirst;
/// impl Partitioner for VipFirst {
///     fn partition(&self, _topic: &str, key: Option<&[u8]>, _value: Option<&[u8]>, _cluster: &PartitionerCluster) -> Option<i32> {
///         key.filter(|k| k.starts_with(b"vip-")).map(|_| 0)
///     }
/// }
///
/// # fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ProducerConfig::builder().bootstrap_servers("localhost:9092").build()?;
/// let producer = KafkaProducer::builder(config).partitioner(Arc::new(VipFirst)).build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct KafkaProducerBuilder {
    config: ProducerConfig,
    partitioner: Option<Arc<dyn Partitioner>>,
    close_timeout: Option<Duration>,
}

impl std::fmt::Debug for dyn Partitioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Partitioner")
    }
}

impl KafkaProducerBuilder {
    /// Uses `partitioner` before the built-in rules (it may return `None` to
    /// defer to them, as Java's built-in fallback).
    pub fn partitioner(mut self, partitioner: Arc<dyn Partitioner>) -> Self {
        self.partitioner = Some(partitioner);
        self
    }

    /// How long dropping the last handle without [`KafkaProducer::close`] waits
    /// for the records already accepted (see [`KafkaProducer`]'s "dropping"
    /// section). Default: `delivery.timeout.ms`, by which every record has an
    /// outcome.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = Some(timeout);
        self
    }

    /// Starts the producer and its network thread. Needs no runtime of the
    /// caller's (sends are `async` and use tokio's timers, so they run on a
    /// tokio runtime). Checks that some bootstrap address resolves, as Java's
    /// `KafkaProducer` constructor does; nothing connects until the first send.
    ///
    /// The first producer of a process also calibrates the clock that stamps
    /// records (the CPU's counter against the system's clock): usually about a
    /// millisecond, at most 200 ms, here rather than in the first send.
    pub fn build(self) -> Result<KafkaProducer, KafkaError> {
        self.build_with(None)
    }

    /// [`build`](Self::build), the sender opening its connections with
    /// `connector` when given (the sender's tests use an in-memory broker).
    pub(crate) fn build_with(
        self,
        connector: Option<Arc<dyn Connector>>,
    ) -> Result<KafkaProducer, KafkaError> {
        let config = self.config;
        resolve_bootstrap(config.bootstrap_servers())?;
        let partitioner =
            RecordPartitioner::new(self.partitioner, config.partitioner_ignore_keys());
        let shared = Arc::new(ProducerShared::new(config));
        // The network thread's waits, timed as Java's selector times its
        // `select` calls (`select-*`, `io-wait-*`, `io-time-*`).
        let (waiting, woke) = (shared.metrics.clone(), shared.metrics.clone());
        // Built here so a failure is returned, not hidden in the thread.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_park(move || waiting.network_thread_waiting())
            .on_thread_unpark(move || woke.network_thread_woke())
            .build()
            .map_err(|e| {
                KafkaError::Internal(format!("cannot start the producer's network runtime: {e}"))
            })?;
        let sender = match connector {
            Some(connector) => Sender::with_connector(shared.clone(), connector),
            None => Sender::new(shared.clone()),
        };
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name(format!(
                "kafka-producer-network-thread | {}",
                shared.config.client_id()
            ))
            .spawn(move || {
                thread_shared.sender_finished.started_here();
                // Application code runs on this thread (a token provider, a
                // SASL mechanism, a metrics recorder, tracing layers): a
                // panic there must not leave records and close() waiting
                // for a thread that is gone.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    runtime.block_on(async {
                        sender.run().await;
                    // Work a callback started on this runtime (a template's
                    // failure journal) ends before the producer counts as closed.
                    let metrics = tokio::runtime::Handle::current().metrics();
                    let give_up = Instant::now() + SPAWNED_WORK_LIMIT;
                    while metrics.num_alive_tasks() > 0 && Instant::now() < give_up {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    if metrics.num_alive_tasks() > 0 {
                        tracing::error!(
                            tasks = metrics.num_alive_tasks(),
                            "tasks spawned from producer callbacks did not end within {SPAWNED_WORK_LIMIT:?} of close"
                        );
                    }
                    });
                    // Connection tasks end with the runtime, before anyone is told.
                    drop(runtime);
                }));
                if let Err(panic) = ran {
                    network_thread_panicked(&thread_shared, panic.as_ref());
                }
                let _ = thread_shared.sender_done.set(());
                thread_shared.sender_finished.set();
            })
            .map_err(|e| {
                KafkaError::Internal(format!("cannot start the producer's network thread: {e}"))
            })?;
        tracing::debug!(client_id = shared.config.client_id(), "producer started");
        let close_timeout = self
            .close_timeout
            .unwrap_or_else(|| shared.config.delivery_timeout());
        Ok(KafkaProducer {
            inner: Arc::new(ProducerHandle {
                shared,
                partitioner,
                close_timeout,
            }),
        })
    }
}

impl ProducerShared {
    /// What the producer handles and the network thread share, for `config`,
    /// before any thread runs.
    pub(crate) fn new(config: ProducerConfig) -> ProducerShared {
        // The record timestamps' clock calibrates here, not in the first send.
        crate::clock::calibrate();
        let metrics = Arc::new(ProducerMetrics::new(
            config.client_id().to_owned(),
            WindowConfig {
                window_ms: u64::try_from(config.metrics_sample_window().as_millis())
                    .unwrap_or(u64::MAX),
                samples: config.metrics_num_samples(),
            },
        ));
        let wakeup = Arc::new(Notify::new());
        let accumulator = RecordAccumulator::new(
            AccumulatorConfig::from_config(&config),
            metrics.clone(),
            wakeup.clone(),
        );
        let metadata = Metadata::new(
            config.metadata_max_age(),
            config.metadata_max_idle(),
            config.retry_backoff(),
        );
        ProducerShared {
            txn: config
                .transactional_id()
                .map(|id| Arc::new(TxnShared::new(id.to_owned()))),
            config,
            accumulator,
            metadata,
            metrics,
            wakeup,
            force_close: AtomicBool::new(false),
            sender_done: SetOnce::new(),
            sender_finished: Finished::default(),
            client_instance_id: std::sync::OnceLock::new(),
            crashed: AtomicBool::new(false),
        }
    }
}

impl KafkaProducer {
    /// A producer with the built-in partitioner.
    pub fn new(config: ProducerConfig) -> Result<KafkaProducer, KafkaError> {
        Self::builder(config).build()
    }

    /// A builder for options beyond the configuration.
    pub fn builder(config: ProducerConfig) -> KafkaProducerBuilder {
        KafkaProducerBuilder {
            config,
            partitioner: None,
            close_timeout: None,
        }
    }

    /// The configuration the producer runs with.
    pub fn config(&self) -> &ProducerConfig {
        &self.inner.shared.config
    }

    /// Appends the record to its partition's batch and returns once it is in the
    /// buffer, with a future for the broker's acknowledgement.
    ///
    /// Waits (asynchronously) at most `max.block.ms` for the topic's metadata and
    /// for buffer space. Fails before sending, giving the record back, when the
    /// record is larger than `max.request.size` or `buffer.memory`, when its
    /// partition does not exist, or when `max.block.ms` runs out.
    pub fn send(
        &self,
        record: ProducerRecord,
    ) -> impl Future<Output = Result<DeliveryFuture, SendError>> + Send + Unpin + '_ {
        // A send without a callback always gets its record's future.
        self.send_owned(record, (), |sent| {
            sent.and_then(|delivery| {
                delivery.ok_or_else(|| {
                    SendError::without_record(KafkaError::Internal(
                        "an append made no future for a send that waits on one".into(),
                    ))
                })
            })
        })
    }

    /// Like [`send`](Self::send), and runs `callback` with the outcome once the
    /// record is acknowledged or has failed for good (Java's
    /// `send(record, callback)`). The fastest way to send many records: no
    /// future is awaited per record.
    ///
    /// The callback gets the record back: on success in a [`SentRecord`] (a
    /// [`LazyRecord`](crate::LazyRecord) decoded from the batch when first
    /// read), on failure in the error. Callers that report the record with its
    /// outcome (a template's listener, Spring's `SendResult`) so need not keep
    /// every record in flight, which under load (a full `buffer.memory` of small
    /// records) means hundreds of thousands of them outside `buffer.memory`; a
    /// record nobody reads costs no decoding. The record read back equals the
    /// one sent; keeping it keeps a share of the batch's buffer.
    ///
    /// The callback runs on the producer's sender task: keep it short. A
    /// record refused before sending (too large, no metadata or buffer space
    /// within `max.block.ms`, ...) is returned here with its error, and the
    /// callback runs with that error too, on the sending thread before this
    /// future resolves ([`SendError::refused_before_sending`] tells it apart),
    /// as Java's `send` calls back with the exception of the failed future it
    /// returns. Every callback runs once, unless this future is dropped
    /// before it resolves: that gives the send up, callback and all.
    ///
    /// ```no_run
    /// # async fn demo(producer: kafka_core::KafkaProducer) -> Result<(), kafka_core::SendError> {
    /// use kafka_core::ProducerRecord;
    ///
    /// let record = ProducerRecord::new("orders", "{\"id\":1}").with_key("order-1");
    /// producer
    ///     .send_with_callback(record, |result| match result {
    ///         Ok(sent) => println!("{:?} at offset {:?}", sent.record.key, sent.metadata.offset),
    ///         Err(e) => eprintln!("{:?} failed: {e}", e.record().map(|r| &r.key)),
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_with_callback<F>(
        &self,
        record: ProducerRecord,
        callback: F,
    ) -> impl Future<Output = Result<(), SendError>> + Send + Unpin + '_
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        // Unboxed: the batch keeps it with the other callbacks of its type.
        self.send_owned(record, Some(callback), |sent| sent.map(drop))
    }

    /// Buffers the record now, with `callback` as
    /// [`send_with_callback`](Self::send_with_callback) runs it, if that needs
    /// no waiting; otherwise hands the record and the callback back
    /// ([`TrySendError::MustWait`]) without waiting. A plain call, no future:
    /// the fastest way to send many records (rdkafka's `BaseProducer::send`
    /// and Java's `send(record, callback)` with room in the buffer work the
    /// same way).
    ///
    /// It must wait when the topic's metadata is not known yet (the first
    /// send to a topic; the metadata is asked for then, so a later try can
    /// succeed) or when `buffer.memory` has no room for a new batch: then
    /// send with `send_with_callback(record, callback).await`. A record
    /// refused for good is given back in [`TrySendError::Refused`], and its
    /// callback has run with the same error, as `send_with_callback` does.
    ///
    /// ```no_run
    /// # async fn demo(producer: kafka_core::KafkaProducer) -> Result<(), kafka_core::SendError> {
    /// use kafka_core::{ProducerRecord, TrySendError};
    ///
    /// for i in 0..1_000_000 {
    ///     let record = ProducerRecord::new("clicks", format!("click-{i}"));
    ///     let callback = |result: Result<kafka_core::SentRecord, kafka_core::SendError>| {
    ///         if let Err(e) = result {
    ///             eprintln!("not delivered: {e}");
    ///         }
    ///     };
    ///     match producer.try_send_with_callback(record, callback) {
    ///         Ok(()) => {}
    ///         Err(TrySendError::MustWait { record, callback }) => {
    ///             producer.send_with_callback(record, callback).await?
    ///         }
    ///         Err(TrySendError::Refused(error)) => return Err(error),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    // The record comes back by value, as tokio's `try_send` gives its value
    // back: the large `Err` is the rare path, and the `Ok` writes one tag.
    #[allow(clippy::result_large_err)]
    pub fn try_send_with_callback<F>(
        &self,
        record: ProducerRecord,
        callback: F,
    ) -> Result<(), TrySendError<F>>
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        self.try_send_with_callback_and_headers(record, &[], callback)
    }

    /// [`try_send_with_callback`](Self::try_send_with_callback) of the record
    /// with `extra_headers` (key, value) written after its own headers,
    /// straight from the borrowed bytes into the batch: for headers made per
    /// record, such as a trace context, that would otherwise cost the
    /// record's `headers` a `String` key, a value and a vector each time.
    ///
    /// The record is sent as if it had those headers: they are counted in
    /// its size, the broker stores them, and the record handed back with the
    /// outcome, or with [`TrySendError`], has them among its `headers`.
    ///
    /// ```no_run
    /// # fn demo(producer: &kafka_core::KafkaProducer) {
    /// use kafka_core::{ProducerRecord, TrySendError};
    ///
    /// let traceparent = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let record = ProducerRecord::new("clicks", "click-1");
    /// let sent = producer.try_send_with_callback_and_headers(
    ///     record,
    ///     &[("traceparent", &traceparent[..])],
    ///     |result| {
    ///         let sent = result.expect("delivered");
    ///         assert_eq!(sent.record.headers[0].key, "traceparent");
    ///     },
    /// );
    /// if let Err(TrySendError::MustWait { record, .. }) = sent {
    ///     // The headers are the record's own now: send it as it is.
    ///     assert_eq!(record.headers.len(), 1);
    /// }
    /// # }
    /// ```
    #[allow(clippy::result_large_err)]
    pub fn try_send_with_callback_and_headers<F>(
        &self,
        mut record: ProducerRecord,
        extra_headers: &[(&str, &[u8])],
        callback: F,
    ) -> Result<(), TrySendError<F>>
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        let not_sent = match self.try_append_now(&record.as_record_ref(), extra_headers, callback) {
            Ok(()) => return Ok(()),
            Err(not_sent) => not_sent,
        };
        // Handed back as it would have been sent.
        record.add_headers(extra_headers);
        Err(self.not_sent(not_sent, record))
    }

    /// [`try_send_with_callback_and_headers`](Self::try_send_with_callback_and_headers)
    /// of a lent record: its key, value and headers are copied into the batch
    /// from where they are, so they can live in buffers the caller reuses
    /// from one record to the next (no allocation per record). A record that
    /// must wait, or is refused, is handed back copied into a
    /// [`ProducerRecord`] (with `extra_headers` among its own).
    ///
    /// ```no_run
    /// # async fn demo(producer: kafka_core::KafkaProducer) -> Result<(), kafka_core::SendError> {
    /// use kafka_core::{RecordRef, TrySendError};
    /// use std::io::Write;
    ///
    /// let mut value = Vec::new();
    /// for i in 0..1_000_000 {
    ///     value.clear();
    ///     write!(value, "click-{i}").expect("written to a Vec");
    ///     let callback = |result: Result<kafka_core::SentRecord, kafka_core::SendError>| {
    ///         if let Err(e) = result {
    ///             eprintln!("not delivered: {e}");
    ///         }
    ///     };
    ///     match producer.try_send_ref_with_callback(RecordRef::new("clicks", &value), &[], callback) {
    ///         Ok(()) => {}
    ///         Err(TrySendError::MustWait { record, callback }) => {
    ///             producer.send_with_callback(record, callback).await?
    ///         }
    ///         Err(TrySendError::Refused(error)) => return Err(error),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[allow(clippy::result_large_err)]
    pub fn try_send_ref_with_callback<F>(
        &self,
        record: RecordRef<'_>,
        extra_headers: &[(&str, &[u8])],
        callback: F,
    ) -> Result<(), TrySendError<F>>
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        let not_sent = match self.try_append_now(&record, extra_headers, callback) {
            Ok(()) => return Ok(()),
            Err(not_sent) => not_sent,
        };
        let mut record = record.into_owned();
        record.add_headers(extra_headers);
        Err(self.not_sent(not_sent, record))
    }

    /// The work of the `try_send` calls: `record` appended now, with its
    /// callback, or why not. Asks for the topic's metadata when it is not
    /// known, so a later try can succeed without a send that waits for it.
    #[inline(always)]
    fn try_append_now<F>(
        &self,
        record: &RecordRef<'_>,
        extra_headers: &[(&str, &[u8])],
        callback: F,
    ) -> Result<(), NotSent<F>>
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        let handle = &*self.inner;
        let mut callback = Some(callback);
        let sent = send_now(
            &handle.shared,
            &handle.partitioner,
            record,
            extra_headers,
            &mut callback,
        );
        let waits = match sent {
            // Appended, with no future: the callback has the outcome.
            SendNow::Done(Ok(_)) => return Ok(()),
            SendNow::Done(Err(error)) => return Err(NotSent::Refused(error, callback)),
            // Nothing was appended; what the wait would continue with
            // (a place among the appends waiting for memory) is let go.
            SendNow::Wait(wait) => wait,
        };
        if let SendWait::Metadata { .. } = waits {
            let shared = &*handle.shared;
            shared.metadata.ask_for(record.topic);
            shared.metadata.request_update();
            shared.wakeup.notify_one();
        }
        drop(waits);
        match callback {
            Some(callback) => Err(NotSent::MustWait(callback)),
            // `send_now` takes the callback only with the record appended,
            // which a wait rules out.
            None => Err(NotSent::Refused(
                KafkaError::Internal("a send that must wait took its callback".into()),
                None,
            )),
        }
    }

    /// What a `try_send` hands back for a record [`try_append_now`](Self::try_append_now)
    /// did not append: the record with its callback to wait with, or the
    /// refusal (counted, and told to the callback).
    #[cold]
    fn not_sent<F>(&self, not_sent: NotSent<F>, record: ProducerRecord) -> TrySendError<F>
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        match not_sent {
            NotSent::MustWait(callback) => TrySendError::MustWait { record, callback },
            NotSent::Refused(error, mut callback) => {
                TrySendError::Refused(self.refused(error, record, &mut callback))
            }
        }
    }

    /// The send styles that take the record, behind plain functions: the
    /// per-record path nests one future fewer (each is copied when first
    /// polled). A record refused before sending is counted and handed back.
    ///
    /// Sends that need not wait (the topic's metadata is known, the open batch
    /// or the free `buffer.memory` takes the record) are done by [`send_now`]
    /// when first polled, with no further future; only a send that must wait
    /// builds the (boxed) one of [`send_after_wait`](Self::send_after_wait).
    fn send_owned<T, C: PendingCallback + 'static>(
        &self,
        record: ProducerRecord,
        callback: C,
        output: impl Fn(Result<Appended, SendError>) -> T + Send + Unpin + 'static,
    ) -> impl Future<Output = T> + Send + Unpin + '_ {
        // Written out rather than an `async fn`, whose future would keep the
        // record twice (as the argument and as the local held across the
        // wait) and be copied whole each time it moves: once per record.
        // `output` is applied here rather than by a `map` around it, one
        // future fewer to poll and to move the result through.
        let mut state = SendState::Start(record, callback);
        std::future::poll_fn(move |cx| {
            if let SendState::Start(record, callback) = &mut state {
                let handle = &*self.inner;
                let wait = match send_now(
                    &handle.shared,
                    &handle.partitioner,
                    &record.as_record_ref(),
                    &[],
                    callback,
                ) {
                    // Appended: the record stays where it is, dropped with
                    // the state (moving it out would copy it, every record).
                    SendNow::Done(Ok(delivery)) => {
                        state = SendState::Done;
                        return Poll::Ready(output(Ok(delivery)));
                    }
                    SendNow::Done(Err(error)) => Err(error),
                    SendNow::Wait(wait) => Ok(wait),
                };
                if let SendState::Start(record, mut callback) =
                    std::mem::replace(&mut state, SendState::Done)
                {
                    match wait {
                        Err(error) => {
                            let refused = self.refused(error, record, &mut callback);
                            return Poll::Ready(output(Err(refused)));
                        }
                        Ok(wait) => {
                            state = SendState::Waiting(Box::pin(async move {
                                let result =
                                    self.send_after_wait(&record, wait, &mut callback).await;
                                result.map_err(|error| self.refused(error, record, &mut callback))
                            }));
                        }
                    }
                }
            }
            match &mut state {
                SendState::Waiting(waiting) => {
                    let sent = std::task::ready!(waiting.as_mut().poll(cx));
                    state = SendState::Done;
                    Poll::Ready(output(sent))
                }
                SendState::Start(..) | SendState::Done => {
                    panic!("a send's future polled after it completed")
                }
            }
        })
    }

    /// A send refused before the record was buffered: counted, its callback
    /// (if any) run with the refusal, and the record handed back with the
    /// error.
    fn refused(
        &self,
        error: KafkaError,
        record: ProducerRecord,
        callback: &mut impl PendingCallback,
    ) -> SendError {
        let shared = &self.inner.shared;
        shared.metrics.record_refused(error.kind_name());
        // Java's `doSend` on an ApiException or KafkaException (record too
        // large, a metadata or buffer timeout, a bad or unauthorized topic, a
        // partition out of range, a failed authentication): the transaction
        // cannot commit without the record, so it becomes abortable. A send
        // refused because there is no transaction, or after close, or
        // outside a transaction, leaves the state as it is.
        if let Some(txn) = &shared.txn
            && !matches!(
                error,
                KafkaError::ProducerClosed(_) | KafkaError::Transaction(_)
            )
        {
            txn.fail_send(crate::transaction::TransactionError::SendFailed {
                cause: Box::new(error.clone()),
            });
        }
        let refusal = SendError::refusal(error, record);
        callback.refuse(&refusal);
        refusal
    }

    /// The rest of a send that [`send_now`] could not finish: waits for the
    /// topic's metadata and then for buffer memory, both within
    /// `max.block.ms`, or for buffer memory alone.
    async fn send_after_wait(
        &self,
        record: &ProducerRecord,
        wait: SendWait,
        callback: &mut impl PendingCallback,
    ) -> Result<Appended, KafkaError> {
        let shared = &*self.inner.shared;
        let config = &shared.config;
        let accumulator = &shared.accumulator;
        let record = record.as_record_ref();
        match wait {
            SendWait::Memory {
                pending,
                cluster,
                choice,
                record_size,
                timestamp,
            } => {
                let topic = known_topic(&cluster, record.topic)?;
                let append =
                    append_record(accumulator, topic, &record, record_size, timestamp, choice);
                // No deadline yet: the metadata was known, max.block.ms
                // counts from this wait.
                accumulator
                    .append_after_wait(pending, &append, None, callback)
                    .await
            }
            SendWait::Metadata { record_size } => {
                // max.block.ms bounds metadata and buffer waits together.
                let deadline = Instant::now() + config.max_block();
                let wakeup = shared.wakeup.clone();
                let waiting_since = std::time::Instant::now();
                let cluster = shared
                    .metadata
                    .wait_for(
                        record.topic,
                        record.partition,
                        deadline,
                        config.max_block(),
                        || wakeup.notify_one(),
                    )
                    .await?;
                CallTimes::add(&shared.metrics.call_times.metadata_wait, waiting_since);
                let topic = known_topic(&cluster, record.topic)?;
                let choice = choose(&self.inner.partitioner, &record, topic, &cluster)?;
                // As Java's `doSend` (nowMs += waitedOnMetadataMs): the send
                // time is after the wait.
                let timestamp = record.timestamp.unwrap_or_else(wall_clock_ms);
                let append =
                    append_record(accumulator, topic, &record, record_size, timestamp, choice);
                accumulator.append(&append, Some(deadline), callback).await
            }
        }
    }

    /// Sends everything buffered now and waits until every record sent before
    /// this call has an outcome (acknowledged or failed) and its callback
    /// has run, as Java's `flush` does. A callback must therefore not wait
    /// for something the flushing task does after `flush` returns.
    pub async fn flush(&self) {
        let started = std::time::Instant::now();
        let accumulator = &self.inner.shared.accumulator;
        accumulator.begin_flush();
        struct EndFlush<'a>(&'a RecordAccumulator);
        impl Drop for EndFlush<'_> {
            fn drop(&mut self) {
                self.0.end_flush();
            }
        }
        let _end = EndFlush(accumulator);
        // Each outcome and the callbacks it runs: what a callback does with
        // it (a template's failure journal) is done when flush returns, as
        // in Java, whose flush waits for the batches' callbacks.
        for batch in accumulator.incomplete() {
            batch.wait_settled().await;
        }
        let metrics = &self.inner.shared.metrics;
        CallTimes::add(&metrics.call_times.flush, started);
        // Everything flushed has its outcome: the facade gets exact totals.
        self.inner.shared.publish_metrics();
    }

    /// Stops accepting records, delivers what was accepted, and stops the sender.
    ///
    /// Waits at most `timeout`; records still undelivered then fail with
    /// [`KafkaError::ProducerClosed`]. Every send future has resolved when this
    /// returns. Returns how many records could not be delivered because of the
    /// timeout (0 when all went out or failed on their own).
    pub async fn close(&self, timeout: Duration) -> usize {
        let shared = &self.inner.shared;
        shared.accumulator.close();
        if tokio::time::timeout(timeout, shared.sender_done.wait())
            .await
            .is_ok()
        {
            return 0;
        }
        let failed_before = shared.metrics.records_ended_unsent();
        shared.force_close.store(true, Ordering::Release);
        shared.wakeup.notify_one();
        shared.sender_done.wait().await;
        let failed_after = shared.metrics.records_ended_unsent();
        let lost =
            usize::try_from(failed_after.saturating_sub(failed_before)).unwrap_or(usize::MAX);
        tracing::warn!(
            records = lost,
            ?timeout,
            "close timed out; undelivered records failed"
        );
        lost
    }

    // --- transactions -----------------------------------------------------------

    fn txn(&self, operation: &'static str) -> Result<&TxnShared, TransactionError> {
        let shared = &self.inner.shared;
        if shared.accumulator.is_closed() {
            return Err(TransactionError::Closed);
        }
        shared
            .txn
            .as_deref()
            .ok_or(TransactionError::NotTransactional { operation })
    }

    async fn run_txn_op(&self, operation: &'static str, op: TxnOp) -> Result<(), TransactionError> {
        let started = std::time::Instant::now();
        let times = &self.inner.shared.metrics.call_times;
        let total = match &op {
            TxnOp::Init => &times.txn_init,
            TxnOp::End { commit: true } => &times.txn_commit,
            TxnOp::End { commit: false } => &times.txn_abort,
            TxnOp::SendOffsets { .. } => &times.txn_send_offsets,
        };
        let outcome = self.run_txn_op_untimed(operation, op).await;
        // As Java's KafkaProducerMetrics: the calls that succeed.
        if outcome.is_ok() {
            CallTimes::add(total, started);
        }
        outcome
    }

    async fn run_txn_op_untimed(
        &self,
        operation: &'static str,
        op: TxnOp,
    ) -> Result<(), TransactionError> {
        let txn = self.txn(operation)?;
        let commit = op == TxnOp::End { commit: true };
        let id = txn.start(op)?;
        let accumulator = &self.inner.shared.accumulator;
        // A commit sends what is buffered at once (as `flush`), not after linger.ms.
        struct EndFlush<'a>(Option<&'a RecordAccumulator>);
        impl Drop for EndFlush<'_> {
            fn drop(&mut self) {
                if let Some(accumulator) = self.0 {
                    accumulator.end_flush();
                }
            }
        }
        if commit {
            accumulator.begin_flush();
        }
        let _end = EndFlush(commit.then_some(accumulator));
        self.inner.shared.wakeup.notify_one();
        txn.wait(id, operation, self.inner.shared.config.max_block())
            .await
    }

    /// Registers the `transactional.id` with its transaction coordinator
    /// (Java's `initTransactions`): obtains the producer id and epoch, fences
    /// any earlier producer with the same `transactional.id` (whose open
    /// transaction is aborted), and waits for that earlier transaction to end.
    /// Call once, before the first [`begin_transaction`](Self::begin_transaction).
    ///
    /// Waits at most `max.block.ms`; after [`TransactionError::Timeout`] it may
    /// be called again and resumes.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};
    ///
    /// let config = ProducerConfig::builder()
    ///     .bootstrap_servers("localhost:9092")
    ///     .transactional_id("orders-writer-1")
    ///     .build()?;
    /// let producer = KafkaProducer::new(config)?;
    /// producer.init_transactions().await?;
    ///
    /// producer.begin_transaction()?;
    /// producer.send(ProducerRecord::new("orders", "a")).await?;
    /// producer.send(ProducerRecord::new("invoices", "b")).await?;
    /// match producer.commit_transaction().await {
    ///     Ok(()) => {}
    ///     Err(e) if e.is_abortable() => producer.abort_transaction().await?,
    ///     Err(e) => return Err(e.into()), // fatal: close the producer
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn init_transactions(&self) -> Result<(), TransactionError> {
        self.run_txn_op("init_transactions", TxnOp::Init).await
    }

    /// Starts a transaction (Java's `beginTransaction`): records sent from now
    /// on belong to it until [`commit_transaction`](Self::commit_transaction)
    /// or [`abort_transaction`](Self::abort_transaction). Local only: the
    /// coordinator learns of the transaction with its first partition.
    pub fn begin_transaction(&self) -> Result<(), TransactionError> {
        let started = std::time::Instant::now();
        let begun = self.txn("begin_transaction").and_then(|txn| txn.begin());
        if begun.is_ok() {
            let times = &self.inner.shared.metrics.call_times;
            CallTimes::add(&times.txn_begin, started);
        }
        begun
    }

    /// Commits the transaction (Java's `commitTransaction`): sends every
    /// record of it still buffered (as [`flush`](Self::flush)), then asks the
    /// coordinator to commit. If a send of the transaction failed or has an
    /// unknown outcome, nothing is committed and an abortable error is
    /// returned: call [`abort_transaction`](Self::abort_transaction).
    ///
    /// Waits at most `max.block.ms`; after [`TransactionError::Timeout`] it may
    /// be called again and resumes.
    pub async fn commit_transaction(&self) -> Result<(), TransactionError> {
        self.run_txn_op("commit_transaction", TxnOp::End { commit: true })
            .await
    }

    /// Aborts the transaction (Java's `abortTransaction`): records of it not
    /// yet sent fail with [`TransactionError::Aborted`] (they are never
    /// written), records already sent are marked aborted, so read_committed
    /// consumers never see any of them. Also the way out of an abortable error.
    ///
    /// Waits at most `max.block.ms`; after [`TransactionError::Timeout`] it may
    /// be called again and resumes.
    pub async fn abort_transaction(&self) -> Result<(), TransactionError> {
        self.run_txn_op("abort_transaction", TxnOp::End { commit: false })
            .await
    }

    /// Adds consumer offsets to the transaction (Java's
    /// `sendOffsetsToTransaction`): they become `group`'s committed offsets
    /// when the transaction commits, and never if it aborts. The
    /// consume-transform-produce loop of exactly-once processing. Offsets are
    /// of the next record to consume (last processed + 1).
    ///
    /// Give the consumer's generation and member id
    /// ([`ConsumerGroupMetadata::with_member`]) so the group coordinator fences
    /// a consumer that was rebalanced away (KIP-447).
    ///
    /// Waits at most `max.block.ms`.
    ///
    /// ```no_run
    /// # async fn demo(producer: kafka_core::KafkaProducer) -> Result<(), kafka_core::TransactionError> {
    /// use kafka_core::{ConsumerGroupMetadata, OffsetAndMetadata, TopicPartition};
    ///
    /// let offsets = [(TopicPartition::new("orders", 0), OffsetAndMetadata::new(42))];
    /// let group = ConsumerGroupMetadata::new("billing").with_member(3, "billing-1-4f2a");
    /// producer.send_offsets_to_transaction(offsets, &group).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: impl IntoIterator<Item = (TopicPartition, OffsetAndMetadata)>,
        group: &ConsumerGroupMetadata,
    ) -> Result<(), TransactionError> {
        let mut offsets: Vec<_> = offsets.into_iter().collect();
        offsets.sort_by(|a, b| a.0.cmp(&b.0));
        let op = TxnOp::SendOffsets {
            offsets,
            group: group.clone(),
        };
        self.run_txn_op("send_offsets_to_transaction", op).await
    }

    /// The transaction protocol negotiated with the coordinator, once
    /// [`init_transactions`](Self::init_transactions) has succeeded; `None`
    /// before, and for a producer without `transactional.id`.
    pub fn transaction_protocol(&self) -> Option<TransactionProtocol> {
        self.inner.shared.txn.as_ref().and_then(|t| t.protocol())
    }

    /// The transaction state now (tests wait on it).
    #[cfg(test)]
    pub(crate) fn transaction_state(&self) -> Option<crate::transaction_manager::TxnState> {
        self.inner.shared.txn.as_ref().map(|t| t.state())
    }

    /// The producer's metrics now, typed (see [`metrics`](crate::metrics)).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.shared.metrics_snapshot()
    }

    /// Every metric as the Java client's `producer.metrics()` lists it: Java's
    /// group, name, description and tags (`client-id`, `topic`, `node-id`)
    /// with its value now. The same values are published to the
    /// [`metrics`](https://docs.rs/metrics) facade (see [`metrics`](crate::metrics)).
    pub fn metric_values(&self) -> Vec<MetricValue> {
        self.inner.shared.metric_values()
    }

    /// The id a broker assigned to this producer instance for KIP-714 client
    /// metrics (Java's `clientInstanceId`), in Kafka's text form (URL-safe
    /// base64, as `kafka-client-metrics.sh` and broker logs show it).
    ///
    /// `None` until a broker with a client telemetry plugin has answered the
    /// producer's first GetTelemetrySubscriptions, and always `None` with
    /// `enable.metrics.push=false` or brokers that do not offer client metrics.
    pub fn client_instance_id(&self) -> Option<String> {
        self.inner
            .shared
            .client_instance_id
            .get()
            .map(ToString::to_string)
    }

    /// The number of partitions of `topic`, waiting at most `max.block.ms` for
    /// its metadata (Java's `partitionsFor`, reduced to the count).
    pub async fn partition_count(&self, topic: &str) -> Result<usize, KafkaError> {
        let shared = &self.inner.shared;
        let deadline = Instant::now() + shared.config.max_block();
        let wakeup = shared.wakeup.clone();
        let cluster = shared
            .metadata
            .wait_for(topic, None, deadline, shared.config.max_block(), || {
                wakeup.notify_one()
            })
            .await?;
        Ok(cluster.topics.get(topic).map_or(0, |t| t.partitions.len()))
    }
}

/// Where a send's future stands: not polled yet, or waiting (boxed, the
/// rare path) for metadata or buffer memory.
enum SendState<'a, C> {
    Start(ProducerRecord, C),
    Waiting(Pin<Box<dyn Future<Output = Result<Appended, SendError>> + Send + 'a>>),
    Done,
}

// The callback is never pinned: it is moved into its batch, or into the boxed
// wait. So a send's future stays `Unpin` whatever the callback captures.
impl<C> Unpin for SendState<'_, C> {}

/// What [`send_now`] came to.
#[derive(Debug)]
pub(crate) enum SendNow {
    /// Appended, or refused for good.
    Done(Result<Appended, KafkaError>),
    /// The send must wait (at most `max.block.ms`): nothing was appended yet.
    Wait(SendWait),
}

/// What a send waits for, with what was worked out before.
#[derive(Debug)]
pub(crate) enum SendWait {
    /// The topic's metadata (or the partition named on the record).
    Metadata { record_size: usize },
    /// The memory of a new batch, the partition chosen.
    Memory {
        pending: PendingAppend,
        cluster: Arc<Cluster>,
        choice: PartitionChoice,
        record_size: usize,
        timestamp: i64,
    },
}

/// `send` up to where it would wait, and no further: the checks, the
/// partition, the append, all synchronous. Every send runs it first (the
/// floor benchmark through `bench_support` too). `callback` is taken only
/// when the record was appended.
pub(crate) fn send_now(
    shared: &ProducerShared,
    partitioner: &RecordPartitioner,
    record: &RecordRef<'_>,
    extra_headers: &[(&str, &[u8])],
    callback: &mut dyn PendingCallback,
) -> SendNow {
    if let Err(error) = check_open(shared) {
        return SendNow::Done(Err(error));
    }
    let now_ms = wall_clock_ms();
    // The fast path (metadata known) reads no monotonic clock.
    let cluster = shared.metadata.current();
    let Some(topic) = cluster
        .topics
        .get(record.topic)
        .filter(|t| t.ready_for(record.partition, now_ms))
    else {
        // Checked here, before the size: a topic the metadata knows has a
        // valid name (the broker created it under that name), so the fast
        // path reports the same first error without checking it.
        if let Err(error) = validate_topic(record.topic) {
            return SendNow::Done(Err(error));
        }
        // As Java's ProducerRecord constructor: no topic has a negative
        // partition, so waiting max.block.ms for one would only hide the mistake.
        if let Some(partition) = record.partition.filter(|p| *p < 0) {
            return SendNow::Done(Err(KafkaError::InvalidPartition(format!(
                "invalid partition {partition} for topic '{}': partitions are numbered from 0",
                record.topic
            ))));
        }
        return match check_size(&shared.config, record, extra_headers)
            .and_then(|size| check_transaction(shared).map(|()| size))
        {
            Ok(record_size) => SendNow::Wait(SendWait::Metadata { record_size }),
            Err(error) => SendNow::Done(Err(error)),
        };
    };
    let record_size = match check_size(&shared.config, record, extra_headers) {
        Ok(size) => size,
        Err(error) => return SendNow::Done(Err(error)),
    };
    if let Err(error) = check_transaction(shared) {
        return SendNow::Done(Err(error));
    }
    let choice = match choose(partitioner, record, topic, &cluster) {
        Ok(choice) => choice,
        Err(error) => return SendNow::Done(Err(error)),
    };
    let timestamp = record.timestamp.unwrap_or(now_ms);
    let accumulator = &shared.accumulator;
    let append = AppendRecord {
        extra_headers,
        ..append_record(accumulator, topic, record, record_size, timestamp, choice)
    };
    match accumulator.try_append_now(&append, callback) {
        AppendNow::Done(result) => SendNow::Done(result),
        AppendNow::MustWait(pending) => SendNow::Wait(SendWait::Memory {
            pending,
            cluster: Arc::clone(&cluster),
            choice,
            record_size,
            timestamp,
        }),
    }
}

/// Why [`KafkaProducer::try_append_now`] did not append a record.
enum NotSent<F> {
    /// It must wait (for metadata or memory): the callback, to wait with.
    MustWait(F),
    /// Refused for good: the callback, to tell.
    Refused(KafkaError, Option<F>),
}

/// The network thread panicked: the batches it was sending were dropped with
/// it (their records fail, as possibly written when they went out); the
/// queued ones fail now, and later sends are refused.
fn network_thread_panicked(shared: &ProducerShared, panic: &(dyn std::any::Any + Send)) {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    shared.crashed.store(true, Ordering::Release);
    shared.accumulator.close();
    let batches = shared.accumulator.take_all();
    tracing::error!(
        panic = %message,
        queued_batches = batches.len(),
        "the producer's network thread panicked; its records fail and it accepts no more"
    );
    for batch in batches {
        batch.fail(KafkaError::Internal(format!(
            "the producer's network thread stopped (it panicked: {message}) before the \
             record was sent; build a new producer"
        )));
    }
}

/// The check before anything else: the producer is open.
#[inline]
fn check_open(shared: &ProducerShared) -> Result<(), KafkaError> {
    if shared.accumulator.is_closed() {
        if shared.crashed.load(Ordering::Acquire) {
            return Err(KafkaError::ProducerClosed(
                "its network thread stopped after a panic (see the error log); build a new producer",
            ));
        }
        return Err(KafkaError::ProducerClosed(crate::error::SEND_AFTER_CLOSE));
    }
    Ok(())
}

/// With transactions, that the producer is in one and not in an error
/// state. After the record's size, as Java's `doSend` checks them: a record
/// too large is refused as such (`RecordTooLargeException`, to the
/// callback) whatever the transaction's state.
#[inline]
fn check_transaction(shared: &ProducerShared) -> Result<(), KafkaError> {
    match &shared.txn {
        Some(txn) => Ok(txn.check_send()?),
        None => Ok(()),
    }
}

/// Kept out of line: the check above it is on every send's path.
#[cold]
fn invalid_timestamp(record: &RecordRef<'_>, timestamp: i64) -> KafkaError {
    KafkaError::InvalidTimestamp {
        topic: record.topic.to_owned(),
        timestamp,
    }
}

/// The record's size against `max.request.size` and `buffer.memory`; returns
/// the size. Inlined into `send_now`, whose every call runs it.
#[inline(always)]
fn check_size(
    config: &ProducerConfig,
    record: &RecordRef<'_>,
    extra_headers: &[(&str, &[u8])],
) -> Result<usize, KafkaError> {
    if let Some(timestamp) = record.timestamp.filter(|t| *t < 0) {
        return Err(invalid_timestamp(record, timestamp));
    }
    let size = record.size_upper_bound(extra_headers);
    if size > config.max_request_size() {
        return Err(KafkaError::RecordTooLarge {
            size,
            max_request_size: config.max_request_size(),
        });
    }
    if size > config.buffer_memory() {
        return Err(KafkaError::RecordExceedsBufferMemory {
            size,
            buffer_memory: config.buffer_memory(),
        });
    }
    Ok(size)
}

/// What the accumulator appends: the record, to the queues of its topic
/// (found through the topic's metadata).
#[inline]
fn append_record<'a>(
    accumulator: &RecordAccumulator,
    topic: &'a TopicMetadata,
    record: &'a RecordRef<'a>,
    record_size: usize,
    timestamp: i64,
    choice: PartitionChoice,
) -> AppendRecord<'a> {
    AppendRecord {
        topic: topic.queues(accumulator, record.topic),
        record,
        extra_headers: &[],
        record_size,
        timestamp,
        choice,
        partitions: &topic.view,
    }
}

/// The topic's metadata in a snapshot that had it.
fn known_topic<'c>(cluster: &'c Cluster, topic: &str) -> Result<&'c TopicMetadata, KafkaError> {
    cluster
        .topics
        .get(topic)
        .ok_or_else(|| KafkaError::Internal(format!("metadata for '{topic}' vanished")))
}

/// The record's partition by the producer's rules.
#[inline]
fn choose(
    partitioner: &RecordPartitioner,
    record: &RecordRef<'_>,
    topic: &TopicMetadata,
    cluster: &Cluster,
) -> Result<PartitionChoice, KafkaError> {
    partitioner
        .choose_in(
            record.topic,
            &topic.view,
            record.partition,
            record.key,
            record.value,
            &cluster.partitioner_view,
        )
        .map_err(|e| match e {
            PartitionerError::InvalidPartition { .. } => {
                KafkaError::InvalidPartition(e.to_string())
            }
            other => KafkaError::Internal(other.to_string()),
        })
}

/// How long the network thread waits, once the sender is done, for tasks that
/// callbacks spawned on its runtime.
const SPAWNED_WORK_LIMIT: Duration = Duration::from_secs(30);

/// Java's `ClientUtils.parseAndValidateAddresses`: every bootstrap address
/// that does not resolve is logged; none resolving is a configuration error.
fn resolve_bootstrap(servers: &[String]) -> Result<(), KafkaError> {
    use std::net::ToSocketAddrs;
    let mut failures = Vec::new();
    for server in servers {
        match server.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => failures.push(format!("{server} (no address)")),
            Err(e) => {
                tracing::warn!(address = %server, error = %e, "bootstrap address does not resolve");
                failures.push(format!("{server} ({e})"));
            }
        }
    }
    Err(KafkaError::Config(ConfigError::UnresolvableBootstrap {
        value: servers.join(","),
        reasons: failures.join(", "),
    }))
}

/// Java's `Topic.validate`: 1 to 249 characters of ASCII letters, digits, '.', '_' and '-'.
fn validate_topic(topic: &str) -> Result<(), KafkaError> {
    let reason = if topic.is_empty() {
        Some("the name is empty")
    } else if topic == "." || topic == ".." {
        Some("'.' and '..' are not allowed")
    } else if topic.len() > 249 {
        Some("the name is longer than 249 characters")
    } else if !topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        Some("only ASCII letters, digits, '.', '_' and '-' are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(KafkaError::InvalidTopic {
            topic: topic.to_owned(),
            reason: reason.to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_are_validated_as_java_does() {
        assert!(validate_topic("orders.v1_x-y").is_ok());
        assert!(validate_topic("").is_err());
        assert!(validate_topic("..").is_err());
        assert!(validate_topic("has space").is_err());
        assert!(validate_topic(&"a".repeat(250)).is_err());
    }
}
