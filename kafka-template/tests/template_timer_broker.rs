//! Spring's default send timer against the real broker: a template without
//! observation times each send in `spring.kafka.template` (tags `name`,
//! `result`, `exception`), as a Spring Boot service with Micrometer does, and
//! the counts agree with what Kafka's own consumer reads back. Its own test
//! binary: the Prometheus recorder is the process's global one (the outcomes
//! are timed on the producer's network thread).

use std::time::Duration;

use kafka_template::core::ProducerRecord;
use kafka_template::{KafkaConfig, KafkaTemplate};
use kafka_testkit::Kafka;
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_without_observation_times_its_sends_as_springs() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("the process's recorder");
    let kafka = Kafka::get();
    let topic = kafka.create_topic("tpl-default-timer", 3, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("application.yml"),
        format!(
            "spring:\n  kafka:\n    bootstrap-servers: {}\n    producer:\n      properties:\n        \
             max.request.size: 2000\n",
            kafka.bootstrap()
        ),
    )
    .expect("write config");
    let config = KafkaConfig::builder()
        .dir(dir.path())
        .env_source(Vec::<(String, String)>::new())
        .load()
        .expect("config loads");
    let template = KafkaTemplate::builder()
        .config(config)
        .build()
        .expect("template");
    // Each send is timed within the time its `send` took.
    let mut waited = Duration::ZERO;
    for i in 0..7 {
        let started = std::time::Instant::now();
        template
            .send(ProducerRecord::new(topic.clone(), format!("order-{i}")))
            .await
            .expect("delivered");
        waited += started.elapsed();
    }
    // Larger than max.request.size: refused, as Java refuses it with a
    // RecordTooLargeException.
    let refused = template
        .send(ProducerRecord::new(topic.clone(), "x".repeat(5_000)))
        .await;
    assert!(refused.is_err());
    // A negative timestamp: Java's send throws (IllegalArgumentException)
    // before its callback, so Spring's template timer never hears of it.
    let mut dated = ProducerRecord::new(topic.clone(), "then");
    dated.timestamp = Some(-5);
    assert!(template.send(dated).await.is_err());
    assert_eq!(template.close(Duration::from_secs(10)).await, 0);

    let landed = kafka.read_all(&topic, 7);
    assert_eq!(landed.len(), 7);
    let text = handle.render();
    let value = |series: &str, tags: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{series}{{{tags}}} ")))
            .unwrap_or_else(|| panic!("{series} {tags} in {text}"))
            .parse::<f64>()
            .expect("a number")
    };
    let count = |tags: &str| value("spring_kafka_template_seconds_count", tags) as u64;
    const SUCCESS: &str = r#"exception="none",name="kafkaTemplate",result="success""#;
    assert_eq!(count(SUCCESS), landed.len() as u64);
    let timed = value("spring_kafka_template_seconds_sum", SUCCESS);
    assert!(
        timed > 0.0 && timed <= waited.as_secs_f64(),
        "the sends took {waited:?} in all, the timer says {timed} s"
    );
    assert_eq!(
        count(r#"exception="RecordTooLargeException",name="kafkaTemplate",result="failure""#),
        1
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("spring_kafka_template_seconds_count"))
            .count(),
        2,
        "{text}"
    );
}
