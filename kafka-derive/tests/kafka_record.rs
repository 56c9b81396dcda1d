//! `#[derive(KafkaRecord)]`: topic, key, headers, timestamp and JSON values.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use kafka_derive::KafkaRecord;
use kafka_record::{
    KafkaRecord, SerializationError, TimestampError, TopicError, ValueFormat, ValueFraming,
};
use serde::Serialize;

#[test]
fn the_issue_example_gives_topic_key_headers_and_timestamp() {
    let order = sample_order(2);
    assert_eq!(OrderPlaced::record_type_name(), "OrderPlaced");
    assert_eq!(OrderPlaced::topic_spec(), "${app.topics.orders:orders}");
    assert_eq!(OrderPlaced::value_format(), ValueFormat::Avro);
    assert_eq!(OrderPlaced::json_type_id(), None);
    assert_eq!(
        order.key_bytes().unwrap(),
        Some(b"order-2024-000042".to_vec())
    );
    let headers = order.headers();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].key, "tenant");
    assert_eq!(headers[0].value.as_deref(), Some(&b"acme"[..]));
    assert_eq!(order.timestamp_ms().unwrap(), Some(1_700_000_000_123));
}

#[test]
fn topic_placeholders_resolve_against_configuration() {
    let configured = |key: &str| (key == "app.topics.orders").then(|| "orders-eu".to_owned());
    assert_eq!(
        OrderPlaced::resolve_topic(&configured).unwrap(),
        "orders-eu"
    );
    let empty = |_: &str| None;
    assert_eq!(OrderPlaced::resolve_topic(&empty).unwrap(), "orders");
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "${app.topics.refunds}")]
struct RefundIssued {
    id: String,
}

#[test]
fn an_unresolvable_placeholder_is_an_error_naming_struct_and_key() {
    let error = RefundIssued::resolve_topic(&|_| None).unwrap_err();
    assert_eq!(
        error,
        TopicError::Unresolved {
            record_type: "RefundIssued",
            key: "app.topics.refunds".to_owned()
        }
    );
    let message = error.to_string();
    assert!(message.contains("`RefundIssued`"), "{message}");
    assert!(message.contains("`app.topics.refunds`"), "{message}");
}

/// A payment.
#[derive(Serialize, KafkaRecord)]
#[kafka(
    topic = "payments",
    type_id = "com.shop.PaymentReceived",
    header(name = "source", value = "billing")
)]
#[serde(rename_all = "camelCase")]
struct PaymentReceived {
    #[kafka(key)]
    account_id: i64,
    amount_cents: i64,
    #[kafka(header = "attempt")]
    attempt: i32,
    #[kafka(header = "trace")]
    trace: Option<String>,
    #[kafka(timestamp)]
    received_at: Option<SystemTime>,
}

fn payment() -> PaymentReceived {
    PaymentReceived {
        account_id: -2,
        amount_cents: 500,
        attempt: 3,
        trace: None,
        received_at: None,
    }
}

#[test]
fn json_records_serialize_with_serde_json() {
    assert_eq!(PaymentReceived::value_format(), ValueFormat::Json);
    assert!(PaymentReceived::value_schema().is_none());
    let mut value = Vec::new();
    payment()
        .write_value(&ValueFraming::Raw, &mut value)
        .unwrap();
    assert_eq!(
        value,
        br#"{"accountId":-2,"amountCents":500,"attempt":3,"trace":null,"receivedAt":null}"#
    );
}

#[test]
fn json_in_the_confluent_frame_and_not_in_single_object() {
    let mut value = Vec::new();
    payment()
        .write_value(&ValueFraming::Confluent { schema_id: 9 }, &mut value)
        .unwrap();
    assert_eq!(&value[..5], &[0, 0, 0, 0, 9]);
    assert_eq!(value[5], b'{');

    let mut untouched = b"x".to_vec();
    let error = payment()
        .write_value(&ValueFraming::SingleObject, &mut untouched)
        .unwrap_err();
    assert!(matches!(
        error,
        SerializationError::FramingUnsupported {
            record_type: "PaymentReceived",
            ..
        }
    ));
    assert_eq!(untouched, b"x");
}

#[test]
fn native_integer_keys_are_big_endian_like_javas_long_serializer() {
    assert_eq!(
        payment().key_bytes().unwrap(),
        Some(vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])
    );
}

#[test]
fn headers_are_static_then_fields_then_type_id() {
    let headers = payment().headers();
    let keys: Vec<&str> = headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["source", "attempt", "trace", "__TypeId__"]);
    assert_eq!(headers[0].value.as_deref(), Some(&b"billing"[..]));
    assert_eq!(headers[1].value.as_deref(), Some(&[0u8, 0, 0, 3][..]));
    assert_eq!(
        headers[2].value, None,
        "a None field is a null header value"
    );
    assert_eq!(
        headers[3].value.as_deref(),
        Some(&b"com.shop.PaymentReceived"[..])
    );
    assert_eq!(
        PaymentReceived::json_type_id(),
        Some("com.shop.PaymentReceived")
    );
}

#[test]
fn an_optional_timestamp_falls_back_to_the_send_time() {
    assert_eq!(payment().timestamp_ms().unwrap(), None);
    let stamped = PaymentReceived {
        received_at: Some(UNIX_EPOCH + Duration::from_millis(42)),
        ..payment()
    };
    assert_eq!(stamped.timestamp_ms().unwrap(), Some(42));
}

#[test]
fn a_timestamp_before_the_epoch_is_an_error_naming_the_field() {
    let early = PaymentReceived {
        received_at: Some(UNIX_EPOCH - Duration::from_millis(1)),
        ..payment()
    };
    let error = early.timestamp_ms().unwrap_err();
    assert!(matches!(
        error,
        SerializationError::Timestamp {
            record_type: "PaymentReceived",
            field: "received_at",
            reason: TimestampError::BeforeEpoch { millis: -1 },
        }
    ));
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "shipments", key_format = "json")]
struct ShipmentJsonKey {
    #[kafka(key)]
    #[serde(rename = "warehouse")]
    warehouse_id: String,
    #[kafka(key)]
    parcel: u32,
    weight_grams: i32,
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "shipments", key_format = "string")]
struct ShipmentStringKey {
    #[kafka(key)]
    warehouse_id: String,
    #[kafka(key)]
    parcel: u32,
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "shipments", key_format = "json")]
struct SingleJsonKey {
    #[kafka(key)]
    id: Vec<String>,
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "shipments", key_format = "json")]
struct OptionalJsonKey {
    #[kafka(key)]
    id: Option<String>,
}

#[test]
fn a_json_key_that_is_null_is_no_key() {
    let none = OptionalJsonKey { id: None };
    assert_eq!(none.key_bytes().unwrap(), None);
    let some = OptionalJsonKey {
        id: Some("a".into()),
    };
    assert_eq!(some.key_bytes().unwrap(), Some(br#""a""#.to_vec()));
}

#[test]
fn composite_keys_in_json_and_string_formats() {
    let json = ShipmentJsonKey {
        warehouse_id: "w\"1".into(),
        parcel: 7,
        weight_grams: 10,
    };
    assert_eq!(
        json.key_bytes().unwrap(),
        Some(br#"{"warehouse":"w\"1","parcel":7}"#.to_vec())
    );
    let string = ShipmentStringKey {
        warehouse_id: "w1".into(),
        parcel: 7,
    };
    assert_eq!(string.key_bytes().unwrap(), Some(b"w1:7".to_vec()));
    let single = SingleJsonKey {
        id: vec!["a".into(), "b".into()],
    };
    assert_eq!(single.key_bytes().unwrap(), Some(br#"["a","b"]"#.to_vec()));
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "misc")]
struct Keyless {
    text: String,
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "misc")]
struct OptionalKey {
    #[kafka(key)]
    id: Option<uuid::Uuid>,
}

#[test]
fn keyless_and_null_keys() {
    assert_eq!(Keyless { text: "x".into() }.key_bytes().unwrap(), None);
    assert_eq!(OptionalKey { id: None }.key_bytes().unwrap(), None);
    let id = uuid::Uuid::from_u128(1);
    assert_eq!(
        OptionalKey { id: Some(id) }.key_bytes().unwrap(),
        Some(b"00000000-0000-0000-0000-000000000001".to_vec())
    );
}

/// `write_key` appends what `key_bytes` returns, or nothing for no key.
fn writes_its_key<R: KafkaRecord>(record: &R) {
    let mut out = b"kept".to_vec();
    let keyed = record.write_key(&mut out).unwrap();
    match record.key_bytes().unwrap() {
        Some(key) => {
            assert!(keyed);
            assert_eq!(out, [&b"kept"[..], &key].concat());
        }
        None => {
            assert!(!keyed);
            assert_eq!(out, b"kept");
        }
    }
}

#[test]
fn write_key_writes_the_key_bytes_for_every_kind_of_key() {
    writes_its_key(&sample_order(1));
    writes_its_key(&payment());
    writes_its_key(&OptionalJsonKey { id: None });
    writes_its_key(&OptionalJsonKey {
        id: Some("a".into()),
    });
    writes_its_key(&ShipmentJsonKey {
        warehouse_id: "w1".into(),
        parcel: 7,
        weight_grams: 10,
    });
    writes_its_key(&ShipmentStringKey {
        warehouse_id: "w1".into(),
        parcel: 7,
    });
    writes_its_key(&Keyless { text: "x".into() });
    writes_its_key(&OptionalKey { id: None });
    writes_its_key(&OptionalKey {
        id: Some(uuid::Uuid::from_u128(1)),
    });
}

#[test]
fn to_producer_record_assembles_everything() {
    let order = sample_order(1);
    let record = order
        .to_producer_record("orders", &ValueFraming::Raw)
        .unwrap();
    assert_eq!(record.topic, "orders");
    assert_eq!(record.key.as_deref(), Some(&b"order-2024-000042"[..]));
    assert_eq!(
        record.value.as_deref(),
        Some(&order.to_avro_datum_bytes()[..])
    );
    assert_eq!(record.timestamp, Some(1_700_000_000_123));
    assert_eq!(record.headers, order.headers());
    assert_eq!(record.partition, None);
}

#[test]
fn per_record_methods_work_through_dyn() {
    let records: Vec<Box<dyn KafkaRecord>> = vec![Box::new(sample_order(0)), Box::new(payment())];
    let keys: Vec<Option<Vec<u8>>> = records.iter().map(|r| r.key_bytes().unwrap()).collect();
    assert_eq!(keys[0].as_deref(), Some(&b"order-2024-000042"[..]));
    assert_eq!(keys[1].as_ref().map(Vec::len), Some(8));
}

/// Raw datum bytes of an order, through the Avro trait.
trait DatumBytes {
    fn to_avro_datum_bytes(&self) -> Vec<u8>;
}

impl DatumBytes for OrderPlaced {
    fn to_avro_datum_bytes(&self) -> Vec<u8> {
        kafka_record::avro::AvroNamed::to_avro_datum(self).unwrap()
    }
}

mod record_keys {
    use kafka_derive::{KafkaBytes, KafkaRecord};
    use kafka_record::{KafkaBytes, KafkaRecord, KeyEncoding, RecordKey};
    use serde::Serialize;

    #[derive(Serialize, KafkaBytes)]
    struct PaymentId(String);

    #[derive(Serialize, KafkaBytes)]
    struct AccountNumber {
        value: i64,
    }

    #[derive(Serialize, KafkaBytes)]
    struct Tagged<T>(T);

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "payments")]
    struct PaymentTaken {
        #[kafka(key)]
        id: PaymentId,
        #[kafka(header = "account")]
        account: AccountNumber,
    }

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "payments")]
    struct MaybeKeyed {
        #[kafka(key)]
        id: Option<Tagged<uuid::Uuid>>,
    }

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "t", key_format = "json")]
    struct JsonKeyed {
        #[kafka(key)]
        tenant: String,
        #[kafka(key)]
        r#type: i32,
    }

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "t", key_format = "string")]
    struct DisplayKeyed {
        #[kafka(key)]
        number: u64,
    }

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "t")]
    struct Keyless {
        text: String,
    }

    #[test]
    fn newtype_keys_are_written_as_their_field() {
        let payment = PaymentTaken {
            id: PaymentId("p-1".into()),
            account: AccountNumber { value: 258 },
        };
        assert_eq!(payment.key_bytes().unwrap(), Some(b"p-1".to_vec()));
        assert_eq!(
            payment.headers()[0].value.as_deref(),
            Some(&[0u8, 0, 0, 0, 0, 0, 1, 2][..])
        );
        assert_eq!(
            serde_json::to_string(&payment).unwrap(),
            r#"{"id":"p-1","account":{"value":258}}"#
        );
        let uuid = uuid::Uuid::from_u128(0xABCD);
        let keyed = MaybeKeyed {
            id: Some(Tagged(uuid)),
        };
        assert_eq!(
            keyed.key_bytes().unwrap(),
            Some(b"00000000-0000-0000-0000-00000000abcd".to_vec())
        );
        assert_eq!(MaybeKeyed { id: None }.key_bytes().unwrap(), None);
        assert_eq!(Tagged(7i32).kafka_bytes(), Some(vec![0, 0, 0, 7]));
        // The derived newtypes write their field's bytes as they return them.
        super::writes_its_key(&payment);
        super::writes_its_key(&keyed);
        super::writes_its_key(&MaybeKeyed { id: None });
        let mut out = Vec::new();
        assert!(Tagged(7i32).write_kafka_bytes(&mut out));
        assert_eq!(out, [0, 0, 0, 7]);
    }

    #[test]
    fn record_key_names_the_fields_and_their_encoding() {
        assert_eq!(
            PaymentTaken::record_key(),
            Some(RecordKey {
                fields: &["id"],
                encoding: KeyEncoding::Utf8
            })
        );
        assert_eq!(AccountNumber::ENCODING, KeyEncoding::Long);
        assert_eq!(
            MaybeKeyed::record_key(),
            Some(RecordKey {
                fields: &["id"],
                encoding: KeyEncoding::UuidText
            })
        );
        let json = JsonKeyed::record_key().unwrap();
        assert_eq!(json.fields, ["tenant", "type"]);
        assert_eq!(json.encoding, KeyEncoding::Json);
        assert_eq!(json.describe_fields(), "fields `tenant`, `type`");
        let display = DisplayKeyed::record_key().unwrap();
        assert_eq!(display.encoding, KeyEncoding::Utf8);
        assert_eq!(display.describe_fields(), "field `number`");
        assert_eq!(Keyless::record_key(), None);
    }
}

mod avro_newtype_keys {
    use kafka_derive::{AvroType, KafkaBytes, KafkaRecord};
    use kafka_record::avro::AvroNamed;
    use kafka_record::{KafkaRecord, KeyEncoding, ValueFraming, read_value};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize, KafkaBytes, AvroType)]
    struct PaymentId(String);

    #[derive(Debug, PartialEq, Serialize, Deserialize, AvroType)]
    struct Cents(Option<i64>);

    #[derive(Debug, PartialEq, Serialize, Deserialize, KafkaRecord)]
    #[kafka(topic = "payments", format = "avro", namespace = "com.shop")]
    struct PaymentTaken {
        #[kafka(key)]
        id: PaymentId,
        refunded: Cents,
    }

    #[test]
    fn a_newtype_is_its_field_in_the_schema_and_on_the_wire() {
        let schema = PaymentTaken::avro_schema().unwrap();
        assert_eq!(
            schema.canonical_form(),
            r#"{"name":"com.shop.PaymentTaken","type":"record","fields":[{"name":"id","type":"string"},{"name":"refunded","type":["null","long"]}]}"#
        );
        assert!(
            schema
                .json()
                .contains(r#""type":["null","long"],"default":null"#)
        );
        let payment = PaymentTaken {
            id: PaymentId("p-1".into()),
            refunded: Cents(Some(5)),
        };
        let mut ours = Vec::new();
        payment.write_value(&ValueFraming::Raw, &mut ours).unwrap();
        let theirs =
            apache_avro::to_avro_datum(schema.parsed(), apache_avro::to_value(&payment).unwrap())
                .unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(payment.key_bytes().unwrap(), Some(b"p-1".to_vec()));
        assert_eq!(
            PaymentTaken::record_key().unwrap().encoding,
            KeyEncoding::Utf8
        );
        for framing in [
            ValueFraming::Raw,
            ValueFraming::SingleObject,
            ValueFraming::Confluent { schema_id: 9 },
        ] {
            let mut value = Vec::new();
            payment.write_value(&framing, &mut value).unwrap();
            assert_eq!(
                read_value::<PaymentTaken>(&value, &framing).unwrap(),
                payment,
                "{framing:?}"
            );
        }
        let mut confluent = Vec::new();
        payment
            .write_value(&ValueFraming::Confluent { schema_id: 9 }, &mut confluent)
            .unwrap();
        let error =
            read_value::<PaymentTaken>(&confluent, &ValueFraming::Confluent { schema_id: 8 })
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "record `PaymentTaken`: expected a value in the Confluent framing: its schema id is 9, not 8"
        );
        let error = read_value::<PaymentTaken>(&ours[..2], &ValueFraming::Raw).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "record `PaymentTaken`: the value does not decode as its Avro schema: "
            ),
            "{error}"
        );
    }
}
