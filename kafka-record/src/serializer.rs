//! Serializers, Java's `Serializer<T>` in Rust: turn a key or value into bytes.
//!
//! [`BuiltIn`] writes what Java's built-in serializers write (`StringSerializer`
//! UTF-8, `IntegerSerializer`/`LongSerializer`/`ShortSerializer` big-endian,
//! `DoubleSerializer`, `ByteArraySerializer`, `UUIDSerializer` as text), through
//! [`KafkaBytes`]; [`Json`] writes serde JSON. Structured records with Avro are
//! better declared with `#[derive(KafkaRecord)]`.
//!
//! ```
//! use kafka_record::serializer::{BuiltIn, Json, serialize_record};
//!
//! #[derive(serde::Serialize)]
//! struct Order { id: u32 }
//!
//! let record = serialize_record("orders", Some(&42i64), &Order { id: 7 }, &BuiltIn, &Json).unwrap();
//! assert_eq!(record.key.as_deref(), Some(&42i64.to_be_bytes()[..]));
//! assert_eq!(record.value.as_deref(), Some(&br#"{"id":7}"#[..]));
//! ```

use bytes::Bytes;

use crate::KafkaBytes;
use kafka_core::KafkaError;
use kafka_core::ProducerRecord;

/// Turns a `T` into the bytes of a key or value (`None` is null).
pub trait Serializer<T: ?Sized>: Send + Sync {
    /// Serializes `data` for `topic`.
    fn serialize(&self, topic: &str, data: &T) -> Result<Option<Bytes>, KafkaError>;
}

/// Java's built-in serializers, for every type that implements [`KafkaBytes`]
/// (strings, integers, floats, bool, UUID, byte arrays, `Option` of one).
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltIn;

impl<T: KafkaBytes + ?Sized> Serializer<T> for BuiltIn {
    fn serialize(&self, _topic: &str, data: &T) -> Result<Option<Bytes>, KafkaError> {
        Ok(data.kafka_bytes().map(Bytes::from))
    }
}

/// JSON through serde (Spring's `JsonSerializer`, without type headers).
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl<T: serde::Serialize + ?Sized> Serializer<T> for Json {
    fn serialize(&self, topic: &str, data: &T) -> Result<Option<Bytes>, KafkaError> {
        serde_json::to_vec(data)
            .map(|v| Some(Bytes::from(v)))
            .map_err(|e| KafkaError::Serialization {
                topic: topic.to_owned(),
                message: format!("JSON: {e}"),
            })
    }
}

/// A record from a typed key and value and their serializers; serialization
/// errors come back before anything is sent, as in Java's `send`.
pub fn serialize_record<K: ?Sized, V: ?Sized>(
    topic: impl Into<String>,
    key: Option<&K>,
    value: &V,
    key_serializer: &impl Serializer<K>,
    value_serializer: &impl Serializer<V>,
) -> Result<ProducerRecord, KafkaError> {
    let topic = topic.into();
    let key = match key {
        Some(k) => key_serializer.serialize(&topic, k)?,
        None => None,
    };
    let value = value_serializer.serialize(&topic, value)?;
    Ok(ProducerRecord {
        key,
        value,
        ..ProducerRecord::tombstone(topic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_serializers_write_what_java_writes() {
        let s = BuiltIn;
        assert_eq!(
            Serializer::<str>::serialize(&s, "t", "héllo")
                .unwrap()
                .as_deref(),
            Some("héllo".as_bytes())
        );
        assert_eq!(
            Serializer::<i32>::serialize(&s, "t", &-2)
                .unwrap()
                .as_deref(),
            Some(&[0xff, 0xff, 0xff, 0xfe][..])
        );
        assert_eq!(
            Serializer::<i64>::serialize(&s, "t", &1)
                .unwrap()
                .as_deref(),
            Some(&1i64.to_be_bytes()[..])
        );
        assert_eq!(
            Serializer::<Option<String>>::serialize(&s, "t", &None).unwrap(),
            None
        );
    }

    #[test]
    fn a_record_from_typed_key_and_value() {
        let record = serialize_record("t", None::<&str>, "v", &BuiltIn, &BuiltIn).unwrap();
        assert_eq!(record.key, None);
        assert_eq!(record.value.as_deref(), Some(&b"v"[..]));
    }
}
