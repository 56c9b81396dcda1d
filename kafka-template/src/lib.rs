//! `KafkaTemplate`: Spring-style configuration and send API over `kafka-core`.

pub mod config;
pub mod journal;

pub use config::{
    ConfigIssue, ConfigLoadError, KafkaConfig, KafkaConfigBuilder, Origin, ResolvedProperty,
    TemplateSettings,
};
