use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "a", namespace = "com.shop")]
struct JsonWithNamespace {
    id: String,
}

#[derive(KafkaRecord)]
#[kafka(topic = "b", format = "avro", type_id = "com.shop.B")]
struct AvroWithTypeId {
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "c", format = "protobuf")]
struct UnknownFormat {
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "d", key_format = "json", key_separator = "/")]
struct SeparatorWithoutStringKeys {
    #[kafka(key)]
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "e", key_format = "string")]
struct KeyFormatWithoutKey {
    id: String,
}

#[derive(KafkaRecord)]
#[kafka(topic = "f", format = "avro", namespace = "com.my-shop")]
struct BadNamespace {
    id: String,
}

fn main() {}
