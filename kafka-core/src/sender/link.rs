//! The seam between the sender and the network: what the sender asks of a
//! connection to a broker (a [`Link`]) and how it opens one (a [`Connector`]).
//!
//! In production both are [`BrokerConnection`]s opened by [`TcpConnector`];
//! the sender's unit tests put an in-memory fake broker here, so every
//! decision the sender takes is tested without sockets.

use crate::metrics::{Peaks, Traffic};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::network::{BrokerConnection, ConnectionOptions, NetworkError};
use crate::protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, DescribeTransactionsRequest, DescribeTransactionsResponse,
    EndTxnRequest, EndTxnResponse, FindCoordinatorRequest, FindCoordinatorResponse,
    GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse, InitProducerIdRequest,
    InitProducerIdResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse,
    PushTelemetryRequest, PushTelemetryResponse, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};

/// A round trip's future.
pub(crate) type Call<T> = BoxFuture<'static, Result<T, NetworkError>>;

/// The broker's answer to a written Produce request, awaited apart from the
/// write (within `request.timeout.ms`).
pub(crate) type Answer = BoxFuture<'static, Result<ProduceResponse, NetworkError>>;

/// One connection to one broker, as the sender uses it.
pub(crate) trait Link: Send + Sync + 'static {
    /// `host:port`, for logs.
    fn address(&self) -> &str;

    /// Whether the connection is closed for good.
    fn is_closed(&self) -> bool;

    /// Closes the connection; what is pending on it fails.
    fn close(&self);

    /// Whether the broker speaks transactions V2 (KIP-890): finalized
    /// `transaction.version` >= 2 with Produce v12 and EndTxn v5.
    fn supports_transaction_v2(&self) -> bool;

    /// What went over the connection so far, both ways (`outgoing-byte-*`,
    /// `request-*`, `incoming-byte-*`, `response-*`).
    fn traffic(&self) -> Traffic {
        Traffic::default()
    }

    /// The largest request and longest re-authentication since last taken.
    fn take_peaks(&self) -> Peaks {
        Peaks::default()
    }

    /// Requests written whose answers have not come yet (any kind).
    fn in_flight(&self) -> usize {
        0
    }

    /// The `throttle_time_ms` of every response decoded since last taken.
    fn take_throttles(&self) -> Vec<u32> {
        Vec::new()
    }

    /// Until when a response said the broker throttles this client (KIP-219):
    /// nothing is written to it before.
    fn muted_until(&self) -> Option<Instant> {
        None
    }

    /// Whether the broker advertises KIP-714's GetTelemetrySubscriptions and
    /// PushTelemetry (brokers do only with a client telemetry plugin).
    fn supports_telemetry(&self) -> bool;

    /// A GetTelemetrySubscriptions round trip within `timeout`.
    fn get_telemetry_subscriptions(
        self: Arc<Self>,
        request: GetTelemetrySubscriptionsRequest,
        timeout: Duration,
    ) -> Call<GetTelemetrySubscriptionsResponse>;

    /// A PushTelemetry round trip within `timeout`.
    fn push_telemetry(
        self: Arc<Self>,
        request: PushTelemetryRequest,
        timeout: Duration,
    ) -> Call<PushTelemetryResponse>;

    /// A Metadata round trip within `timeout`.
    fn metadata(
        self: Arc<Self>,
        request: MetadataRequest,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<MetadataResponse, NetworkError>>;

    /// An InitProducerId round trip within `timeout`.
    fn init_producer_id(
        self: Arc<Self>,
        request: InitProducerIdRequest,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<InitProducerIdResponse, NetworkError>>;

    /// A FindCoordinator round trip within `timeout`.
    fn find_coordinator(
        self: Arc<Self>,
        request: FindCoordinatorRequest,
        timeout: Duration,
    ) -> Call<FindCoordinatorResponse>;

    /// An AddPartitionsToTxn round trip within `timeout`.
    fn add_partitions_to_txn(
        self: Arc<Self>,
        request: AddPartitionsToTxnRequest,
        timeout: Duration,
    ) -> Call<AddPartitionsToTxnResponse>;

    /// An AddOffsetsToTxn round trip within `timeout`.
    fn add_offsets_to_txn(
        self: Arc<Self>,
        request: AddOffsetsToTxnRequest,
        timeout: Duration,
    ) -> Call<AddOffsetsToTxnResponse>;

    /// A TxnOffsetCommit round trip within `timeout`.
    fn txn_offset_commit(
        self: Arc<Self>,
        request: TxnOffsetCommitRequest,
        timeout: Duration,
    ) -> Call<TxnOffsetCommitResponse>;

    /// An EndTxn round trip within `timeout`.
    fn end_txn(self: Arc<Self>, request: EndTxnRequest, timeout: Duration) -> Call<EndTxnResponse>;

    /// Whether the broker answers DescribeTransactions (Kafka 3.0+, KIP-664).
    fn supports_describe_transactions(&self) -> bool;

    /// A DescribeTransactions round trip within `timeout`.
    fn describe_transactions(
        self: Arc<Self>,
        request: DescribeTransactionsRequest,
        timeout: Duration,
    ) -> Call<DescribeTransactionsResponse>;

    /// Writes a Produce request; resolves once it is written (a broker that
    /// stops reading keeps it pending) to the [`Answer`], awaited for at most
    /// `timeout`, or to `None` for `acks=0`, which gets no answer.
    fn produce(
        self: Arc<Self>,
        request: ProduceRequest,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Answer>, NetworkError>>;
}

/// Opens [`Link`]s.
pub(crate) trait Connector: Send + Sync + 'static {
    /// Connects to `address` (`host:port`), ready for requests, within
    /// `setup_timeout` (TCP, TLS, ApiVersions, SASL). `attempt` counts the
    /// failed attempts in a row before this one: each starts at another of
    /// the name's addresses.
    fn connect(
        &self,
        address: String,
        setup_timeout: Duration,
        attempt: u32,
    ) -> BoxFuture<'static, Result<Arc<dyn Link>, NetworkError>>;
}

/// The production [`Connector`]: [`BrokerConnection`]s with the producer's
/// connection options (timeouts, TLS, SASL).
pub(crate) struct TcpConnector {
    pub options: ConnectionOptions,
}

impl Connector for TcpConnector {
    fn connect(
        &self,
        address: String,
        setup_timeout: Duration,
        attempt: u32,
    ) -> BoxFuture<'static, Result<Arc<dyn Link>, NetworkError>> {
        let options = ConnectionOptions {
            connect_timeout: setup_timeout,
            ..self.options.clone()
        };
        async move {
            let connection = BrokerConnection::connect_attempt(&address, &options, attempt).await?;
            Ok(Arc::new(connection) as Arc<dyn Link>)
        }
        .boxed()
    }
}

impl Link for BrokerConnection {
    fn address(&self) -> &str {
        BrokerConnection::address(self)
    }

    fn is_closed(&self) -> bool {
        BrokerConnection::is_closed(self)
    }

    fn close(&self) {
        BrokerConnection::close(self);
    }

    fn supports_transaction_v2(&self) -> bool {
        self.api_versions().supports_transaction_v2()
    }

    fn traffic(&self) -> Traffic {
        BrokerConnection::traffic(self)
    }

    fn take_peaks(&self) -> Peaks {
        BrokerConnection::take_peaks(self)
    }

    fn take_throttles(&self) -> Vec<u32> {
        self.throttle().take()
    }

    fn muted_until(&self) -> Option<Instant> {
        self.throttle().muted_until()
    }

    fn in_flight(&self) -> usize {
        BrokerConnection::in_flight(self)
    }

    fn supports_telemetry(&self) -> bool {
        let versions = self.api_versions();
        versions
            .highest_common::<GetTelemetrySubscriptionsRequest>()
            .is_some()
            && versions.highest_common::<PushTelemetryRequest>().is_some()
    }

    fn get_telemetry_subscriptions(
        self: Arc<Self>,
        request: GetTelemetrySubscriptionsRequest,
        timeout: Duration,
    ) -> Call<GetTelemetrySubscriptionsResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn push_telemetry(
        self: Arc<Self>,
        request: PushTelemetryRequest,
        timeout: Duration,
    ) -> Call<PushTelemetryResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn metadata(
        self: Arc<Self>,
        request: MetadataRequest,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<MetadataResponse, NetworkError>> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn init_producer_id(
        self: Arc<Self>,
        request: InitProducerIdRequest,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<InitProducerIdResponse, NetworkError>> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn find_coordinator(
        self: Arc<Self>,
        request: FindCoordinatorRequest,
        timeout: Duration,
    ) -> Call<FindCoordinatorResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn add_partitions_to_txn(
        self: Arc<Self>,
        request: AddPartitionsToTxnRequest,
        timeout: Duration,
    ) -> Call<AddPartitionsToTxnResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn add_offsets_to_txn(
        self: Arc<Self>,
        request: AddOffsetsToTxnRequest,
        timeout: Duration,
    ) -> Call<AddOffsetsToTxnResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn txn_offset_commit(
        self: Arc<Self>,
        request: TxnOffsetCommitRequest,
        timeout: Duration,
    ) -> Call<TxnOffsetCommitResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn end_txn(self: Arc<Self>, request: EndTxnRequest, timeout: Duration) -> Call<EndTxnResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn supports_describe_transactions(&self) -> bool {
        self.api_versions()
            .highest_common::<DescribeTransactionsRequest>()
            .is_some()
    }

    fn describe_transactions(
        self: Arc<Self>,
        request: DescribeTransactionsRequest,
        timeout: Duration,
    ) -> Call<DescribeTransactionsResponse> {
        async move { self.call(&request, timeout).await }.boxed()
    }

    fn produce(
        self: Arc<Self>,
        request: ProduceRequest,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Answer>, NetworkError>> {
        async move {
            if request.acks == 0 {
                self.send_without_response(&request).await?;
                return Ok(None);
            }
            let pending = self.send(&request).await?;
            Ok(Some(async move { pending.wait(timeout).await }.boxed()))
        }
        .boxed()
    }
}
