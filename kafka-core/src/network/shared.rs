//! State shared by a connection's writers, its reader task and its pending
//! responses: the in-flight queue and the closed flag.
//!
//! Kafka answers requests on a connection in the order it received them, so the
//! in-flight requests form a FIFO queue: each response must carry the
//! correlation id at the queue's head, anything else closes the connection.

use crate::metrics::{Peaks, Traffic};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{Notify, oneshot};
use tokio::task::AbortHandle;

use super::error::{DisconnectReason, NetworkError};
use crate::protocol::{ApiKey, Decoder, ResponseHeader};

/// A response body, or why none will come.
pub(crate) type Reply = Result<Bytes, NetworkError>;

/// A request written (or about to be written) whose response is awaited.
pub(crate) struct InFlight {
    pub(crate) correlation_id: i32,
    pub(crate) api: ApiKey,
    /// Response header v1 (tagged fields) rather than v0.
    pub(crate) flexible_header: bool,
    pub(crate) reply: oneshot::Sender<Reply>,
}

struct State {
    in_flight: VecDeque<InFlight>,
    close_reason: Option<DisconnectReason>,
    reader: Option<AbortHandle>,
}

/// One per connection, behind an `Arc`.
pub(crate) struct Shared {
    address: String,
    closed: AtomicBool,
    /// Wakes writers blocked on a socket that will never drain again.
    close_signal: Notify,
    state: Mutex<State>,
    /// Bytes of request frames written (Java's `outgoing-byte-total`).
    bytes_written: AtomicU64,
    /// Request frames written, of every kind (Java's `request-total`).
    requests_written: AtomicU64,
    /// Bytes of response frames read, size prefixes included
    /// (`incoming-byte-total`).
    bytes_read: AtomicU64,
    /// Response frames read (`response-total`).
    responses_read: AtomicU64,
    /// The largest request frame written since last taken (`request-size-max`).
    largest_request: AtomicU64,
    /// KIP-368 re-authentications that succeeded, and their time in all (ns).
    reauthenticated: AtomicU64,
    reauthentication_ns: AtomicU64,
    /// The longest re-authentication since last taken, in ns.
    longest_reauthentication_ns: AtomicU64,
    /// Re-authentications that failed (each closed the connection).
    reauthentication_failed: AtomicU64,
    /// What the responses said about quota throttling.
    pub(crate) throttle: super::ThrottleLog,
}

impl Shared {
    pub(crate) fn new(address: String) -> Self {
        Shared {
            address,
            closed: AtomicBool::new(false),
            close_signal: Notify::new(),
            state: Mutex::new(State {
                in_flight: VecDeque::new(),
                close_reason: None,
                reader: None,
            }),
            bytes_written: AtomicU64::new(0),
            requests_written: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
            responses_read: AtomicU64::new(0),
            largest_request: AtomicU64::new(0),
            reauthenticated: AtomicU64::new(0),
            reauthentication_ns: AtomicU64::new(0),
            longest_reauthentication_ns: AtomicU64::new(0),
            reauthentication_failed: AtomicU64::new(0),
            throttle: super::ThrottleLog::default(),
        }
    }

    /// Counts a request frame of `api` written. SASL frames are not counted,
    /// as Java's authenticator writes them past its selector's counts.
    pub(crate) fn wrote(&self, bytes: usize, api: ApiKey) {
        if is_authentication(api) {
            return;
        }
        self.bytes_written
            .fetch_add(bytes as u64, Ordering::Relaxed);
        self.requests_written.fetch_add(1, Ordering::Relaxed);
        self.largest_request
            .fetch_max(bytes as u64, Ordering::Relaxed);
    }

    /// Counts a KIP-368 re-authentication: `Some` with the time it took when
    /// it succeeded, `None` when it failed.
    pub(crate) fn reauthenticated(&self, took: Option<std::time::Duration>) {
        match took {
            Some(took) => {
                let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
                self.reauthenticated.fetch_add(1, Ordering::Relaxed);
                self.reauthentication_ns.fetch_add(ns, Ordering::Relaxed);
                self.longest_reauthentication_ns
                    .fetch_max(ns, Ordering::Relaxed);
            }
            None => {
                self.reauthentication_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The largest request and the longest re-authentication since last
    /// taken (windowed maxima need each count's own).
    pub(crate) fn take_peaks(&self) -> Peaks {
        Peaks {
            largest_request: self.largest_request.swap(0, Ordering::Relaxed),
            longest_reauthentication_ns: self
                .longest_reauthentication_ns
                .swap(0, Ordering::Relaxed),
        }
    }

    /// Counts a response frame read (`bytes` with its size prefix).
    fn read(&self, bytes: usize) {
        self.bytes_read.fetch_add(bytes as u64, Ordering::Relaxed);
        self.responses_read.fetch_add(1, Ordering::Relaxed);
    }

    /// What went over the connection so far, both ways.
    pub(crate) fn traffic(&self) -> Traffic {
        Traffic {
            written: self.bytes_written.load(Ordering::Relaxed),
            requests: self.requests_written.load(Ordering::Relaxed),
            read: self.bytes_read.load(Ordering::Relaxed),
            responses: self.responses_read.load(Ordering::Relaxed),
            reauthenticated: self.reauthenticated.load(Ordering::Relaxed),
            reauthentication_ns: self.reauthentication_ns.load(Ordering::Relaxed),
            reauthentication_failed: self.reauthentication_failed.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn close_signal(&self) -> &Notify {
        &self.close_signal
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue inconsistent
        // (every critical section is a single push/pop), so poisoning is ignored.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The error for a request that finds the connection closed.
    pub(crate) fn disconnected(&self) -> NetworkError {
        let reason = self
            .lock()
            .close_reason
            .clone()
            .unwrap_or(DisconnectReason::ClosedByClient);
        NetworkError::Disconnected {
            address: self.address.clone(),
            reason,
        }
    }

    pub(crate) fn set_reader(&self, reader: AbortHandle) {
        let mut state = self.lock();
        if state.close_reason.is_some() {
            reader.abort();
        } else {
            state.reader = Some(reader);
        }
    }

    pub(crate) fn in_flight_count(&self) -> usize {
        self.lock().in_flight.len()
    }

    /// Queue a request for its response; refused once the connection is closed
    /// (checked under the same lock `close` drains, so no entry is stranded).
    pub(crate) fn register(&self, entry: InFlight) -> Result<(), NetworkError> {
        let mut state = self.lock();
        if let Some(reason) = &state.close_reason {
            return Err(NetworkError::Disconnected {
                address: self.address.clone(),
                reason: reason.clone(),
            });
        }
        state.in_flight.push_back(entry);
        Ok(())
    }

    /// Close the connection: fail every pending request with `reason`, stop the
    /// reader and wake blocked writers. Idempotent; the first reason wins.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        let (pending, reader) = {
            let mut state = self.lock();
            if state.close_reason.is_some() {
                return;
            }
            state.close_reason = Some(reason.clone());
            self.closed.store(true, Ordering::Release);
            (std::mem::take(&mut state.in_flight), state.reader.take())
        };
        tracing::debug!(broker = %self.address, %reason, pending = pending.len(), "closing broker connection");
        if let Some(reader) = reader {
            reader.abort();
        }
        self.close_signal.notify_waiters();
        for entry in pending {
            let error = NetworkError::Disconnected {
                address: self.address.clone(),
                reason: reason.clone(),
            };
            // The receiver may be gone (response no longer wanted): nothing to do.
            let _ = entry.reply.send(Err(error));
        }
    }

    /// Hand one response frame (size prefix removed) to the request at the head
    /// of the queue. An error means the stream cannot be trusted any more.
    pub(crate) fn dispatch(&self, frame: Bytes) -> Result<(), DisconnectReason> {
        let Some(id_bytes) = frame.first_chunk::<4>() else {
            return Err(DisconnectReason::ProtocolViolation(format!(
                "response frame of {} bytes has no correlation id",
                frame.len()
            )));
        };
        let correlation_id = i32::from_be_bytes(*id_bytes);
        let entry = {
            let mut state = self.lock();
            match state.in_flight.front() {
                Some(head) if head.correlation_id == correlation_id => state.in_flight.pop_front(),
                Some(head) => {
                    return Err(DisconnectReason::ProtocolViolation(format!(
                        "response correlation id {correlation_id} does not match the oldest pending request ({} correlation id {})",
                        head.api, head.correlation_id
                    )));
                }
                None => {
                    return Err(DisconnectReason::ProtocolViolation(format!(
                        "response with correlation id {correlation_id} but no request is pending"
                    )));
                }
            }
        };
        let Some(entry) = entry else { return Ok(()) };
        if !is_authentication(entry.api) {
            // With its size prefix.
            self.read(4 + frame.len());
        }
        let mut dec = Decoder::new(&frame, false);
        let body_start = match ResponseHeader::decode(&mut dec, entry.flexible_header) {
            Ok(_) => dec.position(),
            Err(error) => {
                let reason = DisconnectReason::ProtocolViolation(format!(
                    "malformed {} response header: {error}",
                    entry.api
                ));
                let _ = entry.reply.send(Err(NetworkError::Disconnected {
                    address: self.address.clone(),
                    reason: reason.clone(),
                }));
                return Err(reason);
            }
        };
        let _ = entry.reply.send(Ok(frame.slice(body_start..)));
        Ok(())
    }
}

/// SaslHandshake and SaslAuthenticate: a connection's authentication, which
/// Java's selector metrics do not count as requests and responses.
fn is_authentication(api: ApiKey) -> bool {
    matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_frames_are_not_counted_as_requests_and_the_largest_is_taken_once() {
        let shared = Shared::new("broker:9092".to_owned());
        shared.wrote(300, ApiKey::SaslHandshake);
        shared.wrote(900, ApiKey::SaslAuthenticate);
        shared.wrote(120, ApiKey::ApiVersions);
        shared.wrote(80, ApiKey::Produce);
        let traffic = shared.traffic();
        assert_eq!((traffic.requests, traffic.written), (2, 200));
        assert_eq!(shared.take_peaks().largest_request, 120);
        assert_eq!(shared.take_peaks().largest_request, 0, "taken");
    }
}
