//! The send loop every Rust client binary shares; a client only says how it
//! hands one record to its producer ([`BenchProducer`]).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;

use crate::args::{ClientArgs, Mode};
use crate::payload::{Payload, Payloads};
use crate::report::ClientReport;
use crate::stall::BrokerStall;
use crate::tracker::{Pending, Tracker};

/// A producer under test.
pub trait BenchProducer {
    /// Hands record `index` (`payload`'s key and value) to the producer in
    /// its usual asynchronous style (callback or future), waiting as the
    /// producer makes it wait when its buffer is full. `pending` must be
    /// completed exactly once, with the broker's verdict or a failure to send.
    fn send(
        &mut self,
        index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> impl Future<Output = anyhow::Result<()>>;

    /// Closes the producer once every record has an outcome.
    fn close(self) -> impl Future<Output = anyhow::Result<()>>;

    /// Begins a transaction (a run with `--transaction-size`; the client
    /// made its producer transactional and initialized it when built).
    fn begin_transaction(&mut self) -> impl Future<Output = anyhow::Result<()>> {
        async { anyhow::bail!("this client does not run transactions") }
    }

    /// Commits the transaction: returns once its records are acknowledged
    /// and the commit is done.
    fn commit_transaction(&mut self) -> impl Future<Output = anyhow::Result<()>> {
        async { anyhow::bail!("this client does not run transactions") }
    }
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ClientArgs,
}

/// The whole of a client binary's `main`: parses [`ClientArgs`], builds the
/// producer with `build` on a multi-threaded tokio runtime, runs the loop, and
/// prints the [`ClientReport`] line. Fails (exit code 1) when the run failed or
/// any record was not acknowledged.
pub fn client_main<P, F>(client: &str, build: impl FnOnce(ClientArgs) -> F) -> ExitCode
where
    P: BenchProducer,
    F: Future<Output = anyhow::Result<P>>,
{
    client_main_with_layer(client, None, build)
}

/// A tracing layer a client adds beside the log (`bench-template-observed`'s
/// OpenTelemetry layer).
pub type ExtraLayer =
    Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// [`client_main`] with `extra` installed beside the log's layer, each with
/// its own filter.
pub fn client_main_with_layer<P, F>(
    client: &str,
    extra: Option<ExtraLayer>,
    build: impl FnOnce(ClientArgs) -> F,
) -> ExitCode
where
    P: BenchProducer,
    F: Future<Output = anyhow::Result<P>>,
{
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let args = Cli::parse().args;
    // The producers' own warnings (retries, epoch bumps) go to stderr, which the
    // driver keeps for failed runs; RUST_LOG=kafka_core=debug shows more.
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        );
    tracing_subscriber::registry().with(extra).with(log).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{client}: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let producer = build(args.clone()).await?;
        run(&args, producer).await
    });
    match outcome {
        Ok(report) => {
            println!("{}", report.to_line());
            if report.acked == report.records && report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "{client}: {} of {} records acknowledged, {} failed; first error: {}",
                    report.acked,
                    report.records,
                    report.failed,
                    report.first_error.as_deref().unwrap_or("none")
                );
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("{client}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `args.count` records through `producer`: the first as a warm-up,
/// acknowledged before the clock starts, then the rest flat out (or paced at
/// `args.rate` in latency mode), and waits for every outcome. The report
/// covers the measured records only.
pub async fn run<P: BenchProducer>(
    args: &ClientArgs,
    mut producer: P,
) -> anyhow::Result<ClientReport> {
    let mut payloads = Payloads::load(&args.payload_file)?;
    let created = Instant::now();
    // Record 0 warms up: the clock starts once it is acknowledged, so every
    // client has its connection, metadata and producer id before measuring.
    let transaction_size = args.transaction_size.filter(|size| *size > 0);
    if transaction_size.is_some() && args.mode == Mode::Latency {
        anyhow::bail!("--transaction-size runs in throughput mode only");
    }
    let warm_up = Tracker::leak(1, false);
    let payload = payloads.record(0, args.keyed);
    if transaction_size.is_some() {
        producer
            .begin_transaction()
            .await
            .context("beginning the warm-up transaction")?;
    }
    producer
        .send(0, payload, warm_up.start())
        .await
        .context("sending the warm-up record")?;
    if transaction_size.is_some() {
        producer
            .commit_transaction()
            .await
            .context("committing the warm-up transaction")?;
    }
    if !warm_up
        .wait_all(Duration::from_secs(args.ack_timeout_secs))
        .await
        || warm_up.failed() > 0
    {
        anyhow::bail!(
            "the warm-up record was not acknowledged: {}",
            warm_up
                .first_error()
                .unwrap_or_else(|| "no outcome in time".to_owned())
        );
    }
    let warm_up_s = created.elapsed().as_secs_f64();
    let measured = args.count.saturating_sub(1);
    let tracker = Tracker::leak(measured, args.mode == Mode::Latency);
    let interval = match args.mode {
        Mode::Throughput => None,
        Mode::Latency => Some(Duration::from_secs_f64(1.0 / args.rate.max(1) as f64)),
    };
    if !args.timed_partitions.is_empty() && !args.keyed {
        anyhow::bail!(
            "--timed-partitions picks records by their key's partition: it needs --keyed"
        );
    }
    let mut bytes = 0u64;
    let started = Instant::now();
    let stall = args.stall_pid.map(|pid| {
        BrokerStall::start(
            pid,
            Duration::from_millis(args.stall_after_ms),
            Duration::from_millis(args.stall_ms),
        )
    });
    let mut transactions = 0u64;
    for index in 1..args.count {
        if let Some(size) = transaction_size
            && (index - 1).is_multiple_of(size)
        {
            producer
                .begin_transaction()
                .await
                .with_context(|| format!("beginning transaction {}", transactions + 1))?;
        }
        if let Some(interval) = interval {
            // Records due by now go out at once; otherwise sleep until the next
            // is due (the timer's 1 ms granularity makes small bursts).
            let due = started + interval.mul_f64((index - 1) as f64);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        let payload = payloads.record(index, args.keyed);
        bytes += (payload.key.map_or(0, Bytes::len) + payload.value.len()) as u64;
        let pending = if args.timed(payload.key.map(|k| &k[..])) {
            tracker.start()
        } else {
            tracker.start_untimed()
        };
        producer
            .send(index, payload, pending)
            .await
            .with_context(|| format!("sending record {index}"))?;
        if let Some(size) = transaction_size
            && (index.is_multiple_of(size) || index + 1 == args.count)
        {
            producer
                .commit_transaction()
                .await
                .with_context(|| format!("committing transaction {}", transactions + 1))?;
            transactions += 1;
        }
    }
    if let Some(stall) = stall {
        // A run shorter than the stall still ends with the broker running.
        stall.finish().await?;
    }
    let complete = tracker
        .wait_all(Duration::from_secs(args.ack_timeout_secs))
        .await;
    let elapsed = started.elapsed();
    if !complete {
        eprintln!(
            "only {} of {} records had an outcome {} s after the last send",
            tracker.acked() + tracker.failed(),
            measured,
            args.ack_timeout_secs
        );
    }
    producer.close().await?;
    Ok(ClientReport {
        records: measured,
        bytes,
        acked: tracker.acked(),
        failed: tracker.failed(),
        first_error: tracker.first_error(),
        elapsed_s: elapsed.as_secs_f64(),
        latency: tracker.latency(),
        warm_up_s: Some(warm_up_s),
        others_latency: tracker.others_latency(),
        transactions: transaction_size.map(|_| transactions),
    })
}
