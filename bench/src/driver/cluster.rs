//! The multi-broker cluster of the `-3brokers` scenarios: one given on the
//! command line, or one the driver starts with `scripts/kafka start --brokers 3`
//! (state in `target/kafka-bench-3brokers`, apart from the one-broker
//! benchmark broker and from any other work's cluster) and stops when done.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Where the driver's own multi-broker cluster keeps its state, under the
/// repository.
pub const STATE_DIR: &str = "target/kafka-bench-3brokers";

/// A multi-broker cluster for the run; stops on drop if this run started it.
#[derive(Debug)]
pub struct Cluster {
    bootstrap: String,
    /// `scripts/kafka` and the state directory, when this run started it.
    started: Option<(PathBuf, PathBuf)>,
}

fn kafka_script(script: &Path, state: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(script)
        .args(args)
        .env("KAFKA_HARNESS_STATE", state)
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "scripts/kafka {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Cluster {
    /// A cluster someone else runs.
    pub fn given(bootstrap: &str) -> Cluster {
        Cluster {
            bootstrap: bootstrap.to_owned(),
            started: None,
        }
    }

    /// Starts a cluster of `brokers` brokers with its state in [`STATE_DIR`],
    /// or uses the one already running there (and then leaves it running).
    pub fn start(repo: &Path, brokers: u32) -> anyhow::Result<Cluster> {
        let script = repo.join("scripts/kafka");
        let state = repo.join(STATE_DIR);
        let running = !kafka_script(&script, &state, &["status"])?
            .lines()
            .next()
            .unwrap_or("")
            .starts_with("not running");
        eprintln!(
            "== {} a {brokers}-broker cluster (state: {})",
            if running { "using" } else { "starting" },
            state.display()
        );
        let stdout = kafka_script(
            &script,
            &state,
            &["start", "--brokers", &brokers.to_string()],
        )?;
        let bootstrap = stdout
            .lines()
            .last()
            .map(|line| line.trim().to_owned())
            .filter(|line| !line.is_empty())
            .context("scripts/kafka start printed no bootstrap address")?;
        Ok(Cluster {
            bootstrap,
            started: (!running).then_some((script, state)),
        })
    }

    /// Its bootstrap servers.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some((script, state)) = &self.started {
            eprintln!("== stopping the cluster in {}", state.display());
            if let Err(e) = kafka_script(script, state, &["stop"]) {
                eprintln!("warning: {e:#}");
            }
        }
    }
}
