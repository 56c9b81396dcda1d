//! TLS and SASL against a real broker: `scripts/kafka start --security` (one
//! broker of its own, shared by the scenarios of this file, which run in one test
//! so the broker is stopped at the end). The producer is configured with exactly
//! the Java client properties `scripts/kafka client-properties` prints, and what
//! landed is read back by Kafka's own console consumer through the same listener.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use futures_util::future::{BoxFuture, FutureExt};
use kafka_core::config::{Password, ProducerConfig};
use kafka_core::network::sasl::{OAuthToken, SaslMechanism, SaslSession, TokenProvider};
use kafka_core::network::{AuthFailure, NetworkError, SecurityProtocol, TlsFailure};
use kafka_core::{KafkaError, KafkaProducer, MetricsSnapshot, ProducerRecord};
use kafka_testkit::Cluster;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn producer(bootstrap: &str, props: &[(String, String)], extra: &[(&str, &str)]) -> KafkaProducer {
    let mut all: Vec<(String, String)> = vec![("bootstrap.servers".into(), bootstrap.into())];
    all.extend(props.iter().cloned());
    all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = ProducerConfig::from_properties(all).unwrap_or_else(|e| panic!("config: {e}"));
    KafkaProducer::new(config).expect("producer starts")
}

/// Produces `count` records over `listener` with its client properties and reads
/// them back through the same listener with Kafka's console consumer.
fn produce_and_read_back(
    cluster: &Cluster,
    rt: &tokio::runtime::Runtime,
    listener: &str,
    mechanism: Option<&str>,
) {
    let what = format!("{listener} {}", mechanism.unwrap_or(""));
    let topic = cluster.create_topic("secure", 1, 1);
    let props = cluster.client_properties(listener, mechanism);
    let bootstrap = cluster.listener_bootstrap(listener);
    rt.block_on(async {
        let producer = producer(&bootstrap, &props, &[("max.block.ms", "20000")]);
        let mut handles = Vec::new();
        for i in 0..5 {
            let record = ProducerRecord::new(topic.clone(), format!("{what} #{i}"))
                .with_key(format!("k{i}"));
            handles.push(
                producer
                    .send(record)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: send failed: {}", e.error())),
            );
        }
        for handle in handles {
            handle
                .await
                .unwrap_or_else(|e| panic!("{what}: not delivered: {e}"));
        }
        producer.close(Duration::from_secs(10)).await;
    });
    let records = cluster.read_all_through(&topic, 5, listener, mechanism);
    let values: Vec<String> = records.iter().filter_map(|r| r.value_str()).collect();
    let expected: Vec<String> = (0..5).map(|i| format!("{what} #{i}")).collect();
    assert_eq!(values, expected, "{what}");
}

/// Sends one record with these properties and returns the error `send` gives.
fn send_error(
    rt: &tokio::runtime::Runtime,
    bootstrap: &str,
    props: &[(String, String)],
    topic: &str,
) -> KafkaError {
    send_error_and_metrics(rt, bootstrap, props, topic).0
}

/// [`send_error`], and the producer's metrics after it.
fn send_error_and_metrics(
    rt: &tokio::runtime::Runtime,
    bootstrap: &str,
    props: &[(String, String)],
    topic: &str,
) -> (KafkaError, MetricsSnapshot) {
    rt.block_on(async {
        let producer = producer(
            bootstrap,
            props,
            &[("max.block.ms", "15000"), ("reconnect.backoff.ms", "50")],
        );
        let error = producer
            .send(ProducerRecord::new(topic.to_owned(), "never"))
            .await
            .expect_err("send must fail");
        producer.close(Duration::from_secs(1)).await;
        (error.error().clone(), producer.metrics())
    })
}

/// The TLS failure `error` carries; anything else fails the test.
fn tls_failure(error: &KafkaError) -> &TlsFailure {
    match error {
        KafkaError::Network(NetworkError::Tls { reason, .. }) => reason,
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}

fn set(props: &mut Vec<(String, String)>, key: &str, value: &str) {
    props.retain(|(k, _)| k != key);
    props.push((key.to_owned(), value.to_owned()));
}

/// A TCP forwarder that counts the connections made through it.
struct CountingProxy {
    address: String,
    accepted: Arc<AtomicUsize>,
}

async fn counting_proxy(target: String) -> CountingProxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    CountingProxy { address, accepted }
}

/// Log lines of kafka-core's network module, to see re-authentications happen.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn count(&self, what: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(what)
            .count()
    }
}

/// An unsigned JWT for `subject`, valid for an hour.
fn unsigned_jwt(subject: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = format!(r#"{{"sub":"{subject}","iat":{now},"exp":{}}}"#, now + 3600);
    format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none"}"#),
        b64.encode(claims)
    )
}

/// A token source of the application's own (a call to a secrets service),
/// whose fetch takes `delay`; counts its fetches.
#[derive(Debug)]
struct OwnTokens {
    subject: &'static str,
    delay: Duration,
    calls: AtomicUsize,
}

impl OwnTokens {
    fn new(subject: &'static str, delay: Duration) -> Arc<Self> {
        Arc::new(OwnTokens {
            subject,
            delay,
            calls: AtomicUsize::new(0),
        })
    }
}

impl TokenProvider for OwnTokens {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, String>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(self.delay).await;
            let now = SystemTime::now();
            Ok(OAuthToken {
                value: Password::new(unsigned_jwt(self.subject)),
                principal: self.subject.into(),
                issued_at: now,
                expires_at: now + Duration::from_secs(3600),
            })
        }
        .boxed()
    }

    fn principal(&self) -> String {
        self.subject.into()
    }
}

/// A mechanism of the application's own, through the `SaslMechanism` trait
/// (how GSSAPI or AWS_MSK_IAM would plug in): PLAIN, written here, its
/// message made when each connection authenticates; counts the exchanges.
#[derive(Debug)]
struct OwnPlain {
    user: &'static str,
    password: &'static str,
    exchanges: AtomicUsize,
}

/// PLAIN is one message (RFC 4616); the broker's empty answer ends it.
struct OwnPlainSession(Vec<u8>);

impl SaslSession for OwnPlainSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(std::mem::take(&mut self.0))
    }

    fn evaluate(&mut self, answer: &[u8]) -> Result<Option<Vec<u8>>, AuthFailure> {
        assert!(answer.is_empty(), "PLAIN's answer is empty: {answer:?}");
        Ok(None)
    }
}

impl SaslMechanism for OwnPlain {
    fn name(&self) -> &str {
        "PLAIN"
    }

    fn principal(&self) -> String {
        self.user.to_owned()
    }

    fn start(&self) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthFailure>> {
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        async {
            let message = format!("\0{}\0{}", self.user, self.password).into_bytes();
            Ok(Box::new(OwnPlainSession(message)) as Box<dyn SaslSession>)
        }
        .boxed()
    }
}

/// An OIDC token endpoint on loopback answering every client-credentials
/// request with an unsigned JWT for `svc-orders` (which the broker's unsecured
/// validator accepts); counts the requests. With `tls` (a PEM certificate and
/// key for localhost), over HTTPS.
async fn token_endpoint(tls: Option<(&Path, &Path)>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls.map(|(cert, key)| {
        let chain = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let url = match acceptor {
        Some(_) => format!("https://localhost:{port}/oauth2/token"),
        None => format!("http://127.0.0.1:{port}/oauth2/token"),
    };
    let requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(socket) = acceptor.accept(socket).await {
                            answer_token_request(socket, count).await;
                        }
                    }
                    None => answer_token_request(socket, count).await,
                }
            });
        }
    });
    (url, requests)
}

async fn answer_token_request(
    mut socket: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    count: Arc<AtomicUsize>,
) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&request).contains("grant_type=client_credentials") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    count.fetch_add(1, Ordering::SeqCst);
    let token = unsigned_jwt("svc-orders");
    let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#);
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(answer.as_bytes()).await;
    let _ = socket.shutdown().await;
}

#[test]
fn tls_and_sasl_against_a_secured_broker() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("kafka_core::network=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let cluster = Cluster::start_secured(1);
    let rt = runtime();

    // --- produce and read back on every listener and mechanism -----------------
    for (listener, mechanism) in [
        ("SSL", None),
        // A broker certificate naming localhost in its CN alone, no SAN:
        // accepted as Java's HostnameChecker accepts it.
        ("SSL_CN", None),
        ("MTLS", None),
        ("SASL_PLAINTEXT", Some("PLAIN")),
        ("SASL_PLAINTEXT", Some("SCRAM-SHA-256")),
        ("SASL_PLAINTEXT", Some("SCRAM-SHA-512")),
        ("SASL_PLAINTEXT", Some("OAUTHBEARER")),
        ("SASL_SSL", Some("SCRAM-SHA-512")),
    ] {
        produce_and_read_back(&cluster, &rt, listener, mechanism);
    }

    // --- OAUTHBEARER with the OIDC client-credentials login (KIP-768) -----------
    let topic = cluster.create_topic("secure-oidc", 1, 1);
    let (url, token_requests) = rt.block_on(token_endpoint(None));
    let oidc: Vec<(String, String)> = [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "OAUTHBEARER"),
        (
            "sasl.login.callback.handler.class",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
        ),
        ("sasl.oauthbearer.token.endpoint.url", url.as_str()),
        (
            "sasl.jaas.config",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             clientId=\"svc-orders\" clientSecret=\"oidc-secret\" scope=\"kafka\";",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    rt.block_on(async {
        let producer = producer(&cluster.listener_bootstrap("SASL_PLAINTEXT"), &oidc, &[]);
        producer
            .send(ProducerRecord::new(topic.clone(), "oidc"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered with an OIDC token");
        producer.close(Duration::from_secs(10)).await;
    });
    // One token, cached for the producer's connections (bootstrap and broker).
    assert_eq!(token_requests.load(Ordering::SeqCst), 1);

    // Over HTTPS with a private CA: trusted through the login module's own
    // ssl.* options, as in Java (the producer's ssl.* are for the brokers).
    let tls = cluster.tls_dir();
    let (https_url, https_requests) = rt.block_on(token_endpoint(Some((
        &tls.join("broker.pem"),
        &tls.join("broker.key"),
    ))));
    let mut https_oidc = oidc.clone();
    for (key, value) in &mut https_oidc {
        match key.as_str() {
            "sasl.oauthbearer.token.endpoint.url" => *value = https_url.clone(),
            "sasl.jaas.config" => {
                *value = format!(
                    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
                     clientId=\"svc-orders\" clientSecret=\"oidc-secret\" \
                     ssl.truststore.location=\"{}\" ssl.truststore.type=\"PEM\";",
                    tls.join("ca.pem").display()
                )
            }
            _ => {}
        }
    }
    rt.block_on(async {
        let producer = producer(
            &cluster.listener_bootstrap("SASL_PLAINTEXT"),
            &https_oidc,
            &[],
        );
        producer
            .send(ProducerRecord::new(topic.clone(), "oidc over https"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered with a token fetched over HTTPS");
        producer.close(Duration::from_secs(10)).await;
    });
    assert_eq!(https_requests.load(Ordering::SeqCst), 1);

    // An application's own token source, through the async TokenProvider trait.
    let provider = OwnTokens::new("own-app", Duration::ZERO);
    rt.block_on(async {
        let config = ProducerConfig::builder()
            .bootstrap_servers(cluster.listener_bootstrap("SASL_PLAINTEXT"))
            .security_protocol(SecurityProtocol::SaslPlaintext)
            .oauth_token_provider(provider.clone())
            .build()
            .expect("config");
        let producer = KafkaProducer::new(config).expect("producer");
        producer
            .send(ProducerRecord::new(topic.clone(), "own provider"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered with the application's token");
        producer.close(Duration::from_secs(10)).await;
    });
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);

    // A token that takes longer to fetch than a connection may take to set
    // up: fetched before the connection's timer starts (as Java's login is
    // apart from its connections), once for all of them.
    let slow = OwnTokens::new("slow-idp", Duration::from_millis(1500));
    rt.block_on(async {
        let config = ProducerConfig::builder()
            .bootstrap_servers(cluster.listener_bootstrap("SASL_PLAINTEXT"))
            .security_protocol(SecurityProtocol::SaslPlaintext)
            .oauth_token_provider(slow.clone())
            .socket_connection_setup_timeout(Duration::from_millis(1000))
            .socket_connection_setup_timeout_max(Duration::from_millis(1000))
            .max_block(Duration::from_secs(20))
            .build()
            .expect("config");
        let producer = KafkaProducer::new(config).expect("producer");
        producer
            .send(ProducerRecord::new(topic.clone(), "slow provider"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered with a token slower than the setup timeout");
        producer.close(Duration::from_secs(10)).await;
    });
    assert_eq!(slow.calls.load(Ordering::SeqCst), 1);
    let values: Vec<_> = cluster
        .read_all_through(&topic, 4, "SASL_PLAINTEXT", Some("PLAIN"))
        .iter()
        .filter_map(|r| r.value_str())
        .collect();
    assert_eq!(
        values,
        ["oidc", "oidc over https", "own provider", "slow provider"]
    );

    // An application's own mechanism: the broker accepts it, and a wrong
    // password in it is the broker's refusal, not a retry loop.
    let topic = cluster.create_topic("secure-own-mechanism", 1, 1);
    let own_producer = |password: &'static str| {
        let mechanism = Arc::new(OwnPlain {
            user: "alice",
            password,
            exchanges: AtomicUsize::new(0),
        });
        let config = ProducerConfig::builder()
            .bootstrap_servers(cluster.listener_bootstrap("SASL_PLAINTEXT"))
            .security_protocol(SecurityProtocol::SaslPlaintext)
            .sasl_mechanism(mechanism.clone())
            .max_block(Duration::from_secs(10))
            .build()
            .expect("config");
        (KafkaProducer::new(config).expect("producer"), mechanism)
    };
    rt.block_on(async {
        let (producer, mechanism) = own_producer("alice-secret");
        producer
            .send(ProducerRecord::new(topic.clone(), "own mechanism"))
            .await
            .expect("send accepted")
            .await
            .expect("delivered through the application's mechanism");
        producer.close(Duration::from_secs(10)).await;
        assert!(mechanism.exchanges.load(Ordering::SeqCst) >= 1);

        let (producer, _) = own_producer("wrong");
        let error = producer
            .send(ProducerRecord::new(topic.clone(), "never"))
            .await
            .expect_err("the broker refuses the credentials");
        match error.error() {
            KafkaError::Network(NetworkError::Authentication {
                mechanism,
                principal,
                reason: AuthFailure::Rejected { .. },
                ..
            }) => assert_eq!((mechanism.as_str(), principal.as_str()), ("PLAIN", "alice")),
            other => panic!("own mechanism, wrong password: {other:?}"),
        }
        producer.close(Duration::from_secs(10)).await;
    });
    let values: Vec<_> = cluster
        .read_all_through(&topic, 1, "SASL_PLAINTEXT", Some("PLAIN"))
        .iter()
        .filter_map(|r| r.value_str())
        .collect();
    assert_eq!(values, ["own mechanism"]);

    // --- PEM stores and inline PEM (KIP-651) -----------------------------------
    let tls = cluster.tls_dir();
    let read = |name: &str| std::fs::read_to_string(tls.join(name)).expect("harness PEM file");
    let topic = cluster.create_topic("secure-pem", 1, 1);
    let pem_variants: Vec<Vec<(String, String)>> = vec![
        vec![
            ("security.protocol".into(), "SSL".into()),
            ("ssl.truststore.type".into(), "PEM".into()),
            (
                "ssl.truststore.location".into(),
                tls.join("ca.pem").display().to_string(),
            ),
            ("ssl.keystore.type".into(), "PEM".into()),
            ("ssl.keystore.certificate.chain".into(), read("client.pem")),
            ("ssl.keystore.key".into(), read("client.key")),
        ],
        vec![
            ("security.protocol".into(), "SSL".into()),
            ("ssl.truststore.certificates".into(), read("ca.pem")),
            ("ssl.enabled.protocols".into(), "TLSv1.2".into()),
            ("ssl.keystore.type".into(), "PEM".into()),
            ("ssl.keystore.certificate.chain".into(), read("client.pem")),
            ("ssl.keystore.key".into(), read("client.key")),
        ],
        // Each value on one line, as a `.properties` continuation or an
        // environment variable gives it: Java's PemParser reads it.
        vec![
            ("security.protocol".into(), "SSL".into()),
            (
                "ssl.truststore.certificates".into(),
                one_line(&read("ca.pem")),
            ),
            ("ssl.keystore.type".into(), "PEM".into()),
            (
                "ssl.keystore.certificate.chain".into(),
                one_line(&read("client.pem")),
            ),
            ("ssl.keystore.key".into(), one_line(&read("client.key"))),
        ],
    ];
    for props in &pem_variants {
        rt.block_on(async {
            let producer = producer(&cluster.listener_bootstrap("MTLS"), props, &[]);
            producer
                .send(ProducerRecord::new(topic.clone(), "pem"))
                .await
                .expect("send accepted")
                .await
                .expect("delivered over mTLS with PEM material");
            producer.close(Duration::from_secs(10)).await;
        });
    }
    assert_eq!(cluster.read_all(&topic, 3).len(), 3);

    // --- failures: each its own error, reported by `send` ----------------------
    let topic = cluster.create_topic("secure-errors", 1, 1);

    // Wrong password: counted connection attempts, bounded by the reconnect backoff.
    let mut wrong = cluster.client_properties("SASL_PLAINTEXT", Some("SCRAM-SHA-512"));
    set(
        &mut wrong,
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required \
         username=\"alice\" password=\"not-the-password\";",
    );
    let target = cluster.listener_bootstrap("SASL_PLAINTEXT");
    let proxy = rt.block_on(counting_proxy(target));
    let error = send_error(&rt, &proxy.address, &wrong, &topic);
    match &error {
        KafkaError::Network(NetworkError::Authentication {
            mechanism,
            principal,
            reason: AuthFailure::Rejected { .. },
            ..
        }) => {
            assert_eq!(mechanism, "SCRAM-SHA-512");
            assert_eq!(principal, "alice");
        }
        other => panic!("wrong password: expected an authentication error, got {other:?}"),
    }
    assert!(!error.is_retriable());
    let message = error.to_string();
    assert!(message.contains(&proxy.address), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
    // The producer was closed right after the error: few attempts were made, and
    // the backoff (50 ms doubling) kept them apart.
    let attempts = proxy.accepted.load(Ordering::SeqCst);
    assert!(
        (1..=8).contains(&attempts),
        "{attempts} connection attempts"
    );
    // A producer left running keeps backing off: within 3 s at most ~8 attempts
    // (50+100+200+400+800+1000 ms ...), not a storm.
    let proxy = rt.block_on(counting_proxy(cluster.listener_bootstrap("SASL_PLAINTEXT")));
    rt.block_on(async {
        let producer = producer(
            &proxy.address,
            &wrong,
            &[
                ("reconnect.backoff.ms", "50"),
                ("reconnect.backoff.max.ms", "1000"),
            ],
        );
        let _ = producer.send(ProducerRecord::new(topic.clone(), "x")).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        producer.close(Duration::from_secs(1)).await;
    });
    let attempts = proxy.accepted.load(Ordering::SeqCst);
    assert!((2..=12).contains(&attempts), "{attempts} attempts in 3 s");

    // Unknown CA: no trust store, so the Mozilla roots, which do not hold the
    // harness CA.
    let mut untrusted = cluster.client_properties("SSL", None);
    untrusted.retain(|(k, _)| !k.starts_with("ssl.truststore"));
    let error = send_error(&rt, &cluster.listener_bootstrap("SSL"), &untrusted, &topic);
    assert!(
        matches!(tls_failure(&error), TlsFailure::UnknownIssuer { .. }),
        "unknown CA: {error:?}"
    );
    assert!(error.to_string().contains("localhost"), "{error}");

    // Host name mismatch: the certificate names localhost, not 127.0.0.1.
    let by_ip = cluster
        .listener_bootstrap("SSL")
        .replace("localhost", "127.0.0.1");
    let error = send_error(&rt, &by_ip, &cluster.client_properties("SSL", None), &topic);
    assert!(
        matches!(tls_failure(&error), TlsFailure::HostNameMismatch { .. }),
        "host name mismatch: {error:?}"
    );
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
    // ... and for a certificate that names localhost in its CN alone.
    let cn_by_ip = cluster
        .listener_bootstrap("SSL_CN")
        .replace("localhost", "127.0.0.1");
    let error = send_error(
        &rt,
        &cn_by_ip,
        &cluster.client_properties("SSL_CN", None),
        &topic,
    );
    assert!(
        matches!(tls_failure(&error), TlsFailure::HostNameMismatch { .. }),
        "host name mismatch, CN only: {error:?}"
    );
    // ... which ssl.endpoint.identification.algorithm= (empty) turns off.
    let mut no_check = cluster.client_properties("SSL", None);
    set(&mut no_check, "ssl.endpoint.identification.algorithm", "");
    rt.block_on(async {
        let producer = producer(&by_ip, &no_check, &[]);
        producer
            .send(ProducerRecord::new(topic.clone(), "by ip"))
            .await
            .expect("accepted")
            .await
            .expect("delivered without host name check");
        producer.close(Duration::from_secs(10)).await;
    });

    // A listener requiring client certificates, and none given.
    let error = send_error(
        &rt,
        &cluster.listener_bootstrap("MTLS"),
        &cluster.client_properties("SSL", None),
        &topic,
    );
    assert!(
        matches!(tls_failure(&error), TlsFailure::RefusedByBroker { .. }),
        "no client certificate: {error:?}"
    );

    // A mechanism the listener does not enable (SASL_SSL has no OAUTHBEARER).
    let (error, metrics) = send_error_and_metrics(
        &rt,
        &cluster.listener_bootstrap("SASL_SSL"),
        &cluster.client_properties("SASL_SSL", Some("OAUTHBEARER")),
        &topic,
    );
    match &error {
        KafkaError::Network(NetworkError::Authentication {
            reason: AuthFailure::MechanismNotEnabled { enabled },
            ..
        }) => assert!(enabled.contains(&"SCRAM-SHA-512".to_owned()), "{enabled:?}"),
        other => panic!("mechanism not enabled: got {other:?}"),
    }
    // Java's failed-authentication-*, and no connection counted as passed.
    assert!(metrics.failed_authentication_total >= 1, "{metrics:?}");
    assert_eq!(metrics.successful_authentication_total, 0, "{metrics:?}");

    let reauthentications_before = logs.count("re-authenticated");
    // --- re-authentication (KIP-368): the REAUTH listener ends sessions after 10 s -
    for mechanism in ["SCRAM-SHA-512", "OAUTHBEARER"] {
        let topic = cluster.create_topic("secure-reauth", 1, 1);
        let props = cluster.client_properties("REAUTH", Some(mechanism));
        let sent = rt.block_on(async {
            let producer = producer(&cluster.listener_bootstrap("REAUTH"), &props, &[]);
            let mut handles = Vec::new();
            let mut ticker = tokio::time::interval(Duration::from_millis(200));
            for i in 0..125 {
                ticker.tick().await;
                handles.push(
                    producer
                        .send(ProducerRecord::new(topic.clone(), format!("r{i}")))
                        .await
                        .expect("send accepted"),
                );
            }
            for (i, handle) in handles.into_iter().enumerate() {
                handle
                    .await
                    .unwrap_or_else(|e| panic!("{mechanism}: record {i} failed: {e}"));
            }
            // Java's successful-reauthentication-* and reauthentication-latency-*.
            let metrics = producer.metrics();
            assert!(
                metrics.successful_reauthentication_total >= 1,
                "{mechanism}: {metrics:?}"
            );
            assert_eq!(metrics.failed_reauthentication_total, 0, "{mechanism}");
            assert!(
                metrics.reauthentication_latency_max >= metrics.reauthentication_latency_avg
                    && metrics.reauthentication_latency_avg > 0.0,
                "{mechanism}: {metrics:?}"
            );
            assert!(metrics.successful_authentication_total >= 1, "{mechanism}");
            producer.close(Duration::from_secs(10)).await;
            125
        });
        let records = cluster.read_all(&topic, sent);
        assert_eq!(records.len(), sent, "{mechanism}: records lost");
    }
    // The sessions were renewed on their connections, not replaced.
    let reauthentications = logs.count("re-authenticated") - reauthentications_before;
    assert!(
        reauthentications >= 2,
        "{reauthentications} re-authentications"
    );
    assert_eq!(logs.count("re-authentication failed"), 0);
}

/// PEM text with its line breaks turned into spaces.
fn one_line(pem: &str) -> String {
    pem.split_whitespace().collect::<Vec<_>>().join(" ")
}
