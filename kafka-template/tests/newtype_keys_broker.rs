//! Newtype keys against the real broker, with the serializer lines a Spring
//! service would have: each record lands on the partition Java's producer
//! picks for the same key (Kafka's console producer writes the same keys into
//! a twin topic), and Kafka's Java consumer reads back the key bytes Java's
//! serializers write.

use std::collections::HashMap;
use std::time::Duration;

use kafka_template::core::partition_for_key;
use kafka_template::{KafkaBytes, KafkaConfig, KafkaRecord, KafkaTemplate};
use kafka_testkit::Kafka;
use serde::Serialize;

#[derive(Serialize, KafkaBytes)]
struct PaymentId(String);

#[derive(Serialize, KafkaBytes)]
struct AccountNumber(i64);

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "${app.topics.payments}")]
struct PaymentTaken {
    #[kafka(key)]
    id: PaymentId,
    cents: i64,
}

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "${app.topics.accounts}")]
struct AccountOpened {
    #[kafka(key)]
    number: AccountNumber,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newtype_keys_land_where_javas_producer_puts_the_same_keys() {
    let kafka = Kafka::get();
    let payments = kafka.create_topic("tpl-newtype-payments", 6, 1);
    let twin = kafka.create_topic("tpl-newtype-java", 6, 1);
    let accounts = kafka.create_topic("tpl-newtype-accounts", 4, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "spring:\n  kafka:\n    bootstrap-servers: {bootstrap}\n    producer:\n      \
             key-serializer: org.apache.kafka.common.serialization.StringSerializer\n      \
             value-serializer: org.springframework.kafka.support.serializer.JsonSerializer\n    \
             producers:\n      accounts:\n        \
             key-serializer: org.apache.kafka.common.serialization.LongSerializer\n\
             app:\n  topics:\n    payments: {payments}\n    accounts: {accounts}\n",
            bootstrap = kafka.bootstrap()
        ),
    )
    .expect("write config");
    let config = KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("config loads");
    let template = KafkaTemplate::builder()
        .config(config.clone())
        .register::<PaymentTaken>()
        .build()
        .expect("StringSerializer fits PaymentId(String)");
    let accounts_template = KafkaTemplate::builder()
        .config(config)
        .producer("accounts")
        .register::<AccountOpened>()
        .build()
        .expect("LongSerializer fits AccountNumber(i64)");

    let ids: Vec<String> = (0..40).map(|i| format!("pay-{i:03}")).collect();
    let mut landed = HashMap::new();
    for (cents, id) in (0..).zip(&ids) {
        let sent = template
            .send(&PaymentTaken {
                id: PaymentId(id.clone()),
                cents,
            })
            .await
            .expect("sent");
        landed.insert(id.clone(), sent.record_metadata.partition);
    }
    let numbers = [1i64, 2, 42, 1_000_000_007, -5];
    let mut account_partitions = Vec::new();
    for number in numbers {
        let sent = accounts_template
            .send(&AccountOpened {
                number: AccountNumber(number),
            })
            .await
            .expect("sent");
        account_partitions.push(sent.record_metadata.partition);
    }
    assert_eq!(template.close(Duration::from_secs(10)).await, 0);
    assert_eq!(accounts_template.close(Duration::from_secs(10)).await, 0);

    // Java's producer, same keys, same partition count.
    let java: Vec<(Option<&str>, &str)> = ids.iter().map(|id| (Some(id.as_str()), "{}")).collect();
    kafka.produce_with_console(&twin, &java);
    let javas = kafka.read_all(&twin, ids.len());
    assert_eq!(javas.len(), ids.len());
    let ours = kafka.read_all(&payments, ids.len());
    assert_eq!(ours.len(), ids.len());
    let mut partitions_used = std::collections::HashSet::new();
    for record in &ours {
        let key = record.key_str().expect("keyed");
        let java_partition = javas
            .iter()
            .find(|r| r.key_str().as_deref() == Some(key.as_str()))
            .expect("Java sent the same key")
            .partition;
        assert_eq!(record.partition, java_partition, "key {key}");
        assert_eq!(landed[&key], record.partition, "where the template said");
        let value: serde_json::Value =
            serde_json::from_slice(record.value.as_deref().expect("value")).expect("JSON");
        assert_eq!(
            value["id"],
            key.as_str(),
            "the newtype is its string in JSON"
        );
        partitions_used.insert(record.partition);
    }
    assert!(partitions_used.len() > 1, "the keys spread over partitions");

    let read = kafka.read_all(&accounts, numbers.len());
    assert_eq!(read.len(), numbers.len());
    for (number, partition) in numbers.iter().zip(&account_partitions) {
        let key = number.to_be_bytes();
        let record = read
            .iter()
            .find(|r| r.key.as_deref() == Some(&key[..]))
            .unwrap_or_else(|| panic!("LongSerializer's bytes for {number}"));
        assert_eq!(record.partition, *partition);
        assert_eq!(Some(record.partition), partition_for_key(&key, 4));
    }
}
