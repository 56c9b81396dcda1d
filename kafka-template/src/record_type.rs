//! What the template knows of each record type it sends: its topic, its value
//! framing (with a schema id asked for once), and whether the configuration's
//! `key-serializer` / `value-serializer` lines agree with it.

use std::sync::Arc;

use kafka_record::KafkaRecord;
use kafka_record::avro::AvroSchemaError;
use kafka_record::{
    JavaSerializer, KeyEncoding, SchemaIdError, TopicError, ValueFormat, ValueFraming,
    topic_value_subject,
};

use crate::config::{KafkaConfig, Origin};
use crate::template::AvroFraming;

/// The Java properties naming serializer classes: the template checks them
/// against each record type rather than handing them to kafka-core.
pub(crate) const SERIALIZER_KEYS: [&str; 2] = ["key.serializer", "value.serializer"];

/// A producer's `key-serializer` or `value-serializer` line (any spelling:
/// `spring.kafka.producer.key-serializer`, `kafka.properties.key.serializer`,
/// ...): the class it names and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SerializerLine {
    pub serializer: JavaSerializer,
    /// The key as the user wrote it.
    pub written_key: String,
    pub origin: Origin,
}

/// A producer's serializer lines, when set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SerializerLines {
    pub key: Option<SerializerLine>,
    pub value: Option<SerializerLine>,
}

/// Which part of a record a serializer line is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SerializedPart {
    /// The key, from these fields, written this way.
    Key {
        /// The `#[kafka(key)]` fields, in declaration order.
        fields: &'static [&'static str],
        /// How the record type writes them.
        encoding: KeyEncoding,
    },
    /// The value, in this format.
    Value {
        /// The record type's value format.
        format: ValueFormat,
    },
}

/// A `key-serializer` / `value-serializer` line naming a Java class that does
/// not write what a record type writes (a `LongSerializer` for a `String` key):
/// a Java producer with the same configuration would put other bytes on the
/// wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{config_key}: {class} (from {origin}) does not write the {} of record `{record_type}`: {}; \
     use {} there, or remove the line (the record type decides the bytes)",
    part_name(part),
    part_description(part),
    or_list(fitting)
)]
pub struct SerializerMismatch {
    /// The record's Rust type name.
    pub record_type: &'static str,
    /// The key (with its fields) or the value.
    pub part: SerializedPart,
    /// The configuration key as written (`spring.kafka.producer.key-serializer`).
    pub config_key: String,
    /// The class the line names.
    pub class: &'static str,
    /// Where the line is (file and line, or the variable).
    pub origin: Origin,
    /// The classes that would agree with the record type.
    pub fitting: Vec<&'static str>,
}

fn part_name(part: &SerializedPart) -> &'static str {
    match part {
        SerializedPart::Key { .. } => "key",
        SerializedPart::Value { .. } => "value",
    }
}

fn part_description(part: &SerializedPart) -> String {
    match part {
        SerializedPart::Key { fields, encoding } => {
            let names: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            let fields = match names.as_slice() {
                [one] => format!("field {one} is"),
                many => format!("fields {} are", many.join(", ")),
            };
            format!("its key {fields} written as {}", encoding.describe())
        }
        SerializedPart::Value {
            format: ValueFormat::Json,
        } => "its value is JSON (serde_json)".to_owned(),
        SerializedPart::Value {
            format: ValueFormat::Avro,
        } => "its value is Avro binary that its #[derive(KafkaRecord)] encodes".to_owned(),
    }
}

fn or_list(items: &[&str]) -> String {
    match items {
        [] => "no Java serializer".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A record type that does not fit the template's configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordTypeError {
    /// Its topic placeholder cannot be resolved.
    #[error(transparent)]
    Topic(#[from] TopicError),
    /// A serializer line disagrees with it.
    #[error(transparent)]
    Serializer(#[from] Box<SerializerMismatch>),
    /// Its Avro schema cannot be built.
    #[error("record `{record_type}`: {error}")]
    Schema {
        /// The record's Rust type name.
        record_type: &'static str,
        /// Why.
        error: AvroSchemaError,
    },
    /// A hand-written `KafkaRecord` declares Avro and gives no schema.
    #[error("record `{record_type}` declares an Avro value and gives no Avro schema")]
    MissingSchema {
        /// The record's Rust type name.
        record_type: &'static str,
    },
    /// The [`SchemaIdResolver`](kafka_record::SchemaIdResolver)
    /// gave no id for its schema.
    #[error("record `{record_type}`: {error}")]
    SchemaId {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The resolver's error.
        error: SchemaIdError,
    },
}

/// Everything the template needs per record type, made once.
#[derive(Debug)]
pub(crate) struct TypeRoute {
    pub topic: Arc<str>,
    /// How the value is framed; a Confluent schema id was asked for once.
    pub framing: ValueFraming,
}

/// Why a route could not be made: the error, and the topic it is about (the
/// declared spec when it did not resolve).
pub(crate) struct RouteFailure {
    pub topic: String,
    pub error: RecordTypeError,
}

/// What routes are made from.
pub(crate) struct Routing<'a> {
    pub config: Option<&'a KafkaConfig>,
    pub serializers: &'a SerializerLines,
    pub avro_framing: &'a AvroFraming,
}

impl Routing<'_> {
    /// `R`'s route: its topic resolved, its serializer lines checked, its
    /// schema built and (Confluent framing) its schema id asked for.
    pub(crate) fn route<R: KafkaRecord>(&self) -> Result<TypeRoute, Box<RouteFailure>> {
        let config = self.config;
        let topic = R::resolve_topic(&|key| config.and_then(|c| c.lookup(key)).map(str::to_owned))
            .map_err(|error| {
                Box::new(RouteFailure {
                    topic: R::topic_spec().to_owned(),
                    error: error.into(),
                })
            })?;
        let fail = |error: RecordTypeError| {
            Box::new(RouteFailure {
                topic: topic.clone(),
                error,
            })
        };
        check_serializers::<R>(self.serializers).map_err(|e| fail(e.into()))?;
        let framing = self.framing::<R>(&topic).map_err(fail)?;
        Ok(TypeRoute {
            topic: topic.into(),
            framing,
        })
    }

    fn framing<R: KafkaRecord>(&self, topic: &str) -> Result<ValueFraming, RecordTypeError> {
        let record_type = R::record_type_name();
        let schema = match (R::value_format(), R::value_schema()) {
            (ValueFormat::Avro, Some(schema)) => {
                schema.map_err(|error| RecordTypeError::Schema { record_type, error })?
            }
            (ValueFormat::Avro, None) => {
                return Err(RecordTypeError::MissingSchema { record_type });
            }
            _ => return Ok(ValueFraming::Raw),
        };
        Ok(match self.avro_framing {
            AvroFraming::Raw => ValueFraming::Raw,
            AvroFraming::SingleObject => ValueFraming::SingleObject,
            AvroFraming::Confluent(resolver) => ValueFraming::Confluent {
                schema_id: resolver
                    .schema_id(&topic_value_subject(topic), schema)
                    .map_err(|error| RecordTypeError::SchemaId { record_type, error })?,
            },
        })
    }
}

/// Whether the serializer lines agree with what `R` writes. A keyless record
/// fits any key serializer (Java's write null for a null key).
pub(crate) fn check_serializers<R: KafkaRecord>(
    lines: &SerializerLines,
) -> Result<(), Box<SerializerMismatch>> {
    let mismatch = |line: &SerializerLine, part: SerializedPart, fitting: Vec<JavaSerializer>| {
        Box::new(SerializerMismatch {
            record_type: R::record_type_name(),
            part,
            config_key: line.written_key.clone(),
            class: line.serializer.class_name(),
            origin: line.origin.clone(),
            fitting: fitting
                .into_iter()
                .map(JavaSerializer::class_name)
                .collect(),
        })
    };
    if let (Some(line), Some(key)) = (&lines.key, R::record_key()) {
        if !line.serializer.writes_key(key.encoding) {
            return Err(mismatch(
                line,
                SerializedPart::Key {
                    fields: key.fields,
                    encoding: key.encoding,
                },
                JavaSerializer::for_key(key.encoding),
            ));
        }
    }
    if let Some(line) = &lines.value {
        let format = R::value_format();
        if !line.serializer.writes_value(format) {
            return Err(mismatch(
                line,
                SerializedPart::Value { format },
                JavaSerializer::for_value(format),
            ));
        }
    }
    Ok(())
}
