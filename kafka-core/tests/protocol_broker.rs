//! The protocol layer against a real broker (Kafka 4.1.1 by default; any broker
//! through `KAFKA_BOOTSTRAP_SERVERS`, e.g. a 3.9.1 one started with
//! `KAFKA_HARNESS_STATE=/tmp/kafka39 KAFKA_VERSION=3.9.1 scripts/kafka start`).
//!
//! Records are hand-built RecordBatch v2 bytes (independent of `record_batch`)
//! and read back with Kafka's own Java consumer.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_core::network::{BrokerConnection, ConnectionOptions, NetworkError};
use kafka_core::protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnTopic, ApiVersionsRequest, CoordinatorType,
    DescribeTransactionsRequest, EndTxnRequest, FindCoordinatorRequest, InitProducerIdRequest,
    InitProducerIdResponse, MetadataRequest, ProducePartitionData, ProduceRequest, ProduceResponse,
    ProduceTopicData,
};
use kafka_core::protocol::{Encoder, ErrorCode, Request, Uuid};
use kafka_testkit::Kafka;

const TIMEOUT: Duration = Duration::from_secs(30);

fn options() -> ConnectionOptions {
    ConnectionOptions {
        client_id: "protocol-broker-test".into(),
        ..ConnectionOptions::default()
    }
}

async fn connect() -> BrokerConnection {
    let bootstrap = Kafka::get().bootstrap();
    let first = bootstrap.split(',').next().unwrap_or(bootstrap);
    BrokerConnection::connect(first, &options())
        .await
        .expect("connect to the test broker")
}

/// Creates a topic and waits until the broker's metadata names a leader for
/// every partition. Creation returns once the controller has the topic; the
/// broker leads its partitions a moment later, and a request in between gets
/// NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION instead of what the
/// test checks.
async fn led_topic(connection: &BrokerConnection, prefix: &str, partitions: usize) -> String {
    let topic = Kafka::get().create_topic(prefix, i32::try_from(partitions).unwrap(), 1);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let response = connection
            .call(&MetadataRequest::for_topics([topic.as_str()]), TIMEOUT)
            .await
            .unwrap();
        let led = response
            .topics
            .iter()
            .find(|t| t.name.as_deref() == Some(&topic))
            .is_some_and(|t| {
                t.error_code == ErrorCode::NONE
                    && t.partitions.len() == partitions
                    && t.partitions
                        .iter()
                        .all(|p| p.error_code == ErrorCode::NONE && p.leader_id >= 0)
            });
        if led {
            return topic;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{topic} has no leader after {TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Produces `value` with acks=1 to partition 0 of `topic` until the broker
/// takes it, returning its offset. Topic creation returns once the controller
/// has the topic; the broker leads the partition a moment later, and an acks=0
/// produce before then makes it close the connection (its only way to report
/// an error), so tests of acks=0 start with this.
async fn produce_once_led(connection: &BrokerConnection, topic: &str, value: &[u8]) -> i64 {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let batch = record_batch(&[(None, value, &[])], NO_PRODUCER);
    loop {
        let response = connection
            .call(&produce_request(topic, 0, 1, batch.clone()), TIMEOUT)
            .await
            .unwrap();
        match single_result(&response) {
            (ErrorCode::NONE, offset) => return offset,
            (code, _) if code.is_retriable() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (code, _) => panic!("{topic}-0 does not take records: {code:?}"),
        }
    }
}

/// Producer identity written into a batch.
#[derive(Clone, Copy)]
struct Producer {
    id: i64,
    epoch: i16,
    base_sequence: i32,
    transactional: bool,
}

const NO_PRODUCER: Producer = Producer {
    id: -1,
    epoch: -1,
    base_sequence: -1,
    transactional: false,
};

/// One record: key (`None` = null), value, headers.
type TestRecord<'a> = (Option<&'a [u8]>, &'a [u8], &'a [(&'a str, &'a [u8])]);

/// A RecordBatch v2 (magic 2, uncompressed) holding `records` (key, value, headers).
fn record_batch(records: &[TestRecord<'_>], producer: Producer) -> Bytes {
    let timestamp = 1_700_000_000_000_i64;
    let mut body = BytesMut::new(); // from attributes to the end: what the CRC covers
    let mut enc = Encoder::new(&mut body, false);
    enc.i16(if producer.transactional { 0x10 } else { 0 });
    enc.i32(records.len() as i32 - 1); // last offset delta
    enc.i64(timestamp); // base timestamp
    enc.i64(timestamp); // max timestamp
    enc.i64(producer.id);
    enc.i16(producer.epoch);
    enc.i32(producer.base_sequence);
    enc.i32(records.len() as i32);
    for (offset_delta, (key, value, headers)) in records.iter().enumerate() {
        let mut record = BytesMut::new();
        let mut rec = Encoder::new(&mut record, false);
        rec.i8(0); // attributes
        rec.varlong(0); // timestamp delta
        rec.varint(offset_delta as i32);
        match key {
            Some(key) => {
                rec.varint(key.len() as i32);
                rec.raw(key);
            }
            None => rec.varint(-1),
        }
        rec.varint(value.len() as i32);
        rec.raw(value);
        rec.varint(headers.len() as i32);
        for (name, header_value) in *headers {
            rec.varint(name.len() as i32);
            rec.raw(name.as_bytes());
            rec.varint(header_value.len() as i32);
            rec.raw(header_value);
        }
        enc.varint(record.len() as i32);
        enc.raw(&record);
    }
    let mut batch = BytesMut::new();
    batch.put_i64(0); // base offset (the broker assigns the real one)
    batch.put_i32((4 + 1 + 4 + body.len()) as i32); // batch length: from leader epoch on
    batch.put_i32(-1); // partition leader epoch
    batch.put_i8(2); // magic
    batch.put_u32(crc32c::crc32c(&body));
    batch.put_slice(&body);
    batch.freeze()
}

fn produce_request(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        transaction_v2: false,
        acks,
        timeout_ms: 30_000,
        topics: vec![ProduceTopicData {
            name: topic.to_owned(),
            topic_id: Uuid::ZERO,
            partitions: vec![ProducePartitionData {
                index: partition,
                records: Some(records),
            }],
        }],
    }
}

fn single_result(response: &ProduceResponse) -> (ErrorCode, i64) {
    let partition = &response.topics[0].partitions[0];
    (partition.error_code, partition.base_offset)
}

/// InitProducerId, retried on retriable errors (a fresh cluster may still be
/// loading its coordinators or allocating producer id blocks), as the Java client does.
async fn init_producer_id(
    connection: &BrokerConnection,
    request: &InitProducerIdRequest,
) -> InitProducerIdResponse {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = connection.call(request, TIMEOUT).await.unwrap();
        if response.error_code == ErrorCode::NONE {
            return response;
        }
        assert!(
            response.error_code.is_retriable(),
            "InitProducerId failed: {}",
            response.error_code
        );
        assert!(
            Instant::now() < deadline,
            "InitProducerId still failing: {}",
            response.error_code
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn negotiates_every_api_the_producer_needs() {
    let connection = connect().await;
    assert!(!connection.is_closed());
    let versions = [
        ("ApiVersions", connection.api_versions_version()),
        (
            "Metadata",
            connection.version_for::<MetadataRequest>().unwrap(),
        ),
        (
            "Produce",
            connection.version_for::<ProduceRequest>().unwrap(),
        ),
        (
            "InitProducerId",
            connection.version_for::<InitProducerIdRequest>().unwrap(),
        ),
        (
            "FindCoordinator",
            connection.version_for::<FindCoordinatorRequest>().unwrap(),
        ),
        (
            "AddPartitionsToTxn",
            connection
                .version_for::<AddPartitionsToTxnRequest>()
                .unwrap(),
        ),
        ("EndTxn", connection.version_for::<EndTxnRequest>().unwrap()),
        (
            "DescribeTransactions",
            connection
                .version_for::<DescribeTransactionsRequest>()
                .unwrap(),
        ),
    ];
    for (api, version) in versions {
        println!("negotiated {api} v{version} with {}", connection.address());
    }
    // Every broker from Kafka 2.8 on speaks the top of our ApiVersions,
    // AddPartitionsToTxn and EndTxn ranges; the pinned Kafka 4.x broker the top
    // of our Produce range (v13, topic ids).
    assert_eq!(
        connection.api_versions_version(),
        ApiVersionsRequest::MAX_VERSION
    );
    assert_eq!(
        connection.version_for::<ProduceRequest>().unwrap(),
        ProduceRequest::MAX_VERSION
    );
    assert!(connection.version_for::<MetadataRequest>().unwrap() >= 11);
}

#[tokio::test]
async fn metadata_describes_a_created_topic_and_an_unknown_one() {
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-metadata", 3).await;
    let missing = format!("{topic}-missing");
    let response = connection
        .call(
            &MetadataRequest::for_topics([topic.as_str(), missing.as_str()]),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert!(!response.brokers.is_empty());
    assert!(response.cluster_id.is_some());
    let broker_ids: Vec<i32> = response
        .brokers
        .iter()
        .map(|broker| broker.node_id)
        .collect();
    let described = response
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(&topic))
        .unwrap();
    assert_eq!(described.error_code, ErrorCode::NONE);
    assert!(!described.is_internal);
    assert!(!described.topic_id.is_zero());
    let mut indexes: Vec<i32> = described
        .partitions
        .iter()
        .map(|p| p.partition_index)
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, vec![0, 1, 2]);
    for partition in &described.partitions {
        assert_eq!(partition.error_code, ErrorCode::NONE);
        assert!(
            broker_ids.contains(&partition.leader_id),
            "leader {} not among {broker_ids:?}",
            partition.leader_id
        );
        assert!(partition.leader_epoch >= 0);
        assert_eq!(partition.replica_nodes, vec![partition.leader_id]);
        assert_eq!(partition.isr_nodes, vec![partition.leader_id]);
    }
    let unknown = response
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(&missing))
        .unwrap();
    assert_eq!(unknown.error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    assert!(unknown.error_code.is_retriable());
}

#[tokio::test]
async fn produce_acks_1_returns_offset_0_and_the_record_reads_back() {
    let kafka = Kafka::get();
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-produce", 1).await;
    let batch = record_batch(
        &[(
            Some(b"key-1"),
            b"hello from rust",
            &[("origin", b"protocol-test")],
        )],
        NO_PRODUCER,
    );
    let response = connection
        .call(&produce_request(&topic, 0, 1, batch), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(response.topics[0].name, topic);
    assert_eq!(single_result(&response), (ErrorCode::NONE, 0));
    let partition = &response.topics[0].partitions[0];
    assert_eq!(partition.log_append_time_ms, -1, "CreateTime topic");
    assert_eq!(partition.log_start_offset, 0);

    let batch = record_batch(
        &[(None, b"second", &[]), (Some(b"k3"), b"third", &[])],
        NO_PRODUCER,
    );
    let response = connection
        .call(&produce_request(&topic, 0, -1, batch), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(single_result(&response), (ErrorCode::NONE, 1));

    let records = kafka.read_all(&topic, 3);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].offset, 0);
    assert_eq!(records[0].key_str().as_deref(), Some("key-1"));
    assert_eq!(records[0].value_str().as_deref(), Some("hello from rust"));
    assert_eq!(
        records[0].header_str("origin").as_deref(),
        Some("protocol-test")
    );
    assert_eq!(records[0].timestamp, 1_700_000_000_000);
    assert_eq!(records[1].key, None);
    assert_eq!(records[1].value_str().as_deref(), Some("second"));
    assert_eq!(records[2].value_str().as_deref(), Some("third"));
}

#[tokio::test]
async fn produce_errors_come_back_as_error_codes() {
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-produce-errors", 1).await;
    // A partition that does not exist.
    let batch = record_batch(&[(None, b"x", &[])], NO_PRODUCER);
    let response = connection
        .call(&produce_request(&topic, 7, 1, batch.clone()), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        single_result(&response).0,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    // A corrupted batch (CRC no longer matches).
    let mut corrupt = BytesMut::from(&batch[..]);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let response = connection
        .call(&produce_request(&topic, 0, 1, corrupt.freeze()), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(single_result(&response).0, ErrorCode::CORRUPT_MESSAGE);
    assert!(!connection.is_closed());
}

#[tokio::test]
async fn twenty_pipelined_produce_requests_get_their_own_offsets() {
    let kafka = Kafka::get();
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-pipeline", 1).await;
    let started = Instant::now();
    let mut produced = Vec::new();
    let mut described = Vec::new();
    for i in 0..20 {
        let value = format!("pipelined-{i}");
        let batch = record_batch(&[(None, value.as_bytes(), &[])], NO_PRODUCER);
        produced.push(
            connection
                .send(&produce_request(&topic, 0, 1, batch))
                .await
                .unwrap(),
        );
        if i % 5 == 0 {
            // Another API interleaved on the same connection.
            described.push(
                connection
                    .send(&MetadataRequest::for_topics([topic.as_str()]))
                    .await
                    .unwrap(),
            );
        }
    }
    assert!(connection.in_flight() <= 24);
    // Waited for out of send order: matching is by correlation id.
    for metadata in described {
        let metadata = metadata.wait(TIMEOUT).await.unwrap();
        assert_eq!(metadata.topics[0].name.as_deref(), Some(topic.as_str()));
    }
    let mut offsets = Vec::new();
    for response in produced {
        let response = response.wait(TIMEOUT).await.unwrap();
        let (error, offset) = single_result(&response);
        assert_eq!(error, ErrorCode::NONE);
        offsets.push(offset);
    }
    println!(
        "20 pipelined produce requests (+4 metadata) in {:?}",
        started.elapsed()
    );
    assert_eq!(offsets, (0..20).collect::<Vec<i64>>());
    let records = kafka.read_all(&topic, 20);
    let values: Vec<String> = records.iter().filter_map(|r| r.value_str()).collect();
    assert_eq!(
        values,
        (0..20)
            .map(|i| format!("pipelined-{i}"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn acks_0_gets_no_response_and_the_connection_stays_in_step() {
    let kafka = Kafka::get();
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-acks0", 1).await;
    assert_eq!(produce_once_led(&connection, &topic, b"first").await, 0);
    for i in 0..3 {
        let value = format!("fire-and-forget-{i}");
        let batch = record_batch(&[(None, value.as_bytes(), &[])], NO_PRODUCER);
        connection
            .send_without_response(&produce_request(&topic, 0, 0, batch))
            .await
            .unwrap();
    }
    let response = connection
        .call(&MetadataRequest::for_topics([topic.as_str()]), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(response.topics[0].error_code, ErrorCode::NONE);
    let batch = record_batch(&[(None, b"acked", &[])], NO_PRODUCER);
    let response = connection
        .call(&produce_request(&topic, 0, 1, batch), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(single_result(&response), (ErrorCode::NONE, 4));
    assert_eq!(kafka.read_all(&topic, 5).len(), 5);
}

#[tokio::test]
async fn idempotent_producer_id_and_sequenced_batches() {
    let kafka = Kafka::get();
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-idempotent", 1).await;
    let init = init_producer_id(&connection, &InitProducerIdRequest::idempotent()).await;
    assert!(init.producer_id >= 0);
    let producer = Producer {
        id: init.producer_id,
        epoch: init.producer_epoch,
        base_sequence: 0,
        transactional: false,
    };
    let batch = record_batch(&[(None, b"seq-0", &[])], producer);
    let first = connection
        .call(&produce_request(&topic, 0, -1, batch.clone()), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(single_result(&first), (ErrorCode::NONE, 0));
    // The same batch again is a duplicate: acknowledged with the original offset, not stored twice.
    let again = connection
        .call(&produce_request(&topic, 0, -1, batch), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(single_result(&again), (ErrorCode::NONE, 0));
    // A gap in the sequence is refused.
    let gap = record_batch(
        &[(None, b"seq-5", &[])],
        Producer {
            base_sequence: 5,
            ..producer
        },
    );
    let refused = connection
        .call(&produce_request(&topic, 0, -1, gap), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        single_result(&refused).0,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    assert_eq!(kafka.read_all(&topic, 1).len(), 1);
}

#[tokio::test]
async fn a_committed_transaction_is_visible_to_read_committed() {
    let kafka = Kafka::get();
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-txn", 1).await;
    let transactional_id = kafka_testkit::unique_name("protocol-txn-id");

    // The coordinator may still be loading __transaction_state: retry as the Java client does.
    let deadline = Instant::now() + TIMEOUT;
    let coordinator = loop {
        let response = connection
            .call(
                &FindCoordinatorRequest::transaction(&transactional_id),
                TIMEOUT,
            )
            .await
            .unwrap();
        let coordinator = response.coordinators.into_iter().next().unwrap();
        if coordinator.error_code == ErrorCode::NONE {
            break coordinator;
        }
        assert!(
            coordinator.error_code.is_retriable(),
            "{}",
            coordinator.error_code
        );
        assert!(
            Instant::now() < deadline,
            "no transaction coordinator: {}",
            coordinator.error_code
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        FindCoordinatorRequest::transaction("x").key_type,
        CoordinatorType::Transaction
    );
    let coordinator_address = format!("{}:{}", coordinator.host, coordinator.port);
    let txn = BrokerConnection::connect(&coordinator_address, &options())
        .await
        .unwrap();

    let request = InitProducerIdRequest {
        transactional_id: Some(transactional_id.clone()),
        transaction_timeout_ms: 60_000,
        producer_id: -1,
        producer_epoch: -1,
    };
    let init = init_producer_id(&txn, &request).await;
    let add = AddPartitionsToTxnRequest {
        transactional_id: transactional_id.clone(),
        producer_id: init.producer_id,
        producer_epoch: init.producer_epoch,
        topics: vec![AddPartitionsToTxnTopic {
            name: topic.clone(),
            partitions: vec![0],
        }],
    };
    let added = txn.call(&add, TIMEOUT).await.unwrap();
    assert_eq!(added.results[0].name, topic);
    assert_eq!(added.results[0].partitions[0].error_code, ErrorCode::NONE);

    let producer = Producer {
        id: init.producer_id,
        epoch: init.producer_epoch,
        base_sequence: 0,
        transactional: true,
    };
    let mut request = produce_request(
        &topic,
        0,
        -1,
        record_batch(&[(None, b"in-txn", &[])], producer),
    );
    request.transactional_id = Some(transactional_id.clone());
    let produced = connection.call(&request, TIMEOUT).await.unwrap();
    assert_eq!(single_result(&produced), (ErrorCode::NONE, 0));

    // The coordinator describes the open transaction with its partition.
    let describe = DescribeTransactionsRequest {
        transactional_ids: vec![transactional_id.clone()],
    };
    let described = txn.call(&describe, TIMEOUT).await.unwrap();
    let [open] = described.transaction_states.as_slice() else {
        panic!("one state per id: {described:?}");
    };
    assert_eq!(open.error_code, ErrorCode::NONE);
    assert_eq!(open.transactional_id, transactional_id);
    assert_eq!(open.transaction_state, "Ongoing");
    assert_eq!(
        (open.producer_id, open.producer_epoch),
        (init.producer_id, init.producer_epoch)
    );
    assert_eq!(open.topics, vec![(topic.clone(), vec![0])]);

    let end = EndTxnRequest {
        transactional_id: transactional_id.clone(),
        producer_id: init.producer_id,
        producer_epoch: init.producer_epoch,
        committed: true,
        transaction_v2: false,
    };
    let ended = txn.call(&end, TIMEOUT).await.unwrap();
    assert_eq!(ended.error_code, ErrorCode::NONE);

    // Answered at PrepareCommit; asked again, the coordinator reports the
    // transaction complete once it has written the markers.
    let deadline = Instant::now() + TIMEOUT;
    let mut states = Vec::new();
    loop {
        let described = txn.call(&describe, TIMEOUT).await.unwrap();
        let state = &described.transaction_states[0];
        assert_eq!(state.error_code, ErrorCode::NONE);
        states.push(state.transaction_state.clone());
        if state.is_settled() {
            break;
        }
        assert_eq!(state.transaction_state, "PrepareCommit", "{states:?}");
        assert!(Instant::now() < deadline, "never completed: {states:?}");
    }
    assert_eq!(states.last().map(String::as_str), Some("CompleteCommit"));

    let committed = kafka.read(&topic, 1, Duration::from_secs(10), true);
    assert_eq!(committed.len(), 1);
    assert_eq!(committed[0].value_str().as_deref(), Some("in-txn"));
}

#[tokio::test]
async fn a_closed_port_fails_fast_with_a_typed_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let started = Instant::now();
    let error = BrokerConnection::connect(&address, &options())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(error, NetworkError::Connect { .. }), "{error}");
    assert!(error.is_retriable());
    assert!(error.to_string().contains(&address));
}

#[tokio::test]
async fn produce_v13_names_the_topic_by_id_when_it_has_one() {
    let connection = connect().await;
    let topic = led_topic(&connection, "protocol-topic-id", 1).await;
    assert_eq!(produce_once_led(&connection, &topic, b"by-name").await, 0);
    let metadata = connection
        .call(&MetadataRequest::for_topics([topic.as_str()]), TIMEOUT)
        .await
        .unwrap();
    let topic_id = metadata.topics[0].topic_id;
    assert!(!topic_id.is_zero(), "Metadata v10+ carries topic ids");

    let mut request = produce_request(
        &topic,
        0,
        1,
        record_batch(&[(None, b"by-id", &[])], NO_PRODUCER),
    );
    assert_eq!(request.max_version(), 12, "without the id: below v13");
    request.topics[0].topic_id = topic_id;
    let pending = connection.send(&request).await.unwrap();
    let version = pending.version();
    let response = pending.wait(TIMEOUT).await.unwrap();
    assert_eq!(single_result(&response), (ErrorCode::NONE, 1));
    if version >= 13 {
        assert_eq!(response.topics[0].topic_id, topic_id);
        assert_eq!(response.topics[0].name, "", "v13 answers by id");
    } else {
        println!("the broker offers Produce up to v{version}: v13 not exercised");
    }
    let read = Kafka::get().read_all(&topic, 2);
    let values: Vec<_> = read.iter().filter_map(|r| r.value_str()).collect();
    assert_eq!(values, vec!["by-name", "by-id"]);
}
