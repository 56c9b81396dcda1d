//! The benchmark driver: runs every client on every scenario against one
//! broker and writes the results. Normally started by `scripts/bench`.
//!
//! ```text
//! bench-run --bootstrap HOST:PORT [--bootstrap-3brokers HOST:PORT] [--secure-state DIR]
//!           [--smoke] [--out DIR]
//!           [--clients a,b] [--scenarios s,t] [--repeat N] [--no-floor]
//! bench-run --floor-only
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use kafka_bench::driver::results::BenchResults;
use kafka_bench::driver::{DriverOptions, chart, floor, markdown, run};

#[derive(Parser)]
#[command(about = "Side-by-side Kafka producer benchmark")]
struct Cli {
    /// Bootstrap servers of the one-broker cluster every client uses.
    #[arg(
        long,
        env = "KAFKA_BOOTSTRAP_SERVERS",
        required_unless_present = "floor_only"
    )]
    bootstrap: Option<String>,
    /// Bootstrap servers of a 3-broker cluster for the `-3brokers` scenarios
    /// (default: the driver starts one, state in target/kafka-bench-3brokers).
    #[arg(long, env = "KAFKA_BENCH_BOOTSTRAP_3BROKERS")]
    bootstrap_3brokers: Option<String>,
    /// The harness state directory of a broker started with `scripts/kafka
    /// start --security`, for the `-sasl_ssl` scenarios (default: the driver
    /// starts one, state in target/kafka-bench-secure, and stops it at the end).
    #[arg(long, env = "KAFKA_BENCH_SECURE_STATE")]
    secure_state: Option<PathBuf>,
    /// Only measure the hot path against the floor (callgrind), no broker.
    #[arg(long)]
    floor_only: bool,
    /// Skip the floor measurement a full run (not --smoke, no --scenarios) ends with.
    #[arg(long)]
    no_floor: bool,
    /// A few thousand records per client, to check the harness works.
    #[arg(long)]
    smoke: bool,
    /// Where results.md, results.json and the charts go (default:
    /// docs/benchmarks, or target/bench/smoke for --smoke).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only these clients (comma-separated: ours, ours-avro, template, template-registry, rdkafka,
    /// rdkafka-future, confluent, krafka, java).
    #[arg(long, value_delimiter = ',')]
    clients: Vec<String>,
    /// Only scenarios whose name contains one of these (comma-separated); a
    /// trailing `$` matches the name's end (`100B-keyless-none$` leaves out its
    /// `-3brokers` and `-sasl_ssl` variants).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Runs per scenario and client; tables show medians.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Seconds a single client run may take before it is killed.
    #[arg(long)]
    run_timeout_secs: Option<u64>,
    /// Seconds to pause between runs (default 2, or 0 for --smoke).
    #[arg(long)]
    pause_secs: Option<u64>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn write_outputs(results: &BenchResults, out: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(results)?;
    std::fs::write(out.join("results.json"), json + "\n")
        .with_context(|| format!("cannot write {}/results.json", out.display()))?;
    std::fs::write(out.join("results.md"), markdown::render(results))
        .with_context(|| format!("cannot write {}/results.md", out.display()))?;
    chart::write_all(results, out)
}

/// Measures the hot path against the floor, prints it and keeps it in
/// `dir/floor.json`.
fn floor_only(bin_dir: &std::path::Path, dir: &std::path::Path) -> ExitCode {
    match floor::measure(bin_dir, dir) {
        Ok(result) => {
            println!("{}", result.line());
            let json = serde_json::to_string_pretty(&result).unwrap_or_default();
            if let Err(e) = std::fs::write(dir.join("floor.json"), json + "\n") {
                eprintln!("bench-run: cannot write {}/floor.json: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            println!("callgrind files and floor.json: {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-run: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let repo = repo_root();
    let out = cli.out.clone().unwrap_or_else(|| {
        if cli.smoke {
            repo.join("target/bench/smoke")
        } else {
            repo.join("docs/benchmarks")
        }
    });
    let bin_dir = match std::env::current_exe() {
        Ok(exe) => exe.parent().map(PathBuf::from).unwrap_or_default(),
        Err(e) => {
            eprintln!("bench-run: cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    if cli.floor_only {
        return floor_only(&bin_dir, &repo.join("target/bench/floor"));
    }
    let Some(bootstrap) = cli.bootstrap else {
        eprintln!("bench-run: --bootstrap (or KAFKA_BOOTSTRAP_SERVERS) is required");
        return ExitCode::from(2);
    };
    let options = DriverOptions {
        smoke: cli.smoke,
        bootstrap,
        cluster_bootstrap: cli.bootstrap_3brokers,
        secure_state: cli
            .secure_state
            .unwrap_or_else(|| repo.join(kafka_bench::driver::cluster::SECURE_STATE_DIR)),
        floor: !cli.smoke && cli.scenarios.is_empty() && !cli.no_floor,
        work_dir: repo.join("target/bench"),
        repo,
        clients: cli.clients,
        scenarios: cli.scenarios,
        repeat: cli.repeat.max(1),
        run_timeout: Duration::from_secs(cli.run_timeout_secs.unwrap_or(if cli.smoke {
            90
        } else {
            900
        })),
        pause: Duration::from_secs(cli.pause_secs.unwrap_or(if cli.smoke { 0 } else { 2 })),
        warm_up_broker: !cli.smoke,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench-run: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let results = match runtime.block_on(run(&options)) {
        Ok(results) => results,
        Err(e) => {
            eprintln!("bench-run: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", markdown::short_table(&results));
    if let Some(floor) = &results.floor {
        println!("{}", floor.line());
    }
    if let Err(e) = write_outputs(&results, &out) {
        eprintln!("bench-run: {e:#}");
        return ExitCode::FAILURE;
    }
    println!("results: {}", out.join("results.md").display());
    if results.any_failed() {
        eprintln!("bench-run: some runs failed (see the status column)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
