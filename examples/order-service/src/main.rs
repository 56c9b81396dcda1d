//! Runs the order service once: loads `config/application.yml` with the active
//! profiles (`KAFKA_PROFILES_ACTIVE`, e.g. `dev`), prints the resolved
//! configuration with each value's origin, places `app.demo-orders` orders and
//! ships every other one, printing where each record landed.
//!
//! `KAFKA_PROFILES_ACTIVE=dev cargo run -p order-service` needs no broker: the
//! dev profile configures none, so dev services start one for the run and stop
//! it at the end. `scripts/demo` runs it against a broker of its own instead.
//!
//! It traces its work: each order is a `place-order` span (a shipment a
//! `ship-order` span) with a `send <topic>` child span per record
//! (`template.observation-enabled: true` in `application.yml`), and every record
//! carries the W3C `traceparent` of its send span. The spans are logged to
//! stderr as they are exported, one line each, at info under
//! `order_service::spans` (see `order_service::telemetry`), with the trace and
//! span ids a consumer finds in the `traceparent` header; the last ones are
//! exported when the service exits.
//!
//! While it runs it serves its metrics (the producers' Java-named
//! `kafka_producer_*`) in Prometheus' text format at `/metrics` on
//! `management.server.port` (see `order_service::management`); with
//! `app.keep-running: true` (`APP_KEEP_RUNNING=true`) it keeps serving them
//! after the demo run until stopped (Ctrl-C, SIGTERM).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use kafka_template::KafkaConfig;
use order_service::management::MetricsEndpoint;
use order_service::telemetry::{LogSpanExporter, Tracing};
use order_service::{OrderService, sample_order};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[tokio::main]
async fn main() -> ExitCode {
    // The log output (RUST_LOG) and, beside it, the spans as OpenTelemetry
    // spans, whatever the log level; the exporter logs each as one line.
    let traces = Tracing::new(LogSpanExporter);
    let log_filter = EnvFilter::try_from_default_env()
        // Dev services say where their broker runs at info; the spans' lines are info.
        .unwrap_or_else(|_| EnvFilter::new("warn,kafka_template=info,order_service::spans=info"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_filter(log_filter),
        )
        .with(traces.layer())
        .init();
    let result = run().await;
    // The spans of the last seconds are still in the exporter's batch.
    if let Err(e) = traces.shutdown() {
        eprintln!("order-service: the last spans may not have been exported: {e}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("order-service: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // KAFKA_CONFIG_LOCATION points elsewhere; by default the example's own config/.
    let config = if std::env::var_os("KAFKA_CONFIG_LOCATION").is_some() {
        KafkaConfig::load()?
    } else {
        KafkaConfig::builder()
            .dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
            .load()?
    };
    println!(
        "== configuration (profiles: {})",
        config.profiles().join(",")
    );
    println!("{}", config.describe());
    let orders: u32 = config
        .lookup("app.demo-orders")
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let keep_running = config
        .lookup("app.keep-running")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));

    // Before the templates: their producers register with this recorder.
    let endpoint = MetricsEndpoint::from_config(&config).await?;
    if let Some(endpoint) = &endpoint {
        println!("== metrics at {} (Prometheus text format)", endpoint.url());
    }

    let service = OrderService::from_config(config)?;

    println!("== placing {orders} orders");
    for n in 0..orders {
        let order = sample_order(n);
        // The order id rather than the key's bytes: with the avro profile the
        // key is Confluent-framed Avro, not text.
        let order_id = order.order_id.clone();
        let sent = service.place_order(order).await?;
        let m = &sent.record_metadata;
        println!(
            "placed  {order_id:<12} -> {}-{}@{} ({} bytes Avro{})",
            m.topic,
            m.partition,
            offset(m.offset),
            m.serialized_value_size,
            framing(sent.producer_record.value.as_deref())
        );
        if n % 2 == 0 {
            let shipped = service
                .ship_order(&format!("order-{n:05}"), &format!("TRACK-{n}"), "acme")
                .await?;
            let m = &shipped.record_metadata;
            println!(
                "shipped order-{n:05} -> {}-{}@{}",
                m.topic,
                m.partition,
                offset(m.offset)
            );
        }
    }
    for kafka in service.templates() {
        let metrics = kafka.metrics();
        let lost = kafka.close(Duration::from_secs(10)).await;
        println!(
            "== done: {} records acknowledged in {} batches, {} failed, {} undelivered at close",
            metrics.record_ack_total, metrics.batch_total, metrics.record_error_total, lost
        );
    }
    if let Some(endpoint) = &endpoint
        && keep_running
    {
        println!(
            "== serving {} until stopped (Ctrl-C or SIGTERM)",
            endpoint.url()
        );
        stopped().await;
    }
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How an Avro value is framed, from its first bytes.
fn framing(value: Option<&[u8]>) -> String {
    match value {
        Some([0xC3, 0x01, ..]) => ", single-object".to_owned(),
        Some([0, a, b, c, d, ..]) => {
            format!(
                ", Confluent, schema id {}",
                u32::from_be_bytes([*a, *b, *c, *d])
            )
        }
        _ => String::new(),
    }
}

/// An acknowledged offset for display: unknown only with `acks=0`.
fn offset(offset: Option<i64>) -> String {
    offset.map_or_else(|| "?".to_owned(), |o| o.to_string())
}
