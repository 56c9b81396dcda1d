//! The targets, checked against every run's results and reported
//! honestly: met or missed, by how much, and with each ratio's spread across
//! passes.

use crate::args::Mode;

use super::clients::BASELINE;
use super::results::{BenchResults, CPU, Figure, P99, RATE, Spread};
use super::scenario::{BUFFER_MEMORY, Scenario};

/// The fixed overhead the peak-RSS target allows on top of `buffer.memory`:
/// the runtime, the connection buffers, the code, and the harness's own
/// payloads (up to 10 MiB of payload file held in memory).
pub const RSS_OVERHEAD_MIB: f64 = 64.0;

/// The most instructions per record the hot path may take, in floors.
pub const FLOOR_BOUND: f64 = 3.0;

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
    figure: Figure,
) -> Vec<(&'a str, Spread)> {
    scenarios
        .filter_map(|s| {
            Some((
                s.name.as_str(),
                results.ratio(&s.name, client, other, figure)?,
            ))
        })
        .collect()
}

fn meets(value: f64, bound: f64, lower_is_better: bool) -> bool {
    if lower_is_better {
        value <= bound
    } else {
        value >= bound
    }
}

fn ratio_check(
    target: &str,
    ratios: &[(&str, Spread)],
    bound: f64,
    lower_is_better: bool,
) -> TargetCheck {
    let worst = ratios.iter().max_by(|a, b| {
        if lower_is_better {
            a.1.median.total_cmp(&b.1.median)
        } else {
            b.1.median.total_cmp(&a.1.median)
        }
    });
    let Some((name, spread)) = worst else {
        return TargetCheck {
            target: target.to_owned(),
            met: None,
            detail: "not measured in this run".to_owned(),
        };
    };
    let ratio = spread.median;
    let met = meets(ratio, bound, lower_is_better);
    let all: Vec<String> = ratios.iter().map(|(n, r)| format!("{n} {r}")).collect();
    let mut verdict = if met {
        format!("worst row {name}: {spread}")
    } else if lower_is_better {
        format!(
            "missed: worst row {name} at {spread}, {:.0}% above the {bound}x bound",
            (ratio / bound - 1.0) * 100.0
        )
    } else {
        format!(
            "missed: worst row {name} at {spread}, {:.0}% short of {bound}x",
            (1.0 - ratio / bound) * 100.0
        )
    };
    // Rows whose median meets the bound but whose worst pass does not.
    let shaky: Vec<&str> = ratios
        .iter()
        .filter(|(_, r)| {
            let worst_pass = if lower_is_better { r.max } else { r.min };
            meets(r.median, bound, lower_is_better) && !meets(worst_pass, bound, lower_is_better)
        })
        .map(|(n, _)| *n)
        .collect();
    if !shaky.is_empty() {
        verdict.push_str(&format!(
            "; some passes miss the bound on {}",
            shaky.join(", ")
        ));
    }
    TargetCheck {
        target: target.to_owned(),
        met: Some(met),
        detail: format!("{verdict} (all rows: {})", all.join(", ")),
    }
}

/// Checks every target of the issue.
pub fn evaluate(results: &BenchResults) -> Vec<TargetCheck> {
    let small = || throughput_scenarios(results).filter(|s| s.record_size == 100);
    // The one-broker latency rows; the stall pair is checked on its own.
    let latency = || {
        results
            .scenarios
            .iter()
            .filter(|s| s.mode == Mode::Latency && s.timed_apart_from.is_none())
    };
    let mut checks = vec![
        ratio_check(
            "ours >= 2x librdkafka's (ThreadedProducer) records/s on every 100-byte row",
            &ratios(results, small(), "ours", BASELINE, RATE),
            2.0,
            false,
        ),
        ratio_check(
            "ours <= 0.4x librdkafka's (ThreadedProducer) CPU per record on every 100-byte row",
            &ratios(results, small(), "ours", BASELINE, CPU),
            0.4,
            true,
        ),
    ];
    for other in ["confluent", "krafka", "java"] {
        checks.push(ratio_check(
            &format!(
                "ours ahead of {other} (records/s) on every throughput row, 3-broker rows included"
            ),
            &ratios(results, throughput_scenarios(results), "ours", other, RATE),
            1.0,
            false,
        ));
    }
    checks.push(ratio_check(
        "KafkaTemplate with a derived Avro record >= 0.9x the raw core's records/s on every row",
        &ratios(
            results,
            throughput_scenarios(results),
            "template",
            "ours",
            RATE,
        ),
        0.9,
        false,
    ));
    checks.push(ratio_check(
        "KafkaTemplate with registry Avro (mock:// registry) >= 0.95x the template with raw Avro's records/s on every row",
        &ratios(
            results,
            throughput_scenarios(results),
            "template-registry",
            "template",
            RATE,
        ),
        0.95,
        false,
    ));
    checks.push(ratio_check(
        "KafkaTemplate with metrics and tracing on (Prometheus recorder, a span per send sampled at 1%, OpenTelemetry layer, traceparent in every record) >= 0.95x without, records/s on every row",
        &ratios(
            results,
            throughput_scenarios(results),
            "template-observed",
            "template",
            RATE,
        ),
        0.95,
        false,
    ));
    checks.push(ratio_check(
        "ours: send-to-ack p99 at 20k records/s no worse than librdkafka's (ThreadedProducer) at every linger",
        &ratios(results, latency(), "ours", BASELINE, P99),
        1.0,
        true,
    ));
    let stalls: Vec<(&str, Spread)> = results
        .scenarios
        .iter()
        .filter_map(|s| {
            let undisturbed = s.undisturbed_name()?;
            let spread = results.ratio_between((&s.name, "ours"), (undisturbed, "ours"), P99)?;
            Some((s.name.as_str(), spread))
        })
        .collect();
    checks.push(ratio_check(
        "ours: with one broker stalled by SIGSTOP, the p99 of records bound for the other brokers <= 2x the undisturbed run's",
        &stalls,
        2.0,
        true,
    ));
    checks.push(floor_check(results));
    checks.push(rss_check(results));
    checks
}

fn floor_check(results: &BenchResults) -> TargetCheck {
    let target =
        format!("hot path <= {FLOOR_BOUND}x the floor (copy + CRC-32C) in instructions per record");
    let Some(floor) = &results.floor else {
        return TargetCheck {
            target,
            met: None,
            detail: "not measured in this run (scripts/bench --floor)".to_owned(),
        };
    };
    match (
        floor.ratio,
        floor.hot_path_ir_per_record,
        floor.floor_ir_per_record,
    ) {
        (Some(ratio), Some(hot), Some(floor_ir)) => {
            let met = ratio <= FLOOR_BOUND;
            TargetCheck {
                target,
                met: Some(met),
                detail: format!(
                    "{}{ratio:.2}x: {hot:.0} against {floor_ir:.0} instructions per {}-byte record{}",
                    if met { "" } else { "missed: " },
                    floor.value_size,
                    if met {
                        String::new()
                    } else {
                        format!(
                            ", {:.0} instructions per record over the bound",
                            hot - FLOOR_BOUND * floor_ir
                        )
                    }
                ),
            }
        }
        _ => TargetCheck {
            target,
            met: None,
            detail: format!(
                "not measured: {}",
                floor.note.as_deref().unwrap_or("no figures")
            ),
        },
    }
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
    use super::super::floor::FloorResult;
    use super::*;

    fn one(ratio: f64) -> Spread {
        Spread::of(vec![ratio]).unwrap()
    }

    #[test]
    fn a_missed_ratio_says_by_how_much() {
        let check = ratio_check("t", &[("a", one(1.6)), ("b", one(1.2))], 1.5, false);
        assert_eq!(check.met, Some(false));
        assert!(
            check
                .detail
                .starts_with("missed: worst row b at 1.20x, 20% short of 1.5x"),
            "{}",
            check.detail
        );
        let check = ratio_check("t", &[("a", one(0.4)), ("b", one(0.6))], 0.5, true);
        assert_eq!(check.met, Some(false));
        assert!(
            check.detail.contains("b at 0.60x, 20% above"),
            "{}",
            check.detail
        );
        let check = ratio_check("t", &[("a", one(0.4))], 0.5, true);
        assert_eq!(check.met, Some(true));
        assert_eq!(ratio_check("t", &[], 0.5, true).met, None);
    }

    fn results_with(floor: Option<FloorResult>) -> BenchResults {
        BenchResults {
            smoke: false,
            started: String::new(),
            duration_s: 0.0,
            machine: Default::default(),
            scenarios: Vec::new(),
            clients: Vec::new(),
            runs: Vec::new(),
            summaries: Vec::new(),
            floor,
        }
    }

    #[test]
    fn the_floor_target_reads_the_callgrind_figures() {
        let measured = |hot: f64, floor: f64| FloorResult {
            hot_path_ir_per_record: Some(hot),
            floor_ir_per_record: Some(floor),
            ratio: Some(hot / floor),
            ..FloorResult::not_measured(String::new())
        };
        let check = floor_check(&results_with(Some(measured(500.0, 50.0))));
        assert_eq!(check.met, Some(false));
        assert!(
            check.detail.starts_with("missed: 10.00x: 500 against 50")
                && check.detail.contains("350 instructions per record over"),
            "{}",
            check.detail
        );
        let check = floor_check(&results_with(Some(measured(120.0, 50.0))));
        assert_eq!(check.met, Some(true));
        let check = floor_check(&results_with(Some(FloorResult::not_measured(
            "valgrind is not installed".into(),
        ))));
        assert_eq!(check.met, None);
        assert!(check.detail.contains("valgrind"), "{}", check.detail);
        assert_eq!(floor_check(&results_with(None)).met, None);
    }

    #[test]
    fn a_met_target_says_where_a_pass_missed() {
        let spread = Spread::of(vec![1.9, 2.2, 2.4]).unwrap();
        let check = ratio_check("t", &[("a", spread)], 2.0, false);
        assert_eq!(check.met, Some(true));
        assert!(
            check.detail.contains("worst row a: 2.20x (1.90–2.40)")
                && check.detail.contains("some passes miss the bound on a"),
            "{}",
            check.detail
        );
    }
}
