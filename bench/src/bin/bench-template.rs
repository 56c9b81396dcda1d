//! The benchmark client for this project's `KafkaTemplate` with the derived Avro
//! [`BenchEvent`]: configured Spring Boot style (every setting an override of
//! the layered configuration, the topic a `${kafka.topics.bench}` placeholder),
//! sent with `enqueue_with_callback` (the batching send, a callback per record
//! as `bench-ours-avro` uses with kafka-core), the default logging listener,
//! raw Avro framing as `bench-ours-avro` uses, so the two differ only by the
//! template.

use std::process::ExitCode;

use bytes::Bytes;
use kafka_bench::event::BenchEvent;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;
use kafka_template::{AvroFraming, KafkaConfig, KafkaTemplate};

struct Template {
    template: KafkaTemplate,
}

impl BenchProducer for Template {
    async fn send(
        &mut self,
        index: u64,
        key: Option<&Bytes>,
        value: &Bytes,
        pending: Pending,
    ) -> anyhow::Result<()> {
        let event = BenchEvent::new(index, key, value)?;
        self.template
            .enqueue_with_callback(&event, move |result| {
                pending.complete(result.map(drop).map_err(|e| e.to_string()))
            })
            .await
            .map_err(|e| anyhow::anyhow!("send failed before sending: {e}"))
    }

    async fn close(self) -> anyhow::Result<()> {
        let lost = self
            .template
            .close(std::time::Duration::from_secs(30))
            .await;
        if lost > 0 {
            anyhow::bail!("{lost} records were still undelivered when close timed out");
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    client_main("bench-template", |args| async move {
        // An empty configuration directory: every setting comes from the
        // overrides below, none from an application.yml lying around.
        let dir = args.payload_file.with_file_name("template-config");
        std::fs::create_dir_all(&dir)?;
        let mut config = KafkaConfig::builder()
            .dir(dir)
            .env_source(Vec::<(String, String)>::new())
            .override_value("kafka.topics.bench", &args.topic);
        for (key, value) in args.producer_properties()? {
            config = config.override_value(format!("kafka.properties[{key}]"), value);
        }
        let template = KafkaTemplate::builder()
            .config(config.load()?)
            .avro_framing(AvroFraming::Raw)
            .register::<BenchEvent>()
            .build()?;
        Ok(Template { template })
    })
}
