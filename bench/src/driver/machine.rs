//! What the results were measured on: the machine, the load, and the versions.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// The machine and software of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MachineInfo {
    /// Logical CPUs available to this process.
    pub cpus: usize,
    /// The CPU model from /proc/cpuinfo.
    pub cpu_model: String,
    /// Total memory in MiB.
    pub memory_mib: u64,
    /// Kernel release.
    pub kernel: String,
    /// /proc/loadavg when the run started.
    pub load_at_start: String,
    /// /proc/loadavg when the run ended.
    pub load_at_end: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The first line of `java -version`.
    pub java: String,
    /// The Kafka broker's version.
    pub kafka_broker: String,
    /// The Kafka Java client's version (ProducerPerformance's jars).
    pub kafka_java_client: String,
    /// librdkafka's version as the library reports it.
    pub librdkafka: String,
    /// Crate versions from Cargo.lock (rdkafka, confluent-kafka, krafka, tokio).
    pub crates: Vec<(String, String)>,
    /// The repository's commit, with `-dirty` when the tree had changes.
    pub commit: String,
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn command_line_output(program: &str, args: &[&str], dir: Option<&Path>) -> String {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    match command.output() {
        // `java -version` writes to stderr.
        Ok(out) => {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        }
        Err(e) => format!("unavailable ({e})"),
    }
}

/// The current load average (/proc/loadavg's first three fields).
pub fn load_average() -> String {
    read_trimmed("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The version of `name` in the Cargo.lock at `lock`.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let marker = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&marker)? + marker.len();
    let end = lock.get(start..)?.find('"')? + start;
    lock.get(start..end).map(str::to_owned)
}

impl MachineInfo {
    /// Collects what can be known before the run; `kafka_version` is the
    /// broker's (and the Java client's) version.
    pub fn collect(repo: &Path, kafka_version: &str) -> MachineInfo {
        let cpuinfo = read_trimmed("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, model)| model.trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let memory_mib = read_trimmed("/proc/meminfo")
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kib| kib / 1024);
        let lock = fs::read_to_string(repo.join("Cargo.lock")).unwrap_or_default();
        let crates = [
            "rdkafka",
            "rdkafka-sys",
            "confluent-kafka",
            "krafka",
            "tokio",
        ]
        .iter()
        .map(|name| {
            let version = locked_version(&lock, name).unwrap_or_else(|| "unknown".to_owned());
            ((*name).to_owned(), version)
        })
        .collect();
        let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
        let head = command_line_output("git", &["rev-parse", "--short", "HEAD"], Some(repo));
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .current_dir(repo)
            .output()
            .map(|out| !out.stdout.is_empty())
            .unwrap_or(false);
        MachineInfo {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory_mib,
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            load_at_start: load_average(),
            load_at_end: String::new(),
            rustc: command_line_output("rustc", &["--version"], Some(repo)),
            java: command_line_output("java", &["-version"], None),
            kafka_broker: kafka_version.to_owned(),
            kafka_java_client: kafka_version.to_owned(),
            librdkafka,
            crates,
            commit: if dirty { format!("{head}-dirty") } else { head },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_a_lock_file() {
        let lock = "[[package]]\nname = \"rdkafka\"\nversion = \"0.39.0\"\n\n[[package]]\nname = \"tokio\"\nversion = \"1.54.1\"\n";
        assert_eq!(locked_version(lock, "rdkafka").as_deref(), Some("0.39.0"));
        assert_eq!(locked_version(lock, "tokio").as_deref(), Some("1.54.1"));
        assert_eq!(locked_version(lock, "rdkafka-sys"), None);
    }
}
