//! The template is injected into every task of a service, its sends run on
//! multi-threaded runtimes and its errors travel through `anyhow`: a type
//! losing `Send` or `Sync` fails to compile here.

use kafka_template::{
    ConfigLoadError, FailureJournal, KafkaConfig, KafkaTemplate, KafkaTemplateBuilder,
    MockProducer, PendingSend, SendResult, TemplateError, Transaction,
};

fn shared<T: Send + Sync + 'static>() {}
fn sendable<T: Send + 'static>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn the_template_its_results_and_errors_cross_threads() {
    shared::<KafkaTemplate>();
    shared::<KafkaConfig>();
    shared::<MockProducer>();
    shared::<FailureJournal>();
    shared::<SendResult>();
    sendable::<PendingSend>();
    sendable::<KafkaTemplateBuilder>();
    sendable::<Transaction>();
    error::<TemplateError>();
    error::<ConfigLoadError>();
}

#[test]
fn a_send_is_a_future_a_spawned_task_can_hold() {
    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
    let template = KafkaTemplate::with_mock(MockProducer::new(1));
    let sends = template.clone();
    spawnable(async move {
        let _ = sends
            .send(kafka_template::ProducerRecord::new("orders", "x"))
            .await;
        let pending = sends
            .enqueue(kafka_template::ProducerRecord::new("orders", "y"))
            .await;
        if let Ok(pending) = pending {
            let _ = pending.await;
        }
    });
    spawnable(async move { template.close(std::time::Duration::from_secs(1)).await });
}
