//! Spring's send timer, `spring.kafka.template`, in a Prometheus scrape as
//! `spring_kafka_template_seconds_count` / `_sum`: with
//! `template.observation-enabled`, as Micrometer's default meter handler times
//! Spring Kafka's observation, with its tags; without, as Spring's template
//! times its sends by default (`MicrometerHolder`: `name`, `result`,
//! `exception`). Failures are tagged with the Java client's exception names.

mod config_common;

use config_common::load_yaml;
use kafka_template::core::{KafkaError, ProducerRecord};
use kafka_template::{KafkaTemplate, MockProducer};
use metrics_exporter_prometheus::PrometheusBuilder;

/// The lines of the Prometheus text whose name starts with `name`.
fn lines<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(name)).collect()
}

#[test]
fn each_send_is_timed_as_springs_template_observation() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let mock = MockProducer::new(2);
    metrics::with_local_recorder(&recorder, || {
        let (_dir, config) = load_yaml("kafka:\n  template:\n    observation-enabled: true\n", &[]);
        let template = KafkaTemplate::mock_builder(mock.clone())
            .config(config)
            .build()
            .expect("template");
        for i in 0..3 {
            template
                .try_enqueue_with_callback(ProducerRecord::new("orders", format!("{i}")), |_| {})
                .expect("sent at once");
        }
        mock.fail_next(KafkaError::DeliveryTimeout {
            topic: "orders".into(),
            partition: 0,
            delivery_timeout: std::time::Duration::from_secs(120),
            last_error: None,
        });
        template
            .try_enqueue_with_callback(ProducerRecord::new("orders", "late"), |_| {})
            .expect("buffered");
    });
    let text = handle.render();
    let counts = lines(&text, "spring_kafka_template_seconds_count");
    let ok = counts
        .iter()
        .find(|l| l.contains("error=\"none\""))
        .unwrap_or_else(|| panic!("{text}"));
    for tag in [
        "messaging_destination_kind=\"topic\"",
        "messaging_destination_name=\"orders\"",
        "messaging_operation=\"publish\"",
        "messaging_system=\"kafka\"",
        "spring_kafka_template_name=\"kafkaTemplate\"",
    ] {
        assert!(ok.contains(tag), "{tag} in {ok}");
    }
    assert!(ok.ends_with(" 3"), "{ok}");
    let failed = counts
        .iter()
        .find(|l| l.contains("error=\"TimeoutException\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(failed.ends_with(" 1"), "{failed}");
    assert_eq!(lines(&text, "spring_kafka_template_seconds_sum").len(), 2);
}

#[test]
fn without_observation_each_send_is_timed_as_springs_template_timer() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let mock = MockProducer::new(1);
    metrics::with_local_recorder(&recorder, || {
        let template = KafkaTemplate::mock_builder(mock.clone())
            .build()
            .expect("template");
        for topic in ["orders", "payments"] {
            template
                .try_enqueue_with_callback(ProducerRecord::new(topic, "v"), |_| {})
                .expect("sent");
        }
        mock.fail_next(KafkaError::Broker {
            topic: "orders".into(),
            partition: 0,
            code: kafka_template::core::ErrorCode::NOT_ENOUGH_REPLICAS,
            message: None,
        });
        template
            .try_enqueue_with_callback(ProducerRecord::new("orders", "short"), |_| {})
            .expect("buffered");
        // A record that cannot be serialized: Spring's template timer never
        // hears of it (Java's send throws, before the callback).
        let cells = GridCells {
            cells: [((0, 0), 1)].into_iter().collect(),
        };
        assert!(template.try_enqueue_with_callback(&cells, |_| {}).is_err());
    });
    let text = handle.render();
    let counts = lines(&text, "spring_kafka_template_seconds_count");
    // One timer per outcome for the whole template, as Spring's: no topic.
    assert_eq!(counts.len(), 2, "{text}");
    assert!(
        counts.contains(
            &r#"spring_kafka_template_seconds_count{exception="none",name="kafkaTemplate",result="success"} 2"#
        ),
        "{text}"
    );
    assert!(
        counts.contains(
            &r#"spring_kafka_template_seconds_count{exception="NotEnoughReplicasException",name="kafkaTemplate",result="failure"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn micrometer_enabled_false_turns_the_template_timer_off() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        let (_dir, config) = load_yaml("kafka:\n  template:\n    micrometer-enabled: false\n", &[]);
        let template = KafkaTemplate::mock_builder(MockProducer::new(1))
            .config(config)
            .build()
            .expect("template");
        template
            .try_enqueue_with_callback(ProducerRecord::new("orders", "v"), |_| {})
            .expect("sent");
    });
    assert!(!handle.render().contains("spring_kafka_template"));
}

/// A record whose JSON value cannot be written (a map with non-text keys).
#[derive(serde::Serialize, kafka_template::KafkaRecord)]
#[kafka(topic = "grid")]
struct GridCells {
    cells: std::collections::HashMap<(i32, i32), i32>,
}

#[test]
fn sends_that_fail_before_reaching_the_producer_are_timed_with_their_error() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        // A record that cannot be serialized.
        let (_dir, config) = load_yaml("kafka:\n  template:\n    observation-enabled: true\n", &[]);
        let template = KafkaTemplate::mock_builder(MockProducer::new(1))
            .config(config)
            .build()
            .expect("template");
        let cells = GridCells {
            cells: [((0, 0), 1)].into_iter().collect(),
        };
        assert!(template.try_enqueue_with_callback(&cells, |_| {}).is_err());
        // A plain send a transactional template refuses.
        let (_dir, config) = load_yaml(
            "kafka:\n  producer:\n    transaction-id-prefix: tx-\n  template:\n    observation-enabled: true\n",
            &[],
        );
        let transactional = KafkaTemplate::mock_builder(MockProducer::new(1))
            .config(config)
            .build()
            .expect("template");
        assert!(
            transactional
                .try_enqueue_with_callback(ProducerRecord::new("orders", "v"), |_| {})
                .is_err()
        );
    });
    let text = handle.render();
    let counts = lines(&text, "spring_kafka_template_seconds_count");
    let one = |error: &str, topic: &str| {
        counts
            .iter()
            .find(|l| {
                l.contains(&format!("error=\"{error}\""))
                    && l.contains(&format!("messaging_destination_name=\"{topic}\""))
            })
            .unwrap_or_else(|| panic!("{error} {topic} in {text}"))
            .ends_with(" 1")
    };
    assert!(one("SerializationException", "grid"), "{text}");
    assert!(one("IllegalStateException", "orders"), "{text}");
    assert!(!text.contains("error=\"none\""), "{text}");
}
