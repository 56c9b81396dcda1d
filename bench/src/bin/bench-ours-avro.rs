//! The benchmark client for this project's producer with a typed record: the
//! derived Avro [`BenchEvent`], built per record, encoded by the derived encoder
//! (raw datum) and sent through `kafka-core` directly. Compared with
//! `bench-ours`, it shows what building, keying and encoding a record costs;
//! compared with `bench-template`, what the template adds.

use std::process::ExitCode;

use futures_util::future::Either;
use kafka_bench::core_client::CoreClient;
use kafka_bench::event::{BenchEvent, EventTexts};
use kafka_bench::payload::Payload;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;
use kafka_record::{KafkaRecord, ValueFraming};

struct OursAvro {
    client: CoreClient,
    topic: String,
    texts: EventTexts,
}

impl BenchProducer for OursAvro {
    fn send(
        &mut self,
        index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> impl Future<Output = anyhow::Result<()>> {
        let record = self.texts.event(index, payload).and_then(|event| {
            let record = event.to_producer_record(&self.topic, &ValueFraming::Raw);
            self.texts.give_back(&payload, event);
            Ok(record?)
        });
        match record {
            Ok(record) => Either::Left(self.client.send(record, pending)),
            Err(error) => Either::Right(std::future::ready(Err(error))),
        }
    }

    async fn close(self) -> anyhow::Result<()> {
        self.client.close().await
    }
}

fn main() -> ExitCode {
    client_main("bench-ours-avro", |args| async move {
        let topic = BenchEvent::resolve_topic(&|key| {
            (key == "kafka.topics.bench").then(|| args.topic.clone())
        })?;
        Ok(OursAvro {
            client: CoreClient::new(&args)?,
            topic,
            texts: EventTexts::new(),
        })
    })
}
