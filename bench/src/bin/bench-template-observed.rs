//! The benchmark client for this project's `KafkaTemplate` with metrics and
//! tracing on: `bench-template` (raw Avro framing) plus a Prometheus recorder,
//! a span per send and an OpenTelemetry layer recording them, and
//! `traceparent` in every record (see `kafka_bench::template_client`).

use std::process::ExitCode;

use kafka_bench::template_client::main_observed;

fn main() -> ExitCode {
    main_observed("bench-template-observed")
}
