//! The client against the in-process mock registry and against a scripted
//! HTTP server (auth headers, errors quoted, secrets hidden, timeouts).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use kafka_schema_registry::{
    MockRegistry, RegistryConfig, RegistryError, Schema, SchemaRegistryClient,
};

const V1: &str =
    r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}"#;
const V2_OPTIONAL: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;
const V2_BREAKING: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}"#;

fn client(props: &[(&str, &str)]) -> SchemaRegistryClient {
    SchemaRegistryClient::new(RegistryConfig::from_properties(props.iter().copied()).unwrap())
        .unwrap()
}

#[test]
fn mock_registers_versions_and_refuses_incompatible_changes() {
    MockRegistry::drop_scope("evolution");
    let c = client(&[("schema.registry.url", "mock://evolution")]);
    let id1 = c.register("orders-value", &Schema::avro(V1)).unwrap();
    let id2 = c
        .register("orders-value", &Schema::avro(V2_OPTIONAL))
        .unwrap();
    assert_ne!(id1, id2);
    let latest = c.latest_version("orders-value").unwrap();
    assert_eq!((latest.version, latest.id), (2, id2));
    assert_eq!(
        c.lookup("orders-value", &Schema::avro(V1)).unwrap().version,
        1
    );
    let err = c
        .register("orders-value", &Schema::avro(V2_BREAKING))
        .unwrap_err();
    match &err {
        RegistryError::Incompatible { subject, messages } => {
            assert_eq!(subject, "orders-value");
            assert!(messages[0].contains("qty"), "{messages:?}");
        }
        other => panic!("expected Incompatible, got {other:?}"),
    }
    assert!(
        c.check_compatibility("orders-value", &Schema::avro(V2_BREAKING))
            .is_err()
    );
    c.set_compatibility(Some("orders-value"), "NONE").unwrap();
    assert!(
        c.register("orders-value", &Schema::avro(V2_BREAKING))
            .is_ok()
    );
    // Version 1 again, under a level it breaks against the latest version
    // (whose `qty` has no default): its id, as a real registry answers a
    // schema the subject holds, without a compatibility check.
    c.set_compatibility(Some("orders-value"), "FORWARD")
        .unwrap();
    assert!(
        c.check_compatibility("orders-value", &Schema::avro(V1))
            .is_err()
    );
    assert_eq!(c.register("orders-value", &Schema::avro(V1)).unwrap(), id1);
}

#[test]
fn mock_scopes_are_shared_by_clients_and_dropped() {
    MockRegistry::drop_scope("shared");
    let a = client(&[("schema.registry.url", "mock://shared")]);
    let b = client(&[("schema.registry.url", "mock://shared")]);
    let id = a.register("t-value", &Schema::avro(V1)).unwrap();
    assert_eq!(b.schema_by_id(id).unwrap(), Schema::avro(V1));
    MockRegistry::drop_scope("shared");
    let c = client(&[("schema.registry.url", "mock://shared")]);
    assert!(matches!(
        c.schema_by_id(id),
        Err(RegistryError::Refused { status: 404, .. })
    ));
}

#[test]
fn id_for_asks_once_even_for_concurrent_first_callers() {
    MockRegistry::drop_scope("concurrent");
    let c = Arc::new(client(&[("schema.registry.url", "mock://concurrent")]));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (c, barrier) = (Arc::clone(&c), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                c.id_for("orders-value", &Schema::avro(V1)).unwrap()
            })
        })
        .collect();
    let ids: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    for _ in 0..1000 {
        c.id_for("orders-value", &Schema::avro(V1)).unwrap();
    }
    assert_eq!(c.requests(), 1);
    c.id_for("other-value", &Schema::avro(V1)).unwrap();
    assert_eq!(c.requests(), 2);
}

#[test]
fn without_auto_register_an_unknown_schema_is_an_error_naming_the_subject() {
    MockRegistry::drop_scope("no-auto");
    let c = client(&[
        ("schema.registry.url", "mock://no-auto"),
        ("auto.register.schemas", "false"),
    ]);
    let err = c.id_for("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(
        matches!(err, RegistryError::NotRegistered { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("`orders-value`"), "{err}");
    // a failure is not kept: once registered elsewhere, the next call finds it
    let admin = client(&[("schema.registry.url", "mock://no-auto")]);
    let id = admin.register("orders-value", &Schema::avro(V1)).unwrap();
    assert_eq!(c.id_for("orders-value", &Schema::avro(V1)).unwrap(), id);
}

#[test]
fn use_latest_version_frames_with_the_latest_id_when_it_is_the_records_schema() {
    MockRegistry::drop_scope("latest");
    let admin = client(&[("schema.registry.url", "mock://latest")]);
    let id1 = admin.register("orders-value", &Schema::avro(V1)).unwrap();
    let id2 = admin
        .register("orders-value", &Schema::avro(V2_OPTIONAL))
        .unwrap();
    let c = client(&[
        ("schema.registry.url", "mock://latest"),
        ("auto.register.schemas", "false"),
        ("use.latest.version", "true"),
    ]);
    assert_eq!(
        c.id_for("orders-value", &Schema::avro(V2_OPTIONAL))
            .unwrap(),
        id2
    );
    // A record of v1 is written with v1: v2's id would make readers decode
    // its bytes as v2.
    let err = c.id_for("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(
        matches!(err, RegistryError::LatestVersionDiffers { version: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`orders-value`"), "{err}");
    // With auto.register.schemas (Java's order), the record's own schema.
    let registering = client(&[
        ("schema.registry.url", "mock://latest"),
        ("use.latest.version", "true"),
    ]);
    assert_eq!(
        registering
            .id_for("orders-value", &Schema::avro(V1))
            .unwrap(),
        id1
    );
}

#[test]
fn use_schema_id_frames_with_that_id_when_it_is_the_records_schema() {
    MockRegistry::drop_scope("fixed-id");
    let admin = client(&[("schema.registry.url", "mock://fixed-id")]);
    let id1 = admin.register("orders-value", &Schema::avro(V1)).unwrap();
    admin
        .register("orders-value", &Schema::avro(V2_OPTIONAL))
        .unwrap();
    let fixed = id1.to_string();
    // Without auto.register.schemas (which wins, as in Confluent's
    // serializers), and over use.latest.version: nothing is registered, the
    // id's schema is fetched once.
    let c = client(&[
        ("schema.registry.url", "mock://fixed-id"),
        ("auto.register.schemas", "false"),
        ("use.schema.id", &fixed),
        ("use.latest.version", "true"),
    ]);
    for _ in 0..3 {
        assert_eq!(c.id_for("orders-value", &Schema::avro(V1)).unwrap(), id1);
    }
    assert_eq!(c.requests(), 1);
    // Another record schema under that id would be misread: refused, and
    // the answer kept (not asked again on every send).
    for _ in 0..3 {
        let err = c
            .id_for("orders-value", &Schema::avro(V2_OPTIONAL))
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::SchemaIdDiffers { id, .. } if id == id1),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&format!("use.schema.id={id1}")),
            "{err}"
        );
    }
    assert_eq!(c.requests(), 2);
    assert_eq!(admin.latest_version("orders-value").unwrap().version, 2);
    // With auto.register.schemas, registering wins: the record's own id.
    let registering = client(&[
        ("schema.registry.url", "mock://fixed-id"),
        ("use.schema.id", &fixed),
    ]);
    let own = registering
        .id_for("orders-value", &Schema::avro(V2_OPTIONAL))
        .unwrap();
    assert_ne!(own, id1);
}

#[test]
fn the_latest_version_is_asked_again_after_latest_cache_ttl() {
    MockRegistry::drop_scope("latest-ttl");
    let admin = client(&[("schema.registry.url", "mock://latest-ttl")]);
    let id1 = admin.register("orders-value", &Schema::avro(V1)).unwrap();
    let latest = |ttl: Option<&str>| {
        let mut props = vec![
            ("schema.registry.url", "mock://latest-ttl"),
            ("auto.register.schemas", "false"),
            ("use.latest.version", "true"),
        ];
        if let Some(ttl) = ttl {
            props.push(("latest.cache.ttl.sec", ttl));
        }
        client(&props)
    };
    let kept = latest(None);
    let refreshed = latest(Some("0"));
    for c in [&kept, &refreshed] {
        assert_eq!(c.id_for("orders-value", &Schema::avro(V1)).unwrap(), id1);
    }
    admin
        .register("orders-value", &Schema::avro(V2_OPTIONAL))
        .unwrap();
    // Kept for good by default (Confluent's -1): one request in all.
    for _ in 0..3 {
        assert_eq!(kept.id_for("orders-value", &Schema::avro(V1)).unwrap(), id1);
    }
    assert_eq!(kept.requests(), 1);
    // With a TTL, asked again: version 2 is not the record's schema.
    let err = refreshed
        .id_for("orders-value", &Schema::avro(V1))
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::LatestVersionDiffers { version: 2, .. }),
        "{err:?}"
    );
    assert_eq!(refreshed.requests(), 2);
}

#[test]
fn confluents_other_serializer_keys_are_read_and_checked() {
    let config = RegistryConfig::from_properties([
        ("schema.registry.url", "http://a:8081,http://b:8081"),
        ("use.schema.id", "-1"),
        ("latest.cache.ttl.sec", "300"),
        ("schema.registry.url.randomize", "true"),
        ("id.compatibility.strict", "false"),
        ("latest.compatibility.strict", "true"),
        ("latest.cache.size", "1000"),
        ("max.schemas.per.subject", "1000"),
        ("avro.remove.java.properties", "true"),
    ])
    .unwrap();
    assert_eq!(config.use_schema_id, None);
    assert_eq!(config.latest_cache_ttl, Some(Duration::from_secs(300)));
    assert!(config.url_randomize);
    for (key, value) in [
        ("use.schema.id", "-2"),
        ("latest.cache.ttl.sec", "soon"),
        ("latest.compatibility.strict", "yes"),
        ("max.schemas.per.subject", "-1"),
    ] {
        let err = RegistryConfig::from_properties([
            ("schema.registry.url", "http://a:8081"),
            (key, value),
        ])
        .unwrap_err();
        assert_eq!(err.key, key);
        assert!(err.to_string().contains(value), "{err}");
    }
}

/// A one-connection-per-request HTTP server answering with `status` and
/// `body`; returns its URL and the raw requests it got.
fn scripted_server(answers: Vec<(u16, &'static str)>) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let mut requests = Vec::new();
        for (status, body) in answers {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut content = vec![0; length];
            reader.read_exact(&mut content).unwrap();
            head.push_str(&String::from_utf8_lossy(&content));
            requests.push(head);
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
        requests
    });
    (url, handle)
}

#[test]
fn basic_auth_is_sent_and_registry_errors_are_quoted_without_secrets() {
    let (url, server) = scripted_server(vec![
        (200, r#"{"id":7}"#),
        (
            409,
            r#"{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"orders-value\""}"#,
        ),
        (401, r#"{"error_code":401,"message":"Unauthorized"}"#),
    ]);
    let c = client(&[
        ("schema.registry.url", &url),
        ("basic.auth.credentials.source", "USER_INFO"),
        ("basic.auth.user.info", "fred:hunter2"),
    ]);
    assert_eq!(c.register("orders-value", &Schema::avro(V1)).unwrap(), 7);
    let err = c
        .register("orders-value", &Schema::avro(V2_BREAKING))
        .unwrap_err();
    assert!(matches!(err, RegistryError::Incompatible { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("incompatible with an earlier schema"),
        "{err}"
    );
    let err = c.latest_version("orders-value").unwrap_err();
    let shown = format!("{err} {err:?} {c:?}");
    assert!(
        shown.contains("HTTP 401") && shown.contains("`orders-value`"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    let requests = server.join().unwrap();
    // base64("fred:hunter2")
    assert!(
        requests[0].contains("Basic ZnJlZDpodW50ZXIy"),
        "{}",
        requests[0]
    );
    assert!(requests[0].starts_with("POST /subjects/orders-value/versions "));
    assert!(requests[0].contains(r#""schema":"#));
    assert!(requests[2].starts_with("GET /subjects/orders-value/versions/latest "));
}

#[test]
fn bearer_token_is_sent() {
    let (url, server) = scripted_server(vec![(200, r#"{"schema":"\"string\""}"#)]);
    let c = client(&[
        ("schema.registry.url", &url),
        ("bearer.auth.credentials.source", "STATIC_TOKEN"),
        ("bearer.auth.token", "tok-123"),
    ]);
    assert_eq!(c.schema_by_id(3).unwrap(), Schema::avro("\"string\""));
    let requests = server.join().unwrap();
    assert!(requests[0].contains("Bearer tok-123"), "{}", requests[0]);
    assert!(requests[0].starts_with("GET /schemas/ids/3 "));
}

#[test]
fn a_silent_registry_times_out_within_the_read_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // keep the connection open, never answer, until the client gives up
        let mut buf = [0; 1024];
        let mut stream = stream;
        while stream.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
    });
    let c = client(&[
        ("schema.registry.url", &url),
        ("schema.registry.http.read.timeout.ms", "300"),
        ("max.retries", "0"),
    ]);
    let started = Instant::now();
    let err = c.register("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retriable());
    assert!(err.to_string().contains("`orders-value`"), "{err}");
    drop(c);
    hold.join().unwrap();
}

#[test]
fn a_registry_that_is_down_is_unreachable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(&[
        ("schema.registry.url", &format!("http://127.0.0.1:{port}")),
        ("retries.wait.ms", "10"),
    ]);
    let err = c.register("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
}

#[test]
fn a_registry_node_that_is_down_is_skipped_by_the_next_requests() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The first node takes connections and drops them at once.
    let down = TcpListener::bind("127.0.0.1:0").unwrap();
    let down_url = format!("http://{}", down.local_addr().unwrap());
    let attempts = Arc::new(AtomicUsize::new(0));
    {
        let attempts = attempts.clone();
        thread::spawn(move || {
            for stream in down.incoming() {
                attempts.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
    }
    let (up_url, server) = scripted_server(vec![(200, r#"{"id":1}"#), (200, r#"{"id":2}"#)]);
    let c = client(&[
        ("schema.registry.url", &format!("{down_url},{up_url}")),
        ("max.retries", "1"),
        ("retries.wait.ms", "5"),
    ]);
    assert_eq!(c.register("a-value", &Schema::avro(V1)).unwrap(), 1);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        2,
        "tried first and once again (max.retries=1), then failed over"
    );
    // As Java's UrlList: the next request starts at the node that answered.
    assert_eq!(c.register("b-value", &Schema::avro(V1)).unwrap(), 2);
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "not tried again");
    assert_eq!(server.join().unwrap().len(), 2);
}

/// A registry answering 503 (restarting) or 429 (rate limit) is asked again
/// after a backoff, as Confluent's client does; other refusals are not.
#[test]
fn a_busy_registry_is_asked_again_after_a_backoff() {
    let (url, server) = scripted_server(vec![
        (
            503,
            r#"{"error_code":50003,"message":"Error while forwarding the request to the leader"}"#,
        ),
        (429, r#"{"message":"Too Many Requests"}"#),
        (200, r#"{"id":9}"#),
        (
            404,
            r#"{"error_code":40401,"message":"Subject 'x-value' not found."}"#,
        ),
    ]);
    let c = client(&[("schema.registry.url", &url), ("retries.wait.ms", "20")]);
    assert_eq!(c.register("orders-value", &Schema::avro(V1)).unwrap(), 9);
    let err = c.latest_version("x-value").unwrap_err();
    assert!(
        matches!(err, RegistryError::Refused { status: 404, .. }),
        "{err:?}"
    );
    let requests = server.join().unwrap();
    assert_eq!(requests.len(), 4, "3 for the registration, 1 for the 404");
    assert!(
        requests[..3]
            .iter()
            .all(|r| r.starts_with("POST /subjects/orders-value/versions ")),
        "{requests:?}"
    );
}

/// Still busy after `max.retries`: the registry's refusal, retriable.
#[test]
fn a_registry_busy_past_max_retries_is_a_retriable_refusal() {
    let (url, server) = scripted_server(vec![(503, r#"{"message":"unavailable"}"#); 3]);
    let c = client(&[
        ("schema.registry.url", &url),
        ("max.retries", "2"),
        ("retries.wait.ms", "10"),
    ]);
    let err = c.register("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(
        matches!(err, RegistryError::Refused { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_retriable());
    assert_eq!(
        server.join().unwrap().len(),
        3,
        "the first try and 2 retries"
    );
}

/// A node that stays busy is left for the next one, which the next request
/// starts at.
#[test]
fn a_node_busy_past_its_retries_fails_over_to_the_next() {
    let (busy_url, busy) = scripted_server(vec![(503, "{}"); 2]);
    let (up_url, up) = scripted_server(vec![(200, r#"{"id":1}"#), (200, r#"{"id":2}"#)]);
    let c = client(&[
        ("schema.registry.url", &format!("{busy_url},{up_url}")),
        ("max.retries", "1"),
        ("retries.wait.ms", "5"),
    ]);
    assert_eq!(c.register("a-value", &Schema::avro(V1)).unwrap(), 1);
    assert_eq!(c.register("b-value", &Schema::avro(V1)).unwrap(), 2);
    assert_eq!(busy.join().unwrap().len(), 2);
    assert_eq!(up.join().unwrap().len(), 2);
}

/// `call_timeout` (a producer's `max.block.ms`) bounds the retries and their
/// backoffs, not only each request.
#[test]
fn the_call_timeout_bounds_retries_and_backoffs() {
    let (url, _server) = scripted_server(vec![(503, "{}"); 4]);
    let mut config = RegistryConfig::from_properties([
        ("schema.registry.url", url.as_str()),
        ("max.retries", "3"),
        ("retries.wait.ms", "10000"),
    ])
    .unwrap();
    config.call_timeout = Some(Duration::from_millis(300));
    let c = SchemaRegistryClient::new(config).unwrap();
    let started = Instant::now();
    let err = c.register("orders-value", &Schema::avro(V1)).unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, RegistryError::Refused { status: 503, .. }),
        "{err:?}"
    );
    // Without the bound the backoffs alone could reach 10 + 20 + 20 s.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// Only the registry's own "not found" codes mean "not registered" or "no
/// subject yet": a 404 from a wrong base path (an Apicurio URL without
/// `/apis/ccompat/v7`) or a proxy is reported as the refusal it is, not
/// as "register it first" or "compatible".
#[test]
fn a_404_without_the_registrys_code_is_not_taken_for_an_answer() {
    let (url, server) = scripted_server(vec![
        (404, "<html><body>Not Found</body></html>"),
        (404, r#"{"error_code":40403,"message":"Schema not found"}"#),
        (404, "<html><body>Not Found</body></html>"),
        (
            404,
            r#"{"error_code":40401,"message":"Subject 'orders-value' not found."}"#,
        ),
    ]);
    let c = client(&[
        ("schema.registry.url", &url),
        ("auto.register.schemas", "false"),
    ]);
    let wrong_path = c.id_for("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(
        matches!(wrong_path, RegistryError::Refused { status: 404, .. }),
        "{wrong_path:?}"
    );
    let missing = c.id_for("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(
        matches!(missing, RegistryError::NotRegistered { .. }),
        "{missing:?}"
    );
    let wrong_path = c
        .check_compatibility("orders-value", &Schema::avro(V1))
        .unwrap_err();
    assert!(
        matches!(wrong_path, RegistryError::Refused { status: 404, .. }),
        "{wrong_path:?}"
    );
    c.check_compatibility("orders-value", &Schema::avro(V1))
        .expect("no subject yet: compatible");
    assert_eq!(server.join().unwrap().len(), 4);
}

/// `normalize.schemas` asks the registry to normalize (`?normalize=true` on
/// registration and lookup), and Confluent Cloud's bearer settings go as
/// its headers, as Confluent's client sends them.
#[test]
fn normalize_and_confluent_cloud_bearer_headers_are_sent() {
    let (url, server) = scripted_server(vec![
        (200, r#"{"id":3}"#),
        (
            200,
            r#"{"subject":"orders-value","version":1,"id":3,"schema":"\"string\""}"#,
        ),
    ]);
    let c = client(&[
        ("schema.registry.url", &url),
        ("normalize.schemas", "true"),
        ("bearer.auth.credentials.source", "STATIC_TOKEN"),
        ("bearer.auth.token", "t0ken"),
        ("bearer.auth.logical.cluster", "lsrc-123"),
        ("bearer.auth.identity.pool.id", "pool-42"),
    ]);
    assert_eq!(c.register("orders-value", &Schema::avro(V1)).unwrap(), 3);
    c.lookup("orders-value", &Schema::avro(V1)).unwrap();
    let requests = server.join().unwrap();
    assert!(
        requests[0].starts_with("POST /subjects/orders-value/versions?normalize=true "),
        "{}",
        requests[0]
    );
    assert!(
        requests[1].starts_with("POST /subjects/orders-value?normalize=true "),
        "{}",
        requests[1]
    );
    for request in &requests {
        let lower = request.to_ascii_lowercase();
        assert!(
            lower.contains("\r\ntarget-sr-cluster: lsrc-123\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\nconfluent-identity-pool-id: pool-42\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\nauthorization: bearer t0ken\r\n"),
            "{request}"
        );
    }
}

/// A JWT (unsigned: the registry checks signatures) for `svc`, issued in
/// 2023 and expiring in 2100.
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdmMiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGUiOiJzY2hlbWEtcmVnaXN0cnkifQ.c2ln";

fn oauth_client(url: &str, extra: &[(&str, &str)]) -> SchemaRegistryClient {
    let endpoint = format!("{url}/oauth/token");
    let mut props = vec![
        ("schema.registry.url", url),
        ("bearer.auth.credentials.source", "OAUTHBEARER"),
        ("bearer.auth.issuer.endpoint.url", &endpoint),
        ("bearer.auth.client.id", "sr-client"),
        ("bearer.auth.client.secret", "s3cret"),
    ];
    props.extend_from_slice(extra);
    client(&props)
}

#[test]
fn an_oauth_token_is_fetched_once_by_client_credentials_and_sent_as_bearer() {
    let token_answer: &'static str = Box::leak(
        format!(r#"{{"access_token":"{JWT}","token_type":"Bearer","expires_in":3600}}"#)
            .into_boxed_str(),
    );
    let (url, server) = scripted_server(vec![
        (200, token_answer),
        (200, r#"{"id":3}"#),
        (
            200,
            r#"{"subject":"orders-value","version":1,"id":3,"schema":"\"string\""}"#,
        ),
    ]);
    let c = oauth_client(
        &url,
        &[
            ("bearer.auth.scope", "schema registry"),
            ("bearer.auth.logical.cluster", "lsrc-123"),
        ],
    );
    assert!(!format!("{:?}", c.config()).contains("s3cret"));
    assert_eq!(c.register("orders-value", &Schema::avro(V1)).unwrap(), 3);
    c.lookup("orders-value", &Schema::avro(V1)).unwrap();
    let requests = server.join().unwrap();
    let token_request = &requests[0];
    assert!(
        token_request.starts_with("POST /oauth/token "),
        "{token_request}"
    );
    // Kafka's retriever: the id and secret as basic credentials, the grant
    // and scope in the form.
    let lower = token_request.to_ascii_lowercase();
    assert!(
        token_request.contains("\r\nauthorization: Basic c3ItY2xpZW50OnMzY3JldA==\r\n"),
        "{token_request}"
    );
    assert!(
        lower.contains("\r\ncontent-type: application/x-www-form-urlencoded\r\n"),
        "{token_request}"
    );
    assert!(
        token_request.ends_with("\r\n\r\ngrant_type=client_credentials&scope=schema%20registry"),
        "{token_request}"
    );
    // One token for both registry requests, with Confluent Cloud's header.
    for request in &requests[1..] {
        assert!(
            request.contains(&format!("\r\nauthorization: Bearer {JWT}\r\n")),
            "{request}"
        );
        assert!(
            request
                .to_ascii_lowercase()
                .contains("\r\ntarget-sr-cluster: lsrc-123\r\n"),
            "{request}"
        );
    }
}

#[test]
fn a_refused_or_unusable_token_is_an_error_naming_the_endpoint_without_secrets() {
    // Refused credentials: not asked again (only a server error or a
    // throttle is), the OAuth error quoted.
    let (url, server) = scripted_server(vec![(
        401,
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
    )]);
    let c = oauth_client(&url, &[]);
    let err = c.register("orders-value", &Schema::avro(V1)).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Token {
                retriable: false,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("/oauth/token")
            && message.contains("HTTP 401: invalid_client: client authentication failed")
            && message.contains("bearer.auth.client.secret")
            && !message.contains("s3cret"),
        "{message}"
    );
    assert_eq!(server.join().unwrap().len(), 1);
    assert_eq!(c.requests(), 1);

    // A token that is not a JWT with an expiry and a subject.
    let (url, server) = scripted_server(vec![(200, r#"{"access_token":"opaque"}"#)]);
    let err = oauth_client(&url, &[])
        .register("orders-value", &Schema::avro(V1))
        .unwrap_err();
    assert!(err.to_string().contains("not a JWT"), "{err}");
    assert!(!err.to_string().contains("opaque"), "{err}");
    server.join().unwrap();
}

#[test]
fn oauthbearer_needs_its_endpoint_and_client_credentials() {
    let base = [
        ("schema.registry.url", "http://sr:8081"),
        ("bearer.auth.credentials.source", "OAUTHBEARER"),
        ("bearer.auth.issuer.endpoint.url", "https://idp/token"),
        ("bearer.auth.client.id", "sr-client"),
        ("bearer.auth.client.secret", "s3cret"),
    ];
    let config = RegistryConfig::from_properties(base).unwrap();
    let kafka_schema_registry::Auth::OAuthBearer(credentials) = &config.auth else {
        panic!("{:?}", config.auth);
    };
    assert_eq!(credentials.scope_claim_name, "scope");
    assert_eq!(credentials.sub_claim_name, "sub");
    assert_eq!(credentials.cache_expiry_buffer, Duration::from_secs(300));
    for missing in [
        "bearer.auth.issuer.endpoint.url",
        "bearer.auth.client.id",
        "bearer.auth.client.secret",
    ] {
        let err =
            RegistryConfig::from_properties(base.iter().copied().filter(|(k, _)| *k != missing))
                .unwrap_err();
        assert_eq!(err.key, missing);
        assert!(err.to_string().contains("OAUTHBEARER"), "{err}");
    }
    let err = RegistryConfig::from_properties(
        base.iter()
            .copied()
            .chain([("bearer.auth.cache.expiry.buffer.seconds", "-5")]),
    )
    .unwrap_err();
    assert_eq!(err.key, "bearer.auth.cache.expiry.buffer.seconds");
    let err = RegistryConfig::from_properties([
        ("schema.registry.url", "http://sr:8081"),
        ("bearer.auth.credentials.source", "SASL_OAUTHBEARER_INHERIT"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("OAUTHBEARER"), "{err}");
}

#[test]
fn a_token_from_a_file_needs_no_client_credentials() {
    // Kafka's FileJwtRetriever, which a Kafka client's OAuth login (and so
    // SASL_OAUTHBEARER_INHERIT) may use: the file's token, read as it is.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token.jwt");
    std::fs::write(&file, format!("{JWT}\n")).unwrap();
    let (url, server) = scripted_server(vec![(200, r#"{"id":7}"#)]);
    let endpoint = format!("file://{}", file.display());
    let c = client(&[
        ("schema.registry.url", &url),
        ("bearer.auth.credentials.source", "OAUTHBEARER"),
        ("bearer.auth.issuer.endpoint.url", &endpoint),
    ]);
    assert_eq!(c.register("orders-value", &Schema::avro(V1)).unwrap(), 7);
    let requests = server.join().unwrap();
    assert!(
        requests[0].contains(&format!("\r\nauthorization: Bearer {JWT}\r\n")),
        "{}",
        requests[0]
    );
    // A file that is not there: an error naming it, not retried.
    let missing = format!("file://{}", dir.path().join("none.jwt").display());
    let err = client(&[
        ("schema.registry.url", "http://127.0.0.1:9"),
        ("bearer.auth.credentials.source", "OAUTHBEARER"),
        ("bearer.auth.issuer.endpoint.url", &missing),
    ])
    .register("orders-value", &Schema::avro(V1))
    .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Token {
                retriable: false,
                ..
            }
        ) && err.to_string().contains("none.jwt"),
        "{err}"
    );
}
