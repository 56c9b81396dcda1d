//! `results.md`: the tables, each figure with its ratio to librdkafka's
//! `ThreadedProducer` and that ratio's spread across passes.

use std::fmt::Write;

use crate::args::Mode;

use super::clients::BASELINE;
use super::floor::FloorResult;
use super::results::{BenchResults, CPU, Figure, P99, RATE, Status, Summary};
use super::scenario::{
    BATCH_SIZE, BUFFER_MEMORY, CLUSTER_BROKERS, CLUSTER_MIN_INSYNC_REPLICAS, PARTITIONS,
    SASL_MECHANISM, Scenario,
};
use super::targets::{TargetCheck, evaluate};

/// `client`'s ratio to the baseline on `scenario`: the median over passes and
/// the min–max.
fn vs_baseline(results: &BenchResults, scenario: &str, client: &str, figure: Figure) -> String {
    results
        .ratio(scenario, client, BASELINE, figure)
        .map_or("–".to_owned(), |spread| spread.to_string())
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or("–".to_owned(), |v| format!("{v:.decimals$}"))
}

fn thousands(value: Option<f64>) -> String {
    let Some(value) = value else {
        return "–".to_owned();
    };
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn label<'a>(results: &'a BenchResults, client: &'a str) -> &'a str {
    results
        .clients
        .iter()
        .find(|(name, _)| name == client)
        .map_or(client, |(_, label)| label.as_str())
}

fn missing(summary: &Summary) -> String {
    summary
        .note
        .as_deref()
        .map_or("no successful run".to_owned(), |note| {
            note.replace('|', "/")
        })
}

/// One line per scenario and client with a summary: `row`'s cells, or
/// `n/a` and `missing_cells` dashes when no run of it succeeded.
fn table_rows(
    out: &mut String,
    results: &BenchResults,
    scenarios: &[&Scenario],
    missing_cells: usize,
    row: impl Fn(&Scenario, &str, &Summary) -> String,
) {
    for scenario in scenarios {
        for (client, _) in &results.clients {
            let Some(summary) = results.summary(&scenario.name, client) else {
                continue;
            };
            let cells = if summary.runs_ok == 0 {
                format!("n/a{}", " | –".repeat(missing_cells))
            } else {
                row(scenario, client, summary)
            };
            let _ = writeln!(
                out,
                "| {} | {} | {cells} |",
                scenario.name,
                label(results, client)
            );
        }
    }
}

fn throughput_table(out: &mut String, results: &BenchResults, scenarios: &[&Scenario]) {
    out.push_str(
        "| Scenario | Client | records/s | vs librdkafka | MB/s | CPU s / M records | vs librdkafka | peak RSS MiB |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    table_rows(out, results, scenarios, 5, |scenario, client, summary| {
        format!(
            "{} | {} | {} | {} | {} | {}",
            thousands(summary.records_per_s),
            vs_baseline(results, &scenario.name, client, RATE),
            number(summary.mb_per_s, 1),
            number(summary.cpu_s_per_million, 2),
            vs_baseline(results, &scenario.name, client, CPU),
            number(summary.peak_rss_mib, 0),
        )
    });
}

/// The transaction rows: transactions committed per second (records per
/// second over the records per transaction), and the records behind them.
fn transaction_table(out: &mut String, results: &BenchResults, scenarios: &[&Scenario]) {
    out.push_str(
        "| Scenario | Client | transactions/s | vs librdkafka | records/s | CPU s / M records | peak RSS MiB |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    table_rows(out, results, scenarios, 4, |scenario, client, summary| {
        let size = scenario.transaction_size.unwrap_or(1).max(1) as f64;
        format!(
            "{} | {} | {} | {} | {}",
            number(summary.records_per_s.map(|r| r / size), 1),
            vs_baseline(results, &scenario.name, client, RATE),
            thousands(summary.records_per_s),
            number(summary.cpu_s_per_million, 2),
            number(summary.peak_rss_mib, 0),
        )
    });
}

fn latency_table(out: &mut String, results: &BenchResults, scenarios: &[&Scenario]) {
    out.push_str(
        "| Scenario | Client | p50 ms | p99 ms | p99.9 ms | p99 vs librdkafka | CPU s / M records | peak RSS MiB |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for scenario in scenarios {
        for (client, _) in &results.clients {
            let Some(summary) = results.summary(&scenario.name, client) else {
                continue;
            };
            let Some(latency) = &summary.latency else {
                let _ = writeln!(
                    out,
                    "| {} | {} | n/a | – | – | – | – | – |",
                    scenario.name,
                    label(results, client)
                );
                continue;
            };
            let decimals = if latency.resolution_us >= 1000.0 {
                0
            } else {
                2
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                scenario.name,
                label(results, client),
                number(Some(latency.p50_us / 1000.0), decimals),
                number(Some(latency.p99_us / 1000.0), decimals),
                number(Some(latency.p999_us / 1000.0), decimals),
                vs_baseline(results, &scenario.name, client, P99),
                number(summary.cpu_s_per_million, 2),
                number(summary.peak_rss_mib, 0),
            );
        }
    }
}

fn floor_section(out: &mut String, floor: &FloorResult) {
    out.push_str(
        "## Hot path against the floor\n\nInstructions per record under callgrind (repeatable on a \
         busy machine): kafka-core's in-memory hot path (partitioning rules, append into \
         per-partition batches, close, producer state and CRC-32C, completion) against a floor \
         program that only copies the same value bytes into a batch-sized buffer and computes \
         CRC-32C over it.\n\n",
    );
    match (
        floor.hot_path_ir_per_record,
        floor.floor_ir_per_record,
        floor.ratio,
    ) {
        (Some(hot), Some(floor_ir), Some(ratio)) => {
            let _ = writeln!(
                out,
                "| Program | instructions / record | vs floor |\n|---|---:|---:|\n\
                 | hot path ({} B keyless, uncompressed, {} partitions) | {hot:.0} | {ratio:.2}x |\n\
                 | floor (copy + CRC-32C) | {floor_ir:.0} | 1.00x |\n\n\
                 ({}; per record = the difference between runs of {} and {} records.)\n",
                floor.value_size,
                floor.partitions,
                floor.valgrind,
                floor.records.0,
                floor.records.1
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "Not measured: {}\n",
                floor.note.as_deref().unwrap_or("no figures")
            );
        }
    }
}

fn targets_section(out: &mut String, checks: &[TargetCheck]) {
    out.push_str("| Target | Verdict | Figures |\n|---|---|---|\n");
    for check in checks {
        let verdict = match check.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        };
        let _ = writeln!(out, "| {} | {verdict} | {} |", check.target, check.detail);
    }
}

fn gaps_section(out: &mut String, results: &BenchResults) {
    let notes: Vec<String> = results
        .summaries
        .iter()
        .filter(|s| s.runs_ok < s.runs || s.runs == 0)
        .map(|s| {
            let failed = results
                .runs
                .iter()
                .filter(|r| {
                    r.scenario == s.scenario && r.client == s.client && r.status == Status::Failed
                })
                .count();
            let count = if failed == 0 {
                String::new()
            } else if s.runs_ok == 0 {
                format!(" (all {} runs failed)", s.runs)
            } else {
                format!(
                    " ({failed} of {} runs failed; the figures are the others')",
                    s.runs
                )
            };
            format!(
                "- {} / {}{count}: {}",
                s.scenario,
                label(results, &s.client),
                missing(s)
            )
        })
        .collect();
    if notes.is_empty() {
        out.push_str("Every client ran every scenario successfully.\n");
    } else {
        for note in notes {
            out.push_str(&note);
            out.push('\n');
        }
    }
}

/// Renders `results.md`.
pub fn render(results: &BenchResults) -> String {
    let machine = &results.machine;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Producer benchmark results{}\n",
        if results.smoke { " (smoke run)" } else { "" }
    );
    let _ = writeln!(
        out,
        "Generated by `scripts/bench{}` on {} in {:.0} s; see [README.md](README.md) for the method \
         and the analysis. Each figure is the median of {} run(s). Ratios are to librdkafka \
         through rdkafka's `ThreadedProducer` with a delivery callback (for CPU and latency, \
         lower is better), taken pass by pass: the median of the passes' ratios, then in \
         brackets the smallest and largest.\n",
        if results.smoke { " --smoke" } else { "" },
        results.started,
        results.duration_s,
        results
            .runs
            .iter()
            .map(|r| r.attempt + 1)
            .max()
            .unwrap_or(0),
    );
    out.push_str("## Machine and versions\n\n| | |\n|---|---|\n");
    let crates: Vec<String> = machine
        .crates
        .iter()
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    for (key, value) in [
        ("CPU", format!("{} x {}", machine.cpus, machine.cpu_model)),
        ("Memory", format!("{} MiB", machine.memory_mib)),
        ("Kernel", machine.kernel.clone()),
        (
            "Load average (start / end)",
            format!("{} / {}", machine.load_at_start, machine.load_at_end),
        ),
        (
            "Kafka broker",
            format!(
                "Apache Kafka {} (KRaft, same machine): one node; {CLUSTER_BROKERS} nodes for the \
                 `-{CLUSTER_BROKERS}brokers` rows; one node with secured listeners for the \
                 `-sasl_ssl` rows",
                machine.kafka_broker
            ),
        ),
        (
            "Java client",
            format!(
                "kafka-clients {} on {}",
                machine.kafka_java_client, machine.java
            ),
        ),
        ("librdkafka", machine.librdkafka.clone()),
        ("Crates", crates.join(", ")),
        ("Rust", machine.rustc.clone()),
        ("Commit", machine.commit.clone()),
    ] {
        let _ = writeln!(out, "| {key} | {value} |");
    }
    let _ = writeln!(
        out,
        "\n## Settings\n\nEvery client: acks=all, enable.idempotence=true, batch.size={BATCH_SIZE}, \
         buffer.memory={BUFFER_MEMORY} (librdkafka: queue.buffering.max.kbytes={}), \
         max.in.flight.requests.per.connection=5, linger.ms=5 unless stated; librdkafka \
         partitioner=murmur2_random. A fresh topic per run ({PARTITIONS} partitions, replication \
         factor 1; on the `-{CLUSTER_BROKERS}brokers` rows replication factor {CLUSTER_BROKERS} and \
         min.insync.replicas={CLUSTER_MIN_INSYNC_REPLICAS}). The `-sasl_ssl` rows produce through \
         the broker's SASL_SSL listener with {SASL_MECHANISM} (TLS with the harness's CA, host \
         name verified). Values are lines of a payload file (10,000 JSON-like texts of exactly the \
         record size, picked at random per record, the same file for every client); keys are \
         `key-NNNNNN` over 10,000 keys. CPU is user + system time of the whole client process, \
         start-up included; peak RSS is the process's maximum resident set.\n",
        BUFFER_MEMORY / 1024
    );
    let (transactions, plain): (Vec<&Scenario>, Vec<&Scenario>) = results
        .scenarios
        .iter()
        .partition(|s| s.transaction_size.is_some());
    let (throughput, latency): (Vec<&Scenario>, Vec<&Scenario>) =
        plain.into_iter().partition(|s| s.mode == Mode::Throughput);
    if !throughput.is_empty() {
        out.push_str("## Throughput\n\n");
        throughput_table(&mut out, results, &throughput);
        out.push_str("\n![records per second](throughput.svg)\n\n![CPU seconds per million records](cpu.svg)\n\n");
    }
    if !latency.is_empty() {
        let rate = latency.first().and_then(|s| s.rate).unwrap_or(0);
        let _ = writeln!(
            out,
            "## Latency\n\nSend-to-acknowledgement latency at a fixed {rate} records/s of 100-byte keyless \
             records. The Rust clients time each record in microseconds; ProducerPerformance in whole \
             milliseconds.\n"
        );
        if let Some((stall, rate)) = latency
            .iter()
            .find_map(|s| Some((s.stall?, s.rate.unwrap_or(0))))
        {
            let _ = writeln!(
                out,
                "The `-{CLUSTER_BROKERS}brokers` pair sends 100-byte keyed records at {rate} records/s to \
                 every partition of the {CLUSTER_BROKERS}-broker cluster (one copy per partition, so that \
                 no replica ties the other partitions to the stalled node) and times only those bound \
                 for the partitions node {} does not lead; in the `-sigstop` row that node is stopped with \
                 SIGSTOP {:.0} s into the measured window for {:.0} s (then SIGCONT). A producer whose \
                 brokers do not wait on one another keeps that row's p99 near the undisturbed one's.\n",
                stall.node,
                stall.after_ms as f64 / 1000.0,
                stall.for_ms as f64 / 1000.0,
            );
        }
        latency_table(&mut out, results, &latency);
        out.push_str("\n![latency percentiles](latency.svg)\n\n");
    }
    if !transactions.is_empty() {
        out.push_str(
            "## Transactions\n\nKeyless 100-byte records in transactions of the row's size \
             (`-tx100`: 100 records), one after another on one transactional producer \
             (`transactional.id`, init once, then begin, send..., commit, which flushes): \
             transactions committed per second. The warm-up record is a transaction of its own, \
             before the clock starts. librdkafka's commit blocks (called from the runtime's \
             blocking section); ours and confluent-kafka's are async.\n\n",
        );
        transaction_table(&mut out, results, &transactions);
        out.push('\n');
    }
    if let Some(floor) = &results.floor {
        floor_section(&mut out, floor);
    }
    out.push_str("## Targets\n\n");
    targets_section(&mut out, &evaluate(results));
    out.push_str("\n## Gaps and failures\n\n");
    gaps_section(&mut out, results);
    out
}

/// A short plain-text table for the terminal (the smoke run's output).
pub fn short_table(results: &BenchResults) -> String {
    let mut out = format!(
        "{:<30} {:<14} {:>12} {:>9} {:>10} {:>9} {:>10}  {}\n",
        "scenario", "client", "records/s", "x rdk", "CPU s/M", "RSS MiB", "p99 ms", "status"
    );
    for scenario in &results.scenarios {
        for (client, _) in &results.clients {
            let Some(summary) = results.summary(&scenario.name, client) else {
                continue;
            };
            let status = if summary.runs_ok == summary.runs && summary.runs > 0 {
                "ok".to_owned()
            } else {
                format!(
                    "{}/{} ok: {}",
                    summary.runs_ok,
                    summary.runs,
                    missing(summary)
                )
            };
            let _ = writeln!(
                out,
                "{:<30} {:<14} {:>12} {:>9} {:>10} {:>9} {:>10}  {}",
                scenario.name,
                client,
                thousands(summary.records_per_s),
                results
                    .ratio(&scenario.name, client, BASELINE, RATE)
                    .map_or("–".to_owned(), |r| format!("{:.2}x", r.median)),
                number(summary.cpu_s_per_million, 2),
                number(summary.peak_rss_mib, 0),
                number(summary.latency.as_ref().map(|l| l.p99_us / 1000.0), 2),
                status
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_gets_its_section_and_its_target() {
        let results = BenchResults {
            smoke: false,
            started: String::new(),
            duration_s: 0.0,
            machine: Default::default(),
            scenarios: Vec::new(),
            clients: Vec::new(),
            runs: Vec::new(),
            summaries: Vec::new(),
            floor: Some(FloorResult {
                hot_path_ir_per_record: Some(1239.0),
                floor_ir_per_record: Some(91.0),
                ratio: Some(1239.0 / 91.0),
                ..FloorResult::not_measured(String::new())
            }),
        };
        let text = render(&results);
        assert!(text.contains("## Hot path against the floor"), "{text}");
        assert!(text.contains("| 1239 | 13.62x |"), "{text}");
        assert!(text.contains("| **missed** | missed: 13.62x"), "{text}");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(Some(1_234_567.4)), "1,234,567");
        assert_eq!(thousands(Some(999.0)), "999");
        assert_eq!(thousands(None), "–");
    }
}
