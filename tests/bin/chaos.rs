//! The long form of the project's broker-failure run, driven by
//! `scripts/chaos --minutes N [--rate R]`: a 3-broker cluster of its own, an
//! idempotent `acks=all` producer at a fixed pace through the test kit's proxy,
//! and in turn: a broker killed with SIGKILL and restarted, every connection cut,
//! a broker stalled with SIGSTOP, a Produce answer dropped after the broker
//! wrote it. Prints the figures; exits 1 when a record was lost, duplicated,
//! reordered or misplaced (see `kafka_integration_tests::chaos`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use kafka_integration_tests::chaos::{self, Plan};
use kafka_testkit::Cluster;

const USAGE: &str = "usage: chaos --minutes N [--rate RECORDS_PER_SECOND]";

fn parse() -> Result<(f64, u32), String> {
    let mut minutes = None;
    let mut rate = 1_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--minutes" => {
                let v = value("--minutes")?;
                minutes = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|m| m.is_finite() && *m > 0.0)
                        .ok_or_else(|| format!("--minutes wants a positive number, not {v:?}"))?,
                );
            }
            "--rate" => {
                let v = value("--rate")?;
                rate =
                    v.parse::<u32>().ok().filter(|r| *r > 0).ok_or_else(|| {
                        format!("--rate wants records per second (> 0), not {v:?}")
                    })?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    let minutes = minutes.ok_or_else(|| format!("--minutes is required; {USAGE}"))?;
    Ok((minutes, rate))
}

fn main() -> ExitCode {
    let (minutes, rate) = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    eprintln!("chaos: starting a cluster of 3 brokers");
    let cluster = Arc::new(Cluster::start(3, None));
    let runtime = chaos::runtime();
    let plan = Plan::long(Duration::from_secs_f64(minutes * 60.0), rate);
    let figures = runtime.block_on(chaos::run(cluster.clone(), plan));
    println!("{figures}");
    if figures.clean() {
        println!("verdict               clean");
        ExitCode::SUCCESS
    } else {
        println!("verdict               PROMISES BROKEN");
        ExitCode::FAILURE
    }
}
