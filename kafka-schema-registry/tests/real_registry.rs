//! The client against a real registry: Apicurio Registry's Confluent API,
//! started by scripts/registry (kafka-testkit), and read back by an
//! independent client (curl through the testkit).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use kafka_schema_registry::{RegistryConfig, RegistryError, Schema, SchemaRegistryClient};
use kafka_testkit::registry::Registry;
use kafka_testkit::unique_name;

const V1: &str =
    r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}"#;
const V2_OPTIONAL: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;
const V2_BREAKING: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}"#;

#[test]
fn register_lookup_fetch_latest_and_compatibility_against_apicurio() {
    let registry = Registry::get();
    let client = SchemaRegistryClient::new(
        RegistryConfig::from_properties([("schema.registry.url", registry.url())]).unwrap(),
    )
    .unwrap();
    let subject = format!("{}-value", unique_name("orders"));
    let id1 = client.register(&subject, &Schema::avro(V1)).unwrap();
    assert_eq!(client.register(&subject, &Schema::avro(V1)).unwrap(), id1);
    let found = client.lookup(&subject, &Schema::avro(V1)).unwrap();
    assert_eq!((found.id, found.version), (id1, 1));
    let fetched = client.schema_by_id(id1).unwrap();
    assert!(fetched.schema.contains("\"Order\""), "{fetched:?}");

    client
        .set_compatibility(Some(&subject), "BACKWARD")
        .unwrap();
    client
        .check_compatibility(&subject, &Schema::avro(V2_OPTIONAL))
        .unwrap();
    let id2 = client
        .register(&subject, &Schema::avro(V2_OPTIONAL))
        .unwrap();
    assert_ne!(id1, id2);
    assert_eq!(registry.versions(&subject), vec![1, 2]);
    let latest = client.latest_version(&subject).unwrap();
    assert_eq!((latest.id, latest.version), (id2, 2));

    let err = client
        .check_compatibility(&subject, &Schema::avro(V2_BREAKING))
        .unwrap_err();
    assert!(matches!(err, RegistryError::Incompatible { .. }), "{err:?}");
    let err = client
        .register(&subject, &Schema::avro(V2_BREAKING))
        .unwrap_err();
    match &err {
        RegistryError::Incompatible {
            subject: s,
            messages,
        } => {
            assert_eq!(s, &subject);
            assert!(!messages.is_empty() && !messages[0].is_empty());
        }
        other => panic!("expected Incompatible, got {other}"),
    }
    assert_eq!(registry.versions(&subject), vec![1, 2]);

    let err = client
        .latest_version(&format!("{subject}-missing"))
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::Refused { status: 404, .. }),
        "{err:?}"
    );
}

/// A front for `registry_url` that answers its first `busy` connections with
/// HTTP 503 (as a registry whose leader is restarting does) and relays the
/// later ones to the registry. Returns its URL and the connections it saw.
fn busy_front(registry_url: &str, busy: usize) -> (String, Arc<AtomicUsize>) {
    let authority = registry_url.trim_start_matches("http://");
    let (backend, path) = authority.split_at(authority.find('/').unwrap_or(authority.len()));
    let backend = backend.to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            if counter.fetch_add(1, Ordering::SeqCst) < busy {
                read_request(&mut client);
                let body = r#"{"error_code":50003,"message":"leader not available"}"#;
                let _ = write!(
                    client,
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            let Ok(server) = TcpStream::connect(&backend) else {
                continue;
            };
            let (mut client_read, mut server_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut server_write);
                let _ = server_write.shutdown(std::net::Shutdown::Write);
            });
            let (mut server_read, mut client_write) = (server, client);
            thread::spawn(move || {
                let _ = std::io::copy(&mut server_read, &mut client_write);
                let _ = client_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (url, seen)
}

/// Reads one HTTP request (head and `Content-Length` body) off `stream`.
fn read_request(stream: &mut TcpStream) {
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A registry that answers 503 twice is asked again (Confluent's
/// `max.retries`): the schema is registered in the real registry.
#[test]
fn a_registry_that_answers_503_is_asked_again_and_registers() {
    let registry = Registry::get();
    let (front, seen) = busy_front(registry.url(), 2);
    let client = SchemaRegistryClient::new(
        RegistryConfig::from_properties([
            ("schema.registry.url", front.as_str()),
            ("retries.wait.ms", "50"),
        ])
        .unwrap(),
    )
    .unwrap();
    let subject = format!("{}-value", unique_name("busy"));
    let id = client.register(&subject, &Schema::avro(V1)).unwrap();
    assert!(
        seen.load(Ordering::SeqCst) >= 3,
        "two refusals, then the registry"
    );
    assert_eq!(registry.versions(&subject), vec![1]);
    let direct = SchemaRegistryClient::new(
        RegistryConfig::from_properties([("schema.registry.url", registry.url())]).unwrap(),
    )
    .unwrap();
    assert_eq!(direct.lookup(&subject, &Schema::avro(V1)).unwrap().id, id);
}
