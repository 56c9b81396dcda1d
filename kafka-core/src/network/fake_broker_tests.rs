//! `BrokerConnection` against an in-process fake broker that misbehaves on demand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{
    ApiVersionsResponse as TheirApiVersions, BrokerId, MetadataResponse as TheirMetadata,
};
use kafka_protocol::protocol::Encodable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{BrokerConnection, ConnectionOptions, DisconnectReason, NetworkError};
use crate::protocol::messages::{
    ApiVersionsRequest, MetadataRequest, ProducePartitionData, ProduceRequest, ProduceTopicData,
};
use crate::protocol::{ApiKey, ErrorCode, Request, Uuid};

/// A request as the fake broker saw it.
#[derive(Debug, Clone)]
struct Seen {
    api_key: i16,
    version: i16,
    correlation_id: i32,
    client_id: Option<String>,
    /// The frame after its size prefix: header and body.
    frame: Arc<[u8]>,
}

/// What the fake broker does with one request.
enum Action {
    /// Write these bytes (whole frames, size prefix included).
    Write(Vec<u8>),
    /// Say nothing.
    Ignore,
    /// Close the socket.
    Close,
    /// Read nothing more, keeping the socket open.
    Stall,
}

type Handler = Arc<dyn Fn(&Seen) -> Action + Send + Sync>;

/// A frame: size prefix, correlation id, optional empty tagged fields, body.
fn frame(correlation_id: i32, flexible_header: bool, body: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    let size = 4 + usize::from(flexible_header) + body.len();
    out.put_i32(size as i32);
    out.put_i32(correlation_id);
    if flexible_header {
        out.put_u8(0);
    }
    out.put_slice(body);
    out.to_vec()
}

fn encode<T: Encodable>(message: &T, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    message.encode(&mut buf, version).unwrap();
    buf.to_vec()
}

fn api_versions_body(version: i16) -> Vec<u8> {
    let range = |key: ApiKey, min, max| {
        ApiVersion::default()
            .with_api_key(key.code())
            .with_min_version(min)
            .with_max_version(max)
    };
    encode(
        &TheirApiVersions::default().with_api_keys(vec![
            range(ApiKey::Produce, 0, 11),
            range(ApiKey::Metadata, 0, 12),
            range(ApiKey::ApiVersions, 0, 3),
        ]),
        version,
    )
}

/// Metadata v12 whose controller id echoes the correlation id, so each caller
/// can check it got its own answer.
fn metadata_echo(seen: &Seen) -> Vec<u8> {
    let body = encode(
        &TheirMetadata::default().with_controller_id(BrokerId(seen.correlation_id)),
        seen.version,
    );
    frame(seen.correlation_id, seen.version >= 9, &body)
}

/// Answers ApiVersions normally and everything else with `handler`.
fn standard(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> Handler {
    Arc::new(move |seen: &Seen| {
        if seen.api_key == ApiKey::ApiVersions.code() {
            Action::Write(frame(
                seen.correlation_id,
                false,
                &api_versions_body(seen.version),
            ))
        } else {
            handler(seen)
        }
    })
}

async fn fake_broker(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, Arc::clone(&handler)));
        }
    });
    address
}

async fn serve(mut socket: TcpStream, handler: Handler) {
    loop {
        let Ok(size) = socket.read_i32().await else {
            return;
        };
        let mut frame = vec![0; size as usize];
        if socket.read_exact(&mut frame).await.is_err() {
            return;
        }
        let mut header = &frame[..];
        let api_key = header.get_i16();
        let version = header.get_i16();
        let correlation_id = header.get_i32();
        let client_id_len = header.get_i16();
        let client_id = (client_id_len >= 0)
            .then(|| String::from_utf8(header[..client_id_len as usize].to_vec()).unwrap());
        let seen = Seen {
            api_key,
            version,
            correlation_id,
            client_id,
            frame: frame.into(),
        };
        match handler(&seen) {
            Action::Write(bytes) => {
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Action::Ignore => {}
            Action::Close => return,
            Action::Stall => std::future::pending().await,
        }
    }
}

fn options() -> ConnectionOptions {
    ConnectionOptions {
        client_id: "fake-test".into(),
        connect_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_clusters_finalized_transaction_version_decides_transactions_v2() {
    use kafka_protocol::messages::api_versions_response::FinalizedFeatureKey;
    for (level, v2) in [(2, true), (1, false)] {
        let address = fake_broker(Arc::new(move |request: &Seen| {
            // A Kafka 4.1 broker: Produce v13, EndTxn v5, and the cluster's
            // finalized transaction.version.
            let range = |key: ApiKey, max| {
                ApiVersion::default()
                    .with_api_key(key.code())
                    .with_max_version(max)
            };
            let body = TheirApiVersions::default()
                .with_api_keys(vec![
                    range(ApiKey::Produce, 13),
                    range(ApiKey::EndTxn, 5),
                    range(ApiKey::ApiVersions, 4),
                ])
                .with_finalized_features_epoch(3)
                .with_finalized_features(vec![
                    FinalizedFeatureKey::default()
                        .with_name("transaction.version".into())
                        .with_max_version_level(level),
                ]);
            Action::Write(frame(
                request.correlation_id,
                false,
                &encode(&body, request.version),
            ))
        }))
        .await;
        let connection = BrokerConnection::connect(&address, &options())
            .await
            .unwrap();
        assert_eq!(
            connection
                .api_versions()
                .finalized_feature_level("transaction.version"),
            Some(level)
        );
        assert_eq!(connection.api_versions().supports_transaction_v2(), v2);
    }
}

#[tokio::test]
async fn negotiates_versions_and_picks_the_highest_common_one() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let address = fake_broker(Arc::new(move |request: &Seen| {
        log.lock().unwrap().push(request.clone());
        if request.api_key == ApiKey::ApiVersions.code() {
            Action::Write(frame(
                request.correlation_id,
                false,
                &api_versions_body(request.version),
            ))
        } else {
            Action::Write(metadata_echo(request))
        }
    }))
    .await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    assert_eq!(connection.address(), address);
    assert_eq!(connection.api_versions_version(), 3);
    assert_eq!(connection.version_for::<MetadataRequest>().unwrap(), 12);
    assert_eq!(connection.version_for::<ProduceRequest>().unwrap(), 11);
    let missing = connection
        .version_for::<crate::protocol::messages::EndTxnRequest>()
        .unwrap_err();
    assert!(matches!(
        missing,
        NetworkError::UnsupportedVersion {
            api: ApiKey::EndTxn,
            broker_range: None,
            ..
        }
    ));
    assert!(!missing.is_retriable());

    let metadata = connection
        .call(&MetadataRequest::all_topics(), WAIT)
        .await
        .unwrap();
    assert_eq!(
        metadata.controller_id, 1,
        "second request on the connection"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].api_key, seen[0].version, seen[0].correlation_id),
        (18, 3, 0)
    );
    assert_eq!(
        (seen[1].api_key, seen[1].version, seen[1].correlation_id),
        (3, 12, 1)
    );
    assert_eq!(seen[1].client_id.as_deref(), Some("fake-test"));
}

#[tokio::test]
async fn unsupported_api_versions_version_falls_back_to_the_brokers_range() {
    for (advertised, expected_version) in [(Some(1), 1), (None, 0)] {
        let address = fake_broker(Arc::new(move |seen: &Seen| {
            if seen.version > expected_version {
                // Old brokers answer an unknown ApiVersions version in the v0 layout.
                let ranges = advertised
                    .map(|max| {
                        vec![
                            ApiVersion::default()
                                .with_api_key(18)
                                .with_min_version(0)
                                .with_max_version(max),
                        ]
                    })
                    .unwrap_or_default();
                let body = encode(
                    &TheirApiVersions::default()
                        .with_error_code(ErrorCode::UNSUPPORTED_VERSION.code())
                        .with_api_keys(ranges),
                    0,
                );
                Action::Write(frame(seen.correlation_id, false, &body))
            } else {
                Action::Write(frame(
                    seen.correlation_id,
                    false,
                    &api_versions_body(seen.version),
                ))
            }
        }))
        .await;
        let connection = BrokerConnection::connect(&address, &options())
            .await
            .unwrap();
        assert_eq!(connection.api_versions_version(), expected_version);
        assert_eq!(connection.version_for::<MetadataRequest>().unwrap(), 12);
    }
}

#[tokio::test]
async fn rejected_api_versions_is_a_typed_error() {
    let address = fake_broker(Arc::new(|seen: &Seen| {
        let body = encode(
            &TheirApiVersions::default().with_error_code(ErrorCode::INVALID_REQUEST.code()),
            3,
        );
        Action::Write(frame(seen.correlation_id, false, &body))
    }))
    .await;
    let error = BrokerConnection::connect(&address, &options())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            NetworkError::ApiVersionsRejected {
                error_code: ErrorCode::INVALID_REQUEST,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn twenty_pipelined_requests_get_their_own_responses() {
    let address = fake_broker(standard(|seen| Action::Write(metadata_echo(seen)))).await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let mut pending = Vec::new();
    for _ in 0..20 {
        pending.push(
            connection
                .send(&MetadataRequest::for_topics(["t"]))
                .await
                .unwrap(),
        );
    }
    assert!(connection.in_flight() <= 20);
    // ApiVersions (correlation id 0), then the twenty.
    assert_eq!(connection.traffic().requests, 21);
    let ids: Vec<i32> = pending.iter().map(|p| p.correlation_id()).collect();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    // Waited in reverse order: matching is by correlation id, not by waiting order.
    for response in pending.into_iter().rev() {
        let id = response.correlation_id();
        assert_eq!(response.wait(WAIT).await.unwrap().controller_id, id);
    }

    // Concurrent callers on a shared connection.
    let connection = Arc::new(connection);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let connection = Arc::clone(&connection);
            tokio::spawn(async move {
                let pending = connection
                    .send(&MetadataRequest::all_topics())
                    .await
                    .unwrap();
                let id = pending.correlation_id();
                (id, pending.wait(WAIT).await.unwrap().controller_id)
            })
        })
        .collect();
    for task in tasks {
        let (id, echoed) = task.await.unwrap();
        assert_eq!(id, echoed);
    }
    assert_eq!(connection.in_flight(), 0);
}

#[tokio::test]
async fn out_of_order_response_closes_the_connection() {
    // Answers every request with the correlation id of the next one.
    let address = fake_broker(standard(|seen| {
        Action::Write(metadata_echo(&Seen {
            correlation_id: seen.correlation_id + 1,
            ..seen.clone()
        }))
    }))
    .await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let first = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    let error = first.wait(WAIT).await.unwrap_err();
    assert!(
        matches!(
            &error,
            NetworkError::Disconnected {
                reason: DisconnectReason::ProtocolViolation(_),
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_retriable());
    assert!(connection.is_closed());
    let after = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap_err();
    assert!(matches!(after, NetworkError::Disconnected { .. }));
}

#[tokio::test]
async fn a_timeout_closes_the_connection_and_fails_the_others() {
    let address = fake_broker(standard(|_| Action::Ignore)).await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let first = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    let second = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    let started = Instant::now();
    let error = first.wait(Duration::from_millis(100)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(
            &error,
            NetworkError::RequestTimeout {
                api: ApiKey::Metadata,
                correlation_id: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_retriable());
    assert!(connection.is_closed());
    let other = second.wait(WAIT).await.unwrap_err();
    assert!(
        matches!(
            &other,
            NetworkError::Disconnected {
                reason: DisconnectReason::RequestTimedOut {
                    correlation_id: 1,
                    ..
                },
                ..
            }
        ),
        "{other}"
    );
    let call = connection
        .call(&MetadataRequest::all_topics(), WAIT)
        .await
        .unwrap_err();
    assert!(matches!(call, NetworkError::Disconnected { .. }));
}

#[tokio::test]
async fn broker_eof_fails_pending_requests() {
    let address = fake_broker(standard(|_| Action::Close)).await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let pending = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    let error = pending.wait(WAIT).await.unwrap_err();
    assert!(
        matches!(&error, NetworkError::Disconnected { reason: DisconnectReason::Eof, address } if *address == connection.address()),
        "{error}"
    );
}

#[tokio::test]
async fn oversized_and_negative_frames_are_refused_without_allocating() {
    for size in [i32::MAX, -5, 2] {
        let address = fake_broker(standard(move |seen| {
            let mut bytes = size.to_be_bytes().to_vec();
            bytes.extend_from_slice(&seen.correlation_id.to_be_bytes());
            Action::Write(bytes)
        }))
        .await;
        let options = ConnectionOptions {
            max_response_size: 1024 * 1024,
            ..options()
        };
        let connection = BrokerConnection::connect(&address, &options).await.unwrap();
        let error = connection
            .call(&MetadataRequest::all_topics(), WAIT)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &error,
                NetworkError::Disconnected {
                    reason: DisconnectReason::InvalidFrameSize { .. },
                    ..
                }
            ),
            "{size}: {error}"
        );
    }
}

#[tokio::test]
async fn malformed_body_is_a_decode_error_and_the_connection_survives() {
    let address = fake_broker(standard(|seen| {
        if seen.correlation_id == 1 {
            Action::Write(frame(seen.correlation_id, true, &[1, 2, 3]))
        } else {
            Action::Write(metadata_echo(seen))
        }
    }))
    .await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let error = connection
        .call(&MetadataRequest::all_topics(), WAIT)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            NetworkError::Decode {
                api: ApiKey::Metadata,
                version: 12,
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.is_retriable());
    assert!(!connection.is_closed());
    assert_eq!(
        connection
            .call(&MetadataRequest::all_topics(), WAIT)
            .await
            .unwrap()
            .controller_id,
        2
    );
}

/// A fake broker that answers no Produce request (keeping what it saw of
/// each) and answers Metadata: its address.
async fn broker_silent_on_produce() -> (String, Arc<std::sync::Mutex<Vec<Seen>>>) {
    let produced = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = Arc::clone(&produced);
    let address = fake_broker(standard(move |seen| {
        if seen.api_key == ApiKey::Produce.code() {
            kept.lock().unwrap().push(seen.clone());
            Action::Ignore
        } else {
            Action::Write(metadata_echo(seen))
        }
    }))
    .await;
    (address, produced)
}

/// A connection to [`broker_silent_on_produce`].
async fn silent_on_produce() -> (BrokerConnection, Arc<std::sync::Mutex<Vec<Seen>>>) {
    let (address, produced) = broker_silent_on_produce().await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    (connection, produced)
}

/// `partitions` batches of 2 KiB and more: each written from its own buffer
/// where the transport takes several slices at once.
fn wide_produce(partitions: i32) -> ProduceRequest {
    unanswered_produce(vec![ProduceTopicData {
        name: "wide".into(),
        topic_id: Uuid::ZERO,
        partitions: (0..partitions)
            .map(|index| ProducePartitionData {
                index,
                records: Some(vec![index as u8; 2_048 + index as usize].into()),
            })
            .collect(),
    }])
}

/// A TCP stream that writes one slice per call (`AsyncWrite`'s default
/// vectored write), counting its writes.
struct OneSliceWrites {
    inner: TcpStream,
    writes: Arc<std::sync::atomic::AtomicUsize>,
}

impl tokio::io::AsyncRead for OneSliceWrites {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for OneSliceWrites {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_transport_without_vectored_writes_gets_the_batches_copied_into_the_frame() {
    let (address, produced) = broker_silent_on_produce().await;
    let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream = OneSliceWrites {
        inner: TcpStream::connect(&address).await.unwrap(),
        writes: Arc::clone(&writes),
    };
    let connection = BrokerConnection::from_stream(&address, stream, &options())
        .await
        .unwrap();
    let before = writes.load(std::sync::atomic::Ordering::Relaxed);
    let wide = wide_produce(1_500);
    connection.send_without_response(&wide).await.unwrap();
    assert_answers_still_match(&connection, 1).await;
    let frame_writes = writes.load(std::sync::atomic::Ordering::Relaxed) - before;
    // One frame of about 4.5 MB goes in as few writes as the socket takes,
    // not one per batch (the metadata request adds one).
    assert!(frame_writes < 100, "{frame_writes} writes for two frames");
    let produced = produced.lock().unwrap().clone();
    let mut copied = BytesMut::new();
    crate::protocol::encode_request_frame(
        &mut copied,
        &wide,
        produced[0].version,
        produced[0].correlation_id,
        Some("fake-test"),
    )
    .unwrap();
    assert!(produced[0].frame[..] == copied[4..]);
}

/// A Produce request with `acks=0` (no answer) of `topics`.
fn unanswered_produce(topics: Vec<ProduceTopicData>) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        transaction_v2: false,
        acks: 0,
        timeout_ms: 1000,
        topics,
    }
}

/// The connection still matches an answer to its request, after `sent`
/// requests since ApiVersions (the fake broker echoes the correlation id).
async fn assert_answers_still_match(connection: &BrokerConnection, sent: i32) {
    let metadata = connection
        .call(&MetadataRequest::all_topics(), WAIT)
        .await
        .unwrap();
    assert_eq!(metadata.controller_id, sent + 1);
}

#[tokio::test]
async fn requests_without_response_do_not_disturb_matching() {
    let (connection, _) = silent_on_produce().await;
    let produce = unanswered_produce(vec![ProduceTopicData {
        name: "t".into(),
        topic_id: Uuid::ZERO,
        partitions: vec![ProducePartitionData {
            index: 0,
            records: Some(Bytes::from_static(b"x")),
        }],
    }]);
    connection.send_without_response(&produce).await.unwrap();
    connection.send_without_response(&produce).await.unwrap();
    assert_eq!(connection.in_flight(), 0);
    assert_answers_still_match(&connection, 2).await;
}

#[tokio::test]
async fn record_batches_written_from_their_own_buffers_make_the_same_frames() {
    let (connection, produced) = silent_on_produce().await;
    // Batches long enough to be written from their own buffers, between and
    // around ones short enough to be copied.
    let batch = |index: i32, len: usize| ProducePartitionData {
        index,
        records: Some((0..len).map(|at| (at % 251) as u8).collect::<Vec<u8>>().into()),
    };
    let topic = |name: &str, partitions| ProduceTopicData {
        name: name.into(),
        topic_id: Uuid::ZERO,
        partitions,
    };
    let produce = unanswered_produce(vec![
        topic("big", vec![batch(0, 70_000), batch(1, 12), batch(2, 300_000)]),
        topic(
            "small",
            vec![
                batch(0, 5),
                ProducePartitionData {
                    index: 1,
                    records: None,
                },
            ],
        ),
        topic("last", vec![batch(7, 4096)]),
    ]);
    // More slices than one vectored write takes (IOV_MAX is 1,024 on Linux).
    let wide = wide_produce(1_500);
    let sent = [&produce, &wide, &produce];
    for request in sent {
        connection.send_without_response(request).await.unwrap();
    }
    // The broker read every frame at the size it announced: the next
    // request is still understood.
    assert_answers_still_match(&connection, sent.len() as i32).await;

    let produced = produced.lock().unwrap().clone();
    assert_eq!(produced.len(), sent.len());
    for (seen, request) in produced.iter().zip(sent) {
        let mut copied = BytesMut::new();
        crate::protocol::encode_request_frame(
            &mut copied,
            request,
            seen.version,
            seen.correlation_id,
            Some("fake-test"),
        )
        .unwrap();
        assert_eq!(seen.frame.len(), copied.len() - 4);
        assert!(
            seen.frame[..] == copied[4..],
            "the frame differs from the copied encoding"
        );
    }
}

#[tokio::test]
async fn a_write_cancelled_halfway_lets_go_of_its_record_batches() {
    let address = fake_broker(standard(|seen| {
        if seen.api_key == ApiKey::Metadata.code() {
            Action::Stall
        } else {
            Action::Ignore
        }
    }))
    .await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    // The broker reads no more after this: a large frame fills the socket's
    // buffers and its write waits.
    connection
        .send_without_response(&MetadataRequest::all_topics())
        .await
        .unwrap();
    let batch = Bytes::from(vec![1u8; 64 << 20]);
    let produce = unanswered_produce(vec![ProduceTopicData {
        name: "t".into(),
        topic_id: Uuid::ZERO,
        partitions: vec![ProducePartitionData {
            index: 0,
            records: Some(batch.clone()),
        }],
    }]);
    let written = tokio::time::timeout(
        Duration::from_millis(300),
        connection.send_without_response(&produce),
    )
    .await;
    assert!(written.is_err(), "the write could not finish");
    // Half a frame went out: nothing may follow it on this connection.
    assert!(connection.is_closed());
    assert!(
        connection.send_without_response(&produce).await.is_err(),
        "a frame sent after half a frame"
    );
    drop(produce);
    assert!(
        batch.is_unique(),
        "the connection still holds the batch of a cancelled write"
    );
}

#[tokio::test]
async fn close_fails_pending_and_later_requests() {
    let address = fake_broker(standard(|_| Action::Ignore)).await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let pending = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    connection.close();
    assert!(connection.is_closed());
    let error = pending.wait(WAIT).await.unwrap_err();
    assert!(matches!(
        error,
        NetworkError::Disconnected {
            reason: DisconnectReason::ClosedByClient,
            ..
        }
    ));
    let later = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap_err();
    assert!(matches!(
        later,
        NetworkError::Disconnected {
            reason: DisconnectReason::ClosedByClient,
            ..
        }
    ));
}

#[tokio::test]
async fn dropping_the_connection_fails_pending_responses() {
    let address = fake_broker(standard(|_| Action::Ignore)).await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let pending = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    drop(connection);
    assert!(matches!(
        pending.wait(WAIT).await,
        Err(NetworkError::Disconnected { .. })
    ));
}

#[test]
fn each_attempt_starts_at_the_next_address_of_the_name() {
    let mut addresses = ["a", "b", "c"];
    super::connection::rotate_for_attempt(&mut addresses, 0);
    assert_eq!(addresses, ["a", "b", "c"]);
    let mut addresses = ["a", "b", "c"];
    super::connection::rotate_for_attempt(&mut addresses, 4);
    assert_eq!(addresses, ["b", "c", "a"]);
    let mut none: [&str; 0] = [];
    super::connection::rotate_for_attempt(&mut none, 7);
}

#[tokio::test]
async fn connect_failures_are_fast_and_typed() {
    // A port that was just free: connection refused.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let started = Instant::now();
    let error = BrokerConnection::connect(&address, &options())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(matches!(&error, NetworkError::Connect { .. }), "{error}");
    assert!(error.is_retriable());
    assert_eq!(error.address(), address);

    for bad in ["localhost", ":9092", "host:port", "host:70000"] {
        let error = BrokerConnection::connect(bad, &options())
            .await
            .unwrap_err();
        assert!(
            matches!(error, NetworkError::InvalidAddress { .. }),
            "{bad}"
        );
        assert!(!error.is_retriable());
    }
}

#[tokio::test]
async fn a_silent_broker_hits_the_connect_timeout() {
    let address = fake_broker(Arc::new(|_: &Seen| Action::Ignore)).await;
    let options = ConnectionOptions {
        connect_timeout: Duration::from_millis(200),
        ..options()
    };
    let started = Instant::now();
    let error = BrokerConnection::connect(&address, &options)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(error, NetworkError::ConnectTimeout { .. }),
        "{error}"
    );
    assert!(error.is_retriable());
}

#[tokio::test]
async fn debug_output_names_the_broker_only() {
    let address = fake_broker(standard(|_| Action::Ignore)).await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    let debug = format!("{connection:?}");
    assert!(debug.contains(&address), "{debug}");
    let pending = connection
        .send(&MetadataRequest::all_topics())
        .await
        .unwrap();
    assert!(format!("{pending:?}").contains("Metadata"));
    assert_eq!(pending.version(), 12);
    assert_eq!(ApiVersionsRequest::API_KEY, ApiKey::ApiVersions);
}

/// Every response's `throttle_time_ms` is logged (Java records each in
/// `produce-throttle-time`), and one from KIP-219's versions on, of any
/// kind, mutes the connection for that long: Java's `maybeThrottle` runs
/// for every response, not only Produce ones.
#[tokio::test]
async fn a_throttled_answer_of_any_kind_mutes_the_connection() {
    const THROTTLE_MS: i32 = 250;
    let address = fake_broker(standard(|seen| {
        let body = encode(
            &TheirMetadata::default().with_throttle_time_ms(THROTTLE_MS),
            seen.version,
        );
        Action::Write(frame(seen.correlation_id, seen.version >= 9, &body))
    }))
    .await;
    let connection = BrokerConnection::connect(&address, &options())
        .await
        .unwrap();
    // The ApiVersions answer of the handshake, unthrottled.
    assert_eq!(connection.throttle().take(), vec![0]);
    assert_eq!(connection.throttle().muted_until(), None);
    let before = tokio::time::Instant::now();
    let pending = connection
        .send(&MetadataRequest::for_topics(["orders"]))
        .await
        .unwrap();
    assert!(pending.version() >= 6, "Metadata v{}", pending.version());
    pending.wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(connection.throttle().take(), vec![THROTTLE_MS as u32]);
    let muted_until = connection.throttle().muted_until().expect("muted");
    assert!(
        muted_until >= before + Duration::from_millis(THROTTLE_MS as u64),
        "{:?}",
        muted_until - before
    );
}
