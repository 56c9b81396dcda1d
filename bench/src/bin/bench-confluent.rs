//! The benchmark client for Confluent's pure-Rust `confluent-kafka` crate (a
//! translation of the Java client): `KafkaProducer<Vec<u8>, Vec<u8>>` and its
//! zero-copy `send(ProducerRecord<&[u8], &[u8]>, callback)`; with
//! `--transaction-size`, its transactions (the Java client's API).

use std::collections::HashMap;
use std::process::ExitCode;

use confluent_kafka::common::serialization::ByteArraySerializer;
use confluent_kafka::producer::{
    KafkaProducer, Producer, ProducerConfig, ProducerRecord, callback,
};
use kafka_bench::payload::Payload;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;

struct Confluent {
    producer: KafkaProducer<Vec<u8>, Vec<u8>>,
    topic: String,
}

impl BenchProducer for Confluent {
    async fn send(
        &mut self,
        _index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> anyhow::Result<()> {
        let Payload { key, value, .. } = payload;
        let record =
            ProducerRecord::with_key(self.topic.clone(), key.map(|k| &k[..]), Some(&value[..]));
        let on_completion = callback::new(move |_metadata, error| {
            pending.complete(match error {
                None => Ok(()),
                Some(e) => Err(e.to_string()),
            })
        });
        self.producer
            .send(record, Some(Box::new(on_completion)))
            .await
            .map_err(|e| anyhow::anyhow!("send failed before sending: {e}"))?;
        Ok(())
    }

    async fn close(self) -> anyhow::Result<()> {
        self.producer
            .close()
            .await
            .map_err(|e| anyhow::anyhow!("close failed: {e}"))
    }

    async fn begin_transaction(&mut self) -> anyhow::Result<()> {
        self.producer
            .begin_transaction()
            .map_err(|e| anyhow::anyhow!("begin_transaction failed: {e}"))
    }

    async fn commit_transaction(&mut self) -> anyhow::Result<()> {
        self.producer
            .commit_transaction()
            .await
            .map_err(|e| anyhow::anyhow!("commit_transaction failed: {e}"))
    }
}

fn main() -> ExitCode {
    client_main("bench-confluent", |args| async move {
        let properties: HashMap<String, String> = args
            .java_properties()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        let config = ProducerConfig::new(&properties)
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        let producer = KafkaProducer::new(
            config,
            ByteArraySerializer::new(),
            ByteArraySerializer::new(),
        )
        .map_err(|e| anyhow::anyhow!("cannot create the producer: {e}"))?;
        if args.transaction_size.is_some() {
            producer
                .init_transactions()
                .await
                .map_err(|e| anyhow::anyhow!("init_transactions failed: {e}"))?;
        }
        Ok(Confluent {
            producer,
            topic: args.topic,
        })
    })
}
