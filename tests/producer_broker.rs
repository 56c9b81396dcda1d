//! kafka-core's producer against the pinned Kafka 4.x broker, through its public
//! API only, with Kafka's own Java tools as the independent witness: keyed
//! exactly-once delivery and order, Java's partitioning, every codec, every acks
//! level, the errors raised before sending, close, and the ways to send.

mod scenarios;
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_core::partition_for_key;
use kafka_core::{
    Header, KafkaError, KafkaProducer, ProducerRecord, RecordMetadata, RecordRef, SendError,
    SentRecord, TrySendError,
};
use kafka_testkit::{Kafka, unique_name};

use support::{await_all, producer, run};

const LIMIT: Duration = Duration::from_secs(180);

#[test]
fn hundred_thousand_keyed_records_arrive_once_in_order_on_javas_partitions() {
    run(
        LIMIT,
        scenarios::keyed_records_exactly_once_in_order(Kafka::get(), 100_000),
    );
}

#[test]
fn keys_land_on_the_partitions_javas_console_producer_picks() {
    run(LIMIT, async {
        const SAMPLE: usize = 300;
        let kafka = Kafka::get();
        let ours = kafka.create_topic("partitions-ours", 12, 1);
        let javas = kafka.create_topic("partitions-java", 12, 1);
        let keys: Vec<String> = (0..SAMPLE).map(scenarios::key_of).collect();

        let producer = producer(kafka.bootstrap(), &[]);
        let mut handles = Vec::new();
        for key in &keys {
            let record = ProducerRecord::new(ours.clone(), "ours").with_key(key.clone());
            handles.push(producer.send(record).await.expect("send accepted"));
        }
        producer.flush().await;
        let our_partitions: HashMap<&str, i32> = keys
            .iter()
            .map(String::as_str)
            .zip(await_all(handles).await.iter().map(|m| m.partition))
            .collect();
        producer.close(Duration::from_secs(10)).await;

        let lines: Vec<(Option<&str>, &str)> =
            keys.iter().map(|k| (Some(k.as_str()), "java")).collect();
        kafka.produce_with_console(&javas, &lines);
        let consumed = kafka.read_all(&javas, SAMPLE);
        assert_eq!(consumed.len(), SAMPLE);
        let mut used = std::collections::BTreeSet::new();
        for record in &consumed {
            let key = record.key_str().expect("keyed");
            assert_eq!(
                our_partitions.get(key.as_str()),
                Some(&record.partition),
                "key {key:?}: Java put it on partition {}",
                record.partition
            );
            assert_eq!(
                partition_for_key(key.as_bytes(), 12),
                Some(record.partition)
            );
            used.insert(record.partition);
        }
        assert_eq!(used.len(), 12, "the sample should cover every partition");
    });
}

#[test]
fn every_codec_is_read_back_identically_by_the_java_consumer() {
    run(
        LIMIT,
        scenarios::every_codec_reads_back_identically(Kafka::get(), 3_000),
    );
}

#[test]
fn acks_0_1_and_all_each_deliver() {
    run(LIMIT, scenarios::acks_levels_deliver(Kafka::get()));
}

#[test]
fn an_unknown_topic_fails_after_max_block_naming_the_topic() {
    run(
        LIMIT,
        scenarios::unknown_topic_fails_after_max_block(Kafka::get()),
    );
}

#[test]
fn a_record_over_max_request_size_fails_before_sending_with_both_sizes() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("too-large", 1, 1);
        let producer = producer(kafka.bootstrap(), &[("max.request.size", "1024")]);
        let started = Instant::now();
        let error = producer
            .send(ProducerRecord::new(topic.clone(), vec![7u8; 4096]).with_key("big"))
            .await
            .expect_err("a 4 KiB record cannot fit a 1 KiB request");
        assert!(started.elapsed() < Duration::from_millis(500));
        let KafkaError::RecordTooLarge {
            size,
            max_request_size,
        } = *error.error()
        else {
            panic!("wrong error: {error:?}");
        };
        assert_eq!(max_request_size, 1024);
        assert!(size > 4096, "the size {size} must count the whole record");
        let message = error.to_string();
        assert!(
            message.contains(&size.to_string()) && message.contains("1024"),
            "the message must give both sizes: {message}"
        );
        assert!(error.error().is_before_send());
        assert_eq!(
            error
                .record()
                .and_then(|r| r.value.as_ref())
                .map(|v| v.len()),
            Some(4096)
        );
        let metrics = producer.metrics();
        assert_eq!(metrics.record_send_total, 0, "nothing may have been sent");
        assert_eq!(
            metrics.metadata_refresh_total, 0,
            "it must fail before waiting for metadata"
        );

        // The producer is still fine for records that fit.
        let ok = producer
            .send(ProducerRecord::new(topic.clone(), vec![1u8; 100]))
            .await
            .expect("a small record is accepted")
            .await
            .expect("and delivered");
        assert_eq!(
            ok.offset,
            Some(0),
            "the large record must not have reached the topic"
        );
        producer.close(Duration::from_secs(10)).await;
    });
}

#[test]
fn a_bootstrap_address_where_nothing_listens_fails_within_max_block() {
    run(LIMIT, async {
        let address = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            listener.local_addr().expect("address").to_string()
        }; // dropped: nothing listens there now
        let error = scenarios::send_fails_after_max_block(&address, &unique_name("nowhere")).await;
        // The cause is named first, so the user knows to check the address.
        assert!(
            error.to_string().starts_with(&format!(
                "no broker could be reached: cannot connect to broker {address}"
            )),
            "the connection failure is not reported first: {error}"
        );
    });
}

#[test]
fn after_close_every_handle_and_callback_has_resolved() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("close", 3, 1);
        let producer = producer(kafka.bootstrap(), &[("linger.ms", "50")]);
        let callbacks = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for i in 0..3_000 {
            let record = ProducerRecord::new(topic.clone(), format!("close-{i}"));
            if i % 3 == 0 {
                let callbacks = callbacks.clone();
                producer
                    .send_with_callback(record, move |result| {
                        if result.is_ok() {
                            callbacks.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                    .await
                    .expect("send accepted");
            } else {
                handles.push(producer.send(record).await.expect("send accepted"));
            }
        }
        // No flush: close itself must deliver what was accepted.
        assert_eq!(producer.close(Duration::from_secs(30)).await, 0);
        assert_eq!(callbacks.load(Ordering::SeqCst), 1_000);
        assert!(
            handles.iter().all(|h| h.is_done()),
            "a handle is unresolved after close"
        );
        let mut offsets: HashMap<i32, Vec<i64>> = HashMap::new();
        for md in await_all(handles).await {
            let offset = md.offset.expect("acks=all acknowledges with an offset");
            offsets.entry(md.partition).or_default().push(offset);
        }
        assert_eq!(offsets.values().map(Vec::len).sum::<usize>(), 2_000);

        let error = producer
            .send(ProducerRecord::new(topic.clone(), "late"))
            .await
            .expect_err("send after close");
        assert!(
            matches!(error.error(), KafkaError::ProducerClosed(_)),
            "{error:?}"
        );
        assert_eq!(error.into_record().map(|r| r.topic), Some(topic));
    });
}

#[test]
fn fire_and_forget_synchronous_and_callback_sends_are_all_delivered() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("styles", 1, 1);
        let producer = producer(kafka.bootstrap(), &[]);

        // Fire and forget: the handle is dropped at once.
        drop(
            producer
                .send(ProducerRecord::new(topic.clone(), "fire-and-forget"))
                .await
                .expect("send accepted"),
        );
        // Synchronous: wait for the acknowledgement.
        let synchronous = producer
            .send(ProducerRecord::new(topic.clone(), "synchronous"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered");
        // Callback.
        let (tx, rx) = tokio::sync::oneshot::channel();
        producer
            .send_with_callback(ProducerRecord::new(topic.clone(), "callback"), move |r| {
                let _ = tx.send(r);
            })
            .await
            .expect("send accepted");
        producer.flush().await;
        let from_callback = rx
            .await
            .expect("the callback ran")
            .expect("delivered")
            .metadata;

        let consumed = kafka.read_all(&topic, 3);
        let values: Vec<String> = consumed.iter().filter_map(|r| r.value_str()).collect();
        assert_eq!(values, ["fire-and-forget", "synchronous", "callback"]);
        assert_eq!(synchronous.offset, Some(consumed[1].offset));
        assert_eq!(from_callback.offset, Some(consumed[2].offset));
        assert_eq!(synchronous.topic, topic);
        producer.close(Duration::from_secs(10)).await;
    });
}

#[test]
fn try_send_buffers_without_waiting_and_hands_back_what_must_wait() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("try-send", 3, 1);
        // Room for two batches: a loop of plain calls fills it, and the sends
        // that find it full must wait.
        let producer = producer(
            kafka.bootstrap(),
            &[("buffer.memory", "32768"), ("batch.size", "16384")],
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let callback = |i: usize| {
            let tx = tx.clone();
            move |result: Result<SentRecord, SendError>| drop(tx.send((i, result)))
        };

        // The topic's metadata is not known yet: the first send must wait.
        // That try asked for the metadata, so trying again (no send that
        // waits) succeeds once it has come.
        let first = ProducerRecord::new(topic.clone(), "value-0");
        let mut pending = match producer.try_send_with_callback(first, callback(0)) {
            Err(TrySendError::MustWait { record, callback }) => (record, callback),
            other => panic!("the first send must wait for the topic's metadata: {other:?}"),
        };
        assert_eq!(pending.0.value.as_deref(), Some(&b"value-0"[..]));
        let asked = Instant::now();
        loop {
            match producer.try_send_with_callback(pending.0, pending.1) {
                Ok(()) => break,
                Err(TrySendError::MustWait { record, callback }) => pending = (record, callback),
                Err(TrySendError::Refused(error)) => panic!("record 0 refused: {error:?}"),
            }
            assert!(
                asked.elapsed() < Duration::from_secs(30),
                "the topic's metadata never came after a try asked for it"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        const RECORDS: usize = 5_000;
        let mut waited = 0;
        for i in 1..RECORDS {
            let record = ProducerRecord::new(topic.clone(), format!("value-{i}"));
            match producer.try_send_with_callback(record, callback(i)) {
                Ok(()) => {}
                Err(TrySendError::MustWait { record, callback }) => {
                    waited += 1;
                    producer
                        .send_with_callback(record, callback)
                        .await
                        .expect("accepted once the buffer has room");
                }
                Err(TrySendError::Refused(error)) => panic!("record {i} refused: {error:?}"),
            }
        }
        assert!(
            waited > 0,
            "5,000 records through a 32 KiB buffer never found it full"
        );
        producer.flush().await;

        // Every callback ran once, with its record delivered.
        let mut offsets = HashMap::new();
        while let Ok((i, result)) = rx.try_recv() {
            let sent = result.unwrap_or_else(|e| panic!("record {i} failed: {e:?}"));
            assert_eq!(
                sent.record.value.as_deref(),
                Some(format!("value-{i}").as_bytes())
            );
            assert!(
                offsets.insert(i, sent.metadata.offset).is_none(),
                "record {i} twice"
            );
        }
        assert_eq!(offsets.len(), RECORDS, "every callback ran once");

        // Java's consumer finds them all.
        let consumed = kafka.read_all(&topic, RECORDS);
        let mut values: Vec<String> = consumed.iter().filter_map(|r| r.value_str()).collect();
        values.sort();
        let mut expected: Vec<String> = (0..RECORDS).map(|i| format!("value-{i}")).collect();
        expected.sort();
        assert_eq!(values, expected);

        // Refused for good after close: the record comes back, and the
        // callback has run once with the same refusal (Java's `send` calls
        // back with the exception of the future it returns).
        producer.close(Duration::from_secs(10)).await;
        let heard = Arc::new(Mutex::new(Vec::new()));
        let told = heard.clone();
        let refused = producer.try_send_with_callback(
            ProducerRecord::new(topic.clone(), "after-close"),
            move |result: Result<SentRecord, SendError>| told.lock().unwrap().push(result),
        );
        match refused {
            Err(TrySendError::Refused(error)) => {
                assert!(
                    matches!(error.error(), KafkaError::ProducerClosed(_)),
                    "{error:?}"
                );
                assert!(error.refused_before_sending(), "{error:?}");
                assert_eq!(error.into_record().map(|r| r.topic), Some(topic.clone()));
            }
            other => panic!("a closed producer must refuse: {other:?}"),
        }
        let heard = std::mem::take(&mut *heard.lock().unwrap());
        let [Err(told)] = &heard[..] else {
            panic!("the callback must run once, with the refusal: {heard:?}");
        };
        assert!(
            matches!(told.error(), KafkaError::ProducerClosed(_)),
            "{told:?}"
        );
        assert!(told.refused_before_sending(), "{told:?}");
        assert_eq!(told.record().map(|r| r.topic.clone()), Some(topic));
    });
}

/// Headers as the consumer hands them back: key and value bytes.
fn as_consumed(headers: &[Header]) -> Vec<(String, Option<Vec<u8>>)> {
    headers
        .iter()
        .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
        .collect()
}

/// Drains the callbacks' outcomes in `rx`, each delivered, handing each to
/// `check` with its value as text; returns how many there were.
async fn each_delivered_by_value(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Result<SentRecord, SendError>>,
    mut check: impl FnMut(&str, &SentRecord),
) -> usize {
    let mut heard = 0;
    while let Some(result) = rx.recv().await {
        let sent = result.expect("delivered");
        let value = sent.record.value.as_deref().expect("a value");
        check(std::str::from_utf8(value).expect("UTF-8"), &sent);
        heard += 1;
    }
    heard
}

#[test]
fn records_lent_from_reused_buffers_land_as_their_owned_equals_for_javas_consumer() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("lent-records", 4, 1);
        let producer = producer(kafka.bootstrap(), &[("compression.type", "zstd")]);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        const RECORDS: usize = 300;
        // One key and one value buffer for every record, overwritten each
        // time: the producer must have copied what it needs by the return.
        let (mut key, mut value) = (Vec::new(), Vec::new());
        let mut expected = HashMap::new();
        let mut handed_back = 0;
        for i in 0..RECORDS {
            key.clear();
            value.clear();
            key.extend_from_slice(format!("key-{}", i % 17).as_bytes());
            value.extend_from_slice(format!("value-{i}").as_bytes());
            let headers = if i % 3 == 0 {
                vec![Header::new("n", i.to_string()), Header::null("empty")]
            } else {
                Vec::new()
            };
            let lent = RecordRef {
                topic: &topic,
                partition: (i % 5 == 0).then_some(3),
                key: (i % 7 != 0).then_some(&key[..]),
                value: Some(&value[..]),
                timestamp: (i % 2 == 0).then_some(1_700_000_000_000 + i as i64),
                headers: &headers,
            };
            let traceparent = format!("00-{:032x}-{:016x}-01", i + 1, i + 7).into_bytes();
            let extra: Vec<(&str, &[u8])> = if i % 4 == 0 {
                vec![("traceparent", &traceparent[..])]
            } else {
                Vec::new()
            };
            let mut as_sent = lent.into_owned();
            for (name, bytes) in &extra {
                as_sent = as_sent.with_header(*name, bytes.to_vec());
            }
            let tx = tx.clone();
            let callback = move |result: Result<SentRecord, SendError>| drop(tx.send(result));
            match producer.try_send_ref_with_callback(lent, &extra, callback) {
                Ok(()) => {}
                // The first send waits for the topic's metadata: the record
                // comes back owned, the lent headers among its own.
                Err(TrySendError::MustWait { record, callback }) => {
                    handed_back += 1;
                    assert_eq!(record, as_sent, "record {i} handed back");
                    producer
                        .send_with_callback(record, callback)
                        .await
                        .expect("accepted after the wait");
                }
                Err(TrySendError::Refused(error)) => panic!("record {i} refused: {error:?}"),
            }
            expected.insert(format!("value-{i}"), as_sent);
        }
        assert!(handed_back >= 1, "the first send had no metadata to go on");
        drop(tx);
        producer.flush().await;

        // Each outcome's record equals the one lent, with its partition.
        let heard = each_delivered_by_value(&mut rx, |value, sent| {
            let lent = &expected[value];
            assert_eq!(sent.record.key, lent.key, "{value}");
            assert_eq!(sent.record.headers, lent.headers, "{value}");
            if let Some(timestamp) = lent.timestamp {
                assert_eq!(sent.metadata.timestamp, timestamp, "{value}");
            }
        })
        .await;
        assert_eq!(heard, RECORDS);

        // Java's consumer finds them as sent: keys, values, headers, explicit
        // partitions and timestamps, and keyed records where Java's
        // partitioner puts them.
        let consumed = kafka.read_all(&topic, RECORDS);
        assert_eq!(consumed.len(), RECORDS);
        for record in &consumed {
            let value = record.value_str().expect("a value");
            let lent = &expected[&value];
            assert_eq!(record.key, lent.key.as_ref().map(|k| k.to_vec()), "{value}");
            assert_eq!(record.headers, as_consumed(&lent.headers), "{value}");
            match (lent.partition, &lent.key) {
                (Some(partition), _) => assert_eq!(record.partition, partition, "{value}"),
                (None, Some(key)) => {
                    assert_eq!(Some(record.partition), partition_for_key(key, 4), "{value}")
                }
                (None, None) => {}
            }
            if let Some(timestamp) = lent.timestamp {
                assert_eq!(record.timestamp, timestamp, "{value}");
            }
        }

        // Refused for good: the record comes back owned, headers and all.
        producer.close(Duration::from_secs(10)).await;
        let headers = [Header::new("n", "last")];
        let lent = RecordRef {
            key: Some(b"k"),
            headers: &headers,
            ..RecordRef::new(&topic, b"after-close")
        };
        match producer.try_send_ref_with_callback(lent, &[("traceparent", b"tp")], |_| {}) {
            Err(TrySendError::Refused(error)) => {
                assert!(
                    matches!(error.error(), KafkaError::ProducerClosed(_)),
                    "{error:?}"
                );
                let record = error.into_record().expect("the record");
                assert_eq!(
                    record,
                    ProducerRecord::new(topic.clone(), "after-close")
                        .with_key("k")
                        .with_header("n", "last")
                        .with_header("traceparent", "tp")
                );
            }
            other => panic!("a closed producer must refuse: {other:?}"),
        }
    });
}

#[test]
fn headers_lent_to_a_try_send_are_the_records_own_for_javas_consumer_and_callbacks() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("lent-headers", 3, 1);
        // Compressed, so the headers are read back from lz4 bytes too.
        let producer = producer(kafka.bootstrap(), &[("compression.type", "lz4")]);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let traceparent =
            |i: usize| format!("00-{:032x}-{:016x}-01", i + 1, 0xabc0 + i).into_bytes();
        const RECORDS: usize = 200;
        let mut expected = HashMap::new();
        let mut handed_back = 0;
        for i in 0..RECORDS {
            let mut record = ProducerRecord::new(topic.clone(), format!("value-{i}"));
            // Some have headers of their own, which come first.
            if i % 3 == 0 {
                record = record.with_header("n", i.to_string());
            }
            let parent = traceparent(i);
            let mut lent: Vec<(&str, &[u8])> = vec![("traceparent", &parent[..])];
            if i % 2 == 0 {
                lent.push(("tracestate", b"vendor=t61rcWkgMzE"));
            }
            let mut as_sent = record.clone();
            for (key, value) in &lent {
                as_sent = as_sent.with_header(*key, value.to_vec());
            }
            expected.insert(format!("value-{i}"), as_sent.headers.clone());
            let tx = tx.clone();
            let callback = move |result: Result<SentRecord, SendError>| drop(tx.send(result));
            match producer.try_send_with_callback_and_headers(record, &lent, callback) {
                Ok(()) => {}
                // The first send waits for the topic's metadata: the record
                // comes back with the headers as its own.
                Err(TrySendError::MustWait { record, callback }) => {
                    handed_back += 1;
                    assert_eq!(record.headers, as_sent.headers, "record {i} handed back");
                    producer
                        .send_with_callback(record, callback)
                        .await
                        .expect("accepted after the wait");
                }
                Err(TrySendError::Refused(error)) => panic!("record {i} refused: {error:?}"),
            }
        }
        assert!(handed_back >= 1, "the first send had no metadata to go on");
        drop(tx);
        producer.flush().await;

        // Each outcome's record has the headers it was sent with, in order.
        let heard = each_delivered_by_value(&mut rx, |value, sent| {
            assert_eq!(sent.record.headers, expected[value], "{value} handed back");
        })
        .await;
        assert_eq!(heard, RECORDS);

        // Java's consumer finds the same headers, in the same order.
        let consumed = kafka.read_all(&topic, RECORDS);
        assert_eq!(consumed.len(), RECORDS);
        for record in &consumed {
            let value = record.value_str().expect("a value");
            assert_eq!(
                record.headers,
                as_consumed(&expected[&value]),
                "{value} as Java's consumer read it"
            );
        }

        // A record refused for good comes back with the headers too.
        producer.close(Duration::from_secs(10)).await;
        let parent = traceparent(RECORDS);
        let (told, heard) = std::sync::mpsc::channel();
        match producer.try_send_with_callback_and_headers(
            ProducerRecord::new(topic.clone(), "after-close"),
            &[("traceparent", &parent[..])],
            move |result| told.send(result).expect("the test hears"),
        ) {
            Err(TrySendError::Refused(error)) => {
                let record = error.into_record().expect("the record");
                assert_eq!(record.headers.len(), 1);
                assert_eq!(record.headers[0].key, "traceparent");
                assert_eq!(record.headers[0].value.as_deref(), Some(&parent[..]));
            }
            other => panic!("a closed producer must refuse: {other:?}"),
        }
        // The callback heard the same record, headers and all.
        let told = heard.try_recv().expect("the callback ran at once");
        let record = told
            .expect_err("refused")
            .into_record()
            .expect("the record");
        assert_eq!(record.headers.len(), 1);
        assert_eq!(record.headers[0].value.as_deref(), Some(&parent[..]));
    });
}

#[test]
fn record_callbacks_get_back_each_record_as_sent_where_javas_consumer_finds_it() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("record-callback", 3, 1);
        // Compressed, so the records handed back are decoded from zstd bytes.
        let producer = producer(kafka.bootstrap(), &[("compression.type", "zstd")]);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut sent = HashMap::new();
        for i in 0..300 {
            let mut record = ProducerRecord::new(topic.clone(), format!("value-{i}"))
                .with_key(format!("key-{i}"))
                .with_header("n", i.to_string());
            // Some name their partition and timestamp; the rest leave them out.
            if i % 10 == 0 {
                record = record
                    .with_partition(i % 3)
                    .with_timestamp(1_700_000_000_000 + i64::from(i));
            }
            if i % 7 == 0 {
                record.value = None;
            }
            sent.insert(format!("key-{i}"), record.clone());
            let tx = tx.clone();
            producer
                .send_with_callback(record, move |r| drop(tx.send(r)))
                .await
                .expect("send accepted");
        }
        drop(tx);
        producer.flush().await;

        let consumed = kafka.read_all(&topic, 300);
        let mut heard = 0;
        while let Some(result) = rx.recv().await {
            let back = result.expect("delivered");
            let key = String::from_utf8(back.record.key.clone().unwrap().to_vec()).unwrap();
            assert_eq!(
                back.record, sent[&key],
                "the record handed back is the one sent"
            );
            let m = &back.metadata;
            let found = consumed
                .iter()
                .find(|r| r.partition == m.partition && Some(r.offset) == m.offset)
                .expect("the record is where its metadata says");
            assert_eq!(found.key.as_deref(), Some(key.as_bytes()));
            assert_eq!(found.timestamp, m.timestamp);
            heard += 1;
        }
        assert_eq!(heard, 300);
        producer.close(Duration::from_secs(10)).await;
    });
}

/// The values of the first `count` records of `topic`, as Kafka's consumer reads them.
fn values_in(kafka: &Kafka, topic: &str, count: usize) -> Vec<String> {
    kafka
        .read_all(topic, count)
        .iter()
        .filter_map(|r| r.value_str())
        .collect()
}

/// Sends `value` to `topic` and waits for its acknowledgement.
async fn deliver(producer: &KafkaProducer, topic: &str, value: &'static str) -> RecordMetadata {
    producer
        .send(ProducerRecord::new(topic, value))
        .await
        .expect("send accepted")
        .await
        .expect("delivered")
}

/// The socket settings a Java user sets are applied: `send.buffer.bytes` and
/// `receive.buffer.bytes` (set before connecting), and
/// `connections.max.idle.ms`, after which an idle connection is closed
/// (`connection-close-total`) and a new one carries the next record.
#[test]
fn socket_buffers_and_the_idle_limit_apply_against_a_real_broker() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("socket-settings", 1, 1);
        let producer = producer(
            kafka.bootstrap(),
            &[
                ("send.buffer.bytes", "65536"),
                ("receive.buffer.bytes", "65536"),
                ("connections.max.idle.ms", "300"),
            ],
        );
        deliver(&producer, &topic, "before-idle").await;
        let metrics = producer.metrics();
        let (created, closed) = (
            metrics.connection_creation_total,
            metrics.connection_close_total,
        );
        // The leader's connection goes idle and the sender closes it.
        while producer.metrics().connection_close_total <= closed {
            tokio::task::yield_now().await;
        }
        deliver(&producer, &topic, "after-idle").await;
        assert!(
            producer.metrics().connection_creation_total > created,
            "a new connection carried the second record"
        );
        assert_eq!(values_in(kafka, &topic, 2), ["before-idle", "after-idle"]);
        producer.close(Duration::from_secs(10)).await;
        // Java's request-total counts every request: each of the leader's
        // two connections carried an ApiVersions and a Produce request (and
        // the metadata came over another).
        let metrics = producer.metrics();
        let requests = metrics.request_total;
        assert!(requests >= 4, "request-total {requests}");
        // Every request to the leader had an answer (acks=all): as many
        // responses, in bytes read back (Java's response-total,
        // incoming-byte-total). (A bootstrap connection may be closed with
        // a metadata request unanswered.)
        let leader = metrics.nodes.values().next().expect("the leader's metrics");
        assert_eq!(leader.response_total, leader.request_total, "{metrics:?}");
        assert!(
            metrics.response_total >= leader.response_total,
            "{metrics:?}"
        );
        assert!(metrics.incoming_byte_total > 0, "{metrics:?}");
        assert!(metrics.metadata_age.is_some(), "{metrics:?}");
        assert_eq!(
            metrics.connection_count, 0,
            "every connection closed: {metrics:?}"
        );
    });
}

/// Java's selector metrics over a real broker: `request-size-max` is the
/// Produce request that carried a 20 kB record (no more than its framing
/// over it), `network-io-total` every request written and response read,
/// and every plaintext connection counts in `successful-authentication-*`
/// as Java's does.
#[test]
fn request_sizes_network_io_and_authentications_against_a_real_broker() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("request-sizes", 1, 1);
        let producer = producer(kafka.bootstrap(), &[("compression.type", "none")]);
        let value = "x".repeat(20_000);
        producer
            .send(ProducerRecord::new(topic.clone(), value.clone()))
            .await
            .expect("send accepted")
            .await
            .expect("delivered");
        // After the close: nothing moves the counters any more.
        producer.close(Duration::from_secs(10)).await;
        let metrics = producer.metrics();
        assert!(
            (20_000.0..21_000.0).contains(&metrics.request_size_max),
            "request-size-max {}",
            metrics.request_size_max
        );
        let average = metrics.outgoing_byte_total as f64 / metrics.request_total as f64;
        assert!(
            (metrics.request_size_avg - average).abs() < 1e-6,
            "request-size-avg {} for {average}",
            metrics.request_size_avg
        );
        let leader = metrics.nodes.values().next().expect("the leader's metrics");
        assert_eq!(leader.request_size_max, metrics.request_size_max);
        assert_eq!(
            metrics.network_io_total,
            metrics.request_total + metrics.response_total,
            "{metrics:?}"
        );
        assert_eq!(
            metrics.successful_authentication_total, metrics.connection_creation_total,
            "{metrics:?}"
        );
        assert_eq!(metrics.failed_authentication_total, 0);
        assert_eq!(values_in(kafka, &topic, 1), [value]);
    });
}

/// Java's `select-*`, `io-wait-*` and `io-time-*` over a real broker: the
/// network thread's waits for its sockets and timers are counted and timed,
/// and its waits and work between them account for no more than its life.
#[test]
fn the_network_threads_waits_and_work_against_a_real_broker() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("io-wait", 1, 1);
        let built = Instant::now();
        let producer = producer(kafka.bootstrap(), &[]);
        producer
            .send(ProducerRecord::new(topic.clone(), "waited"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered");
        // The thread waited for the broker's answers before the record was
        // delivered: those waits ended, so they are counted by now.
        producer.close(Duration::from_secs(10)).await;
        let lived = built.elapsed();
        let metrics = producer.metrics();
        assert!(metrics.select_total > 0, "no wait counted: {metrics:?}");
        assert!(metrics.io_wait_time_total > Duration::ZERO, "{metrics:?}");
        assert!(metrics.io_time_total > Duration::ZERO, "{metrics:?}");
        assert!(
            metrics.io_wait_time_total + metrics.io_time_total <= lived,
            "waited {:?} and worked {:?} in {lived:?}",
            metrics.io_wait_time_total,
            metrics.io_time_total
        );
        // Younger than the sample windows: the averages are over every wait.
        let selects = metrics.select_total as f64;
        for (average, total) in [
            (metrics.io_wait_time_ns_avg, metrics.io_wait_time_total),
            (metrics.io_time_ns_avg, metrics.io_time_total),
        ] {
            let expected = total.as_nanos() as f64 / selects;
            assert!(
                (average - expected).abs() <= expected * 1e-9,
                "{average} for {expected}"
            );
        }
        for ratio in [metrics.io_wait_ratio, metrics.io_ratio] {
            assert!(ratio > 0.0 && ratio <= 1.0, "{metrics:?}");
        }
        assert!(metrics.select_rate > 0.0, "{metrics:?}");
        assert_eq!(values_in(kafka, &topic, 1), ["waited"]);
    });
}

/// A topic unused for `metadata.max.idle.ms` is forgotten, as in Java, and
/// its next send fetches its metadata afresh. (Left in the snapshot, it was
/// sent to from metadata nothing refreshed any more: a moved leader would
/// never have been found.)
#[test]
fn a_topic_idle_past_metadata_max_idle_is_fetched_again_when_used() {
    run(LIMIT, async {
        let kafka = Kafka::get();
        let topic = kafka.create_topic("metadata-idle", 1, 1);
        let producer = producer(
            kafka.bootstrap(),
            &[
                ("metadata.max.idle.ms", "5000"),
                ("metadata.max.age.ms", "500"),
            ],
        );
        deliver(&producer, &topic, "before-idle").await;
        // The idle limit passes (the metadata is refreshed every 500 ms until
        // a refresh finds the topic idle), then refreshes stop.
        let idle_from = Instant::now();
        let mut last = producer.metrics().metadata_refresh_total;
        let mut unchanged_since = Instant::now();
        while idle_from.elapsed() < Duration::from_millis(5000)
            || unchanged_since.elapsed() < Duration::from_millis(1500)
        {
            // Polled, not spun: the test shares the machine with others.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = producer.metrics().metadata_refresh_total;
            if now != last {
                (last, unchanged_since) = (now, Instant::now());
            }
        }
        deliver(&producer, &topic, "after-idle").await;
        assert!(
            producer.metrics().metadata_refresh_total > last,
            "the send after the idle period fetched the topic's metadata again"
        );
        assert_eq!(values_in(kafka, &topic, 2), ["before-idle", "after-idle"]);
        producer.close(Duration::from_secs(10)).await;
    });
}
