//! The producer's core guarantees against a Kafka 3.9 (KRaft) broker, the same
//! scenarios `producer_broker` runs against the pinned 4.x: keyed exactly-once
//! delivery and order, every codec, every acks level, and the unknown-topic error.

mod scenarios;
mod support;

use std::time::Duration;

use kafka_testkit::Cluster;

#[test]
fn core_scenarios_pass_against_kafka_3_9() {
    // One cluster for every scenario: starting a broker is the expensive part.
    let cluster = Cluster::start(1, Some("3.9.1"));
    let status = cluster.script(&["status"]);
    assert!(
        status.starts_with("Kafka 3.9.1,"),
        "not a 3.9.1 cluster: {status}"
    );
    support::run(Duration::from_secs(240), async {
        scenarios::keyed_records_exactly_once_in_order(&cluster, 20_000).await;
        scenarios::every_codec_reads_back_identically(&cluster, 1_000).await;
        scenarios::acks_levels_deliver(&cluster).await;
        scenarios::unknown_topic_fails_after_max_block(&cluster).await;
    });
}
