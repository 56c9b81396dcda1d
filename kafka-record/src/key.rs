//! How key, header and timestamp fields become bytes and milliseconds.

use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use apache_avro::Uuid;
use bytes::Bytes;

use super::avro::{TimestampMicros, millis_since_epoch};
use super::error::TimestampError;

/// A value written as a Kafka key or header value the way Java's built-in
/// serializers write it, so Java consumers read it back with the matching
/// deserializer:
///
/// | Rust | bytes | Java serializer |
/// |---|---|---|
/// | `String`, `str` | UTF-8 | `StringSerializer` |
/// | `i16`, `i32`, `i64` | 2, 4, 8 bytes big-endian | `Short`/`Integer`/`LongSerializer` |
/// | `f32`, `f64` | IEEE 754 bits, big-endian | `Float`/`DoubleSerializer` |
/// | `bool` | one byte, 1 or 0 | `BooleanSerializer` |
/// | `Uuid` | its lowercase hyphenated text, UTF-8 | `UUIDSerializer` |
/// | `Vec<u8>`, `[u8; N]`, `Bytes` | as is | `ByteArraySerializer` |
/// | `Option<T>` | `None` is null | |
/// | `Box<T>`, `Rc<T>`, `Arc<T>` (`Arc<str>`) | as `T` | as `T`'s |
/// | a newtype with `#[derive(KafkaBytes)]` | as its one field | as its field's |
///
/// ```
/// use kafka_record::KafkaBytes;
/// assert_eq!(42i32.kafka_bytes(), Some(vec![0, 0, 0, 42]));
/// assert_eq!("order-1".kafka_bytes(), Some(b"order-1".to_vec()));
/// assert_eq!(None::<i64>.kafka_bytes(), None);
/// ```
///
/// # Newtypes and types of your own
///
/// A key type that wraps one of these, such as `struct PaymentId(String)`,
/// derives the trait: `#[derive(KafkaBytes)]` (from `kafka-derive`, re-exported
/// as `kafka_template::KafkaBytes`) writes it as its one field, with the field's
/// [`ENCODING`](Self::ENCODING). By hand, that is:
///
/// ```
/// use kafka_record::{KafkaBytes, KeyEncoding};
///
/// struct PaymentId(String);
///
/// impl KafkaBytes for PaymentId {
///     const ENCODING: KeyEncoding = <String as KafkaBytes>::ENCODING;
///
///     fn kafka_bytes(&self) -> Option<Vec<u8>> {
///         self.0.kafka_bytes()
///     }
/// }
///
/// assert_eq!(PaymentId("p-1".into()).kafka_bytes(), Some(b"p-1".to_vec()));
/// assert_eq!(PaymentId::ENCODING, KeyEncoding::Utf8);
/// ```
///
/// An implementation that writes bytes of its own declares the Java serializer
/// that writes the same bytes with `ENCODING`, or keeps the default
/// [`KeyEncoding::Custom`] (then only Java's byte-array serializers fit it in a
/// `key-serializer` line).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written as a Kafka key or header value",
    label = "no built-in Kafka serializer for this type",
    note = "key and header fields may be String, str, i16, i32, i64, f32, f64, bool, Uuid, Vec<u8>, [u8], [u8; N], Bytes, one of them in a Box, Rc or Arc (Arc<str>, Arc<[u8]>), or an Option of one (None is null), written as Java's built-in serializers write them",
    note = "a newtype over one of them (`struct PaymentId(String)`) can `#[derive(KafkaBytes)]`; another type of your own can implement `KafkaBytes`",
    note = "a key of another type can use a format set on the struct: #[kafka(key_format = \"json\")] (serde_json) or #[kafka(key_format = \"string\")] (Display)"
)]
pub trait KafkaBytes {
    /// Which Java serializer writes the same bytes, for checking the
    /// `key-serializer` a configuration names.
    const ENCODING: KeyEncoding = KeyEncoding::Custom;

    /// The bytes, or `None` for a null key or header value.
    fn kafka_bytes(&self) -> Option<Vec<u8>>;

    /// Appends the bytes to `out` and returns `true`, or returns `false` for
    /// a null (leaving `out` as it was): the bytes of
    /// [`kafka_bytes`](Self::kafka_bytes) without an allocation of their own,
    /// for a key written into a buffer reused from record to record. The
    /// default copies what `kafka_bytes` returns; the built-in types write
    /// straight into `out`.
    ///
    /// ```
    /// use kafka_record::KafkaBytes;
    /// let mut out = b"prefix:".to_vec();
    /// assert!("order-1".write_kafka_bytes(&mut out));
    /// assert_eq!(out, b"prefix:order-1");
    /// assert!(!None::<i64>.write_kafka_bytes(&mut out));
    /// assert_eq!(out, b"prefix:order-1");
    /// ```
    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        match self.kafka_bytes() {
            Some(bytes) => {
                out.extend_from_slice(&bytes);
                true
            }
            None => false,
        }
    }
}

/// How a record's key is written, in the terms of the Java serializer that
/// writes the same bytes (see [`KafkaBytes`] and `key_format`). (The variants
/// are not named after Rust types such as `String`: rustc would then spell
/// those types' full paths in every message about them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyEncoding {
    /// UTF-8 text: `String`, `str`, and `key_format = "string"` keys.
    Utf8,
    /// `i16`, 2 bytes big-endian.
    Short,
    /// `i32`, 4 bytes big-endian.
    Integer,
    /// `i64`, 8 bytes big-endian.
    Long,
    /// `f32`, IEEE 754 bits big-endian.
    Float,
    /// `f64`, IEEE 754 bits big-endian.
    Double,
    /// `bool`, one byte.
    Boolean,
    /// A UUID's lowercase hyphenated text.
    UuidText,
    /// The bytes as they are: `Vec<u8>`, `[u8; N]`, `Bytes`.
    ByteArray,
    /// `serde_json`: `key_format = "json"` keys.
    Json,
    /// Bytes a hand-written [`KafkaBytes`] implementation writes, not declared
    /// as one of the above.
    Custom,
}

impl KeyEncoding {
    /// What the bytes are, for messages (`a string (UTF-8)`).
    pub fn describe(self) -> &'static str {
        match self {
            KeyEncoding::Utf8 => "a string (UTF-8)",
            KeyEncoding::Short => "an i16 (2 bytes big-endian)",
            KeyEncoding::Integer => "an i32 (4 bytes big-endian)",
            KeyEncoding::Long => "an i64 (8 bytes big-endian)",
            KeyEncoding::Float => "an f32 (4 bytes big-endian)",
            KeyEncoding::Double => "an f64 (8 bytes big-endian)",
            KeyEncoding::Boolean => "a bool (one byte)",
            KeyEncoding::UuidText => "a UUID (its text, UTF-8)",
            KeyEncoding::ByteArray => "bytes, as they are",
            KeyEncoding::Json => "JSON (key_format = \"json\")",
            KeyEncoding::Custom => "bytes from its own KafkaBytes implementation",
        }
    }
}

impl<T: KafkaBytes + ?Sized> KafkaBytes for &T {
    const ENCODING: KeyEncoding = T::ENCODING;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        (**self).kafka_bytes()
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        (**self).write_kafka_bytes(out)
    }
}

/// Implements [`KafkaBytes`] for a smart pointer as for what it points to
/// (`Arc<str>` is a UTF-8 key, as `String`).
macro_rules! pointer {
    ($($pointer:ident),*) => {$(
        impl<T: KafkaBytes + ?Sized> KafkaBytes for $pointer<T> {
            const ENCODING: KeyEncoding = T::ENCODING;

            fn kafka_bytes(&self) -> Option<Vec<u8>> {
                (**self).kafka_bytes()
            }

            fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
                (**self).write_kafka_bytes(out)
            }
        }
    )*};
}

pointer!(Box, Rc, Arc);

impl<T: KafkaBytes> KafkaBytes for Option<T> {
    const ENCODING: KeyEncoding = T::ENCODING;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        self.as_ref().and_then(T::kafka_bytes)
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        self.as_ref()
            .is_some_and(|value| value.write_kafka_bytes(out))
    }
}

impl KafkaBytes for str {
    const ENCODING: KeyEncoding = KeyEncoding::Utf8;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.as_bytes().to_vec())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(self.as_bytes());
        true
    }
}

impl KafkaBytes for String {
    const ENCODING: KeyEncoding = KeyEncoding::Utf8;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.as_bytes().to_vec())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(self.as_bytes());
        true
    }
}

/// Java's `ByteArraySerializer`: the bytes as they are (so `Arc<[u8]>` and
/// `Box<[u8]>` keys too).
impl KafkaBytes for [u8] {
    const ENCODING: KeyEncoding = KeyEncoding::ByteArray;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.to_vec())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(self);
        true
    }
}

impl KafkaBytes for Vec<u8> {
    const ENCODING: KeyEncoding = KeyEncoding::ByteArray;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.clone())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(&self[..]);
        true
    }
}

impl<const N: usize> KafkaBytes for [u8; N] {
    const ENCODING: KeyEncoding = KeyEncoding::ByteArray;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.to_vec())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(&self[..]);
        true
    }
}

impl KafkaBytes for Bytes {
    const ENCODING: KeyEncoding = KeyEncoding::ByteArray;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.to_vec())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(&self[..]);
        true
    }
}

impl KafkaBytes for bool {
    const ENCODING: KeyEncoding = KeyEncoding::Boolean;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(vec![u8::from(*self)])
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.push(u8::from(*self));
        true
    }
}

impl KafkaBytes for Uuid {
    const ENCODING: KeyEncoding = KeyEncoding::UuidText;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(self.hyphenated().to_string().into_bytes())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        let mut text = Uuid::encode_buffer();
        out.extend_from_slice(self.hyphenated().encode_lower(&mut text).as_bytes());
        true
    }
}

/// Big-endian, as `java.nio.ByteBuffer` (and so Java's serializers) write numbers.
macro_rules! big_endian {
    ($($ty:ty => $encoding:ident),*) => {$(
        impl KafkaBytes for $ty {
            const ENCODING: KeyEncoding = KeyEncoding::$encoding;

            fn kafka_bytes(&self) -> Option<Vec<u8>> {
                Some(self.to_be_bytes().to_vec())
            }

            fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
                out.extend_from_slice(&self.to_be_bytes());
                true
            }
        }
    )*};
}

big_endian!(i16 => Short, i32 => Integer, i64 => Long, f32 => Float);

impl KafkaBytes for f64 {
    const ENCODING: KeyEncoding = KeyEncoding::Double;

    fn kafka_bytes(&self) -> Option<Vec<u8>> {
        Some(java_double_bits(*self).to_vec())
    }

    fn write_kafka_bytes(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(&java_double_bits(*self));
        true
    }
}

/// Java's `DoubleSerializer` writes `doubleToLongBits`, which folds every
/// NaN into one; a NaN with other bits would land elsewhere.
fn java_double_bits(value: f64) -> [u8; 8] {
    let value = if value.is_nan() { f64::NAN } else { value };
    value.to_be_bytes()
}

/// A field usable as the record's Kafka timestamp: milliseconds since the Unix
/// epoch, non-negative, as Kafka requires.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kafka_record::KafkaTimestamp;
/// let placed_at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
/// assert_eq!(placed_at.kafka_timestamp_ms(), Ok(Some(1_700_000_000_123)));
/// assert_eq!(None::<i64>.kafka_timestamp_ms(), Ok(None)); // the send time is used
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a Kafka record timestamp",
    label = "not a timestamp type",
    note = "a #[kafka(timestamp)] field may be SystemTime, i64 (milliseconds since the Unix epoch), TimestampMicros, or an Option of one (None uses the send time)"
)]
pub trait KafkaTimestamp {
    /// Milliseconds since the epoch; `None` lets the producer use the send time.
    fn kafka_timestamp_ms(&self) -> Result<Option<i64>, TimestampError>;
}

/// Kafka rejects negative timestamps (other than its internal "none" marker).
fn non_negative(millis: i64) -> Result<Option<i64>, TimestampError> {
    if millis < 0 {
        Err(TimestampError::BeforeEpoch { millis })
    } else {
        Ok(Some(millis))
    }
}

impl KafkaTimestamp for i64 {
    fn kafka_timestamp_ms(&self) -> Result<Option<i64>, TimestampError> {
        non_negative(*self)
    }
}

impl KafkaTimestamp for SystemTime {
    fn kafka_timestamp_ms(&self) -> Result<Option<i64>, TimestampError> {
        non_negative(millis_since_epoch(*self).ok_or(TimestampError::OutOfRange)?)
    }
}

impl KafkaTimestamp for TimestampMicros {
    fn kafka_timestamp_ms(&self) -> Result<Option<i64>, TimestampError> {
        self.0.kafka_timestamp_ms()
    }
}

impl<T: KafkaTimestamp> KafkaTimestamp for Option<T> {
    fn kafka_timestamp_ms(&self) -> Result<Option<i64>, TimestampError> {
        match self {
            Some(value) => value.kafka_timestamp_ms(),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// `write_kafka_bytes` appends what `kafka_bytes` returns, or nothing.
    fn writes_as_it_returns<T: KafkaBytes + ?Sized>(value: &T) {
        let mut out = b"before".to_vec();
        let written = value.write_kafka_bytes(&mut out);
        match value.kafka_bytes() {
            Some(bytes) => {
                assert!(written);
                assert_eq!(&out[..6], b"before");
                assert_eq!(out[6..], bytes[..]);
            }
            None => {
                assert!(!written);
                assert_eq!(out, b"before");
            }
        }
    }

    #[test]
    fn every_built_in_type_writes_the_bytes_it_returns() {
        writes_as_it_returns("order-1");
        writes_as_it_returns(&String::from("café"));
        writes_as_it_returns(&vec![0_u8, 1, 255]);
        writes_as_it_returns(&[7_u8; 4]);
        writes_as_it_returns(&Bytes::from_static(b"raw"));
        writes_as_it_returns(&true);
        writes_as_it_returns(&false);
        writes_as_it_returns(&Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef));
        writes_as_it_returns(&-2_i16);
        writes_as_it_returns(&258_i32);
        writes_as_it_returns(&-1_i64);
        writes_as_it_returns(&1.5_f32);
        writes_as_it_returns(&f64::from_bits(0x7ff8_0000_0000_0001));
        writes_as_it_returns(&Some(7_i64));
        writes_as_it_returns(&None::<String>);
        writes_as_it_returns(&Arc::<str>::from("shared"));
        writes_as_it_returns(&Rc::new(3_i32));
        writes_as_it_returns(&Box::new(Some("boxed")));
        writes_as_it_returns(&&"borrowed");
        writes_as_it_returns(&b"slice"[..]);
        writes_as_it_returns(&Arc::<[u8]>::from(&b"shared bytes"[..]));
        assert_eq!(<Arc<[u8]>>::ENCODING, KeyEncoding::ByteArray);
        assert_eq!(
            Box::<[u8]>::from(&[1_u8, 2][..]).kafka_bytes(),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn shared_pointers_are_keyed_as_what_they_point_to() {
        let text: Arc<str> = Arc::from("order-1");
        assert_eq!(text.kafka_bytes(), Some(b"order-1".to_vec()));
        assert_eq!(<Arc<str>>::ENCODING, KeyEncoding::Utf8);
        assert_eq!(Rc::new(7i64).kafka_bytes(), 7i64.kafka_bytes());
        assert_eq!(<Option<Box<str>>>::ENCODING, KeyEncoding::Utf8);
        assert_eq!(
            Some(Box::<str>::from("k")).kafka_bytes(),
            Some(b"k".to_vec())
        );
    }

    #[test]
    fn numbers_are_big_endian_like_java_serializers() {
        assert_eq!(1i16.kafka_bytes(), Some(vec![0, 1]));
        assert_eq!((-2i32).kafka_bytes(), Some(vec![0xff, 0xff, 0xff, 0xfe]));
        assert_eq!(
            0x0102_0304_0506_0708i64.kafka_bytes(),
            Some(vec![1, 2, 3, 4, 5, 6, 7, 8])
        );
        // Float.floatToRawIntBits(1.0f) == 0x3f800000
        assert_eq!(1.0f32.kafka_bytes(), Some(vec![0x3f, 0x80, 0, 0]));
        assert_eq!(true.kafka_bytes(), Some(vec![1]));
        // Double.doubleToLongBits: every NaN is 0x7ff8000000000000.
        let odd_nan = f64::from_bits(0x7ff0_0000_0000_0001);
        assert!(odd_nan.is_nan());
        assert_eq!(
            odd_nan.kafka_bytes(),
            Some(vec![0x7f, 0xf8, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            1.5f64.kafka_bytes(),
            Some(vec![0x3f, 0xf8, 0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn uuids_are_their_text_like_javas_uuid_serializer() {
        let uuid = Uuid::from_u128(0xABCD);
        assert_eq!(
            uuid.kafka_bytes(),
            Some(b"00000000-0000-0000-0000-00000000abcd".to_vec())
        );
    }

    #[test]
    fn timestamps_must_not_be_before_the_epoch() {
        let before = UNIX_EPOCH - Duration::from_millis(5);
        assert_eq!(
            before.kafka_timestamp_ms(),
            Err(TimestampError::BeforeEpoch { millis: -5 })
        );
        assert_eq!(
            (-1i64).kafka_timestamp_ms(),
            Err(TimestampError::BeforeEpoch { millis: -1 })
        );
        assert_eq!(Some(7i64).kafka_timestamp_ms(), Ok(Some(7)));
    }
}
