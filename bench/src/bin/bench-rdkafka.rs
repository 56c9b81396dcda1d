//! The benchmark client for librdkafka through the `rdkafka` crate in its
//! fastest documented style, the baseline every ratio is taken against: a
//! `ThreadedProducer` (a `BaseProducer` with a thread of its own calling
//! `poll`) and a delivery callback (`ProducerContext::delivery`) per record,
//! the record's [`Pending`] its delivery opaque. With `--transaction-size`,
//! librdkafka's transactions (`init_transactions`, `begin_transaction`,
//! `commit_transaction`, entered once the delivery reports are in: see
//! `Rdkafka::commit_transaction` for why).

use std::process::ExitCode;
use std::time::Duration;

use kafka_bench::payload::Payload;
use kafka_bench::rdkafka_config::producer_config;
use kafka_bench::runner::{BenchProducer, client_main};
use kafka_bench::tracker::Pending;
use rdkafka::ClientContext;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

/// Completes each record's [`Pending`] from librdkafka's delivery report, on
/// the producer's polling thread.
struct Deliveries;

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Pending>;

    fn delivery(&self, result: &DeliveryResult<'_>, pending: Box<Pending>) {
        pending.complete(match result {
            Ok(_) => Ok(()),
            Err((e, _message)) => Err(e.to_string()),
        });
    }
}

struct Rdkafka {
    producer: ThreadedProducer<Deliveries>,
    topic: String,
}

impl BenchProducer for Rdkafka {
    async fn send(
        &mut self,
        _index: u64,
        payload: Payload<'_>,
        pending: Pending,
    ) -> anyhow::Result<()> {
        let Payload { key, value, .. } = payload;
        let mut record: BaseRecord<'_, [u8], [u8], Box<Pending>> =
            BaseRecord::with_opaque_to(&self.topic, Box::new(pending)).payload(&value[..]);
        if let Some(key) = key {
            record = record.key(&key[..]);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                // The queue (queue.buffering.max.kbytes, our buffer.memory) is
                // full: wait for librdkafka to drain it, as Java blocks in send.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((e, back)) => {
                    // Not sent: its callback will not run.
                    back.delivery_opaque.complete(Err(e.to_string()));
                    anyhow::bail!("send failed before sending: {e}");
                }
            }
        }
    }

    async fn close(self) -> anyhow::Result<()> {
        self.producer.flush(Duration::from_secs(30))?;
        Ok(())
    }

    async fn begin_transaction(&mut self) -> anyhow::Result<()> {
        Ok(self.producer.begin_transaction()?)
    }

    async fn commit_transaction(&mut self) -> anyhow::Result<()> {
        // rdkafka's `commit_transaction` first calls its `flush`, which, while
        // any record is in flight, polls in slices of 100 ms that always run
        // to their end: every commit took about 100 ms whatever the broker
        // did, rdkafka's slow path rather than librdkafka's. So the commit
        // waits for the delivery reports (served by the producer's poll
        // thread) itself, in steps of 100 µs; the flush then finds nothing
        // in flight and librdkafka ends the transaction at once.
        let producer = &self.producer;
        tokio::task::block_in_place(|| {
            let deadline = std::time::Instant::now() + TRANSACTION_TIMEOUT;
            while producer.in_flight_count() > 0 {
                if std::time::Instant::now() >= deadline {
                    anyhow::bail!("records still in flight {TRANSACTION_TIMEOUT:?} into a commit");
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            Ok(producer.commit_transaction(TRANSACTION_TIMEOUT)?)
        })
    }
}

/// How long librdkafka may take to initialize or commit a transaction.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    client_main("bench-rdkafka", |args| async move {
        let producer =
            ThreadedProducer::from_config_and_context(&producer_config(&args)?, Deliveries)?;
        if args.transaction_size.is_some() {
            tokio::task::block_in_place(|| producer.init_transactions(TRANSACTION_TIMEOUT))?;
        }
        Ok(Rdkafka {
            producer,
            topic: args.topic,
        })
    })
}
