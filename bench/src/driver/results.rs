//! Results of runs, and their summary per scenario and client.

use serde::{Deserialize, Serialize};

use std::fmt;

use crate::report::Latency;

use super::floor::FloorResult;
use super::machine::MachineInfo;
use super::scenario::Scenario;

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every record acknowledged and found in the topic.
    Ok,
    /// The run failed; `note` says why.
    Failed,
    /// The client cannot run this scenario; `note` says why.
    Unsupported,
}

/// One client's run of one scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// The scenario's name.
    pub scenario: String,
    /// The client's name.
    pub client: String,
    /// Which repetition (from 0).
    pub attempt: u32,
    /// How it ended.
    pub status: Status,
    /// Why it failed or could not run.
    pub note: Option<String>,
    /// Records sent.
    pub records: u64,
    /// Key and value bytes sent.
    pub bytes: u64,
    /// Seconds from the first send to the last acknowledgement, as the client timed it.
    pub elapsed_s: f64,
    /// Records per second over `elapsed_s`.
    pub records_per_s: f64,
    /// Megabytes (10^6 bytes) of keys and values per second.
    pub mb_per_s: f64,
    /// User CPU seconds of the client process (start-up included).
    pub user_s: f64,
    /// System CPU seconds of the client process.
    pub sys_s: f64,
    /// (User + system) CPU seconds per million records.
    pub cpu_s_per_million: f64,
    /// Peak resident set size of the client process, MiB.
    pub peak_rss_mib: f64,
    /// Wall-clock seconds of the whole process.
    pub wall_s: f64,
    /// Latency percentiles (latency scenarios).
    pub latency: Option<Latency>,
    /// Seconds the client took to get its warm-up record acknowledged before
    /// its clock started (`None`: its clock included start-up).
    pub warm_up_s: Option<f64>,
    /// Records the topic holds after the run (high minus low watermarks).
    pub records_in_topic: Option<u64>,
}

impl RunResult {
    /// A run that did not happen or failed before measuring anything.
    pub fn without_measurement(
        scenario: &Scenario,
        client: &str,
        attempt: u32,
        status: Status,
        note: String,
    ) -> RunResult {
        RunResult {
            scenario: scenario.name.clone(),
            client: client.to_owned(),
            attempt,
            status,
            note: Some(note),
            records: scenario.count,
            bytes: 0,
            elapsed_s: 0.0,
            records_per_s: 0.0,
            mb_per_s: 0.0,
            user_s: 0.0,
            sys_s: 0.0,
            cpu_s_per_million: 0.0,
            peak_rss_mib: 0.0,
            wall_s: 0.0,
            latency: None,
            warm_up_s: None,
            records_in_topic: None,
        }
    }
}

/// The median over a scenario's successful runs by one client.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// The scenario's name.
    pub scenario: String,
    /// The client's name.
    pub client: String,
    /// Successful runs / all runs.
    pub runs_ok: usize,
    /// All runs.
    pub runs: usize,
    /// Why there is no figure, when there is none.
    pub note: Option<String>,
    /// Median records per second.
    pub records_per_s: Option<f64>,
    /// Median MB/s.
    pub mb_per_s: Option<f64>,
    /// Median CPU seconds per million records.
    pub cpu_s_per_million: Option<f64>,
    /// Median peak RSS, MiB.
    pub peak_rss_mib: Option<f64>,
    /// Median latency percentiles.
    pub latency: Option<Latency>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

impl Summary {
    /// Summarizes `runs` (all of one scenario and client).
    pub fn of(scenario: &str, client: &str, runs: &[&RunResult]) -> Summary {
        let ok: Vec<&&RunResult> = runs.iter().filter(|r| r.status == Status::Ok).collect();
        let pick = |f: &dyn Fn(&RunResult) -> f64| median(ok.iter().map(|r| f(r)).collect());
        let latencies: Vec<&Latency> = ok.iter().filter_map(|r| r.latency.as_ref()).collect();
        let latency = (!latencies.is_empty()).then(|| {
            let pick = |f: &dyn Fn(&Latency) -> f64| {
                median(latencies.iter().map(|l| f(l)).collect()).unwrap_or(0.0)
            };
            Latency {
                p50_us: pick(&|l| l.p50_us),
                p99_us: pick(&|l| l.p99_us),
                p999_us: pick(&|l| l.p999_us),
                max_us: pick(&|l| l.max_us),
                mean_us: pick(&|l| l.mean_us),
                resolution_us: latencies
                    .iter()
                    .map(|l| l.resolution_us)
                    .fold(0.0, f64::max),
            }
        });
        Summary {
            scenario: scenario.to_owned(),
            client: client.to_owned(),
            runs_ok: ok.len(),
            runs: runs.len(),
            note: runs.iter().find_map(|r| r.note.clone()),
            records_per_s: pick(&|r| r.records_per_s),
            mb_per_s: pick(&|r| r.mb_per_s),
            cpu_s_per_million: pick(&|r| r.cpu_s_per_million),
            peak_rss_mib: pick(&|r| r.peak_rss_mib),
            latency,
        }
    }
}

/// Everything one benchmark run produced, as written to `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchResults {
    /// Whether this was the smoke run.
    pub smoke: bool,
    /// When it started (UTC, ISO 8601).
    pub started: String,
    /// Wall-clock seconds of the whole benchmark.
    pub duration_s: f64,
    /// Machine and versions.
    pub machine: MachineInfo,
    /// The scenarios, in run order.
    pub scenarios: Vec<Scenario>,
    /// The clients (name, description), in table order.
    pub clients: Vec<(String, String)>,
    /// Every run.
    pub runs: Vec<RunResult>,
    /// Per scenario and client, the medians.
    pub summaries: Vec<Summary>,
    /// The hot path against the floor in instructions per record (`None`:
    /// not part of this run).
    #[serde(default)]
    pub floor: Option<FloorResult>,
}

/// One figure of a run, for ratios.
pub type Figure = fn(&RunResult) -> Option<f64>;

/// Records per second.
pub const RATE: Figure = |r| Some(r.records_per_s);
/// CPU seconds per million records.
pub const CPU: Figure = |r| Some(r.cpu_s_per_million);
/// Send-to-ack p99 latency.
pub const P99: Figure = |r| r.latency.as_ref().map(|l| l.p99_us);

/// A ratio over the passes of a run: the median of the per-pass ratios and
/// their smallest and largest (each pass's two runs ran close together, so a
/// pass's ratio sees the same machine load on both sides).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median ratio.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// Passes with both figures.
    pub passes: usize,
}

impl Spread {
    /// The spread of `ratios` (`None` when empty).
    pub fn of(ratios: Vec<f64>) -> Option<Spread> {
        let passes = ratios.len();
        let min = ratios.iter().copied().reduce(f64::min)?;
        let max = ratios.iter().copied().reduce(f64::max)?;
        Some(Spread {
            median: median(ratios)?,
            min,
            max,
            passes,
        })
    }
}

impl fmt::Display for Spread {
    /// `2.34x (2.10-2.51)`, or `2.34x` for one pass.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}x", self.median)?;
        if self.passes > 1 {
            write!(f, " ({:.2}–{:.2})", self.min, self.max)?;
        }
        Ok(())
    }
}

impl BenchResults {
    /// The summary of `scenario` for `client`.
    pub fn summary(&self, scenario: &str, client: &str) -> Option<&Summary> {
        self.summaries
            .iter()
            .find(|s| s.scenario == scenario && s.client == client)
    }

    fn ok_runs<'a>(
        &'a self,
        scenario: &'a str,
        client: &'a str,
    ) -> impl Iterator<Item = &'a RunResult> + 'a {
        self.runs
            .iter()
            .filter(move |r| r.scenario == scenario && r.client == client && r.status == Status::Ok)
    }

    /// `figure(client) / figure(other)` on `scenario`, pass by pass (runs of
    /// the same attempt), over the passes where both succeeded.
    pub fn ratio(
        &self,
        scenario: &str,
        client: &str,
        other: &str,
        figure: Figure,
    ) -> Option<Spread> {
        self.ratio_between((scenario, client), (scenario, other), figure)
    }

    /// `figure` of one (scenario, client) over another's, pass by pass (runs
    /// of the same attempt), over the passes where both succeeded: two
    /// clients on one scenario, or one client on two scenarios.
    pub fn ratio_between(
        &self,
        (scenario, client): (&str, &str),
        (other_scenario, other): (&str, &str),
        figure: Figure,
    ) -> Option<Spread> {
        let ratios = self
            .ok_runs(scenario, client)
            .filter_map(|mine| {
                let theirs = self
                    .ok_runs(other_scenario, other)
                    .find(|r| r.attempt == mine.attempt)?;
                let (mine, theirs) = (figure(mine)?, figure(theirs)?);
                (theirs > 0.0).then_some(mine / theirs)
            })
            .collect();
        Spread::of(ratios)
    }

    /// Whether any run failed.
    pub fn any_failed(&self) -> bool {
        self.runs.iter().any(|r| r.status == Status::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn failed_runs_are_left_out_of_the_medians() {
        let scenario = &Scenario::full()[0];
        let mut good =
            RunResult::without_measurement(scenario, "ours", 0, Status::Ok, String::new());
        good.note = None;
        good.records_per_s = 100.0;
        let bad =
            RunResult::without_measurement(scenario, "ours", 1, Status::Failed, "boom".into());
        let summary = Summary::of(&scenario.name, "ours", &[&good, &bad]);
        assert_eq!((summary.runs_ok, summary.runs), (1, 2));
        assert_eq!(summary.records_per_s, Some(100.0));
        assert_eq!(summary.note.as_deref(), Some("boom"));
    }

    fn run(client: &str, attempt: u32, rate: f64, status: Status) -> RunResult {
        let scenario = &Scenario::full()[0];
        let mut run =
            RunResult::without_measurement(scenario, client, attempt, status, String::new());
        run.records_per_s = rate;
        run
    }

    #[test]
    fn ratios_are_taken_pass_by_pass_with_their_spread() {
        let runs = vec![
            run("ours", 0, 200.0, Status::Ok),
            run("rdkafka", 0, 100.0, Status::Ok),
            run("ours", 1, 300.0, Status::Ok),
            run("rdkafka", 1, 100.0, Status::Ok),
            run("ours", 2, 250.0, Status::Ok),
            run("rdkafka", 2, 100.0, Status::Ok),
            // A pass where the baseline failed has no ratio.
            run("ours", 3, 900.0, Status::Ok),
            run("rdkafka", 3, 0.0, Status::Failed),
        ];
        let results = BenchResults {
            smoke: true,
            started: String::new(),
            duration_s: 0.0,
            machine: MachineInfo::default(),
            scenarios: Scenario::full(),
            clients: Vec::new(),
            runs,
            summaries: Vec::new(),
            floor: None,
        };
        let name = &Scenario::full()[0].name;
        let spread = results.ratio(name, "ours", "rdkafka", RATE).unwrap();
        assert_eq!(
            spread,
            Spread {
                median: 2.5,
                min: 2.0,
                max: 3.0,
                passes: 3
            }
        );
        assert_eq!(spread.to_string(), "2.50x (2.00–3.00)");
        assert_eq!(Spread::of(vec![1.234]).unwrap().to_string(), "1.23x");
        assert!(results.ratio(name, "ours", "java", RATE).is_none());
    }
}
