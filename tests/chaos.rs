//! The short form of the project's broker-failure run (see
//! `kafka_integration_tests::chaos`): three brokers, replication factor 3,
//! `min.insync.replicas=2`, an idempotent `acks=all` producer at a fixed pace
//! while two brokers are killed with SIGKILL and restarted, one at a time. Kafka's
//! own Java consumer then finds every acknowledged record exactly once, where its
//! acknowledgement said, in send order per partition. The long form with
//! connection cuts and stalls is `scripts/chaos --minutes N`.

use std::sync::Arc;
use std::time::Duration;

use kafka_integration_tests::chaos::{self, Plan};
use kafka_testkit::Cluster;

/// The run itself, once the cluster is up.
const LIMIT: Duration = Duration::from_secs(90);

#[test]
fn acknowledged_records_survive_brokers_killed_and_restarted_one_at_a_time() {
    let cluster = Arc::new(Cluster::start(3, None));
    let runtime = chaos::runtime();
    let figures = runtime.block_on(async {
        tokio::time::timeout(LIMIT, chaos::run(cluster.clone(), Plan::short()))
            .await
            .unwrap_or_else(|_| panic!("the chaos run did not finish within {LIMIT:?}"))
    });
    eprintln!("{figures}");
    assert_eq!(figures.kills, 2, "{figures}");
    assert!(figures.clean(), "{figures}");
    assert!(figures.acknowledged > 0, "{figures}");
    // With the default delivery.timeout.ms (2 min) and a broker always left in
    // the ISR, nothing should fail at all.
    assert_eq!(
        figures.acknowledged, figures.sent,
        "every record should be acknowledged: {figures}"
    );
}
