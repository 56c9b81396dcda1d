//! Prints the resolved Kafka configuration, each value with its origin and
//! secrets hidden, or every configuration error.
//!
//! ```text
//! cargo run -p kafka-template --example print_config -- --dir <dir> --profiles dev,eu
//! ```
//!
//! Without `--dir`, the working directory and `config/` are read (or
//! `KAFKA_CONFIG_LOCATION`); without `--profiles`, `KAFKA_PROFILES_ACTIVE` or
//! `SPRING_PROFILES_ACTIVE` apply. `KAFKA_*` variables override file values.

use std::process::ExitCode;

use kafka_template::config::KafkaConfig;

fn main() -> ExitCode {
    let mut builder = KafkaConfig::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--dir", Some(dir)) => builder = builder.dir(dir),
            ("--profiles", Some(list)) => {
                builder = builder.profiles(list.split(',').map(str::trim));
            }
            _ => {
                eprintln!("usage: print_config [--dir DIR]... [--profiles a,b]");
                return ExitCode::from(2);
            }
        }
    }
    match builder.load() {
        Ok(config) => {
            print!("{}", config.describe());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
