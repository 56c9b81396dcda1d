//! The multi-broker cluster of the `-3brokers` scenarios: one given on the
//! command line, or one the driver starts with `scripts/kafka start --brokers 3`
//! (state in `target/kafka-bench-3brokers`, apart from the one-broker
//! benchmark broker and from any other work's cluster) and stops when done;
//! and the broker of the `-sasl_ssl` scenarios, started with `scripts/kafka
//! start --security` (state in `target/kafka-bench-secure`, or the state
//! directory `$KAFKA_BENCH_SECURE_STATE` names).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Where the driver's own multi-broker cluster keeps its state, under the
/// repository.
pub const STATE_DIR: &str = "target/kafka-bench-3brokers";
/// Where the driver's own broker with secured listeners keeps its state,
/// under the repository.
pub const SECURE_STATE_DIR: &str = "target/kafka-bench-secure";

/// A secured listener of the cluster and what its clients need.
#[derive(Clone, Debug)]
pub struct SecuredListener {
    /// The listener's bootstrap servers (`localhost:PORT`, the name the
    /// broker's certificate carries).
    pub bootstrap: String,
    /// The Java client properties `scripts/kafka client-properties` prints.
    pub properties: PathBuf,
    /// The harness CA's certificate as PEM.
    pub ca_pem: PathBuf,
}

/// A multi-broker cluster for the run; stops on drop if this run started it.
#[derive(Debug)]
pub struct Cluster {
    bootstrap: String,
    /// The secured listener the clients use, when they do not use PLAINTEXT.
    secured: Option<SecuredListener>,
    /// `scripts/kafka` and the state directory, when this run started it.
    started: Option<(PathBuf, PathBuf)>,
    /// The state directory, when the cluster is the harness's (started by
    /// this run or found running there).
    state: Option<PathBuf>,
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
            secured: None,
            started: None,
            state: None,
        }
    }

    /// Starts a cluster of `brokers` brokers with its state in [`STATE_DIR`],
    /// or uses the one already running there (and then leaves it running).
    pub fn start(repo: &Path, brokers: u32) -> anyhow::Result<Cluster> {
        Cluster::start_in(
            repo,
            &repo.join(STATE_DIR),
            &["start", "--brokers", &brokers.to_string()],
        )
    }

    /// Starts one broker with secured listeners (`scripts/kafka start
    /// --security`) with its state in `state`, or uses the one already
    /// running there (and then leaves it running); its clients use
    /// `listener` with [`SASL_MECHANISM`](super::scenario::SASL_MECHANISM),
    /// whose client properties are written into `work_dir`.
    pub fn start_secured(
        repo: &Path,
        state: &Path,
        listener: &str,
        mechanism: &str,
        work_dir: &Path,
    ) -> anyhow::Result<Cluster> {
        let mut cluster = Cluster::start_in(repo, state, &["start", "--security"])?;
        let script = repo.join("scripts/kafka");
        let bootstrap = kafka_script(&script, state, &["bootstrap", listener])?
            .trim()
            .to_owned();
        let properties = work_dir.join(format!("client-{}.properties", listener.to_lowercase()));
        let text = kafka_script(&script, state, &["client-properties", listener, mechanism])?;
        std::fs::write(&properties, text)
            .with_context(|| format!("cannot write {}", properties.display()))?;
        let ca_pem = state.join("tls/ca.pem");
        if !ca_pem.is_file() {
            bail!(
                "{} is missing: the harness writes its CA there",
                ca_pem.display()
            );
        }
        cluster.secured = Some(SecuredListener {
            bootstrap,
            properties,
            ca_pem,
        });
        Ok(cluster)
    }

    fn start_in(repo: &Path, state: &Path, start: &[&str]) -> anyhow::Result<Cluster> {
        let script = repo.join("scripts/kafka");
        let state = state.to_path_buf();
        let running = !kafka_script(&script, &state, &["status"])?
            .lines()
            .next()
            .unwrap_or("")
            .starts_with("not running");
        eprintln!(
            "== {} a cluster: scripts/kafka {} (state: {})",
            if running { "using" } else { "starting" },
            start.join(" "),
            state.display()
        );
        let stdout = kafka_script(&script, &state, start)?;
        let bootstrap = stdout
            .lines()
            .last()
            .map(|line| line.trim().to_owned())
            .filter(|line| !line.is_empty())
            .context("scripts/kafka start printed no bootstrap address")?;
        Ok(Cluster {
            bootstrap,
            secured: None,
            started: (!running).then(|| (script, state.clone())),
            state: Some(state),
        })
    }

    /// Its PLAINTEXT bootstrap servers (the driver's topic admin uses them).
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The secured listener the clients use, if not PLAINTEXT.
    pub fn secured(&self) -> Option<&SecuredListener> {
        self.secured.as_ref()
    }

    /// The process id of node `node` (1-based), for a cluster of the
    /// harness's; an error naming why not for one given by address.
    pub fn node_pid(&self, node: u32) -> anyhow::Result<i32> {
        let state = self.state.as_ref().context(
            "a stall needs the process of a broker: the driver's own cluster, not one given by address",
        )?;
        let file = state.join(format!("node-{node}/pid"));
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read node {node}'s pid from {}", file.display()))?;
        text.trim()
            .parse()
            .with_context(|| format!("{} holds no pid: {text:?}", file.display()))
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
