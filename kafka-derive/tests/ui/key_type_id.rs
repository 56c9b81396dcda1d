use kafka_derive::KafkaRecord;

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "a", key_type_id = "com.shop.Key")]
struct NativeKeyWithKeyTypeId {
    #[kafka(key)]
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "b", key_format = "json", key_type_id = "com.shop.Key")]
struct KeylessWithKeyTypeId {
    id: String,
}

#[derive(serde::Serialize, KafkaRecord)]
#[kafka(topic = "c", key_format = "json", key_type_id = "com.shop.Key")]
struct KeyTypeIdHeaderTwice {
    #[kafka(key)]
    id: String,
    #[kafka(header = "__Key_TypeId__")]
    class: String,
}

fn main() {}
