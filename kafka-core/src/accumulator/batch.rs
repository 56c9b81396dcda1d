//! [`ProducerBatch`]: one batch of records for one partition, from its first
//! append to its outcome.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::time::Instant;

use super::AppendRecord;
use super::callback::{Callbacks, PendingCallback};
use super::completion::{
    Appended, BatchCompletion, BatchOutcome, DeliveryFuture, SplitPart, callback_outcome,
};
use super::lazy::{BatchRecords, producer_record};
use crate::buffer_pool::BufferPool;
use crate::error::KafkaError;
use crate::metrics::ProducerMetrics;
use crate::record::{LazyRecord, ProducerRecord, RecordPosition};
use crate::record_batch::{
    ClosedBatch, Compression, RECORD_BATCH_OVERHEAD, RecordBatchBuilder, for_each_own_record,
};

/// One batch of records for one partition, from its first append to its outcome
/// (Java's `ProducerBatch`).
pub(crate) struct ProducerBatch {
    pub topic: Arc<str>,
    pub partition: i32,
    pub(super) builder: Option<RecordBatchBuilder>,
    pub(super) closed: Option<ClosedBatch>,
    pub(super) record_count: u32,
    /// The encoded size of its largest record (set when closed).
    pub(super) max_record_size: usize,
    pub created: Instant,
    /// When the batch was last drained; linger and backoff count from here.
    pub last_attempt: Instant,
    /// Times the batch was sent.
    pub attempts: u32,
    /// Set while the batch waits to be retried.
    pub retry_at: Option<Instant>,
    /// The partition's leader epoch when the batch was last drained (-1:
    /// unknown). A retry whose partition has a newer leader since goes
    /// without backing off, as Java's (`hasLeaderChangedForTheOngoingRetry`).
    pub attempt_leader_epoch: i32,
    /// Bytes reserved from `buffer.memory` for the batch, given back on completion.
    pub(super) reserved: usize,
    /// Bytes reserved on top of `reserved` for a full batch's uncompressed
    /// records until they are compressed (see `settle_full_batch`).
    pub(super) uncompressed_reservation: usize,
    pub(super) completion: Arc<BatchCompletion>,
    pub(super) callbacks: Callbacks,
    /// Why closing the builder failed; the sender fails the batch with it.
    pub(super) close_error: Option<KafkaError>,
    /// Idempotence: producer id, epoch and base sequence written into the batch.
    pub producer_state: Option<(i64, i16, i32)>,
    /// The batch went out and no definite answer came back (timeout, disconnect):
    /// it may have been written. Cleared by a definite answer to a later attempt
    /// (it decides whether a new epoch may resend it).
    pub fate_unknown: bool,
    /// Some attempt went out and no definite answer came back. Never cleared:
    /// even a later definite error does not prove the earlier attempt was not
    /// written, so the batch's failure is reported as "possibly written".
    pub maybe_written: bool,
    /// The batch is in a request whose answer has not come yet.
    pub in_flight: bool,
    pub last_error: Option<String>,
    /// Handed back to the accumulator when the batch completes.
    pub(super) accounting: Option<Arc<Accounting>>,
    /// Set when the application waits on a flush that includes this batch.
    pub(super) done: bool,
}

/// What the accumulator tracks of every unfinished batch: memory and flush waiters.
#[derive(Debug)]
pub(crate) struct Accounting {
    pub(super) pool: Arc<BufferPool>,
    pub(super) incomplete: Mutex<HashMap<usize, Arc<BatchCompletion>>>,
    pub(super) metrics: Arc<ProducerMetrics>,
    /// Appends that found the producer open and wait for the memory of a
    /// new batch (see `RecordAccumulator::appends_settled`).
    pub(super) waiting_for_memory: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for ProducerBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerBatch")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("records", &self.record_count)
            .field("attempts", &self.attempts)
            .field("producer_state", &self.producer_state)
            .finish()
    }
}

impl ProducerBatch {
    pub fn record_count(&self) -> u32 {
        self.record_count
    }

    /// Compressed / uncompressed record bytes once closed (1.0 without
    /// compression or while open).
    pub fn compression_ratio(&self) -> f64 {
        match &self.closed {
            Some(closed) if closed.compression() != Compression::None => {
                f64::from(closed.compression_ratio())
            }
            _ => 1.0,
        }
    }

    /// Its largest record's size as Java's `record-size-max` counts it: the
    /// record's upper bound alone in a batch (batch header included), what
    /// `max.request.size` is checked against.
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// The batch's encoded size once closed, or its estimate while open.
    pub fn size_in_bytes(&self) -> usize {
        match (&self.closed, &self.builder) {
            (Some(c), _) => c.size_in_bytes(),
            (None, Some(b)) => b.estimated_size_in_bytes(),
            (None, None) => 0,
        }
    }

    pub(super) fn is_full(&self, batch_size: usize) -> bool {
        self.closed.is_some()
            || self.builder.as_ref().is_some_and(|b| {
                b.is_closed_for_appends() || b.estimated_size_in_bytes() >= batch_size
            })
    }

    /// How much the last append grew the batch's estimated size.
    pub(super) fn last_append_growth(&self) -> usize {
        self.builder
            .as_ref()
            .map_or(0, RecordBatchBuilder::last_append_growth)
    }

    // Always: the compiler kept it out of line for its two callers, which
    // cost about 40 instructions a record (callgrind).
    #[inline(always)]
    pub(super) fn try_append(
        &mut self,
        append: &AppendRecord<'_>,
        callback: &mut dyn PendingCallback,
    ) -> Option<Appended> {
        let builder = self.builder.as_mut()?;
        let AppendRecord {
            record,
            timestamp,
            extra_headers,
            ..
        } = *append;
        let (key, value) = (record.key, record.value);
        let appended = if extra_headers.is_empty() {
            builder.try_append(timestamp, key, value, record.headers)
        } else {
            builder.try_append_with(timestamp, key, value, record.headers, extra_headers)
        };
        if !appended {
            return None;
        }
        let position = RecordPosition {
            timestamp,
            relative_offset: self.record_count,
            key_size: key.map_or(-1, |k| len_i32(k.len())),
            value_size: value.map_or(-1, |v| len_i32(v.len())),
            explicit_partition: record.partition.is_some(),
            explicit_timestamp: record.timestamp.is_some(),
        };
        if self.record_count == 0 {
            self.callbacks
                .expect_records(builder.expected_record_count());
        }
        self.record_count += 1;
        self.max_record_size = self.max_record_size.max(append.record_size);
        callback.append_to(&mut self.callbacks, &position);
        Some(callback.wants_future().then(|| DeliveryFuture {
            completion: self.completion.clone(),
            position,
            waiting: None,
        }))
    }

    /// Closes the open builder (compressing the records) so the bytes can go out.
    /// Returns the compression ratio achieved when this call compressed the batch.
    /// A failure is kept, so a later call (the sender's drain) reports it again.
    pub fn close(&mut self) -> Result<Option<f32>, KafkaError> {
        let Some(builder) = self.builder.take() else {
            return match &self.close_error {
                Some(error) => Err(error.clone()),
                None => Ok(None),
            };
        };
        let closed = builder.close().map_err(|e| {
            KafkaError::Internal(format!(
                "cannot encode the batch for {}-{}: {e}",
                self.topic, self.partition
            ))
        });
        let closed = match closed {
            Ok(closed) => closed,
            Err(error) => {
                self.close_error = Some(error.clone());
                return Err(error);
            }
        };
        let ratio = (closed.compression() != Compression::None).then(|| closed.compression_ratio());
        self.closed = Some(closed);
        // The uncompressed records are freed: so is their reservation.
        if let Some(accounting) = &self.accounting {
            accounting
                .pool
                .release(std::mem::take(&mut self.uncompressed_reservation));
        }
        Ok(ratio)
    }

    /// Bytes the open builder holds allocated beyond what is reserved for it.
    pub(super) fn unreserved_bytes(&self) -> usize {
        self.builder.as_ref().map_or(0, |builder| {
            builder
                .allocated_bytes()
                .saturating_sub(self.reserved + self.uncompressed_reservation)
        })
    }

    /// Writes idempotence state (and the transactional flag) into the closed
    /// batch (recomputing its CRC).
    pub fn set_producer_state(
        &mut self,
        producer_id: i64,
        epoch: i16,
        base_sequence: i32,
        transactional: bool,
    ) {
        if let Some(closed) = self.closed.as_mut() {
            closed.set_producer_state(producer_id, epoch, base_sequence, transactional);
            self.producer_state = Some((producer_id, epoch, base_sequence));
        }
    }

    /// Forgets the idempotence state so the next drain assigns a new sequence.
    pub fn clear_producer_state(&mut self) {
        self.producer_state = None;
    }

    /// The encoded batch (closed first if needed).
    pub fn bytes(&self) -> Option<Bytes> {
        self.closed.as_ref().map(ClosedBatch::bytes)
    }

    /// Completes every record of the batch: runs callbacks, wakes futures, gives
    /// back the batch's memory.
    pub fn complete(mut self, outcome: BatchOutcome) {
        self.finish(outcome, Counted::AsError);
    }

    /// `counted`: whether a failure counts in `record-error-*`.
    fn finish(&mut self, outcome: BatchOutcome, counted: Counted) {
        if self.done {
            return;
        }
        self.done = true;
        let accounting = self.accounting.take();
        if let Some(accounting) = &accounting {
            match &outcome {
                BatchOutcome::Delivered { .. } => {
                    let m = &accounting.metrics;
                    m.records_acked
                        .fetch_add(u64::from(self.record_count), Ordering::Relaxed);
                    m.batches_acked.fetch_add(1, Ordering::Relaxed);
                    m.bytes_acked
                        .fetch_add(self.size_in_bytes() as u64, Ordering::Relaxed);
                }
                BatchOutcome::Failed { error, .. } if counted == Counted::AsError => accounting
                    .metrics
                    .record_error(&self.topic, error.kind_name(), u64::from(self.record_count)),
                BatchOutcome::Failed { .. } => {
                    accounting
                        .metrics
                        .records_withdrawn
                        .fetch_add(u64::from(self.record_count), Ordering::Relaxed);
                }
                BatchOutcome::Split(_) => {}
            }
            accounting
                .pool
                .release(self.reserved + std::mem::take(&mut self.uncompressed_reservation));
        }
        // Callbacks that want their record get it from the batch (decoded when
        // read), so their callers did not have to keep it while it was in flight.
        let batch_records = if matches!(outcome, BatchOutcome::Delivered { .. })
            && !self.callbacks.is_empty()
        {
            self.closed_bytes()
                .map(|bytes| Arc::new(BatchRecords::new(self.topic.clone(), self.partition, bytes)))
        } else {
            None
        };
        let _ = self.completion.outcome.set(outcome);
        // Set just above (or earlier, which `done` rules out): always there.
        let completion = self.completion.clone();
        if let Some(outcome) = completion.outcome.get() {
            self.run_callbacks(outcome, batch_records);
        }
        // Only now is the batch no longer incomplete: a producer dropped
        // meanwhile waits for these callbacks instead of letting the process
        // end under them (Java also fires callbacks before the batch is done).
        if let Some(accounting) = accounting {
            accounting
                .incomplete
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&(Arc::as_ptr(&self.completion) as usize));
        }
        let _ = self.completion.callbacks_run.set(());
    }

    fn run_callbacks(&mut self, outcome: &BatchOutcome, batch_records: Option<Arc<BatchRecords>>) {
        let panicked = std::mem::take(&mut self.callbacks).run_all(&mut |position| {
            let result = outcome.resolve(&self.topic, self.partition, position);
            let record = batch_records
                .as_ref()
                .map(|batch| LazyRecord::in_batch(batch.clone(), *position));
            callback_outcome(result, record)
        });
        if panicked > 0 {
            tracing::error!(topic = %self.topic, partition = self.partition, panicked, "send callbacks panicked");
        }
    }

    /// Splits a batch the broker found too large into two halves by record
    /// count, each closed (compressed as the batch was) and stamped with
    /// nothing yet: the accumulator queues them in its place (Java's
    /// `ProducerBatch.split`, which splits by `batch.size`; halving always
    /// makes progress, even when the topic's `max.message.bytes` is below
    /// `batch.size`). The batch's futures and callbacks follow their records
    /// into the parts. The batch comes back unsplit when it holds one record
    /// or its records cannot be read back.
    pub(super) fn split(mut self) -> Result<Vec<ProducerBatch>, Box<ProducerBatch>> {
        if self.record_count < 2 {
            return Err(Box::new(self));
        }
        let Some(bytes) = self.closed_bytes() else {
            return Err(Box::new(self));
        };
        let compression = self
            .closed
            .as_ref()
            .map_or(Compression::None, ClosedBatch::compression);
        let mut records = Vec::with_capacity(self.record_count as usize);
        if for_each_own_record(&bytes, &mut |r| records.push(r)).is_err()
            || records.len() != self.record_count as usize
        {
            return Err(Box::new(self));
        }
        let Some(accounting) = self.accounting.clone() else {
            return Err(Box::new(self));
        };
        let mut parts = Vec::with_capacity(2);
        let mut first = 0u32;
        for chunk in records.chunks(records.len().div_ceil(2)) {
            let limit = RECORD_BATCH_OVERHEAD
                + 2 * chunk
                    .iter()
                    .map(|r| {
                        RecordBatchBuilder::estimate_record_size(
                            r.key.as_ref().map_or(0, Bytes::len),
                            r.value.as_ref().map_or(0, Bytes::len),
                            &r.headers,
                        )
                    })
                    .sum::<usize>();
            let mut builder = RecordBatchBuilder::new(compression, limit);
            let appended = chunk.iter().all(|r| {
                builder.try_append(
                    r.timestamp,
                    r.key.as_deref(),
                    r.value.as_deref(),
                    &r.headers,
                )
            });
            let closed = match builder.close() {
                Ok(closed) if appended => closed,
                _ => return Err(Box::new(self)),
            };
            let end = first + len_u32(chunk.len());
            let callbacks = self.callbacks.take_before(end, first);
            parts.push(ProducerBatch {
                topic: self.topic.clone(),
                partition: self.partition,
                builder: None,
                closed: Some(closed),
                record_count: len_u32(chunk.len()),
                max_record_size: self.max_record_size,
                created: self.created,
                last_attempt: self.last_attempt,
                attempts: self.attempts,
                retry_at: None,
                attempt_leader_epoch: self.attempt_leader_epoch,
                // The first part holds the batch's memory until it completes.
                reserved: std::mem::take(&mut self.reserved),
                uncompressed_reservation: 0,
                completion: Arc::new(BatchCompletion::new(self.topic.clone(), self.partition)),
                callbacks,
                close_error: None,
                producer_state: None,
                fate_unknown: false,
                maybe_written: self.maybe_written,
                in_flight: false,
                last_error: self.last_error.clone(),
                accounting: Some(accounting.clone()),
                done: false,
            });
            first = end;
        }
        let mut incomplete = accounting
            .incomplete
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for part in &parts {
            incomplete.insert(
                Arc::as_ptr(&part.completion) as usize,
                part.completion.clone(),
            );
        }
        incomplete.remove(&(Arc::as_ptr(&self.completion) as usize));
        drop(incomplete);
        accounting.metrics.record_batch_split();
        self.accounting = None;
        self.done = true;
        let mut offset = 0u32;
        self.completion.split(
            parts
                .iter()
                .map(|part| {
                    let first = offset;
                    offset += part.record_count;
                    SplitPart {
                        first,
                        completion: part.completion.clone(),
                    }
                })
                .collect(),
        );
        Ok(parts)
    }

    /// The error for every record, with the records rebuilt from the batch.
    /// A batch that may have been written fails as
    /// [`KafkaError::DeliveryUnknown`], never as "not sent".
    pub fn fail(self, error: KafkaError) {
        self.fail_as(error, Vec::new(), Counted::AsError);
    }

    /// Fails the batch with the broker's errors for single records
    /// (`record_errors`, by position in the batch) and `others` for the
    /// rest, refused with them (Java's `failBatch` with record errors).
    pub fn fail_with_record_errors(
        self,
        others: KafkaError,
        record_errors: Vec<(u32, KafkaError)>,
    ) {
        self.fail_as(others, record_errors, Counted::AsError);
    }

    /// Fails the batch because its transaction aborts or the producer is
    /// closed with it unsent, as [`ProducerBatch::fail`] but, as Java's
    /// `ProducerBatch.abort`, not counted in `record-error-*`: the records
    /// were withdrawn, not refused.
    pub fn abort(self, error: KafkaError) {
        self.fail_as(error, Vec::new(), Counted::NotAsError);
    }

    fn fail_as(
        mut self,
        error: KafkaError,
        record_errors: Vec<(u32, KafkaError)>,
        counted: Counted,
    ) {
        let error = self.truthful(error);
        let record_errors = record_errors
            .into_iter()
            .map(|(index, error)| (index, self.truthful(error)))
            .collect();
        let records = self.rebuild_records();
        tracing::debug!(topic = %self.topic, partition = self.partition, records = self.record_count, %error, "batch failed");
        self.finish(
            BatchOutcome::Failed {
                error,
                records,
                record_errors,
            },
            counted,
        );
    }

    /// The records of a failed batch, rebuilt from it.
    fn rebuild_records(&mut self) -> Vec<Arc<ProducerRecord>> {
        let mut records = Vec::with_capacity(self.record_count as usize);
        if let Some(bytes) = self.closed_bytes() {
            let this = &*self;
            let decoded = for_each_own_record(&bytes, &mut |decoded| {
                records.push(Arc::new(producer_record(
                    &this.topic,
                    this.partition,
                    decoded,
                )))
            });
            if let Err(e) = decoded {
                tracing::error!(topic = %self.topic, partition = self.partition, error = %e, "cannot rebuild the records of a failed batch");
            }
        }
        records
    }

    /// The batch's encoded bytes, closed first if needed; `None` when it
    /// cannot be closed.
    fn closed_bytes(&mut self) -> Option<Bytes> {
        if self.closed.is_none() && self.close().is_err() {
            return None;
        }
        self.bytes()
    }
}

impl ProducerBatch {
    /// `error`, or when some attempt of this batch went out without a definite
    /// answer, that error as the cause of [`KafkaError::DeliveryUnknown`].
    fn truthful(&self, error: KafkaError) -> KafkaError {
        if !(self.maybe_written || self.in_flight) || error.possibly_written() {
            return error;
        }
        KafkaError::DeliveryUnknown {
            topic: self.topic.to_string(),
            partition: self.partition,
            cause: Box::new(error),
        }
    }
}

impl Drop for ProducerBatch {
    // Every future resolves: a batch dropped without an outcome (the producer was
    // torn down, or its request abandoned by a forced close) fails its records
    // instead of leaving them hanging, as "possibly written" if it went out.
    fn drop(&mut self) {
        if !self.done {
            let error = self.truthful(KafkaError::ProducerClosed(
                "the producer was closed before an answer came for the record",
            ));
            let records = self.rebuild_records();
            tracing::error!(
                topic = %self.topic,
                partition = self.partition,
                records = self.record_count,
                %error,
                "batch abandoned without a definite outcome"
            );
            // As Java's forced close, which aborts what is incomplete.
            self.finish(
                BatchOutcome::Failed {
                    error,
                    records,
                    record_errors: Vec::new(),
                },
                Counted::NotAsError,
            );
        }
    }
}

/// Whether a failed batch's records count in `record-error-*`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counted {
    AsError,
    NotAsError,
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn len_i32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}
