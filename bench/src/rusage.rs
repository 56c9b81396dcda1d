//! CPU time and peak memory of a measured client process (see `bench-rusage`).

use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

/// The prefix of the line `bench-rusage` prints.
pub const RUSAGE_PREFIX: &str = "BENCH-RUSAGE ";

/// Resources a process and its waited-for descendants used.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// User CPU seconds.
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Peak resident set size of the largest process, in KiB.
    pub max_rss_kib: u64,
}

impl Usage {
    /// User plus system CPU seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// Finds and parses the `bench-rusage` line in an output.
    pub fn from_output(stdout: &str) -> Option<anyhow::Result<Usage>> {
        let line = stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(RUSAGE_PREFIX))?;
        Some(serde_json::from_str(line).map_err(anyhow::Error::from))
    }
}

/// The usage of this process's terminated and waited-for children.
pub fn children_usage() -> nix::Result<Usage> {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(Usage {
        user_s: seconds(usage.user_time()),
        sys_s: seconds(usage.system_time()),
        // Linux reports ru_maxrss in KiB.
        max_rss_kib: u64::try_from(usage.max_rss()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_shows_up_in_the_usage() {
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        let usage = children_usage().unwrap();
        assert!(usage.cpu_s() > 0.0, "{usage:?}");
        assert!(usage.max_rss_kib > 0);
        let line = format!(
            "out\n{RUSAGE_PREFIX}{}\n",
            serde_json::to_string(&usage).unwrap()
        );
        assert_eq!(Usage::from_output(&line).unwrap().unwrap(), usage);
    }
}
