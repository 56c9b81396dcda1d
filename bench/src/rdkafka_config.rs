//! The librdkafka settings both rdkafka clients (`bench-rdkafka`, the
//! `ThreadedProducer`, and `bench-rdkafka-future`, the `FutureProducer`) use.

use rdkafka::ClientConfig;

use crate::args::ClientArgs;

/// The run's settings in librdkafka's names: the same as the Java names where
/// librdkafka has them, `queue.buffering.max.kbytes` for `buffer.memory`,
/// `queue.buffering.max.messages` high enough that the byte limit is the one
/// that binds, and `partitioner=murmur2_random` (Java's key placement).
pub fn producer_config(args: &ClientArgs) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", args.linger_ms.to_string())
        .set("batch.size", args.batch_size.to_string())
        .set("compression.type", args.compression.property())
        .set(
            "queue.buffering.max.kbytes",
            (args.buffer_memory / 1024).to_string(),
        )
        .set("queue.buffering.max.messages", "10000000")
        .set("max.in.flight.requests.per.connection", "5")
        .set("partitioner", "murmur2_random");
    config
}
