//! [`BrokerConnection`]: one pipelined connection to one broker.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::ConnectionSecurity;
use super::error::{DisconnectReason, NetworkError};
use super::reader::read_responses;
use super::sasl::{AuthFailure, SaslConfig};
use super::shared::{InFlight, Reply, Shared};
use super::versions::BrokerApiVersions;
use crate::protocol::messages::{
    ApiVersionsRequest, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use crate::protocol::{
    ApiKey, DecodeError, ErrorCode, Request, Response, Splices, decode_response,
    encode_request_frame, encode_request_frame_spliced,
};

/// The write half of whatever transport the connection runs over (TCP or TLS).
type BoxedWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// Settings for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionOptions {
    /// Sent in every request header (the Java client's `client.id`).
    pub client_id: String,
    /// Bound on establishing the connection: TCP connect, TLS handshake, the
    /// ApiVersions exchange and SASL authentication (also each re-authentication).
    pub connect_timeout: Duration,
    /// Largest response frame accepted; a bigger size prefix closes the
    /// connection before anything is allocated for it.
    pub max_response_size: usize,
    /// TLS and SASL (`security.protocol`); PLAINTEXT by default.
    pub security: ConnectionSecurity,
    /// `send.buffer.bytes` (`SO_SNDBUF`); `None` keeps the OS's.
    pub send_buffer_bytes: Option<usize>,
    /// `receive.buffer.bytes` (`SO_RCVBUF`); `None` keeps the OS's.
    pub receive_buffer_bytes: Option<usize>,
}

impl Default for ConnectionOptions {
    /// client id `kafka-template-rs`, 10 s connect timeout (the Java client's
    /// `socket.connection.setup.timeout.ms`), 100 MiB response limit.
    fn default() -> Self {
        ConnectionOptions {
            client_id: "kafka-template-rs".to_owned(),
            connect_timeout: Duration::from_secs(10),
            max_response_size: 100 * 1024 * 1024,
            security: ConnectionSecurity::default(),
            send_buffer_bytes: None,
            receive_buffer_bytes: None,
        }
    }
}

struct Writer {
    /// `None` once the connection is closed.
    stream: Option<BoxedWrite>,
    /// Reused for every frame: no allocation per request once warm.
    buf: BytesMut,
    /// Kept for its allocation: each frame takes it for the record batches
    /// it writes from where they were built, and gives it back empty, so
    /// that no batch outlives its write (nor a write cancelled halfway).
    splices: Splices,
    next_correlation_id: i32,
    /// When the SASL session must be renewed (KIP-368), if the broker limits it.
    reauthenticate_at: Option<Instant>,
}

/// One TCP connection to one broker, with API versions negotiated.
///
/// All methods take `&self` and may be used concurrently: requests are written
/// in the order `send` calls acquire the writer and many may be in flight at
/// once (pipelining). One reader task per connection matches responses to
/// requests by correlation id; Kafka answers in order, so anything unexpected
/// closes the connection. A request timeout also closes the connection (every
/// other pending request then fails with [`NetworkError::Disconnected`]) so a
/// late response can never be mistaken for another request's.
///
/// Dropping the connection closes it.
pub struct BrokerConnection {
    shared: Arc<Shared>,
    writer: tokio::sync::Mutex<Writer>,
    client_id: String,
    api_versions: BrokerApiVersions,
    api_versions_version: i16,
    sasl: Option<Arc<SaslConfig>>,
    /// Bound on each SASL (re-)authentication.
    auth_timeout: Duration,
}

impl std::fmt::Debug for BrokerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConnection")
            .field("address", &self.shared.address())
            .field("client_id", &self.client_id)
            .field("closed", &self.shared.is_closed())
            .field("api_versions_version", &self.api_versions_version)
            .finish_non_exhaustive()
    }
}

impl BrokerConnection {
    /// Connect to `addr` (`host:port`) over TCP (`TCP_NODELAY` set), run the TLS
    /// handshake when `options.security` has TLS, negotiate API versions and
    /// authenticate with SASL when it has SASL, all within
    /// `options.connect_timeout`.
    pub async fn connect(addr: &str, options: &ConnectionOptions) -> Result<Self, NetworkError> {
        Self::connect_attempt(addr, options, 0).await
    }

    /// [`BrokerConnection::connect`] as the `attempt`th attempt in a row at
    /// `addr`: when its name resolves to several addresses, they are tried
    /// from the `attempt`th on (Java moves to the next address after a
    /// failed attempt), so that one address that swallows connections cannot
    /// take every attempt's whole setup timeout.
    pub(crate) async fn connect_attempt(
        addr: &str,
        options: &ConnectionOptions,
        attempt: u32,
    ) -> Result<Self, NetworkError> {
        check_address(addr)?;
        if let Some(sasl) = &options.security.sasl {
            let mechanism = sasl.mechanism();
            mechanism
                .prepare()
                .await
                .map_err(|reason| NetworkError::Authentication {
                    address: addr.to_owned(),
                    mechanism: mechanism.name().to_owned(),
                    principal: mechanism.principal(),
                    reason,
                })?;
        }
        let timeout = options.connect_timeout;
        let setup = async {
            let stream = open_socket(addr, options, attempt)
                .await
                .map_err(|error| NetworkError::Connect {
                    address: addr.to_owned(),
                    source: Arc::new(error),
                })?;
            stream
                .set_nodelay(true)
                .map_err(|error| NetworkError::Connect {
                    address: addr.to_owned(),
                    source: Arc::new(error),
                })?;
            if let Some(tls) = &options.security.tls {
                let stream = tls.connect(addr, stream).await?;
                let (read, write) = tokio::io::split(stream);
                Self::establish(addr, read, Box::new(write), options)
                    .await
                    .map_err(|error| super::tls::refused_after_handshake(addr, error))
            } else {
                let (read, write) = stream.into_split();
                Self::establish(addr, read, Box::new(write), options).await
            }
        };
        tokio::time::timeout(timeout, setup)
            .await
            .map_err(|_| NetworkError::ConnectTimeout {
                address: addr.to_owned(),
                timeout,
            })?
    }

    /// Run the protocol over an already-open transport (for example a TLS
    /// stream made elsewhere): negotiates API versions, and authenticates when
    /// `options.security` has SASL, within `options.connect_timeout`
    /// (`options.security.tls` is not used: the stream is taken as it is).
    pub async fn from_stream<S>(
        addr: &str,
        stream: S,
        options: &ConnectionOptions,
    ) -> Result<Self, NetworkError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let timeout = options.connect_timeout;
        let (read, write) = tokio::io::split(stream);
        tokio::time::timeout(
            timeout,
            Self::establish(addr, read, Box::new(write), options),
        )
        .await
        .map_err(|_| NetworkError::ConnectTimeout {
            address: addr.to_owned(),
            timeout,
        })?
    }

    async fn establish<R>(
        addr: &str,
        read: R,
        write: BoxedWrite,
        options: &ConnectionOptions,
    ) -> Result<Self, NetworkError>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        let shared = Arc::new(Shared::new(addr.to_owned()));
        let reader = tokio::spawn(read_responses(
            Arc::clone(&shared),
            read,
            options.max_response_size,
        ));
        shared.set_reader(reader.abort_handle());
        let mut connection = BrokerConnection {
            shared,
            writer: tokio::sync::Mutex::new(Writer {
                stream: Some(write),
                buf: BytesMut::with_capacity(16 * 1024),
                splices: Splices::new(),
                next_correlation_id: 0,
                reauthenticate_at: None,
            }),
            client_id: options.client_id.clone(),
            api_versions: BrokerApiVersions::default(),
            api_versions_version: 0,
            sasl: options.security.sasl.clone(),
            auth_timeout: options.connect_timeout,
        };
        connection.negotiate_versions().await?;
        // After ApiVersions (which says which SASL versions the broker speaks),
        // before the connection is handed out.
        if let Some(sasl) = connection.sasl.clone() {
            let mut writer = connection.writer.lock().await;
            let authenticated = connection.authenticate(&mut writer, &sasl).await;
            drop(writer);
            if let Err(error) = authenticated {
                connection.close();
                return Err(error);
            }
        }
        tracing::debug!(
            broker = %addr,
            api_versions = connection.api_versions_version,
            apis = connection.api_versions.ranges().len(),
            "connected to broker"
        );
        Ok(connection)
    }

    /// ApiVersions at our highest version; on `UNSUPPORTED_VERSION` retry at the
    /// broker's highest ApiVersions version, or v0 if it did not say (as the
    /// Java client does).
    async fn negotiate_versions(&mut self) -> Result<(), NetworkError> {
        let request = ApiVersionsRequest::default();
        let mut version = ApiVersionsRequest::MAX_VERSION;
        loop {
            // The caller bounds the whole exchange with connect_timeout.
            let pending = self.send_at_version(&request, version, true).await?;
            let response = pending.wait(Duration::MAX).await?;
            match response.error_code {
                ErrorCode::NONE => {
                    self.api_versions = BrokerApiVersions::new(response.api_keys)
                        .with_finalized_features(response.finalized_features);
                    self.api_versions_version = version;
                    return Ok(());
                }
                ErrorCode::UNSUPPORTED_VERSION if version > ApiVersionsRequest::MIN_VERSION => {
                    let broker_max = response
                        .range_for(ApiKey::ApiVersions)
                        .map_or(0, |range| range.max_version);
                    // Strictly lower each round, so this ends.
                    version = broker_max.clamp(ApiVersionsRequest::MIN_VERSION, version - 1);
                }
                error_code => {
                    self.close();
                    return Err(NetworkError::ApiVersionsRejected {
                        address: self.address().to_owned(),
                        error_code,
                    });
                }
            }
        }
    }

    /// The broker address (`host:port`) this connection was opened to.
    pub fn address(&self) -> &str {
        self.shared.address()
    }

    /// Bytes of request frames written to this connection so far.
    pub fn bytes_written(&self) -> u64 {
        self.shared.bytes_written()
    }

    /// The quota throttles the responses gave.
    pub(crate) fn throttle(&self) -> &super::ThrottleLog {
        &self.shared.throttle
    }

    /// Bytes and requests written, and bytes and responses read, so far (the
    /// handshake's included), and the re-authentications.
    pub(crate) fn traffic(&self) -> crate::metrics::Traffic {
        self.shared.traffic()
    }

    /// The largest request and the longest re-authentication since last taken.
    pub(crate) fn take_peaks(&self) -> crate::metrics::Peaks {
        self.shared.take_peaks()
    }

    /// The version ranges the broker reported.
    pub fn api_versions(&self) -> &BrokerApiVersions {
        &self.api_versions
    }

    /// The ApiVersions version the negotiation settled on.
    pub fn api_versions_version(&self) -> i16 {
        self.api_versions_version
    }

    /// The highest version of `R` both sides support, or
    /// [`NetworkError::UnsupportedVersion`] naming the API and both ranges.
    pub fn version_for<R: Request>(&self) -> Result<i16, NetworkError> {
        self.api_versions
            .highest_common::<R>()
            .ok_or_else(|| NetworkError::UnsupportedVersion {
                address: self.address().to_owned(),
                api: R::API_KEY,
                client_min: R::MIN_VERSION,
                client_max: R::MAX_VERSION,
                broker_range: self.api_versions.range(R::API_KEY),
            })
    }

    /// Write `request` (at the negotiated version) and return once it is on the
    /// socket; the returned [`PendingResponse`] resolves when its response
    /// arrives. Requests are written in the order `send` calls are made.
    ///
    /// Dropping this future part-way through a write closes the connection (the
    /// broker could not parse the stream any more).
    pub async fn send<R: Request>(
        &self,
        request: &R,
    ) -> Result<PendingResponse<R::Response>, NetworkError> {
        let version = self.version_for::<R>()?.min(request.max_version());
        self.send_at_version(request, version, true).await
    }

    /// Write a request the broker will not answer: only Produce with `acks = 0`.
    /// Anything else would leave its response unmatched and close the connection.
    pub async fn send_without_response<R: Request>(&self, request: &R) -> Result<(), NetworkError> {
        let version = self.version_for::<R>()?.min(request.max_version());
        self.send_at_version(request, version, false)
            .await
            .map(|_| ())
    }

    /// [`send`](Self::send) then [`wait`](PendingResponse::wait), with `timeout`
    /// covering both. If the timeout expires while the request is still being
    /// written, the error's `correlation_id` is -1 and the connection is closed.
    pub async fn call<R: Request>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, NetworkError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let pending = match tokio::time::timeout_at(deadline, self.send(request)).await {
            Ok(sent) => sent?,
            Err(_) => {
                // The dropped send closed the connection if it was mid-write.
                return Err(NetworkError::RequestTimeout {
                    address: self.address().to_owned(),
                    api: R::API_KEY,
                    correlation_id: -1,
                    timeout,
                });
            }
        };
        pending
            .wait(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
    }

    /// Whether the connection is closed (by the broker, an error, a timeout or
    /// [`close`](Self::close)). A closed connection never reopens.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Requests written whose responses have not arrived yet.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight_count()
    }

    /// Close the connection now: pending responses fail with
    /// [`NetworkError::Disconnected`], later sends fail the same way.
    pub fn close(&self) {
        self.shared.close(DisconnectReason::ClosedByClient);
        // Release the socket now if no writer holds it; otherwise the writer
        // drops it when it sees the close.
        if let Ok(mut writer) = self.writer.try_lock() {
            writer.stream = None;
        }
    }

    /// SaslHandshake then SaslAuthenticate rounds until the mechanism completes;
    /// records when the broker wants the session renewed. Runs with the writer
    /// held, so no other request is written in between (the broker accepts only
    /// SASL requests during an exchange).
    async fn authenticate(
        &self,
        writer: &mut Writer,
        sasl: &SaslConfig,
    ) -> Result<(), NetworkError> {
        let mechanism = sasl.mechanism();
        let fail = |reason: AuthFailure| NetworkError::Authentication {
            address: self.address().to_owned(),
            mechanism: mechanism.name().to_owned(),
            principal: mechanism.principal(),
            reason,
        };
        let (Some(handshake_version), Some(authenticate_version)) = (
            self.api_versions.highest_common::<SaslHandshakeRequest>(),
            self.api_versions
                .highest_common::<SaslAuthenticateRequest>(),
        ) else {
            return Err(fail(AuthFailure::NotSupportedByBroker));
        };
        let handshake = SaslHandshakeRequest {
            mechanism: mechanism.name().to_owned(),
        };
        let response = self
            .write_request(writer, &handshake, handshake_version, true)
            .await?
            .wait(self.auth_timeout)
            .await?;
        match response.error_code {
            ErrorCode::NONE => {}
            ErrorCode::UNSUPPORTED_SASL_MECHANISM => {
                return Err(fail(AuthFailure::MechanismNotEnabled {
                    enabled: response.mechanisms,
                }));
            }
            other => {
                return Err(fail(AuthFailure::Rejected {
                    message: Some(format!("{} ({})", other.name(), other.description())),
                }));
            }
        }
        let mut session = mechanism.start().await.map_err(fail)?;
        let mut token = session.initial_response().map_err(fail)?;
        let lifetime_ms =
            loop {
                let request = SaslAuthenticateRequest { auth_bytes: token };
                let response = self
                    .write_request(writer, &request, authenticate_version, true)
                    .await?
                    .wait(self.auth_timeout)
                    .await?;
                if response.error_code != ErrorCode::NONE {
                    let code = response.error_code;
                    return Err(fail(AuthFailure::Rejected {
                        message: Some(response.error_message.unwrap_or_else(|| {
                            format!("{} ({})", code.name(), code.description())
                        })),
                    }));
                }
                match session.evaluate(&response.auth_bytes).map_err(fail)? {
                    Some(next) => token = next,
                    None => break response.session_lifetime_ms,
                }
            };
        // Like the Java client: renew at a random 85-95% of the session lifetime.
        writer.reauthenticate_at = u64::try_from(lifetime_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map(|ms| {
                let share = 0.85 + fastrand::f64() * 0.10;
                Instant::now() + Duration::from_millis(ms).mul_f64(share)
            });
        tracing::debug!(
            broker = %self.address(),
            mechanism = mechanism.name(),
            session_lifetime_ms = lifetime_ms,
            "authenticated"
        );
        Ok(())
    }

    async fn send_at_version<R: Request>(
        &self,
        request: &R,
        version: i16,
        expect_response: bool,
    ) -> Result<PendingResponse<R::Response>, NetworkError> {
        let mut writer = self.writer.lock().await;
        let due = |writer: &Writer| {
            writer
                .reauthenticate_at
                .is_some_and(|at| at <= Instant::now())
        };
        if let Some(sasl) = &self.sasl
            && due(&writer)
        {
            // What the mechanism fetches (a new token) is fetched without
            // holding the connection; a failure is the exchange's to report.
            drop(writer);
            drop(sasl.mechanism().prepare().await);
            writer = self.writer.lock().await;
            if due(&writer) {
                self.reauthenticate(&mut writer, sasl).await?;
            }
        }
        self.write_request(&mut writer, request, version, expect_response)
            .await
    }

    /// KIP-368: a new SASL exchange on the open connection before the broker's
    /// session ends. A failure closes the connection.
    async fn reauthenticate(
        &self,
        writer: &mut Writer,
        sasl: &SaslConfig,
    ) -> Result<(), NetworkError> {
        let mut cancel_guard = CloseIfCancelled {
            shared: &self.shared,
            armed: true,
        };
        let started = Instant::now();
        let result = tokio::time::timeout(self.auth_timeout, self.authenticate(writer, sasl)).await;
        cancel_guard.armed = false;
        let error = match result {
            Ok(Ok(())) => {
                self.shared.reauthenticated(Some(started.elapsed()));
                tracing::debug!(broker = %self.address(), "re-authenticated");
                return Ok(());
            }
            Ok(Err(error)) => error,
            Err(_) => NetworkError::ConnectTimeout {
                address: self.address().to_owned(),
                timeout: self.auth_timeout,
            },
        };
        // Java counts a renewal the broker refused, not one a timeout or a
        // lost connection cut short.
        if error.is_authentication_failure() {
            self.shared.reauthenticated(None);
        }
        tracing::warn!(broker = %self.address(), %error, "re-authentication failed");
        writer.stream = None;
        self.shared
            .close(DisconnectReason::ReauthenticationFailed(error.to_string()));
        Err(error)
    }

    async fn write_request<R: Request>(
        &self,
        writer: &mut Writer,
        request: &R,
        version: i16,
        expect_response: bool,
    ) -> Result<PendingResponse<R::Response>, NetworkError> {
        let Writer {
            stream,
            buf,
            splices,
            next_correlation_id,
            ..
        } = writer;
        let Some(socket) = stream.as_mut().filter(|_| !self.shared.is_closed()) else {
            *stream = None;
            return Err(self.shared.disconnected());
        };
        let correlation_id = *next_correlation_id;
        buf.clear();
        // Dropped with this future if it is cancelled: the batches go with it.
        let mut spliced = std::mem::take(splices);
        let client_id = Some(self.client_id.as_str());
        // A transport that writes one slice per call (the default) gets the
        // batches copied in: one slice per batch would be a packet (or a TLS
        // record) per batch.
        let encoded = if socket.is_write_vectored() {
            encode_request_frame_spliced(
                buf,
                &mut spliced,
                request,
                version,
                correlation_id,
                client_id,
            )
        } else {
            encode_request_frame(buf, request, version, correlation_id, client_id)
        };
        encoded.map_err(|source| NetworkError::Encode {
            address: self.address().to_owned(),
            api: R::API_KEY,
            source,
        })?;
        // Only a request that is actually sent consumes a correlation id.
        *next_correlation_id = correlation_id.checked_add(1).unwrap_or(0);

        let (reply, receiver) = oneshot::channel();
        if expect_response {
            // Registered before writing: the response cannot overtake its entry.
            self.shared.register(InFlight {
                correlation_id,
                api: R::API_KEY,
                flexible_header: R::response_header_is_flexible(version),
                reply,
            })?;
        }
        let pending = PendingResponse {
            receiver,
            shared: Arc::clone(&self.shared),
            api: R::API_KEY,
            version,
            correlation_id,
            decode: decode_response::<R>,
        };

        let mut cancel_guard = CloseIfCancelled {
            shared: &self.shared,
            armed: true,
        };
        let closed = self.shared.close_signal().notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        let written = if self.shared.is_closed() {
            None
        } else {
            tokio::select! {
                biased;
                result = write_frame(socket, buf, &spliced) => Some(result),
                () = &mut closed => None,
            }
        };
        cancel_guard.armed = false;
        let frame_len = buf.len() + spliced.len();
        spliced.clear();
        *splices = spliced;
        match written {
            Some(Ok(())) => {
                self.shared.wrote(frame_len, R::API_KEY);
                Ok(pending)
            }
            Some(Err(error)) => {
                *stream = None;
                self.shared.close(DisconnectReason::Io(Arc::new(error)));
                Err(self.shared.disconnected())
            }
            None => {
                *stream = None;
                Err(self.shared.disconnected())
            }
        }
    }
}

/// Writes `buf` with the `splices` in their places: one copy-free write of
/// the whole frame where the transport takes several slices at once.
async fn write_frame(socket: &mut BoxedWrite, buf: &[u8], splices: &Splices) -> std::io::Result<()> {
    if splices.is_empty() {
        socket.write_all(buf).await?;
    } else {
        let mut slices = splices.io_slices(buf);
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            let written = socket.write_vectored(rest).await?;
            if written == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            std::io::IoSlice::advance_slices(&mut rest, written);
        }
    }
    // A no-op for TCP; pushes buffered bytes out for TLS-like transports.
    socket.flush().await
}

impl Drop for BrokerConnection {
    fn drop(&mut self) {
        self.shared.close(DisconnectReason::ClosedByClient);
    }
}

/// Closes the connection if a `send` future is dropped while its frame is only
/// partly written.
struct CloseIfCancelled<'a> {
    shared: &'a Shared,
    armed: bool,
}

impl Drop for CloseIfCancelled<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.close(DisconnectReason::WriteCancelled);
        }
    }
}

/// A response that has been requested and not yet received.
///
/// Dropping it without waiting is fine: the response is read and discarded.
#[must_use = "a PendingResponse does nothing unless waited on"]
pub struct PendingResponse<T> {
    receiver: oneshot::Receiver<Reply>,
    shared: Arc<Shared>,
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    decode: fn(&[u8], i16) -> Result<T, DecodeError>,
}

impl<T> std::fmt::Debug for PendingResponse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingResponse")
            .field("address", &self.shared.address())
            .field("api", &self.api)
            .field("version", &self.version)
            .field("correlation_id", &self.correlation_id)
            .finish()
    }
}

impl<T: Response> PendingResponse<T> {
    /// The request's correlation id.
    pub fn correlation_id(&self) -> i32 {
        self.correlation_id
    }

    /// The version the request was sent (and the response will be decoded) at.
    pub fn version(&self) -> i16 {
        self.version
    }

    /// Wait up to `timeout` for the response and decode it (decoding runs in the
    /// caller's task, not the reader's). On timeout the connection is closed, so
    /// every other pending request fails with [`NetworkError::Disconnected`].
    pub async fn wait(self, timeout: Duration) -> Result<T, NetworkError> {
        let PendingResponse {
            receiver,
            shared,
            api,
            version,
            correlation_id,
            decode,
        } = self;
        let reply = match tokio::time::timeout(timeout, receiver).await {
            Ok(Ok(reply)) => reply,
            // The sender only disappears when the connection state is dropped.
            Ok(Err(_)) => return Err(shared.disconnected()),
            Err(_) => {
                shared.close(DisconnectReason::RequestTimedOut {
                    api,
                    correlation_id,
                    timeout,
                });
                return Err(NetworkError::RequestTimeout {
                    address: shared.address().to_owned(),
                    api,
                    correlation_id,
                    timeout,
                });
            }
        };
        let body: Bytes = reply?;
        let response = decode(&body, version).map_err(|source| NetworkError::Decode {
            address: shared.address().to_owned(),
            api,
            version,
            source,
        })?;
        shared.throttle.response(
            response.throttle_time_ms(),
            T::client_throttles(version),
            Instant::now(),
        );
        Ok(response)
    }
}

/// `host:port` with a numeric port (IPv6 hosts in brackets).
/// A TCP connection to the first address of `addr` that accepts one, tried
/// in the resolver's order from the `attempt`th address on (round), with the
/// socket buffer sizes set first when configured (they must be set before
/// the connection to take effect).
async fn open_socket(
    addr: &str,
    options: &ConnectionOptions,
    attempt: u32,
) -> std::io::Result<TcpStream> {
    let mut addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
    rotate_for_attempt(&mut addresses, attempt);
    let mut last_error = None;
    for address in addresses {
        let socket = if address.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        let size = |bytes: usize| u32::try_from(bytes).unwrap_or(u32::MAX);
        if let Some(bytes) = options.send_buffer_bytes {
            socket.set_send_buffer_size(size(bytes))?;
        }
        if let Some(bytes) = options.receive_buffer_bytes {
            socket.set_recv_buffer_size(size(bytes))?;
        }
        match socket.connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the host name resolved to no address",
        )
    }))
}

/// Puts the `attempt`th address (round) first, the others after it in order.
pub(super) fn rotate_for_attempt<T>(addresses: &mut [T], attempt: u32) {
    if !addresses.is_empty() {
        let first = usize::try_from(attempt).unwrap_or(0) % addresses.len();
        addresses.rotate_left(first);
    }
}

fn check_address(addr: &str) -> Result<(), NetworkError> {
    let valid = addr
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(())
    } else {
        Err(NetworkError::InvalidAddress {
            address: addr.to_owned(),
        })
    }
}
