//! Record types shared by the integration tests and the bench: the issue's
//! `OrderPlaced`, and `AllTypes` with every type the derive supports, plus the
//! apache-avro `Value` each is expected to decode to.

#![allow(dead_code)] // each test file uses its own part

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apache_avro::types::Value;
use kafka_derive::{AvroType, KafkaRecord};
use kafka_record::avro::{Date, TimestampMicros};
use serde::Serialize;

/// An order was placed.
#[derive(Debug, Clone, PartialEq, Serialize, KafkaRecord)]
#[kafka(
    topic = "${app.topics.orders:orders}",
    format = "avro",
    namespace = "com.shop"
)]
pub struct OrderPlaced {
    #[kafka(key)]
    pub order_id: String,
    /// Who ordered.
    pub customer: Customer,
    pub amount_cents: i64,
    pub coupon: Option<String>,
    pub items: Vec<Item>,
    #[kafka(header = "tenant")]
    pub tenant: String,
    #[kafka(timestamp)]
    #[serde(with = "kafka_record::serde_millis")]
    pub placed_at: SystemTime,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize, AvroType)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, AvroType)]
pub struct Item {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_cents: i64,
}

/// A sample order with `items` items.
pub fn sample_order(items: usize) -> OrderPlaced {
    OrderPlaced {
        order_id: "order-2024-000042".into(),
        customer: Customer {
            id: 1_234_567,
            name: "Ada Lovelace".into(),
            email: Some("ada@example.com".into()),
        },
        amount_cents: 12_999,
        coupon: Some("WELCOME10".into()),
        items: (0..items)
            .map(|i| Item {
                sku: format!("SKU-{i:05}"),
                quantity: (i % 3 + 1) as i32,
                unit_price_cents: 999 + i as i64,
            })
            .collect(),
        tenant: "acme".into(),
        placed_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
    }
}

/// Milliseconds since the epoch (the tests only use times after it).
pub fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis() as i64
}

pub fn customer_value(customer: &Customer) -> Value {
    Value::Record(vec![
        ("id".into(), Value::Long(customer.id)),
        ("name".into(), Value::String(customer.name.clone())),
        (
            "email".into(),
            option_value(&customer.email, |e| Value::String(e.clone())),
        ),
    ])
}

pub fn item_value(item: &Item) -> Value {
    Value::Record(vec![
        ("sku".into(), Value::String(item.sku.clone())),
        ("quantity".into(), Value::Int(item.quantity)),
        (
            "unit_price_cents".into(),
            Value::Long(item.unit_price_cents),
        ),
    ])
}

/// The value apache-avro's reader gives for an order.
pub fn order_value(order: &OrderPlaced) -> Value {
    Value::Record(vec![
        ("order_id".into(), Value::String(order.order_id.clone())),
        ("customer".into(), customer_value(&order.customer)),
        ("amount_cents".into(), Value::Long(order.amount_cents)),
        (
            "coupon".into(),
            option_value(&order.coupon, |c| Value::String(c.clone())),
        ),
        (
            "items".into(),
            Value::Array(order.items.iter().map(item_value).collect()),
        ),
        ("tenant".into(), Value::String(order.tenant.clone())),
        (
            "placed_at".into(),
            Value::TimestampMillis(millis(order.placed_at)),
        ),
    ])
}

/// `["null", T]` as apache-avro decodes it.
pub fn option_value<T>(option: &Option<T>, value: impl Fn(&T) -> Value) -> Value {
    match option {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(inner) => Value::Union(1, Box::new(value(inner))),
    }
}

/// Every type the derive supports, with serde renames and a skipped field.
#[derive(Debug, Clone, PartialEq, Serialize, AvroType)]
#[kafka(namespace = "com.example.types")]
#[serde(rename = "EveryType")]
pub struct AllTypes {
    pub flag: bool,
    pub tiny: i8,
    pub small: i16,
    pub int: i32,
    pub unsigned_small: u16,
    pub unsigned: u32,
    pub long: i64,
    pub float: f32,
    pub double: f64,
    pub letter: char,
    pub text: String,
    pub bytes: Vec<u8>,
    pub boxed: Box<str>,
    pub shared: std::sync::Arc<str>,
    pub optional: Option<i64>,
    /// Defines `Inner` the first time it is met.
    pub optional_record: Option<Inner>,
    pub records: Vec<Inner>,
    pub list: Vec<String>,
    pub nested_options: Option<Vec<Option<i32>>>,
    pub map: HashMap<String, i32>,
    pub sorted_map: BTreeMap<String, Inner>,
    pub status: Status,
    pub statuses: Vec<Status>,
    pub at: SystemTime,
    pub at_micros: TimestampMicros,
    pub day: Date,
    pub id: uuid::Uuid,
    pub optional_id: Option<uuid::Uuid>,
    #[serde(rename = "renamed")]
    pub renamed_field: String,
    #[serde(skip)]
    pub skipped: i32,
}

/// A nested record.
#[derive(Debug, Clone, PartialEq, Serialize, AvroType)]
#[serde(rename_all = "camelCase")]
pub struct Inner {
    pub label_text: String,
    pub weight: f64,
}

/// A status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, AvroType)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Active,
    OnHold,
    #[serde(rename = "gone")]
    #[kafka(default)]
    Closed,
}

pub const STATUSES: [Status; 3] = [Status::Active, Status::OnHold, Status::Closed];

fn status_value(status: &Status) -> Value {
    match status {
        Status::Active => Value::Enum(0, "ACTIVE".into()),
        Status::OnHold => Value::Enum(1, "ON_HOLD".into()),
        Status::Closed => Value::Enum(2, "gone".into()),
    }
}

fn inner_value(inner: &Inner) -> Value {
    Value::Record(vec![
        ("labelText".into(), Value::String(inner.label_text.clone())),
        ("weight".into(), Value::Double(inner.weight)),
    ])
}

/// Whole units of `unit` since the epoch, rounded down (times before the epoch too).
pub fn floor_units(time: SystemTime, unit_nanos: i128) -> i64 {
    let nanos = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    };
    nanos.div_euclid(unit_nanos) as i64
}

/// The value apache-avro's reader gives for `AllTypes` (and which its writer
/// accepts).
pub fn all_types_value(v: &AllTypes) -> Value {
    Value::Record(vec![
        ("flag".into(), Value::Boolean(v.flag)),
        ("tiny".into(), Value::Int(v.tiny.into())),
        ("small".into(), Value::Int(v.small.into())),
        ("int".into(), Value::Int(v.int)),
        ("unsigned_small".into(), Value::Int(v.unsigned_small.into())),
        ("unsigned".into(), Value::Long(v.unsigned.into())),
        ("long".into(), Value::Long(v.long)),
        ("float".into(), Value::Float(v.float)),
        ("double".into(), Value::Double(v.double)),
        ("letter".into(), Value::String(v.letter.to_string())),
        ("text".into(), Value::String(v.text.clone())),
        ("bytes".into(), Value::Bytes(v.bytes.clone())),
        ("boxed".into(), Value::String(v.boxed.to_string())),
        ("shared".into(), Value::String(v.shared.to_string())),
        (
            "optional".into(),
            option_value(&v.optional, |n| Value::Long(*n)),
        ),
        (
            "optional_record".into(),
            option_value(&v.optional_record, inner_value),
        ),
        (
            "records".into(),
            Value::Array(v.records.iter().map(inner_value).collect()),
        ),
        (
            "list".into(),
            Value::Array(v.list.iter().map(|s| Value::String(s.clone())).collect()),
        ),
        (
            "nested_options".into(),
            option_value(&v.nested_options, |list| {
                Value::Array(
                    list.iter()
                        .map(|n| option_value(n, |n| Value::Int(*n)))
                        .collect(),
                )
            }),
        ),
        (
            "map".into(),
            Value::Map(
                v.map
                    .iter()
                    .map(|(k, n)| (k.clone(), Value::Int(*n)))
                    .collect(),
            ),
        ),
        (
            "sorted_map".into(),
            Value::Map(
                v.sorted_map
                    .iter()
                    .map(|(k, i)| (k.clone(), inner_value(i)))
                    .collect(),
            ),
        ),
        ("status".into(), status_value(&v.status)),
        (
            "statuses".into(),
            Value::Array(v.statuses.iter().map(status_value).collect()),
        ),
        (
            "at".into(),
            Value::TimestampMillis(floor_units(v.at, 1_000_000)),
        ),
        (
            "at_micros".into(),
            Value::TimestampMicros(floor_units(v.at_micros.0, 1_000)),
        ),
        ("day".into(), Value::Date(v.day.0)),
        ("id".into(), Value::Uuid(v.id)),
        (
            "optional_id".into(),
            option_value(&v.optional_id, |id| Value::Uuid(*id)),
        ),
        ("renamed".into(), Value::String(v.renamed_field.clone())),
    ])
}

/// A fixed `AllTypes` value with every collection non-empty.
pub fn sample_all_types() -> AllTypes {
    AllTypes {
        flag: true,
        tiny: -8,
        small: -300,
        int: 70_000,
        unsigned_small: 65_535,
        unsigned: u32::MAX,
        long: i64::MIN,
        float: 1.5,
        double: -2.25e300,
        letter: 'λ',
        text: "héllo".into(),
        bytes: vec![0, 255, 7],
        boxed: "boxed".into(),
        shared: "shared".into(),
        optional: Some(-1),
        optional_record: Some(Inner {
            label_text: "first".into(),
            weight: 0.5,
        }),
        records: vec![Inner {
            label_text: "second".into(),
            weight: 1e-9,
        }],
        list: vec!["a".into(), String::new()],
        nested_options: Some(vec![Some(1), None]),
        map: [("k".to_owned(), 9)].into(),
        sorted_map: [(
            "b".to_owned(),
            Inner {
                label_text: "third".into(),
                weight: 3.0,
            },
        )]
        .into(),
        status: Status::OnHold,
        statuses: vec![Status::Closed, Status::Active],
        at: UNIX_EPOCH - Duration::from_micros(1_500),
        at_micros: TimestampMicros(UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789)),
        day: Date(19_700),
        id: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        optional_id: None,
        renamed_field: "renamed".into(),
        skipped: 5,
    }
}
