//! [`AvroType`] for the std types that have an Avro mapping.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::rc::Rc;
use std::sync::Arc;

use super::encode::{
    write_block_count, write_boolean, write_bytes, write_double, write_end_of_blocks, write_float,
    write_int, write_long, write_string,
};
use super::{AvroEncodeError, AvroSchemaError, AvroType, SchemaWriter};

/// Implements [`AvroType`] for a primitive: its schema name and how to write it.
macro_rules! primitive {
    ($($ty:ty => $schema:literal, |$value:ident, $out:ident| $write:expr;)*) => {$(
        impl AvroType for $ty {
            fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
                writer.raw(concat!("\"", $schema, "\""));
                Ok(())
            }

            #[inline]
            fn encode(&self, $out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
                let $value = self;
                $write;
                Ok(())
            }
        }
    )*};
}

primitive! {
    bool => "boolean", |v, out| write_boolean(out, *v);
    i8 => "int", |v, out| write_int(out, i32::from(*v));
    i16 => "int", |v, out| write_int(out, i32::from(*v));
    i32 => "int", |v, out| write_int(out, *v);
    u16 => "int", |v, out| write_int(out, i32::from(*v));
    // u32 exceeds int; apache-avro's serde writes it as long when above i32::MAX.
    u32 => "long", |v, out| write_long(out, i64::from(*v));
    i64 => "long", |v, out| write_long(out, *v);
    f32 => "float", |v, out| write_float(out, *v);
    f64 => "double", |v, out| write_double(out, *v);
    String => "string", |v, out| write_string(out, v);
    str => "string", |v, out| write_string(out, v);
    char => "string", |v, out| write_string(out, v.encode_utf8(&mut [0u8; 4]));
    // Vec<u8> is bytes, not an array of ints; u8 has no AvroType of its own, which
    // is what lets this impl coexist with the one for Vec<T>.
    Vec<u8> => "bytes", |v, out| write_bytes(out, v);
}

/// Implements [`AvroType`] for a smart pointer as for what it points to:
/// `Box<Node>` for recursive records, `Arc<str>` for text shared between
/// events without copying.
macro_rules! pointer {
    ($($pointer:ident),*) => {$(
        impl<T: AvroType + ?Sized> AvroType for $pointer<T> {
            const NULLABLE: bool = T::NULLABLE;

            fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
                T::write_schema(writer)
            }

            #[inline]
            fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
                (**self).encode(out)
            }
        }
    )*};
}

pointer!(Box, Arc, Rc);

/// `["null", T]`: null first, so that a field can default to null.
impl<T: AvroType> AvroType for Option<T> {
    const NULLABLE: bool = true;

    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        writer.raw("[\"null\",");
        T::write_schema(writer)?;
        writer.raw("]");
        Ok(())
    }

    #[inline]
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        match self {
            None => {
                write_long(out, 0);
                Ok(())
            }
            Some(value) => {
                write_long(out, 1);
                value.encode(out)
            }
        }
    }
}

impl<T: AvroType> AvroType for Vec<T> {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        writer.raw("{\"type\":\"array\",\"items\":");
        T::write_schema(writer)?;
        writer.raw("}");
        Ok(())
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        // One block holding every item, then the end marker; an empty array is
        // only the end marker. This is apache-avro's writer's layout.
        if !self.is_empty() {
            write_block_count(out, self.len());
            for item in self {
                item.encode(out)?;
            }
        }
        write_end_of_blocks(out);
        Ok(())
    }
}

/// Writes a map's schema: Avro map keys are always strings.
fn write_map_schema<V: AvroType>(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
    writer.raw("{\"type\":\"map\",\"values\":");
    V::write_schema(writer)?;
    writer.raw("}");
    Ok(())
}

/// Writes a map's entries as one block, like arrays.
fn encode_map<'a, V: AvroType + 'a>(
    len: usize,
    entries: impl Iterator<Item = (&'a String, &'a V)>,
    out: &mut Vec<u8>,
) -> Result<(), AvroEncodeError> {
    if len > 0 {
        write_block_count(out, len);
        for (key, value) in entries {
            write_string(out, key);
            value.encode(out)?;
        }
    }
    write_end_of_blocks(out);
    Ok(())
}

impl<V: AvroType, S: BuildHasher> AvroType for HashMap<String, V, S> {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        write_map_schema::<V>(writer)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        encode_map(self.len(), self.iter(), out)
    }
}

impl<V: AvroType> AvroType for BTreeMap<String, V> {
    fn write_schema(writer: &mut SchemaWriter) -> Result<(), AvroSchemaError> {
        write_map_schema::<V>(writer)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), AvroEncodeError> {
        encode_map(self.len(), self.iter(), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded<T: AvroType + ?Sized>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        value.encode(&mut out).expect("encodes");
        out
    }

    fn schema<T: AvroType + ?Sized>() -> String {
        let mut writer = SchemaWriter::new();
        T::write_schema(&mut writer).expect("schema");
        writer.into_json()
    }

    #[test]
    fn arrays_are_one_block_and_an_end_marker() {
        assert_eq!(encoded(&Vec::<i32>::new()), [0]);
        assert_eq!(encoded(&vec![1i32, 2]), [4, 2, 4, 0]);
    }

    #[test]
    fn shared_pointers_are_written_as_what_they_point_to() {
        let text: Arc<str> = Arc::from("héllo");
        assert_eq!(encoded(&text), encoded("héllo"));
        assert_eq!(schema::<Arc<str>>(), r#""string""#);
        assert_eq!(encoded(&Rc::new(7i64)), encoded(&7i64));
        assert_eq!(schema::<Option<Rc<str>>>(), r#"["null","string"]"#);
        assert_eq!(encoded(&Box::<str>::from("x")), encoded("x"));
    }

    #[test]
    fn options_are_unions_with_null_first() {
        assert_eq!(encoded(&None::<i32>), [0]);
        assert_eq!(encoded(&Some(1i32)), [2, 2]);
        assert_eq!(schema::<Option<String>>(), r#"["null","string"]"#);
    }

    #[test]
    fn vec_u8_is_bytes_and_other_vecs_are_arrays() {
        assert_eq!(schema::<Vec<u8>>(), r#""bytes""#);
        assert_eq!(schema::<Vec<i16>>(), r#"{"type":"array","items":"int"}"#);
        assert_eq!(encoded(&vec![7u8, 8]), [4, 7, 8]);
    }

    #[test]
    fn maps_have_string_keys() {
        let map: BTreeMap<String, i64> = [("a".to_owned(), 1)].into();
        assert_eq!(encoded(&map), [2, 2, b'a', 2, 0]);
        assert_eq!(
            schema::<HashMap<String, bool>>(),
            r#"{"type":"map","values":"boolean"}"#
        );
    }

    #[test]
    fn chars_are_one_character_strings() {
        assert_eq!(encoded(&'é'), [4, 0xc3, 0xa9]);
    }
}
