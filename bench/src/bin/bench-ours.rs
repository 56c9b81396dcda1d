//! The benchmark client for this project's producer, `kafka-core` used directly
//! with byte keys and values (zero-copy `Bytes`) and a callback per record.

use std::process::ExitCode;

use kafka_bench::core_client::CoreClient;
use kafka_bench::payload::Payload;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;
use kafka_core::ProducerRecord;

struct Ours {
    client: CoreClient,
    topic: String,
}

impl BenchProducer for Ours {
    fn send(
        &mut self,
        _index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> impl Future<Output = anyhow::Result<()>> {
        let Payload { key, value, .. } = payload;
        let mut record = ProducerRecord::new(self.topic.as_str(), value.clone());
        record.key = key.cloned();
        self.client.send(record, pending)
    }

    async fn close(self) -> anyhow::Result<()> {
        self.client.close().await
    }

    async fn begin_transaction(&mut self) -> anyhow::Result<()> {
        self.client.begin_transaction()
    }

    async fn commit_transaction(&mut self) -> anyhow::Result<()> {
        self.client.commit_transaction().await
    }
}

fn main() -> ExitCode {
    client_main("bench-ours", |args| async move {
        let client = CoreClient::new(&args)?;
        if args.transaction_size.is_some() {
            client.init_transactions().await?;
        }
        Ok(Ours {
            client,
            topic: args.topic,
        })
    })
}
