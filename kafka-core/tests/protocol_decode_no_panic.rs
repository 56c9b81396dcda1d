//! Property tests: every response decoder, at every version, on arbitrary and on
//! mutated-valid bytes, returns `Ok` or a typed error and never panics; the
//! primitives round-trip.
//!
//! (The same decoders are also fuzzed with cargo-fuzz: `kafka-core/fuzz`.)

use bytes::BytesMut;
use kafka_core::protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, ApiVersionsRequest,
    DescribeTransactionsRequest, EndTxnRequest, FindCoordinatorRequest,
    GetTelemetrySubscriptionsRequest, InitProducerIdRequest, MetadataRequest, ProduceRequest,
    PushTelemetryRequest, SaslAuthenticateRequest, SaslHandshakeRequest, TxnOffsetCommitRequest,
};
use kafka_core::protocol::{Decoder, Encoder, Request, decode_response};
use kafka_protocol::protocol::{Encodable, StrBytes};
use proptest::prelude::*;

/// Decode `bytes` as every response type at every version it supports.
fn decode_everything(bytes: &[u8]) {
    fn all_versions<R: Request>(bytes: &[u8]) {
        for version in R::MIN_VERSION..=R::MAX_VERSION {
            let _ = decode_response::<R>(bytes, version);
        }
        // Versions outside the range are refused, not misread.
        assert!(decode_response::<R>(bytes, R::MAX_VERSION + 1).is_err());
    }
    all_versions::<ApiVersionsRequest>(bytes);
    all_versions::<MetadataRequest>(bytes);
    all_versions::<ProduceRequest>(bytes);
    all_versions::<InitProducerIdRequest>(bytes);
    all_versions::<FindCoordinatorRequest>(bytes);
    all_versions::<AddPartitionsToTxnRequest>(bytes);
    all_versions::<EndTxnRequest>(bytes);
    all_versions::<AddOffsetsToTxnRequest>(bytes);
    all_versions::<TxnOffsetCommitRequest>(bytes);
    all_versions::<DescribeTransactionsRequest>(bytes);
    all_versions::<SaslHandshakeRequest>(bytes);
    all_versions::<SaslAuthenticateRequest>(bytes);
    all_versions::<GetTelemetrySubscriptionsRequest>(bytes);
    all_versions::<PushTelemetryRequest>(bytes);
}

fn encode<T: Encodable>(message: &T, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    message.encode(&mut buf, version).expect("fixture encodes");
    buf.to_vec()
}

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}

/// Valid response bodies (from the independent kafka-protocol crate) to mutate.
fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(build_fixtures)
}

fn build_fixtures() -> Vec<Vec<u8>> {
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::produce_response::{
        BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse,
        TopicProduceResponse,
    };
    use kafka_protocol::messages::*;

    let api_versions = ApiVersionsResponse::default().with_api_keys(vec![
        ApiVersion::default()
            .with_api_key(0)
            .with_min_version(3)
            .with_max_version(11),
    ]);
    let metadata = MetadataResponse::default()
        .with_brokers(vec![
            MetadataResponseBroker::default()
                .with_host(s("h"))
                .with_port(9092)
                .with_rack(Some(s("r"))),
        ])
        .with_cluster_id(Some(s("c")))
        .with_topics(vec![
            MetadataResponseTopic::default()
                .with_name(Some(TopicName(s("t"))))
                .with_partitions(vec![
                    MetadataResponsePartition::default()
                        .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
                        .with_isr_nodes(vec![BrokerId(1)])
                        .with_offline_replicas(vec![BrokerId(2)]),
                ]),
        ]);
    let produce = ProduceResponse::default()
        .with_responses(vec![
            TopicProduceResponse::default()
                .with_name(TopicName(s("t")))
                .with_partition_responses(vec![
                    PartitionProduceResponse::default()
                        .with_record_errors(vec![
                            BatchIndexAndErrorMessage::default()
                                .with_batch_index_error_message(Some(s("bad"))),
                        ])
                        .with_error_message(Some(s("m")))
                        .with_current_leader(
                            LeaderIdAndEpoch::default().with_leader_id(BrokerId(1)),
                        ),
                ]),
        ])
        .with_node_endpoints(vec![NodeEndpoint::default().with_host(s("h"))]);
    let mut out = Vec::new();
    for version in 0..=3 {
        out.push(encode(&api_versions, version));
    }
    for version in 4..=13 {
        out.push(encode(&metadata, version));
    }
    for version in 3..=11 {
        out.push(encode(&produce, version));
    }
    for version in 0..=5 {
        out.push(encode(&InitProducerIdResponse::default(), version));
    }
    for version in 0..=3 {
        out.push(encode(
            &FindCoordinatorResponse::default().with_host(s("h")),
            version,
        ));
    }
    let batched = FindCoordinatorResponse::default().with_coordinators(vec![
        find_coordinator_response::Coordinator::default()
            .with_key(s("k"))
            .with_host(s("h")),
    ]);
    out.push(encode(&batched, 4));
    for version in 0..=3 {
        out.push(encode(&AddPartitionsToTxnResponse::default(), version));
        out.push(encode(&EndTxnResponse::default(), version));
    }
    let described = DescribeTransactionsResponse::default().with_transaction_states(vec![
        describe_transactions_response::TransactionState::default()
            .with_transaction_state(s("PrepareCommit"))
            .with_topics(vec![
                describe_transactions_response::TopicData::default().with_partitions(vec![0, 3]),
            ]),
    ]);
    out.push(encode(&described, 0));
    out.push(encode(
        &SaslHandshakeResponse::default().with_mechanisms(vec![s("PLAIN"), s("SCRAM-SHA-512")]),
        1,
    ));
    for version in 0..=2 {
        out.push(encode(
            &SaslAuthenticateResponse::default()
                .with_error_message(Some(s("bad")))
                .with_auth_bytes(bytes::Bytes::from_static(b"r=abc,s=QUJD,i=4096"))
                .with_session_lifetime_ms(10_000),
            version,
        ));
    }
    out.push(encode(
        &GetTelemetrySubscriptionsResponse::default()
            .with_accepted_compression_types(vec![4, 3, 1, 2])
            .with_push_interval_ms(1000)
            .with_requested_metrics(vec![s("org.apache.kafka.producer."), s("")]),
        0,
    ));
    out.push(encode(
        &PushTelemetryResponse::default().with_throttle_time_ms(5),
        0,
    ));
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Truncate { at: usize },
    Insert { at: usize, byte: u8 },
    SetLength { at: usize, value: u32 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        (any::<usize>(), any::<u32>()).prop_map(|(at, value)| Mutation::SetLength { at, value }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len().max(1);
    match *mutation {
        Mutation::Flip { at, xor } => {
            if let Some(byte) = bytes.get_mut(at % len) {
                *byte ^= xor;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % len),
        Mutation::Insert { at, byte } => bytes.insert(at % (bytes.len() + 1), byte),
        Mutation::SetLength { at, value } => {
            // Overwrite four bytes with a (likely huge) length.
            let at = at % len;
            for (offset, byte) in value.to_be_bytes().into_iter().enumerate() {
                if let Some(slot) = bytes.get_mut(at + offset) {
                    *slot = byte;
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_valid_responses_never_panic(
        fixture in 0usize..1_000,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let fixtures = fixtures();
        let mut bytes = fixtures[fixture % fixtures.len()].clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        decode_everything(&bytes);
    }

    #[test]
    fn varints_round_trip(unsigned in any::<u32>(), signed in any::<i32>(), long in any::<i64>()) {
        let mut buf = BytesMut::new();
        let mut enc = Encoder::new(&mut buf, true);
        enc.unsigned_varint(unsigned);
        enc.varint(signed);
        enc.varlong(long);
        let mut dec = Decoder::new(&buf, true);
        prop_assert_eq!(dec.unsigned_varint(), Ok(unsigned));
        prop_assert_eq!(dec.varint(), Ok(signed));
        prop_assert_eq!(dec.varlong(), Ok(long));
        prop_assert!(dec.is_empty());
    }

    #[test]
    fn strings_bytes_and_arrays_round_trip(
        flexible in any::<bool>(),
        text in ".{0,64}",
        nullable in proptest::option::of(".{0,16}"),
        blob in proptest::collection::vec(any::<u8>(), 0..64),
        numbers in proptest::collection::vec(any::<i32>(), 0..32),
    ) {
        let mut buf = BytesMut::new();
        let mut enc = Encoder::new(&mut buf, flexible);
        enc.string(&text).unwrap();
        enc.nullable_string(nullable.as_deref()).unwrap();
        enc.bytes(&blob).unwrap();
        enc.i32_array(&numbers).unwrap();
        enc.empty_tagged_fields();
        let mut dec = Decoder::new(&buf, flexible);
        prop_assert_eq!(dec.string().unwrap(), text);
        prop_assert_eq!(dec.nullable_string().unwrap(), nullable);
        prop_assert_eq!(dec.bytes().unwrap(), &blob[..]);
        prop_assert_eq!(dec.i32_array().unwrap(), numbers);
        dec.skip_tagged_fields().unwrap();
        prop_assert!(dec.is_empty());
    }

    #[test]
    fn primitive_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), flexible in any::<bool>()) {
        let mut dec = Decoder::new(&bytes, flexible);
        let _ = dec.string();
        let _ = dec.nullable_bytes();
        let _ = dec.string_array();
        let _ = dec.tagged_fields(|_, field| field.varlong().map(|_| ()));
        let _ = dec.varint();
        let _ = dec.uuid();
        prop_assert!(dec.position() <= bytes.len());
    }
}

#[test]
fn every_fixture_decodes_unmutated() {
    // The mutation test starts from valid input: check it is.
    let fixtures = fixtures();
    assert_eq!(fixtures.len(), 4 + 10 + 9 + 6 + 5 + 8 + 1 + 1 + 3 + 2);
    let mut decoded = 0;
    for bytes in fixtures {
        fn any_version<R: Request>(bytes: &[u8]) -> bool {
            (R::MIN_VERSION..=R::MAX_VERSION)
                .any(|version| decode_response::<R>(bytes, version).is_ok())
        }
        if any_version::<ApiVersionsRequest>(bytes)
            || any_version::<MetadataRequest>(bytes)
            || any_version::<ProduceRequest>(bytes)
            || any_version::<InitProducerIdRequest>(bytes)
            || any_version::<FindCoordinatorRequest>(bytes)
            || any_version::<AddPartitionsToTxnRequest>(bytes)
            || any_version::<EndTxnRequest>(bytes)
            || any_version::<DescribeTransactionsRequest>(bytes)
            || any_version::<SaslHandshakeRequest>(bytes)
            || any_version::<SaslAuthenticateRequest>(bytes)
            || any_version::<GetTelemetrySubscriptionsRequest>(bytes)
            || any_version::<PushTelemetryRequest>(bytes)
        {
            decoded += 1;
        }
    }
    assert_eq!(decoded, fixtures.len());
}
