//! The part of Spring Boot's management server this service has: its
//! metrics in Prometheus' text format, over HTTP, while it runs.
//!
//! Configured as Spring Boot configures it:
//!
//! ```yaml
//! management:
//!   server:
//!     port: 0            # 0: any free port (logged); -1 or absent: no endpoint
//!     address: 127.0.0.1 # default: every interface
//! ```
//!
//! (`MANAGEMENT_SERVER_PORT` in the environment works too). The Prometheus
//! recorder of [`metrics_exporter_prometheus`] is installed as the process's
//! [`metrics`](https://docs.rs/metrics) recorder, so every producer's metrics
//! (`kafka_producer_record_send_total{client_id="..."}` and the rest, the
//! names Micrometer gives a Spring service) are scraped from
//! `http://<address>:<port>/metrics`, and from Spring Boot Actuator's
//! `/actuator/prometheus` for scrape configs written for a Spring service.
//!
//! The HTTP side is a small HTTP/1.1 responder on tokio rather than the
//! exporter's own hyper listener: the service learns the port it got when
//! asked for port 0, and no HTTP stack is built for two GET routes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use kafka_template::KafkaConfig;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// `management.server.port`.
pub const PORT_KEY: &str = "management.server.port";
/// `management.server.address`.
pub const ADDRESS_KEY: &str = "management.server.address";

/// The paths that serve the metrics.
const PATHS: [&str; 2] = ["/metrics", "/actuator/prometheus"];
/// The longest request head read; a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the metrics endpoint could not start.
#[derive(Debug)]
pub enum ManagementError {
    /// `management.server.port` or `.address` is not valid.
    InvalidSetting {
        /// The key.
        key: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// Another `metrics` recorder is installed already.
    Recorder(String),
    /// The port could not be bound.
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for ManagementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManagementError::InvalidSetting {
                key,
                value,
                expected,
            } => write!(
                f,
                "invalid value '{value}' for '{key}': expected {expected}"
            ),
            ManagementError::Recorder(why) => write!(
                f,
                "cannot install the Prometheus metrics recorder: {why} (only one recorder per process)"
            ),
            ManagementError::Bind { address, source } => write!(
                f,
                "cannot serve metrics on {address}: {source} (set {PORT_KEY} to a free port, or 0 for any)"
            ),
        }
    }
}

impl std::error::Error for ManagementError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ManagementError::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The metrics endpoint, serving until dropped.
#[derive(Debug)]
pub struct MetricsEndpoint {
    address: SocketAddr,
    handle: PrometheusHandle,
    server: JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Starts the endpoint `management.server.port` / `.address` ask for, or
    /// none when the port is absent or negative (Spring's -1: no HTTP
    /// management endpoints). Start it before building the templates: their
    /// producers register their metrics with the recorder installed then.
    pub async fn from_config(config: &KafkaConfig) -> Result<Option<Self>, ManagementError> {
        let Some(port) = config.lookup(PORT_KEY).map(str::trim) else {
            return Ok(None);
        };
        let port: i32 = port.parse().map_err(|_| ManagementError::InvalidSetting {
            key: PORT_KEY,
            value: port.to_owned(),
            expected: "a port number (0 for any free port, -1 for none)",
        })?;
        if port < 0 {
            return Ok(None);
        }
        let port = u16::try_from(port).map_err(|_| ManagementError::InvalidSetting {
            key: PORT_KEY,
            value: port.to_string(),
            expected: "a port number up to 65535",
        })?;
        let ip = match config.lookup(ADDRESS_KEY).map(str::trim) {
            None | Some("") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(ip) => ip.parse().map_err(|_| ManagementError::InvalidSetting {
                key: ADDRESS_KEY,
                value: ip.to_owned(),
                expected: "an IP address",
            })?,
        };
        Self::start(SocketAddr::new(ip, port)).await.map(Some)
    }

    /// Installs the Prometheus recorder for the process and serves it on `address`.
    pub async fn start(address: SocketAddr) -> Result<Self, ManagementError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ManagementError::Bind { address, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| ManagementError::Bind { address, source })?;
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .map_err(|e| ManagementError::Recorder(e.to_string()))?;
        let server = tokio::spawn(serve(listener, handle.clone()));
        tracing::info!(address = %bound, "serving metrics at /metrics");
        Ok(MetricsEndpoint {
            address: bound,
            handle,
            server,
        })
    }

    /// Where it listens (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// `http://host:port/metrics`, with a loopback host when listening on
    /// every interface.
    pub fn url(&self) -> String {
        let mut address = self.address;
        if address.ip().is_unspecified() {
            address.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{address}/metrics")
    }

    /// The text a scrape gets now.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, handle: PrometheusHandle) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(respond(stream, handle.clone()));
            }
            Err(error) => {
                // Out of file descriptors and the like: try again shortly.
                tracing::warn!(%error, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Answers one request and closes the connection.
async fn respond(mut stream: TcpStream, handle: PrometheusHandle) {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(head)) => head,
        _ => return,
    };
    let (status, content_type, body) = route(&head, || handle.render());
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let head_only = head.starts_with("HEAD ");
    let _ = stream.write_all(response.as_bytes()).await;
    if !head_only {
        let _ = stream.write_all(body.as_bytes()).await;
    }
    let _ = stream.shutdown().await;
}

/// The request head (up to the blank line), or `None` if the client closed
/// or sent more than [`MAX_HEAD`] bytes of it.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Status line, content type and body for a request head.
fn route(head: &str, render: impl FnOnce() -> String) -> (&'static str, &'static str, String) {
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default();
    let target = request_line.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default();
    const TEXT: &str = "text/plain; charset=utf-8";
    if !PATHS.contains(&path) {
        return (
            "404 Not Found",
            TEXT,
            format!("no such path: {path}; metrics are at /metrics\n"),
        );
    }
    if method != "GET" && method != "HEAD" {
        return ("405 Method Not Allowed", TEXT, "GET only\n".to_owned());
    }
    (
        "200 OK",
        // Prometheus' text exposition format.
        "text/plain; version=0.0.4; charset=utf-8",
        render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_like_a_scrape_target() {
        let render = || "kafka_producer_record_send_total 1\n".to_owned();
        let (status, content_type, body) =
            route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", render);
        assert_eq!(status, "200 OK");
        assert!(content_type.contains("version=0.0.4"));
        assert_eq!(body, "kafka_producer_record_send_total 1\n");
        assert_eq!(
            route("GET /actuator/prometheus?x=1 HTTP/1.1\r\n\r\n", render).0,
            "200 OK"
        );
        assert_eq!(route("GET / HTTP/1.1\r\n\r\n", render).0, "404 Not Found");
        assert_eq!(
            route("POST /metrics HTTP/1.1\r\n\r\n", render).0,
            "405 Method Not Allowed"
        );
        assert_eq!(route("", render).0, "404 Not Found");
    }
}
