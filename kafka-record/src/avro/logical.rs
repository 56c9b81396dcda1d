//! Avro logical types: `timestamp-millis` (for `SystemTime`), `timestamp-micros`,
//! `date` and `uuid`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apache_avro::Uuid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::encode::{write_bytes, write_int, write_long};
use super::{AvroEncodeError, AvroEncodeErrorReason, AvroSchemaError, AvroType, SchemaWriter};

/// Whole `unit`s between the epoch and `time`, rounded towards negative
/// infinity (as Java's `Instant.toEpochMilli` does), or `None` when the count
/// does not fit an `i64`.
pub(crate) fn units_since_epoch(time: SystemTime, unit: Duration) -> Option<i64> {
    let unit_nanos = unit.as_nanos();
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos() / unit_nanos).ok(),
        Err(before) => {
            let nanos = before.duration().as_nanos();
            let whole = nanos / unit_nanos + u128::from(nanos % unit_nanos != 0);
            // -(2^63) units is representable, so negate in i128.
            i64::try_from(-i128::try_from(whole).ok()?).ok()
        }
    }
}

/// The time `count` units (made by `unit`) after the epoch, or before it when
/// negative; `None` outside `SystemTime`'s range.
pub(crate) fn time_from_epoch_offset(count: i64, unit: fn(u64) -> Duration) -> Option<SystemTime> {
    let offset = unit(count.unsigned_abs());
    if count >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    }
}

/// Writes a `SystemTime` as a `long` count of `unit`s since the epoch.
fn encode_time(
    time: SystemTime,
    unit: Duration,
    logical_type: &'static str,
    out: &mut Vec<u8>,
) -> Result<(), AvroEncodeError> {
    let count = units_since_epoch(time, unit).ok_or(AvroEncodeError::new(
        AvroEncodeErrorReason::TimestampOutOfRange { logical_type },
    ))?;
    write_long(out, count);
    Ok(())
}

const MILLISECOND: Duration = Duration::from_millis(1);
const MICROSECOND: Duration = Duration::from_micros(1);

/// Milliseconds since the epoch, rounded down; `None` outside the `i64` range.
pub(crate) fn millis_since_epoch(time: SystemTime) -> Option<i64> {
    units_since_epoch(time, MILLISECOND)
}

/// `SystemTime` is `{"type":"long","logicalType":"timestamp-millis"}`; use
/// [`TimestampMicros`] for microseconds.
impl AvroType for SystemTime {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        writer.raw(r#"{"type":"long","logicalType":"timestamp-millis"}"#);
        Ok(())
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        encode_time(*self, MILLISECOND, "timestamp-millis", out)
    }
}

/// A `SystemTime` written as Avro `timestamp-micros` (and by serde as an `i64`
/// of microseconds since the epoch, so JSON and apache-avro's serde path agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimestampMicros(pub SystemTime);

impl From<SystemTime> for TimestampMicros {
    fn from(time: SystemTime) -> Self {
        TimestampMicros(time)
    }
}

impl AvroType for TimestampMicros {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        writer.raw(r#"{"type":"long","logicalType":"timestamp-micros"}"#);
        Ok(())
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        encode_time(self.0, MICROSECOND, "timestamp-micros", out)
    }
}

impl Serialize for TimestampMicros {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let micros = units_since_epoch(self.0, MICROSECOND).ok_or_else(|| {
            serde::ser::Error::custom("time out of the i64 microsecond range since the epoch")
        })?;
        serializer.serialize_i64(micros)
    }
}

impl<'de> Deserialize<'de> for TimestampMicros {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let micros = i64::deserialize(deserializer)?;
        time_from_epoch_offset(micros, Duration::from_micros)
            .map(TimestampMicros)
            .ok_or_else(|| {
                serde::de::Error::custom("microseconds since the epoch out of SystemTime's range")
            })
    }
}

/// A calendar date as days since 1970-01-01: Avro `{"type":"int","logicalType":"date"}`.
/// Serde writes it as the `i32` day count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Date(pub i32);

impl AvroType for Date {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        writer.raw(r#"{"type":"int","logicalType":"date"}"#);
        Ok(())
    }

    #[inline]
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        write_int(out, self.0);
        Ok(())
    }
}

/// `uuid::Uuid` is `{"type":"string","logicalType":"uuid"}`, written in its
/// lowercase hyphenated form as apache-avro writes it.
impl AvroType for Uuid {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        writer.raw(r#"{"type":"string","logicalType":"uuid"}"#);
        Ok(())
    }

    #[inline]
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        let mut text = Uuid::encode_buffer();
        write_bytes(out, self.hyphenated().encode_lower(&mut text).as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_before_the_epoch_round_down_like_java() {
        let before = UNIX_EPOCH - Duration::from_micros(1_500);
        assert_eq!(units_since_epoch(before, MILLISECOND), Some(-2));
        let after = UNIX_EPOCH + Duration::from_micros(1_500);
        assert_eq!(units_since_epoch(after, MILLISECOND), Some(1));
        let exact = UNIX_EPOCH - Duration::from_millis(3);
        assert_eq!(units_since_epoch(exact, MILLISECOND), Some(-3));
    }

    #[test]
    fn uuids_are_lowercase_hyphenated_strings() {
        let uuid = Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
        let mut out = Vec::new();
        uuid.encode(&mut out).expect("encodes");
        assert_eq!(out[0], 72); // zig-zag of 36
        assert_eq!(&out[1..], b"12345678-9abc-def0-1234-56789abcdef0");
    }

    #[test]
    fn timestamp_micros_serializes_as_an_integer() {
        let time = TimestampMicros(UNIX_EPOCH + Duration::from_micros(42));
        assert_eq!(serde_json::to_string(&time).expect("serializes"), "42");
        let back: TimestampMicros = serde_json::from_str("42").expect("deserializes");
        assert_eq!(back, time);
    }
}
