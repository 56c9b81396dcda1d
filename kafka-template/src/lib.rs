//! `kafka-template`: a Spring-Kafka-like `KafkaTemplate` over `kafka-core`, configured
//! Spring Boot style from `application.yml`, `application-{profile}.yml` and the
//! environment.
//!
//! ```no_run
//! use kafka_template::{KafkaRecord, KafkaTemplate};
//! use serde::Serialize;
//!
//! #[derive(Serialize, KafkaRecord)]
//! #[kafka(topic = "${app.topics.greetings:greetings}")]
//! struct Greeting {
//!     #[kafka(key)]
//!     user: String,
//!     text: String,
//! }
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let kafka = KafkaTemplate::from_config()?; // application.yml + profiles + env
//! let sent = kafka.send(&Greeting { user: "ada".into(), text: "hi".into() }).await?;
//! println!("{}@{:?}", sent.record_metadata.partition, sent.record_metadata.offset);
//! # Ok(())
//! # }
//! ```
//!
//! # Transactions
//!
//! With `spring.kafka.producer.transaction-id-prefix`,
//! [`KafkaTemplate::execute_in_transaction`] commits what its closure sends
//! through the [`Transaction`] when it returns `Ok`, and aborts on `Err` or
//! panic; see [`transaction`] for the producer pool, Spring's
//! `allow-non-transactional` rule, and what the listener, interceptors and
//! failure journal do with a transaction's records.
//!
//! # Keys of your own types
//!
//! A key field whose type wraps a native key type (`struct PaymentId(String)`)
//! derives [`KafkaBytes`](derive@KafkaBytes): it is written as its field, as
//! Java's serializer for that field's type writes it.
//!
//! # Spring's serializer lines
//!
//! `key-serializer` and `value-serializer` (under `spring.kafka.producer`,
//! `kafka.producer`, a named producer, or as `properties.key.serializer`) may
//! name a Java class that writes what the record types write; the types decide
//! the bytes. When the configuration loads, each must be a class whose bytes
//! are known (see [`JavaSerializer`](record::JavaSerializer);
//! schema-registry serializers are refused as not supported yet). When the
//! template meets a record type (at [`register`](KafkaTemplateBuilder::register),
//! else at its first send) a line that disagrees with the type's key or value
//! is a [`SerializerMismatch`] naming the type, the key field(s), the key as
//! written and its file:line:
//!
//! | record type | accepted `key-serializer` |
//! |---|---|
//! | `String` key (or `key_format = "string"`) | `StringSerializer`, Spring's `ToStringSerializer`, `StringOrBytesSerializer` |
//! | `i16` / `i32` / `i64` / `f32` / `f64` / `bool` key | `Short`/`Integer`/`Long`/`Float`/`Double`/`BooleanSerializer` |
//! | `Uuid` key | `UUIDSerializer`, `StringSerializer`, `ToStringSerializer` |
//! | `Vec<u8>` / `[u8; N]` / `Bytes` key | `ByteArraySerializer`, `BytesSerializer`, `ByteBufferSerializer`, `StringOrBytesSerializer` |
//! | `key_format = "json"` | Spring's `JsonSerializer` / `JacksonJsonSerializer`, `StringSerializer` |
//! | keyless | any |
//!
//! | record type | accepted `value-serializer` |
//! |---|---|
//! | JSON | Spring's `JsonSerializer` / `JacksonJsonSerializer`, `StringSerializer` |
//! | Avro | `ByteArraySerializer`, `BytesSerializer`, `ByteBufferSerializer` (values the derive encodes) |
//!
//! # Tracing
//!
//! Two template keys, for the default template (`kafka.template.*` or
//! `spring.kafka.template.*`) and each named one
//! (`kafka.producers.<name>.template.*`, inheriting `kafka.template`'s):
//!
//! - `observation-enabled` (default `false`, Spring's key): a span per send,
//!   as Spring's observation, following OpenTelemetry's messaging
//!   conventions ([`observation::SEMCONV_VERSION`]): named `send <topic>`,
//!   kind producer, with `messaging.system`, `messaging.operation.type` and
//!   `.name` (`send`), `messaging.destination.name`,
//!   `messaging.destination.partition.id`, `messaging.kafka.offset` (on the
//!   acknowledgement), `messaging.kafka.message.key` (text keys only),
//!   `messaging.kafka.message.tombstone`, `messaging.client.id`, and on
//!   failure `error.type` and an error status. Its parent is the caller's
//!   current span; it ends when the record's outcome is known, for `send`,
//!   `enqueue`, `enqueue_with_callback` and `try_enqueue_with_callback` alike
//!   (and inside transactions).
//!   It is an OpenTelemetry span from the global tracer provider (or the one
//!   given to [`KafkaTemplateBuilder::tracer_provider`]), whose sampler
//!   decides at the start of each send: a span it drops costs its ids only.
//!   (Without the `opentelemetry` cargo feature it is a [`tracing`] span at
//!   `INFO` with target [`observation::SEND_SPAN_TARGET`].) Each send is also
//!   timed as Micrometer times Spring's `spring.kafka.template` observation:
//!   the histogram [`observation::SEND_TIMER`] in the `metrics` facade, with
//!   Spring's tags and `error` (the Java client's exception name).
//! - `micrometer-enabled` (default `true`, Spring's `KafkaTemplate` property
//!   of that name): without observation, each send is timed in the same
//!   histogram as Spring's template times it by default, tagged `name`,
//!   `result` and `exception`; `false` turns it off.
//! - `trace-propagation-enabled` (default `true`; the `opentelemetry` cargo
//!   feature, on by default): the W3C trace context of the send span
//!   (sampled or not, so that consumers follow the producer's decision), or
//!   without observation of the caller's current span, is written into the
//!   record's headers as `traceparent` (and `tracestate` when there is one),
//!   so a consumer in any language continues the trace. No header is written
//!   without a valid span context (no tracer provider, no caller's span);
//!   a `traceparent` the record already has (a forwarded record's upstream
//!   one) is replaced, as OpenTelemetry's Java instrumentation does
//!   (`tracestate` too when the context has one).
//!
//! Set the global tracer provider before building the template, and add
//! `tracing-opentelemetry`'s layer so the caller's `tracing` spans are the
//! send spans' parents; use the versions this crate is built with
//! (`tracing-opentelemetry` 0.34, `opentelemetry` / `opentelemetry_sdk` 0.33),
//! or the caller's context is not found. At high rates, sample: a recorded
//! span costs a few microseconds and lives until the acknowledgement.
//!
//! ```no_run
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! // Any span exporter: OTLP (opentelemetry-otlp), stdout, Zipkin...
//! let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder()
//!     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.01))))
//!     .with_batch_exporter(exporter)
//!     .build();
//! opentelemetry::global::set_tracer_provider(provider.clone());
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("order-service")));
//! tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
//! // Then build the template.
//! ```
//!
//! # The core producer
//!
//! [`core`] is kafka-core: its producer needs no other dependency.
//!
//! ```no_run
//! use kafka_template::core::{KafkaProducer, ProducerConfig, ProducerRecord};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let producer = KafkaProducer::new(ProducerConfig::builder().bootstrap_servers("localhost:9092").build()?)?;
//! let metadata = producer.send(ProducerRecord::new("orders", "hello").with_key("k1")).await?.await?;
//! println!("{}@{:?}", metadata.partition, metadata.offset);
//! producer.close(std::time::Duration::from_secs(30)).await;
//! # Ok(())
//! # }
//! ```
//!
//! See `ARCHITECTURE.md` for how the pieces fit.

#![warn(missing_docs, missing_debug_implementations)]

pub mod config;
mod dev_services;
pub mod interceptor;
pub mod journal;
pub mod listener;
pub mod mock;
pub mod observation;
mod outgoing;
mod record_type;
mod registry;
mod template;
pub mod transaction;

/// The producer this template runs on, re-exported so users need only this crate.
pub use kafka_core as core;
/// The record type [`KafkaTemplate::send`] takes besides derived records.
pub use kafka_core::ProducerRecord;
/// The runtime of `#[derive(KafkaRecord)]` (record trait, key encodings, Avro,
/// JSON, framings), re-exported so the code the derive generates finds it
/// through this crate.
pub use kafka_record as record;

pub use config::{
    ConfigIssue, ConfigLoadError, KafkaConfig, KafkaConfigBuilder, Origin, ResolvedProperty,
    TemplateSettings,
};
pub use interceptor::ProducerInterceptor;
pub use journal::FailureJournal;
pub use kafka_derive::{AvroType, KafkaBytes, KafkaRecord};
pub use kafka_record::avro::AvroType;
pub use kafka_record::{KafkaBytes, KafkaRecord};
pub use kafka_schema_registry as schema_registry;
pub use listener::{LoggingProducerListener, ProducerListener};
pub use mock::{MockProducer, SentRecord};
pub use record_type::{RecordTypeError, SerializedPart, SerializerMismatch};
pub use registry::{
    KAFKA_AVRO_SERIALIZER, KAFKA_JSON_SCHEMA_SERIALIZER, RegistrySchemaIds, RegistrySetupError,
};
pub use template::{
    AvroFraming, IntoProducerRecord, KafkaTemplate, KafkaTemplateBuilder, PendingEnqueue,
    PendingSend, SendResult, TemplateError,
};
pub use transaction::{Transaction, TransactionFailure};
