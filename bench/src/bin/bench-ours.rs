//! The benchmark client for this project's producer, `kafka-core` used directly
//! with byte keys and values (lent to the producer, which copies them into
//! its batch) and a callback per record.

use std::process::ExitCode;

use kafka_bench::core_client::CoreClient;
use kafka_bench::payload::Payload;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;
use kafka_core::RecordRef;

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
        let record = RecordRef {
            key: key.map(|k| &k[..]),
            ..RecordRef::new(&self.topic, value)
        };
        self.client.send_ref(record, pending)
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
