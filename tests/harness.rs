//! The test harness itself, proven against the real broker: records written with
//! Kafka's own console producer come back through the test kit's reader, and the
//! script's multi-broker cluster really has three brokers.

use kafka_testkit::{Cluster, Kafka};

#[test]
fn console_producer_records_read_back_through_the_testkit_reader() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("harness", 3, 1);
    let sent = [
        (Some("alpha"), "first value"),
        (Some("beta"), "second value"),
        (Some("alpha"), "third value"),
    ];
    kafka.produce_with_console(&topic, &sent);

    let records = kafka.read_all(&topic, sent.len());
    assert_eq!(records.len(), 3, "records read back: {records:?}");
    for record in &records {
        assert_eq!(record.topic, topic);
        assert!((0..3).contains(&record.partition));
        assert_eq!(record.timestamp_type, "CreateTime");
        assert!(record.timestamp > 1_600_000_000_000);
        assert!(record.headers.is_empty());
    }
    // Equal keys share a partition and keep their order there.
    let alphas: Vec<_> = records
        .iter()
        .filter(|r| r.key_str().as_deref() == Some("alpha"))
        .collect();
    assert_eq!(alphas.len(), 2);
    assert_eq!(alphas[0].partition, alphas[1].partition);
    assert_eq!(alphas[0].value_str().as_deref(), Some("first value"));
    assert_eq!(alphas[1].value_str().as_deref(), Some("third value"));
    assert!(alphas[0].offset < alphas[1].offset);
    let mut values: Vec<_> = records.iter().filter_map(|r| r.value_str()).collect();
    values.sort();
    assert_eq!(values, ["first value", "second value", "third value"]);
}

#[test]
fn keyless_console_records_have_null_keys() {
    let kafka = Kafka::get();
    let topic = kafka.create_topic("harness-keyless", 1, 1);
    kafka.produce_with_console(&topic, &[(None, "v1"), (None, "v2")]);
    let records = kafka.read_all(&topic, 2);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.key.is_none()));
    assert_eq!(records[0].offset, 0);
    assert_eq!(records[1].offset, 1);
}

#[test]
fn three_broker_cluster_lists_three_brokers_and_holds_replication_factor_three() {
    let cluster = Cluster::start(3, None);
    assert_eq!(cluster.broker_ids(), vec![1, 2, 3]);
    let topic = cluster.create_topic("rf3", 3, 3);
    cluster.produce_with_console(&topic, &[(Some("k"), "replicated")]);
    let records = cluster.read_all(&topic, 1);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value_str().as_deref(), Some("replicated"));
    cluster.stop();
    assert!(
        !java_process_running_with(&cluster.state_marker()),
        "a broker JVM of this cluster survived stop"
    );
}

/// Whether any process's command line mentions `marker`.
fn java_process_running_with(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .any(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
}

#[test]
fn the_harness_broker_has_no_time_retention_so_old_create_times_stay() {
    // Tests send records with fixed CreateTimes years old; Kafka's default
    // 7-day retention would delete them at its next check (every 5 min), in
    // the middle of whichever test was between its send and its read-back.
    let kafka = Kafka::get();
    let described = kafka.tool(
        "kafka.admin.ConfigCommand",
        &[
            "--entity-type",
            "brokers",
            "--entity-name",
            "1",
            "--describe",
            "--all",
        ],
    );
    assert!(
        described
            .lines()
            .any(|line| line.trim_start().starts_with("log.retention.ms=-1 ")),
        "{described}"
    );
}
