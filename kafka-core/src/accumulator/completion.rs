//! How a record learns its outcome: the completion a batch shares with the
//! futures of its records ([`DeliveryFuture`]), and the callbacks it runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::SetOnce;

use crate::error::{KafkaError, SendError};
use crate::record::{LazyRecord, ProducerRecord, RecordMetadata, RecordPosition, SentRecord};
use crate::topic_name::TopicName;

use super::callback::Outcome;
use super::lazy::placeholder_record;

/// A boxed callback: any callback, as tests and other callers that mix
/// closure types keep them.
#[cfg(test)]
pub(crate) type Callback = Box<dyn FnOnce(Outcome) + Send + 'static>;

/// What a record's callback is called with: its metadata and `record`, the
/// record in its batch when the batch was delivered, or the error.
pub(crate) fn callback_outcome(
    result: Result<RecordMetadata, SendError>,
    record: Option<LazyRecord>,
) -> Outcome {
    result.map(|metadata| {
        let record = record.unwrap_or_else(|| {
            // A delivered batch is closed, so this is a bug; the record was
            // delivered all the same, so it is not reported as failed.
            tracing::error!(topic = %metadata.topic, partition = metadata.partition, offset = ?metadata.offset, "the acknowledged record's batch was not closed");
            LazyRecord::from(placeholder_record(&metadata.topic, metadata.partition))
        });
        SentRecord { record, metadata }
    })
}

/// How a batch ended.
#[derive(Debug)]
pub(crate) enum BatchOutcome {
    Delivered {
        base_offset: i64,
        /// -1 unless the topic uses LogAppendTime.
        log_append_time: i64,
    },
    Failed {
        /// The error of every record not in `record_errors`.
        error: KafkaError,
        /// The batch's records rebuilt from its bytes, to give each one back.
        records: Vec<Arc<ProducerRecord>>,
        /// The broker's errors for single records, by position in the batch
        /// (Produce v8 `record_errors`); usually empty.
        record_errors: Vec<(u32, KafkaError)>,
    },
    /// The broker found the batch too large: its records went on in smaller
    /// batches (Java's `splitAndReenqueue`), whose outcomes its records follow
    /// (Java chains their futures the same way).
    Split(Vec<SplitPart>),
}

/// A batch made of some of a split batch's records.
#[derive(Debug)]
pub(crate) struct SplitPart {
    /// The relative offset, in the split batch, of the part's first record.
    pub first: u32,
    pub completion: Arc<BatchCompletion>,
}

/// The part of a split holding the record at `relative_offset` of the split
/// batch, with the record's relative offset in that part.
fn part_of(parts: &[SplitPart], relative_offset: u32) -> Option<(&Arc<BatchCompletion>, u32)> {
    parts
        .iter()
        .rev()
        .find(|part| part.first <= relative_offset)
        .map(|part| (&part.completion, relative_offset - part.first))
}

/// Shared by a batch and the futures of its records (Java's `ProduceRequestResult`).
#[derive(Debug)]
pub(crate) struct BatchCompletion {
    /// The batch's topic and partition, which its records' metadata name (kept
    /// here once, not in every record's future).
    pub(super) topic: Arc<str>,
    pub(super) partition: i32,
    pub(super) outcome: SetOnce<BatchOutcome>,
    /// Set once the outcome's callbacks have run (after `outcome`: futures
    /// resolve first, callbacks run next).
    pub(super) callbacks_run: SetOnce<()>,
}

impl BatchCompletion {
    /// The completion of a batch for `topic`-`partition`, without an outcome yet.
    pub(super) fn new(topic: Arc<str>, partition: i32) -> Self {
        BatchCompletion {
            topic,
            partition,
            outcome: SetOnce::new(),
            callbacks_run: SetOnce::new(),
        }
    }

    /// What the record at `position` of the batch gets from `outcome`.
    fn resolve(
        &self,
        outcome: &BatchOutcome,
        position: &RecordPosition,
    ) -> Result<RecordMetadata, SendError> {
        outcome.resolve(&self.topic, self.partition, position)
    }

    /// Whether the batch has its outcome (for a split batch: every part).
    pub fn is_done(&self) -> bool {
        match self.outcome.get() {
            Some(BatchOutcome::Split(parts)) => parts.iter().all(|p| p.completion.is_done()),
            Some(_) => true,
            None => false,
        }
    }

    /// Waits for the outcome (for a split batch: of every part).
    pub async fn wait(&self) {
        if let BatchOutcome::Split(parts) = self.outcome.wait().await {
            for part in parts {
                Box::pin(part.completion.wait()).await;
            }
        }
    }

    /// Waits for the outcome and for the callbacks it ran (for a split
    /// batch: of every part), as Java's flush waits for its callbacks.
    pub async fn wait_settled(&self) {
        match self.outcome.wait().await {
            BatchOutcome::Split(parts) => {
                for part in parts {
                    Box::pin(part.completion.wait_settled()).await;
                }
            }
            _ => {
                self.callbacks_run.wait().await;
            }
        }
    }

    /// Ends the batch as split into `parts`.
    pub(super) fn split(&self, parts: Vec<SplitPart>) {
        let _ = self.outcome.set(BatchOutcome::Split(parts));
    }
}

impl BatchOutcome {
    /// What the record at `position` of a batch for `topic`-`partition` that
    /// ended so gets: its metadata, or the error with the record rebuilt.
    pub(crate) fn resolve(
        &self,
        topic: &Arc<str>,
        partition: i32,
        position: &RecordPosition,
    ) -> Result<RecordMetadata, SendError> {
        match self {
            BatchOutcome::Delivered {
                base_offset,
                log_append_time,
            } => Ok(RecordMetadata {
                // Shared, not copied: no allocation per acknowledged record.
                topic: TopicName::from(topic.clone()),
                partition,
                offset: (*base_offset >= 0)
                    .then(|| base_offset + i64::from(position.relative_offset)),
                timestamp: if *log_append_time >= 0 {
                    *log_append_time
                } else {
                    position.timestamp
                },
                serialized_key_size: position.key_size,
                serialized_value_size: position.value_size,
            }),
            BatchOutcome::Failed {
                error,
                records,
                record_errors,
            } => Err(SendError::shared(
                record_errors
                    .iter()
                    .find(|(index, _)| *index == position.relative_offset)
                    .map_or(error, |(_, own)| own)
                    .clone(),
                records
                    .get(position.relative_offset as usize)
                    .map(|record| position.restore_shared(record)),
            )),
            // Callbacks move to the parts and futures follow them, so only a
            // bug gets here; the record's outcome is unknown to it.
            BatchOutcome::Split(_) => Err(SendError::shared(
                KafkaError::Internal(format!(
                    "the outcome of a record of a split batch for {topic}-{partition} was lost"
                )),
                None,
            )),
        }
    }
}

/// What a send gets once its record is appended: the record's future when
/// the send waits on one ([`PendingCallback::wants_future`](super::PendingCallback::wants_future)),
/// none for a send with a callback.
pub(crate) type Appended = Option<DeliveryFuture>;

/// Resolves to where the record landed, or to the error and the record.
///
/// Dropping it does not cancel the send: the record is still delivered
/// (fire-and-forget). Every future resolves, at the latest when the producer is
/// closed or dropped.
#[must_use = "await the future to learn the outcome, or drop it to fire and forget"]
pub struct DeliveryFuture {
    pub(super) completion: Arc<BatchCompletion>,
    /// The record in its batch (the completion names topic and partition).
    pub(super) position: RecordPosition,
    pub(super) waiting: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl std::fmt::Debug for DeliveryFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryFuture")
            .field("topic", &self.completion.topic)
            .field("partition", &self.completion.partition)
            .field("done", &self.completion.is_done())
            .finish()
    }
}

impl DeliveryFuture {
    /// The partition the record was appended to.
    pub fn partition(&self) -> i32 {
        self.completion.partition
    }

    /// Whether the outcome is known already.
    pub fn is_done(&self) -> bool {
        self.completion.is_done()
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match this.completion.outcome.get() {
                Some(BatchOutcome::Split(parts)) => {
                    // Follow the record to the part that now holds it.
                    if let Some((part, offset)) = part_of(parts, this.position.relative_offset) {
                        let part = part.clone();
                        this.completion = part;
                        this.position.relative_offset = offset;
                        this.waiting = None;
                        continue;
                    }
                    return Poll::Ready(
                        this.completion
                            .resolve(&BatchOutcome::Split(Vec::new()), &this.position),
                    );
                }
                Some(outcome) => {
                    return Poll::Ready(this.completion.resolve(outcome, &this.position));
                }
                None => {}
            }
            // The waiter is boxed only when someone actually waits (synchronous
            // style); fire-and-forget and callbacks never allocate it.
            let completion = this.completion.clone();
            let waiting = this
                .waiting
                .get_or_insert_with(|| Box::pin(async move { completion.wait().await }));
            match waiting.as_mut().poll(cx) {
                Poll::Ready(()) => this.waiting = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledged_records_share_their_batchs_topic() {
        let topic: Arc<str> = Arc::from("orders");
        let delivered = BatchOutcome::Delivered {
            base_offset: 40,
            log_append_time: -1,
        };
        let position = |relative_offset| RecordPosition {
            timestamp: 7,
            relative_offset,
            key_size: -1,
            value_size: 3,
            explicit_partition: false,
            explicit_timestamp: false,
        };
        let first = delivered
            .resolve(&topic, 2, &position(0))
            .expect("delivered");
        let second = delivered
            .resolve(&topic, 2, &position(1))
            .expect("delivered");
        assert_eq!(first.topic, "orders");
        assert_eq!(second.offset, Some(41));
        // One copy of the name for the batch: none made per record.
        assert!(std::ptr::eq(first.topic.as_str(), &*topic));
        assert!(std::ptr::eq(second.topic.as_str(), &*topic));
    }
}
