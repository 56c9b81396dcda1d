//! The hot path against the floor, in instructions per record under
//! callgrind (`valgrind --tool=callgrind`): repeatable on a busy machine,
//! where time is not.
//!
//! Each program of `bench-floor` runs twice, over [`FEW`] and [`MANY`]
//! records, counted only inside the program's `run` (callgrind's
//! `--toggle-collect`): the process's start-up and set-up are left out,
//! among them the calibration of the counter clock, a loop whose length
//! depends on how fast valgrind runs (counted, it moved the figure by up to
//! a tenth between runs). The difference of the two totals divided by the
//! difference of the record counts is the instructions per record, with the
//! first allocations cancelled out.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::floor::{PARTITIONS, VALUE_SIZE};

/// Records of the shorter run of each program.
pub const FEW: u64 = 20_000;
/// Records of the longer run of each program.
pub const MANY: u64 = 120_000;

/// The measurement, as `results.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloorResult {
    /// Instructions per record of kafka-core's in-memory hot path.
    pub hot_path_ir_per_record: Option<f64>,
    /// Instructions per record of the copy-and-CRC-32C floor.
    pub floor_ir_per_record: Option<f64>,
    /// Hot path / floor.
    pub ratio: Option<f64>,
    /// Bytes per record value.
    pub value_size: usize,
    /// Partitions the hot path spreads records over.
    pub partitions: usize,
    /// The record counts of the two runs of each program.
    pub records: (u64, u64),
    /// `valgrind --version`.
    pub valgrind: String,
    /// Why there are no figures, when there are none.
    pub note: Option<String>,
}

impl FloorResult {
    /// A measurement that could not be made, and why.
    pub fn not_measured(note: String) -> FloorResult {
        FloorResult {
            hot_path_ir_per_record: None,
            floor_ir_per_record: None,
            ratio: None,
            value_size: VALUE_SIZE,
            partitions: PARTITIONS,
            records: (FEW, MANY),
            valgrind: String::new(),
            note: Some(note),
        }
    }
}

/// The total instruction count (`Ir`) of a callgrind output file.
pub fn total_instructions(callgrind_out: &str) -> Option<u64> {
    ["summary:", "totals:"].iter().find_map(|prefix| {
        callgrind_out
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|first| first.parse().ok())
    })
}

fn callgrind(bench_floor: &Path, program: &str, records: u64, dir: &Path) -> anyhow::Result<u64> {
    let out = dir.join(format!("callgrind.{program}.{records}.out"));
    let run = match program {
        "hot-path" => "*HotPathProgram::run",
        _ => "*FloorProgram::run",
    };
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={run}"))
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(bench_floor)
        .args([program, "--records", &records.to_string()])
        .output()
        .context("cannot run valgrind")?;
    if !output.status.success() {
        bail!(
            "callgrind of bench-floor {program} --records {records} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("cannot read {}", out.display()))?;
    total_instructions(&text).with_context(|| format!("no instruction total in {}", out.display()))
}

fn per_record(bench_floor: &Path, program: &str, dir: &Path) -> anyhow::Result<f64> {
    let few = callgrind(bench_floor, program, FEW, dir)?;
    let many = callgrind(bench_floor, program, MANY, dir)?;
    if many <= few {
        bail!("{program}: {MANY} records took no more instructions ({many}) than {FEW} ({few})");
    }
    Ok((many - few) as f64 / (MANY - FEW) as f64)
}

/// Runs both programs of `bench-floor` (in `bin_dir`) under callgrind,
/// keeping callgrind's files in `dir`.
pub fn measure(bin_dir: &Path, dir: &Path) -> anyhow::Result<FloorResult> {
    let version = Command::new("valgrind")
        .arg("--version")
        .output()
        .context("valgrind is not installed (apt-get install valgrind)")?;
    let valgrind = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bench_floor = bin_dir.join("bench-floor");
    eprintln!("== callgrind: the hot path and the floor, {FEW} and {MANY} records each");
    let hot_path = per_record(&bench_floor, "hot-path", dir)?;
    let floor = per_record(&bench_floor, "floor", dir)?;
    Ok(FloorResult {
        hot_path_ir_per_record: Some(hot_path),
        floor_ir_per_record: Some(floor),
        ratio: Some(hot_path / floor),
        value_size: VALUE_SIZE,
        partitions: PARTITIONS,
        records: (FEW, MANY),
        valgrind,
        note: None,
    })
}

impl FloorResult {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        match (
            self.hot_path_ir_per_record,
            self.floor_ir_per_record,
            self.ratio,
        ) {
            (Some(hot), Some(floor), Some(ratio)) => format!(
                "hot path {hot:.0} instructions per record, floor {floor:.0}: {ratio:.2}x the floor ({} B values, {})",
                self.value_size, self.valgrind
            ),
            _ => format!(
                "the floor was not measured: {}",
                self.note.as_deref().unwrap_or("unknown reason")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_read_from_a_callgrind_file() {
        let text =
            "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 123456\n\nfl=(1) x\n";
        assert_eq!(total_instructions(text), Some(123_456));
        assert_eq!(total_instructions("events: Ir\ntotals: 42\n"), Some(42));
        assert_eq!(total_instructions("events: Ir\n"), None);
    }
}
