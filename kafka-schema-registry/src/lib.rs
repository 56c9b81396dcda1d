//! A client for the Confluent Schema Registry REST API, configured with the
//! keys Confluent's serializers read (`schema.registry.url`,
//! `basic.auth.credentials.source`, `basic.auth.user.info`,
//! `bearer.auth.token` or an OAuth token (`bearer.auth.credentials.source=OAUTHBEARER`),
//! `schema.registry.ssl.*`, `auto.register.schemas`,
//! `use.latest.version`, `*.subject.name.strategy`), with the serializers'
//! cache (one request per subject and schema) and an in-process registry for
//! `mock://scope` URLs, as Confluent's serializers offer for unit tests.
//!
//! It works with Confluent Schema Registry, Karapace, and Apicurio Registry's
//! Confluent-compatible API (`http://host:port/apis/ccompat/v7`).
//!
//! Blocking by design: a serializer asks once per record type and topic, when
//! the template is built or at the type's first send, never per record.

#![warn(missing_docs, missing_debug_implementations)]

mod client;
mod config;
mod error;
mod mock;
mod oauth;
mod tls;

pub use client::{RegisteredSchema, Schema, SchemaRegistryClient, SchemaType};
pub use config::{
    Auth, KEYS, OAuthClientCredentials, RegistryConfig, RegistryConfigError, Secret, StoreType,
    SubjectNameStrategy, TlsMaterial, is_registry_key, redact_url, redact_urls,
};
pub use error::RegistryError;
pub use mock::MockRegistry;
