//! What a client process reports to the driver: one line on stdout,
//! `BENCH-RESULT <json>`.

use serde::{Deserialize, Serialize};

/// The prefix of the result line a client prints.
pub const RESULT_PREFIX: &str = "BENCH-RESULT ";

/// Send-to-ack latency percentiles, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest.
    pub max_us: f64,
    /// Mean.
    pub mean_us: f64,
    /// The measurement's resolution (1 µs for the Rust clients; 1000 µs for
    /// `ProducerPerformance`, which times in whole milliseconds).
    pub resolution_us: f64,
}

/// One client run as the client saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientReport {
    /// Records handed to the producer.
    pub records: u64,
    /// Key and value bytes of those records.
    pub bytes: u64,
    /// Records the broker acknowledged.
    pub acked: u64,
    /// Records that failed.
    pub failed: u64,
    /// The first failure, if any.
    pub first_error: Option<String>,
    /// Seconds from the first send to the last outcome.
    pub elapsed_s: f64,
    /// Latency percentiles in latency mode.
    pub latency: Option<Latency>,
    /// Seconds from creating the producer to the warm-up record's
    /// acknowledgement, before the clock started (`None`: no warm-up, the
    /// clock included start-up, as in `ProducerPerformance`).
    #[serde(default)]
    pub warm_up_s: Option<f64>,
    /// In latency mode with `--timed-partitions`, the latency of the records
    /// left out of `latency` (those bound for a stalled broker: the proof
    /// that the stall took effect).
    #[serde(default)]
    pub others_latency: Option<Latency>,
    /// Transactions committed in the measured window (`--transaction-size`).
    #[serde(default)]
    pub transactions: Option<u64>,
}

impl ClientReport {
    /// The line a client prints.
    pub fn to_line(&self) -> String {
        format!(
            "{RESULT_PREFIX}{}",
            serde_json::to_string(self).expect("a report always serializes")
        )
    }

    /// Finds and parses the result line in a client's output.
    pub fn from_output(stdout: &str) -> Option<anyhow::Result<ClientReport>> {
        let line = stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(RESULT_PREFIX))?;
        Some(serde_json::from_str(line).map_err(anyhow::Error::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips_through_its_line() {
        let report = ClientReport {
            records: 10,
            bytes: 1000,
            acked: 9,
            failed: 1,
            first_error: Some("timed out".into()),
            elapsed_s: 0.5,
            latency: None,
            warm_up_s: Some(0.1),
            others_latency: None,
            transactions: Some(3),
        };
        let output = format!("noise\n{}\nmore noise\n", report.to_line());
        assert_eq!(ClientReport::from_output(&output).unwrap().unwrap(), report);
        assert!(ClientReport::from_output("no result here").is_none());
    }
}
