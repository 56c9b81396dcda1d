//! The README's Rust examples, compiled. Each ```rust block of `README.md` is
//! the code between a `// README example` marker and the next `// README end`
//! below, in the same order, set in the context it needs (an async function
//! returning a `Result`, the record types it sends). The code is compiled with
//! this file, so an example that stops compiling fails the build; a test
//! checks that the README shows the same text, so an example edited in one
//! place only fails too. The last example is a test and runs, against a real
//! broker; `kafka-template-test/README.md` shows it as well. The README's
//! `application.yml` examples are loaded, and must load without an error.
//!
//! The examples keep the README's lines, which `rustfmt` would rewrite, hence
//! `#[rustfmt::skip]` on what holds them.

// Most examples are compiled, not run: nothing calls them.
#![allow(dead_code)]

use std::error::Error;

#[rustfmt::skip]
async fn quick_start() -> Result<(), Box<dyn Error>> {
    // README example
    use kafka_template::{KafkaRecord, KafkaTemplate};
    use serde::Serialize;

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "${app.topics.greetings:greetings}")]   // JSON by default
    struct Greeting {
        #[kafka(key)]
        user: String,
        #[kafka(header = "tenant")]
        tenant: String,
        text: String,
    }

    let kafka = KafkaTemplate::from_config()?;      // application.yml + profiles + env
    let sent = kafka.send(&Greeting { user: "ada".into(), tenant: "acme".into(), text: "hi".into() }).await?;
    println!("{}-{}@{:?}", sent.record_metadata.topic, sent.record_metadata.partition, sent.record_metadata.offset);

    // Many records: keep batching, hear of each outcome in a callback.
    for user in ["ada", "bob"] {
        let greeting = Greeting { user: user.into(), tenant: "acme".into(), text: "hi".into() };
        kafka.enqueue_with_callback(&greeting, |result| match result {
            Ok(_) => {}
            // Sent, but no answer came (timeout, lost connection): resending may duplicate.
            Err(e) if e.possibly_written() => eprintln!("delivery unknown: {e}"),
            Err(e) => eprintln!("not sent: {e}"),
        }).await?;
    }

    // On shutdown: wait for every outcome (dropping the last handle does the same,
    // bounded by kafka.template.close-timeout).
    kafka.close(std::time::Duration::from_secs(30)).await;
    // README end
    Ok(())
}

#[rustfmt::skip]
fn logging() {
    // README example
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    // README end
}

#[rustfmt::skip]
mod newtype_key {
    use serde::Serialize;

    // README example
    use kafka_template::{KafkaBytes, KafkaRecord};

    #[derive(Serialize, KafkaBytes)]
    struct PaymentId(String);

    #[derive(Serialize, KafkaRecord)]
    #[kafka(topic = "payments")]
    struct PaymentTaken {
        #[kafka(key)]
        id: PaymentId,      // the key is the id's UTF-8, as StringSerializer writes it
        cents: i64,
    }
    // README end
}

#[rustfmt::skip]
mod transaction {
    use kafka_template::{KafkaRecord, KafkaTemplate};

    #[derive(serde::Serialize, KafkaRecord)]
    #[kafka(topic = "payments")]
    struct PaymentTaken {
        #[kafka(key)]
        order: String,
        cents: i64,
    }

    #[derive(serde::Serialize, KafkaRecord)]
    #[kafka(topic = "orders-paid")]
    struct OrderPaid {
        #[kafka(key)]
        order: String,
    }

    async fn pay(kafka: &KafkaTemplate) {
        // README example
        use kafka_template::{TransactionFailure, core::SendError};

        let offset = kafka
            .execute_in_transaction(|tx| async move {
                drop(tx.enqueue(&PaymentTaken { order: "o-1".into(), cents: 1999 }).await?); // the commit waits for it
                let sent = tx.send(&OrderPaid { order: "o-1".into() }).await?;
                Ok::<_, SendError>(sent.record_metadata.offset)
            })
            .await;
        match offset {
            Ok(offset) => println!("committed, order at {offset:?}"),
            Err(TransactionFailure::Aborted { error, .. }) => eprintln!("rolled back: {error}"),
            Err(other) => eprintln!("not committed: {other}"),   // start or commit failed
        }
        // README end
    }
}

#[rustfmt::skip]
mod json_schema {
    // README example
    use kafka_template::KafkaRecord;
    use kafka_template::record::schemars::JsonSchema;

    #[derive(serde::Serialize, JsonSchema, KafkaRecord)]
    #[schemars(crate = "kafka_template::record::schemars")] // or add schemars 1.x yourself
    #[kafka(topic = "shipments", json_schema)]
    struct OrderShipped {
        #[kafka(key)]
        order_id: String,
        tracking_number: String,
    }
    // value-serializer: io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer
    // README end
}

#[rustfmt::skip]
#[allow(unused_variables)]
async fn core_producer() -> Result<(), Box<dyn Error>> {
    // README example
    use kafka_template::core::{KafkaProducer, ProducerConfig, ProducerRecord};

    let producer = KafkaProducer::new(ProducerConfig::builder().bootstrap_servers("localhost:9092").build()?)?;
    let metadata = producer.send(ProducerRecord::new("orders", "hello").with_key("k1")).await?.await?;
    producer.close(std::time::Duration::from_secs(30)).await;
    // README end
    Ok(())
}

#[rustfmt::skip]
async fn tracing_setup(
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
    order: order_service::OrderPlaced,
) -> Result<(), Box<dyn Error>> {
    // README example
    use kafka_template::KafkaTemplate;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;

    // `exporter`: where the spans go, such as OTLP over HTTP to localhost:4318:
    // opentelemetry_otlp::SpanExporter::builder().with_http().build()?
    let provider = SdkTracerProvider::builder()
        // At high rates, record a share of the traces; children follow their parent.
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.01))))
        .with_batch_exporter(exporter)
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone()); // before the template is built
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("order-service"))),
    )?;
    let kafka = KafkaTemplate::from_config()?;
    // Sends inside a span of yours are its children, and consumers continue the trace.
    async { kafka.send(&order).await }.instrument(tracing::info_span!("checkout")).await?;
    // ...
    provider.shutdown()?; // exports what is still batched
    // README end
    Ok(())
}

#[rustfmt::skip]
#[allow(unused_variables)]
fn metrics() -> Result<(), Box<dyn Error>> {
    // README example
    // metrics-exporter-prometheus = { version = "0.18", default-features = false }
    use kafka_template::{KafkaConfig, KafkaTemplate};

    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let template = KafkaTemplate::builder().config(KafkaConfig::load()?).build()?;
    // ... serve prometheus.render() at /metrics (or use the exporter's own
    // `with_http_listener` when the port is fixed)
    // README end
    Ok(())
}

#[rustfmt::skip]
mod embedded_kafka {
    // README example
    use kafka_template::{KafkaConfig, KafkaRecord, KafkaTemplate};
    use kafka_template_test::{EmbeddedKafka, NewTopic, ValueFraming};

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, KafkaRecord)]
    #[kafka(topic = "orders", format = "avro")]
    struct OrderPlaced {
        #[kafka(key)]
        order_id: String,
        #[kafka(header = "tenant")]
        tenant: String,
        amount_cents: i64,
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn orders_land_on_the_orders_topic() {
        let order = OrderPlaced { order_id: "order-1".into(), tenant: "acme".into(), amount_cents: 1999 };
        let kafka = EmbeddedKafka::builder()          // .version("4.1.1")
            .topic(NewTopic::new("orders", 3))        // created before the test runs
            .broker_property("auto.create.topics.enable", "false")
            .start()
            .expect("broker");
        let config = KafkaConfig::builder()
            .override_value("kafka.bootstrap-servers", kafka.bootstrap_servers())
            .load()
            .unwrap();
        let template = KafkaTemplate::builder().config(config).build().unwrap();
        template.send(&order).await.unwrap();

        // Read back by Kafka's own Java consumer: exact keys, values, headers...
        let records = kafka.read("orders", 1).unwrap();
        assert_eq!(records[0].key_str().as_deref(), Some("order-1"));
        assert_eq!(records[0].header_str("tenant").as_deref(), Some("acme"));
        // ...and the value as the type that was sent (Avro or JSON, via kafka-record).
        let back: OrderPlaced = records[0].value_as(&ValueFraming::SingleObject).unwrap();
        assert_eq!(back, order);
    }
    // README end
}

/// `lines` without the indentation they all share (blank lines aside).
fn dedent(lines: &[&str]) -> Vec<String> {
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|line| line.get(indent..).unwrap_or("").trim_end().to_owned())
        .collect()
}

/// The blocks of `text` between a line that `opens` and the next that
/// `closes`, dedented, in order.
fn blocks(text: &str, opens: fn(&str) -> bool, closes: fn(&str) -> bool) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match &mut current {
            None if opens(line) => current = Some(Vec::new()),
            Some(lines) if closes(line) => {
                found.push(dedent(lines));
                current = None;
            }
            Some(lines) => lines.push(line),
            None => {}
        }
    }
    found
}

/// A README's ```rust blocks, in order.
fn readme_examples(readme: &str) -> Vec<Vec<String>> {
    blocks(
        readme,
        |line| line.starts_with("```rust"),
        |line| line.starts_with("```"),
    )
}

/// The code between this file's markers, in order.
fn compiled_examples(source: &str) -> Vec<Vec<String>> {
    blocks(
        source,
        |line| line.trim() == "// README example",
        |line| line.trim() == "// README end",
    )
}

/// The text of `path` (from the workspace root).
fn read(path: &str) -> String {
    let file = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The Rust examples of the README at `path` (from the workspace root).
fn examples_of(path: &str) -> Vec<Vec<String>> {
    readme_examples(&read(path))
}

/// Panics, naming the first line that differs, unless `shown` (example
/// `number` of `readme`) is `compiled`.
fn assert_same(readme: &str, number: usize, shown: &[String], compiled: &[String]) {
    if shown != compiled {
        let first = shown
            .iter()
            .zip(compiled)
            .position(|(a, b)| a != b)
            .unwrap_or(shown.len().min(compiled.len()));
        panic!(
            "{readme}'s Rust example {number} differs from the one compiled in tests/readme.rs \
             from its line {}:\n  {readme}: {:?}\n  tests/readme.rs: {:?}",
            first + 1,
            shown.get(first),
            compiled.get(first)
        );
    }
}

#[test]
fn the_readme_shows_the_examples_compiled_here() {
    let shown = examples_of("README.md");
    let compiled = compiled_examples(include_str!("readme.rs"));
    assert_eq!(
        shown.len(),
        compiled.len(),
        "README.md has {} Rust examples, tests/readme.rs compiles {}: add the new one \
         here between the markers (or remove the one that is gone)",
        shown.len(),
        compiled.len()
    );
    for (number, (shown, compiled)) in shown.iter().zip(&compiled).enumerate() {
        assert_same("README.md", number + 1, shown, compiled);
    }
}

/// kafka-template-test's own README (its crates.io page) shows the
/// embedded-Kafka example, the last one here.
#[test]
fn the_test_kit_readme_shows_the_embedded_kafka_example() {
    let shown = examples_of("kafka-template-test/README.md");
    let compiled = compiled_examples(include_str!("readme.rs"));
    assert_eq!(
        shown.len(),
        1,
        "kafka-template-test/README.md: one Rust example"
    );
    assert_same(
        "kafka-template-test/README.md",
        1,
        &shown[0],
        compiled.last().expect("the embedded-Kafka example"),
    );
}

/// Every `application.yml` the README shows loads as it is: no key unknown or
/// misspelled, no value refused (placeholders given through the environment,
/// as a service would give them). What each sets is checked where the
/// feature is tested; here, that a user copying it gets no error.
#[test]
fn the_readme_configuration_examples_load() {
    const TRUSTSTORE_PASSWORD: &str = "truststore-secret";
    let examples = blocks(
        &read("README.md"),
        |line| line.starts_with("```yaml"),
        |line| line.starts_with("```"),
    );
    assert!(
        examples.len() >= 5,
        "README.md's YAML examples: {}",
        examples.len()
    );
    for (number, lines) in examples.iter().enumerate() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("application.yml"), lines.join("\n"))
            .expect("application.yml");
        // The SASL_SSL example names a trust store beside the file, which
        // loading opens with its password: the harness's CA makes one.
        if lines
            .iter()
            .any(|line| line.contains("certs/truststore.p12"))
        {
            kafka_testkit::registry::make_ca(&dir.path().join("certs"), TRUSTSTORE_PASSWORD, &[]);
        }
        let loaded = kafka_template::KafkaConfig::builder()
            .dir(dir.path())
            .env_source([
                ("TRUSTSTORE_PASSWORD", TRUSTSTORE_PASSWORD),
                ("KAFKA_PASSWORD", "kafka-secret"),
            ])
            .load();
        if let Err(error) = loaded {
            panic!(
                "README.md's YAML example {} does not load: {error}\n{}",
                number + 1,
                lines.join("\n")
            );
        }
    }
}
