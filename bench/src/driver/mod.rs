//! The driver behind `bench-run`: runs every client on every scenario against
//! one broker, alternating the clients' order so drift hits all alike, and
//! collects the results.

pub mod chart;
pub mod clients;
pub mod cluster;
pub mod floor;
pub mod machine;
pub mod markdown;
mod process;
pub mod results;
pub mod scenario;
pub mod targets;
pub mod topics;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::payload::write_payload_file;
use crate::report::ClientReport;
use crate::rusage::Usage;

use clients::{ClientSpec, JavaSetup, RunPlan, command_line, parse_report};
use cluster::{Cluster, SecuredListener};
use machine::MachineInfo;
use process::run_with_timeout;
use results::{BenchResults, RunResult, Status, Summary};
use scenario::{
    CLUSTER_BROKERS, Listener, PARTITIONS, SASL_MECHANISM, SMOKE_SECURED_CLIENTS, Scenario,
    TRANSACTION_CLIENTS,
};
use topics::TopicAdmin;

/// How long a fresh broker is loaded before anything is measured.
const BROKER_WARM_UP: Duration = Duration::from_secs(20);
/// The most warm-up runs, should each be short.
const MAX_WARM_UP_RUNS: u32 = 30;

/// What to run, where.
#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// The smoke matrix instead of the full one.
    pub smoke: bool,
    /// Bootstrap servers of the one-broker cluster every client uses.
    pub bootstrap: String,
    /// Bootstrap servers of the 3-broker cluster of the `-3brokers`
    /// scenarios; when unset and such a scenario is selected, the driver
    /// starts one of its own (see [`cluster`]).
    pub cluster_bootstrap: Option<String>,
    /// The harness state directory of the broker with secured listeners
    /// (`scripts/kafka start --security`) of the `-sasl_ssl` scenarios; the
    /// driver starts it there unless it is running (then it leaves it running).
    pub secure_state: PathBuf,
    /// The repository (for `scripts/kafka`, Cargo.lock and git).
    pub repo: PathBuf,
    /// Where payload files go.
    pub work_dir: PathBuf,
    /// Only these clients (all when empty).
    pub clients: Vec<String>,
    /// Only scenarios whose name contains one of these, or ends with one
    /// written with a trailing `$` (all when empty).
    pub scenarios: Vec<String>,
    /// Runs of each scenario per client; results are medians.
    pub repeat: u32,
    /// Longest a client run may take.
    pub run_timeout: Duration,
    /// Pause between runs, letting the broker settle.
    pub pause: Duration,
    /// Run (and discard) one run before measuring, to warm the broker's JIT.
    pub warm_up_broker: bool,
    /// Measure the hot path against the floor under callgrind at the end.
    pub floor: bool,
}

/// Runs the benchmark.
pub async fn run(options: &DriverOptions) -> anyhow::Result<BenchResults> {
    let started = Instant::now();
    let started_utc = utc_now();
    let scenarios = select_scenarios(options)?;
    let clients = select_clients(options)?;
    let bin_dir = std::env::current_exe()
        .context("cannot find this executable")?
        .parent()
        .context("this executable has no directory")?
        .to_path_buf();
    // The Kafka distribution of the running cluster's version: the Java
    // client's jars, and the version the tables report.
    let java = fetch_java(&options.repo)?;
    let kafka_version = java
        .dist
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix("kafka-"))
        .unwrap_or("unknown")
        .to_owned();
    let mut machine = MachineInfo::collect(&options.repo, &kafka_version);
    std::fs::create_dir_all(&options.work_dir)
        .with_context(|| format!("cannot create {}", options.work_dir.display()))?;
    let sizes: BTreeSet<usize> = scenarios.iter().map(|s| s.record_size).collect();
    for size in sizes {
        write_payload_file(&payload_path(&options.work_dir, size), size)?;
    }
    let rusage = bin_dir.join("bench-rusage");
    let total = scenarios
        .iter()
        .map(|s| clients.iter().filter(|c| runs_in(options, s, c)).count())
        .sum::<usize>()
        * options.repeat as usize;
    let mut runs = Vec::with_capacity(total);
    // The one-broker scenarios, then the SASL_SSL ones on a broker with
    // secured listeners, then the 3-broker ones, each cluster started only
    // then (a cluster this run started stops when `cluster` is dropped), so
    // idle brokers do not share the machine with another group's runs.
    for (brokers, listener) in [
        (1, Listener::Plaintext),
        (1, Listener::SaslSsl),
        (CLUSTER_BROKERS, Listener::Plaintext),
    ] {
        let group: Vec<&Scenario> = scenarios
            .iter()
            .filter(|s| s.brokers == brokers && s.listener == listener)
            .collect();
        let Some(first) = group.first() else {
            continue;
        };
        let cluster = match (brokers, listener, &options.cluster_bootstrap) {
            (_, Listener::SaslSsl, _) => Cluster::start_secured(
                &options.repo,
                &options.secure_state,
                listener.name(),
                SASL_MECHANISM,
                &options.work_dir,
            )?,
            (1, _, _) => Cluster::given(&options.bootstrap),
            (_, _, Some(bootstrap)) => Cluster::given(bootstrap),
            (_, _, None) => Cluster::start(&options.repo, brokers)?,
        };
        // The topic admin uses the PLAINTEXT listener; the clients the
        // scenario's listener.
        let target = Target {
            bootstrap: cluster
                .secured()
                .map_or(cluster.bootstrap(), |s| s.bootstrap.as_str())
                .to_owned(),
            secured: cluster.secured().cloned(),
            admin: TopicAdmin::connect(cluster.bootstrap())?,
            cluster,
        };
        let plan = RunContext {
            options,
            target: &target,
            rusage: &rusage,
            bin_dir: &bin_dir,
            java: Some(&java),
        };
        if options.warm_up_broker {
            // A freshly started broker (a JVM) is slower until its produce
            // path is compiled; the first measured runs would pay for it.
            // Run the first scenario with the first client, throwing the
            // results away, until the broker has been loaded for a while:
            // one run of a fast client lasts about a second, and three runs
            // of 3 million records on a fresh broker took 3.1, 2.5 and 1.7 s.
            if let Some(client) = clients.iter().find(|c| c.unsupported(first).is_none()) {
                let started = Instant::now();
                for run in 0..MAX_WARM_UP_RUNS {
                    if started.elapsed() >= BROKER_WARM_UP {
                        break;
                    }
                    // Each run its own topic: a deleted topic's name may not
                    // be free again at once.
                    let result = plan.run_one(first, client, u32::MAX - run).await;
                    eprintln!(
                        "[warm-up {}, not counted] {}",
                        run + 1,
                        progress_line(&result)
                    );
                }
            }
        }
        for attempt in 0..options.repeat {
            for (index, scenario) in group.iter().enumerate() {
                // Rotate the clients per scenario and attempt, so no client
                // always runs first (cold broker) or right after a heavy one.
                let mut order = clients.clone();
                order.rotate_left((index + attempt as usize) % clients.len());
                for client in order.iter().filter(|c| runs_in(options, scenario, c)) {
                    if let Some(reason) = client.unsupported(scenario) {
                        runs.push(RunResult::without_measurement(
                            scenario,
                            client.name,
                            attempt,
                            Status::Unsupported,
                            reason.to_owned(),
                        ));
                        continue;
                    }
                    let result = plan.run_one(scenario, client, attempt).await;
                    eprintln!("[{}/{total}] {}", runs.len() + 1, progress_line(&result));
                    runs.push(result);
                    tokio::time::sleep(options.pause).await;
                }
            }
        }
    }
    machine.load_at_end = machine::load_average();
    let floor = if options.floor {
        Some(
            floor::measure(&bin_dir, &options.work_dir.join("floor")).unwrap_or_else(|e| {
                eprintln!("warning: the floor was not measured: {e:#}");
                floor::FloorResult::not_measured(format!("{e:#}"))
            }),
        )
    } else {
        None
    };
    let summaries = scenarios
        .iter()
        .flat_map(|scenario| {
            clients
                .iter()
                .filter(|client| runs_in(options, scenario, client))
                .map(|client| {
                    let mine: Vec<&RunResult> = runs
                        .iter()
                        .filter(|r| r.scenario == scenario.name && r.client == client.name)
                        .collect();
                    Summary::of(&scenario.name, client.name, &mine)
                })
        })
        .collect();
    Ok(BenchResults {
        smoke: options.smoke,
        started: started_utc,
        duration_s: started.elapsed().as_secs_f64(),
        machine,
        scenarios,
        clients: clients
            .iter()
            .map(|c| (c.name.to_owned(), c.label.to_owned()))
            .collect(),
        runs,
        summaries,
        floor,
    })
}

/// Whether `client` runs `scenario`: all do, except that the transaction
/// rows run only [`TRANSACTION_CLIENTS`] and the smoke run's SASL_SSL
/// scenario only [`SMOKE_SECURED_CLIENTS`].
fn runs_in(options: &DriverOptions, scenario: &Scenario, client: &ClientSpec) -> bool {
    if scenario.transaction_size.is_some() && !TRANSACTION_CLIENTS.contains(&client.name) {
        return false;
    }
    !(options.smoke
        && scenario.listener.is_secured()
        && !SMOKE_SECURED_CLIENTS.contains(&client.name))
}

fn select_scenarios(options: &DriverOptions) -> anyhow::Result<Vec<Scenario>> {
    let all = if options.smoke {
        Scenario::smoke()
    } else {
        Scenario::full()
    };
    let chosen: Vec<Scenario> = all
        .into_iter()
        .filter(|s| {
            options.scenarios.is_empty()
                || options
                    .scenarios
                    .iter()
                    .any(|f| scenario_matches(&s.name, f))
        })
        .collect();
    if chosen.is_empty() {
        bail!("no scenario matches {:?}", options.scenarios);
    }
    Ok(chosen)
}

/// Whether a `--scenarios` filter picks the scenario `name`: `filter` is
/// part of the name, or with a trailing `$` (as in a regular expression) its
/// end, so `100B-keyless-none$` leaves out `100B-keyless-none-3brokers`.
fn scenario_matches(name: &str, filter: &str) -> bool {
    match filter.strip_suffix('$') {
        Some(end) => name.ends_with(end),
        None => name.contains(filter),
    }
}

fn select_clients(options: &DriverOptions) -> anyhow::Result<Vec<ClientSpec>> {
    let all = ClientSpec::all();
    for name in &options.clients {
        if !all.iter().any(|c| c.name == name) {
            let names: Vec<&str> = all.iter().map(|c| c.name).collect();
            bail!(
                "unknown client '{name}'; the clients are {}",
                names.join(", ")
            );
        }
    }
    Ok(all
        .into_iter()
        .filter(|c| options.clients.is_empty() || options.clients.iter().any(|n| n == c.name))
        .collect())
}

/// The payload file for records of `size` bytes.
pub fn payload_path(work_dir: &Path, size: usize) -> PathBuf {
    work_dir.join(format!("payload-{size}.txt"))
}

fn fetch_java(repo: &Path) -> anyhow::Result<JavaSetup> {
    let output = std::process::Command::new(repo.join("scripts/kafka"))
        .arg("fetch")
        .output()
        .context("cannot run scripts/kafka fetch")?;
    if !output.status.success() {
        bail!(
            "scripts/kafka fetch failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dist = stdout
        .lines()
        .last()
        .map(|line| PathBuf::from(line.trim()))
        .context("scripts/kafka fetch printed no directory")?;
    if !dist.join("lib").is_dir() {
        bail!(
            "scripts/kafka fetch printed {}, which has no lib/",
            dist.display()
        );
    }
    Ok(JavaSetup { dist })
}

fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// A cluster the clients produce to, and the admin client that makes and
/// checks its topics.
struct Target {
    /// The address the clients use.
    bootstrap: String,
    /// The secured listener the clients use, if not PLAINTEXT.
    secured: Option<SecuredListener>,
    admin: TopicAdmin,
    /// The cluster itself (its brokers' processes, for a stall); a cluster
    /// this run started stops when the target is dropped.
    cluster: Cluster,
}

struct RunContext<'a> {
    options: &'a DriverOptions,
    /// The cluster of this group of scenarios.
    target: &'a Target,
    rusage: &'a Path,
    bin_dir: &'a Path,
    java: Option<&'a JavaSetup>,
}

impl RunContext<'_> {
    async fn run_one(&self, scenario: &Scenario, client: &ClientSpec, attempt: u32) -> RunResult {
        let topic = format!(
            "bench-{}-{}-{attempt}-{}",
            scenario.name,
            client.name,
            std::process::id()
        );
        let target = self.target;
        let created = target
            .admin
            .create(
                &topic,
                PARTITIONS,
                scenario.replication_factor(),
                scenario.min_insync_replicas(),
            )
            .await;
        let result = match created {
            Ok(()) => {
                self.measure(scenario, client, attempt, &topic, target)
                    .await
            }
            Err(e) => Err(e),
        };
        let result = result.unwrap_or_else(|e| {
            RunResult::without_measurement(
                scenario,
                client.name,
                attempt,
                Status::Failed,
                format!("{e:#}"),
            )
        });
        if let Err(e) = target.admin.delete(&topic).await {
            eprintln!("warning: {e:#}");
        }
        result
    }

    async fn measure(
        &self,
        scenario: &Scenario,
        client: &ClientSpec,
        attempt: u32,
        topic: &str,
        target: &Target,
    ) -> anyhow::Result<RunResult> {
        let payload_file = payload_path(&self.options.work_dir, scenario.record_size);
        // The stall pair times the records bound for the partitions the
        // stalled node does not lead (leaders as the fresh topic has them).
        let timed_partitions = match scenario.timed_apart_from {
            Some(node) => {
                let node_id = i32::try_from(node).context("node number")?;
                let timed: Vec<i32> = target
                    .admin
                    .leaders(topic)?
                    .into_iter()
                    .filter(|(_, leader)| *leader != node_id)
                    .map(|(partition, _)| partition)
                    .collect();
                if timed.is_empty() {
                    bail!("node {node} leads every partition of {topic}: nothing to time apart");
                }
                Some(timed)
            }
            None => None,
        };
        let stall_pid = scenario
            .stall
            .map(|stall| target.cluster.node_pid(stall.node))
            .transpose()?;
        let plan = RunPlan {
            scenario,
            bootstrap: &target.bootstrap,
            secured: target.secured.as_ref(),
            topic,
            payload_file: &payload_file,
            bin_dir: self.bin_dir,
            java: self.java,
            timed_partitions: timed_partitions.as_deref(),
            stall_pid,
        };
        let mut line = vec![self.rusage.display().to_string()];
        line.extend(command_line(client, &plan)?);
        let output = run_with_timeout(&line, self.options.run_timeout);
        if let Some(pid) = stall_pid {
            // The client lets the broker go; a client that died mid-stall
            // must not leave it stopped for the next run.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGCONT,
            );
        }
        let output = output?;
        let usage =
            Usage::from_output(&output.stdout).context("bench-rusage printed no usage line")??;
        let report: Option<ClientReport> = match parse_report(client, scenario, &output.stdout) {
            Ok(report) => Some(report),
            Err(e) if output.success => return Err(e),
            Err(_) => None,
        };
        let (records_in_topic, count_error) = match target.admin.record_count(topic, PARTITIONS) {
            Ok(held) => (Some(held), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        };
        // The client's own account first; its stderr only when it gave none.
        let mut problems = Vec::new();
        if let Some(report) = &report
            && (report.acked != report.records || report.failed > 0)
        {
            problems.push(format!(
                "{} of {} acknowledged, {} failed (first error: {})",
                report.acked,
                report.records,
                report.failed,
                report.first_error.as_deref().unwrap_or("none")
            ));
        }
        if !output.success && problems.is_empty() {
            problems.push(format!(
                "exited with {}: {}",
                output.status,
                output.stderr_tail()
            ));
        }
        if let (Some(stall), Some(report)) = (scenario.stall, &report)
            && let Some(problem) = stall.not_taken_effect(report.others_latency.as_ref())
        {
            problems.push(problem);
        }
        if !records_in_topic.is_some_and(|held| scenario.topic_holds_the_records(held)) {
            problems.push(format!(
                "the topic holds {} records, not {}{}",
                records_in_topic.map_or_else(
                    || format!(
                        "an unknown number of ({})",
                        count_error.as_deref().unwrap_or("not counted")
                    ),
                    |n| n.to_string()
                ),
                scenario.count,
                if scenario.transaction_size.is_some() {
                    " and a commit marker per partition of each transaction"
                } else {
                    ""
                }
            ));
        }
        if let (Some(expected), Some(report)) = (scenario.measured_transactions(), &report)
            && report.transactions != Some(expected)
        {
            problems.push(format!(
                "{} transactions committed, not {expected}",
                report.transactions.unwrap_or(0)
            ));
        }
        if !problems.is_empty() {
            problems.push(self.keep_output(topic, &output));
        }
        let report = report.unwrap_or(ClientReport {
            records: scenario.count,
            bytes: 0,
            acked: 0,
            failed: 0,
            first_error: None,
            elapsed_s: 0.0,
            latency: None,
            warm_up_s: None,
            others_latency: None,
            transactions: None,
        });
        let (records_per_s, mb_per_s) = if report.elapsed_s > 0.0 {
            (
                report.records as f64 / report.elapsed_s,
                report.bytes as f64 / report.elapsed_s / 1e6,
            )
        } else {
            (0.0, 0.0)
        };
        Ok(RunResult {
            scenario: scenario.name.clone(),
            client: client.name.to_owned(),
            attempt,
            status: if problems.is_empty() {
                Status::Ok
            } else {
                Status::Failed
            },
            note: (!problems.is_empty()).then(|| problems.join("; ")),
            records: report.records,
            bytes: report.bytes,
            elapsed_s: report.elapsed_s,
            records_per_s,
            mb_per_s,
            user_s: usage.user_s,
            sys_s: usage.sys_s,
            cpu_s_per_million: usage.cpu_s() / (scenario.count.max(1) as f64 / 1e6),
            peak_rss_mib: usage.max_rss_kib as f64 / 1024.0,
            wall_s: output.wall.as_secs_f64(),
            latency: report.latency,
            warm_up_s: report.warm_up_s,
            records_in_topic,
        })
    }
}

impl RunContext<'_> {
    /// Saves a failed run's whole output (with RUST_LOG=kafka_core=debug, the
    /// producer's story) and says where.
    fn keep_output(&self, topic: &str, output: &process::Output) -> String {
        let dir = self.options.work_dir.join("logs");
        let path = dir.join(format!("{topic}.log"));
        let text = format!("{}\n--- stderr ---\n{}", output.stdout, output.stderr);
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
            Ok(()) => format!("output kept in {}", path.display()),
            Err(e) => format!("cannot keep the output in {}: {e}", path.display()),
        }
    }
}

fn progress_line(result: &RunResult) -> String {
    match result.status {
        Status::Ok => {
            let latency = result.latency.as_ref().map_or(String::new(), |l| {
                format!(
                    ", p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
                    l.p50_us / 1000.0,
                    l.p99_us / 1000.0,
                    l.p999_us / 1000.0
                )
            });
            format!(
                "{} {}: {:.0} records/s, {:.1} MB/s, {:.2} CPU s per M records, {:.0} MiB peak RSS{latency}",
                result.scenario,
                result.client,
                result.records_per_s,
                result.mb_per_s,
                result.cpu_s_per_million,
                result.peak_rss_mib
            )
        }
        _ => format!(
            "{} {}: {:?}: {}",
            result.scenario,
            result.client,
            result.status,
            result.note.as_deref().unwrap_or("")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::scenario_matches;

    #[test]
    fn a_trailing_dollar_matches_the_end_of_the_scenario_name() {
        assert!(scenario_matches("100B-keyless-none", "100B-keyless-none"));
        assert!(scenario_matches(
            "100B-keyless-none-3brokers",
            "100B-keyless-none"
        ));
        assert!(scenario_matches("100B-keyless-none", "100B-keyless-none$"));
        assert!(!scenario_matches(
            "100B-keyless-none-3brokers",
            "100B-keyless-none$"
        ));
        assert!(scenario_matches("100B-keyless-none-3brokers", "3brokers$"));
    }
}
