//! Sends the records of a failure journal again and prints a summary.
//!
//! ```text
//! cargo run -p kafka-template --example replay_journal -- --journal <path> --bootstrap <host:port>
//! cargo run -p kafka-template --example replay_journal -- --journal <path> --list
//! ```
//!
//! Each entry goes back to its topic (and partition) with its key, value,
//! headers and timestamp, and the producer waits for the acknowledgement
//! (`acks=all`, idempotent). Entries that fail again stay in the journal; the
//! others are removed. Stop the application that writes the journal first: a
//! journal is used by one process at a time.
//!
//! Exit status: 0 when everything was sent (or listed), 1 when some entries
//! failed again, 2 on bad arguments or when the journal cannot be read.

use std::process::ExitCode;
use std::time::Duration;

use kafka_core::{KafkaProducer, ProducerConfig};
use kafka_template::journal::{FailureJournal, replay};

const USAGE: &str = "usage: replay_journal --journal PATH (--bootstrap HOST:PORT | --list)";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let (mut journal_path, mut bootstrap, mut list) = (None, None, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--journal" => journal_path = args.next(),
            "--bootstrap" => bootstrap = args.next(),
            "--list" => list = true,
            _ => {
                eprintln!("unknown argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(journal_path) = journal_path else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if !std::path::Path::new(&journal_path).is_file() {
        eprintln!("{journal_path}: no such journal file");
        return ExitCode::from(2);
    }
    let journal = match FailureJournal::open(&journal_path) {
        Ok(journal) => journal,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("{journal_path}: {} entries", journal.len());

    if list {
        return list_entries(&journal);
    }
    let Some(bootstrap) = bootstrap else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let producer = match ProducerConfig::builder()
        .bootstrap_servers(&bootstrap)
        .max_block(Duration::from_secs(10))
        .build()
        .map_err(kafka_core::KafkaError::from)
        .and_then(KafkaProducer::new)
    {
        Ok(producer) => producer,
        Err(e) => {
            eprintln!("cannot create a producer for {bootstrap}: {e}");
            return ExitCode::from(2);
        }
    };
    let result = replay(&journal, &producer).await;
    producer.close(Duration::from_secs(30)).await;
    match result {
        Ok(report) => {
            println!(
                "replayed {} entries: {} sent, {} failed again; {} left in the journal",
                report.attempted, report.sent, report.failed, report.remaining
            );
            if let Some(error) = &report.last_error {
                println!("last error: {error}");
            }
            if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("replay stopped: {e}");
            ExitCode::from(2)
        }
    }
}

/// One line per entry: topic, partition, sizes, when and why it failed.
fn list_entries(journal: &FailureJournal) -> ExitCode {
    let reader = match journal.entries() {
        Ok(reader) => reader,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    for (i, entry) in reader.enumerate() {
        match entry {
            Ok(entry) => println!(
                "#{i} topic={} partition={} key={} value={} headers={} failed_at_ms={} error={}",
                entry.topic,
                entry
                    .partition
                    .map_or_else(|| "any".to_owned(), |p| p.to_string()),
                size(entry.key.as_deref()),
                size(entry.value.as_deref()),
                entry.headers.len(),
                entry.failed_at_ms,
                entry.error
            ),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

fn size(bytes: Option<&[u8]>) -> String {
    bytes.map_or_else(|| "null".to_owned(), |b| format!("{} bytes", b.len()))
}
