//! The Java serializer classes a Spring configuration names in
//! `key-serializer` / `value-serializer`, and which record types they agree with.
//!
//! A derived record decides its own bytes; a serializer line only says what a
//! Java producer of the same records would use. It is accepted when that Java
//! serializer writes the same bytes as the record type does, so one
//! `application.yml` serves both, and refused when it would not: a
//! `LongSerializer` for a `String` key would mean the Java and Rust producers
//! disagree on the wire.

use super::framing::ValueFormat;
use super::key::KeyEncoding;

/// A Java `Serializer` class this crate knows the bytes of, by its simple name.
// The variants are Java's class names, which all end in `Serializer`; naming
// them apart from Rust types also keeps rustc's messages about `String`,
// `Uuid` or `Bytes` from spelling those types' full paths.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JavaSerializer {
    /// Kafka's `StringSerializer` (UTF-8).
    StringSerializer,
    /// Kafka's `ShortSerializer`.
    ShortSerializer,
    /// Kafka's `IntegerSerializer`.
    IntegerSerializer,
    /// Kafka's `LongSerializer`.
    LongSerializer,
    /// Kafka's `FloatSerializer`.
    FloatSerializer,
    /// Kafka's `DoubleSerializer`.
    DoubleSerializer,
    /// Kafka's `BooleanSerializer`.
    BooleanSerializer,
    /// Kafka's `UUIDSerializer` (the UUID's text).
    UuidSerializer,
    /// Kafka's `ByteArraySerializer`.
    ByteArraySerializer,
    /// Kafka's `BytesSerializer`.
    BytesSerializer,
    /// Kafka's `ByteBufferSerializer`.
    ByteBufferSerializer,
    /// Kafka's `VoidSerializer` (null only).
    VoidSerializer,
    /// Spring Kafka's `JsonSerializer` (Jackson).
    JsonSerializer,
    /// Spring Kafka 4's `JacksonJsonSerializer` (Jackson 3).
    JacksonJsonSerializer,
    /// Spring Kafka's `ToStringSerializer` (`toString()`, UTF-8).
    ToStringSerializer,
    /// Spring Kafka's `StringOrBytesSerializer` (a `String` as UTF-8, bytes as they are).
    StringOrBytesSerializer,
}

/// Every known serializer, in the order messages list them.
const ALL: [JavaSerializer; 16] = [
    JavaSerializer::StringSerializer,
    JavaSerializer::ShortSerializer,
    JavaSerializer::IntegerSerializer,
    JavaSerializer::LongSerializer,
    JavaSerializer::FloatSerializer,
    JavaSerializer::DoubleSerializer,
    JavaSerializer::BooleanSerializer,
    JavaSerializer::UuidSerializer,
    JavaSerializer::ByteArraySerializer,
    JavaSerializer::BytesSerializer,
    JavaSerializer::ByteBufferSerializer,
    JavaSerializer::VoidSerializer,
    JavaSerializer::JsonSerializer,
    JavaSerializer::JacksonJsonSerializer,
    JavaSerializer::ToStringSerializer,
    JavaSerializer::StringOrBytesSerializer,
];

/// Schema-registry serializers: known; not a `JavaSerializer` (their bytes
/// depend on a registry). kafka-template turns Confluent's
/// `KafkaAvroSerializer` into registry Avro and `KafkaJsonSchemaSerializer`
/// into registry JSON Schema; the others are refused.
const REGISTRY_SERIALIZERS: &[&str] = &[
    "io.confluent.kafka.serializers.KafkaAvroSerializer",
    "io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer",
    "io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer",
    "io.confluent.kafka.streams.serdes.avro.SpecificAvroSerializer",
    "io.confluent.kafka.streams.serdes.avro.GenericAvroSerializer",
    "io.apicurio.registry.serde.avro.AvroKafkaSerializer",
    "io.apicurio.registry.serde.jsonschema.JsonSchemaKafkaSerializer",
];

/// A serializer class that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JavaSerializerError {
    /// A schema registry's serializer (Confluent's `KafkaAvroSerializer`, ...).
    #[error(
        "'{class}' is a schema-registry serializer other than Confluent's KafkaAvroSerializer and \
         KafkaJsonSchemaSerializer, the ones supported: use \
         io.confluent.kafka.serializers.KafkaAvroSerializer with schema.registry.url for \
         registry Avro (#[derive(KafkaRecord)] with format = \"avro\"), \
         io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer for JSON with a JSON \
         Schema (#[kafka(json_schema)]), or remove this line"
    )]
    SchemaRegistry {
        /// The class as written.
        class: String,
    },
    /// A class this crate does not know the bytes of.
    #[error(
        "'{class}' is not a serializer this producer knows{}; the record types decide the bytes, \
         and a serializer line may name one that writes the same bytes: {}",
        suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default(),
        JavaSerializer::known_classes().join(", ")
    )]
    Unknown {
        /// The class as written.
        class: String,
        /// The known class it is probably a misspelling of (or, for a Spring
        /// `Serde`, the serializer of the same name).
        suggestion: Option<&'static str>,
    },
}

impl JavaSerializer {
    /// The serializer named by a fully qualified Java class name, as Java's
    /// `Class.forName` would need it.
    ///
    /// ```
    /// use kafka_record::{JavaSerializer, JavaSerializerError};
    /// assert_eq!(
    ///     JavaSerializer::from_class("org.apache.kafka.common.serialization.StringSerializer"),
    ///     Ok(JavaSerializer::StringSerializer)
    /// );
    /// let error = JavaSerializer::from_class("StringSerializer").unwrap_err();
    /// assert!(error.to_string().contains("did you mean org.apache.kafka.common.serialization.StringSerializer?"));
    /// assert!(matches!(
    ///     JavaSerializer::from_class("io.confluent.kafka.serializers.KafkaAvroSerializer"),
    ///     Err(JavaSerializerError::SchemaRegistry { .. })
    /// ));
    /// ```
    pub fn from_class(class: &str) -> Result<Self, JavaSerializerError> {
        let class = class.trim();
        if let Some(known) = ALL.iter().find(|known| known.class_name() == class) {
            return Ok(*known);
        }
        if REGISTRY_SERIALIZERS.contains(&class) {
            return Err(JavaSerializerError::SchemaRegistry {
                class: class.to_owned(),
            });
        }
        Err(JavaSerializerError::Unknown {
            class: class.to_owned(),
            suggestion: suggest(class),
        })
    }

    /// The fully qualified class name.
    pub fn class_name(self) -> &'static str {
        match self {
            JavaSerializer::StringSerializer => {
                "org.apache.kafka.common.serialization.StringSerializer"
            }
            JavaSerializer::ShortSerializer => {
                "org.apache.kafka.common.serialization.ShortSerializer"
            }
            JavaSerializer::IntegerSerializer => {
                "org.apache.kafka.common.serialization.IntegerSerializer"
            }
            JavaSerializer::LongSerializer => {
                "org.apache.kafka.common.serialization.LongSerializer"
            }
            JavaSerializer::FloatSerializer => {
                "org.apache.kafka.common.serialization.FloatSerializer"
            }
            JavaSerializer::DoubleSerializer => {
                "org.apache.kafka.common.serialization.DoubleSerializer"
            }
            JavaSerializer::BooleanSerializer => {
                "org.apache.kafka.common.serialization.BooleanSerializer"
            }
            JavaSerializer::UuidSerializer => {
                "org.apache.kafka.common.serialization.UUIDSerializer"
            }
            JavaSerializer::ByteArraySerializer => {
                "org.apache.kafka.common.serialization.ByteArraySerializer"
            }
            JavaSerializer::BytesSerializer => {
                "org.apache.kafka.common.serialization.BytesSerializer"
            }
            JavaSerializer::ByteBufferSerializer => {
                "org.apache.kafka.common.serialization.ByteBufferSerializer"
            }
            JavaSerializer::VoidSerializer => {
                "org.apache.kafka.common.serialization.VoidSerializer"
            }
            JavaSerializer::JsonSerializer => {
                "org.springframework.kafka.support.serializer.JsonSerializer"
            }
            JavaSerializer::JacksonJsonSerializer => {
                "org.springframework.kafka.support.serializer.JacksonJsonSerializer"
            }
            JavaSerializer::ToStringSerializer => {
                "org.springframework.kafka.support.serializer.ToStringSerializer"
            }
            JavaSerializer::StringOrBytesSerializer => {
                "org.springframework.kafka.support.serializer.StringOrBytesSerializer"
            }
        }
    }

    /// Every class name [`from_class`](Self::from_class) accepts.
    pub fn known_classes() -> Vec<&'static str> {
        ALL.iter().map(|known| known.class_name()).collect()
    }

    /// Whether this serializer writes a key the way `encoding` does.
    pub fn writes_key(self, encoding: KeyEncoding) -> bool {
        use JavaSerializer as J;
        match encoding {
            KeyEncoding::Utf8 => matches!(
                self,
                J::StringSerializer | J::ToStringSerializer | J::StringOrBytesSerializer
            ),
            KeyEncoding::Short => self == J::ShortSerializer,
            KeyEncoding::Integer => self == J::IntegerSerializer,
            KeyEncoding::Long => self == J::LongSerializer,
            KeyEncoding::Float => self == J::FloatSerializer,
            KeyEncoding::Double => self == J::DoubleSerializer,
            KeyEncoding::Boolean => self == J::BooleanSerializer,
            // The UUID's text: UUIDSerializer, or a string serializer of it.
            KeyEncoding::UuidText => matches!(
                self,
                J::UuidSerializer | J::StringSerializer | J::ToStringSerializer
            ),
            KeyEncoding::ByteArray => matches!(
                self,
                J::ByteArraySerializer
                    | J::BytesSerializer
                    | J::ByteBufferSerializer
                    | J::StringOrBytesSerializer
            ),
            // JSON text: Spring's JSON serializers, or JSON the Java side wrote
            // itself and sends as a string.
            KeyEncoding::Json => matches!(
                self,
                J::JsonSerializer | J::JacksonJsonSerializer | J::StringSerializer
            ),
            KeyEncoding::Custom => matches!(
                self,
                J::ByteArraySerializer | J::BytesSerializer | J::ByteBufferSerializer
            ),
        }
    }

    /// Whether this serializer writes a value of `format` as the derive does.
    /// Avro values are the derive's bytes (no Java serializer writes Avro
    /// single-object encoding): only the byte-array serializers, with which a
    /// Java producer sends values it encoded itself, agree.
    pub fn writes_value(self, format: ValueFormat) -> bool {
        use JavaSerializer as J;
        match format {
            ValueFormat::Json => matches!(
                self,
                J::JsonSerializer | J::JacksonJsonSerializer | J::StringSerializer
            ),
            ValueFormat::Avro => matches!(
                self,
                J::ByteArraySerializer | J::BytesSerializer | J::ByteBufferSerializer
            ),
        }
    }

    /// The serializers that write a key of `encoding`.
    pub fn for_key(encoding: KeyEncoding) -> Vec<JavaSerializer> {
        ALL.into_iter().filter(|s| s.writes_key(encoding)).collect()
    }

    /// The serializers that write a value of `format`.
    pub fn for_value(format: ValueFormat) -> Vec<JavaSerializer> {
        ALL.into_iter().filter(|s| s.writes_value(format)).collect()
    }
}

/// The known class `class` is probably meant to be: the same simple name in
/// another package (or none), a Spring `Serde` for its `Serializer`, or a near
/// miss of a simple name.
fn suggest(class: &str) -> Option<&'static str> {
    let simple = class.rsplit('.').next().unwrap_or(class);
    let wanted = simple
        .strip_suffix("Serde")
        .map_or_else(|| simple.to_owned(), |stem| format!("{stem}Serializer"))
        .to_ascii_lowercase();
    ALL.iter()
        .map(|known| known.class_name())
        .map(|name| {
            let known_simple = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
            (strsim::damerau_levenshtein(&wanted, &known_simple), name)
        })
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_class_parses_back() {
        for known in ALL {
            assert_eq!(JavaSerializer::from_class(known.class_name()), Ok(known));
        }
        assert_eq!(
            JavaSerializer::from_class(" org.apache.kafka.common.serialization.LongSerializer "),
            Ok(JavaSerializer::LongSerializer)
        );
    }

    #[test]
    fn simple_names_serdes_and_typos_get_a_suggestion() {
        let cases = [
            (
                "StringSerializer",
                "org.apache.kafka.common.serialization.StringSerializer",
            ),
            (
                "org.springframework.kafka.support.serializer.JsonSerde",
                "org.springframework.kafka.support.serializer.JsonSerializer",
            ),
            (
                "org.apache.kafka.common.serialization.StringSerialiser",
                "org.apache.kafka.common.serialization.StringSerializer",
            ),
            (
                "org.springframework.kafka.support.serializer.LongSerializer",
                "org.apache.kafka.common.serialization.LongSerializer",
            ),
        ];
        for (class, suggestion) in cases {
            assert_eq!(
                JavaSerializer::from_class(class),
                Err(JavaSerializerError::Unknown {
                    class: class.to_owned(),
                    suggestion: Some(suggestion)
                }),
                "{class}"
            );
        }
        let error = JavaSerializer::from_class("com.acme.MoneySerializer").unwrap_err();
        assert_eq!(
            error,
            JavaSerializerError::Unknown {
                class: "com.acme.MoneySerializer".to_owned(),
                suggestion: None
            }
        );
        let message = error.to_string();
        assert!(
            message.starts_with(
                "'com.acme.MoneySerializer' is not a serializer this producer knows; the record \
                 types decide the bytes, and a serializer line may name one that writes the same \
                 bytes: org.apache.kafka.common.serialization.StringSerializer, "
            ),
            "{message}"
        );
        for known in ALL {
            assert!(message.contains(known.class_name()), "{message}");
        }
    }

    #[test]
    fn schema_registry_serializers_are_not_java_serializers() {
        let error = JavaSerializer::from_class(
            "io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "'io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer' is a \
             schema-registry serializer other than Confluent's KafkaAvroSerializer and \
             KafkaJsonSchemaSerializer, the ones supported: use \
             io.confluent.kafka.serializers.KafkaAvroSerializer with schema.registry.url for \
             registry Avro (#[derive(KafkaRecord)] with format = \"avro\"), \
             io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer for JSON with a JSON \
             Schema (#[kafka(json_schema)]), or remove this line"
        );
        assert!(matches!(
            JavaSerializer::from_class(
                "io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer"
            ),
            Err(JavaSerializerError::SchemaRegistry { .. })
        ));
        assert!(matches!(
            JavaSerializer::from_class("io.confluent.kafka.serializers.KafkaAvroSerializer"),
            Err(JavaSerializerError::SchemaRegistry { .. })
        ));
    }

    #[test]
    fn keys_agree_with_the_serializers_that_write_the_same_bytes() {
        use JavaSerializer as J;
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Utf8),
            [
                J::StringSerializer,
                J::ToStringSerializer,
                J::StringOrBytesSerializer
            ]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Long),
            [J::LongSerializer]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Short),
            [J::ShortSerializer]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Integer),
            [J::IntegerSerializer]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Float),
            [J::FloatSerializer]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Double),
            [J::DoubleSerializer]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Boolean),
            [J::BooleanSerializer]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::UuidText),
            [
                J::StringSerializer,
                J::UuidSerializer,
                J::ToStringSerializer
            ]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::ByteArray),
            [
                J::ByteArraySerializer,
                J::BytesSerializer,
                J::ByteBufferSerializer,
                J::StringOrBytesSerializer
            ]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Json),
            [
                J::StringSerializer,
                J::JsonSerializer,
                J::JacksonJsonSerializer
            ]
        );
        assert_eq!(
            JavaSerializer::for_key(KeyEncoding::Custom),
            [
                J::ByteArraySerializer,
                J::BytesSerializer,
                J::ByteBufferSerializer
            ]
        );
        assert!(!J::LongSerializer.writes_key(KeyEncoding::Utf8));
        assert!(!J::VoidSerializer.writes_key(KeyEncoding::Utf8));
    }

    #[test]
    fn values_agree_with_their_format() {
        use JavaSerializer as J;
        assert_eq!(
            JavaSerializer::for_value(ValueFormat::Json),
            [
                J::StringSerializer,
                J::JsonSerializer,
                J::JacksonJsonSerializer
            ]
        );
        assert_eq!(
            JavaSerializer::for_value(ValueFormat::Avro),
            [
                J::ByteArraySerializer,
                J::BytesSerializer,
                J::ByteBufferSerializer
            ]
        );
    }
}
