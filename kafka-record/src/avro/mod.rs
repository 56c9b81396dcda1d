//! Avro support for derived records: the [`AvroType`] trait every field type
//! implements (its schema and its binary encoder), [`AvroNamed`] for the records
//! and enums `#[derive(AvroType)]` and `#[derive(KafkaRecord)]` generate, and the
//! finished [`AvroSchema`].
//!
//! The encoder writes Avro binary straight from the Rust value, with no
//! intermediate `apache_avro::types::Value`; its output is byte-for-byte what
//! apache-avro's writer produces for the same schema and value (the derive
//! crate's property tests check this). The one exception is the order of map
//! entries, which in apache-avro follows a `HashMap`'s iteration order: the
//! bytes of a map with several entries may differ in order, and decode to the
//! same map.

mod encode;
mod fingerprint;
mod impls;
mod logical;
mod schema;

use std::fmt;

pub use encode::{
    write_block_count, write_boolean, write_bytes, write_double, write_end_of_blocks, write_float,
    write_int, write_long, write_string,
};
pub use fingerprint::crc64_avro;
pub use logical::{Date, TimestampMicros};
pub(crate) use logical::{millis_since_epoch, time_from_epoch_offset};
pub use schema::{AvroSchema, AvroSchemaError, NamedScope, NamedTypeId, SchemaWriter};

/// A Rust type with an Avro schema and a binary encoder.
///
/// Implemented here for the std types that have an Avro mapping, and by
/// `#[derive(AvroType)]` / `#[derive(KafkaRecord)]` for records and unit-only
/// enums:
///
/// | Rust | Avro |
/// |---|---|
/// | `bool` | `boolean` |
/// | `i8`, `i16`, `i32`, `u16` | `int` |
/// | `i64`, `u32` | `long` |
/// | `f32` / `f64` | `float` / `double` |
/// | `String`, `str`, `char` | `string` |
/// | `Vec<u8>` | `bytes` |
/// | `Vec<T>` | `array` |
/// | `Option<T>` | `["null", T]`, field default `null` |
/// | `Box<T>`, `Arc<T>`, `Rc<T>` (`Arc<str>` too) | as `T` |
/// | `HashMap<String, T>`, `BTreeMap<String, T>` | `map` |
/// | `SystemTime` | `long` / `timestamp-millis` |
/// | [`TimestampMicros`] | `long` / `timestamp-micros` |
/// | [`Date`] | `int` / `date` |
/// | `uuid::Uuid` (re-exported by apache-avro) | `string` / `uuid` |
///
/// `u8` on its own has none (`Vec<u8>` is `bytes`); `u64`, `usize`, `i128` and
/// `u128` have none either, because an Avro `long` is signed 64-bit.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Avro mapping",
    label = "this type cannot be written as Avro",
    note = "derive `AvroType` on structs (Avro records) and unit-only enums (Avro enums) used inside an Avro record",
    note = "std types with a mapping: bool, i8, i16, i32, u16, u32, i64, f32, f64, char, String, Vec<u8> (bytes), Vec<T>, Option<T>, Box<T>, Arc<T>, Rc<T>, HashMap<String, T>, BTreeMap<String, T>, SystemTime, Uuid, TimestampMicros, Date"
)]
pub trait AvroType {
    /// True only for `Option<T>`: its schema is a union starting with `null`, so a
    /// record field of this type gets `"default": null`.
    const NULLABLE: bool = false;

    /// Writes this type's schema into `writer`: a primitive name, a complex type,
    /// or for a named type its definition the first time and its full name after.
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError>;

    /// Appends this value's Avro binary encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError>;
}

/// A named Avro type (a record or an enum) whose complete schema is built once
/// and kept in a static. Implemented by the derives.
pub trait AvroNamed: AvroType + 'static {
    /// The schema, built and checked with apache-avro on first use.
    fn avro_schema() -> Result<&'static AvroSchema, AvroSchemaError>;

    /// This value as a raw Avro datum (no framing).
    fn to_avro_datum(&self) -> Result<Vec<u8>, AvroEncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

/// A value the Avro encoder could not write. Records the path of fields that
/// led to it, innermost last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroEncodeError {
    /// Field names from the outermost record inwards (built while unwinding).
    path_reversed: Vec<&'static str>,
    /// What was wrong with the value.
    reason: AvroEncodeErrorReason,
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AvroEncodeErrorReason {
    /// A `SystemTime` outside the `i64` range of the logical type's unit.
    TimestampOutOfRange {
        /// `"timestamp-millis"` or `"timestamp-micros"`.
        logical_type: &'static str,
    },
    /// An enum variant serde skips, which therefore has no Avro symbol.
    SkippedVariant {
        /// The Rust enum.
        enum_type: &'static str,
        /// The variant.
        variant: &'static str,
    },
}

impl AvroEncodeError {
    /// An error with no field path yet.
    pub fn new(reason: AvroEncodeErrorReason) -> Self {
        AvroEncodeError {
            path_reversed: Vec::new(),
            reason,
        }
    }

    /// Adds the field the error passed through on its way out.
    #[must_use]
    pub fn in_field(mut self, field: &'static str) -> Self {
        self.path_reversed.push(field);
        self
    }

    /// The field path, outermost first (for example `["customer", "since"]`).
    pub fn path(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.path_reversed.iter().rev().copied()
    }

    /// What was wrong.
    pub fn reason(&self) -> AvroEncodeErrorReason {
        self.reason
    }
}

impl fmt::Display for AvroEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path_reversed.is_empty() {
            f.write_str("field `")?;
            for (i, field) in self.path().enumerate() {
                if i > 0 {
                    f.write_str(".")?;
                }
                f.write_str(field)?;
            }
            f.write_str("`: ")?;
        }
        match self.reason {
            AvroEncodeErrorReason::TimestampOutOfRange { logical_type } => write!(
                f,
                "the time does not fit an Avro {logical_type} (an i64 count since the Unix epoch)"
            ),
            AvroEncodeErrorReason::SkippedVariant { enum_type, variant } => write!(
                f,
                "`{enum_type}::{variant}` is skipped by serde, so the Avro enum has no symbol for it"
            ),
        }
    }
}

impl std::error::Error for AvroEncodeError {}
