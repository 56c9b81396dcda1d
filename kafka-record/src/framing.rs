//! Value formats, the frames around an encoded value, and the seam where a
//! schema registry supplies the id the Confluent frame needs.

use std::collections::HashMap;
use std::fmt;

use super::avro::AvroSchema;

/// How a record's value is encoded, chosen per struct with
/// `#[kafka(format = "avro" | "json")]` (JSON when not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueFormat {
    /// `serde_json`.
    Json,
    /// Avro binary, written by the derived encoder.
    Avro,
}

/// What goes around the encoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueFraming {
    /// The bare datum (Avro) or document (JSON).
    Raw,
    /// Avro single-object encoding: `C3 01`, the schema's CRC-64-AVRO fingerprint
    /// (8 bytes, little-endian), then the datum. Avro only.
    SingleObject,
    /// The Confluent wire format: `00`, the registry's schema id (4 bytes,
    /// big-endian), then the datum. The id comes from a [`SchemaIdResolver`].
    Confluent {
        /// The id the schema registry assigned to the record's schema.
        schema_id: u32,
    },
}

impl ValueFraming {
    /// The framing's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            ValueFraming::Raw => "raw",
            ValueFraming::SingleObject => "Avro single-object",
            ValueFraming::Confluent { .. } => "Confluent",
        }
    }
}

/// The two marker bytes that start an Avro single-object encoded value.
pub const SINGLE_OBJECT_MARKER: [u8; 2] = [0xC3, 0x01];

/// The magic byte that starts a Confluent-framed value.
pub const CONFLUENT_MAGIC: u8 = 0x00;

/// Appends the single-object header: marker, then the fingerprint little-endian.
pub fn write_single_object_header(schema: &AvroSchema, out: &mut Vec<u8>) {
    out.extend_from_slice(&SINGLE_OBJECT_MARKER);
    out.extend_from_slice(&schema.fingerprint_le_bytes());
}

/// Appends the Confluent header: magic byte, then the schema id big-endian.
pub fn write_confluent_header(schema_id: u32, out: &mut Vec<u8>) {
    out.push(CONFLUENT_MAGIC);
    out.extend_from_slice(&schema_id.to_be_bytes());
}

/// The subject a record's value schema is registered under with the registry's
/// default `TopicNameStrategy`: `<topic>-value`.
pub fn topic_value_subject(topic: &str) -> String {
    format!("{topic}-value")
}

/// Maps a record's schema to the id a schema registry knows it by, for
/// [`ValueFraming::Confluent`]. The template asks once per record type and
/// topic and keeps the id: when it is built for the types registered with it,
/// else at a type's first send (concurrent first sends of a type wait for one
/// call; a failed call is not kept, the next send asks again). Implementations
/// may be slow (a registry round trip, on the calling thread) but are not
/// called per record.
pub trait SchemaIdResolver: Send + Sync {
    /// The id of `schema` under `subject` (see [`topic_value_subject`]).
    fn schema_id(&self, subject: &str, schema: &AvroSchema) -> Result<u32, SchemaIdError>;
}

/// A resolver could not give an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no schema id for subject `{subject}` (schema fingerprint {fingerprint:#018x}): {reason}")]
pub struct SchemaIdError {
    /// The subject asked for.
    pub subject: String,
    /// The schema's CRC-64-AVRO fingerprint.
    pub fingerprint: u64,
    /// Why there is no id (for example the registry's answer).
    pub reason: String,
}

/// Schema ids known in advance (for example registered by a deployment step),
/// looked up by the schema's fingerprint, whatever the subject.
///
/// ```
/// use kafka_record::{SchemaIdResolver, StaticSchemaIds};
/// # use kafka_record::avro::AvroSchema;
/// # fn demo(schema: &AvroSchema) {
/// let ids = StaticSchemaIds::new().with(schema.fingerprint(), 42);
/// assert_eq!(ids.schema_id("orders-value", schema), Ok(42));
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticSchemaIds {
    by_fingerprint: HashMap<u64, u32>,
}

impl StaticSchemaIds {
    /// No ids.
    pub fn new() -> Self {
        StaticSchemaIds::default()
    }

    /// Adds the id of the schema with this fingerprint.
    #[must_use]
    pub fn with(mut self, fingerprint: u64, schema_id: u32) -> Self {
        self.by_fingerprint.insert(fingerprint, schema_id);
        self
    }
}

impl SchemaIdResolver for StaticSchemaIds {
    fn schema_id(&self, subject: &str, schema: &AvroSchema) -> Result<u32, SchemaIdError> {
        self.by_fingerprint
            .get(&schema.fingerprint())
            .copied()
            .ok_or_else(|| SchemaIdError {
                subject: subject.to_owned(),
                fingerprint: schema.fingerprint(),
                reason: "the schema is not among the statically configured ids".to_owned(),
            })
    }
}

impl fmt::Display for ValueFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueFormat::Json => "json",
            ValueFormat::Avro => "avro",
        })
    }
}
