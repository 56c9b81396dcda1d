//! What the template knows of each record type it sends: its topic, its value
//! framing (with a schema id asked for once), and whether the configuration's
//! `key-serializer` / `value-serializer` lines agree with it.

use std::sync::Arc;

use kafka_record::KafkaRecord;
use kafka_record::avro::{AvroSchema, AvroSchemaError};
use kafka_record::{
    JavaSerializer, KeyEncoding, SchemaIdError, TopicError, ValueFormat, ValueFraming,
    topic_value_subject,
};

use crate::config::{KafkaConfig, Origin};
use crate::registry::{KeyFrame, RegistryFormat, RegistrySchemaIds, key_schema, schema_full_name};
use crate::template::AvroFraming;
use kafka_schema_registry::SubjectNameStrategy;

/// The Java properties naming serializer classes: the template checks them
/// against each record type rather than handing them to kafka-core.
pub(crate) const SERIALIZER_KEYS: [&str; 2] = ["key.serializer", "value.serializer"];

/// Spring's `JsonSerializer` settings (`JsonSerializer.ADD_TYPE_INFO_HEADERS`,
/// `JsonSerializer.TYPE_MAPPINGS`), given among the producer's properties:
/// the template applies them to the `__TypeId__` header.
pub(crate) const ADD_TYPE_HEADERS: &str = "spring.json.add.type.headers";
pub(crate) const TYPE_MAPPINGS: &str = "spring.json.type.mapping";

/// Whether a Java property is the template's own (serializer lines, Spring's
/// JSON serializer settings, schema registry settings), not kafka-core's.
pub(crate) fn is_template_key(name: &str) -> bool {
    SERIALIZER_KEYS.contains(&name)
        || name == ADD_TYPE_HEADERS
        || name == TYPE_MAPPINGS
        || kafka_schema_registry::is_registry_key(name)
}

/// `spring.json.add.type.headers` as Spring's `JsonSerializer` reads it.
pub(crate) fn parse_add_type_headers(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `spring.json.type.mapping` (`token:com.example.Class, ...`) as
/// `(token, class)` pairs; `None` when an entry is not `token:class`.
pub(crate) fn parse_type_mappings(value: &str) -> Option<Vec<(String, String)>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (token, class) = entry.split_once(':')?;
            let (token, class) = (token.trim(), class.trim());
            (!token.is_empty() && !class.is_empty()).then(|| (token.to_owned(), class.to_owned()))
        })
        .collect()
}

/// What the template does to a JSON record's declared `__TypeId__`, from
/// Spring's `JsonSerializer` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum TypeIdHeader {
    /// Sent as the record type declares it (or not at all without one).
    #[default]
    AsDeclared,
    /// `spring.json.add.type.headers: false`: not sent.
    Omitted,
    /// `spring.json.type.mapping` maps the declared class to this token.
    Mapped(Arc<str>),
}

impl TypeIdHeader {
    /// Applies the setting to the header `name` (`__TypeId__`,
    /// `__Key_TypeId__`) of a built record's headers.
    pub(crate) fn apply(&self, name: &str, headers: &mut Vec<kafka_core::Header>) {
        let is_type_id = |h: &kafka_core::Header| h.key == name;
        match self {
            TypeIdHeader::AsDeclared => {}
            TypeIdHeader::Omitted => headers.retain(|h| !is_type_id(h)),
            TypeIdHeader::Mapped(token) => {
                for header in headers.iter_mut().filter(|h| is_type_id(h)) {
                    header.value = Some(bytes::Bytes::copy_from_slice(token.as_bytes()));
                }
            }
        }
    }
}

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

/// A `KafkaAvroSerializer` or `KafkaJsonSchemaSerializer` line: what it
/// writes and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RegistryLine {
    pub format: RegistryFormat,
    /// The key as the user wrote it.
    pub written_key: String,
    pub origin: Origin,
}

/// A producer's serializer lines, when set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SerializerLines {
    pub key: Option<SerializerLine>,
    pub value: Option<SerializerLine>,
    /// `key-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer`
    /// (or `...json.KafkaJsonSchemaSerializer`).
    pub key_registry: Option<RegistryLine>,
    /// `value-serializer: io.confluent.kafka.serializers.KafkaAvroSerializer`
    /// (or `...json.KafkaJsonSchemaSerializer`).
    pub value_registry: Option<RegistryLine>,
    /// `spring.json.add.type.headers: false`.
    pub omit_type_headers: bool,
    /// `spring.json.type.mapping`: (token, class) pairs.
    pub type_mappings: Vec<(String, String)>,
}

impl SerializerLines {
    /// Whether a line names a schema-registry serializer.
    pub(crate) fn uses_registry(&self) -> bool {
        self.key_registry.is_some() || self.value_registry.is_some()
    }
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
#[non_exhaustive]
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
        SerializedPart::Value { format } => format!("its value is {format:?}"),
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
    /// A `KafkaAvroSerializer` / `KafkaJsonSchemaSerializer` line, and no
    /// schema registry to use.
    #[error(
        "record `{record_type}`: {config_key} (from {origin}) names {class} and no \
         schema registry is configured; set schema.registry.url under the producer's properties \
         (or give one with KafkaTemplateBuilder::schema_registry)"
    )]
    NoRegistry {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The serializer class the line names.
        class: &'static str,
        /// The serializer line's key as written.
        config_key: String,
        /// Where it is.
        origin: Origin,
    },
    /// A `KafkaJsonSchemaSerializer` value line, and a JSON record without a
    /// JSON Schema.
    #[error(
        "record `{record_type}`: {config_key} (from {origin}) names KafkaJsonSchemaSerializer, \
         which registers the value's JSON Schema, and the record has none; add \
         #[kafka(json_schema)] and #[derive(schemars::JsonSchema)] to it, or remove the line"
    )]
    NoJsonSchema {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The serializer line's key as written.
        config_key: String,
        /// Where it is.
        origin: Origin,
    },
    /// `key.subject.name.strategy` / `value.subject.name.strategy` is a
    /// record name strategy and the schema has no record name to give it
    /// (an Avro primitive or enum, a JSON Schema without a `title`), which
    /// Confluent's serializers refuse too.
    #[error(
        "record `{record_type}`: {part}.subject.name.strategy is {strategy}, which names the \
         subject after the {part}'s record, and the {part}'s schema {schema} has none; it must be \
         {needs}. Use TopicNameStrategy for this {part}"
    )]
    UnnamedSchema {
        /// The record's Rust type name.
        record_type: &'static str,
        /// `key` or `value`.
        part: &'static str,
        /// The strategy's simple class name.
        strategy: &'static str,
        /// The schema, as it would be registered.
        schema: String,
        /// What the strategy needs.
        needs: &'static str,
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
    /// Spring's `JsonSerializer` settings for its `__TypeId__` header.
    pub type_id_header: TypeIdHeader,
    /// The same for the `__Key_TypeId__` header of a JSON key.
    pub key_type_id_header: TypeIdHeader,
    /// How the value is framed; a Confluent schema id was asked for once.
    pub framing: ValueFraming,
    /// With a `KafkaAvroSerializer` / `KafkaJsonSchemaSerializer` key line:
    /// the key's Confluent frame.
    pub key_frame: Option<KeyFrame>,
}

impl TypeRoute {
    /// Whether records go out as their type declares them: no key framing
    /// and no type id setting to apply.
    #[inline]
    pub(crate) fn as_declared(&self) -> bool {
        self.key_frame.is_none()
            && self.type_id_header == TypeIdHeader::AsDeclared
            && self.key_type_id_header == TypeIdHeader::AsDeclared
    }
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
    /// The schema registry, when the template uses one: subject name
    /// strategies and key schemas.
    pub registry: Option<&'a RegistrySchemaIds>,
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
        let key_frame = self.key_frame::<R>(&topic).map_err(fail)?;
        Ok(TypeRoute {
            topic: topic.into(),
            type_id_header: self.type_id_header::<R>(),
            key_type_id_header: self.key_type_id_header::<R>(),
            framing,
            key_frame,
        })
    }

    /// Spring's `JsonSerializer` settings for `R`'s `__TypeId__`; warns of a
    /// JSON record sent as Spring's `JsonSerializer` would send it but
    /// without the type id header its consumers may need.
    fn type_id_header<R: KafkaRecord>(&self) -> TypeIdHeader {
        let json_value = R::value_format() == ValueFormat::Json;
        self.type_header::<R>(
            R::json_type_id(),
            self.serializers.value.as_ref().filter(|_| json_value),
            "value",
            kafka_record::TYPE_ID_HEADER,
            "type_id",
        )
    }

    /// The same for the `__Key_TypeId__` of a JSON key (`key_format = "json"`)
    /// under a Spring `JsonSerializer` key line.
    fn key_type_id_header<R: KafkaRecord>(&self) -> TypeIdHeader {
        let json_key = R::record_key().is_some_and(|key| key.encoding == KeyEncoding::Json);
        self.type_header::<R>(
            R::json_key_type_id(),
            self.serializers.key.as_ref().filter(|_| json_key),
            "key",
            kafka_record::KEY_TYPE_ID_HEADER,
            "key_type_id",
        )
    }

    /// What becomes of a declared type id header (`declared`), for the part
    /// whose serializer line is `line` (when that part is JSON).
    fn type_header<R: KafkaRecord>(
        &self,
        declared: Option<&str>,
        line: Option<&SerializerLine>,
        part: &str,
        header: &str,
        attribute: &str,
    ) -> TypeIdHeader {
        let lines = self.serializers;
        if lines.omit_type_headers {
            return TypeIdHeader::Omitted;
        }
        let Some(type_id) = declared else {
            let spring_json = line.filter(|line| {
                matches!(
                    line.serializer,
                    JavaSerializer::JsonSerializer | JavaSerializer::JacksonJsonSerializer
                )
            });
            if let Some(line) = spring_json {
                tracing::warn!(
                    record_type = R::record_type_name(),
                    "the {part} of `{}` is sent as {} (from {}) writes JSON, but without the \
                     `{header}` header it adds: consumers whose JsonDeserializer has no default \
                     type cannot read it. Declare #[kafka({attribute} = \"com.example.TheJavaClass\")], \
                     or set spring.json.add.type.headers: false if they need none",
                    R::record_type_name(),
                    line.serializer.class_name(),
                    line.origin
                );
            }
            return TypeIdHeader::AsDeclared;
        };
        lines
            .type_mappings
            .iter()
            .find(|(_, class)| class == type_id)
            .map_or(TypeIdHeader::AsDeclared, |(token, _)| {
                TypeIdHeader::Mapped(token.as_str().into())
            })
    }

    /// With a registry key line and a keyed record: the key's primitive
    /// schema (Avro, or JSON Schema) registered (or looked up) under its subject.
    fn key_frame<R: KafkaRecord>(&self, topic: &str) -> Result<Option<KeyFrame>, RecordTypeError> {
        let (Some(line), Some(key)) = (&self.serializers.key_registry, R::record_key()) else {
            return Ok(None);
        };
        let record_type = R::record_type_name();
        let Some(schema) = key_schema(line.format, key.encoding) else {
            return Err(RecordTypeError::Serializer(Box::new(SerializerMismatch {
                record_type,
                part: SerializedPart::Key {
                    fields: key.fields,
                    encoding: key.encoding,
                },
                config_key: line.written_key.clone(),
                class: line.format.class(),
                origin: line.origin.clone(),
                fitting: JavaSerializer::for_key(key.encoding)
                    .into_iter()
                    .map(JavaSerializer::class_name)
                    .collect(),
            })));
        };
        let registry = self.registry_for::<R>(line)?;
        let (strategy, _) = registry.strategies();
        let subject = subject_of::<R>(strategy, topic, true, line.format, schema)?;
        let schema_id = registered_id::<R>(registry, subject, line.format, schema)?;
        Ok(Some(KeyFrame {
            schema_id,
            encoding: key.encoding,
            format: line.format,
        }))
    }

    /// The registry a registry serializer line needs.
    fn registry_for<R: KafkaRecord>(
        &self,
        line: &RegistryLine,
    ) -> Result<&RegistrySchemaIds, RecordTypeError> {
        self.registry.ok_or_else(|| RecordTypeError::NoRegistry {
            record_type: R::record_type_name(),
            class: line.format.class(),
            config_key: line.written_key.clone(),
            origin: line.origin.clone(),
        })
    }

    /// With a `KafkaJsonSchemaSerializer` value line: the JSON record's JSON
    /// Schema registered (or looked up) under its subject, the value in the
    /// Confluent frame.
    fn json_schema_framing<R: KafkaRecord>(
        &self,
        topic: &str,
    ) -> Result<ValueFraming, RecordTypeError> {
        let Some(line) = self
            .serializers
            .value_registry
            .as_ref()
            .filter(|line| line.format == RegistryFormat::JsonSchema)
        else {
            return Ok(ValueFraming::Raw);
        };
        let Some(schema) = R::value_json_schema() else {
            return Err(RecordTypeError::NoJsonSchema {
                record_type: R::record_type_name(),
                config_key: line.written_key.clone(),
                origin: line.origin.clone(),
            });
        };
        let registry = self.registry_for::<R>(line)?;
        let (_, strategy) = registry.strategies();
        let subject = subject_of::<R>(strategy, topic, false, line.format, &schema)?;
        let schema_id = registered_id::<R>(registry, subject, line.format, &schema)?;
        Ok(ValueFraming::Confluent { schema_id })
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
            _ => return self.json_schema_framing::<R>(topic),
        };
        Ok(match self.avro_framing {
            AvroFraming::Raw => ValueFraming::Raw,
            AvroFraming::SingleObject => ValueFraming::SingleObject,
            AvroFraming::Confluent(resolver) => ValueFraming::Confluent {
                schema_id: resolver
                    .schema_id(&self.value_subject::<R>(topic, schema)?, schema)
                    .map_err(|error| RecordTypeError::SchemaId { record_type, error })?,
            },
        })
    }
}

impl Routing<'_> {
    /// The subject of a value schema: the registry's value subject name
    /// strategy, else Confluent's default `<topic>-value`.
    fn value_subject<R: KafkaRecord>(
        &self,
        topic: &str,
        schema: &AvroSchema,
    ) -> Result<String, RecordTypeError> {
        match self.registry {
            Some(registry) => {
                let (_, strategy) = registry.strategies();
                subject_of::<R>(strategy, topic, false, RegistryFormat::Avro, schema.json())
            }
            None => Ok(topic_value_subject(topic)),
        }
    }
}

/// The subject `strategy` gives a key (`is_key`) or value schema on `topic`.
/// The record name strategies need a named record (Avro) or a titled schema
/// (JSON Schema): for anything else Confluent's serializers refuse to
/// serialize, and so does the template, before any record is sent.
fn subject_of<R: KafkaRecord>(
    strategy: SubjectNameStrategy,
    topic: &str,
    is_key: bool,
    format: RegistryFormat,
    schema: &str,
) -> Result<String, RecordTypeError> {
    if strategy == SubjectNameStrategy::TopicName {
        return Ok(strategy.subject(topic, is_key, ""));
    }
    match schema_full_name(format, schema) {
        Some(name) => Ok(strategy.subject(topic, is_key, &name)),
        None => Err(RecordTypeError::UnnamedSchema {
            record_type: R::record_type_name(),
            part: if is_key { "key" } else { "value" },
            strategy: strategy.class_name(),
            schema: schema.to_owned(),
            needs: match format {
                RegistryFormat::Avro => "an Avro record schema (it has a full name)",
                RegistryFormat::JsonSchema => "a JSON Schema with a `title`",
            },
        }),
    }
}

/// The id of `schema` under `subject`, asked of the registry.
fn registered_id<R: KafkaRecord>(
    registry: &RegistrySchemaIds,
    subject: String,
    format: RegistryFormat,
    schema: &str,
) -> Result<u32, RecordTypeError> {
    registry
        .id_of(&subject, format, schema)
        .map_err(|error| RecordTypeError::SchemaId {
            record_type: R::record_type_name(),
            error: SchemaIdError {
                subject,
                fingerprint: 0,
                reason: error.to_string(),
            },
        })
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
    if let (Some(line), Some(key)) = (&lines.key, R::record_key())
        && !line.serializer.writes_key(key.encoding)
    {
        return Err(mismatch(
            line,
            SerializedPart::Key {
                fields: key.fields,
                encoding: key.encoding,
            },
            JavaSerializer::for_key(key.encoding),
        ));
    }
    if let Some(line) = &lines.value_registry {
        let format = R::value_format();
        if format != line.format.value_format() {
            return Err(Box::new(SerializerMismatch {
                record_type: R::record_type_name(),
                part: SerializedPart::Value { format },
                config_key: line.written_key.clone(),
                class: line.format.class(),
                origin: line.origin.clone(),
                fitting: JavaSerializer::for_value(format)
                    .into_iter()
                    .map(JavaSerializer::class_name)
                    .collect(),
            }));
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
