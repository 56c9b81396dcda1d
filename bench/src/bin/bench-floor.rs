//! One of the two programs of the floor measurement (see
//! `kafka_bench::floor`), run under callgrind by `bench-run --floor-only`
//! (`scripts/bench --floor`) or at the end of a full run.
//!
//! Usage: `bench-floor hot-path|floor --records N`

use std::process::ExitCode;

use clap::Parser;
use kafka_bench::floor::{Program, run};

#[derive(Parser)]
#[command(about = "kafka-core's in-memory hot path, or the copy-and-CRC floor")]
struct Cli {
    /// Which program.
    #[arg(value_enum)]
    program: Program,
    /// Records to handle (rounded up to whole rounds of 10,000).
    #[arg(long)]
    records: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.program, cli.records) {
        Ok(bytes) => {
            println!("{bytes} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-floor: {e:#}");
            ExitCode::FAILURE
        }
    }
}
