//! The [`KafkaRecord`] trait that `#[derive(KafkaRecord)]` implements, and its
//! runtime support: topic placeholders, key/header/timestamp conversion, Avro
//! schemas and encoding, JSON values and value framings.
//!
//! A derived record tells the template and the producer everything they need to
//! send it without knowing its concrete type:
//!
//! - its topic ([`KafkaRecord::topic_spec`], a literal or `${key:default}`
//!   placeholders, resolved once at startup with [`KafkaRecord::resolve_topic`]),
//! - its key ([`KafkaRecord::key_bytes`]: the `#[kafka(key)]` field(s), or none),
//! - its headers (static ones on the struct, `#[kafka(header = "..")]` fields,
//!   and `__TypeId__` for JSON records that ask for it),
//! - its timestamp (the `#[kafka(timestamp)]` field, else the send time),
//! - its value ([`KafkaRecord::write_value`]: JSON via serde, or Avro binary
//!   from the derived encoder, raw or in a [`ValueFraming`]).
//!
//! The derives live in the `kafka-derive` crate, whose documentation has a
//! compiled example of every attribute. The pieces here that derived code uses
//! but users rarely name ([`AvroType`](avro::AvroType) impls, [`KafkaBytes`],
//! [`KafkaTimestamp`]) are public so that user types can implement them too.
//!
//! # Keys
//!
//! With the default key format a single `#[kafka(key)]` field is written as
//! Java's built-in serializers write its type ([`KafkaBytes`]): strings UTF-8,
//! `i16`/`i32`/`i64` big-endian, and so on. `#[kafka(key_format = "json")]`
//! writes the key with `serde_json`; several key fields then form a JSON object
//! `{"field":value,...}` in declaration order (serde names). With
//! `#[kafka(key_format = "string")]` each key field is formatted with `Display`,
//! joined by `key_separator` (default `":"`). Several key fields need one of
//! these two formats.
//!
//! A key field of a type of your own that wraps one of the native ones (a
//! newtype such as `struct PaymentId(String)`) derives [`KafkaBytes`] with
//! `#[derive(KafkaBytes)]` and is written as its field.
//!
//! [`KafkaRecord::record_key`] says which field(s) make the key and how they
//! are written ([`KeyEncoding`]); with [`KafkaRecord::value_format`] that is what
//! the template checks a configuration's `key-serializer` / `value-serializer`
//! Java classes against ([`JavaSerializer`]).
//!
//! # Schema registry seam
//!
//! [`ValueFraming::Confluent`] carries the schema id; a [`SchemaIdResolver`]
//! (a registry client, or [`StaticSchemaIds`]) maps a record's
//! [`AvroSchema`] and subject to that id once per record type and topic (the
//! template asks at startup for registered types, else at the first send).
//!
//! A JSON record declared with `#[kafka(json_schema)]` (and deriving
//! [`schemars::JsonSchema`]) also gives its value's JSON Schema
//! ([`KafkaRecord::value_json_schema`]), which Confluent's
//! `KafkaJsonSchemaSerializer` lines register; its value is then framed the
//! same way (`00`, the schema id, the JSON document).

#![warn(missing_docs, missing_debug_implementations)]

pub mod avro;
mod error;
mod framing;
mod java_serializer;
mod key;
mod read;
pub mod serde_millis;
pub mod serializer;
mod topic;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use error::{SerializationError, TimestampError};
pub use framing::{
    CONFLUENT_MAGIC, SINGLE_OBJECT_MARKER, SchemaIdError, SchemaIdResolver, StaticSchemaIds,
    ValueFormat, ValueFraming, topic_value_subject, write_confluent_header,
    write_single_object_header,
};
pub use java_serializer::{JavaSerializer, JavaSerializerError};
pub use key::{KafkaBytes, KafkaTimestamp, KeyEncoding};
pub use read::{ValueReadError, read_value};
pub use topic::{
    TopicError, TopicNameError, TopicSpecError, TopicSpecPart, parse_topic_spec, resolve_topic,
    validate_topic_name,
};

use bytes::Bytes;

/// The JSON Schema generator `#[kafka(json_schema)]` records derive
/// `JsonSchema` from (`#[derive(schemars::JsonSchema)]`), re-exported so that
/// the versions agree.
pub use schemars;

use avro::{AvroSchema, AvroSchemaError};
use kafka_core::{Header, ProducerRecord};

/// The header Spring Kafka's `JsonDeserializer` reads to pick the target class.
pub const TYPE_ID_HEADER: &str = "__TypeId__";

/// The header Spring Kafka's `JsonDeserializer` reads, as a key
/// deserializer, to pick the key's target class.
pub const KEY_TYPE_ID_HEADER: &str = "__Key_TypeId__";

/// A Rust type sent to Kafka as one record: it knows its topic, key, headers,
/// timestamp and how to encode its value. Implemented by `#[derive(KafkaRecord)]`.
///
/// The associated functions without `self` are marked `Self: Sized` so that the
/// per-record methods stay usable through `dyn KafkaRecord`.
pub trait KafkaRecord {
    /// The Rust type's name, used in every error message about this record.
    fn record_type_name() -> &'static str
    where
        Self: Sized;

    /// The topic as declared: a literal, or text with `${key}` / `${key:default}`
    /// placeholders for the template to resolve against its configuration.
    fn topic_spec() -> &'static str
    where
        Self: Sized;

    /// Resolves [`topic_spec`](Self::topic_spec) with `lookup` (configuration
    /// key to value). An unresolvable placeholder without a default is an error
    /// naming this record type and the key.
    fn resolve_topic(lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, TopicError>
    where
        Self: Sized,
    {
        resolve_topic(Self::record_type_name(), Self::topic_spec(), lookup)
    }

    /// How the value is encoded.
    fn value_format() -> ValueFormat
    where
        Self: Sized;

    /// The value's Avro schema for Avro records (for the single-object
    /// fingerprint and for registering with a schema registry); `None` for JSON.
    fn value_schema() -> Option<Result<&'static AvroSchema, AvroSchemaError>>
    where
        Self: Sized;

    /// The JSON Schema of a JSON record's value (JSON text), for records
    /// declared with `#[kafka(json_schema)]`: generated from the struct by
    /// [`schemars`], as Confluent's `KafkaJsonSchemaSerializer` generates one
    /// from a Java class, and registered with a schema registry under the
    /// value's subject. `None` otherwise (the default).
    fn value_json_schema() -> Option<String>
    where
        Self: Sized,
    {
        None
    }

    /// The `__TypeId__` a JSON record sends for Spring consumers, if declared
    /// with `#[kafka(type_id = "...")]`. [`headers`](Self::headers) includes it.
    fn json_type_id() -> Option<&'static str>
    where
        Self: Sized;

    /// The `__Key_TypeId__` a record with a JSON key (`key_format = "json"`)
    /// sends for Spring consumers, if declared with
    /// `#[kafka(key_type_id = "...")]`. [`headers`](Self::headers) includes it.
    fn json_key_type_id() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// The key field(s) and how they are written; `None` for a keyless record.
    fn record_key() -> Option<RecordKey>
    where
        Self: Sized;

    /// The key's bytes; `None` for a keyless record (or a `None` key field).
    fn key_bytes(&self) -> Result<Option<Vec<u8>>, SerializationError>;

    /// Appends the key's bytes to `out` and returns `true`; `false` for a
    /// keyless record (or a `None` key field), with `out` as it was. The
    /// bytes of [`key_bytes`](Self::key_bytes), for a key written into a
    /// buffer reused from record to record: derived records with a
    /// `KafkaBytes` key write it there with no allocation of their own; the
    /// default copies what `key_bytes` returns.
    fn write_key(&self, out: &mut Vec<u8>) -> Result<bool, SerializationError> {
        Ok(match self.key_bytes()? {
            Some(key) => {
                out.extend_from_slice(&key);
                true
            }
            None => false,
        })
    }

    /// Static headers, then field headers in declaration order, then
    /// `__TypeId__` when declared.
    fn headers(&self) -> Vec<Header>;

    /// The `#[kafka(timestamp)]` field in milliseconds since the epoch; `None`
    /// when there is no such field (or it is `None`): the send time is used.
    fn timestamp_ms(&self) -> Result<Option<i64>, SerializationError>;

    /// Appends the encoded value to `out` in `framing`. On error `out` is left as
    /// it was.
    fn write_value(
        &self,
        framing: &ValueFraming,
        out: &mut Vec<u8>,
    ) -> Result<(), SerializationError>;

    /// The whole record for `topic` (already resolved), ready for the producer.
    ///
    /// Made of the methods above. A `KafkaTemplate` sending a record it does
    /// not keep builds it from them without calling this (the value and key
    /// written into buffers it reuses): an implementation of your own
    /// changes those methods, not this one.
    fn to_producer_record(
        &self,
        topic: &str,
        framing: &ValueFraming,
    ) -> Result<ProducerRecord, SerializationError>
    where
        Self: Sized,
    {
        let value = encode_exact(|out| self.write_value(framing, out))?;
        let mut record = ProducerRecord::new(topic, value);
        record.key = self.key_bytes()?.map(Bytes::from);
        record.timestamp = self.timestamp_ms()?;
        record.headers = self.headers();
        Ok(record)
    }
}

/// A record type's key: the `#[kafka(key)]` field(s) and their encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordKey {
    /// The key fields' Rust names, in declaration order.
    pub fields: &'static [&'static str],
    /// How the key is written.
    pub encoding: KeyEncoding,
}

impl RecordKey {
    /// `field `id`` or `fields `tenant`, `order_id``, for messages.
    pub fn describe_fields(&self) -> String {
        let names: Vec<String> = self.fields.iter().map(|f| format!("`{f}`")).collect();
        match names.as_slice() {
            [one] => format!("field {one}"),
            many => format!("fields {}", many.join(", ")),
        }
    }
}

/// The largest scratch buffer a thread keeps between records.
const MAX_KEPT_SCRATCH: usize = 1 << 20;

thread_local! {
    /// Where values are encoded before they are copied out at their exact
    /// size; taken out while in use (a value encoded while encoding another,
    /// by a serializer that sends, finds it empty and grows its own).
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Runs `encode` into a reused per-thread buffer and returns the bytes in an
/// allocation of their exact size: one allocation per value, where a `Vec`
/// grown from empty reallocates about log2(size) times and, not being full,
/// costs `Bytes` another allocation.
#[inline]
fn encode_exact<E>(encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<Bytes, E> {
    // A thread whose buffer is gone (a send from a thread-local's
    // destructor) encodes into a buffer of its own.
    let mut scratch = SCRATCH.try_with(std::cell::Cell::take).unwrap_or_default();
    scratch.clear();
    let result = encode(&mut scratch).map(|()| Bytes::copy_from_slice(&scratch));
    if scratch.capacity() <= MAX_KEPT_SCRATCH {
        let _ = SCRATCH.try_with(|kept| kept.set(scratch));
    }
    result
}

#[cfg(test)]
mod encode_exact_tests {
    use super::*;

    #[test]
    fn a_value_encoded_in_a_thread_locals_destructor_after_the_scratch_went_is_encoded() {
        struct EncodesOnDrop(std::sync::mpsc::Sender<Bytes>);
        impl Drop for EncodesOnDrop {
            fn drop(&mut self) {
                let value = encode_exact(|out| {
                    out.extend_from_slice(b"late");
                    Ok::<_, ()>(())
                });
                self.0
                    .send(value.expect("encoded"))
                    .expect("the test hears");
            }
        }
        thread_local! {
            static LATE: std::cell::RefCell<Option<EncodesOnDrop>> =
                const { std::cell::RefCell::new(None) };
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Registered before the scratch: destroyed after it (glibc runs
            // thread-local destructors last registered, first).
            LATE.with(|late| *late.borrow_mut() = Some(EncodesOnDrop(tx)));
            let _ = encode_exact(|out| {
                out.push(1);
                Ok::<_, ()>(())
            });
        })
        .join()
        .expect("the thread's destructors do not panic");
        assert_eq!(&rx.recv().expect("encoded in the destructor")[..], b"late");
    }

    #[test]
    fn values_come_out_at_their_exact_size_even_when_encoding_nests() {
        let outer = encode_exact(|out| {
            out.extend_from_slice(b"outer:");
            // A value encoded while another is being encoded gets its own buffer.
            let inner = encode_exact(|inner| {
                inner.extend_from_slice(b"inner");
                Ok::<_, ()>(())
            })?;
            out.extend_from_slice(&inner);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(&outer[..], b"outer:inner");
        let failed = encode_exact(|out| {
            out.extend_from_slice(b"half");
            Err("broken")
        });
        assert_eq!(failed, Err("broken"));
        let next = encode_exact(|out| {
            out.extend_from_slice(b"next");
            Ok::<_, ()>(())
        });
        assert_eq!(
            next.as_deref(),
            Ok(&b"next"[..]),
            "nothing left over from the failure"
        );
    }

    #[test]
    fn a_huge_value_does_not_stay_allocated_in_the_scratch_buffer() {
        let big = encode_exact(|out| {
            out.resize(MAX_KEPT_SCRATCH + 1, b'x');
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(big.len(), MAX_KEPT_SCRATCH + 1);
        let kept = SCRATCH.take();
        assert!(kept.capacity() <= MAX_KEPT_SCRATCH);
        SCRATCH.set(kept);
    }
}
