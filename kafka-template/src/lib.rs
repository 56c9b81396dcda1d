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
//! println!("{}@{}", sent.record_metadata.partition, sent.record_metadata.offset);
//! # Ok(())
//! # }
//! ```
//!
//! See `ARCHITECTURE.md` for how the pieces fit.

#![warn(missing_docs)]

pub mod config;
pub mod interceptor;
pub mod journal;
pub mod listener;
pub mod mock;
mod record_type;
mod template;

/// The producer this template runs on, re-exported so users (and the code
/// `#[derive(KafkaRecord)]` generates) need only this crate.
pub use kafka_core as core;

pub use config::{
    ConfigIssue, ConfigLoadError, KafkaConfig, KafkaConfigBuilder, Origin, ResolvedProperty,
    TemplateSettings,
};
pub use interceptor::ProducerInterceptor;
pub use journal::FailureJournal;
pub use kafka_core::kafka_record::avro::AvroType;
pub use kafka_core::kafka_record::{KafkaBytes, KafkaRecord};
pub use kafka_derive::{AvroType, KafkaBytes, KafkaRecord};
pub use listener::{LoggingProducerListener, ProducerListener};
pub use mock::{MockProducer, SentRecord};
pub use record_type::{RecordTypeError, SerializedPart, SerializerMismatch};
pub use template::{
    AvroFraming, KafkaTemplate, KafkaTemplateBuilder, PendingSend, SendResult, TemplateError,
};
