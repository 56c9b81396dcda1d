//! What the `kafka-core` clients (`bench-ours`, `bench-ours-avro`) share: a
//! producer configured from the run's arguments, a callback per record, close.

use std::time::Duration;

use futures_util::FutureExt;
use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord};

use crate::args::ClientArgs;
use crate::tracker::Pending;

/// A `kafka-core` producer under test.
pub struct CoreClient {
    producer: KafkaProducer,
}

impl CoreClient {
    /// A producer with the run's settings (Java property names), and the
    /// secured listener's client properties when given.
    pub fn new(args: &ClientArgs) -> anyhow::Result<CoreClient> {
        let config = ProducerConfig::from_properties(args.producer_properties()?)?;
        Ok(CoreClient {
            producer: KafkaProducer::new(config)?,
        })
    }

    /// Initializes transactions (a run with `--transaction-size`).
    pub async fn init_transactions(&self) -> anyhow::Result<()> {
        Ok(self.producer.init_transactions().await?)
    }

    /// Begins a transaction.
    pub fn begin_transaction(&self) -> anyhow::Result<()> {
        Ok(self.producer.begin_transaction()?)
    }

    /// Commits the transaction (flushing its records first).
    pub async fn commit_transaction(&self) -> anyhow::Result<()> {
        Ok(self.producer.commit_transaction().await?)
    }

    /// Sends `record` with a callback completing `pending`. An error before
    /// sending (the callback does not run then) ends the run.
    ///
    /// The producer's own future, not one nested in an `async fn`: the runner
    /// awaits it as an application awaits `send_with_callback`, and each
    /// nesting would copy the record with its future once per record, a cost
    /// of the harness rather than of the producer (see `runner::BenchProducer`).
    pub fn send(
        &self,
        record: ProducerRecord,
        pending: Pending,
    ) -> impl Future<Output = anyhow::Result<()>> + '_ {
        self.producer
            .send_with_callback(record, move |result| {
                pending.complete(result.map(drop).map_err(|e| e.to_string()))
            })
            .map(|sent| sent.map_err(|e| anyhow::anyhow!("send failed before sending: {e}")))
    }

    /// Closes the producer (every record has an outcome by then).
    pub async fn close(self) -> anyhow::Result<()> {
        let lost = self.producer.close(Duration::from_secs(30)).await;
        if lost > 0 {
            anyhow::bail!("{lost} records were still undelivered when close timed out");
        }
        Ok(())
    }
}
