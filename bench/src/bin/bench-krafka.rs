//! The benchmark client for the pure-Rust `krafka` crate in the style its
//! documentation recommends for throughput: `Producer::enqueue` returns once
//! the record is queued, and the record's `DeliveryHandle` (a future) is
//! awaited later; a [`Collector`] task awaits the handles as they complete
//! (krafka's own example collects them in a `FuturesUnordered`).

use std::process::ExitCode;

use anyhow::{Context, bail};
use futures_util::FutureExt;
use futures_util::future::Map;
use kafka_bench::args::{ClientArgs, Codec};
use kafka_bench::collector::Collector;
use kafka_bench::payload::Payload;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::security::Security;
use kafka_bench::tracker::Pending;
use krafka::auth::{AuthConfig, TlsConfig};
use krafka::producer::{Acks, DeliveryHandle, Producer, RecordMetadata};
use krafka::{Compression, Kafka, Record};

type Outcome = fn(krafka::Result<RecordMetadata>) -> Result<(), String>;

fn outcome(delivery: krafka::Result<RecordMetadata>) -> Result<(), String> {
    delivery.map(drop).map_err(|e| e.to_string())
}

struct Krafka {
    producer: Producer,
    topic: String,
    collector: Collector<Map<DeliveryHandle, Outcome>>,
}

impl BenchProducer for Krafka {
    async fn send(
        &mut self,
        _index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> anyhow::Result<()> {
        let Payload { key, value, .. } = payload;
        let mut record = Record::new(self.topic.as_str(), value.clone());
        record.key = key.cloned();
        // Waits while buffer_memory is full, as Java blocks in send.
        let delivery = self
            .producer
            .enqueue(record)
            .await
            .map_err(|e| anyhow::anyhow!("send failed before sending: {e}"))?;
        self.collector
            .track(delivery.map(outcome as Outcome), pending)
    }

    async fn close(self) -> anyhow::Result<()> {
        self.collector.finish().await?;
        self.producer
            .close()
            .await
            .map_err(|e| anyhow::anyhow!("close failed: {e}"))
    }
}

fn compression(codec: Codec) -> Compression {
    match codec {
        Codec::None => Compression::None,
        Codec::Gzip => Compression::Gzip,
        Codec::Lz4 => Compression::Lz4,
        Codec::Zstd => Compression::Zstd,
    }
}

/// The secured listener's settings in krafka's terms: SASL PLAIN or SCRAM
/// with the `sasl.jaas.config` credentials, over TLS trusting the PEM CA.
fn auth_config(security: &Security) -> anyhow::Result<AuthConfig> {
    let login = security
        .sasl_login()?
        .context("bench-krafka supports SASL_PLAINTEXT and SASL_SSL listeners only")?;
    let (user, password) = (login.username, login.password);
    let auth = match login.mechanism.as_str() {
        "PLAIN" => AuthConfig::sasl_plain(user, password),
        "SCRAM-SHA-256" => AuthConfig::sasl_scram_sha256(user, password),
        "SCRAM-SHA-512" => AuthConfig::sasl_scram_sha512(user, password),
        other => bail!("bench-krafka does not set up SASL mechanism {other}"),
    };
    if security.protocol() != "SASL_SSL" {
        return Ok(auth);
    }
    let ca = security
        .ca_pem
        .as_ref()
        .context("krafka reads no PKCS12 truststore: give the CA as PEM (--ssl-ca-pem)")?;
    Ok(auth.with_tls(TlsConfig::new().with_ca_cert(ca.display().to_string())))
}

async fn build(args: ClientArgs) -> anyhow::Result<Krafka> {
    // max.in.flight.requests.per.connection is a connection setting in krafka.
    let mut builder = Kafka::builder(args.bootstrap.as_str())
        .client_id("bench-krafka")
        .max_in_flight_requests(5);
    if let Some(security) = args.security()? {
        builder = builder.security(auth_config(&security)?);
    }
    let kafka = builder
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect: {e}"))?;
    let producer = kafka
        .producer()
        .acks(Acks::All)
        .idempotent(true)
        .linger(args.linger())
        .batch_size(args.batch_size)
        .buffer_memory(args.buffer_memory)
        .compression(compression(args.compression))
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the producer: {e}"))?;
    Ok(Krafka {
        producer,
        topic: args.topic,
        collector: Collector::spawn(),
    })
}

fn main() -> ExitCode {
    client_main("bench-krafka", build)
}
