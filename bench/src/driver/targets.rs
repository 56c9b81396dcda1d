//! The targets, checked against every run's results and reported
//! honestly: met or missed, and by how much.

use crate::args::Mode;

use super::clients::BASELINE;
use super::results::BenchResults;
use super::scenario::{BUFFER_MEMORY, Scenario};

/// The fixed overhead the peak-RSS target allows on top of `buffer.memory`:
/// the runtime, the connection buffers, the code, and the harness's own
/// payloads (up to 10 MiB of payload file held in memory).
pub const RSS_OVERHEAD_MIB: f64 = 64.0;

/// One target and how this run fared.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetCheck {
    /// The target, as the issue states it.
    pub target: String,
    /// Met, missed, or not measurable in this run (`None`).
    pub met: Option<bool>,
    /// The figures behind the verdict.
    pub detail: String,
}

fn throughput_scenarios(results: &BenchResults) -> impl Iterator<Item = &Scenario> {
    results
        .scenarios
        .iter()
        .filter(|s| s.mode == Mode::Throughput)
}

/// `(scenario, ratio)` of `figure(client) / figure(other)` where both exist.
fn ratios<'a>(
    results: &'a BenchResults,
    scenarios: impl Iterator<Item = &'a Scenario>,
    client: &str,
    other: &str,
    figure: fn(&super::results::Summary) -> Option<f64>,
) -> Vec<(&'a str, f64)> {
    scenarios
        .filter_map(|s| {
            let mine = figure(results.summary(&s.name, client)?)?;
            let theirs = figure(results.summary(&s.name, other)?)?;
            (theirs > 0.0).then_some((s.name.as_str(), mine / theirs))
        })
        .collect()
}

fn worst(ratios: &[(&str, f64)], lower_is_better: bool) -> Option<(String, f64)> {
    ratios
        .iter()
        .copied()
        .max_by(|a, b| {
            if lower_is_better {
                a.1.total_cmp(&b.1)
            } else {
                b.1.total_cmp(&a.1)
            }
        })
        .map(|(name, ratio)| (name.to_owned(), ratio))
}

fn ratio_check(
    target: &str,
    ratios: &[(&str, f64)],
    bound: f64,
    lower_is_better: bool,
) -> TargetCheck {
    let Some((name, ratio)) = worst(ratios, lower_is_better) else {
        return TargetCheck {
            target: target.to_owned(),
            met: None,
            detail: "not measured in this run".to_owned(),
        };
    };
    let met = if lower_is_better {
        ratio <= bound
    } else {
        ratio >= bound
    };
    let all: Vec<String> = ratios.iter().map(|(n, r)| format!("{n} {r:.2}x")).collect();
    let verdict = if met {
        format!("worst row {name}: {ratio:.2}x")
    } else if lower_is_better {
        format!(
            "missed: worst row {name} at {ratio:.2}x, {:.0}% above the {bound}x bound",
            (ratio / bound - 1.0) * 100.0
        )
    } else {
        format!(
            "missed: worst row {name} at {ratio:.2}x, {:.0}% short of {bound}x",
            (1.0 - ratio / bound) * 100.0
        )
    };
    TargetCheck {
        target: target.to_owned(),
        met: Some(met),
        detail: format!("{verdict} (all rows: {})", all.join(", ")),
    }
}

/// Checks every target of the issue.
pub fn evaluate(results: &BenchResults) -> Vec<TargetCheck> {
    let small = || throughput_scenarios(results).filter(|s| s.record_size == 100);
    let rate = |s: &super::results::Summary| s.records_per_s;
    let cpu = |s: &super::results::Summary| s.cpu_s_per_million;
    let mut checks = vec![
        ratio_check(
            "ours >= 1.5x librdkafka's records/s on 100-byte records",
            &ratios(results, small(), "ours", BASELINE, rate),
            1.5,
            false,
        ),
        ratio_check(
            "ours <= 0.5x librdkafka's CPU per record on 100-byte records",
            &ratios(results, small(), "ours", BASELINE, cpu),
            0.5,
            true,
        ),
    ];
    for other in ["java", "confluent"] {
        checks.push(ratio_check(
            &format!("ours ahead of {other} (records/s) on every throughput row"),
            &ratios(results, throughput_scenarios(results), "ours", other, rate),
            1.0,
            false,
        ));
    }
    checks.push(ratio_check(
        "KafkaTemplate with a derived Avro record within 15% of the raw core's records/s",
        &ratios(
            results,
            throughput_scenarios(results),
            "template",
            "ours",
            rate,
        ),
        0.85,
        false,
    ));
    checks.push(rss_check(results));
    checks
}

fn rss_check(results: &BenchResults) -> TargetCheck {
    let buffer_mib = BUFFER_MEMORY as f64 / 1024.0 / 1024.0;
    let bound = buffer_mib + RSS_OVERHEAD_MIB;
    let peaks: Vec<(&str, f64)> = results
        .scenarios
        .iter()
        .filter_map(|s| {
            Some((
                s.name.as_str(),
                results.summary(&s.name, "ours")?.peak_rss_mib?,
            ))
        })
        .collect();
    let target = format!(
        "ours: peak RSS <= buffer.memory ({buffer_mib:.0} MiB) + {RSS_OVERHEAD_MIB:.0} MiB fixed overhead"
    );
    match peaks.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)) {
        None => TargetCheck {
            target,
            met: None,
            detail: "not measured in this run".to_owned(),
        },
        Some((name, peak)) => TargetCheck {
            target,
            met: Some(peak <= bound),
            detail: format!(
                "largest peak {peak:.1} MiB ({name}); bound {bound:.0} MiB{}",
                if peak <= bound {
                    String::new()
                } else {
                    format!(", missed by {:.1} MiB", peak - bound)
                }
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_ratio_says_by_how_much() {
        let check = ratio_check("t", &[("a", 1.6), ("b", 1.2)], 1.5, false);
        assert_eq!(check.met, Some(false));
        assert!(
            check
                .detail
                .starts_with("missed: worst row b at 1.20x, 20% short of 1.5x"),
            "{}",
            check.detail
        );
        let check = ratio_check("t", &[("a", 0.4), ("b", 0.6)], 0.5, true);
        assert_eq!(check.met, Some(false));
        assert!(
            check.detail.contains("b at 0.60x, 20% above"),
            "{}",
            check.detail
        );
        let check = ratio_check("t", &[("a", 0.4)], 0.5, true);
        assert_eq!(check.met, Some(true));
        assert_eq!(ratio_check("t", &[], 0.5, true).met, None);
    }
}
