//! The benchmark client for this project's `KafkaTemplate` with the derived
//! Avro record in registry Avro (`value-serializer: KafkaAvroSerializer`, a
//! `mock://` registry), so that it differs from `bench-template` only by the
//! value's framing (see `kafka_bench::template_client`).

use std::process::ExitCode;

use kafka_bench::template_client::{ValueFraming, main as template_main};

fn main() -> ExitCode {
    template_main("bench-template-registry", ValueFraming::RegistryAvro)
}
