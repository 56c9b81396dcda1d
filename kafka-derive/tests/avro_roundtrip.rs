//! Derived Avro schemas and encoders against apache-avro: the schema parses,
//! fingerprints agree, and what the derived encoder writes is what apache-avro's
//! writer writes and decodes with its reader, in every framing. (The
//! fingerprint is Java's: apache-avro's own differs for a schema with logical
//! types, whose canonical form it leaves unsimplified.)

mod common;

use apache_avro::rabin::Rabin;
use apache_avro::types::Value;
use apache_avro::{GenericSingleObjectReader, Schema, from_avro_datum, to_avro_datum, to_value};
use common::*;
use kafka_derive::AvroType;
use kafka_record::avro::{AvroNamed, AvroSchemaError};
use kafka_record::{KafkaRecord, SerializationError, ValueFraming};

fn decode(schema: &Schema, bytes: &[u8]) -> Value {
    let mut reader = bytes;
    let value = from_avro_datum(schema, &mut reader, None).expect("apache-avro decodes it");
    assert!(reader.is_empty(), "{} bytes left over", reader.len());
    value
}

#[test]
fn order_placed_schema_is_the_expected_avro() {
    let schema = OrderPlaced::avro_schema().expect("schema builds");
    let expected = r#"{"type":"record","name":"OrderPlaced","namespace":"com.shop","doc":"An order was placed.","fields":[
        {"name":"order_id","type":"string"},
        {"name":"customer","doc":"Who ordered.","type":{"type":"record","name":"Customer","doc":"A customer.","fields":[
            {"name":"id","type":"long"},
            {"name":"name","type":"string"},
            {"name":"email","type":["null","string"],"default":null}]}},
        {"name":"amount_cents","type":"long"},
        {"name":"coupon","type":["null","string"],"default":null},
        {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
            {"name":"sku","type":"string"},
            {"name":"quantity","type":"int"},
            {"name":"unit_price_cents","type":"long"}]}}},
        {"name":"tenant","type":"string"},
        {"name":"placed_at","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#;
    let expected: String = expected.lines().map(str::trim).collect();
    assert_eq!(schema.json(), expected);
    assert_eq!(
        *schema.parsed(),
        Schema::parse_str(&expected).expect("parses")
    );
}

/// The schema with each logical type replaced by its base type: what the
/// Parsing Canonical Form reduces a logical type to (Java's
/// `SchemaNormalization`), and what apache-avro's own canonical form gets
/// right when no logical type is left for it to strip.
fn without_logical_types(json: &str) -> Schema {
    let mut plain = json.to_owned();
    for base in ["long", "int", "string"] {
        for logical in ["timestamp-millis", "timestamp-micros", "date", "uuid"] {
            plain = plain.replace(
                &format!(r#"{{"type":"{base}","logicalType":"{logical}"}}"#),
                &format!(r#""{base}""#),
            );
        }
    }
    assert!(!plain.contains("logicalType"), "{plain}");
    Schema::parse_str(&plain).expect("the plain schema parses")
}

#[test]
fn canonical_form_and_fingerprint_are_javas() {
    for schema in [
        OrderPlaced::avro_schema().expect("schema"),
        AllTypes::avro_schema().expect("schema"),
    ] {
        Schema::parse_str(schema.json()).expect("the JSON parses");
        // A logical type's base in its simple form (`"long"`), as Java
        // writes it, not `{"type":"long"}` as apache-avro leaves it.
        let plain = without_logical_types(schema.json());
        assert_eq!(schema.canonical_form(), plain.canonical_form());
        let java = plain.fingerprint::<Rabin>().bytes;
        assert_eq!(schema.fingerprint_le_bytes().as_slice(), java.as_slice());
    }
}

#[test]
fn the_schema_is_a_static_built_once() {
    let first = OrderPlaced::avro_schema().expect("schema");
    let second = OrderPlaced::avro_schema().expect("schema");
    assert!(std::ptr::eq(first, second));
    assert!(std::ptr::eq(
        first,
        OrderPlaced::value_schema()
            .expect("an Avro record")
            .expect("schema")
    ));
}

#[test]
fn order_placed_round_trips_through_apache_avro() {
    let schema = OrderPlaced::avro_schema().expect("schema");
    for items in [0, 1, 3] {
        let order = sample_order(items);
        let ours = order.to_avro_datum().expect("encodes");
        assert_eq!(decode(schema.parsed(), &ours), order_value(&order));
        let writer = to_avro_datum(schema.parsed(), order_value(&order)).expect("writes");
        assert_eq!(ours, writer, "apache-avro's writer, from a Value");
        let serde_path =
            to_avro_datum(schema.parsed(), to_value(&order).expect("to_value")).expect("writes");
        assert_eq!(ours, serde_path, "apache-avro's serde path");
    }
}

#[test]
fn every_supported_type_round_trips_through_apache_avro() {
    let schema = AllTypes::avro_schema().expect("schema");
    let value = sample_all_types();
    let ours = value.to_avro_datum().expect("encodes");
    let expected = all_types_value(&value);
    assert_eq!(decode(schema.parsed(), &ours), expected);
    assert_eq!(
        ours,
        to_avro_datum(schema.parsed(), expected).expect("writes")
    );
}

#[test]
fn every_supported_type_has_its_avro_schema() {
    let json = AllTypes::avro_schema().expect("schema").json().to_owned();
    for fragment in [
        r#""name":"EveryType","namespace":"com.example.types""#,
        r#"{"name":"flag","type":"boolean"}"#,
        r#"{"name":"tiny","type":"int"}"#,
        r#"{"name":"unsigned","type":"long"}"#,
        r#"{"name":"float","type":"float"}"#,
        r#"{"name":"letter","type":"string"}"#,
        r#"{"name":"bytes","type":"bytes"}"#,
        r#"{"name":"boxed","type":"string"}"#,
        r#"{"name":"shared","type":"string"}"#,
        r#"{"name":"optional","type":["null","long"],"default":null}"#,
        r#"{"name":"optional_record","doc":"Defines `Inner` the first time it is met.","type":["null",{"type":"record","name":"Inner","doc":"A nested record.","fields":[{"name":"labelText","type":"string"},{"name":"weight","type":"double"}]}],"default":null}"#,
        r#"{"name":"records","type":{"type":"array","items":"com.example.types.Inner"}}"#,
        r#"{"name":"nested_options","type":["null",{"type":"array","items":["null","int"]}],"default":null}"#,
        r#"{"name":"map","type":{"type":"map","values":"int"}}"#,
        r#"{"name":"sorted_map","type":{"type":"map","values":"com.example.types.Inner"}}"#,
        r#"{"type":"enum","name":"Status","doc":"A status.","symbols":["ACTIVE","ON_HOLD","gone"],"default":"gone"}"#,
        r#"{"name":"statuses","type":{"type":"array","items":"com.example.types.Status"}}"#,
        r#"{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}"#,
        r#"{"name":"at_micros","type":{"type":"long","logicalType":"timestamp-micros"}}"#,
        r#"{"name":"day","type":{"type":"int","logicalType":"date"}}"#,
        r#"{"name":"id","type":{"type":"string","logicalType":"uuid"}}"#,
        r#"{"name":"renamed","type":"string"}"#,
    ] {
        assert!(json.contains(fragment), "missing {fragment}\nin {json}");
    }
    assert!(
        !json.contains(r#""name":"skipped""#),
        "serde(skip) fields stay out: {json}"
    );
    assert!(
        !json.contains("renamed_field"),
        "serde(rename) is honoured: {json}"
    );
}

#[test]
fn single_object_encoding_reads_back_with_apache_avro() {
    let order = sample_order(2);
    let mut framed = Vec::new();
    order
        .write_value(&ValueFraming::SingleObject, &mut framed)
        .expect("writes");
    let schema = OrderPlaced::avro_schema().expect("schema");
    // The header (C3 01 and the fingerprint of Java's canonical form) is
    // what a reader of the schema without logical types expects...
    let plain = without_logical_types(schema.json());
    let reader = GenericSingleObjectReader::new(plain).expect("reader");
    reader
        .read_value(&mut &framed[..])
        .expect("the header matches");
    // ...and the datum after it decodes with the schema itself.
    assert_eq!(&framed[..2], [0xc3, 0x01]);
    assert_eq!(&framed[2..10], schema.fingerprint_le_bytes().as_slice());
    assert_eq!(decode(schema.parsed(), &framed[10..]), order_value(&order));
}

#[test]
fn confluent_frame_is_magic_id_and_datum() {
    let order = sample_order(1);
    let mut framed = Vec::new();
    order
        .write_value(
            &ValueFraming::Confluent {
                schema_id: 0x0102_0304,
            },
            &mut framed,
        )
        .expect("writes");
    assert_eq!(&framed[..5], &[0, 1, 2, 3, 4]);
    assert_eq!(&framed[5..], order.to_avro_datum().expect("encodes"));
}

#[test]
fn write_value_appends_to_the_buffer() {
    let order = sample_order(1);
    let mut out = b"prefix".to_vec();
    order
        .write_value(&ValueFraming::Raw, &mut out)
        .expect("writes");
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(&out[6..], order.to_avro_datum().expect("encodes"));
}

/// A tree: the record refers to itself.
#[derive(Debug, AvroType)]
struct Node {
    label: String,
    children: Vec<Node>,
    parent_label: Option<Box<str>>,
}

#[test]
fn recursive_records_are_defined_once_and_referenced() {
    let schema = Node::avro_schema().expect("schema");
    assert!(
        schema
            .json()
            .contains(r#"{"name":"children","type":{"type":"array","items":"Node"}}"#),
        "{}",
        schema.json()
    );
    let tree = Node {
        label: "root".into(),
        children: vec![Node {
            label: "leaf".into(),
            children: vec![],
            parent_label: Some("root".into()),
        }],
        parent_label: None,
    };
    let bytes = tree.to_avro_datum().expect("encodes");
    let leaf = Value::Record(vec![
        ("label".into(), Value::String("leaf".into())),
        ("children".into(), Value::Array(vec![])),
        (
            "parent_label".into(),
            Value::Union(1, Box::new(Value::String("root".into()))),
        ),
    ]);
    let root = Value::Record(vec![
        ("label".into(), Value::String("root".into())),
        ("children".into(), Value::Array(vec![leaf])),
        (
            "parent_label".into(),
            Value::Union(0, Box::new(Value::Null)),
        ),
    ]);
    assert_eq!(decode(schema.parsed(), &bytes), root);
}

mod first {
    /// One `Thing`.
    #[derive(kafka_derive::AvroType)]
    pub struct Thing {
        pub a: i32,
    }
}

mod second {
    /// Another `Thing`, same Avro name.
    #[derive(kafka_derive::AvroType)]
    pub struct Thing {
        pub b: String,
    }
}

#[derive(AvroType)]
struct Clash {
    one: first::Thing,
    two: second::Thing,
}

#[test]
fn two_types_with_one_avro_name_are_an_error_naming_both() {
    let error = Clash::avro_schema().expect_err("a name collision");
    let AvroSchemaError::NameCollision {
        full_name,
        first_type,
        second_type,
    } = &error
    else {
        panic!("unexpected error {error}");
    };
    assert_eq!(full_name, "Thing");
    assert!(first_type.ends_with("first::Thing"), "{first_type}");
    assert!(second_type.ends_with("second::Thing"), "{second_type}");
}

#[derive(kafka_derive::KafkaRecord)]
#[kafka(topic = "clashes", format = "avro")]
struct ClashRecord {
    inner: Clash,
}

#[test]
fn single_object_framing_reports_a_broken_schema_and_leaves_the_buffer_alone() {
    let record = ClashRecord {
        inner: Clash {
            one: first::Thing { a: 1 },
            two: second::Thing { b: "x".into() },
        },
    };
    let mut out = b"kept".to_vec();
    let error = record
        .write_value(&ValueFraming::SingleObject, &mut out)
        .expect_err("no schema, no fingerprint");
    assert!(matches!(
        error,
        SerializationError::AvroSchema {
            record_type: "ClashRecord",
            ..
        }
    ));
    assert_eq!(out, b"kept");
    // The raw datum needs no schema.
    record
        .write_value(&ValueFraming::Raw, &mut out)
        .expect("raw works");
}
