//! [`KafkaTemplate`]: the Spring-like send API over `kafka-core`.

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::Either;
use kafka_core::Partitioner;
use kafka_core::{
    KafkaError, KafkaProducer, LazyRecord, MetricsSnapshot, ProducerConfig, ProducerRecord,
    RecordMetadata, SendError, SentRecord, TransactionError, TrySendError,
};
use kafka_record::{KafkaRecord, SchemaIdResolver};
use tokio::sync::oneshot;

use crate::config::{
    ConfigLoadError, KafkaConfig, ResolvedProperty, TRANSACTIONAL_ID, TemplateSettings,
};
use crate::interceptor::ProducerInterceptor;
use crate::journal::{FailureJournal, JournalEntry, JournalError};
use crate::listener::{LoggingProducerListener, ProducerListener};
use crate::mock::{MockProducer, MockTransaction};
use crate::outgoing::{LentRecord, Outgoing, with_buffers};
use crate::record_type::is_template_key;
use crate::record_type::{RecordTypeError, Routing, SerializerLines, TypeRoute};
use crate::registry::{RegistrySchemaIds, RegistrySetupError};
use crate::transaction::{Transaction, TransactionPool};
use kafka_schema_registry::SchemaRegistryClient;

/// Per-type tables, hashed with foldhash: a `TypeId` needs no DoS-resistant hash.
type TypeIdMap<V> = HashMap<TypeId, V, foldhash::fast::FixedState>;

/// One record type's route making (see `KafkaTemplate::route_for`).
#[derive(Default)]
struct RouteSlot {
    /// Attempts made so far.
    attempts: std::sync::atomic::AtomicU64,
    /// The last attempt's failure, for the tasks that waited on it.
    last_failure: Mutex<Option<KafkaError>>,
}

/// What a successful send returns: the record as sent and where it landed
/// (Spring Kafka's `SendResult`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
///
/// `Debug` reads like `Display` followed by the chain of causes (as `anyhow`
/// prints errors), so that `main` returning `Result<(), Box<dyn Error>>` prints
/// a readable message; `{:#?}` shows the structure.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The configuration did not load or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigLoadError),
    /// The producer could not start.
    #[error(transparent)]
    Producer(#[from] KafkaError),
    /// Registered record types do not fit the configuration: a topic
    /// placeholder without a value, a `key-serializer` / `value-serializer`
    /// line that disagrees with the type, a schema id the resolver cannot give.
    /// Every problem found, not only the first.
    #[error("{}", record_type_problems(.0))]
    RecordTypes(Vec<RecordTypeError>),
    /// A setting the template does not support yet.
    #[error("{0}")]
    Unsupported(String),
    /// The schema registry a `KafkaAvroSerializer` line asks for cannot be set up.
    #[error("schema registry: {0}")]
    Registry(#[from] RegistrySetupError),
    /// Dev services (the `dev` profile without bootstrap servers) could not
    /// start their local broker, or `kafka.dev-services.enabled` is not a boolean.
    #[error("dev services: {0}")]
    DevServices(String),
}

/// A configuration error only starting the producer can find (a
/// `bootstrap.servers` that does not resolve), named with the key as written
/// and where its value came from, as the load-time checks do.
fn at_origin(
    error: KafkaError,
    properties: &[ResolvedProperty],
    config: &KafkaConfig,
    producer: Option<&str>,
) -> TemplateError {
    let KafkaError::Config(config_error) = &error else {
        return TemplateError::Producer(error);
    };
    let Some(property) = properties.iter().find(|p| p.key == config_error.key()) else {
        return TemplateError::Producer(error);
    };
    let expected = match config_error {
        kafka_core::config::ConfigError::UnresolvableBootstrap { reasons, .. } => {
            format!("host:port pairs this machine can resolve, at least one ({reasons})")
        }
        other => other.to_string(),
    };
    TemplateError::Config(
        crate::config::ConfigIssue::InvalidValue {
            key: config
                .written_key(producer, &property.key)
                .unwrap_or_else(|| property.config_key.clone()),
            value: property.value.clone(),
            origin: property.origin.clone(),
            expected,
        }
        .into(),
    )
}

fn record_type_problems(problems: &[RecordTypeError]) -> String {
    match problems {
        [one] => one.to_string(),
        many => {
            let mut text = format!("{} record types do not fit the configuration:", many.len());
            for problem in many {
                text.push_str("\n  - ");
                text.push_str(&problem.to_string());
            }
            text
        }
    }
}

impl std::fmt::Debug for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if f.alternate() {
            return match self {
                TemplateError::Config(e) => f.debug_tuple("Config").field(e).finish(),
                TemplateError::Producer(e) => f.debug_tuple("Producer").field(e).finish(),
                TemplateError::RecordTypes(e) => f.debug_tuple("RecordTypes").field(e).finish(),
                TemplateError::Unsupported(e) => f.debug_tuple("Unsupported").field(e).finish(),
                TemplateError::Registry(e) => f.debug_tuple("Registry").field(e).finish(),
                TemplateError::DevServices(e) => f.debug_tuple("DevServices").field(e).finish(),
            };
        }
        kafka_core::error::write_report(self, f)
    }
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
pub(crate) enum Backend {
    Producer(KafkaProducer),
    Mock(MockProducer),
    /// A transactional template without `allow-non-transactional`: no
    /// producer for sends outside a transaction (they are refused).
    TransactionsOnly,
}

/// Where one send goes: the template's own producer (or mock), or the
/// producer (or mock transaction) of a transaction.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    Producer(&'a KafkaProducer),
    Mock(&'a MockProducer, Option<&'a MockTransaction>),
}

pub(crate) struct TemplateInner {
    pub(crate) backend: Backend,
    config: Option<KafkaConfig>,
    settings: TemplateSettings,
    /// Shared with the per-record callbacks; kept apart so that buffered records
    /// do not keep the template (and its producer) alive after the last handle
    /// is dropped.
    observers: Arc<Observers>,
    /// The same listener and interceptors, without the journal: who hears of
    /// sends inside a transaction (see `crate::transaction`).
    pub(crate) tx_observers: Arc<Observers>,
    /// The pool of transactional producers, when the template has a
    /// transaction id prefix (a mock template's transactions are the mock's).
    pub(crate) transactions: Option<Arc<TransactionPool>>,
    avro_framing: AvroFraming,
    /// The schema registry, when records are framed for one.
    registry: Option<RegistrySchemaIds>,
    /// The `key-serializer` / `value-serializer` lines, checked against each
    /// record type when the template meets it.
    serializers: SerializerLines,
    /// Routes (topic, framing) of the types registered at build time: read on
    /// every send, without a lock.
    registered: TypeIdMap<Arc<TypeRoute>>,
    /// Routes of types first sent without registration, made then.
    routes: RwLock<TypeIdMap<Arc<TypeRoute>>>,
    /// The broker dev services started; dropped after the producer (declared
    /// after `backend`), stopped by `close`.
    dev_broker: Option<crate::dev_services::DevBroker>,
    /// Per type, held while its route is made at a first send: concurrent
    /// first sends of a type wait for one route (one schema id request)
    /// rather than each making their own, and other types do not wait.
    making_route: Mutex<TypeIdMap<Arc<RouteSlot>>>,
    /// Where send spans come from: set when `template.observation-enabled`
    /// is on.
    tracer: Option<crate::observation::SendTracer>,
    /// Spring's `spring.kafka.template` timer of each send, when
    /// `template.observation-enabled`.
    send_timers: Option<crate::observation::SendTimers>,
}

/// Sends records to Kafka: derived [`KafkaRecord`] types, or raw
/// topic/key/value. Cheap to clone (clones share one producer), `Send + Sync`:
/// inject it into every service that publishes.
///
/// ```no_run
/// use kafka_template::{KafkaTemplate, ProducerRecord};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let kafka = KafkaTemplate::from_config()?; // application.yml + profiles + env
/// let sent = kafka.send(ProducerRecord::new("greetings", "hello").with_key("k1")).await?;
/// println!("at {}-{}@{:?}", sent.record_metadata.topic, sent.record_metadata.partition, sent.record_metadata.offset);
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
    pub(crate) inner: Arc<TemplateInner>,
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
    /// `None`: the default [`LoggingProducerListener`].
    listener: Option<Arc<dyn ProducerListener>>,
    interceptors: Vec<Arc<dyn ProducerInterceptor>>,
    partitioner: Option<Arc<dyn Partitioner>>,
    journal: Option<FailureJournal>,
    avro_framing: AvroFraming,
    /// Set with [`KafkaTemplateBuilder::avro_framing`] or
    /// [`KafkaTemplateBuilder::schema_registry`]: the configuration's
    /// `KafkaAvroSerializer` lines do not replace it.
    framing_chosen: bool,
    registry: Option<RegistrySchemaIds>,
    registrations: Vec<Registration>,
    mock: Option<MockProducer>,
    tracer: Option<crate::observation::SendTracer>,
}

impl std::fmt::Debug for KafkaTemplateBuilder {
    // The listener, interceptors and partitioner are the application's trait
    // objects: shown by whether they are set, not by what they hold.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaTemplateBuilder")
            .field("config", &self.config)
            .field("producer_name", &self.producer_name)
            .field("custom_listener", &self.listener.is_some())
            .field("interceptors", &self.interceptors.len())
            .field("custom_partitioner", &self.partitioner.is_some())
            .field("journal", &self.journal.as_ref().map(FailureJournal::path))
            .field("avro_framing", &self.avro_framing)
            .field("schema_registry", &self.registry.is_some())
            .field("registered_types", &self.registrations.len())
            .field("mock", &self.mock.is_some())
            .field("tracer_provider", &self.tracer.is_some())
            .finish_non_exhaustive()
    }
}

struct Registration {
    type_id: TypeId,
    route: fn(&Routing<'_>) -> Result<TypeRoute, RecordTypeError>,
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
        self.listener = Some(Arc::new(listener));
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
        self.framing_chosen = true;
        self
    }

    /// Frames Avro values (and, with a `KafkaAvroSerializer` key line, keys)
    /// in the Confluent wire format with ids from this schema registry, its
    /// subject name strategies applied. Without it, a configuration whose
    /// `key-serializer` / `value-serializer` names
    /// `io.confluent.kafka.serializers.KafkaAvroSerializer` makes one from the
    /// producer's `schema.registry.url` and other registry properties.
    pub fn schema_registry(mut self, registry: RegistrySchemaIds) -> Self {
        self.avro_framing = AvroFraming::Confluent(Arc::new(registry.clone()));
        self.registry = Some(registry);
        self.framing_chosen = true;
        self
    }

    /// The OpenTelemetry tracer provider whose tracer makes the send spans
    /// when `template.observation-enabled` is on (default: the global
    /// provider, as [`opentelemetry::global::set_tracer_provider`] left it
    /// when the template is built). Its sampler decides for each send; see
    /// [`observation`](crate::observation).
    ///
    /// ```
    /// use kafka_template::{KafkaTemplate, MockProducer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    /// let template = KafkaTemplate::mock_builder(MockProducer::new(1))
    ///     .tracer_provider(&provider)
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "opentelemetry")]
    pub fn tracer_provider<P>(mut self, provider: &P) -> Self
    where
        P: opentelemetry::trace::TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
    {
        self.tracer = Some(crate::observation::SendTracer::from_provider(provider));
        self
    }

    /// Prepares `R` when the template is built rather than at its first send,
    /// so that what does not fit is a startup error ([`TemplateError::RecordTypes`]):
    /// its topic is resolved (an unresolvable placeholder), the configuration's
    /// `key-serializer` / `value-serializer` lines are checked against its key
    /// and value, its Avro schema is built and, with
    /// [`AvroFraming::Confluent`], its schema id asked for (once: sends use it).
    pub fn register<R: KafkaRecord + 'static>(mut self) -> Self {
        self.registrations.push(Registration {
            type_id: TypeId::of::<R>(),
            route: |routing| routing.route::<R>().map_err(|failure| failure.error),
        });
        self
    }

    /// Starts the template (its producer's sender task runs on the current tokio
    /// runtime).
    pub fn build(self) -> Result<KafkaTemplate, TemplateError> {
        let mut transactions = None;
        let mut dev_broker = None;
        let (backend, config, settings) = match self.mock {
            Some(mock) => {
                let settings = match &self.config {
                    Some(c) => c.template_settings(self.producer_name.as_deref())?,
                    None => TemplateSettings::default(),
                };
                let mock = match &self.partitioner {
                    Some(partitioner) => mock.with_partitioner(partitioner.clone()),
                    None => mock,
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
                let mut properties = config.producer_properties(name)?;
                if crate::dev_services::wanted(&config, &properties)? {
                    dev_broker = Some(crate::dev_services::start(&mut properties)?);
                }
                // The serializer lines are the template's to check, against
                // each record type; kafka-core would refuse Spring's classes.
                // transactional.id is the transaction id prefix (see
                // config::producers): each pooled producer gets its own.
                let java: Vec<(&str, &str)> = properties
                    .iter()
                    .filter(|p| !is_template_key(&p.key))
                    .filter(|p| p.key != TRANSACTIONAL_ID)
                    .map(|p| (p.key.as_str(), p.value.as_str()))
                    .collect();
                let starting = |error| at_origin(error, &properties, &config, name);
                transactions = match &settings.transaction_id_prefix {
                    Some(prefix) => Some(Arc::new(
                        TransactionPool::new(
                            prefix,
                            &java,
                            settings.close_timeout,
                            self.partitioner.clone(),
                        )
                        .map_err(starting)?,
                    )),
                    None => None,
                };
                let backend = if transactions.is_some() && !settings.allow_non_transactional {
                    Backend::TransactionsOnly
                } else {
                    let producer_config = ProducerConfig::from_properties(java.iter().copied())
                        .map_err(KafkaError::from)?;
                    // Spring closes the producer on context shutdown; a dropped
                    // template does the same: the producer's drop delivers what
                    // was accepted, bounded by `template.close-timeout`.
                    let mut producer = KafkaProducer::builder(producer_config)
                        .close_timeout(settings.close_timeout);
                    if let Some(partitioner) = self.partitioner {
                        producer = producer.partitioner(partitioner);
                    }
                    Backend::Producer(producer.build().map_err(starting)?)
                };
                (backend, Some(config), settings)
            }
        };
        let serializers = match &config {
            Some(config) => config.serializer_lines(self.producer_name.as_deref())?,
            None => SerializerLines::default(),
        };
        let (mut avro_framing, mut registry) = (self.avro_framing, self.registry);
        // A KafkaAvroSerializer line promises the Confluent wire format to
        // consumers (KafkaAvroDeserializer): a framing chosen in code that
        // writes anything else would fail every one of their reads.
        if self.framing_chosen
            && serializers.uses_registry()
            && !matches!(avro_framing, AvroFraming::Confluent(_))
        {
            return Err(TemplateError::Unsupported(format!(
                "the configuration's key-serializer / value-serializer is Confluent's \
                 KafkaAvroSerializer (the Confluent wire format, 00 + schema id), but the \
                 builder chose {avro_framing:?} Avro framing, which its consumers cannot read: \
                 drop the avro_framing call (the registry is then made from \
                 schema.registry.url), pass schema_registry(..), or change the serializer line"
            )));
        }
        if let (Some(config), false, true) =
            (&config, self.framing_chosen, serializers.uses_registry())
        {
            let ids = registry_from_config(config, self.producer_name.as_deref())?;
            avro_framing = AvroFraming::Confluent(Arc::new(ids.clone()));
            registry = Some(ids);
        }
        let routing = Routing {
            config: config.as_ref(),
            serializers: &serializers,
            avro_framing: &avro_framing,
            registry: registry.as_ref(),
        };
        let mut registered = TypeIdMap::default();
        let mut problems = Vec::new();
        for registration in &self.registrations {
            match (registration.route)(&routing) {
                Ok(route) => {
                    registered.insert(registration.type_id, Arc::new(route));
                }
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(TemplateError::RecordTypes(problems));
        }
        if let Some(broker) = &dev_broker {
            crate::dev_services::create_topics(broker, registered.values().map(|r| &*r.topic))?;
        }
        if let Backend::Mock(mock) = &backend {
            mock.use_avro_framing(&avro_framing);
        }
        let interceptors: Box<[Arc<dyn ProducerInterceptor>]> = self.interceptors.into();
        let tracer = settings.observation_enabled.then(|| {
            self.tracer
                .unwrap_or_else(crate::observation::SendTracer::global)
        });
        // Spring's template times its sends either way: in the observation's
        // timer when observed, else in its own (unless turned off).
        let send_timers =
            (settings.observation_enabled || settings.micrometer_enabled).then(|| {
                crate::observation::SendTimers::new(
                    self.producer_name
                        .as_deref()
                        .unwrap_or(crate::observation::DEFAULT_TEMPLATE_NAME),
                    settings.observation_enabled,
                )
            });
        Ok(KafkaTemplate {
            inner: Arc::new(TemplateInner {
                backend,
                config,
                settings,
                tx_observers: Arc::new(Observers::new(
                    self.listener.clone(),
                    interceptors.clone(),
                    None,
                )),
                observers: Arc::new(Observers::new(self.listener, interceptors, self.journal)),
                transactions,
                avro_framing,
                registry,
                serializers,
                registered,
                routes: RwLock::default(),
                making_route: Mutex::default(),
                dev_broker,
                tracer,
                send_timers,
            }),
        })
    }
}

/// The registry a configuration's `KafkaAvroSerializer` lines ask for: the
/// producer's registry properties, requests bounded by its `max.block.ms`.
fn registry_from_config(
    config: &KafkaConfig,
    producer: Option<&str>,
) -> Result<RegistrySchemaIds, TemplateError> {
    let properties = config.registry_properties(producer)?;
    let max_block = config
        .producer_properties(producer)?
        .iter()
        .find(|p| p.key == "max.block.ms")
        .and_then(|p| p.value.parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_millis);
    let registry_config = crate::registry::registry_config(
        properties.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        max_block,
    )
    .map_err(RegistrySetupError::from)?;
    let client = SchemaRegistryClient::new(registry_config).map_err(RegistrySetupError::from)?;
    Ok(RegistrySchemaIds::new(Arc::new(client)))
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
            listener: None,
            interceptors: Vec::new(),
            partitioner: None,
            journal: None,
            avro_framing: AvroFraming::default(),
            framing_chosen: false,
            registry: None,
            registrations: Vec::new(),
            mock: None,
            tracer: None,
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

    /// The producer of sends outside transactions (`None` for a mock
    /// template, and for a transactional one without
    /// `allow-non-transactional`; a transaction's producer is
    /// [`Transaction::producer`](crate::Transaction::producer)).
    pub fn producer(&self) -> Option<&KafkaProducer> {
        match &self.inner.backend {
            Backend::Producer(p) => Some(p),
            Backend::Mock(_) | Backend::TransactionsOnly => None,
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

    /// Sends a record and waits for the broker's acknowledgement (Spring's
    /// `send(..).get()`).
    ///
    /// `record` is a derived record (`&event`: its topic, key, headers,
    /// timestamp and value format come from its `#[derive(KafkaRecord)]`) or
    /// a prepared [`ProducerRecord`]; see [`IntoProducerRecord`].
    ///
    /// ```no_run
    /// # async fn demo(template: kafka_template::KafkaTemplate) -> Result<(), kafka_template::core::SendError> {
    /// use kafka_template::{KafkaRecord, ProducerRecord};
    ///
    /// #[derive(serde::Serialize, KafkaRecord)]
    /// #[kafka(topic = "orders", format = "json")]
    /// struct OrderPlaced {
    ///     #[kafka(key)]
    ///     id: String,
    /// }
    ///
    /// let sent = template.send(&OrderPlaced { id: "o-1".into() }).await?;
    /// println!("offset {:?}", sent.record_metadata.offset);
    /// template
    ///     .send(ProducerRecord::new("audit", "order o-1 placed").with_key("o-1"))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(&self, record: impl IntoProducerRecord) -> Result<SendResult, SendError> {
        self.enqueue(record).await?.await
    }

    /// Appends a record to the producer's buffer and returns without waiting
    /// for the broker; await the returned [`PendingSend`] for the result
    /// (Spring's `send` and its `CompletableFuture`). Keeps batching when one
    /// task sends many records.
    pub async fn enqueue(&self, record: impl IntoProducerRecord) -> Result<PendingSend, SendError> {
        if let Some(transaction) = self.current_transaction() {
            return transaction.enqueue(record).await;
        }
        let (tx, rx) = oneshot::channel();
        let reply = move |result| drop(tx.send(result));
        // Run when first polled, as the body of an `async fn` is: inside the
        // caller's span. A derived record is lent (see `try_enqueue_with_callback`).
        let started = record
            .with_outgoing(self, |record| self.start_plain(record, reply))
            .map_err(|error| self.failed_before_sending(error))?;
        if let Err(waiting) = started {
            waiting.await?;
        }
        Ok(PendingSend(rx))
    }

    /// Appends a record and runs `callback` with the outcome once the broker
    /// acknowledged it or it failed for good (Spring's
    /// `send(..).whenComplete(..)`). A fast way to send many records: no
    /// reply channel per record, and nothing kept per record in flight (the
    /// [`SendResult`]'s record, equal to the one sent, is decoded from the
    /// producer's batch when first read); the plain call
    /// [`try_enqueue_with_callback`](Self::try_enqueue_with_callback), which
    /// also lends a derived record rather than building one, is the fastest.
    /// The callback runs on the producer's
    /// sender task (after the listener and interceptors have heard): keep it
    /// short.
    ///
    /// The record is built when this is called; the interceptors see it, and
    /// it goes to the producer, when the future is first polled. An error
    /// before the record is buffered (it could not be built, or the producer
    /// refused it) is returned by the future, and the callback runs with it
    /// too, before the future resolves: every callback runs once (as
    /// Spring's future completes exceptionally while its `send` throws),
    /// unless this future is dropped before it resolves, which gives the
    /// send up, callback and all.
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
    ///             Ok(sent) => println!("offset {:?}", sent.record_metadata.offset),
    ///             Err(e) => eprintln!("not sent: {e}"),
    ///         })
    ///         .await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn enqueue_with_callback<F>(
        &self,
        record: impl IntoProducerRecord,
        callback: F,
    ) -> impl Future<Output = Result<(), SendError>> + Send + '_
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        // Not an `async fn`: the record is built now, and the send's future is
        // returned as it is rather than nested in another (futures are moved,
        // that is copied, as they nest; this is the per-record path).
        if let Some(transaction) = self.current_transaction() {
            // Built now, as below: the future holds no borrowed record.
            return match record.into_producer_record(self) {
                Ok(record) => Either::Right(Either::Left(Box::pin(
                    transaction.enqueue_with_callback(record, callback),
                ))),
                Err(error) => Either::Right(Either::Right(std::future::ready(Err(told(
                    callback,
                    self.failed_before_sending(error),
                ))))),
            };
        }
        match self.plain(record) {
            Ok((target, record)) => {
                Either::Left(self.dispatch(target, &self.inner.observers, record, callback))
            }
            Err(error) => Either::Right(Either::Right(std::future::ready(Err(told(
                callback, error,
            ))))),
        }
    }

    /// [`enqueue_with_callback`](Self::enqueue_with_callback) as a plain call:
    /// the record is built, intercepted, traced and appended now, and
    /// `Ok(())` says it is in the producer's buffer, with `callback` to hear
    /// its outcome. No future is made for a send that need not wait, which
    /// makes this the cheapest way to send many records (what
    /// [`KafkaProducer::try_send_with_callback`] is to the core's producer).
    ///
    /// A send that cannot finish now returns a [`PendingEnqueue`]: await it.
    /// It waits when the producer must (for the topic's metadata, or for
    /// room in `buffer.memory`, up to `max.block.ms`), then resolves to
    /// `Ok(())` once the record is buffered; or it resolves to the error that
    /// refused the record, which the callback has heard too (every callback
    /// runs once, unless the send is given up by dropping this future). The
    /// listener and the interceptors hear of a refusal when it happens; with
    /// a failure journal, once the journal has stored the record, and the
    /// future resolves after that.
    ///
    /// The caller's current span is the send span's parent (when
    /// observation is on): the one entered when this is called.
    ///
    /// ```no_run
    /// # async fn demo(template: kafka_template::KafkaTemplate) -> Result<(), kafka_template::core::SendError> {
    /// use kafka_template::KafkaRecord;
    ///
    /// #[derive(serde::Serialize, KafkaRecord)]
    /// #[kafka(topic = "clicks", format = "json")]
    /// struct Clicked {
    ///     #[kafka(key)]
    ///     user: String,
    /// }
    ///
    /// for i in 0..1_000_000 {
    ///     let event = Clicked { user: format!("user-{}", i % 100) };
    ///     let callback = |result: Result<kafka_template::SendResult, _>| {
    ///         if let Err(e) = result {
    ///             eprintln!("not delivered: {e}");
    ///         }
    ///     };
    ///     if let Err(pending) = template.try_enqueue_with_callback(&event, callback) {
    ///         pending.await?;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_enqueue_with_callback<F>(
        &self,
        record: impl IntoProducerRecord,
        callback: F,
    ) -> Result<(), PendingEnqueue<'_>>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        if let Some(transaction) = self.current_transaction() {
            return match record.into_producer_record(self) {
                Ok(record) => Err(PendingEnqueue(Box::pin(
                    transaction.enqueue_with_callback(record, callback),
                ))),
                Err(error) => Err(PendingEnqueue(Box::pin(std::future::ready(Err(told(
                    callback,
                    self.failed_before_sending(error),
                )))))),
            };
        }
        // A derived record is lent: serialized into this thread's buffer
        // and copied by the producer into its batch, with no record made.
        // The callback stays here until then: a record that cannot be built
        // is told to it.
        let mut callback = Some(callback);
        let sent = record.with_outgoing(self, |record| match callback.take() {
            Some(callback) => self.start_plain(record, callback),
            // `with_outgoing` calls this once: the callback is still here.
            None => Ok(()),
        });
        match sent {
            Ok(sent) => sent,
            Err(error) => {
                let error = self.failed_before_sending(error);
                let error = match callback {
                    Some(callback) => told(callback, error),
                    None => error,
                };
                Err(PendingEnqueue(Box::pin(std::future::ready(Err(error)))))
            }
        }
    }

    /// The producer record for a derived record: its topic and framing (made
    /// once per type), key, headers, timestamp and framed value.
    pub(crate) fn build_record<R: KafkaRecord + 'static>(
        &self,
        record: &R,
    ) -> Result<ProducerRecord, SendError> {
        self.with_route::<R, _>(|route| self.build_with(record, route))
    }

    /// Runs `f` with `R`'s route: on the per-record path a registered
    /// type's, borrowed. An error making the route is told to the listener.
    #[inline]
    fn with_route<R: KafkaRecord + 'static, T>(
        &self,
        f: impl FnOnce(&TypeRoute) -> Result<T, SendError>,
    ) -> Result<T, SendError> {
        match self.inner.registered.get(&TypeId::of::<R>()) {
            Some(route) => f(route),
            None => match self.route_for::<R>() {
                Ok(route) => f(&route),
                Err(error) => Err(self.refused_unbuilt(error)),
            },
        }
    }

    /// A derived record that could not be built: the listener hears of it
    /// (where it arises, so a record built is returned as it came: mapping
    /// the `Result` afterwards would move, copy, it once more per send).
    #[cold]
    fn refused_unbuilt(&self, error: KafkaError) -> SendError {
        self.inner.observers.heard_refusal(None, &error);
        SendError::without_record(error)
    }

    /// [`build_record`](Self::build_record) with its route.
    fn build_with<R: KafkaRecord>(
        &self,
        record: &R,
        route: &TypeRoute,
    ) -> Result<ProducerRecord, SendError> {
        let failed = |message: String| {
            self.refused_unbuilt(KafkaError::Serialization {
                topic: route.topic.to_string(),
                message,
            })
        };
        let built = record
            .to_producer_record(&route.topic, &route.framing)
            .map_err(|e| failed(e.to_string()));
        // Without a key framing or a type id setting (the usual case) the
        // result is returned as it came: taking the record out of it and
        // putting it back would copy it twice more.
        if route.as_declared() {
            return built;
        }
        let mut built = built?;
        route
            .type_id_header
            .apply(kafka_record::TYPE_ID_HEADER, &mut built.headers);
        route
            .key_type_id_header
            .apply(kafka_record::KEY_TYPE_ID_HEADER, &mut built.headers);
        let Some(frame) = &route.key_frame else {
            return Ok(built);
        };
        if let Some(key) = &built.key {
            match frame.frame(key) {
                Some(framed) => built.key = Some(framed),
                None => {
                    return Err(failed(format!(
                        "the key of `{}` is not {} as {} writes it",
                        R::record_type_name(),
                        frame.encoding.describe(),
                        frame.format.class()
                    )));
                }
            }
        }
        Ok(built)
    }

    /// Hands a derived record to `send` lent from this thread's buffers:
    /// its value and key serialized into them, borrowed with its route's
    /// topic (no allocation for the topic, the value or a `KafkaBytes` key; the
    /// producer copies them into its batch). A key framing or a type id
    /// setting makes the record owned, as [`build_record`](Self::build_record)
    /// makes it. Errors as `build_record`'s.
    pub(crate) fn lend_record<R: KafkaRecord + 'static, T>(
        &self,
        record: &R,
        send: impl FnOnce(Outgoing<'_>) -> T,
    ) -> Result<T, SendError> {
        self.with_route::<R, _>(|route| {
            if !route.as_declared() {
                return self
                    .build_with(record, route)
                    .map(|record| send(Outgoing::Owned(record)));
            }
            with_buffers(|key, value| {
                // In `to_producer_record`'s order, so the first error is the same.
                let (keyed, timestamp) = record
                    .write_value(&route.framing, value)
                    .and_then(|()| Ok((record.write_key(key)?, record.timestamp_ms()?)))
                    .map_err(|e| {
                        self.refused_unbuilt(KafkaError::Serialization {
                            topic: route.topic.to_string(),
                            message: e.to_string(),
                        })
                    })?;
                Ok(send(Outgoing::Lent(LentRecord {
                    topic: &route.topic,
                    key: keyed.then_some(&key[..]),
                    value,
                    timestamp,
                    headers: record.headers(),
                })))
            })
        })
    }

    /// Sends `value` with an optional `key` to `template.default-topic` and
    /// waits for the acknowledgement (Spring's `sendDefault`).
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
            self.inner.observers.heard_refusal(Some(&record), &error);
            return Err(SendError::new(error, record));
        }
        self.send(record).await
    }

    /// The transaction of this template the current task runs in, if any
    /// (the template's own sends inside `execute_in_transaction` join it).
    /// A template that cannot run transactions does not look.
    #[inline]
    fn current_transaction(&self) -> Option<Transaction> {
        if self.inner.transactions.is_none() && !matches!(self.inner.backend, Backend::Mock(_)) {
            return None;
        }
        Transaction::current(self)
    }

    /// [`start_send`](Self::start_send) of a record outside a transaction,
    /// or its refusal (see [`plain_target`](Self::plain_target)).
    #[inline]
    fn start_plain<F>(&self, record: Outgoing<'_>, reply: F) -> Result<(), PendingEnqueue<'_>>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        match self.plain_target() {
            Ok(target) => self.start_send(target, &self.inner.observers, record, reply),
            Err(error) => Err(PendingEnqueue(Box::pin(std::future::ready(Err(told(
                reply,
                self.refuse_plain(error, record.into_owned()),
            )))))),
        }
    }

    /// A record to send outside a transaction, with where it goes: the
    /// template's producer (or mock), unless the template is transactional
    /// without `allow-non-transactional` (Spring's rule), which refuses it.
    fn plain(
        &self,
        record: impl IntoProducerRecord,
    ) -> Result<(Target<'_>, ProducerRecord), SendError> {
        let record = record
            .into_producer_record(self)
            .map_err(|error| self.failed_before_sending(error))?;
        match self.plain_target() {
            Ok(target) => Ok((target, record)),
            Err(error) => Err(self.refuse_plain(error, record)),
        }
    }

    /// Where a record sent outside a transaction goes (see [`plain`](Self::plain)).
    #[inline]
    fn plain_target(&self) -> Result<Target<'_>, KafkaError> {
        let settings = &self.inner.settings;
        let refused = settings.transaction_id_prefix.is_some() && !settings.allow_non_transactional;
        match &self.inner.backend {
            Backend::Producer(producer) if !refused => Ok(Target::Producer(producer)),
            Backend::Mock(mock) if !refused => Ok(Target::Mock(mock, None)),
            _ => Err(KafkaError::Transaction(TransactionError::InvalidState {
                operation: "send a record outside a transaction",
                state: "transactional (the template has a transaction-id-prefix)",
                hint: "send it inside KafkaTemplate::execute_in_transaction, or set \
                       spring.kafka.template.allow-non-transactional: true to send it \
                       through a non-transactional producer",
            })),
        }
    }

    /// `record` refused by [`plain_target`](Self::plain_target), before it
    /// reached a producer: the listener hears of it, the caller gets the
    /// record back.
    #[cold]
    fn refuse_plain(&self, error: KafkaError, record: ProducerRecord) -> SendError {
        self.inner.observers.heard_refusal(Some(&record), &error);
        self.failed_before_sending(SendError::new(error, record))
    }

    /// A send that failed before it reached a producer (its record could
    /// not be built or serialized, or may not be sent here): timed, when
    /// observation is on, as Spring's observation times a send that throws
    /// (from its start, which was a moment ago; with its topic, when known).
    /// Spring's own template timer never starts for such a send (it throws
    /// before the timer starts, or before the producer's callback).
    pub(crate) fn failed_before_sending(&self, error: SendError) -> SendError {
        if let Some(timers) = self.inner.send_timers.as_ref().filter(|t| t.observed()) {
            let topic = error
                .record()
                .map(|r| r.topic.as_str())
                .or(match error.error() {
                    KafkaError::Serialization { topic, .. }
                    | KafkaError::InvalidTopic { topic, .. } => Some(topic.as_str()),
                    _ => None,
                });
            if let Some(topic) = topic {
                timers.start(topic).finish(Err(error.error()), true);
            }
        }
        error
    }

    /// Runs the interceptors, hands the record to `target` and arranges for
    /// `observers`, then `reply`, to hear the outcome, all when first polled
    /// (inside the caller's span: the observation reads it, and
    /// `.instrument(span)` enters it only then).
    ///
    /// Not an `async fn`: its future would hold the record, the reply and the
    /// producer's future side by side, copied whole each time it moves
    /// (measured: a sixth of the template's CPU went to such copies). Here
    /// the record and the reply wait for the first poll, and only a send
    /// that must wait makes a (boxed) future of the rest.
    pub(crate) fn dispatch<'a, F>(
        &'a self,
        target: Target<'a>,
        observers: &'a Arc<Observers>,
        record: ProducerRecord,
        reply: F,
    ) -> impl Future<Output = Result<(), SendError>> + Send + 'a
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        let mut start = Some((target, record, reply));
        let mut pending: Option<PendingEnqueue<'a>> = None;
        std::future::poll_fn(move |cx| {
            if let Some((target, record, reply)) = start.take() {
                match self.start_send(target, observers, Outgoing::Owned(record), reply) {
                    Ok(()) => return Poll::Ready(Ok(())),
                    Err(waiting) => pending = Some(waiting),
                }
            }
            let Some(waiting) = &mut pending else {
                panic!("a template send's future polled after it completed")
            };
            let outcome = std::task::ready!(Pin::new(waiting).poll(cx));
            pending = None;
            Poll::Ready(outcome)
        })
    }

    /// The work of a send's first poll, or of
    /// [`try_enqueue_with_callback`](Self::try_enqueue_with_callback): the
    /// interceptors, the span and the trace context, then the record to
    /// `target`. `Ok(())` once the record is buffered (or a mock took it);
    /// else what is left to wait for: the producer's wait, or the observers
    /// hearing of a refusal.
    #[inline]
    fn start_send<'a, F>(
        &'a self,
        target: Target<'a>,
        observers: &'a Arc<Observers>,
        mut record: Outgoing<'_>,
        reply: F,
    ) -> Result<(), PendingEnqueue<'a>>
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        // Only through interceptors there are: each pass moves the record
        // (and so would binding it anew here). They take it owned, as the
        // mock and the journal keep it.
        if !observers.interceptors.is_empty() {
            record = Outgoing::Owned(observers.intercept(record.into_owned()));
        }
        let settings = &self.inner.settings;
        // The span of this send (when observation is on and the sampler
        // records it) ends with the record's outcome, in the outcome's
        // callback (which the producer also calls with a refusal).
        let mut trace = None;
        let timing = self
            .inner
            .send_timers
            .as_ref()
            .map(|timers| timers.start(record.topic()));
        let span = if settings.observation_enabled || settings.trace_propagation_enabled {
            let client_id = match target {
                Target::Producer(producer) => Some(producer.config().client_id()),
                Target::Mock(..) => None,
            };
            crate::observation::observe_send(
                self.inner.tracer.as_ref(),
                &record.as_record_ref(),
                client_id,
                settings.trace_propagation_enabled,
                &mut trace,
            )
        } else {
            None
        };
        let watch = crate::observation::SendWatch::new(span, timing);
        // The trace context goes into the record's own headers where the
        // record is kept as sent: by the mock, and for the failure journal.
        if matches!(target, Target::Mock(..)) || observers.journal.is_some() {
            let mut owned = record.into_owned();
            if let Some(trace) = trace.take() {
                trace.add_to(&mut owned);
            }
            record = Outgoing::Owned(owned);
        }
        // Lent to the batch below, the trace context replaces the record's
        // own (a forwarded record's upstream `traceparent`).
        if let Some(trace) = &trace
            && !record.headers_mut().is_empty()
        {
            trace.replace_in(record.headers_mut());
        }
        let producer = match target {
            Target::Producer(producer) => producer,
            Target::Mock(mock, transaction) => {
                let record = record.into_owned();
                let result = match mock.send_in(&record, transaction) {
                    Ok(metadata) => Ok(SentRecord {
                        record: record.into(),
                        metadata,
                    }),
                    Err(error) => Err(SendError::new(error, record)),
                };
                if !watch.is_idle() {
                    guarded("send span", || observed(&watch, &result));
                }
                Observers::finish(Some(observers.clone()), result, reply);
                return Ok(());
            }
        };
        // The journal stores the record the caller sent, so it is kept; else
        // the producer hands the record back with its outcome, read from the
        // batch: nothing is kept per record while it is in flight.
        // (A record is owned by now where there is a journal.)
        let kept = match &record {
            Outgoing::Owned(record) if observers.journal.is_some() => {
                Some(Arc::new(record.clone()))
            }
            _ => None,
        };
        // Quiet observers (the logging listener alone) are heard without a
        // share of them per record: that share's count would be raised here
        // and dropped on the sender's thread, a cache line passed between
        // cores for every record.
        let heard = (!observers.quiet).then(|| observers.clone());
        let in_flight = watch.clone();
        let callback = move |result| {
            if !in_flight.is_idle() {
                // The span's end runs the application's span processor (or
                // tracing layers): its panic must not drop the reply.
                guarded("send span", || observed(&in_flight, &result));
            }
            // Without a journal the outcome goes on as it came: matching it
            // in a tuple with `kept` would copy it, on every record.
            let Some(kept) = kept else {
                return Observers::finish(heard, result, reply);
            };
            // A refusal has the record as sent already (and says it is one).
            let result = result.map_err(|error| match error.refused_before_sending() {
                true => error,
                false => SendError::with_shared_record(error.into_error(), kept),
            });
            Observers::finish(heard, result, reply);
        };
        // A plain call when the producer need not wait (no send future holding
        // the record, moved as it nests); a future, boxed, only for a send
        // that must wait for metadata or buffer memory, or that was refused.
        // The producer tells a refusal to the callback above too, which ends
        // the span and tells the observers and the caller's reply.
        // A trace context still here is lent to the producer, which writes it
        // into the batch; the record it hands back (with the outcome, or to
        // wait with) has it among its headers.
        let trace_headers = trace
            .as_ref()
            .map(crate::observation::TraceHeaders::headers);
        let extra_headers = match &trace_headers {
            Some((headers, count)) => &headers[..*count],
            None => &[],
        };
        let sent = match record {
            Outgoing::Owned(record) => {
                producer.try_send_with_callback_and_headers(record, extra_headers, callback)
            }
            Outgoing::Lent(lent) => {
                producer.try_send_ref_with_callback(lent.as_record_ref(), extra_headers, callback)
            }
        };
        match sent {
            Ok(()) => Ok(()),
            Err(TrySendError::MustWait { record, callback }) => {
                let sent = producer.send_with_callback(record, callback);
                Err(PendingEnqueue(Box::pin(async move {
                    match sent.await {
                        Ok(()) => Ok(()),
                        Err(error) => refused(observers, error).await,
                    }
                })))
            }
            Err(TrySendError::Refused(error)) => Err(refused(observers, error)),
        }
    }

    /// Waits until every record sent outside a transaction before this call
    /// has an outcome (a transaction's records are flushed by its commit),
    /// and the failed ones are in the failure journal with their listener
    /// and callers told. Failures of records sent later are not waited for
    /// (Java's `flush` waits only for the records sent before it).
    pub async fn flush(&self) {
        if let Backend::Producer(p) = &self.inner.backend {
            p.flush().await;
        }
        // The producer's flush returned after the callbacks of the records
        // sent before it, which started their journal writes.
        self.inner.observers.journal_writes.started_done().await;
    }

    /// The failure journal records that fail for good are appended to, when
    /// the template has one ([`KafkaTemplateBuilder::failure_journal`]).
    pub fn failure_journal(&self) -> Option<&FailureJournal> {
        self.inner.observers.journal.as_ref()
    }

    /// Sends the entries of the template's failure journal again through its
    /// producer (or mock), as [`replay`](crate::journal::replay) does, and
    /// keeps in the journal only those that fail again. Records are sent as
    /// the journal stored them, interceptors and trace context already
    /// applied: not through the interceptors again, and not heard by the
    /// listener. A record that fails again stays in the journal once, with
    /// its first error (sent through the template's own `send`, it would be
    /// journaled a second time). Without a journal there is nothing to do
    /// (an empty report).
    ///
    /// ```no_run
    /// # async fn demo(template: kafka_template::KafkaTemplate) -> Result<(), kafka_template::journal::JournalError> {
    /// // At start-up, once the broker is reachable again:
    /// let report = template.replay_failure_journal().await?;
    /// println!("{} resent, {} still failing", report.sent, report.remaining);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn replay_failure_journal(
        &self,
    ) -> Result<crate::journal::ReplayReport, JournalError> {
        let Some(journal) = self.failure_journal() else {
            return Ok(crate::journal::ReplayReport::default());
        };
        match &self.inner.backend {
            Backend::Producer(producer) => crate::journal::replay(journal, producer).await,
            Backend::Mock(mock) => {
                crate::journal::replay_with(journal, |record: ProducerRecord| {
                    std::future::ready(mock.send_in(&record, None).map(drop))
                })
                .await
            }
            Backend::TransactionsOnly => Err(JournalError::ReplayConflict {
                path: journal.path().to_path_buf(),
                reason: "the template is transactional without allow-non-transactional: \
                         it has no producer to replay records outside a transaction through",
            }),
        }
    }

    /// Delivers what is buffered and stops the producer (and the idle
    /// producers of the transaction pool; a transaction still running gets
    /// its producer closed when it ends), waiting at most `timeout`; returns
    /// how many records could not be delivered in time.
    ///
    /// A broker that dev services started stops here, after the producers.
    pub async fn close(&self, timeout: Duration) -> usize {
        let plain = match &self.inner.backend {
            Backend::Producer(p) => p.close(timeout).await,
            Backend::Mock(mock) => {
                mock.close();
                0
            }
            Backend::TransactionsOnly => 0,
        };
        let pooled = match &self.inner.transactions {
            Some(pool) => pool.close(timeout).await,
            None => 0,
        };
        if let Some(broker) = &self.inner.dev_broker {
            crate::dev_services::stop(broker);
        }
        plain + pooled
    }

    /// The local broker dev services started (the `dev` profile without
    /// bootstrap servers), to read back what landed in a test.
    #[cfg(feature = "dev-services")]
    pub fn dev_services_broker(&self) -> Option<&kafka_template_test::EmbeddedKafka> {
        self.inner.dev_broker.as_ref()
    }

    /// Whether the template runs transactions (Spring's `isTransactional`):
    /// it has a `transaction-id-prefix`, or it is a mock template (which runs
    /// them without one).
    ///
    /// ```
    /// # use kafka_template::{KafkaTemplate, MockProducer};
    /// let template = KafkaTemplate::with_mock(MockProducer::new(1));
    /// assert!(template.is_transactional());
    /// ```
    pub fn is_transactional(&self) -> bool {
        self.inner.transactions.is_some() || matches!(self.inner.backend, Backend::Mock(_))
    }

    /// Whether the current task runs inside one of this template's
    /// transactions (Spring's `inTransaction`): in the closure of
    /// [`execute_in_transaction`](Self::execute_in_transaction), where the
    /// template's own sends join the transaction.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # use kafka_template::{KafkaTemplate, MockProducer};
    /// let template = KafkaTemplate::with_mock(MockProducer::new(1));
    /// assert!(!template.in_transaction());
    /// let inside = template.clone();
    /// let was = template
    ///     .execute_in_transaction(|_tx| async move { Ok::<_, std::convert::Infallible>(inside.in_transaction()) })
    ///     .await
    ///     .unwrap();
    /// assert!(was);
    /// # }
    /// ```
    pub fn in_transaction(&self) -> bool {
        self.current_transaction().is_some()
    }

    /// The number of partitions of `topic`, waiting at most `max.block.ms`
    /// for its metadata (Spring's `partitionsFor`, reduced to the count, as
    /// [`KafkaProducer::partition_count`]); a mock template's count.
    ///
    /// Inside one of the template's transactions it asks that transaction's
    /// producer; a transactional template without `allow-non-transactional`
    /// has no producer outside its transactions.
    pub async fn partition_count(&self, topic: &str) -> Result<usize, KafkaError> {
        if let Some(transaction) = self.current_transaction()
            && let Some(producer) = transaction.producer()
        {
            return producer.partition_count(topic).await;
        }
        match &self.inner.backend {
            Backend::Producer(producer) => producer.partition_count(topic).await,
            Backend::Mock(mock) => Ok(mock.partitions()),
            Backend::TransactionsOnly => {
                Err(KafkaError::Transaction(TransactionError::InvalidState {
                    operation: "ask for a topic's partitions outside a transaction",
                    state: "transactional (the template has a transaction-id-prefix)",
                    hint: "ask inside KafkaTemplate::execute_in_transaction, or set \
                           spring.kafka.template.allow-non-transactional: true",
                }))
            }
        }
    }

    /// The metrics of the producer this template sends with here, as
    /// Spring's `metrics()` asks the producer it would send with: inside
    /// [`execute_in_transaction`](Self::execute_in_transaction), the
    /// transaction's producer; outside, the producer for sends outside
    /// transactions (empty for a mock template, and for a transactional one
    /// without `allow-non-transactional`).
    pub fn metrics(&self) -> MetricsSnapshot {
        if let Some(transaction) = self.current_transaction()
            && let Some(producer) = transaction.producer()
        {
            return producer.metrics();
        }
        match &self.inner.backend {
            Backend::Producer(p) => p.metrics(),
            Backend::Mock(_) | Backend::TransactionsOnly => MetricsSnapshot::default(),
        }
    }

    /// The topic `R` goes to, its placeholders resolved against the configuration.
    ///
    /// The first call for a type not [registered](KafkaTemplateBuilder::register)
    /// also checks the serializer lines against it and, with
    /// [`AvroFraming::Confluent`], asks for its schema id, as its first send would.
    pub fn topic_for<R: KafkaRecord + 'static>(&self) -> Result<Arc<str>, KafkaError> {
        self.route_for::<R>().map(|route| route.topic.clone())
    }

    /// `R`'s route: registered at build, made at an earlier send, or made now
    /// (once, however many tasks send `R` for the first time together).
    fn route_for<R: KafkaRecord + 'static>(&self) -> Result<Arc<TypeRoute>, KafkaError> {
        let type_id = TypeId::of::<R>();
        if let Some(route) = self.inner.registered.get(&type_id) {
            return Ok(route.clone());
        }
        if let Some(route) = self.known_route(type_id) {
            return Ok(route);
        }
        let slot = self
            .inner
            .making_route
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(type_id)
            .or_default()
            .clone();
        // With a registry, making the route asks it over HTTP (blocking, up
        // to its timeouts), and waiting for another task's attempt blocks as
        // long: on a multi-thread runtime the worker's other tasks (a
        // connection's reader among them) move to other workers meanwhile.
        // Types registered at build ask the registry at start.
        let on_multi_thread_runtime = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        });
        let make = || self.make_route::<R>(&slot);
        if self.inner.registry.is_some() && on_multi_thread_runtime {
            tokio::task::block_in_place(make)
        } else {
            make()
        }
    }

    /// A route made at an earlier send.
    fn known_route(&self, type_id: TypeId) -> Option<Arc<TypeRoute>> {
        self.inner
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&type_id)
            .cloned()
    }

    /// Makes `R`'s route under its slot's lock, once for the tasks waiting
    /// on it: one that waited while another's attempt failed gets that
    /// failure rather than asking the registry again (each first send would
    /// otherwise wait for the attempts before it, up to `max.block.ms` each).
    /// A later send tries again.
    fn make_route<R: KafkaRecord + 'static>(
        &self,
        slot: &RouteSlot,
    ) -> Result<Arc<TypeRoute>, KafkaError> {
        let attempts_before = slot.attempts.load(std::sync::atomic::Ordering::Acquire);
        let mut last_failure = slot.last_failure.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(route) = self.known_route(TypeId::of::<R>()) {
            return Ok(route); // another task made it while this one waited
        }
        if slot.attempts.load(std::sync::atomic::Ordering::Acquire) != attempts_before
            && let Some(failure) = last_failure.as_ref()
        {
            return Err(failure.clone());
        }
        let routing = Routing {
            config: self.inner.config.as_ref(),
            serializers: &self.inner.serializers,
            avro_framing: &self.inner.avro_framing,
            registry: self.inner.registry.as_ref(),
        };
        let made = routing.route::<R>().map_err(|failure| match failure.error {
            RecordTypeError::Topic(e) => KafkaError::InvalidTopic {
                topic: failure.topic,
                reason: e.to_string(),
            },
            other => KafkaError::Serialization {
                topic: failure.topic,
                message: other.to_string(),
            },
        });
        slot.attempts
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let route = match made {
            Ok(route) => Arc::new(route),
            Err(error) => {
                *last_failure = Some(error.clone());
                return Err(error);
            }
        };
        *last_failure = None;
        self.inner
            .routes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(TypeId::of::<R>(), route.clone());
        Ok(route)
    }
}

impl Observers {
    /// The record after every interceptor's `on_send`, in order. An
    /// interceptor that panics is logged and skipped: the record goes on as
    /// the one before it left it (Kafka's `ProducerInterceptors.onSend`,
    /// which catches an interceptor's exception and sends anyway).
    fn intercept(&self, record: ProducerRecord) -> ProducerRecord {
        self.interceptors.iter().fold(record, |record, interceptor| {
            let before = record.clone();
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                interceptor.on_send(record)
            })) {
                Ok(intercepted) => intercepted,
                Err(panic) => {
                    tracing::error!(
                        panic = %panic_message(panic.as_ref()),
                        topic = %before.topic,
                        "a producer interceptor's on_send panicked; the record is sent as it was before it"
                    );
                    before
                }
            }
        })
    }

    /// Interceptors and the listener hear of a success.
    fn heard_success(&self, record: &LazyRecord, metadata: &RecordMetadata) {
        for interceptor in self.interceptors.iter() {
            guarded("interceptor on_acknowledgement", || {
                interceptor.on_acknowledgement(Ok(metadata))
            });
        }
        guarded("listener on_success", || {
            self.listener.on_success(record, metadata)
        });
    }

    /// A record that failed for good: journal it, tell interceptors and the
    /// listener, and return the error for the caller.
    async fn failed(&self, error: SendError) -> SendError {
        if let Some((journal, entry)) = self.journal_entry(&error) {
            let written = journal.append_async(entry).await;
            journal_error(journal, written);
        }
        self.heard_failure(&error);
        error
    }

    /// Stores a failed record in the failure journal now, blocking (for a
    /// caller without a runtime).
    fn journal_now(&self, error: &SendError) {
        if let Some((journal, entry)) = self.journal_entry(error) {
            journal_error(journal, journal.append(&entry));
        }
    }

    /// The journal and the entry of a failed record, with a journal and a
    /// record to store.
    fn journal_entry(&self, error: &SendError) -> Option<(&FailureJournal, JournalEntry)> {
        let (journal, record) = (self.journal.as_ref()?, error.record()?);
        Some((journal, JournalEntry::from_failed(record, error.error())))
    }

    /// Interceptors and the listener hear of a failure.
    fn heard_failure(&self, error: &SendError) {
        self.heard_refusal(error.record(), error.error());
    }

    /// Interceptors and the listener hear of a failure, also one before the
    /// record reached a producer (Java's `doSend` tells the interceptors'
    /// `onSendError` of every exception, serialization included).
    pub(crate) fn heard_refusal(&self, record: Option<&ProducerRecord>, error: &KafkaError) {
        for interceptor in self.interceptors.iter() {
            guarded("interceptor on_acknowledgement", || {
                interceptor.on_acknowledgement(Err(error))
            });
        }
        guarded("listener on_error", || {
            self.listener.on_error(record, error)
        });
    }
}

/// Runs one of the application's observers of an outcome. A panic in it is
/// logged and goes no further: the other observers still hear, and the
/// record's outcome still reaches its caller (a delivered record must not
/// come back as failed because a listener panicked; Spring completes the
/// send's future before it calls its listener).
fn guarded(observer: &'static str, call: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        tracing::error!(observer, panic = %panic_message(panic.as_ref()), "a producer observer panicked; the send's outcome is reported all the same");
    }
}

/// The message a panic carried, if it was text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Who hears of every outcome.
pub(crate) struct Observers {
    pub(crate) listener: Arc<dyn ProducerListener>,
    interceptors: Box<[Arc<dyn ProducerInterceptor>]>,
    journal: Option<FailureJournal>,
    /// Only the default [`LoggingProducerListener`] hears: no interceptor,
    /// no journal, no listener of the application's.
    quiet: bool,
    /// Failures being journaled (a write and an fsync, off the sender's task).
    journal_writes: Arc<InProgressCount>,
}

/// Work under way (failure journal writes), counted by the flush epoch it
/// started in, so that a flush waits for what was under way when it was
/// called and not for work that keeps starting after it.
#[derive(Default)]
struct InProgressCount {
    /// The epoch work starts in now; a flush closes it.
    epoch: std::sync::atomic::AtomicU64,
    /// Work under way per epoch (epochs with none are removed).
    under_way: std::sync::Mutex<std::collections::BTreeMap<u64, usize>>,
    idle: tokio::sync::Notify,
}

impl InProgressCount {
    /// Counts one piece of work until the returned guard drops.
    fn start(self: &Arc<Self>) -> InProgressGuard {
        let mut under_way = self
            .under_way
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let epoch = self.epoch.load(std::sync::atomic::Ordering::SeqCst);
        *under_way.entry(epoch).or_default() += 1;
        InProgressGuard {
            count: self.clone(),
            epoch,
        }
    }

    /// Waits until the work started before this call is done (work started
    /// after it is not waited for).
    async fn started_done(&self) {
        let epoch = {
            // Under the lock: a `start` is in the old epoch or the new one.
            let _under_way = self
                .under_way
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        };
        loop {
            let idle = self.idle.notified();
            let pending = self
                .under_way
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .range(..=epoch)
                .next()
                .is_some();
            if !pending {
                return;
            }
            idle.await;
        }
    }
}

struct InProgressGuard {
    count: Arc<InProgressCount>,
    epoch: u64,
}

impl Drop for InProgressGuard {
    fn drop(&mut self) {
        let mut under_way = self
            .count
            .under_way
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(left) = under_way.get_mut(&self.epoch) {
            *left -= 1;
            if *left == 0 {
                under_way.remove(&self.epoch);
                drop(under_way);
                self.count.idle.notify_waiters();
            }
        }
    }
}

impl Observers {
    /// `listener` is `None` for the default [`LoggingProducerListener`].
    pub(crate) fn new(
        listener: Option<Arc<dyn ProducerListener>>,
        interceptors: Box<[Arc<dyn ProducerInterceptor>]>,
        journal: Option<FailureJournal>,
    ) -> Observers {
        let quiet = listener.is_none() && interceptors.is_empty() && journal.is_none();
        Observers {
            listener: listener.unwrap_or_else(|| Arc::new(LoggingProducerListener)),
            interceptors,
            journal,
            quiet,
            journal_writes: Arc::default(),
        }
    }

    /// Tells the observers of a record's outcome, then `reply` (the caller's
    /// callback or channel). `None` stands for quiet observers, heard
    /// without a share of them.
    fn finish<F>(observers: Option<Arc<Self>>, result: Result<SentRecord, SendError>, reply: F)
    where
        F: FnOnce(Result<SendResult, SendError>) + Send + 'static,
    {
        match result {
            Ok(SentRecord { record, metadata }) => {
                match &observers {
                    Some(observers) => observers.heard_success(&record, &metadata),
                    None => LoggingProducerListener.on_success(&record, &metadata),
                }
                reply(Ok(SendResult {
                    producer_record: record,
                    record_metadata: metadata,
                }));
            }
            Err(error) => {
                let Some(observers) = observers else {
                    LoggingProducerListener.on_error(error.record(), error.error());
                    return reply(Err(error));
                };
                if observers.journal.is_some()
                    && let Ok(runtime) = tokio::runtime::Handle::try_current()
                {
                    // Journal writes fsync: keep them off the sender task, and
                    // answer the caller only once the record is stored. A
                    // flush waits for them (and so does the producer's drop).
                    let writing = observers.journal_writes.start();
                    // If this task is dropped before the write is done, or
                    // before it first runs (the producer's runtime shut
                    // down), the failure is still told: no callback left
                    // unrun.
                    let mut until_stored = ReplyOnDrop {
                        observers: observers.clone(),
                        pending: Some((reply, error.clone())),
                    };
                    runtime.spawn(async move {
                        let _writing = writing;
                        let stored = observers.failed(error).await;
                        if let Some((reply, _)) = until_stored.pending.take() {
                            reply(Err(stored));
                        }
                    });
                    return;
                }
                // No runtime to write from (a mock template used from plain
                // code): the write blocks, so the record is still stored
                // before the listener hears.
                if observers.journal.is_some() {
                    observers.journal_now(&error);
                }
                observers.heard_failure(&error);
                reply(Err(error));
            }
        }
    }
}

/// Logs a failure-journal write that failed (the record's failure is still
/// reported).
fn journal_error(journal: &FailureJournal, written: Result<(), crate::journal::JournalError>) {
    if let Err(e) = written {
        tracing::error!(error = %e, journal = %journal.path().display(), "cannot write a failed record to the failure journal");
    }
}

/// A failed record's reply while its journal write is under way. Dropped
/// with the reply still pending (the write's task cancelled, as when the
/// producer's runtime shuts down), it tells the observers and the caller the
/// failure as it was, unjournaled, rather than leave them unanswered (the
/// caller would otherwise hear "producer closed", which says the record
/// never left the process).
struct ReplyOnDrop<F: FnOnce(Result<SendResult, SendError>)> {
    observers: Arc<Observers>,
    pending: Option<(F, SendError)>,
}

impl<F: FnOnce(Result<SendResult, SendError>)> Drop for ReplyOnDrop<F> {
    fn drop(&mut self) {
        if let Some((reply, error)) = self.pending.take() {
            tracing::warn!(
                error = %error.error(),
                "a failed record's journal write was cut short (the producer shut down); \
                 its failure is reported unjournaled"
            );
            self.observers.heard_failure(&error);
            reply(Err(error));
        }
    }
}

/// A send refused before it reached a producer (its record could not be
/// built, or may not be sent there): the callback hears the error the caller
/// gets, so that every callback runs once.
pub(crate) fn told<F>(callback: F, error: SendError) -> SendError
where
    F: FnOnce(Result<SendResult, SendError>),
{
    callback(Err(error.clone()));
    error
}

/// A record refused before it was buffered, which the send's callback has
/// heard (its span ended, the observers told): the error for the caller, once
/// a failure journal has stored the record.
fn refused(observers: &Observers, error: SendError) -> PendingEnqueue<'_> {
    if observers.journal.is_none() {
        return PendingEnqueue(Box::pin(std::future::ready(Err(error))));
    }
    PendingEnqueue(Box::pin(async move {
        observers.journal_writes.started_done().await;
        Err(error)
    }))
}

/// A send that [`KafkaTemplate::try_enqueue_with_callback`] could not finish
/// at once: await it. It resolves to `Ok(())` once the record is in the
/// producer's buffer (its callback hears the outcome), or to the error that
/// refused it (which the callback has heard too). Dropping it before it
/// resolves gives the send up, as dropping
/// [`enqueue_with_callback`](KafkaTemplate::enqueue_with_callback)'s future
/// does.
#[must_use = "the record is buffered only when this is awaited"]
pub struct PendingEnqueue<'a>(Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>);

impl Future for PendingEnqueue<'_> {
    type Output = Result<(), SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for PendingEnqueue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingEnqueue")
    }
}

/// Records a send's outcome on its span (which then ends with the last
/// handle) and in its timer.
fn observed(watch: &crate::observation::SendWatch, result: &Result<SentRecord, SendError>) {
    match result {
        Ok(sent) => watch.finish(Ok(&sent.metadata), false),
        Err(error) => watch.finish(Err(error.error()), error.refused_before_sending()),
    }
}

/// A record in the producer's buffer; resolves to its [`SendResult`] or error.
/// Dropping it does not cancel the send.
#[must_use = "await it for the outcome, or drop it to fire and forget"]
#[derive(Debug)]
pub struct PendingSend(pub(crate) oneshot::Receiver<Result<SendResult, SendError>>);

impl Future for PendingSend {
    type Output = Result<SendResult, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|heard| {
            heard.unwrap_or_else(|_| {
                Err(SendError::without_record(KafkaError::ProducerClosed(
                    "the producer stopped before reporting the outcome",
                )))
            })
        })
    }
}

/// What a [`KafkaTemplate`] sends: a derived record, borrowed (`&event`,
/// where the type derives [`KafkaRecord`]: the template gives it its topic,
/// framing and registry schema ids), or a prepared [`ProducerRecord`].
///
/// Implemented by the template's crate only; derive [`KafkaRecord`] to make a
/// type of yours sendable.
///
/// ```
/// use kafka_template::{IntoProducerRecord, ProducerRecord};
///
/// fn sendable(_: impl IntoProducerRecord) {}
/// sendable(ProducerRecord::new("audit", "order o-1 placed"));
/// ```
pub trait IntoProducerRecord: sealed::Sealed {
    /// The producer record, built with the template's routes for derived types.
    #[doc(hidden)]
    fn into_producer_record(self, template: &KafkaTemplate) -> Result<ProducerRecord, SendError>;

    /// Hands the record to `send`: a derived record lent from per-thread
    /// buffers (serialized into them; the producer copies what it needs),
    /// where the template can, else owned.
    #[doc(hidden)]
    fn with_outgoing<T>(
        self,
        template: &KafkaTemplate,
        send: impl FnOnce(Outgoing<'_>) -> T,
    ) -> Result<T, SendError>
    where
        Self: Sized;
}

mod sealed {
    pub trait Sealed {}
    impl<R: kafka_record::KafkaRecord + 'static> Sealed for &R {}
    impl Sealed for kafka_core::ProducerRecord {}
}

impl<R: KafkaRecord + 'static> IntoProducerRecord for &R {
    fn into_producer_record(self, template: &KafkaTemplate) -> Result<ProducerRecord, SendError> {
        template.build_record(self)
    }

    #[inline]
    fn with_outgoing<T>(
        self,
        template: &KafkaTemplate,
        send: impl FnOnce(Outgoing<'_>) -> T,
    ) -> Result<T, SendError> {
        template.lend_record(self, send)
    }
}

impl IntoProducerRecord for ProducerRecord {
    fn into_producer_record(self, _: &KafkaTemplate) -> Result<ProducerRecord, SendError> {
        Ok(self)
    }

    #[inline]
    fn with_outgoing<T>(
        self,
        _: &KafkaTemplate,
        send: impl FnOnce(Outgoing<'_>) -> T,
    ) -> Result<T, SendError> {
        Ok(send(Outgoing::Owned(self)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(serde::Serialize, kafka_derive::KafkaRecord)]
    #[kafka(topic = "orders", format = "json")]
    pub(crate) struct OrderPlaced {
        #[kafka(key)]
        pub(crate) id: String,
    }

    #[derive(Default)]
    pub(crate) struct Heard {
        pub(crate) ok: AtomicUsize,
        pub(crate) failed: AtomicUsize,
    }

    pub(crate) struct CountingListener(pub(crate) Arc<Heard>);

    impl ProducerListener for CountingListener {
        fn on_success(&self, _: &LazyRecord, _: &RecordMetadata) {
            self.0.ok.fetch_add(1, Ordering::SeqCst);
        }
        fn on_error(&self, _: Option<&ProducerRecord>, _: &KafkaError) {
            self.0.failed.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn only_the_default_listener_alone_is_quiet() {
        // Quiet observers are heard without a share of them per record; any
        // listener, interceptor or journal of the application's must be heard.
        assert!(Observers::new(None, Box::new([]), None).quiet);
        let listener: Arc<dyn ProducerListener> = Arc::new(LoggingProducerListener);
        assert!(!Observers::new(Some(listener), Box::new([]), None).quiet);
        let interceptor: Arc<dyn ProducerInterceptor> = Arc::new(NoopInterceptor);
        assert!(!Observers::new(None, Box::new([interceptor]), None).quiet);
        let template = KafkaTemplate::mock_builder(MockProducer::new(1))
            .listener(CountingListener(Arc::default()))
            .build()
            .unwrap();
        assert!(!template.inner.observers.quiet);
        assert!(!template.inner.tx_observers.quiet);
        assert!(
            KafkaTemplate::with_mock(MockProducer::new(1))
                .inner
                .observers
                .quiet
        );
    }

    /// A partitioner sending every record to partition 2.
    struct AlwaysTwo;

    impl kafka_core::Partitioner for AlwaysTwo {
        fn partition(
            &self,
            _: &str,
            _: Option<&[u8]>,
            _: Option<&[u8]>,
            _: &kafka_core::PartitionerCluster,
        ) -> Option<i32> {
            Some(2)
        }
    }

    /// The mock asks the template's partitioner, as the real producer does.
    #[tokio::test]
    async fn a_mock_template_uses_its_custom_partitioner() {
        let mock = MockProducer::new(3);
        let template = KafkaTemplate::mock_builder(mock.clone())
            .partitioner(Arc::new(AlwaysTwo))
            .build()
            .unwrap();
        let sent = template
            .send(ProducerRecord::new("orders", "v").with_key("k1"))
            .await
            .unwrap();
        assert_eq!(sent.record_metadata.partition, 2);
        assert_eq!(mock.history()[0].partition, 2);
    }

    /// An interceptor whose `on_send` panics (a bug in it).
    struct PanickingInterceptor;

    impl ProducerInterceptor for PanickingInterceptor {
        fn on_send(&self, _: ProducerRecord) -> ProducerRecord {
            panic!("the interceptor has a bug")
        }
    }

    /// An interceptor adding an `origin` header.
    struct Stamping;

    impl ProducerInterceptor for Stamping {
        fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
            record.with_header("origin", "shop")
        }
    }

    /// As Kafka's `ProducerInterceptors.onSend`: an interceptor that panics
    /// is skipped, the record goes on as the interceptor before it left it,
    /// and the send, its listener and the interceptors after it go on.
    #[tokio::test]
    async fn an_interceptor_that_panics_in_on_send_does_not_stop_the_send() {
        let mock = MockProducer::new(1);
        let heard = Arc::new(Heard::default());
        let template = KafkaTemplate::mock_builder(mock.clone())
            .interceptor(Stamping)
            .interceptor(PanickingInterceptor)
            .listener(CountingListener(heard.clone()))
            .build()
            .unwrap();
        let sent = template
            .send(ProducerRecord::new("orders", "v"))
            .await
            .expect("sent despite the interceptor's panic");
        assert!(
            sent.producer_record
                .headers
                .iter()
                .any(|h| h.key == "origin"),
            "{:?}",
            sent.producer_record
        );
        assert_eq!(mock.history().len(), 1);
        assert_eq!(heard.ok.load(Ordering::SeqCst), 1);
    }

    struct NoopInterceptor;

    impl ProducerInterceptor for NoopInterceptor {
        fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
            record
        }
    }

    type Outcomes = Arc<Mutex<Vec<Result<SendResult, SendError>>>>;

    fn collecting(outcomes: &Outcomes) -> impl FnOnce(Result<SendResult, SendError>) + use<> {
        let outcomes = outcomes.clone();
        move |result| outcomes.lock().unwrap().push(result)
    }

    /// A template over `mock` whose listener counts what it hears.
    fn counting_template(mock: &MockProducer) -> (KafkaTemplate, Arc<Heard>) {
        let heard = Arc::new(Heard::default());
        let template = KafkaTemplate::mock_builder(mock.clone())
            .listener(CountingListener(heard.clone()))
            .build()
            .unwrap();
        (template, heard)
    }

    #[tokio::test]
    async fn the_callback_gets_the_record_as_sent_and_its_metadata_after_the_listener() {
        let mock = MockProducer::new(3);
        let (template, heard) = counting_template(&mock);
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

    /// A listener whose every call panics.
    struct PanickingListener;

    impl ProducerListener for PanickingListener {
        fn on_success(&self, _: &LazyRecord, _: &RecordMetadata) {
            panic!("the listener's bug");
        }

        fn on_error(&self, _: Option<&ProducerRecord>, _: &KafkaError) {
            panic!("the listener's bug");
        }
    }

    #[tokio::test]
    async fn a_panicking_listener_does_not_turn_a_delivered_record_into_a_failed_one() {
        let mock = MockProducer::new(3);
        let template = KafkaTemplate::mock_builder(mock.clone())
            .listener(PanickingListener)
            .build()
            .unwrap();
        let event = OrderPlaced { id: "o-1".into() };
        let sent = template.send(&event).await.expect("delivered");
        assert_eq!(sent.producer_record.topic, "orders");
        let outcomes = Outcomes::default();
        template
            .enqueue_with_callback(&event, collecting(&outcomes))
            .await
            .unwrap();
        assert!(
            outcomes.lock().unwrap()[0].is_ok(),
            "the callback ran, with success"
        );
        assert_eq!(mock.history().len(), 2);
    }

    /// A template on `mock` with a failure journal in `dir` and a listener
    /// counting into the returned `Heard`.
    pub(crate) fn journaled_template(
        mock: &MockProducer,
        dir: &std::path::Path,
    ) -> (KafkaTemplate, crate::FailureJournal, Arc<Heard>) {
        let journal = crate::FailureJournal::open(dir.join("failed.journal")).unwrap();
        let heard = Arc::new(Heard::default());
        let template = KafkaTemplate::mock_builder(mock.clone())
            .listener(CountingListener(heard.clone()))
            .failure_journal(journal.clone())
            .build()
            .unwrap();
        (template, journal, heard)
    }

    #[tokio::test]
    async fn flush_returns_once_failed_records_are_journaled_and_their_callers_told() {
        let dir = tempfile::tempdir().unwrap();
        let mock = MockProducer::new(1);
        let (template, journal, heard) = journaled_template(&mock, dir.path());
        let outcomes = Outcomes::default();
        for id in ["o-1", "o-2", "o-3"] {
            mock.fail_next(KafkaError::Internal("broker said no".into()));
            template
                .enqueue_with_callback(&OrderPlaced { id: id.into() }, collecting(&outcomes))
                .await
                .unwrap();
        }
        template.flush().await;
        assert_eq!(journal.entries().unwrap().count(), 3);
        assert_eq!(heard.failed.load(Ordering::SeqCst), 3);
        assert_eq!(outcomes.lock().unwrap().len(), 3, "every callback ran");
    }

    #[tokio::test]
    async fn a_flush_waits_for_journal_writes_under_way_not_for_later_ones() {
        let count = Arc::new(InProgressCount::default());
        let before = count.start();
        let flushing = tokio::spawn({
            let count = count.clone();
            async move { count.started_done().await }
        });
        // Once the flush has begun, failures keep coming (a broker down).
        while count.epoch.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let after = count.start();
        drop(before);
        tokio::time::timeout(std::time::Duration::from_secs(30), flushing)
            .await
            .expect("the flush waited for a write that started after it")
            .unwrap();
        // The next flush waits for that one.
        let next = tokio::spawn({
            let count = count.clone();
            async move { count.started_done().await }
        });
        tokio::task::yield_now().await;
        assert!(!next.is_finished());
        drop(after);
        next.await.unwrap();
    }

    #[test]
    fn without_a_runtime_a_failed_record_is_journaled_before_the_listener_hears() {
        let dir = tempfile::tempdir().unwrap();
        let mock = MockProducer::new(1);
        let (template, journal, heard) = journaled_template(&mock, dir.path());
        mock.fail_next(KafkaError::Internal("broker said no".into()));
        let outcomes = Outcomes::default();
        // A plain call, outside any runtime.
        assert!(
            template
                .try_enqueue_with_callback(&OrderPlaced { id: "o-1".into() }, collecting(&outcomes))
                .is_ok()
        );
        assert_eq!(journal.entries().unwrap().count(), 1);
        assert_eq!(heard.failed.load(Ordering::SeqCst), 1);
        assert_eq!(outcomes.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_cut_short_journal_write_still_tells_its_failure() {
        let heard = Arc::new(Heard::default());
        let observers = Arc::new(Observers::new(
            Some(Arc::new(CountingListener(heard.clone()))),
            Box::new([]),
            None,
        ));
        let outcome = Arc::new(std::sync::Mutex::new(None));
        let seen = outcome.clone();
        let reply = move |result: Result<SendResult, SendError>| {
            *seen.lock().unwrap() = Some(result.map(drop).map_err(|e| e.error().kind_name()));
        };
        let error = SendError::without_record(KafkaError::Internal("NOT_ENOUGH_REPLICAS".into()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let guard = ReplyOnDrop {
                observers: observers.clone(),
                pending: Some((reply, error)),
            };
            // The write's task, cut short as the runtime goes away.
            tokio::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            tokio::task::yield_now().await;
        });
        assert!(outcome.lock().unwrap().is_none(), "not before the cut");
        drop(runtime);
        assert_eq!(*outcome.lock().unwrap(), Some(Err("internal")));
        assert_eq!(heard.failed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_failure_journal_replays_through_the_template_once_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mock = MockProducer::new(1);
        let (template, journal, heard) = journaled_template(&mock, dir.path());
        assert!(template.failure_journal().is_some());
        for id in ["o-1", "o-2"] {
            mock.fail_next(KafkaError::Internal("broker said no".into()));
            template
                .send(&OrderPlaced { id: id.into() })
                .await
                .unwrap_err();
        }
        template.flush().await;
        assert_eq!(journal.len(), 2);

        // Still failing: each entry stays, once, with its first error.
        mock.fail_all(Some(KafkaError::Internal("still down".into())));
        let report = template.replay_failure_journal().await.unwrap();
        assert_eq!(
            (report.attempted, report.failed, report.remaining),
            (2, 2, 2)
        );
        template.flush().await;
        let left: Vec<_> = journal.entries().unwrap().map(Result::unwrap).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(
            left.iter().all(|e| e.error.contains("broker said no")),
            "{left:?}"
        );
        assert_eq!(
            heard.failed.load(Ordering::SeqCst),
            2,
            "replays are not heard"
        );

        // The broker is back: every entry lands, in journal order.
        mock.fail_all(None);
        let report = template.replay_failure_journal().await.unwrap();
        assert_eq!((report.sent, report.remaining), (2, 0));
        assert!(journal.is_empty());
        let keys: Vec<_> = mock.history().iter().filter_map(|r| r.key_str()).collect();
        assert_eq!(keys, ["o-1", "o-2"]);

        // Without a journal, nothing to do.
        let plain = KafkaTemplate::with_mock(MockProducer::new(1));
        assert!(plain.failure_journal().is_none());
        assert_eq!(plain.replay_failure_journal().await.unwrap().attempted, 0);
    }

    /// A value whose JSON serialization fails.
    struct Unserializable;

    impl serde::Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("this value cannot be written"))
        }
    }

    #[derive(serde::Serialize, kafka_derive::KafkaRecord)]
    #[kafka(topic = "orders", format = "json")]
    struct BrokenOrder {
        #[kafka(key)]
        id: String,
        detail: Unserializable,
    }

    #[tokio::test]
    async fn a_record_that_cannot_be_serialized_is_refused_and_the_listener_hears() {
        let mock = MockProducer::new(1);
        let (template, heard) = counting_template(&mock);
        let event = BrokenOrder {
            id: "o-1".into(),
            detail: Unserializable,
        };
        let outcomes = Outcomes::default();
        let error = template
            .enqueue_with_callback(&event, collecting(&outcomes))
            .await
            .unwrap_err();
        match error.error() {
            KafkaError::Serialization { topic, message } => {
                assert_eq!(topic, "orders");
                assert!(
                    message.contains("this value cannot be written"),
                    "{message}"
                );
            }
            other => panic!("expected a serialization error, got {other:?}"),
        }
        told_once(&outcomes, &error);
        assert_eq!(heard.failed.load(Ordering::SeqCst), 1);
        assert!(mock.history().is_empty());
        // The template still sends what it can serialize.
        template
            .send(&OrderPlaced { id: "o-2".into() })
            .await
            .unwrap();
        assert_eq!(mock.history().len(), 1);
    }

    #[tokio::test]
    async fn try_enqueue_buffers_at_once_and_the_callback_and_listener_hear() {
        let mock = MockProducer::new(3);
        let (template, heard) = counting_template(&mock);
        let outcomes = Outcomes::default();
        let event = OrderPlaced { id: "o-1".into() };
        assert!(
            template
                .try_enqueue_with_callback(&event, collecting(&outcomes))
                .is_ok(),
            "a mock takes the record at once"
        );
        let outcomes = outcomes.lock().unwrap();
        let sent = outcomes[0].as_ref().unwrap();
        assert_eq!(sent.producer_record.key.as_deref(), Some(&b"o-1"[..]));
        assert_eq!(sent.record_metadata.topic, "orders");
        assert_eq!(heard.ok.load(Ordering::SeqCst), 1);
        assert_eq!(mock.history().len(), 1);
    }

    #[tokio::test]
    async fn the_mock_refuses_a_partition_its_topics_do_not_have() {
        let mock = MockProducer::new(3);
        let template = KafkaTemplate::with_mock(mock.clone());
        let sent = template
            .send(ProducerRecord::new("orders", "v").with_partition(2))
            .await
            .expect("partition 2 of 3");
        assert_eq!(sent.record_metadata.partition, 2);
        let error = template
            .send(ProducerRecord::new("orders", "v").with_partition(3))
            .await
            .expect_err("there is no partition 3");
        assert!(
            matches!(error.error(), KafkaError::InvalidPartition(_)),
            "{error}"
        );
        assert_eq!(mock.history().len(), 1);
    }

    /// Counts the failures interceptors hear.
    struct FailuresHeard(Arc<AtomicUsize>);

    impl ProducerInterceptor for FailuresHeard {
        fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
            record
        }

        fn on_acknowledgement(&self, result: Result<&RecordMetadata, &KafkaError>) {
            if result.is_err() {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[tokio::test]
    async fn interceptors_hear_of_sends_refused_before_the_producer_as_javas_on_send_error() {
        let failures = Arc::new(AtomicUsize::new(0));
        let template = KafkaTemplate::mock_builder(MockProducer::new(1))
            .interceptor(FailuresHeard(failures.clone()))
            .build()
            .unwrap();
        let event = BrokenOrder {
            id: "o-1".into(),
            detail: Unserializable,
        };
        assert!(template.send(&event).await.is_err());
        assert_eq!(failures.load(Ordering::SeqCst), 1);
    }

    /// The callback heard the error its send returned, once: every callback
    /// runs, a record refused before it was buffered included.
    fn told_once(outcomes: &Outcomes, error: &SendError) {
        let outcomes = outcomes.lock().unwrap();
        let [Err(told)] = &outcomes[..] else {
            panic!("the callback must hear the refusal once: {outcomes:?}");
        };
        assert_eq!(told.to_string(), error.to_string());
    }

    #[tokio::test]
    async fn try_enqueue_of_a_record_that_cannot_be_serialized_resolves_to_the_error() {
        let mock = MockProducer::new(1);
        let (template, heard) = counting_template(&mock);
        let outcomes = Outcomes::default();
        let event = BrokenOrder {
            id: "o-1".into(),
            detail: Unserializable,
        };
        let pending = template
            .try_enqueue_with_callback(&event, collecting(&outcomes))
            .expect_err("a record that cannot be built is not buffered");
        assert_eq!(format!("{pending:?}"), "PendingEnqueue");
        let error = pending.await.unwrap_err();
        assert!(
            matches!(error.error(), KafkaError::Serialization { topic, .. } if topic == "orders"),
            "{error}"
        );
        told_once(&outcomes, &error);
        assert_eq!(heard.failed.load(Ordering::SeqCst), 1);
        assert!(mock.history().is_empty());
    }

    #[tokio::test]
    async fn a_failed_record_comes_back_through_the_callback_and_the_listener_hears() {
        let mock = MockProducer::new(1);
        mock.fail_next(KafkaError::Internal("broker said no".into()));
        let (template, heard) = counting_template(&mock);
        let outcomes = Outcomes::default();
        template
            .enqueue_with_callback(
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
