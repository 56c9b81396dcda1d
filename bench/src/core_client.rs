//! What the `kafka-core` clients (`bench-ours`, `bench-ours-avro`) share: a
//! producer configured from the run's arguments, a callback per record, close.

use std::time::Duration;

use std::future::{Ready, ready};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Either};
use kafka_core::{
    KafkaProducer, ProducerConfig, ProducerRecord, RecordRef, SendError, SentRecord, TrySendError,
};

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

    /// Sends `record` with a callback completing `pending`, by the core's
    /// fastest path as rdkafka's client is driven by its own: a plain call
    /// (`try_send_ref_with_callback`: the key and value copied into the
    /// batch from where they are, as librdkafka's `RD_KAFKA_MSG_F_COPY`
    /// does), and only when that must wait (buffer full) the send's future
    /// (`send_with_callback`, with the record made owned), boxed, which
    /// waits as Java's `send` blocks. An error before sending (which the
    /// callback hears too) ends the run.
    ///
    /// The future returned is a word or two: the runner awaits it per
    /// record, and a larger one (the send's own, holding the record) is
    /// copied each time it is moved, a cost of the harness, not the producer.
    pub fn send_ref(
        &self,
        record: RecordRef<'_>,
        pending: Pending,
    ) -> Either<Ready<anyhow::Result<()>>, BoxFuture<'_, anyhow::Result<()>>> {
        let tried = self
            .producer
            .try_send_ref_with_callback(record, &[], completing(pending));
        self.finish(tried)
    }

    /// [`send_ref`](Self::send_ref) of an owned record
    /// (`try_send_with_callback`).
    pub fn send(
        &self,
        record: ProducerRecord,
        pending: Pending,
    ) -> Either<Ready<anyhow::Result<()>>, BoxFuture<'_, anyhow::Result<()>>> {
        let tried = self
            .producer
            .try_send_with_callback(record, completing(pending));
        self.finish(tried)
    }

    /// What is left of a send after its try: nothing, the wait for room, or
    /// the refusal.
    fn finish<F>(
        &self,
        tried: Result<(), TrySendError<F>>,
    ) -> Either<Ready<anyhow::Result<()>>, BoxFuture<'_, anyhow::Result<()>>>
    where
        F: FnOnce(Result<SentRecord, SendError>) + Send + 'static,
    {
        let refused = |e| anyhow::anyhow!("send failed before sending: {e}");
        match tried {
            Ok(()) => Either::Left(ready(Ok(()))),
            Err(TrySendError::MustWait { record, callback }) => Either::Right(
                self.producer
                    .send_with_callback(record, callback)
                    .map(move |sent| sent.map_err(refused))
                    .boxed(),
            ),
            Err(TrySendError::Refused(e)) => Either::Left(ready(Err(refused(e)))),
        }
    }

    /// Closes the producer (every record has an outcome by then).
    pub async fn close(self) -> anyhow::Result<()> {
        let lost = self.producer.close(Duration::from_secs(30)).await;
        // BENCH_IO_METRICS=1: how busy the network thread was (Java's
        // `select-total`, `io-wait-time-ns-total`, `io-time-ns-total`),
        // whether it or the sending thread held the run back.
        if std::env::var("BENCH_IO_METRICS").as_deref() == Ok("1") {
            let m = self.producer.metrics();
            let (waited, worked) = (m.io_wait_time_total, m.io_time_total);
            eprintln!(
                "network thread: {} waits, waited {waited:.2?}, worked {worked:.2?} ({:.0}% of its time waiting)",
                m.select_total,
                100.0 * waited.as_secs_f64() / (waited + worked).as_secs_f64().max(1e-9)
            );
        }
        if lost > 0 {
            anyhow::bail!("{lost} records were still undelivered when close timed out");
        }
        Ok(())
    }
}

/// The callback that completes `pending` with the record's outcome.
fn completing(pending: Pending) -> impl FnOnce(Result<SentRecord, SendError>) + Send + 'static {
    move |result: Result<SentRecord, SendError>| {
        pending.complete(result.map(drop).map_err(|e| e.to_string()))
    }
}
