//! Runs a command and reports the CPU time and peak RSS of it and its
//! descendants, as `BENCH-RUSAGE {"user_s":..,"sys_s":..,"max_rss_kib":..}` on
//! stdout after the command's own output. Exits with the command's status.
//!
//! A process of its own per measured command, because `getrusage(RUSAGE_CHILDREN)`
//! accumulates over every child a process ever waited for.
//!
//! Usage: `bench-rusage COMMAND [ARGS...]`

use std::process::{Command, ExitCode};

use kafka_bench::rusage::{RUSAGE_PREFIX, children_usage};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: bench-rusage COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    let status = match Command::new(&program).args(args).status() {
        Ok(status) => status,
        Err(e) => {
            eprintln!(
                "bench-rusage: cannot run {}: {e}",
                program.to_string_lossy()
            );
            return ExitCode::from(2);
        }
    };
    match children_usage() {
        Ok(usage) => println!(
            "{RUSAGE_PREFIX}{}",
            serde_json::to_string(&usage).unwrap_or_default()
        ),
        Err(e) => eprintln!("bench-rusage: getrusage failed: {e}"),
    }
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => {
            eprintln!("bench-rusage: the command was killed ({status})");
            ExitCode::FAILURE
        }
    }
}
