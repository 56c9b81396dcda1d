//! Building a type's Avro schema at run time from the pieces each [`AvroType`]
//! writes, and the finished [`AvroSchema`] with its canonical form and fingerprint.
//!
//! Schemas are assembled at run time, not in the derive, because a record's
//! schema embeds the schemas of its field types, which the derive for the outer
//! struct cannot see.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;

use super::AvroType;
use super::fingerprint::crc64_avro;

/// Why a type's Avro schema could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AvroSchemaError {
    /// Two different Rust types claim the same Avro full name in one schema.
    #[error(
        "Avro name `{full_name}` is used by both `{first_type}` and `{second_type}`; \
         give one of them another name or namespace (`#[serde(rename = \"...\")]` or \
         `#[kafka(namespace = \"...\")]`)"
    )]
    NameCollision {
        /// The Avro full name (namespace and name).
        full_name: String,
        /// The Rust type that defined the name first.
        first_type: &'static str,
        /// The Rust type that defined it again.
        second_type: &'static str,
    },
    /// apache-avro rejected the generated schema. Every check the derive can make
    /// at compile time is made there, so this names a case it could not see (for
    /// example an `Option<T>` where `T` is itself a union, through a type alias).
    #[error("the Avro schema generated for `{type_name}` is invalid: {reason}; schema: {json}")]
    Rejected {
        /// The Rust type whose schema was built.
        type_name: &'static str,
        /// apache-avro's message.
        reason: String,
        /// The schema that was rejected.
        json: String,
    },
}

/// The identity of a named Avro type (record or enum): its Rust type, so that
/// the same type met twice is referenced, and two types with one name are caught.
#[derive(Debug, Clone, Copy)]
pub struct NamedTypeId {
    id: TypeId,
    type_name: &'static str,
}

impl NamedTypeId {
    /// The identity of `T`.
    pub fn of<T: ?Sized + 'static>() -> Self {
        NamedTypeId {
            id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
        }
    }
}

/// Returned by [`SchemaWriter::begin_named`] when the type is defined here; hand it
/// back to [`SchemaWriter::end_named`] after writing the definition.
#[must_use = "pass the scope to end_named after writing the definition"]
#[derive(Debug)]
pub struct NamedScope {
    outer_namespace: Option<String>,
}

/// Accumulates the JSON text of a schema. Named types are defined the first time
/// they are met and referenced by full name after, which also makes recursive
/// records work.
#[derive(Debug, Default)]
pub struct SchemaWriter {
    json: String,
    defined: HashMap<String, NamedTypeId>,
    namespace: Option<String>,
}

impl SchemaWriter {
    /// An empty writer.
    pub fn new() -> Self {
        SchemaWriter::default()
    }

    /// Appends JSON text as is.
    pub fn raw(&mut self, json: &str) {
        self.json.push_str(json);
    }

    /// Starts a named type. If the name is new, records it, enters its namespace
    /// and returns a scope: the caller writes the definition and calls
    /// [`end_named`](Self::end_named). If the same type was defined before, writes
    /// a reference to it and returns `None`.
    ///
    /// `namespace` is the type's own namespace; `None` inherits the enclosing
    /// one, as Avro's name resolution does.
    pub fn begin_named(
        &mut self,
        identity: NamedTypeId,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Option<NamedScope>, AvroSchemaError> {
        let namespace = namespace
            .map(str::to_owned)
            .or_else(|| self.namespace.clone());
        let full_name = match &namespace {
            Some(namespace) => format!("{namespace}.{name}"),
            None => name.to_owned(),
        };
        if let Some(first) = self.defined.get(&full_name) {
            if first.id != identity.id {
                return Err(AvroSchemaError::NameCollision {
                    full_name,
                    first_type: first.type_name,
                    second_type: identity.type_name,
                });
            }
            self.json.push('"');
            self.json.push_str(&full_name);
            self.json.push('"');
            return Ok(None);
        }
        self.defined.insert(full_name, identity);
        let outer_namespace = std::mem::replace(&mut self.namespace, namespace);
        Ok(Some(NamedScope { outer_namespace }))
    }

    /// Ends a named type's definition, restoring the enclosing namespace.
    pub fn end_named(&mut self, scope: NamedScope) {
        self.namespace = scope.outer_namespace;
    }

    /// Ends a record field whose head (`{"name":..,"type":`) and type schema
    /// were written: adds `"default":null` when the type is an `Option`, so
    /// readers can fill the field in from older data, and closes the object.
    pub fn end_field(&mut self, nullable: bool) {
        if nullable {
            self.raw(",\"default\":null");
        }
        self.raw("}");
    }

    /// The JSON written so far.
    pub fn into_json(self) -> String {
        self.json
    }
}

/// A type's complete Avro schema: the JSON text the derive generated, the schema
/// parsed by apache-avro, its Parsing Canonical Form and its CRC-64-AVRO
/// fingerprint (what single-object encoding and schema registries identify it by).
#[derive(Clone)]
pub struct AvroSchema {
    json: String,
    parsed: apache_avro::Schema,
    canonical_form: String,
    fingerprint: u64,
}

impl AvroSchema {
    /// Builds and checks the schema of `T`. Derived types cache the result in a
    /// static; see [`AvroNamed::avro_schema`](super::AvroNamed::avro_schema).
    pub fn build<T: AvroType + ?Sized>() -> Result<AvroSchema, AvroSchemaError> {
        let mut writer = SchemaWriter::new();
        T::write_schema(&mut writer)?;
        let json = writer.into_json();
        let parsed =
            apache_avro::Schema::parse_str(&json).map_err(|error| AvroSchemaError::Rejected {
                type_name: std::any::type_name::<T>(),
                reason: error.to_string(),
                json: json.clone(),
            })?;
        let canonical_form = primitives_in_simple_form(&parsed.canonical_form());
        let fingerprint = crc64_avro(canonical_form.as_bytes());
        Ok(AvroSchema {
            json,
            parsed,
            canonical_form,
            fingerprint,
        })
    }

    /// The schema as generated (with docs and logical types).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The schema as apache-avro parsed it, for use with apache-avro's readers
    /// and writers.
    pub fn parsed(&self) -> &apache_avro::Schema {
        &self.parsed
    }

    /// The Parsing Canonical Form: the schema stripped of docs, defaults and
    /// logical types, with full names; what fingerprints are computed from.
    pub fn canonical_form(&self) -> &str {
        &self.canonical_form
    }

    /// CRC-64-AVRO of the canonical form.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The fingerprint in the little-endian byte order single-object encoding
    /// writes it in.
    pub fn fingerprint_le_bytes(&self) -> [u8; 8] {
        self.fingerprint.to_le_bytes()
    }
}

impl fmt::Debug for AvroSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AvroSchema")
            .field("canonical_form", &self.canonical_form)
            .field("fingerprint", &format_args!("{:#018x}", self.fingerprint))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AvroSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.json)
    }
}

/// The Parsing Canonical Form's [PRIMITIVES] rule, which apache-avro's
/// `canonical_form` misses once it has stripped a logical type: it leaves
/// `{"type":"long"}` where Java's `SchemaNormalization` writes `"long"`, so a
/// schema with a `SystemTime` (timestamp-millis), a `Uuid` or a date had
/// another fingerprint than Java computes, and Java's single-object decoder
/// could not find its schema. The form has no whitespace, and no string in it
/// (names, symbols) can hold a brace or a quote, so the rewrite is exact.
fn primitives_in_simple_form(canonical: &str) -> String {
    const PRIMITIVES: [&str; 8] = [
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    ];
    PRIMITIVES
        .iter()
        .fold(canonical.to_owned(), |form, primitive| {
            form.replace(
                &format!(r#"{{"type":"{primitive}"}}"#),
                &format!(r#""{primitive}""#),
            )
        })
}

#[cfg(test)]
mod canonical_form_tests {
    use super::*;

    #[test]
    fn a_logical_types_base_is_written_as_its_simple_primitive_as_java_does() {
        // What apache-avro gives for a record with timestamp-millis, uuid and
        // date fields, and what Java's SchemaNormalization gives.
        let with_logical = apache_avro::Schema::parse_str(
            r#"{"type":"record","name":"Tick","namespace":"shop","fields":[
                {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"id","type":{"type":"string","logicalType":"uuid"}},
                {"name":"day","type":["null",{"type":"int","logicalType":"date"}]}]}"#,
        )
        .unwrap();
        let plain = apache_avro::Schema::parse_str(
            r#"{"type":"record","name":"Tick","namespace":"shop","fields":[
                {"name":"at","type":"long"},{"name":"id","type":"string"},
                {"name":"day","type":["null","int"]}]}"#,
        )
        .unwrap();
        let ours = primitives_in_simple_form(&with_logical.canonical_form());
        assert_eq!(
            ours,
            r#"{"name":"shop.Tick","type":"record","fields":[{"name":"at","type":"long"},{"name":"id","type":"string"},{"name":"day","type":["null","int"]}]}"#
        );
        assert_eq!(ours, plain.canonical_form());
        assert_eq!(
            crc64_avro(ours.as_bytes()),
            crc64_avro(plain.canonical_form().as_bytes())
        );
    }
}
