use kafka_derive::KafkaRecord;

struct NotSerializable;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "a", key_format = "string")]
struct StringKey {
    #[kafka(key)]
    region: String,
    #[kafka(key)]
    parcel: Option<u32>,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "b", key_format = "json")]
struct JsonKey {
    #[kafka(key)]
    #[serde(skip)]
    id: NotSerializable,
}

fn main() {}
