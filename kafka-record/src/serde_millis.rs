//! `#[serde(with = "kafka_record::serde_millis")]` for `SystemTime`
//! fields: serde writes them as an `i64` of milliseconds since the Unix epoch
//! instead of serde's default `{secs_since_epoch, nanos_since_epoch}` struct.
//!
//! That matches the field's Avro schema (`timestamp-millis`), so apache-avro's
//! serde path and JSON consumers see the same number the derived Avro encoder
//! writes.
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Shipped {
//!     #[serde(with = "kafka_record::serde_millis")]
//!     at: SystemTime,
//! }
//! let shipped = Shipped { at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000) };
//! assert_eq!(serde_json::to_string(&shipped).unwrap(), r#"{"at":1700000000000}"#);
//! ```

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serializer};

use super::avro::{millis_since_epoch, time_from_epoch_offset};

/// Serializes as milliseconds since the epoch, rounded down.
pub fn serialize<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    let millis = millis_since_epoch(*time).ok_or_else(|| {
        serde::ser::Error::custom("time out of the i64 millisecond range since the epoch")
    })?;
    serializer.serialize_i64(millis)
}

/// Deserializes milliseconds since the epoch.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SystemTime, D::Error> {
    let millis = i64::deserialize(deserializer)?;
    time_from_epoch_offset(millis, Duration::from_millis).ok_or_else(|| {
        serde::de::Error::custom("milliseconds since the epoch out of SystemTime's range")
    })
}
