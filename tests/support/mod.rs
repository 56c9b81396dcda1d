//! Helpers shared by the producer test binaries: a producer from properties, a
//! runtime with a time limit (a hung producer fails the test instead of CI), and
//! awaiting every delivery handle.

use std::future::Future;
use std::time::Duration;

use kafka_core::{DeliveryFuture, KafkaProducer, ProducerConfig, RecordMetadata};

/// A producer for `bootstrap` with these extra properties (Java names).
pub fn producer(bootstrap: &str, props: &[(&str, &str)]) -> KafkaProducer {
    let mut all = vec![("bootstrap.servers", bootstrap)];
    all.extend_from_slice(props);
    let config = ProducerConfig::from_properties(all.iter().copied())
        .unwrap_or_else(|e| panic!("producer config {all:?} is invalid: {e}"));
    KafkaProducer::new(config).expect("the producer starts inside a runtime")
}

/// Runs `test` on a two-thread runtime (the sender task runs beside the sends, as
/// in an application) and fails when it takes longer than `limit`.
pub fn run<F: Future>(limit: Duration, test: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        tokio::time::timeout(limit, test)
            .await
            .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
    })
}

/// Awaits every handle in send order; a failed record fails the test, naming it.
pub async fn await_all(handles: Vec<DeliveryFuture>) -> Vec<RecordMetadata> {
    let mut acknowledged = Vec::with_capacity(handles.len());
    for (i, handle) in handles.into_iter().enumerate() {
        match handle.await {
            Ok(metadata) => acknowledged.push(metadata),
            Err(e) => panic!("record #{i} was not delivered: {e}"),
        }
    }
    acknowledged
}
