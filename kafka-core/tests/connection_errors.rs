//! Connection problems are said first and early: an unresolvable bootstrap
//! host fails the build (as Java's "No resolvable bootstrap urls"), and a send
//! to a cluster nobody listens on names the connection failure, not a missing
//! topic. The messages are pinned, `Debug` included (what `main` prints).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use kafka_core::{KafkaError, KafkaProducer, ProducerConfig, ProducerRecord};

fn config(props: &[(&str, &str)]) -> ProducerConfig {
    ProducerConfig::from_properties(props.iter().copied()).expect("valid config")
}

#[test]
fn an_unresolvable_bootstrap_host_is_refused_when_the_producer_is_built() {
    let error = KafkaProducer::new(config(&[(
        "bootstrap.servers",
        "no-such-broker.invalid:9092",
    )]))
    .expect_err("nothing resolves");
    let KafkaError::Config(config_error) = &error else {
        panic!("expected a configuration error, got {error:?}");
    };
    assert_eq!(config_error.key(), "bootstrap.servers");
    assert_eq!(config_error.value(), Some("no-such-broker.invalid:9092"));
    let message = error.to_string();
    assert!(
        message.starts_with(
            "no resolvable bootstrap urls given in bootstrap.servers (no-such-broker.invalid:9092): \
             no-such-broker.invalid:9092 ("
        ),
        "{message}"
    );
    assert!(
        message.ends_with("; check the host names and that this machine can resolve them"),
        "{message}"
    );
    // What `fn main() -> Result<(), Box<dyn Error>>` prints.
    assert_eq!(format!("{error:?}"), message);
}

#[test]
fn one_resolvable_bootstrap_address_is_enough() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();
    KafkaProducer::new(config(&[(
        "bootstrap.servers",
        "no-such-broker.invalid:9092,127.0.0.1:9092",
    )]))
    .expect("one address resolves, as in Java");
}

#[test]
fn a_send_with_nobody_listening_names_the_connection_failure_first() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let bootstrap = format!("127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let error = runtime.block_on(async {
        let producer = KafkaProducer::new(config(&[
            ("bootstrap.servers", &bootstrap),
            ("max.block.ms", "1500"),
        ]))
        .expect("the address resolves");
        match producer.send(ProducerRecord::new("orders", "hello")).await {
            Ok(_) => panic!("nothing listens at {bootstrap}"),
            Err(e) => e,
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by max.block.ms"
    );
    assert!(!error.possibly_written());
    assert!(error.error().is_before_send());
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "no broker could be reached: cannot connect to broker {bootstrap}: Connection refused"
        )),
        "{message}"
    );
    assert!(
        message.ends_with(
            "is bootstrap.servers right and is Kafka running? \
             (topic 'orders' not present in metadata after max.block.ms, 1.5s)"
        ),
        "{message}"
    );
    // Debug reads as Display, then names the record without its bytes.
    assert_eq!(
        format!("{error:?}"),
        format!("{message}\n\nRecord: topic 'orders', key null, value 5 bytes, 0 header(s)")
    );
}

#[test]
fn a_producer_dropped_with_nothing_buffered_does_not_wait() {
    let producer = KafkaProducer::builder(config(&[("bootstrap.servers", "127.0.0.1:9")]))
        .close_timeout(Duration::from_secs(60))
        .build()
        .expect("starts without a runtime of the caller's");
    let started = Instant::now();
    drop(producer);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_send_refused_before_sending_runs_its_callback_once_and_a_drop_outside_any_runtime_is_fine() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let bootstrap = format!("127.0.0.1:{port}");
    let producer = KafkaProducer::builder(config(&[
        ("bootstrap.servers", &bootstrap),
        ("max.block.ms", "2000"),
    ]))
    .close_timeout(Duration::from_millis(500))
    .build()
    .expect("producer");
    // Nothing listens: the send itself fails within max.block.ms, with its
    // record, and its callback hears that, once, before the send returns.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sent = runtime.block_on(producer.send_with_callback(
        ProducerRecord::new("orders", "x"),
        move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        },
    ));
    drop(runtime);
    let refused = sent.expect_err("no broker within max.block.ms");
    assert!(refused.refused_before_sending(), "{refused:?}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the callback ran as the send returned"
    );
    drop(producer);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "and only then");
}

#[test]
fn a_transactional_producer_refuses_sends_outside_a_transaction() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let producer = KafkaProducer::new(config(&[
        ("bootstrap.servers", "127.0.0.1:9092"),
        ("transactional.id", "orders-tx"),
    ]))
    .expect("transactional.id is supported");
    let refused = runtime
        .block_on(producer.send(kafka_core::ProducerRecord::new("orders", "v")))
        .expect_err("no transaction in progress");
    assert!(refused.error().is_before_send(), "{refused}");
    assert!(
        matches!(
            refused.error(),
            kafka_core::KafkaError::Transaction(kafka_core::TransactionError::InvalidState { .. })
        ),
        "{refused:?}"
    );
    assert_eq!(
        producer.begin_transaction().unwrap_err().to_string(),
        "cannot begin a transaction while the producer is uninitialized (init_transactions not \
         called): call init_transactions first"
    );
    assert!(
        refused.to_string().contains("call begin_transaction first"),
        "{refused}"
    );
}
