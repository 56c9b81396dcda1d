//! Registry Avro and JSON Schema: Confluent's `KafkaAvroSerializer` and
//! `KafkaJsonSchemaSerializer` lines switch record types to the Confluent wire
//! format (`00`, the schema id, the Avro datum or the JSON document) with ids
//! from a schema registry (`schema.registry.url` under `properties`), keys and
//! values, with Confluent's subject name strategies.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_record::avro::AvroSchema;
use kafka_record::{KeyEncoding, SchemaIdError, SchemaIdResolver, ValueFormat};
use kafka_schema_registry::{
    RegistryConfig, RegistryConfigError, RegistryError, Schema, SchemaRegistryClient,
    SubjectNameStrategy,
};

/// Confluent's Avro serializer: a `key-serializer` / `value-serializer` line
/// naming it makes the template frame that part for the registry.
pub const KAFKA_AVRO_SERIALIZER: &str = "io.confluent.kafka.serializers.KafkaAvroSerializer";

/// Confluent's JSON Schema serializer: a `key-serializer` / `value-serializer`
/// line naming it makes the template register the record's JSON Schema
/// (`#[kafka(json_schema)]`) and frame that part for the registry.
pub const KAFKA_JSON_SCHEMA_SERIALIZER: &str =
    "io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer";

/// What a schema-registry serializer line writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegistryFormat {
    /// `KafkaAvroSerializer`: Avro, schema type AVRO.
    Avro,
    /// `KafkaJsonSchemaSerializer`: JSON, schema type JSON.
    JsonSchema,
}

impl RegistryFormat {
    /// The Java class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            RegistryFormat::Avro => KAFKA_AVRO_SERIALIZER,
            RegistryFormat::JsonSchema => KAFKA_JSON_SCHEMA_SERIALIZER,
        }
    }

    /// The value format a record needs for it.
    pub(crate) fn value_format(self) -> ValueFormat {
        match self {
            RegistryFormat::Avro => ValueFormat::Avro,
            RegistryFormat::JsonSchema => ValueFormat::Json,
        }
    }

    /// A schema of this format.
    pub(crate) fn schema(self, text: &str) -> Schema {
        match self {
            RegistryFormat::Avro => Schema::avro(text),
            RegistryFormat::JsonSchema => Schema::json(text),
        }
    }
}

/// The schema-registry serializer a line names, when it is one this template
/// writes (Confluent's Avro or JSON Schema serializer).
pub(crate) fn registry_serializer(class: &str) -> Option<RegistryFormat> {
    match class.trim() {
        KAFKA_AVRO_SERIALIZER => Some(RegistryFormat::Avro),
        KAFKA_JSON_SCHEMA_SERIALIZER => Some(RegistryFormat::JsonSchema),
        _ => None,
    }
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

    /// The id for a schema given as text (a key's primitive schema, a JSON
    /// record's JSON Schema).
    pub(crate) fn id_of(
        &self,
        subject: &str,
        format: RegistryFormat,
        schema: &str,
    ) -> Result<u32, RegistryError> {
        self.client.id_for(subject, &format.schema(schema))
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

/// The registry properties of a producer, with each call (its retries and
/// failovers included) bounded by `max.block.ms` (a registry that is down
/// fails the first send, or the template's start for registered types,
/// within it).
pub(crate) fn registry_config<'a>(
    properties: impl IntoIterator<Item = (&'a str, &'a str)>,
    max_block: Duration,
) -> Result<RegistryConfig, RegistryConfigError> {
    let mut config = RegistryConfig::from_properties(properties)?;
    config.connect_timeout = config.connect_timeout.min(max_block);
    config.read_timeout = config.read_timeout.min(max_block);
    config.call_timeout = Some(config.call_timeout.map_or(max_block, |t| t.min(max_block)));
    Ok(config)
}

/// The record name the record name strategies use, as Confluent's
/// `ParsedSchema.name()` gives it: for Avro a record's full name (its
/// `name`, with its `namespace` unless the name is already qualified), and
/// nothing for any other schema (a primitive, an enum); for a JSON Schema
/// its `title`, if it has one.
pub(crate) fn schema_full_name(format: RegistryFormat, schema_json: &str) -> Option<String> {
    let parsed = serde_json::from_str::<serde_json::Value>(schema_json).ok()?;
    if format == RegistryFormat::JsonSchema {
        return parsed.get("title")?.as_str().map(str::to_owned);
    }
    let map = parsed.as_object()?;
    if map.get("type").and_then(|t| t.as_str()) != Some("record") {
        return None;
    }
    let name = map.get("name")?.as_str()?;
    let namespace = map.get("namespace").and_then(|n| n.as_str());
    Some(match namespace {
        Some(ns) if !ns.is_empty() && !name.contains('.') => format!("{ns}.{name}"),
        _ => name.to_owned(),
    })
}

/// How a key whose encoding is `encoding` is written by `KafkaAvroSerializer`:
/// the Avro primitive schema; `None` when it has none (JSON or custom bytes).
pub(crate) fn key_avro_schema(encoding: KeyEncoding) -> Option<&'static str> {
    // Java's `AvroSchemaUtils.getSchema` knows Boolean, Integer, Long, Float,
    // Double, CharSequence and byte[] (and records): a Short or a UUID key is
    // "Unsupported Avro type" there, so none here either.
    Some(match encoding {
        KeyEncoding::Utf8 => "\"string\"",
        KeyEncoding::Integer => "\"int\"",
        KeyEncoding::Long => "\"long\"",
        KeyEncoding::Float => "\"float\"",
        KeyEncoding::Double => "\"double\"",
        KeyEncoding::Boolean => "\"boolean\"",
        KeyEncoding::ByteArray => "\"bytes\"",
        _ => return None,
    })
}

/// How a key whose encoding is `encoding` is written by
/// `KafkaJsonSchemaSerializer`: the JSON Schema it generates for the Java type
/// (draft-07, titled with the class's simple name; registries recognise a JSON
/// Schema by its `$schema`); `None` when it has none (bytes, JSON or custom keys).
pub(crate) fn key_json_schema(encoding: KeyEncoding) -> Option<&'static str> {
    /// The schema of a Java class `title` whose JSON type is `json_type`.
    macro_rules! java_type {
        ($title:literal, $json_type:literal) => {
            concat!(
                r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":""#,
                $title,
                r#"","type":""#,
                $json_type,
                r#""}"#
            )
        };
    }
    Some(match encoding {
        KeyEncoding::Utf8 => java_type!("String", "string"),
        KeyEncoding::UuidText => java_type!("UUID", "string"),
        KeyEncoding::Short => java_type!("Short", "integer"),
        KeyEncoding::Integer => java_type!("Integer", "integer"),
        KeyEncoding::Long => java_type!("Long", "integer"),
        KeyEncoding::Float => java_type!("Float", "number"),
        KeyEncoding::Double => java_type!("Double", "number"),
        KeyEncoding::Boolean => java_type!("Boolean", "boolean"),
        _ => return None,
    })
}

/// A key's schema for a registry serializer line.
pub(crate) fn key_schema(format: RegistryFormat, encoding: KeyEncoding) -> Option<&'static str> {
    match format {
        RegistryFormat::Avro => key_avro_schema(encoding),
        RegistryFormat::JsonSchema => key_json_schema(encoding),
    }
}

/// A key's Confluent frame: its schema id and how its bytes become Avro or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFrame {
    pub schema_id: u32,
    pub encoding: KeyEncoding,
    pub format: RegistryFormat,
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
    /// The key as `KafkaAvroSerializer` or `KafkaJsonSchemaSerializer` writes
    /// it: `00`, the id, the Avro datum or JSON value re-encoded from the Java
    /// serializer's bytes the record type wrote. `None` when the bytes do not
    /// have the encoding's length (or, for JSON, are not UTF-8 or a finite number).
    pub(crate) fn frame(&self, key: &[u8]) -> Option<Bytes> {
        let mut out = BytesMut::with_capacity(key.len() + 10);
        out.put_u8(0);
        out.put_u32(self.schema_id);
        if self.format == RegistryFormat::JsonSchema {
            out.put_slice(json_key(self.encoding, key)?.as_bytes());
            return Some(out.freeze());
        }
        match self.encoding {
            KeyEncoding::Utf8 | KeyEncoding::ByteArray => {
                put_zigzag(&mut out, key.len() as i64);
                out.put_slice(key);
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

/// The JSON value Jackson writes for a key of this encoding, from the bytes
/// Java's built-in serializer writes.
fn json_key(encoding: KeyEncoding, key: &[u8]) -> Option<String> {
    let number = |n: f64| {
        n.is_finite()
            .then(|| serde_json::Value::from(n).to_string())
    };
    match encoding {
        KeyEncoding::Utf8 | KeyEncoding::UuidText => {
            serde_json::to_string(std::str::from_utf8(key).ok()?).ok()
        }
        KeyEncoding::Short => Some(i16::from_be_bytes(key.try_into().ok()?).to_string()),
        KeyEncoding::Integer => Some(i32::from_be_bytes(key.try_into().ok()?).to_string()),
        KeyEncoding::Long => Some(i64::from_be_bytes(key.try_into().ok()?).to_string()),
        KeyEncoding::Float => number(f32::from_be_bytes(key.try_into().ok()?).into()),
        KeyEncoding::Double => number(f64::from_be_bytes(key.try_into().ok()?)),
        KeyEncoding::Boolean => match key {
            [0] => Some("false".to_owned()),
            [1] => Some("true".to_owned()),
            _ => None,
        },
        _ => None,
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
                format: RegistryFormat::Avro,
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
                encoding: KeyEncoding::Long,
                format: RegistryFormat::Avro,
            }
            .frame(b"x")
            .is_none()
        );
        assert_eq!(key_avro_schema(KeyEncoding::Json), None);
        // Unsupported Avro types for Java's KafkaAvroSerializer.
        assert_eq!(key_avro_schema(KeyEncoding::Short), None);
        assert_eq!(key_avro_schema(KeyEncoding::UuidText), None);
    }

    #[test]
    fn keys_are_framed_as_kafka_json_schema_serializer_writes_them() {
        let frame = |encoding, key: &[u8]| {
            KeyFrame {
                schema_id: 9,
                encoding,
                format: RegistryFormat::JsonSchema,
            }
            .frame(key)
            .map(|b| b.to_vec())
        };
        assert_eq!(
            frame(KeyEncoding::Utf8, b"a\"b").unwrap(),
            [&[0, 0, 0, 0, 9][..], br#""a\"b""#].concat()
        );
        assert_eq!(
            frame(KeyEncoding::Long, &(-12i64).to_be_bytes()).unwrap(),
            [&[0, 0, 0, 0, 9][..], b"-12"].concat()
        );
        assert_eq!(
            frame(KeyEncoding::Double, &1.5f64.to_be_bytes()).unwrap(),
            [&[0, 0, 0, 0, 9][..], b"1.5"].concat()
        );
        assert_eq!(
            frame(KeyEncoding::Boolean, &[1]).unwrap(),
            [&[0, 0, 0, 0, 9][..], b"true"].concat()
        );
        assert_eq!(frame(KeyEncoding::Double, &f64::NAN.to_be_bytes()), None);
        assert_eq!(frame(KeyEncoding::Utf8, &[0xff]), None);
        assert_eq!(frame(KeyEncoding::Integer, b"xyz"), None);
        assert_eq!(key_json_schema(KeyEncoding::ByteArray), None);
        // Byte for byte what KafkaJsonSchemaSerializer registers for a Long key.
        assert_eq!(
            key_json_schema(KeyEncoding::Long),
            Some(
                r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"Long","type":"integer"}"#
            )
        );
        let schema: serde_json::Value = serde_json::from_str(
            key_schema(RegistryFormat::JsonSchema, KeyEncoding::Integer).unwrap(),
        )
        .unwrap();
        assert_eq!(schema["type"], "integer");
        assert_eq!(
            schema_full_name(RegistryFormat::JsonSchema, &schema.to_string()).as_deref(),
            Some("Integer")
        );
    }

    #[test]
    fn serializer_lines_name_the_registry_format() {
        assert_eq!(
            registry_serializer(" io.confluent.kafka.serializers.KafkaAvroSerializer"),
            Some(RegistryFormat::Avro)
        );
        assert_eq!(
            registry_serializer("io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer"),
            Some(RegistryFormat::JsonSchema)
        );
        assert_eq!(
            registry_serializer("io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer"),
            None
        );
    }

    #[test]
    fn full_names_for_subject_strategies() {
        let avro = |s| schema_full_name(RegistryFormat::Avro, s);
        assert_eq!(
            avro(r#"{"type":"record","name":"Order","namespace":"com.shop"}"#).as_deref(),
            Some("com.shop.Order")
        );
        assert_eq!(
            avro(r#"{"type":"record","name":"a.B","namespace":"x"}"#).as_deref(),
            Some("a.B")
        );
        // Only a record has a name for the strategies (AvroSchema.name()).
        assert_eq!(avro("\"string\""), None);
        assert_eq!(
            avro(r#"{"type":"enum","name":"Kind","symbols":["A"]}"#),
            None
        );
        let json = |s| schema_full_name(RegistryFormat::JsonSchema, s);
        assert_eq!(
            json(r#"{"title":"OrderShipped","type":"object"}"#).as_deref(),
            Some("OrderShipped")
        );
        assert_eq!(json(r#"{"type":"string"}"#), None);
    }
}
