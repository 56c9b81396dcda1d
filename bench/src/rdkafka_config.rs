//! The librdkafka settings both rdkafka clients (`bench-rdkafka`, the
//! `ThreadedProducer`, and `bench-rdkafka-future`, the `FutureProducer`) use.

use anyhow::Context;
use rdkafka::ClientConfig;

use crate::args::ClientArgs;

/// The run's settings in librdkafka's names: the same as the Java names where
/// librdkafka has them, `queue.buffering.max.kbytes` for `buffer.memory`,
/// `queue.buffering.max.messages` high enough that the byte limit is the one
/// that binds, and `partitioner=murmur2_random` (Java's key placement). A
/// secured listener's Java properties become librdkafka's:
/// `security.protocol`, `sasl.mechanisms`, `sasl.username` / `sasl.password`
/// from `sasl.jaas.config`, and `ssl.ca.location` (the PEM CA, `--ssl-ca-pem`).
pub fn producer_config(args: &ClientArgs) -> anyhow::Result<ClientConfig> {
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
    if let Some(id) = args.transactional_id() {
        config.set("transactional.id", id);
    }
    if let Some(security) = args.security()? {
        config.set(
            "security.protocol",
            security.protocol().to_ascii_lowercase(),
        );
        if let Some(login) = security.sasl_login()? {
            config
                .set("sasl.mechanisms", login.mechanism)
                .set("sasl.username", login.username)
                .set("sasl.password", login.password);
        }
        if security.protocol().ends_with("SSL") {
            let ca = security.ca_pem.as_ref().context(
                "librdkafka reads no PKCS12 truststore: give the CA as PEM (--ssl-ca-pem)",
            )?;
            config.set("ssl.ca.location", ca.display().to_string());
        }
    }
    Ok(config)
}
