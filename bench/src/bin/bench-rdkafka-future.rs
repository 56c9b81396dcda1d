//! The second benchmark client for librdkafka through the `rdkafka` crate: a
//! `FutureProducer`, whose delivery futures a [`Collector`] task awaits as
//! they complete. A future and a channel per record make it a slower way to
//! use librdkafka than the `ThreadedProducer` of `bench-rdkafka` (the
//! baseline); it is kept as a labelled row, as the way many async Rust
//! applications use librdkafka.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::Map;
use kafka_bench::collector::Collector;
use kafka_bench::payload::Payload;
use kafka_bench::rdkafka_config::producer_config;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

type Delivery = <DeliveryFuture as std::future::Future>::Output;
type Outcome = fn(Delivery) -> Result<(), String>;

fn outcome(delivery: Delivery) -> Result<(), String> {
    match delivery {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _message))) => Err(e.to_string()),
        Err(_canceled) => Err("the delivery future was cancelled".to_owned()),
    }
}

struct Rdkafka {
    producer: FutureProducer,
    topic: String,
    collector: Collector<Map<DeliveryFuture, Outcome>>,
}

impl BenchProducer for Rdkafka {
    async fn send(
        &mut self,
        _index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> anyhow::Result<()> {
        let Payload { key, value, .. } = payload;
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).payload(&value[..]);
        if let Some(key) = key {
            record = record.key(&key[..]);
        }
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    return self
                        .collector
                        .track(delivery.map(outcome as Outcome), pending);
                }
                // The queue (queue.buffering.max.kbytes, our buffer.memory) is
                // full: wait for librdkafka to drain it, as Java blocks in send.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((e, _)) => anyhow::bail!("send failed before sending: {e}"),
            }
        }
    }

    async fn close(self) -> anyhow::Result<()> {
        self.collector.finish().await?;
        self.producer.flush(Duration::from_secs(30))?;
        Ok(())
    }
}

fn main() -> ExitCode {
    client_main("bench-rdkafka-future", |args| async move {
        let producer: FutureProducer = producer_config(&args)?.create()?;
        Ok(Rdkafka {
            producer,
            topic: args.topic,
            collector: Collector::spawn(),
        })
    })
}
