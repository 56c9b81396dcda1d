//! Property tests: for random values, the derived encoder's bytes are exactly
//! apache-avro's writer's bytes for the same schema and value, and apache-avro's
//! reader decodes them to that value.
//!
//! apache-avro keeps map entries in a `HashMap`, so it writes them in an order
//! that changes from run to run; byte equality is therefore checked on values
//! whose maps hold at most one entry, and values with larger maps are checked by
//! decoding and by length.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apache_avro::types::Value;
use apache_avro::{Schema, from_avro_datum, to_avro_datum, to_value};
use common::*;
use kafka_record::avro::{AvroNamed, Date, TimestampMicros};
use proptest::collection::{btree_map, hash_map, vec};
use proptest::option;
use proptest::prelude::*;

fn decode(schema: &Schema, bytes: &[u8]) -> Value {
    let mut reader = bytes;
    let value = from_avro_datum(schema, &mut reader, None).expect("apache-avro decodes it");
    assert!(reader.is_empty(), "{} bytes left over", reader.len());
    value
}

/// A time within a few thousand years of the epoch, on either side, to the nanosecond.
fn any_time() -> impl Strategy<Value = SystemTime> {
    (-100_000_000_000i64..100_000_000_000, 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
        let offset = Duration::new(secs.unsigned_abs(), nanos);
        if secs >= 0 {
            UNIX_EPOCH + offset
        } else {
            UNIX_EPOCH - offset
        }
    })
}

fn any_f32() -> impl Strategy<Value = f32> {
    use proptest::num::f32::*;
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO | INFINITE
}

fn any_f64() -> impl Strategy<Value = f64> {
    use proptest::num::f64::*;
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO | INFINITE
}

fn any_inner() -> impl Strategy<Value = Inner> {
    (any::<String>(), any_f64()).prop_map(|(label_text, weight)| Inner { label_text, weight })
}

fn any_order() -> impl Strategy<Value = OrderPlaced> {
    let customer = (any::<i64>(), any::<String>(), option::of(any::<String>()))
        .prop_map(|(id, name, email)| Customer { id, name, email });
    let item = (any::<String>(), any::<i32>(), any::<i64>()).prop_map(
        |(sku, quantity, unit_price_cents)| Item {
            sku,
            quantity,
            unit_price_cents,
        },
    );
    (
        any::<String>(),
        customer,
        any::<i64>(),
        option::of(any::<String>()),
        vec(item, 0..8),
        any::<String>(),
        0i64..10_000_000_000_000,
    )
        .prop_map(
            |(order_id, customer, amount_cents, coupon, items, tenant, placed_at_ms)| OrderPlaced {
                order_id,
                customer,
                amount_cents,
                coupon,
                items,
                tenant,
                placed_at: UNIX_EPOCH + Duration::from_millis(placed_at_ms as u64),
            },
        )
}

/// `AllTypes` values whose maps hold at most `max_map_len` entries.
fn any_all_types(max_map_len: usize) -> impl Strategy<Value = AllTypes> {
    let scalars = (
        any::<bool>(),
        any::<i8>(),
        any::<i16>(),
        any::<i32>(),
        any::<u16>(),
        any::<u32>(),
        any::<i64>(),
        any_f32(),
        any_f64(),
        any::<char>(),
        any::<String>(),
        vec(any::<u8>(), 0..32),
    );
    let containers = (
        any::<String>(),
        option::of(any::<i64>()),
        option::of(any_inner()),
        vec(any_inner(), 0..4),
        vec(any::<String>(), 0..4),
        option::of(vec(option::of(any::<i32>()), 0..4)),
        hash_map(any::<String>(), any::<i32>(), 0..=max_map_len),
        btree_map(any::<String>(), any_inner(), 0..=max_map_len),
    );
    let statuses = prop::sample::select(STATUSES.to_vec());
    let logical = (
        statuses.clone(),
        vec(statuses, 0..4),
        any_time(),
        any_time(),
        any::<i32>(),
        any::<u128>(),
        option::of(any::<u128>()),
        any::<String>(),
    );
    (scalars, containers, logical).prop_map(|(s, c, l)| AllTypes {
        flag: s.0,
        tiny: s.1,
        small: s.2,
        int: s.3,
        unsigned_small: s.4,
        unsigned: s.5,
        long: s.6,
        float: s.7,
        double: s.8,
        letter: s.9,
        text: s.10,
        bytes: s.11,
        shared: c.0.as_str().into(),
        boxed: c.0.into_boxed_str(),
        optional: c.1,
        optional_record: c.2,
        records: c.3,
        list: c.4,
        nested_options: c.5,
        map: c.6,
        sorted_map: c.7,
        status: l.0,
        statuses: l.1,
        at: l.2,
        at_micros: TimestampMicros(l.3),
        day: Date(l.4),
        id: uuid::Uuid::from_u128(l.5),
        optional_id: l.6.map(uuid::Uuid::from_u128),
        renamed_field: l.7,
        skipped: 0,
    })
}

proptest! {
    #[test]
    fn order_placed_bytes_equal_apache_avro_writer_and_serde_path(order in any_order()) {
        let schema = OrderPlaced::avro_schema().expect("schema").parsed();
        let ours = order.to_avro_datum().expect("encodes");
        let expected = order_value(&order);
        prop_assert_eq!(&ours, &to_avro_datum(schema, expected.clone()).expect("writes"));
        let serde_path = to_avro_datum(schema, to_value(&order).expect("to_value")).expect("writes");
        prop_assert_eq!(&ours, &serde_path);
        prop_assert_eq!(decode(schema, &ours), expected);
    }

    #[test]
    fn every_type_bytes_equal_apache_avro_writer(value in any_all_types(1)) {
        let schema = AllTypes::avro_schema().expect("schema").parsed();
        let ours = value.to_avro_datum().expect("encodes");
        let expected = all_types_value(&value);
        prop_assert_eq!(&ours, &to_avro_datum(schema, expected.clone()).expect("writes"));
        prop_assert_eq!(decode(schema, &ours), expected);
    }

    #[test]
    fn larger_maps_decode_to_the_same_value(value in any_all_types(6)) {
        let schema = AllTypes::avro_schema().expect("schema").parsed();
        let ours = value.to_avro_datum().expect("encodes");
        let expected = all_types_value(&value);
        let theirs = to_avro_datum(schema, expected.clone()).expect("writes");
        prop_assert_eq!(ours.len(), theirs.len());
        prop_assert_eq!(decode(schema, &ours), expected);
    }

    #[test]
    fn maps_are_one_block_in_iteration_order(map in hash_map(any::<String>(), any::<i64>(), 0..6)) {
        // The layout apache-avro uses, checked entry by entry in our map's order.
        let mut ours = Vec::new();
        kafka_record::avro::AvroType::encode(&map, &mut ours).expect("encodes");
        let mut expected = Vec::new();
        if !map.is_empty() {
            kafka_record::avro::write_long(&mut expected, map.len() as i64);
            for (key, value) in &map {
                kafka_record::avro::write_string(&mut expected, key);
                kafka_record::avro::write_long(&mut expected, *value);
            }
        }
        expected.push(0);
        prop_assert_eq!(&ours, &expected);
        let schema = Schema::parse_str(r#"{"type":"map","values":"long"}"#).expect("schema");
        let decoded: HashMap<String, Value> = match decode(&schema, &ours) {
            Value::Map(entries) => entries,
            other => panic!("not a map: {other:?}"),
        };
        let sorted: BTreeMap<_, _> = decoded.into_iter().collect();
        let original: BTreeMap<_, _> = map.into_iter().map(|(k, v)| (k, Value::Long(v))).collect();
        prop_assert_eq!(sorted, original);
    }
}
