//! A TCP proxy in front of a broker, for failure tests that break real
//! connections.
//!
//! Each broker has a `PROXIED` listener whose advertised address is a "front"
//! port; the proxy listens on those front ports and forwards to the brokers, so
//! a client that bootstraps at [`KafkaProxy::bootstrap`] reaches every broker
//! through the proxy ([`EmbeddedKafka::proxy`](crate::EmbeddedKafka::proxy)
//! starts one in front of an embedded broker).
//!
//! The proxy reads Kafka's size-prefixed frames, so it can cut a connection at a
//! precise point: [`KafkaProxy::cut_after_next_request`] lets the next request of
//! an API through to the broker and, when the broker's answer comes back, drops it
//! and closes the connection — the client never learns whether the request took
//! effect, which is exactly when an idempotent producer must not duplicate.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Kafka API key of Produce requests.
pub const PRODUCE: i16 = 0;

#[derive(Default)]
struct Shared {
    /// API key whose next request should be cut after the broker answers.
    cut_api: Mutex<Option<i16>>,
    /// Number of cuts done so far.
    cuts: AtomicU32,
    /// When set, new and existing connections are closed.
    closed: AtomicBool,
    /// When set, requests still reach the brokers but their answers are dropped.
    withhold: AtomicBool,
    /// Answers dropped while withholding.
    withheld: AtomicU32,
    /// Live connections, to close them all at once.
    connections: Mutex<Vec<TcpStream>>,
}

/// A running proxy; dropping it closes every connection and stops listening.
pub struct KafkaProxy {
    bootstrap: String,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for KafkaProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProxy")
            .field("bootstrap", &self.bootstrap)
            .field("cuts", &self.cuts())
            .finish_non_exhaustive()
    }
}

impl KafkaProxy {
    /// Listens on each route's front port of 127.0.0.1 and forwards what comes
    /// to its backend port: `(front, backend)` per broker.
    pub fn with_routes(routes: &[(u16, u16)]) -> io::Result<KafkaProxy> {
        let shared = Arc::new(Shared::default());
        let mut fronts = Vec::new();
        let mut listeners = Vec::new();
        for &(front, back) in routes {
            let listener = TcpListener::bind(("127.0.0.1", front)).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("proxy cannot listen on 127.0.0.1:{front}: {e}"),
                )
            })?;
            fronts.push(format!("127.0.0.1:{front}"));
            listeners.push((listener, back));
        }
        for (listener, back) in listeners {
            let shared = shared.clone();
            thread::spawn(move || accept_loop(listener, back, shared));
        }
        Ok(KafkaProxy {
            bootstrap: fronts.join(","),
            shared,
        })
    }

    /// Bootstrap address that routes every connection through the proxy.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The next request with this API key goes through to the broker; its response
    /// is dropped and that connection closed.
    pub fn cut_after_next_request(&self, api_key: i16) {
        *self
            .shared
            .cut_api
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(api_key);
    }

    /// From now on (until called with `false`), requests still go through to the
    /// brokers, which act on them, but every answer is dropped: the client never
    /// learns what became of them. A stalled network in one direction.
    pub fn withhold_responses(&self, on: bool) {
        self.shared.withhold.store(on, Ordering::SeqCst);
    }

    /// How many answers were dropped by [`KafkaProxy::withhold_responses`].
    pub fn withheld(&self) -> u32 {
        self.shared.withheld.load(Ordering::SeqCst)
    }

    /// How many connections were cut by [`KafkaProxy::cut_after_next_request`].
    pub fn cuts(&self) -> u32 {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Closes every open connection now (new ones are still accepted).
    pub fn cut_all(&self) {
        for conn in self
            .shared
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for KafkaProxy {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.cut_all();
        // Wake the accept loops so they see `closed`.
        for front in self.bootstrap.split(',') {
            if let Ok(address) = front.parse() {
                let _ = TcpStream::connect_timeout(&address, Duration::from_millis(200));
            }
        }
    }
}

fn accept_loop(listener: TcpListener, backend_port: u16, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(broker) = TcpStream::connect(("127.0.0.1", backend_port)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = broker.set_nodelay(true);
        let clones = (
            client.try_clone(),
            broker.try_clone(),
            client.try_clone(),
            broker.try_clone(),
        );
        let (Ok(c1), Ok(b1), Ok(c2), Ok(b2)) = clones else {
            let _ = client.shutdown(Shutdown::Both);
            let _ = broker.shutdown(Shutdown::Both);
            continue;
        };
        shared
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend([c1, b1]);
        // Correlation ids of requests whose response must be dropped.
        let doomed: Arc<Mutex<HashSet<i32>>> = Arc::default();
        let d2 = doomed.clone();
        let (s1, s2) = (shared.clone(), shared.clone());
        thread::spawn(move || forward_requests(client, broker, s1, doomed));
        thread::spawn(move || forward_responses(b2, c2, s2, d2));
    }
}

/// Reads one size-prefixed frame; `None` at a clean end of stream.
fn read_frame(from: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut size = [0u8; 4];
    match from.read_exact(&mut size) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = i32::from_be_bytes(size);
    if !(0..=256 * 1024 * 1024).contains(&len) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "bad frame size"));
    }
    let mut frame = Vec::with_capacity(4 + len as usize);
    frame.extend_from_slice(&size);
    frame.resize(4 + len as usize, 0);
    from.read_exact(&mut frame[4..])?;
    Ok(Some(frame))
}

fn forward_requests(
    mut client: TcpStream,
    mut broker: TcpStream,
    shared: Arc<Shared>,
    doomed: Arc<Mutex<HashSet<i32>>>,
) {
    while let Ok(Some(frame)) = read_frame(&mut client) {
        // Request header: api_key i16, api_version i16, correlation_id i32.
        if frame.len() >= 12 {
            let api_key = i16::from_be_bytes([frame[4], frame[5]]);
            let correlation_id = i32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]);
            let mut cut = shared.cut_api.lock().unwrap_or_else(|p| p.into_inner());
            if *cut == Some(api_key) {
                *cut = None;
                doomed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(correlation_id);
            }
        }
        if broker.write_all(&frame).is_err() {
            break;
        }
    }
    let _ = broker.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
}

fn forward_responses(
    mut broker: TcpStream,
    mut client: TcpStream,
    shared: Arc<Shared>,
    doomed: Arc<Mutex<HashSet<i32>>>,
) {
    while let Ok(Some(frame)) = read_frame(&mut broker) {
        if frame.len() >= 8 {
            let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
            if doomed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&correlation_id)
            {
                shared.cuts.fetch_add(1, Ordering::SeqCst);
                break;
            }
        }
        if shared.withhold.load(Ordering::SeqCst) {
            shared.withheld.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        if client.write_all(&frame).is_err() {
            break;
        }
    }
    let _ = broker.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
}
