//! Reading a record's value back into its type: for tests and tools that check
//! what was sent (the template's mock uses it), not for a consumer.

use serde::de::DeserializeOwned;

use super::KafkaRecord;
use super::avro::AvroSchemaError;
use super::framing::{CONFLUENT_MAGIC, SINGLE_OBJECT_MARKER, ValueFormat, ValueFraming};

/// A value could not be read back as the record type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValueReadError {
    /// The JSON does not deserialize into the type.
    #[error("record `{record_type}`: the value is not its JSON: {source}")]
    Json {
        /// The record's Rust type name.
        record_type: &'static str,
        /// `serde_json`'s error.
        #[source]
        source: serde_json::Error,
    },
    /// The type's Avro schema could not be built.
    #[error("record `{record_type}`: {source}")]
    AvroSchema {
        /// The record's Rust type name.
        record_type: &'static str,
        /// Why the schema could not be built.
        #[source]
        source: AvroSchemaError,
    },
    /// The bytes do not start with the frame they were expected to have.
    #[error("record `{record_type}`: expected a value in the {framing} framing: {problem}")]
    Frame {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The framing expected.
        framing: &'static str,
        /// What was found instead.
        problem: String,
    },
    /// The Avro datum does not decode with the type's schema, or not into the type.
    #[error("record `{record_type}`: the value does not decode as its Avro schema: {message}")]
    Avro {
        /// The record's Rust type name.
        record_type: &'static str,
        /// apache-avro's message.
        message: String,
    },
}

/// Reads `value`, written by [`KafkaRecord::write_value`] in `framing`, back
/// into `T` (which must also implement `serde::Deserialize`). JSON values are
/// read with `serde_json`; Avro values are checked against their frame (the
/// single-object fingerprint must be `T`'s schema's, the Confluent frame's id
/// must be the one given) and decoded with apache-avro, which must consume the
/// whole datum.
///
/// The template's `SentRecord::value_as` reads what its mock recorded with it;
/// `kafka-derive`'s tests read every framing back.
pub fn read_value<T: KafkaRecord + DeserializeOwned>(
    value: &[u8],
    framing: &ValueFraming,
) -> Result<T, ValueReadError> {
    let record_type = T::record_type_name();
    let schema = match T::value_schema() {
        None if T::value_format() == ValueFormat::Json => {
            let json = match framing {
                ValueFraming::Confluent { schema_id } => {
                    strip_confluent(value, *schema_id, record_type)?
                }
                _ => value,
            };
            return serde_json::from_slice(json).map_err(|source| ValueReadError::Json {
                record_type,
                source,
            });
        }
        None => {
            return Err(ValueReadError::Avro {
                record_type,
                message: "the type declares Avro but has no schema".to_owned(),
            });
        }
        Some(schema) => schema.map_err(|source| ValueReadError::AvroSchema {
            record_type,
            source,
        })?,
    };
    let mut datum = match framing {
        ValueFraming::Raw => value,
        ValueFraming::SingleObject => {
            let frame_error = |problem: String| ValueReadError::Frame {
                record_type,
                framing: framing.name(),
                problem,
            };
            let Some(rest) = value.strip_prefix(&SINGLE_OBJECT_MARKER) else {
                return Err(frame_error(format!(
                    "it does not start with the marker C3 01 ({} bytes)",
                    value.len()
                )));
            };
            let Some((fingerprint, datum)) = rest.split_first_chunk::<8>() else {
                return Err(frame_error("it ends inside the fingerprint".to_owned()));
            };
            let found = u64::from_le_bytes(*fingerprint);
            if found != schema.fingerprint() {
                return Err(frame_error(format!(
                    "it was written with the schema of fingerprint {found:#018x}, and `{record_type}`'s is {:#018x}",
                    schema.fingerprint()
                )));
            }
            datum
        }
        ValueFraming::Confluent { schema_id } => strip_confluent(value, *schema_id, record_type)?,
    };
    let decoded =
        apache_avro::from_avro_datum(schema.parsed(), &mut datum, None).map_err(|error| {
            ValueReadError::Avro {
                record_type,
                message: error.to_string(),
            }
        })?;
    if !datum.is_empty() {
        return Err(ValueReadError::Avro {
            record_type,
            message: format!("{} bytes are left after the datum", datum.len()),
        });
    }
    apache_avro::from_value(&decoded).map_err(|error| ValueReadError::Avro {
        record_type,
        message: error.to_string(),
    })
}

/// The bytes after a Confluent frame with `schema_id`.
fn strip_confluent<'v>(
    value: &'v [u8],
    schema_id: u32,
    record_type: &'static str,
) -> Result<&'v [u8], ValueReadError> {
    let frame_error = |problem: String| ValueReadError::Frame {
        record_type,
        framing: "Confluent",
        problem,
    };
    match value.split_first_chunk::<5>() {
        Some(([CONFLUENT_MAGIC, id @ ..], rest)) => {
            let found = u32::from_be_bytes(*id);
            if found == schema_id {
                Ok(rest)
            } else {
                Err(frame_error(format!(
                    "its schema id is {found}, not {schema_id}"
                )))
            }
        }
        Some(_) => Err(frame_error(
            "it does not start with the magic byte 0".to_owned(),
        )),
        None => Err(frame_error(format!(
            "it is {} bytes, shorter than the 5-byte frame",
            value.len()
        ))),
    }
}
