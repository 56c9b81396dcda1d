//! `#[derive(KafkaRecord)]`, `#[derive(AvroType)]` and `#[derive(KafkaBytes)]`.
//!
//! The derives implement traits defined in `kafka_record` (also
//! reachable as `kafka_template::record`); that module documents the
//! runtime side. This crate only reads the input and generates code, in the
//! shape serde_derive uses: attributes are parsed into a typed model (modules
//! `attr` and `ast`), checked with every error collected and spanned on its
//! field or attribute (`check`, `avro_check`), then expanded (`expand_avro`,
//! `expand_record`).

mod ast;
mod attr;
mod avro_check;
mod case;
mod check;
mod ctxt;
mod expand_avro;
mod expand_record;
mod names;
mod newtype;
mod runtime_path;
mod topic;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, parse_macro_input};

use crate::ast::Container;
use crate::attr::Derive;
use crate::ctxt::Ctxt;

/// Makes a struct a Kafka record: implements `kafka_record::KafkaRecord`
/// (topic, key, headers, timestamp, value) and, for `format = "avro"`, also
/// `AvroType` and `AvroNamed` (schema and encoder), as [`AvroType`](derive@AvroType) does.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use kafka_record::avro::{AvroNamed, AvroType};
/// use kafka_record::{KafkaRecord, ValueFormat, ValueFraming};
/// use kafka_derive::{AvroType, KafkaRecord};
///
/// /// An order was placed.
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "${app.topics.orders:orders}", format = "avro", namespace = "com.shop")]
/// struct OrderPlaced {
///     #[kafka(key)]
///     order_id: String,
///     customer: Customer,          // nested record
///     amount_cents: i64,
///     coupon: Option<String>,      // union of null and string, default null
///     items: Vec<Item>,
///     #[kafka(header = "tenant")]
///     tenant: String,
///     #[kafka(timestamp)]
///     #[serde(with = "kafka_record::serde_millis")]
///     placed_at: SystemTime,       // Avro timestamp-millis
/// }
///
/// /// Who ordered.
/// #[derive(serde::Serialize, AvroType)]
/// struct Customer {
///     id: i64,
///     name: String,
/// }
///
/// #[derive(serde::Serialize, AvroType)]
/// struct Item {
///     sku: String,
///     quantity: i32,
/// }
///
/// let order = OrderPlaced {
///     order_id: "o-1".into(),
///     customer: Customer { id: 7, name: "Ada".into() },
///     amount_cents: 1999,
///     coupon: None,
///     items: vec![Item { sku: "book".into(), quantity: 1 }],
///     tenant: "acme".into(),
///     placed_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
/// };
///
/// assert_eq!(OrderPlaced::topic_spec(), "${app.topics.orders:orders}");
/// assert_eq!(OrderPlaced::value_format(), ValueFormat::Avro);
/// assert_eq!(order.key_bytes().unwrap(), Some(b"o-1".to_vec()));
/// assert_eq!(order.headers()[0].key, "tenant");
/// assert_eq!(order.timestamp_ms().unwrap(), Some(1_700_000_000_000));
///
/// // The schema: a static, parsed by apache-avro, with canonical form and fingerprint.
/// let schema = OrderPlaced::avro_schema().unwrap();
/// assert!(schema.json().starts_with(
///     r#"{"type":"record","name":"OrderPlaced","namespace":"com.shop","doc":"An order was placed.""#
/// ));
/// assert!(schema.canonical_form().starts_with(r#"{"name":"com.shop.OrderPlaced","type":"record""#));
///
/// // The value: Avro binary from the derived encoder, readable by apache-avro.
/// let mut value = Vec::new();
/// order.write_value(&ValueFraming::Raw, &mut value).unwrap();
/// let decoded = apache_avro::from_avro_datum(schema.parsed(), &mut &value[..], None).unwrap();
/// // ...and byte-identical to apache-avro's serde path.
/// let theirs = apache_avro::to_avro_datum(schema.parsed(), apache_avro::to_value(&order).unwrap()).unwrap();
/// assert_eq!(value, theirs);
/// # let _ = decoded;
/// ```
///
/// # Struct attributes
///
/// ## `topic = "..."` (required)
///
/// A literal topic name, or text with `${key}` / `${key:default}` placeholders,
/// resolved once when the template starts. An unresolvable placeholder without
/// a default is a startup error naming the struct and the key. The syntax and
/// the literal characters are checked at compile time.
///
/// ```
/// use kafka_record::{KafkaRecord, TopicError};
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "audit")]
/// struct AuditEntry { text: String }
///
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "${env}.payments.${payments.topic:settled}")]
/// struct PaymentSettled { id: String }
///
/// let config = |key: &str| (key == "env").then(|| "prod".to_owned());
/// assert_eq!(AuditEntry::resolve_topic(&config).unwrap(), "audit");
/// assert_eq!(PaymentSettled::resolve_topic(&config).unwrap(), "prod.payments.settled");
///
/// let empty = |_: &str| None;
/// let error = PaymentSettled::resolve_topic(&empty).unwrap_err();
/// assert!(matches!(error, TopicError::Unresolved { record_type: "PaymentSettled", ref key } if key == "env"));
/// ```
///
/// ## `format = "json" | "avro"`
///
/// The value format; JSON (serde_json, so the struct must implement
/// `serde::Serialize`) when not given.
///
/// ```
/// use kafka_record::{KafkaRecord, ValueFormat, ValueFraming};
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "greetings")]
/// struct Greeting { text: String }
///
/// assert_eq!(Greeting::value_format(), ValueFormat::Json);
/// let mut value = Vec::new();
/// Greeting { text: "hi".into() }.write_value(&ValueFraming::Raw, &mut value).unwrap();
/// assert_eq!(value, br#"{"text":"hi"}"#);
/// ```
///
/// ## `type_id = "..."` (JSON only)
///
/// Adds the `__TypeId__` header Spring Kafka's `JsonDeserializer` maps to a class.
///
/// ```
/// use kafka_record::KafkaRecord;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "orders", type_id = "com.shop.events.OrderPlaced")]
/// struct OrderPlaced { id: String }
///
/// let headers = OrderPlaced { id: "o-1".into() }.headers();
/// assert_eq!(headers[0].key, "__TypeId__");
/// assert_eq!(headers[0].value.as_deref(), Some(&b"com.shop.events.OrderPlaced"[..]));
/// assert_eq!(OrderPlaced::json_type_id(), Some("com.shop.events.OrderPlaced"));
/// ```
///
/// ## `key_type_id = "..."` (JSON keys)
///
/// Adds the `__Key_TypeId__` header Spring Kafka's `JsonDeserializer` reads,
/// as a key deserializer, to map a `key_format = "json"` key to a class (as
/// Spring's `JsonSerializer` writes it for keys).
///
/// ```
/// use kafka_record::KafkaRecord;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "parcels", key_format = "json", key_type_id = "com.shop.ParcelKey")]
/// struct ParcelScanned {
///     #[kafka(key)]
///     warehouse: String,
///     #[kafka(key)]
///     parcel: u32,
/// }
///
/// let headers = ParcelScanned { warehouse: "w1".into(), parcel: 7 }.headers();
/// assert_eq!(headers[0].key, "__Key_TypeId__");
/// assert_eq!(headers[0].value.as_deref(), Some(&b"com.shop.ParcelKey"[..]));
/// assert_eq!(ParcelScanned::json_key_type_id(), Some("com.shop.ParcelKey"));
/// ```
///
/// ## `json_schema` (JSON only)
///
/// Gives the value a JSON Schema, generated from the struct by `schemars`
/// (derive `schemars::JsonSchema` too; `kafka_record::schemars` is the version
/// this crate uses): a `KafkaJsonSchemaSerializer` line in the template's
/// configuration registers it with the schema registry and frames the value as
/// Confluent's JSON Schema serializer does.
///
/// ```
/// use kafka_record::KafkaRecord;
/// use kafka_record::schemars::JsonSchema;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, JsonSchema, KafkaRecord)]
/// #[schemars(crate = "kafka_record::schemars")]
/// #[kafka(topic = "shipments", json_schema)]
/// struct OrderShipped { order_id: String, parcels: u32 }
///
/// let schema: serde_json::Value =
///     serde_json::from_str(&OrderShipped::value_json_schema().unwrap()).unwrap();
/// assert_eq!(schema["title"], "OrderShipped");
/// assert_eq!(schema["properties"]["parcels"]["type"], "integer");
/// ```
///
/// ## `namespace = "..."` (Avro only)
///
/// The Avro namespace of the record. Nested types without a namespace of their
/// own inherit it, as Avro's name resolution does.
///
/// ```
/// use kafka_record::avro::AvroNamed;
/// # use kafka_derive::KafkaRecord;
/// #[derive(KafkaRecord)]
/// #[kafka(topic = "t", format = "avro", namespace = "com.shop.events")]
/// struct Shipped { id: String }
///
/// let schema = Shipped::avro_schema().unwrap();
/// assert_eq!(schema.parsed().name().unwrap().fullname(None), "com.shop.events.Shipped");
/// ```
///
/// ## `header(name = "...", value = "...")`
///
/// A static header on every record of this type (repeatable). Static headers
/// come first, then field headers in field order.
///
/// ```
/// use kafka_record::KafkaRecord;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t", header(name = "source", value = "order-service"))]
/// #[kafka(header(name = "schema", value = "v2"))]
/// struct Event {
///     #[kafka(header = "tenant")]
///     tenant: String,
/// }
///
/// let headers = Event { tenant: "acme".into() }.headers();
/// let names: Vec<&str> = headers.iter().map(|h| h.key.as_str()).collect();
/// assert_eq!(names, ["source", "schema", "tenant"]);
/// ```
///
/// ## `key_format = "native" | "json" | "string"` and `key_separator = "..."`
///
/// How the `#[kafka(key)]` field(s) become the key. `native` (the default) writes
/// one field as Java's built-in serializers write its type: strings as UTF-8,
/// `i16`/`i32`/`i64` big-endian, `Uuid` as text, `Vec<u8>` as is, `None` as a
/// null key (see `KafkaBytes`). Several key fields make a composite key and need
/// `json` (an object of the key fields, by serde name, in field order) or
/// `string` (each field's `Display`, joined by `key_separator`, default `":"`).
///
/// ```
/// use kafka_record::KafkaRecord;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t")]
/// struct ByAccount {
///     #[kafka(key)]
///     account: i64,
/// }
/// assert_eq!(ByAccount { account: 258 }.key_bytes().unwrap(), Some(vec![0, 0, 0, 0, 0, 0, 1, 2]));
///
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t", key_format = "json")]
/// struct ByTenantAndOrder {
///     #[kafka(key)]
///     tenant: String,
///     #[kafka(key)]
///     #[serde(rename = "orderId")]
///     order_id: i64,
///     note: String,
/// }
/// let record = ByTenantAndOrder { tenant: "acme".into(), order_id: 7, note: String::new() };
/// assert_eq!(record.key_bytes().unwrap(), Some(br#"{"tenant":"acme","orderId":7}"#.to_vec()));
///
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t", key_format = "string", key_separator = "/")]
/// struct ByRegionAndId {
///     #[kafka(key)]
///     region: String,
///     #[kafka(key)]
///     id: u32,
/// }
/// let record = ByRegionAndId { region: "eu".into(), id: 42 };
/// assert_eq!(record.key_bytes().unwrap(), Some(b"eu/42".to_vec()));
///
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t")]
/// struct Keyless { text: String }
/// assert_eq!(Keyless { text: String::new() }.key_bytes().unwrap(), None);
/// ```
///
/// ## `crate = "..."`
///
/// The path of the `kafka-record` crate (the derive's runtime) when the derive
/// cannot find it in Cargo.toml (for example behind a re-export), as serde's
/// `#[serde(crate = "...")]`. By default the derive uses `kafka-record` if the
/// crate depends on it, else `kafka-template`'s re-export `record`.
///
/// ```
/// # use kafka_derive::KafkaRecord;
/// mod runtime {
///     pub use kafka_record as record;
/// }
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t", crate = "runtime::record")]
/// struct Ping { at: i64 }
/// # use kafka_record::KafkaRecord;
/// # assert_eq!(Ping::topic_spec(), "t");
/// ```
///
/// # Field attributes
///
/// ## `key`
///
/// This field is (part of) the record key; see `key_format` above. Key fields
/// stay in the value too; `#[serde(skip)]` one to leave it out of the value.
///
/// A key of a type of your own that wraps a native one (a newtype) derives
/// [`KafkaBytes`](derive@KafkaBytes) and is written as its field. The generated
/// `record_key()` names the key field(s) and their encoding, which the template
/// checks a configuration's `key-serializer` against.
///
/// ```
/// use kafka_record::{KafkaRecord, KeyEncoding, RecordKey};
/// use kafka_derive::{KafkaBytes, KafkaRecord};
///
/// #[derive(serde::Serialize, KafkaBytes)]
/// struct PaymentId(String);
///
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "payments")]
/// struct PaymentTaken {
///     #[kafka(key)]
///     id: PaymentId,
///     cents: i64,
/// }
///
/// let payment = PaymentTaken { id: PaymentId("p-1".into()), cents: 100 };
/// assert_eq!(payment.key_bytes().unwrap(), Some(b"p-1".to_vec()));
/// assert_eq!(
///     PaymentTaken::record_key(),
///     Some(RecordKey { fields: &["id"], encoding: KeyEncoding::Utf8 })
/// );
/// ```
///
/// ## `header = "name"`
///
/// This field is also sent as a header, written like a native key (`Option`
/// fields give a null header value when `None`).
///
/// ```
/// use kafka_record::KafkaRecord;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t")]
/// struct Traced {
///     #[kafka(header = "trace-id")]
///     trace_id: Option<String>,
///     #[kafka(header = "attempt")]
///     attempt: i32,
/// }
///
/// let headers = Traced { trace_id: None, attempt: 2 }.headers();
/// assert_eq!(headers[0].value, None);
/// assert_eq!(headers[1].value.as_deref(), Some(&[0u8, 0, 0, 2][..]));
/// ```
///
/// ## `timestamp`
///
/// The record's timestamp: a `SystemTime`, an `i64` of milliseconds since the
/// epoch, a `TimestampMicros`, or an `Option` of one (`None` uses the send time).
/// Without a timestamp field, the send time is used.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kafka_record::KafkaRecord;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t")]
/// struct Reading {
///     #[kafka(timestamp)]
///     taken_at_ms: Option<i64>,
/// }
/// assert_eq!(Reading { taken_at_ms: Some(1_000) }.timestamp_ms().unwrap(), Some(1_000));
/// assert_eq!(Reading { taken_at_ms: None }.timestamp_ms().unwrap(), None);
/// assert!(Reading { taken_at_ms: Some(-1) }.timestamp_ms().is_err()); // Kafka rejects negative times
/// ```
///
/// # Serde attributes
///
/// The Avro schema uses the names serde writes: `#[serde(rename = "...")]` on
/// the struct (record name), fields and variants, `#[serde(rename_all = "...")]`,
/// and leaves out `#[serde(skip)]` / `#[serde(skip_serializing)]` fields.
/// `#[serde(flatten)]` has no Avro counterpart and is an error in Avro records.
///
/// ```
/// use kafka_record::avro::AvroNamed;
/// # use kafka_derive::KafkaRecord;
/// #[derive(serde::Serialize, KafkaRecord)]
/// #[kafka(topic = "t", format = "avro")]
/// #[serde(rename = "UserRenamed", rename_all = "camelCase")]
/// struct UserNameChanged {
///     user_id: String,
///     #[serde(rename = "new")]
///     new_name: String,
///     #[serde(skip)]
///     cache: Vec<String>,
/// }
///
/// assert_eq!(
///     UserNameChanged::avro_schema().unwrap().canonical_form(),
///     r#"{"name":"UserRenamed","type":"record","fields":[{"name":"userId","type":"string"},{"name":"new","type":"string"}]}"#
/// );
/// ```
///
/// # Value framings
///
/// `write_value` takes a `ValueFraming`: the raw datum, Avro single-object
/// encoding (`C3 01`, the CRC-64-AVRO fingerprint, the datum), or the Confluent
/// frame (`00`, a 4-byte big-endian schema id, the datum), with the id from a
/// `SchemaIdResolver`.
///
/// ```
/// use kafka_record::avro::AvroNamed;
/// use kafka_record::{KafkaRecord, SchemaIdResolver, StaticSchemaIds, ValueFraming, topic_value_subject};
/// # use kafka_derive::KafkaRecord;
/// #[derive(KafkaRecord)]
/// #[kafka(topic = "t", format = "avro")]
/// struct Tick { n: i32 }
///
/// let schema = Tick::avro_schema().unwrap();
/// let mut single = Vec::new();
/// Tick { n: 1 }.write_value(&ValueFraming::SingleObject, &mut single).unwrap();
/// assert_eq!(&single[..2], &[0xC3, 0x01]);
/// assert_eq!(&single[2..10], &schema.fingerprint().to_le_bytes());
/// assert_eq!(&single[10..], &[2]);
///
/// let registry = StaticSchemaIds::new().with(schema.fingerprint(), 17);
/// let schema_id = registry.schema_id(&topic_value_subject("t"), schema).unwrap();
/// let mut confluent = Vec::new();
/// Tick { n: 1 }.write_value(&ValueFraming::Confluent { schema_id }, &mut confluent).unwrap();
/// assert_eq!(confluent, [0, 0, 0, 0, 17, 2]);
/// ```
#[proc_macro_derive(KafkaRecord, attributes(kafka))]
pub fn derive_kafka_record(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Derive::KafkaRecord)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Gives a struct (an Avro record) or a unit-only enum (an Avro enum) an Avro
/// schema and a binary encoder: implements `kafka_record::avro::AvroType`
/// and `AvroNamed`. Derive it on types used inside an Avro `KafkaRecord`.
///
/// Doc comments become the schema's `doc`; the type is defined once in a
/// schema and referenced by name after, so recursive types work. On a newtype
/// `struct Id(T)` it gives `T`'s schema and encoding (serde writes a newtype as
/// its field), so a newtype key such as `struct PaymentId(String)` can be a
/// field of an Avro record: derive `AvroType` and `KafkaBytes` on it. It takes the
/// struct attributes `namespace` and `crate`, and on variants `default` (the
/// symbol readers use for symbols they do not know).
///
/// ```
/// use std::collections::HashMap;
/// use kafka_record::avro::{AvroNamed, Date, TimestampMicros};
/// use kafka_derive::AvroType;
///
/// /// Where an order stands.
/// #[derive(AvroType)]
/// #[kafka(namespace = "com.shop")]
/// #[allow(dead_code)]
/// enum Status {
///     Placed,
///     Shipped,
///     #[kafka(default)]
///     Unknown,
/// }
///
/// #[derive(AvroType)]
/// struct Category {
///     name: String,
///     children: Vec<Category>, // recursive: a reference to itself
/// }
///
/// #[derive(AvroType)]
/// #[kafka(namespace = "com.shop")]
/// struct Snapshot {
///     status: Status,
///     previous: Option<Status>, // defined once above, referenced here
///     root: Category,
///     counts: HashMap<String, i64>,
///     photo: Vec<u8>,            // bytes
///     due: Date,                 // int / date
///     updated: TimestampMicros,  // long / timestamp-micros
/// }
///
/// let schema = Snapshot::avro_schema().unwrap();
/// assert!(schema.json().contains(
///     r#"{"type":"enum","name":"Status","namespace":"com.shop","doc":"Where an order stands.","symbols":["Placed","Shipped","Unknown"],"default":"Unknown"}"#
/// ));
/// assert!(schema.json().contains(r#"{"name":"previous","type":["null","com.shop.Status"],"default":null}"#));
/// assert!(schema.json().contains(r#"{"name":"children","type":{"type":"array","items":"com.shop.Category"}}"#));
/// ```
#[proc_macro_derive(AvroType, attributes(kafka))]
pub fn derive_avro_type(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    if newtype::is_tuple_newtype(&input) {
        return newtype::expand_avro_newtype(&input)
            .unwrap_or_else(syn::Error::into_compile_error)
            .into();
    }
    expand(&input, Derive::AvroType)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Makes a newtype usable as a record key (and header) field: implements
/// `kafka_record::KafkaBytes` by writing the one field as its own
/// type does, with its `KeyEncoding`. Works on `struct Id(T)` and
/// `struct Id { value: T }`, generic or not; takes `#[kafka(crate = "...")]`.
///
/// ```
/// use kafka_record::{KafkaBytes, KeyEncoding};
/// use kafka_derive::KafkaBytes;
///
/// #[derive(KafkaBytes)]
/// struct PaymentId(String);
///
/// #[derive(KafkaBytes)]
/// struct AccountNumber {
///     value: i64,
/// }
///
/// #[derive(KafkaBytes)]
/// struct Tagged<T>(T);
///
/// assert_eq!(PaymentId("p-1".into()).kafka_bytes(), Some(b"p-1".to_vec()));
/// assert_eq!(PaymentId::ENCODING, KeyEncoding::Utf8);
/// assert_eq!(AccountNumber { value: 258 }.kafka_bytes(), Some(vec![0, 0, 0, 0, 0, 0, 1, 2]));
/// assert_eq!(AccountNumber::ENCODING, KeyEncoding::Long);
/// assert_eq!(<Tagged<Vec<u8>>>::ENCODING, KeyEncoding::ByteArray);
/// ```
///
/// The field's type must itself be a key type (`String`, `i64`, `Uuid`,
/// `Vec<u8>`, ... see `KafkaBytes`); a newtype of several fields is not a
/// native key, and a record with a composite key sets `key_format` instead.
#[proc_macro_derive(KafkaBytes, attributes(kafka))]
pub fn derive_kafka_bytes(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    newtype::expand_kafka_bytes(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Reads, checks and expands one derive.
fn expand(input: &DeriveInput, derive: Derive) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let container = Container::from_ast(&cx, input, derive);
    if let Some(container) = &container {
        check::check(&cx, container, derive);
    }
    cx.check()?;
    let Some(container) = container else {
        return Ok(TokenStream::new());
    };
    let runtime = runtime_path::kafka_record_module(container.attrs.krate.as_ref());
    let avro = container
        .is_avro(derive)
        .then(|| expand_avro::expand(&container, &runtime));
    let record =
        (derive == Derive::KafkaRecord).then(|| expand_record::expand(&container, &runtime));
    Ok(quote! {
        const _: () = {
            #avro
            #record
        };
    })
}
