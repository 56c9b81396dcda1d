//! The `KafkaTemplate` benchmark clients (`bench-template`,
//! `bench-template-registry`) with the derived Avro [`BenchEvent`]: configured
//! Spring Boot style (every setting an override of the layered configuration,
//! the topic a `${kafka.topics.bench}` placeholder), sent with
//! `try_enqueue_with_callback` (the batching send as a plain call, a callback
//! per record, awaiting only a send that must wait, as `bench-ours-avro` uses
//! kafka-core's `try_send_with_callback`), the default logging listener.
//! They differ only in the value's framing: raw Avro as `bench-ours-avro`
//! writes it, or registry Avro (`value-serializer: KafkaAvroSerializer` with a
//! `mock://` registry: `00`, the schema id asked for once, the datum).

use std::process::ExitCode;

use kafka_template::core::SendError;
use kafka_template::{AvroFraming, KAFKA_AVRO_SERIALIZER, KafkaConfig, KafkaTemplate, SendResult};

use crate::event::{BenchEvent, EventTexts};
use crate::payload::Payload;
use crate::runner::{BenchProducer, client_main_with_layer};
use crate::tracker::Pending;

struct Template {
    template: KafkaTemplate,
    texts: EventTexts,
}

impl BenchProducer for Template {
    async fn send(
        &mut self,
        index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> anyhow::Result<()> {
        let event = self.texts.event(index, payload)?;
        let callback = move |result: Result<SendResult, SendError>| {
            pending.complete(result.map(drop).map_err(|e| e.to_string()))
        };
        // The template's fastest path, as the core client's: a plain call,
        // and a future only for a send that must wait.
        let sent = self.template.try_enqueue_with_callback(&event, callback);
        self.texts.give_back(&payload, event);
        match sent {
            Ok(()) => Ok(()),
            Err(waiting) => waiting
                .await
                .map_err(|e| anyhow::anyhow!("send failed before sending: {e}")),
        }
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

/// Whether the template runs with metrics and tracing on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observability {
    /// No metrics recorder, no tracing layer beyond the warnings' log:
    /// what `bench-template` measures.
    Off,
    /// A Prometheus recorder installed (scraped every second), every send
    /// observed (`template.observation-enabled: true`, a span per record)
    /// with the global tracer provider sampling parent-based at
    /// `BENCH_TRACE_SAMPLING` (default 0.01, as services at high rates run;
    /// 1.0: every span) and exporting in batches to an exporter that drops
    /// them, `tracing-opentelemetry`'s layer installed, and `traceparent`
    /// written into every record (`BENCH_OBSERVATION=false`: no span per send;
    /// `BENCH_PROPAGATION=false`: no header).
    On,
}

/// Runs the template client `binary` with `framing`.
pub fn main(binary: &'static str, framing: ValueFraming) -> ExitCode {
    run(binary, framing, Observability::Off)
}

/// Runs the template client `binary` with raw Avro framing and metrics and
/// tracing on (`bench-template-observed`).
pub fn main_observed(binary: &'static str) -> ExitCode {
    run(binary, ValueFraming::RawAvro, Observability::On)
}

fn run(binary: &'static str, framing: ValueFraming, observability: Observability) -> ExitCode {
    let extra = match observability {
        Observability::Off => None,
        Observability::On => match observed::install() {
            Ok(layer) => Some(layer),
            Err(e) => {
                eprintln!("{binary}: cannot set up metrics and tracing: {e:#}");
                return ExitCode::FAILURE;
            }
        },
    };
    client_main_with_layer(binary, extra, move |args| async move {
        // An empty configuration directory: every setting comes from the
        // overrides below, none from an application.yml lying around.
        let dir = args.payload_file.with_file_name("template-config");
        std::fs::create_dir_all(&dir)?;
        let mut config = KafkaConfig::builder()
            .dir(dir)
            .env_source(Vec::<(String, String)>::new())
            .override_value("kafka.topics.bench", &args.topic);
        // BENCH_OBSERVATION=false keeps the metrics and the OpenTelemetry
        // layer but no span per send: what the spans alone cost.
        if observability == Observability::On
            && std::env::var("BENCH_OBSERVATION").as_deref() != Ok("false")
        {
            config = config.override_value("kafka.template.observation-enabled", "true");
        }
        // BENCH_PROPAGATION=false: no traceparent in the records, what the
        // header costs.
        if observability == Observability::On
            && std::env::var("BENCH_PROPAGATION").as_deref() == Ok("false")
        {
            config = config.override_value("kafka.template.trace-propagation-enabled", "false");
        }
        // BENCH_TEMPLATE_TIMER=false: without Spring's default send timer
        // (`template.micrometer-enabled: false`), what the timer costs.
        if std::env::var("BENCH_TEMPLATE_TIMER").as_deref() == Ok("false") {
            config = config.override_value("kafka.template.micrometer-enabled", "false");
        }
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
        Ok(Template {
            template,
            texts: EventTexts::new(),
        })
    })
}

/// The metrics recorder and the OpenTelemetry layer of
/// [`Observability::On`], set up as a service would.
mod observed {
    use std::time::Duration;

    use anyhow::Context;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
    use tracing_subscriber::Layer as _;

    use crate::runner::ExtraLayer;

    /// Where spans go: nowhere (an exporter's network cost is not the
    /// producer's), after the batch processor has handed them over.
    #[derive(Debug)]
    struct Discard;

    impl SpanExporter for Discard {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            drop(batch);
            Ok(())
        }
    }

    /// The share of send spans recorded unless `BENCH_TRACE_SAMPLING` says
    /// otherwise: a service at hundreds of thousands of records a second
    /// samples (each recorded span costs a few microseconds).
    const DEFAULT_SAMPLING: f64 = 0.01;

    /// Installs the Prometheus recorder (rendered every second on a thread of
    /// its own, as a scrape would) and returns the OpenTelemetry layer.
    pub fn install() -> anyhow::Result<ExtraLayer> {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .context("installing the Prometheus recorder")?;
        std::thread::Builder::new()
            .name("scrape".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    handle.run_upkeep();
                    std::hint::black_box(handle.render());
                }
            })
            .context("starting the scrape thread")?;
        let sampling = match std::env::var("BENCH_TRACE_SAMPLING") {
            Ok(text) => text
                .parse::<f64>()
                .with_context(|| format!("BENCH_TRACE_SAMPLING={text:?} is not a number"))?,
            Err(_) => DEFAULT_SAMPLING,
        };
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                sampling,
            ))))
            .with_batch_exporter(Discard)
            .build();
        let tracer = provider.tracer("bench-template-observed");
        // As a service does: the global provider makes the send spans (the
        // template is built after this) and lives as long as the process
        // (its batch thread with it).
        opentelemetry::global::set_tracer_provider(provider);
        Ok(Box::new(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(tracing_subscriber::EnvFilter::new("info")),
        ))
    }
}
