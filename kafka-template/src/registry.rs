//! Registry Avro: Confluent's `KafkaAvroSerializer` lines switch record types
//! to the Confluent wire format (`00`, the schema id, the Avro datum) with ids
//! from a schema registry (`schema.registry.url` under `properties`), keys and
//! values, with Confluent's subject name strategies.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_record::avro::AvroSchema;
use kafka_record::{KeyEncoding, SchemaIdError, SchemaIdResolver};
use kafka_schema_registry::{
    RegistryConfig, RegistryConfigError, RegistryError, Schema, SchemaRegistryClient,
    SubjectNameStrategy,
};

/// Confluent's Avro serializer: a `key-serializer` / `value-serializer` line
/// naming it makes the template frame that part for the registry.
pub const KAFKA_AVRO_SERIALIZER: &str = "io.confluent.kafka.serializers.KafkaAvroSerializer";

/// Whether a serializer line names Confluent's Avro serializer.
pub(crate) fn is_kafka_avro_serializer(class: &str) -> bool {
    class.trim() == KAFKA_AVRO_SERIALIZER
}

/// Schema ids from a schema registry, for
/// [`AvroFraming::Confluent`](crate::AvroFraming::Confluent): each schema is
/// registered (`auto.register.schemas`, default) or looked up once per
/// subject, concurrent first sends sharing the request.
///
/// A configuration whose serializer lines name
/// `io.confluent.kafka.serializers.KafkaAvroSerializer` makes one from its
/// `schema.registry.url` and the other registry keys; make one yourself to use
/// the registry with a template built in code:
///
/// ```
/// use std::sync::Arc;
/// use kafka_template::{AvroFraming, RegistrySchemaIds, KafkaTemplate, MockProducer};
///
/// let ids = RegistrySchemaIds::from_properties([("schema.registry.url", "mock://doc")]).unwrap();
/// let template = KafkaTemplate::mock_builder(MockProducer::new(1))
///     .avro_framing(AvroFraming::Confluent(Arc::new(ids)));
/// ```
#[derive(Debug, Clone)]
pub struct RegistrySchemaIds {
    client: Arc<SchemaRegistryClient>,
}

impl RegistrySchemaIds {
    /// Ids from this client.
    pub fn new(client: Arc<SchemaRegistryClient>) -> Self {
        RegistrySchemaIds { client }
    }

    /// A client from Confluent's serializer properties (`schema.registry.url`,
    /// `basic.auth.*`, `bearer.auth.*`, `schema.registry.ssl.*`,
    /// `auto.register.schemas`, `use.latest.version`, ...).
    pub fn from_properties<'a, I>(properties: I) -> Result<Self, RegistrySetupError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let config = RegistryConfig::from_properties(properties)?;
        Ok(Self::new(Arc::new(SchemaRegistryClient::new(config)?)))
    }

    /// The client (for its request count, compatibility checks, ...).
    pub fn client(&self) -> &Arc<SchemaRegistryClient> {
        &self.client
    }

    pub(crate) fn strategies(&self) -> (SubjectNameStrategy, SubjectNameStrategy) {
        let config = self.client.config();
        (config.key_subject_strategy, config.value_subject_strategy)
    }

    /// The id for a schema given as text (a key's primitive schema).
    pub(crate) fn id_of(&self, subject: &str, schema_json: &str) -> Result<u32, RegistryError> {
        self.client.id_for(subject, &Schema::avro(schema_json))
    }
}

impl SchemaIdResolver for RegistrySchemaIds {
    fn schema_id(&self, subject: &str, schema: &AvroSchema) -> Result<u32, SchemaIdError> {
        self.client
            .id_for(subject, &Schema::avro(schema.json()))
            .map_err(|error| SchemaIdError {
                subject: subject.to_owned(),
                fingerprint: schema.fingerprint(),
                reason: error.to_string(),
            })
    }
}

/// A registry that cannot be set up from the configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrySetupError {
    /// A registry key's value is wrong.
    #[error(transparent)]
    Config(#[from] RegistryConfigError),
    /// The client cannot be made (TLS material).
    #[error(transparent)]
    Client(#[from] RegistryError),
}

/// The registry properties of a producer, with request timeouts bounded by
/// `max.block.ms` (a registry that is down fails the first send, or the
/// template's start for registered types, within it).
pub(crate) fn registry_config<'a>(
    properties: impl IntoIterator<Item = (&'a str, &'a str)>,
    max_block: Duration,
) -> Result<RegistryConfig, RegistryConfigError> {
    let mut config = RegistryConfig::from_properties(properties)?;
    config.connect_timeout = config.connect_timeout.min(max_block);
    config.read_timeout = config.read_timeout.min(max_block);
    Ok(config)
}

/// The record's full name in an Avro schema's JSON (its `name`, with its
/// `namespace` unless the name is already qualified), or the primitive type.
pub(crate) fn schema_full_name(schema_json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(schema_json) {
        Ok(serde_json::Value::String(primitive)) => primitive,
        Ok(serde_json::Value::Object(map)) => {
            let name = map.get("name").and_then(|n| n.as_str());
            let namespace = map.get("namespace").and_then(|n| n.as_str());
            match (name, namespace) {
                (Some(n), _) if n.contains('.') => n.to_owned(),
                (Some(n), Some(ns)) if !ns.is_empty() => format!("{ns}.{n}"),
                (Some(n), _) => n.to_owned(),
                (None, _) => map
                    .get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("record")
                    .to_owned(),
            }
        }
        _ => "record".to_owned(),
    }
}

/// How a key whose encoding is `encoding` is written by `KafkaAvroSerializer`:
/// the Avro primitive schema; `None` when it has none (JSON or custom bytes).
pub(crate) fn key_avro_schema(encoding: KeyEncoding) -> Option<&'static str> {
    Some(match encoding {
        KeyEncoding::Utf8 | KeyEncoding::UuidText => "\"string\"",
        KeyEncoding::Short | KeyEncoding::Integer => "\"int\"",
        KeyEncoding::Long => "\"long\"",
        KeyEncoding::Float => "\"float\"",
        KeyEncoding::Double => "\"double\"",
        KeyEncoding::Boolean => "\"boolean\"",
        KeyEncoding::ByteArray => "\"bytes\"",
        _ => return None,
    })
}

/// A key's Confluent frame: its schema id and how its bytes become Avro.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFrame {
    pub schema_id: u32,
    pub encoding: KeyEncoding,
}

fn put_zigzag(out: &mut BytesMut, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.put_u8((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

impl KeyFrame {
    /// The key as `KafkaAvroSerializer` writes it: `00`, the id, the Avro
    /// datum re-encoded from the Java serializer's bytes the record type wrote.
    /// `None` when the bytes do not have the encoding's length.
    pub(crate) fn frame(&self, key: &[u8]) -> Option<Bytes> {
        let mut out = BytesMut::with_capacity(key.len() + 10);
        out.put_u8(0);
        out.put_u32(self.schema_id);
        match self.encoding {
            KeyEncoding::Utf8 | KeyEncoding::UuidText | KeyEncoding::ByteArray => {
                put_zigzag(&mut out, key.len() as i64);
                out.put_slice(key);
            }
            KeyEncoding::Short => {
                put_zigzag(&mut out, i16::from_be_bytes(key.try_into().ok()?).into())
            }
            KeyEncoding::Integer => {
                put_zigzag(&mut out, i32::from_be_bytes(key.try_into().ok()?).into())
            }
            KeyEncoding::Long => put_zigzag(&mut out, i64::from_be_bytes(key.try_into().ok()?)),
            KeyEncoding::Float | KeyEncoding::Double => {
                if key.len() != 4 && key.len() != 8 {
                    return None;
                }
                out.extend(key.iter().rev()); // Avro: little-endian
            }
            KeyEncoding::Boolean => {
                if key.len() != 1 {
                    return None;
                }
                out.put_slice(key);
            }
            _ => return None,
        }
        Some(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_framed_as_kafka_avro_serializer_writes_them() {
        let frame = |encoding, key: &[u8]| {
            KeyFrame {
                schema_id: 7,
                encoding,
            }
            .frame(key)
            .unwrap()
            .to_vec()
        };
        // "ab": zigzag(2) = 4
        assert_eq!(
            frame(KeyEncoding::Utf8, b"ab"),
            [0, 0, 0, 0, 7, 4, b'a', b'b']
        );
        // -1 as long: zigzag 1
        assert_eq!(
            frame(KeyEncoding::Long, &(-1i64).to_be_bytes()),
            [0, 0, 0, 0, 7, 1]
        );
        // 150 as int: zigzag 300 = AC 02
        assert_eq!(
            frame(KeyEncoding::Integer, &150i32.to_be_bytes()),
            [0, 0, 0, 0, 7, 0xAC, 0x02]
        );
        assert_eq!(
            frame(KeyEncoding::Double, &1.5f64.to_be_bytes()),
            [&[0, 0, 0, 0, 7][..], &1.5f64.to_le_bytes()].concat()
        );
        assert!(
            KeyFrame {
                schema_id: 1,
                encoding: KeyEncoding::Long
            }
            .frame(b"x")
            .is_none()
        );
        assert_eq!(key_avro_schema(KeyEncoding::Json), None);
    }

    #[test]
    fn full_names_for_subject_strategies() {
        assert_eq!(
            schema_full_name(r#"{"type":"record","name":"Order","namespace":"com.shop"}"#),
            "com.shop.Order"
        );
        assert_eq!(
            schema_full_name(r#"{"type":"record","name":"a.B","namespace":"x"}"#),
            "a.B"
        );
        assert_eq!(schema_full_name("\"string\""), "string");
    }
}
