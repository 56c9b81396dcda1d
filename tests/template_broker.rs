//! KafkaTemplate against the real broker, checked with Kafka's own Java consumer:
//! topic, partition, key, value, headers and timestamp of what landed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kafka_template::core::partition_for_key;
use kafka_template::core::{KafkaError, LazyRecord, ProducerRecord, RecordMetadata, SendError};
use kafka_template::record::serde_millis;
use kafka_template::{
    AvroType, KafkaConfig, KafkaRecord, KafkaTemplate, ProducerInterceptor, ProducerListener,
    SendResult,
};
use kafka_testkit::{ConsumedRecord, Kafka};
use serde::Serialize;

/// A JSON record whose topic comes from the configuration.
#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "${app.topics.greetings}", type_id = "com.example.Greeting")]
struct Greeting {
    #[kafka(key)]
    user: String,
    #[kafka(header = "tenant")]
    tenant: String,
    #[kafka(timestamp)]
    #[serde(with = "serde_millis")]
    at: SystemTime,
    text: String,
}

/// Greeting `i` of user `user-{i}` in tenant `acme`, stamped with a fixed
/// CreateTime (1_700_000_000_000).
fn numbered_greeting(i: usize, text: String) -> Greeting {
    Greeting {
        user: format!("user-{i}"),
        tenant: "acme".into(),
        at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
        text,
    }
}

/// An Avro record, raw-framed in this test so the value is the bare datum.
#[derive(Serialize, KafkaRecord)]
#[kafka(
    topic = "${app.topics.payments}",
    format = "avro",
    namespace = "com.example"
)]
struct PaymentTaken {
    #[kafka(key)]
    payment_id: i64,
    amount: Amount,
}

#[derive(Serialize, AvroType)]
#[kafka(namespace = "com.example")]
struct Amount {
    cents: i64,
    currency: String,
}

fn config_dir(topics: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut yaml = format!(
        "kafka:\n  bootstrap-servers: {}\n  client-id: template-it\n  producer:\n    linger: 1ms\n",
        Kafka::get().bootstrap()
    );
    if !topics.is_empty() {
        yaml.push_str("  template:\n    default-topic: ${app.topics.greetings}\n");
    }
    yaml.push_str("app:\n  topics:\n");
    for (name, topic) in topics {
        yaml.push_str(&format!("    {name}: {topic}\n"));
    }
    std::fs::write(dir.path().join("application.yml"), yaml).expect("write config");
    dir
}

fn load(dir: &tempfile::TempDir) -> KafkaConfig {
    KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("config loads")
}

/// The record Kafka's consumer found where `result` says it landed, with the
/// key and value sent.
fn landed_as_the_callback_said<'a>(
    records: &'a [ConsumedRecord],
    result: &SendResult,
) -> &'a ConsumedRecord {
    let m = &result.record_metadata;
    let record = records
        .iter()
        .find(|r| r.partition == m.partition && Some(r.offset) == m.offset)
        .expect("the record is where the callback said");
    assert_eq!(
        record.key,
        result.producer_record.key.as_deref().map(<[u8]>::to_vec)
    );
    assert_eq!(
        record.value,
        result.producer_record.value.as_deref().map(<[u8]>::to_vec)
    );
    record
}

/// A template of `dir`'s configuration, `Greeting` registered, with a
/// listener counting what it hears.
fn greeting_template(dir: &tempfile::TempDir) -> (KafkaTemplate, Arc<Counting>) {
    let counts = Arc::new(Counting::default());
    let template = KafkaTemplate::builder()
        .config(load(dir))
        .listener(CountingListener(counts.clone()))
        .register::<Greeting>()
        .build()
        .expect("template");
    (template, counts)
}

#[derive(Default)]
struct Counting {
    ok: AtomicU64,
    failed: AtomicU64,
    acks: AtomicU64,
}

struct CountingListener(Arc<Counting>);
impl ProducerListener for CountingListener {
    fn on_success(&self, _record: &LazyRecord, _metadata: &RecordMetadata) {
        self.0.ok.fetch_add(1, Ordering::SeqCst);
    }
    fn on_error(&self, _record: Option<&ProducerRecord>, _error: &KafkaError) {
        self.0.failed.fetch_add(1, Ordering::SeqCst);
    }
}

struct StampingInterceptor(Arc<Counting>);
impl ProducerInterceptor for StampingInterceptor {
    fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
        record.with_header("origin", "template-it")
    }
    fn on_acknowledgement(&self, result: Result<&RecordMetadata, &KafkaError>) {
        if result.is_ok() {
            self.0.acks.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_records_land_with_topic_partition_key_value_headers_and_timestamp() {
    let kafka = Kafka::get();
    let greetings = kafka.create_topic("tpl-greetings", 6, 1);
    let payments = kafka.create_topic("tpl-payments", 3, 1);
    let dir = config_dir(&[("greetings", &greetings), ("payments", &payments)]);
    let counts = Arc::new(Counting::default());
    let template = KafkaTemplate::builder()
        .config(load(&dir))
        .listener(CountingListener(counts.clone()))
        .interceptor(StampingInterceptor(counts.clone()))
        .avro_framing(kafka_template::AvroFraming::Raw)
        .register::<Greeting>()
        .register::<PaymentTaken>()
        .build()
        .expect("template");

    let at = UNIX_EPOCH + Duration::from_millis(1_700_000_123_456);
    let mut sent = Vec::new();
    for i in 0..20 {
        let greeting = Greeting {
            user: format!("user-{}", i % 5),
            tenant: "acme".into(),
            at,
            text: format!("hello {i}"),
        };
        sent.push(template.send(&greeting).await.expect("sent"));
    }
    let payment = PaymentTaken {
        payment_id: 42,
        amount: Amount {
            cents: 1999,
            currency: "EUR".into(),
        },
    };
    let paid = template.send(&payment).await.expect("payment sent");
    let default_sent = template
        .send_default(Some("k-default"), "to the default topic")
        .await
        .expect("default topic");
    assert_eq!(default_sent.record_metadata.topic, greetings);

    let records = kafka.read_all(&greetings, 21);
    assert_eq!(records.len(), 21);
    for (i, result) in sent.iter().enumerate() {
        let m = &result.record_metadata;
        let record = records
            .iter()
            .find(|r| r.partition == m.partition && Some(r.offset) == m.offset)
            .expect("the record is where the template said");
        let user = format!("user-{}", i % 5);
        assert_eq!(record.topic, greetings);
        assert_eq!(record.key_str().as_deref(), Some(user.as_str()));
        assert_eq!(
            Some(record.partition),
            partition_for_key(user.as_bytes(), 6),
            "Java's murmur2 partition"
        );
        assert_eq!(record.timestamp, 1_700_000_123_456);
        assert_eq!(record.header_str("tenant").as_deref(), Some("acme"));
        assert_eq!(
            record.header_str("__TypeId__").as_deref(),
            Some("com.example.Greeting")
        );
        assert_eq!(record.header_str("origin").as_deref(), Some("template-it"));
        let value: serde_json::Value =
            serde_json::from_slice(record.value.as_deref().expect("value")).expect("JSON value");
        assert_eq!(value["text"], format!("hello {i}"));
        assert_eq!(value["user"], user);
    }

    let payment_records = kafka.read_all(&payments, 1);
    assert_eq!(payment_records.len(), 1);
    let p = &payment_records[0];
    assert_eq!(p.partition, paid.record_metadata.partition);
    // IntegerSerializer-style big-endian i64 key.
    assert_eq!(p.key.as_deref(), Some(&42i64.to_be_bytes()[..]));
    // Raw Avro datum: the key field is part of the value too (long 42 = zigzag
    // 84), then the nested record: long 1999 (zigzag varint), string "EUR".
    let mut expected = vec![84];
    let mut zigzag = (1999i64 << 1) as u64;
    while zigzag >= 0x80 {
        expected.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    expected.push(zigzag as u8);
    expected.extend_from_slice(&[6, b'E', b'U', b'R']);
    assert_eq!(p.value.as_deref(), Some(expected.as_slice()));

    assert_eq!(counts.ok.load(Ordering::SeqCst), 22);
    assert_eq!(counts.acks.load(Ordering::SeqCst), 22);
    assert_eq!(counts.failed.load(Ordering::SeqCst), 0);
    assert_eq!(template.close(Duration::from_secs(10)).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresolvable_topic_placeholder_is_a_startup_error_naming_struct_and_key() {
    let dir = config_dir(&[]);
    let error = KafkaTemplate::builder()
        .config(load(&dir))
        .register::<Greeting>()
        .build()
        .expect_err("no app.topics.greetings");
    let message = error.to_string();
    assert!(message.contains("Greeting"), "{message}");
    assert!(message.contains("app.topics.greetings"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_to_an_unknown_topic_fails_through_the_one_result_with_the_record() {
    let topic = kafka_testkit::unique_name("tpl-missing");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "kafka:\n  bootstrap-servers: {}\n  producer:\n    properties:\n      max.block.ms: 1500\n",
            Kafka::get().bootstrap()
        ),
    )
    .expect("write");
    let counts = Arc::new(Counting::default());
    let template = KafkaTemplate::builder()
        .config(load(&dir))
        .listener(CountingListener(counts.clone()))
        .build()
        .expect("template");
    let error = template
        .send(ProducerRecord::new(topic.as_str(), "v").with_key("k"))
        .await
        .expect_err("the topic does not exist");
    assert!(error.to_string().contains(&topic), "{error}");
    let record = error.record().expect("the record comes back");
    assert_eq!(record.value.as_deref(), Some(&b"v"[..]));
    assert_eq!(counts.failed.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_fail_for_good_are_journaled_and_replay_sends_them() {
    let kafka = Kafka::get();
    let topic = kafka_testkit::unique_name("tpl-journal");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "kafka:\n  bootstrap-servers: {}\n  producer:\n    properties:\n      max.block.ms: 1000\n",
            kafka.bootstrap()
        ),
    )
    .expect("write");
    let journal = kafka_template::FailureJournal::open(dir.path().join("failed.journal"))
        .expect("journal opens");
    let template = KafkaTemplate::builder()
        .config(load(&dir))
        .failure_journal(journal.clone())
        .build()
        .expect("template");

    // The topic does not exist yet: the sends fail and land in the journal.
    for i in 0..2 {
        let error = template
            .send(
                ProducerRecord::new(topic.as_str(), format!("value-{i}"))
                    .with_key(format!("key-{i}"))
                    .with_header("attempt", "first"),
            )
            .await
            .expect_err("unknown topic");
        assert!(error.to_string().contains(&topic), "{error}");
    }
    // The plain call's send waits for the topic's metadata, then fails: the
    // journal has the record once the pending send resolves, and the
    // callback has heard the refusal (after the journal stored it).
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pending = {
        let ran = ran.clone();
        template
            .try_enqueue_with_callback(
                ProducerRecord::new(topic.as_str(), "value-2")
                    .with_key("key-2")
                    .with_header("attempt", "first"),
                move |_| ran.store(true, Ordering::SeqCst),
            )
            .expect_err("the topic's metadata must be waited for")
    };
    let error = pending.await.expect_err("unknown topic");
    assert!(error.to_string().contains(&topic), "{error}");
    assert!(
        ran.load(Ordering::SeqCst),
        "the callback of a refused record runs"
    );
    assert_eq!(journal.len(), 3);

    // Still missing: each entry stays once (not journaled again by the
    // template as it fails anew).
    let report = template.replay_failure_journal().await.expect("replay");
    assert_eq!((report.failed, report.remaining), (3, 3), "{report:?}");
    template.flush().await;
    assert_eq!(journal.len(), 3);

    kafka.create_topic_named(&topic, 1, 1, &[]);
    let report = template.replay_failure_journal().await.expect("replay");
    assert_eq!((report.sent, report.failed), (3, 0), "{report:?}");
    assert!(journal.is_empty());

    let records = kafka.read_all(&topic, 3);
    assert_eq!(records.len(), 3);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.key_str(), Some(format!("key-{i}")));
        assert_eq!(record.value_str(), Some(format!("value-{i}")));
        assert_eq!(record.header_str("attempt").as_deref(), Some("first"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_template_still_delivers_what_it_buffered() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("tpl-drop", 3, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    // A linger far longer than the wait below: only the close that dropping the
    // template starts can send these records in time.
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "kafka:\n  bootstrap-servers: {}\n  producer:\n    linger: 240s\n    properties:\n      delivery.timeout.ms: 300000\n  template:\n    close-timeout: 20s\n",
            kafka.bootstrap()
        ),
    )
    .expect("write");
    let template = KafkaTemplate::builder()
        .config(load(&dir))
        .build()
        .expect("template");
    let mut pending = Vec::new();
    for i in 0..50 {
        let record = ProducerRecord::new(topic.as_str(), format!("v{i}")).with_key(format!("k{i}"));
        pending.push(template.enqueue(record).await.expect("buffered"));
    }
    drop(template);
    for p in pending {
        tokio::time::timeout(Duration::from_secs(60), p)
            .await
            .expect("dropping the template closes its producer, which sends at once")
            .expect("delivered by the close that drop started");
    }
    let records = kafka.read_all(&topic, 50);
    assert_eq!(records.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_report_each_record_where_javas_consumer_finds_it_and_give_back_rejected_ones() {
    let kafka = Kafka::get();
    let greetings = kafka.create_topic("tpl-callback", 6, 1);
    // A topic whose broker-side limit rejects a record the producer accepts:
    // the failure comes after buffering, through the callback.
    let small = kafka_testkit::unique_name("tpl-small");
    kafka.create_topic_named(&small, 1, 1, &["max.message.bytes=1024"]);
    let dir = config_dir(&[("greetings", &greetings)]);
    let (template, counts) = greeting_template(&dir);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..500 {
        let greeting = numbered_greeting(i, format!("hello {i}"));
        let tx = tx.clone();
        template
            .enqueue_with_callback(&greeting, move |result| drop(tx.send(result)))
            .await
            .expect("buffered");
    }
    let too_big = ProducerRecord::new(small.as_str(), vec![b'x'; 4096]).with_key("big");
    template
        .enqueue_with_callback(too_big, move |result| drop(tx.send(result)))
        .await
        .expect("buffered: the producer's own limits allow it");

    let mut sent = Vec::new();
    let mut failed = Vec::new();
    while let Some(result) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("every callback runs")
    {
        match result {
            Ok(result) => sent.push(result),
            Err(error) => failed.push(error),
        }
    }
    assert_eq!((sent.len(), failed.len()), (500, 1));
    let rejected = failed[0].record().expect("the rejected record comes back");
    assert_eq!(rejected.key.as_deref(), Some(&b"big"[..]));
    assert_eq!(rejected.topic, small);
    assert_eq!(rejected.value.as_deref(), Some(&[b'x'; 4096][..]));
    assert_eq!(rejected.partition, None);
    assert!(
        failed[0].to_string().contains("MESSAGE_TOO_LARGE"),
        "{}",
        failed[0]
    );

    let records = kafka.read_all(&greetings, 500);
    assert_eq!(records.len(), 500);
    for result in &sent {
        let record = landed_as_the_callback_said(&records, result);
        // The record handed back is the one sent, rebuilt from the batch: its
        // headers and timestamp, and no partition, as the application left it.
        let headers: Vec<_> = result
            .producer_record
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.value.as_deref().map(<[u8]>::to_vec)))
            .collect();
        assert_eq!(record.headers, headers);
        assert_eq!(result.producer_record.timestamp, Some(1_700_000_000_000));
        assert_eq!(result.producer_record.partition, None);
        assert_eq!(result.producer_record.topic, greetings);
    }
    assert_eq!(counts.ok.load(Ordering::SeqCst), 500);
    assert_eq!(counts.failed.load(Ordering::SeqCst), 1);
    assert_eq!(template.close(Duration::from_secs(10)).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_enqueue_buffers_at_once_waits_when_it_must_and_hands_back_a_refusal() {
    let kafka = Kafka::get();
    let greetings = kafka.create_topic("tpl-try", 3, 1);
    // A buffer.memory of 64 KiB, through which 2 MB of records must wait.
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = format!(
        "kafka:\n  bootstrap-servers: {}\n  producer:\n    linger: 5ms\n    batch-size: 16384\n    \
         buffer-memory: 65536\napp:\n  topics:\n    greetings: {greetings}\n",
        kafka.bootstrap()
    );
    std::fs::write(dir.path().join("application.yml"), yaml).expect("write config");
    let (template, counts) = greeting_template(&dir);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let filler = "x".repeat(1000);
    let (mut at_once, mut waited) = (0, 0);
    for i in 0..2000 {
        let greeting = numbered_greeting(i, format!("{i} {filler}"));
        let tx = tx.clone();
        match template.try_enqueue_with_callback(&greeting, move |result| drop(tx.send(result))) {
            Ok(()) => at_once += 1,
            Err(pending) => {
                waited += 1;
                pending.await.expect("buffered once there is room");
            }
        }
    }
    assert!(at_once > 0, "most sends find room at once");
    assert!(waited > 0, "2 MB through 64 KiB of buffer.memory must wait");

    // A record larger than buffer.memory is refused: the pending send
    // resolves to the error with the record, which its callback hears too,
    // once, before the send returns.
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let refusal_told = |ran: Arc<std::sync::atomic::AtomicUsize>| {
        move |result: Result<SendResult, SendError>| {
            let error = result.expect_err("refused, not sent");
            assert!(error.refused_before_sending(), "{error:?}");
            assert!(error.record().is_some(), "the record with the refusal");
            ran.fetch_add(1, Ordering::SeqCst);
        }
    };
    let huge = ProducerRecord::new(greetings.as_str(), vec![b'x'; 100_000]).with_key("huge");
    let pending = {
        let ran = ran.clone();
        template
            .try_enqueue_with_callback(huge, refusal_told(ran))
            .expect_err("a record larger than buffer.memory cannot be buffered")
    };
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "the callback heard it at once"
    );
    assert_eq!(
        counts.failed.load(Ordering::SeqCst),
        1,
        "the listener hears of a refusal when it happens"
    );
    let error = pending.await.expect_err("refused");
    assert!(
        matches!(error.error(), KafkaError::RecordExceedsBufferMemory { .. }),
        "{error}"
    );
    assert_eq!(
        error
            .record()
            .expect("the record comes back")
            .key
            .as_deref(),
        Some(&b"huge"[..])
    );
    // A derived record too large comes back as it was serialized, its
    // header and timestamp with it.
    let huge_greeting = numbered_greeting(9_999, "x".repeat(100_000));
    let pending = {
        let ran = ran.clone();
        template
            .try_enqueue_with_callback(&huge_greeting, refusal_told(ran))
            .expect_err("a record larger than buffer.memory cannot be buffered")
    };
    let error = pending.await.expect_err("refused");
    let record = error.record().expect("the derived record comes back");
    assert_eq!(record.topic, greetings);
    assert_eq!(record.key.as_deref(), Some(&b"user-9999"[..]));
    assert_eq!(record.timestamp, Some(1_700_000_000_000));
    let value: serde_json::Value =
        serde_json::from_slice(record.value.as_deref().expect("a value")).expect("JSON");
    assert_eq!(value["text"].as_str().map(str::len), Some(100_000));
    assert!(record.headers.iter().any(|h| h.key == "tenant"));
    assert_eq!(counts.failed.load(Ordering::SeqCst), 2);
    drop(tx);

    let mut sent = Vec::new();
    while let Some(result) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("every callback runs")
    {
        sent.push(result.expect("delivered"));
    }
    assert_eq!(sent.len(), 2000);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        2,
        "each refused record's callback ran once"
    );
    assert_eq!(counts.ok.load(Ordering::SeqCst), 2000);
    assert_eq!(counts.failed.load(Ordering::SeqCst), 2);

    let records = kafka.read_all(&greetings, 2000);
    assert_eq!(records.len(), 2000);
    for result in &sent {
        landed_as_the_callback_said(&records, result);
    }
    assert_eq!(template.close(Duration::from_secs(10)).await, 0);
}

/// A record with a composite JSON key whose class Spring consumers map.
#[derive(Serialize, KafkaRecord)]
#[kafka(
    topic = "${app.topics.parcels}",
    key_format = "json",
    key_type_id = "com.example.ParcelKey",
    type_id = "com.example.ParcelScanned"
)]
struct ParcelScanned {
    #[kafka(key)]
    warehouse: String,
    #[kafka(key)]
    parcel: u32,
    scanner: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_key_lands_with_the_key_type_id_header_spring_consumers_read() {
    let kafka = Kafka::get();
    let parcels = kafka.create_topic("tpl-parcels", 3, 1);
    let dir = config_dir(&[("greetings", "unused"), ("parcels", &parcels)]);
    let template = KafkaTemplate::builder()
        .config(load(&dir))
        .register::<ParcelScanned>()
        .build()
        .expect("template");
    let sent = template
        .send(&ParcelScanned {
            warehouse: "w1".into(),
            parcel: 7,
            scanner: "s-3".into(),
        })
        .await
        .expect("sent");
    assert_eq!(
        template.partition_count(&parcels).await.expect("metadata"),
        3
    );
    assert!(!template.is_transactional() && !template.in_transaction());
    let records = kafka.read_all(&parcels, 1);
    let record = landed_as_the_callback_said(&records, &sent);
    assert_eq!(
        record.key_str().as_deref(),
        Some(r#"{"warehouse":"w1","parcel":7}"#)
    );
    assert_eq!(
        record.header_str("__Key_TypeId__").as_deref(),
        Some("com.example.ParcelKey")
    );
    assert_eq!(
        record.header_str("__TypeId__").as_deref(),
        Some("com.example.ParcelScanned")
    );
}
