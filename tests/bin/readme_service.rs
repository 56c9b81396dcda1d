//! A service as the README shows it: enqueue records with a callback and return
//! from `#[tokio::main]` without calling `close()`. Driven by the lifecycle test
//! (`tests/lifecycle.rs`) as a child process.
//!
//! Usage: `readme_service template|core RECORDS RUN` with `KAFKA_BOOTSTRAP_SERVERS`
//! and `APP_TOPIC` set. Prints one line per callback (`ok RUN-I PARTITION OFFSET`
//! or `failed RUN-I possibly_written=BOOL ERROR`), then `returning` just before
//! `main` returns.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kafka_template::core::{KafkaProducer, ProducerConfig, ProducerRecord};
use kafka_template::{KafkaRecord, KafkaTemplate};
use serde::Serialize;

#[derive(Serialize, KafkaRecord)]
#[kafka(topic = "${app.topic}")]
struct Greeting {
    #[kafka(key)]
    user: String,
    text: String,
}

type Lines = Arc<Mutex<std::io::Stdout>>;

fn report(out: &Lines, line: String) {
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, records, run] = args.as_slice() else {
        return Err("usage: readme_service template|core RECORDS RUN".into());
    };
    let records: usize = records.parse()?;
    let out: Lines = Arc::new(Mutex::new(std::io::stdout()));
    match mode.as_str() {
        "template" => {
            let kafka = KafkaTemplate::from_config()?;
            for i in 0..records {
                let greeting = Greeting {
                    user: format!("user-{}", i % 17),
                    text: format!("{run}-{i}"),
                };
                let out = out.clone();
                let id = format!("{run}-{i}");
                kafka
                    .enqueue_with_callback(&greeting, move |result| match result {
                        Ok(sent) => report(
                            &out,
                            format!(
                                "ok {id} {} {:?}",
                                sent.record_metadata.partition, sent.record_metadata.offset
                            ),
                        ),
                        Err(e) => report(
                            &out,
                            format!("failed {id} possibly_written={} {e}", e.possibly_written()),
                        ),
                    })
                    .await?;
            }
        }
        "core" => {
            let bootstrap = std::env::var("KAFKA_BOOTSTRAP_SERVERS")?;
            let topic = std::env::var("APP_TOPIC")?;
            let config = ProducerConfig::builder()
                .bootstrap_servers(bootstrap)
                .build()?;
            let producer = KafkaProducer::new(config)?;
            for i in 0..records {
                let record = ProducerRecord::new(topic.clone(), format!("{run}-{i}"))
                    .with_key(format!("user-{}", i % 17));
                let out = out.clone();
                let id = format!("{run}-{i}");
                producer
                    .send_with_callback(record, move |result| match result {
                        Ok(sent) => report(
                            &out,
                            format!(
                                "ok {id} {} {:?}",
                                sent.metadata.partition, sent.metadata.offset
                            ),
                        ),
                        Err(e) => report(
                            &out,
                            format!("failed {id} possibly_written={} {e}", e.possibly_written()),
                        ),
                    })
                    .await?;
            }
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    report(&out, "returning".to_owned());
    Ok(())
}
