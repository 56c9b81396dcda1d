//! The `KafkaTemplate` benchmark clients (`bench-template`,
//! `bench-template-registry`) with the derived Avro [`BenchEvent`]: configured
//! Spring Boot style (every setting an override of the layered configuration,
//! the topic a `${kafka.topics.bench}` placeholder), sent with
//! `enqueue_with_callback` (the batching send, a callback per record as
//! `bench-ours-avro` uses with kafka-core), the default logging listener.
//! They differ only in the value's framing: raw Avro as `bench-ours-avro`
//! writes it, or registry Avro (`value-serializer: KafkaAvroSerializer` with a
//! `mock://` registry: `00`, the schema id asked for once, the datum).

use std::process::ExitCode;

use bytes::Bytes;
use kafka_template::{AvroFraming, KAFKA_AVRO_SERIALIZER, KafkaConfig, KafkaTemplate};

use crate::event::BenchEvent;
use crate::runner::{BenchProducer, client_main};
use crate::tracker::Pending;

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

/// How the template frames the Avro value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueFraming {
    /// The bare datum, as `bench-ours-avro` writes it.
    RawAvro,
    /// Confluent's wire format with an id from an in-process `mock://`
    /// registry, selected by a `KafkaAvroSerializer` value line.
    RegistryAvro,
}

/// Runs the template client `binary` with `framing`.
pub fn main(binary: &'static str, framing: ValueFraming) -> ExitCode {
    client_main(binary, move |args| async move {
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
        let builder = match framing {
            ValueFraming::RawAvro => KafkaTemplate::builder()
                .config(config.load()?)
                .avro_framing(AvroFraming::Raw),
            ValueFraming::RegistryAvro => {
                config = config
                    .override_value("kafka.producer.value-serializer", KAFKA_AVRO_SERIALIZER)
                    .override_value(
                        "kafka.producer.properties[schema.registry.url]",
                        "mock://bench",
                    );
                KafkaTemplate::builder().config(config.load()?)
            }
        };
        // Registered: the schema id is asked for before the measured window.
        let template = builder.register::<BenchEvent>().build()?;
        Ok(Template { template })
    })
}
