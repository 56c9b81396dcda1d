//! [`KafkaTemplate`]: the Spring-like send API over `kafka-core`.

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::Either;
use kafka_core::kafka_record::{SchemaIdResolver, ValueFormat, ValueFraming, topic_value_subject};
use kafka_core::partitioner::Partitioner;
use kafka_core::{
    DeliveryFuture, KafkaError, KafkaProducer, KafkaRecord, LazyRecord, MetricsSnapshot,
    ProducerConfig, ProducerRecord, RecordMetadata, SendError, SentRecord,
};
use tokio::sync::oneshot;

use crate::config::{ConfigLoadError, DEFAULT_CLOSE_TIMEOUT, KafkaConfig, TemplateSettings};
use crate::interceptor::ProducerInterceptor;
use crate::journal::{FailureJournal, JournalEntry};
use crate::listener::{LoggingProducerListener, ProducerListener};
use crate::mock::MockProducer;

/// Per-type tables, hashed with foldhash: a `TypeId` needs no DoS-resistant hash.
type TypeIdMap<V> = HashMap<TypeId, V, foldhash::fast::FixedState>;

/// What a successful send returns: the record as sent and where it landed
/// (Spring Kafka's `SendResult`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendResult {
    /// The record as it was sent (after interceptors); it derefs to a
    /// [`ProducerRecord`]. From `enqueue_with_callback` it is decoded from the
    /// producer's batch when first read: a callback that does not read it
    /// pays nothing for it.
    pub producer_record: LazyRecord,
    /// Topic, partition, offset and timestamp from the broker.
    pub record_metadata: RecordMetadata,
}

/// Why a template could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The configuration did not load or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigLoadError),
    /// The producer could not start.
    #[error(transparent)]
    Producer(#[from] KafkaError),
    /// A registered record type's topic could not be resolved.
    #[error("{0}")]
    Topic(String),
    /// A setting the template does not support yet.
    #[error("{0}")]
    Unsupported(String),
}

/// How Avro values are framed on the wire.
#[derive(Clone, Default)]
pub enum AvroFraming {
    /// The bare Avro datum: the consumer must know the schema.
    Raw,
    /// Avro single-object encoding (`C3 01` + schema fingerprint + datum):
    /// self-describing without a registry. The default.
    #[default]
    SingleObject,
    /// The Confluent wire format (`00` + schema id + datum) with ids from a
    /// schema registry (or a static table), as Spring's `KafkaAvroSerializer` writes.
    Confluent(Arc<dyn SchemaIdResolver>),
}

impl std::fmt::Debug for AvroFraming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AvroFraming::Raw => "Raw",
            AvroFraming::SingleObject => "SingleObject",
            AvroFraming::Confluent(_) => "Confluent",
        })
    }
}

#[derive(Debug)]
enum Backend {
    Producer(KafkaProducer),
    Mock(MockProducer),
}

struct TemplateInner {
    backend: Backend,
    config: Option<KafkaConfig>,
    settings: TemplateSettings,
    /// Shared with the per-record callbacks; kept apart so that buffered records
    /// do not keep the template (and its producer) alive after the last handle
    /// is dropped.
    observers: Arc<Observers>,
    avro_framing: AvroFraming,
    /// Topics of the types registered at build time: read on every send,
    /// without a lock.
    registered_topics: TypeIdMap<Arc<str>>,
    /// Topics of types first sent without registration, resolved then.
    topics: RwLock<TypeIdMap<Arc<str>>>,
}

/// Sends records to Kafka: derived [`KafkaRecord`] types, or raw
/// topic/key/value. Cheap to clone (clones share one producer), `Send + Sync`:
/// inject it into every service that publishes.
///
/// ```no_run
/// use kafka_template::KafkaTemplate;
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let kafka = KafkaTemplate::from_config()?; // application.yml + profiles + env
/// let sent = kafka.send_to("greetings", Some("k1"), "hello").await?;
/// println!("at {}-{}@{}", sent.record_metadata.topic, sent.record_metadata.partition, sent.record_metadata.offset);
/// kafka.close(std::time::Duration::from_secs(10)).await;
/// # Ok(())
/// # }
/// ```
///
/// Dropping the last handle closes the producer as [`close`](Self::close)
/// does: it blocks until every record already accepted has its outcome, at
/// most `template.close-timeout` (Spring's 30 s by default), so a service that
/// returns from `main` right after its last send loses nothing. Records go out
/// on the producer's own network thread, whatever becomes of the caller's
/// runtime.
#[derive(Clone)]
pub struct KafkaTemplate {
    inner: Arc<TemplateInner>,
}

impl std::fmt::Debug for KafkaTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaTemplate")
            .field("backend", &self.inner.backend)
            .field("settings", &self.inner.settings)
            .field(
                "journal",
                &self
                    .inner
                    .observers
                    .journal
                    .as_ref()
                    .map(FailureJournal::path),
            )
            .finish_non_exhaustive()
    }
}

/// Builds a [`KafkaTemplate`].
///
/// ```no_run
/// use kafka_template::{KafkaConfig, KafkaTemplate, LoggingProducerListener};
///
/// # fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = KafkaConfig::builder().profiles(["dev"]).load()?;
/// let template = KafkaTemplate::builder()
///     .config(config)
///     .listener(LoggingProducerListener)
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct KafkaTemplateBuilder {
    config: Option<KafkaConfig>,
    producer_name: Option<String>,
    listener: Arc<dyn ProducerListener>,
    interceptors: Vec<Arc<dyn ProducerInterceptor>>,
    partitioner: Option<Arc<dyn Partitioner>>,
    journal: Option<FailureJournal>,
    avro_framing: AvroFraming,
    registrations: Vec<Registration>,
    mock: Option<MockProducer>,
}

/// Looks a configuration key up, for topic placeholders.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

struct Registration {
    type_id: TypeId,
    resolve: fn(Lookup<'_>) -> Result<String, String>,
}

impl KafkaTemplateBuilder {
    /// The configuration (default: [`KafkaConfig::load`]).
    pub fn config(mut self, config: KafkaConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Uses the named producer `kafka.producers.<name>` instead of the default one.
    pub fn producer(mut self, name: impl Into<String>) -> Self {
        self.producer_name = Some(name.into());
        self
    }

    /// Replaces the default [`LoggingProducerListener`].
    pub fn listener(mut self, listener: impl ProducerListener) -> Self {
        self.listener = Arc::new(listener);
        self
    }

    /// Adds an interceptor; they run in the order added.
    pub fn interceptor(mut self, interceptor: impl ProducerInterceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// A custom partitioner for the producer.
    pub fn partitioner(mut self, partitioner: Arc<dyn Partitioner>) -> Self {
        self.partitioner = Some(partitioner);
        self
    }

    /// Appends every record that fails for good to `journal`, for
    /// [`replay`](crate::journal::replay) later.
    pub fn failure_journal(mut self, journal: FailureJournal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// How Avro values are framed (default [`AvroFraming::SingleObject`]).
    pub fn avro_framing(mut self, framing: AvroFraming) -> Self {
        self.avro_framing = framing;
        self
    }

    /// Resolves `R`'s topic when the template is built, so an unresolvable
    /// placeholder is a startup error rather than a failure at the first send.
    pub fn register<R: KafkaRecord + 'static>(mut self) -> Self {
        self.registrations.push(Registration {
            type_id: TypeId::of::<R>(),
            resolve: |lookup| R::resolve_topic(lookup).map_err(|e| e.to_string()),
        });
        self
    }

    /// Starts the template (its producer's sender task runs on the current tokio
    /// runtime).
    pub fn build(self) -> Result<KafkaTemplate, TemplateError> {
        let (backend, config, settings) = match self.mock {
            Some(mock) => {
                let settings = match &self.config {
                    Some(c) => c.template_settings(self.producer_name.as_deref())?,
                    None => TemplateSettings {
                        default_topic: None,
                        close_timeout: DEFAULT_CLOSE_TIMEOUT,
                        transaction_id_prefix: None,
                    },
                };
                (Backend::Mock(mock), self.config, settings)
            }
            None => {
                let config = match self.config {
                    Some(c) => c,
                    None => KafkaConfig::load()?,
                };
                let name = self.producer_name.as_deref();
                let settings = config.template_settings(name)?;
                if let Some(prefix) = &settings.transaction_id_prefix {
                    return Err(TemplateError::Unsupported(format!(
                        "transaction-id-prefix '{prefix}' is set, but transactions are not supported yet; \
                         remove kafka.producer.transaction-id-prefix"
                    )));
                }
                let properties = config.producer_properties(name)?;
                let producer_config = ProducerConfig::from_properties(
                    properties
                        .iter()
                        .map(|p| (p.key.as_str(), p.value.as_str())),
                )
                .map_err(KafkaError::from)?;
                // Spring closes the producer on context shutdown; a dropped
                // template does the same: the producer's drop delivers what
                // was accepted, bounded by `template.close-timeout`.
                let mut producer =
                    KafkaProducer::builder(producer_config).close_timeout(settings.close_timeout);
                if let Some(partitioner) = self.partitioner {
                    producer = producer.partitioner(partitioner);
                }
                (Backend::Producer(producer.build()?), Some(config), settings)
            }
        };
        let mut topics = TypeIdMap::default();
        let lookup = |key: &str| {
            config
                .as_ref()
                .and_then(|c| c.lookup(key))
                .map(str::to_owned)
        };
        let mut problems = Vec::new();
        for registration in &self.registrations {
            match (registration.resolve)(&lookup) {
                Ok(topic) => {
                    topics.insert(registration.type_id, Arc::from(topic));
                }
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(TemplateError::Topic(problems.join("\n")));
        }
        Ok(KafkaTemplate {
            inner: Arc::new(TemplateInner {
                backend,
                config,
                settings,
                observers: Arc::new(Observers {
                    listener: self.listener,
                    interceptors: self.interceptors.into(),
                    journal: self.journal,
                }),
                avro_framing: self.avro_framing,
                registered_topics: topics,
                topics: RwLock::default(),
            }),
        })
    }
}

impl KafkaTemplate {
    /// A template from `application.yml`, the active profiles' files and the
    /// environment (see [`KafkaConfig::load`]).
    pub fn from_config() -> Result<KafkaTemplate, TemplateError> {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> KafkaTemplateBuilder {
        KafkaTemplateBuilder {
            config: None,
            producer_name: None,
            listener: Arc::new(LoggingProducerListener),
            interceptors: Vec::new(),
            partitioner: None,
            journal: None,
            avro_framing: AvroFraming::default(),
            registrations: Vec::new(),
            mock: None,
        }
    }

    /// A template backed by `mock` instead of a producer, for unit tests of the
    /// services that use it.
    pub fn with_mock(mock: MockProducer) -> KafkaTemplate {
        Self::mock_builder(mock)
            .build()
            .unwrap_or_else(|_| unreachable!("a mock template without config cannot fail"))
    }

    /// A builder for a mock-backed template (listeners, interceptors, a config for
    /// topic placeholders).
    pub fn mock_builder(mock: MockProducer) -> KafkaTemplateBuilder {
        KafkaTemplateBuilder {
            mock: Some(mock),
            ..Self::builder()
        }
    }

    /// The underlying producer (`None` for a mock template).
    pub fn producer(&self) -> Option<&KafkaProducer> {
        match &self.inner.backend {
            Backend::Producer(p) => Some(p),
            Backend::Mock(_) => None,
        }
    }

    /// The configuration the template was built from, if any.
    pub fn config(&self) -> Option<&KafkaConfig> {
        self.inner.config.as_ref()
    }

    /// The template settings (default topic, close timeout).
    pub fn settings(&self) -> &TemplateSettings {
        &self.inner.settings
    }

    /// Sends a derived record and waits for the broker's acknowledgement.
    ///
    /// The topic, key, headers, timestamp and value format come from the
    /// record's `#[derive(KafkaRecord)]`.
    pub async fn send<R: KafkaRecord + 'static>(
        &self,
        record: &R,
    ) -> Result<SendResult, SendError> {
        self.enqueue(record).await?.await
    }

    /// Appends a derived record to the producer's buffer and returns without
    /// waiting for the broker; await the returned [`PendingSend`] for the result.
    /// Keeps batching when one task sends many records.
    pub async fn enqueue<R: KafkaRecord + 'static>(
        &self,
        record: &R,
    ) -> Result<PendingSend, SendError> {
        self.enqueue_record(self.build_record(record)?).await
    }

    /// Appends a derived record and runs `callback` with the outcome once the
    /// broker acknowledged it or it failed for good (Spring's
    /// `send(..).whenComplete(..)`). The fastest way to send many records: no
    /// future per record, and nothing kept per record in flight (the
    /// [`SendResult`]'s record, equal to the one sent, is decoded from the
    /// producer's batch when first read). The callback runs on the producer's
    /// sender task (after the listener and interceptors have heard): keep it
    /// short.
    ///
    /// An error before the record is buffered is returned here, and the
    /// callback does not run.
    ///
    /// ```no_run
    /// # async fn demo(template: kafka_template::KafkaTemplate) -> Result<(), kafka_template::core::SendError> {
    /// use kafka_template::KafkaRecord;
    ///
    /// #[derive(serde::Serialize, KafkaRecord)]
    /// #[kafka(topic = "orders", format = "json")]
    /// struct OrderPlaced {
    ///     #[kafka(key)]
    ///     id: String,
    /// }
    ///
    /// for id in ["o-1", "o-2"] {
    ///     let event = OrderPlaced { id: id.to_owned() };
    ///     template
    ///         .enqueue_with_callback(&event, |result| match result {
    ///             Ok(sent) => println!("offset {}", sent.record_metadata.offset),
    ///             Err(e) => eprintln!("not sent: {e}"),
    ///         })
    ///         .await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn enqueue_with_callback<R, F>(
        &self,
        record: &R,
        callback: F,
    ) -> impl Future<Output = Result<(), SendError>> + Send + '_
    where
        R: KafkaRecord + 'static,
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        // Not an `async fn`: the record is built now, and the send's future is
        // returned as it is rather than nested in another (futures are moved,
        // that is copied, as they nest; this is the per-record path).
        match self.build_record(record) {
            Ok(record) => Either::Left(self.enqueue_record_with_callback(record, callback)),
            Err(error) => Either::Right(std::future::ready(Err(error))),
        }
    }

    /// The producer record for a derived record: its topic (resolved once per
    /// type), key, headers, timestamp and framed value.
    fn build_record<R: KafkaRecord + 'static>(
        &self,
        record: &R,
    ) -> Result<ProducerRecord, SendError> {
        let build = |topic: &str| {
            let framing = self.framing_for::<R>(topic)?;
            record
                .to_producer_record(topic, &framing)
                .map_err(|e| KafkaError::Serialization {
                    topic: topic.to_owned(),
                    message: e.to_string(),
                })
        };
        // The per-record path: a registered type's topic, borrowed.
        let known = self
            .inner
            .registered_topics
            .get(&TypeId::of::<R>())
            .map(|topic| build(topic));
        let built = match known {
            Some(built) => built,
            None => self.topic_for::<R>().and_then(|topic| build(&topic)),
        };
        built.map_err(|error| {
            self.inner.observers.listener.on_error(None, &error);
            SendError::without_record(error)
        })
    }

    /// Sends `value` with an optional `key` to `topic` and waits for the
    /// acknowledgement.
    pub async fn send_to(
        &self,
        topic: &str,
        key: Option<impl Into<Bytes>>,
        value: impl Into<Bytes>,
    ) -> Result<SendResult, SendError> {
        let mut record = ProducerRecord::new(topic, value);
        record.key = key.map(Into::into);
        self.send_record(record).await
    }

    /// Sends to `template.default-topic`.
    pub async fn send_default(
        &self,
        key: Option<impl Into<Bytes>>,
        value: impl Into<Bytes>,
    ) -> Result<SendResult, SendError> {
        let mut record = ProducerRecord::new(
            self.inner
                .settings
                .default_topic
                .clone()
                .unwrap_or_default(),
            value,
        );
        record.key = key.map(Into::into);
        if self.inner.settings.default_topic.is_none() {
            let error = KafkaError::InvalidTopic {
                topic: String::new(),
                reason: "send_default needs kafka.template.default-topic to be set".into(),
            };
            self.inner
                .observers
                .listener
                .on_error(Some(&record), &error);
            return Err(SendError::new(error, record));
        }
        self.send_record(record).await
    }

    /// Sends a prepared record and waits for the acknowledgement.
    pub async fn send_record(&self, record: ProducerRecord) -> Result<SendResult, SendError> {
        self.enqueue_record(record).await?.await
    }

    /// Appends a prepared record and returns once it is buffered.
    pub async fn enqueue_record(&self, record: ProducerRecord) -> Result<PendingSend, SendError> {
        let observers = &self.inner.observers;
        if observers.journal.is_some() || matches!(self.inner.backend, Backend::Mock(_)) {
            // The caller hears of a failure only once the journal has stored it
            // (the mock answers at once): through a channel.
            let (tx, rx) = oneshot::channel();
            self.dispatch(record, Some(move |result| drop(tx.send(result))))
                .await?;
            return Ok(PendingSend::Channel(rx));
        }
        // No journal: the callback tells the observers, and the caller awaits
        // the batch's shared completion (no per-record channel).
        let (delivery, record) = self
            .dispatch(record, None::<fn(Result<SendResult, SendError>)>)
            .await?;
        match delivery {
            Some(delivery) => Ok(PendingSend::Delivery {
                delivery,
                record: Some(record),
            }),
            // Only the mock has no future, and it took the channel path above.
            None => Err(SendError::with_shared_record(
                KafkaError::Internal("the backend returned no delivery future".into()),
                record,
            )),
        }
    }

    /// Appends a prepared record and runs `callback` with the outcome; see
    /// [`enqueue_with_callback`](Self::enqueue_with_callback).
    pub async fn enqueue_record_with_callback<F>(
        &self,
        record: ProducerRecord,
        callback: F,
    ) -> Result<(), SendError>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        let observers = &self.inner.observers;
        let producer = match &self.inner.backend {
            // The journal stores the record the caller sent, so it is kept.
            Backend::Producer(producer) if observers.journal.is_none() => producer,
            // Boxed, as the failure path below: a rare path that would
            // otherwise enlarge every send's future.
            _ => {
                return Box::pin(self.dispatch(record, Some(callback)))
                    .await
                    .map(drop);
            }
        };
        let record = observers.intercept(record);
        // The producer hands the record back with its outcome, read from the
        // batch: nothing is kept per record while it is in flight.
        let heard = observers.clone();
        let sent = producer
            .send_with_record_callback(record, move |result| match result {
                Ok(SentRecord { record, metadata }) => {
                    heard.heard_success(&record, &metadata);
                    callback(Ok(SendResult {
                        producer_record: record,
                        record_metadata: metadata,
                    }));
                }
                Err(error) => {
                    heard.heard_failure(&error);
                    callback(Err(error));
                }
            })
            .await;
        match sent {
            Ok(()) => Ok(()),
            // Boxed: a rare path that would otherwise enlarge every send's future.
            Err(error) => Err(Box::pin(observers.failed(error)).await),
        }
    }

    /// Runs the interceptors, hands the record to the backend and arranges for
    /// the observers (and `reply`, if any) to hear the outcome. The record is
    /// shared with the observers, never copied. Returns the producer's future
    /// (none from the mock) and the record as sent.
    async fn dispatch<F>(
        &self,
        record: ProducerRecord,
        reply: Option<F>,
    ) -> Result<(Option<DeliveryFuture>, Arc<ProducerRecord>), SendError>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        let observers = &self.inner.observers;
        let record = Arc::new(observers.intercept(record));
        let outcome = Outcome {
            inner: observers.clone(),
            record: record.clone(),
        };
        match &self.inner.backend {
            Backend::Producer(producer) => {
                let sent = producer
                    .send_borrowed(&record, move |result| outcome.finish(result, reply))
                    .await;
                match sent {
                    Ok(delivery) => Ok((Some(delivery), record)),
                    Err(error) => {
                        let error = SendError::with_shared_record(error, record);
                        Err(observers.failed(error).await)
                    }
                }
            }
            Backend::Mock(mock) => {
                let result = mock
                    .send(&record)
                    .map_err(|e| SendError::with_shared_record(e, record.clone()));
                outcome.finish(result, reply);
                Ok((None, record))
            }
        }
    }

    /// Waits until every record sent before this call has an outcome.
    pub async fn flush(&self) {
        if let Backend::Producer(p) = &self.inner.backend {
            p.flush().await;
        }
    }

    /// Delivers what is buffered and stops the producer, waiting at most
    /// `timeout`; returns how many records could not be delivered in time.
    pub async fn close(&self, timeout: Duration) -> usize {
        match &self.inner.backend {
            Backend::Producer(p) => p.close(timeout).await,
            Backend::Mock(_) => 0,
        }
    }

    /// The producer's metrics (empty for a mock template).
    pub fn metrics(&self) -> MetricsSnapshot {
        match &self.inner.backend {
            Backend::Producer(p) => p.metrics(),
            Backend::Mock(_) => MetricsSnapshot::default(),
        }
    }

    /// The topic `R` goes to, its placeholders resolved against the configuration.
    pub fn topic_for<R: KafkaRecord + 'static>(&self) -> Result<Arc<str>, KafkaError> {
        let type_id = TypeId::of::<R>();
        if let Some(topic) = self.inner.registered_topics.get(&type_id) {
            return Ok(topic.clone());
        }
        if let Some(topic) = self
            .inner
            .topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&type_id)
        {
            return Ok(topic.clone());
        }
        let config = self.inner.config.as_ref();
        let topic: Arc<str> =
            R::resolve_topic(&|key| config.and_then(|c| c.lookup(key)).map(str::to_owned))
                .map_err(|e| KafkaError::InvalidTopic {
                    topic: R::topic_spec().to_owned(),
                    reason: e.to_string(),
                })?
                .into();
        self.inner
            .topics
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(type_id, topic.clone());
        Ok(topic)
    }

    fn framing_for<R: KafkaRecord>(&self, topic: &str) -> Result<ValueFraming, KafkaError> {
        if R::value_format() != ValueFormat::Avro {
            return Ok(ValueFraming::Raw);
        }
        Ok(match &self.inner.avro_framing {
            AvroFraming::Raw => ValueFraming::Raw,
            AvroFraming::SingleObject => ValueFraming::SingleObject,
            AvroFraming::Confluent(resolver) => {
                let schema = R::value_schema()
                    .ok_or_else(|| KafkaError::Serialization {
                        topic: topic.to_owned(),
                        message: format!(
                            "{} declares Avro but has no schema",
                            R::record_type_name()
                        ),
                    })?
                    .map_err(|e| KafkaError::Serialization {
                        topic: topic.to_owned(),
                        message: e.to_string(),
                    })?;
                let schema_id = resolver
                    .schema_id(&topic_value_subject(topic), schema)
                    .map_err(|e| KafkaError::Serialization {
                        topic: topic.to_owned(),
                        message: e.to_string(),
                    })?;
                ValueFraming::Confluent { schema_id }
            }
        })
    }
}

impl Observers {
    /// The record after every interceptor's `on_send`, in order.
    fn intercept(&self, record: ProducerRecord) -> ProducerRecord {
        self.interceptors
            .iter()
            .fold(record, |r, interceptor| interceptor.on_send(r))
    }

    /// Interceptors and the listener hear of a success.
    fn heard_success(&self, record: &LazyRecord, metadata: &RecordMetadata) {
        for interceptor in self.interceptors.iter() {
            interceptor.on_acknowledgement(Ok(metadata));
        }
        self.listener.on_success(record, metadata);
    }

    /// A record that failed for good: journal it, tell interceptors and the
    /// listener, and return the error for the caller.
    async fn failed(&self, error: SendError) -> SendError {
        if let (Some(journal), Some(record)) = (&self.journal, error.record()) {
            let entry = JournalEntry::from_failed(record, error.error());
            if let Err(e) = journal.append_async(entry).await {
                tracing::error!(error = %e, journal = %journal.path().display(), "cannot write a failed record to the failure journal");
            }
        }
        self.heard_failure(&error);
        error
    }

    /// Interceptors and the listener hear of a failure.
    fn heard_failure(&self, error: &SendError) {
        for interceptor in self.interceptors.iter() {
            interceptor.on_acknowledgement(Err(error.error()));
        }
        self.listener.on_error(error.record(), error.error());
    }
}

/// Who hears of every outcome.
struct Observers {
    listener: Arc<dyn ProducerListener>,
    interceptors: Box<[Arc<dyn ProducerInterceptor>]>,
    journal: Option<FailureJournal>,
}

/// Finishes one record on the producer's sender task.
struct Outcome {
    inner: Arc<Observers>,
    /// Shared with the caller's [`PendingSend`], which takes it back for the
    /// [`SendResult`] (without a copy once this side is done with it).
    record: Arc<ProducerRecord>,
}

impl Outcome {
    /// Tells the observers, then `reply` (the caller's callback or channel,
    /// when the caller does not await the batch).
    fn finish<F>(self, result: Result<RecordMetadata, SendError>, reply: Option<F>)
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        match result {
            Ok(metadata) => {
                let record = LazyRecord::from(self.record);
                self.inner.heard_success(&record, &metadata);
                if let Some(reply) = reply {
                    reply(Ok(SendResult {
                        producer_record: record,
                        record_metadata: metadata,
                    }));
                }
            }
            Err(error) => {
                // The caller gets back the record it sent, not the copy the
                // producer rebuilt from the batch.
                let error = SendError::with_shared_record(error.into_error(), self.record);
                if self.inner.journal.is_some() {
                    // Journal writes fsync: keep them off the sender task, and
                    // answer the caller only once the record is stored.
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let inner = self.inner;
                        runtime.spawn(async move {
                            let error = inner.failed(error).await;
                            if let Some(reply) = reply {
                                reply(Err(error));
                            }
                        });
                        return;
                    }
                }
                self.inner.heard_failure(&error);
                if let Some(reply) = reply {
                    reply(Err(error));
                }
            }
        }
    }
}

/// A record in the producer's buffer; resolves to its [`SendResult`] or error.
/// Dropping it does not cancel the send.
#[must_use = "await it for the outcome, or drop it to fire and forget"]
#[derive(Debug)]
pub enum PendingSend {
    /// Waits on the batch the record is in.
    #[doc(hidden)]
    Delivery {
        /// The producer's future for the record.
        delivery: DeliveryFuture,
        /// The record as sent, for the [`SendResult`].
        record: Option<Arc<ProducerRecord>>,
    },
    /// Waits for the template to report the outcome (journal, mock).
    #[doc(hidden)]
    Channel(oneshot::Receiver<Result<SendResult, SendError>>),
}

impl Future for PendingSend {
    type Output = Result<SendResult, SendError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            PendingSend::Delivery { delivery, record } => {
                Pin::new(delivery).poll(cx).map(|result| {
                    result.map(|record_metadata| SendResult {
                        producer_record: record.take().map(LazyRecord::from).unwrap_or_else(|| {
                            ProducerRecord::tombstone(record_metadata.topic.clone()).into()
                        }),
                        record_metadata,
                    })
                })
            }
            PendingSend::Channel(rx) => Pin::new(rx).poll(cx).map(|r| {
                r.unwrap_or_else(|_| {
                    Err(SendError::without_record(KafkaError::ProducerClosed(
                        "the producer stopped before reporting the outcome",
                    )))
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(serde::Serialize, kafka_derive::KafkaRecord)]
    #[kafka(topic = "orders", format = "json")]
    struct OrderPlaced {
        #[kafka(key)]
        id: String,
    }

    #[derive(Default)]
    struct Heard {
        ok: AtomicUsize,
        failed: AtomicUsize,
    }

    struct CountingListener(Arc<Heard>);

    impl ProducerListener for CountingListener {
        fn on_success(&self, _: &LazyRecord, _: &RecordMetadata) {
            self.0.ok.fetch_add(1, Ordering::SeqCst);
        }
        fn on_error(&self, _: Option<&ProducerRecord>, _: &KafkaError) {
            self.0.failed.fetch_add(1, Ordering::SeqCst);
        }
    }

    type Outcomes = Arc<Mutex<Vec<Result<SendResult, SendError>>>>;

    fn collecting(outcomes: &Outcomes) -> impl FnOnce(Result<SendResult, SendError>) + use<> {
        let outcomes = outcomes.clone();
        move |result| outcomes.lock().unwrap().push(result)
    }

    #[tokio::test]
    async fn the_callback_gets_the_record_as_sent_and_its_metadata_after_the_listener() {
        let mock = MockProducer::new(3);
        let heard = Arc::new(Heard::default());
        let template = KafkaTemplate::mock_builder(mock.clone())
            .listener(CountingListener(heard.clone()))
            .build()
            .unwrap();
        let outcomes = Outcomes::default();
        for id in ["o-1", "o-2"] {
            let event = OrderPlaced { id: id.into() };
            template
                .enqueue_with_callback(&event, collecting(&outcomes))
                .await
                .unwrap();
        }
        let outcomes = outcomes.lock().unwrap();
        assert_eq!(outcomes.len(), 2);
        for (result, id) in outcomes.iter().zip(["o-1", "o-2"]) {
            let sent = result.as_ref().unwrap();
            assert_eq!(sent.producer_record.topic, "orders");
            assert_eq!(sent.producer_record.key.as_deref(), Some(id.as_bytes()));
            assert_eq!(sent.record_metadata.topic, "orders");
        }
        assert_eq!(heard.ok.load(Ordering::SeqCst), 2);
        assert_eq!(mock.history().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_record_comes_back_through_the_callback_and_the_listener_hears() {
        let mock = MockProducer::new(1);
        mock.fail_next(KafkaError::Internal("broker said no".into()));
        let heard = Arc::new(Heard::default());
        let template = KafkaTemplate::mock_builder(mock)
            .listener(CountingListener(heard.clone()))
            .build()
            .unwrap();
        let outcomes = Outcomes::default();
        template
            .enqueue_record_with_callback(
                ProducerRecord::new("orders", "v").with_key("k"),
                collecting(&outcomes),
            )
            .await
            .unwrap();
        let outcomes = outcomes.lock().unwrap();
        let error = outcomes[0].as_ref().unwrap_err();
        assert!(error.to_string().contains("broker said no"), "{error}");
        let record = error.record().expect("the record comes back");
        assert_eq!(record.value.as_deref(), Some(&b"v"[..]));
        assert_eq!(heard.failed.load(Ordering::SeqCst), 1);
        assert_eq!(heard.ok.load(Ordering::SeqCst), 0);
    }
}
