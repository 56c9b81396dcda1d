//! The benchmark client for this project's `KafkaTemplate` with the derived
//! Avro record, raw Avro framing as `bench-ours-avro` uses, so the two differ
//! only by the template (see `kafka_bench::template_client`).

use std::process::ExitCode;

use kafka_bench::template_client::{ValueFraming, main as template_main};

fn main() -> ExitCode {
    template_main("bench-template", ValueFraming::RawAvro)
}
