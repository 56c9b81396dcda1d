//! A [`Sink`]: one broker as the sender sees it (franz-go's `sink.go`): its
//! connection, its own writer and its own in-flight limit.
//!
//! The coordinator (metadata, producer id, retries, expiry) never awaits a
//! socket: a Produce request is written by a future of its own, and the sink
//! takes no other Produce request until that write is done (Java's
//! `NetworkClient.canSendMore`: the last request to the node is fully sent), so
//! requests to one broker go out in drain order, which idempotent sequences
//! need. A broker that stops reading holds back only its own sink: the batches
//! it leads stay in the accumulator (where they expire by
//! `delivery.timeout.ms`), while every other sink keeps writing.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::link::Link;
use crate::accumulator::ProducerBatch;
use crate::metadata::Cluster;
use crate::protocol::messages::{ProducePartitionData, ProduceRequest, ProduceTopicData};

/// One broker's connection and what is under way on it.
#[derive(Default)]
pub(super) struct Sink {
    pub link: Option<Arc<dyn Link>>,
    pub connecting: bool,
    /// A Produce request to this broker is being written: the next one waits
    /// until it is on the socket.
    pub writing: bool,
    /// Produce requests written (or being written) whose answer has not come.
    pub in_flight: usize,
    /// Connection attempts failed in a row.
    pub failures: u32,
    pub backoff_until: Option<Instant>,
    /// `link`'s traffic already counted in the metrics.
    pub counted: crate::metrics::Traffic,
    /// When `link` was last seen in use (a request written or awaited), and
    /// its bytes written then: `connections.max.idle.ms` counts from there.
    pub last_active: Option<(Instant, u64)>,
}

impl Sink {
    /// The connection, when open.
    pub fn open_link(&self) -> Option<Arc<dyn Link>> {
        self.link.clone().filter(|l| !l.is_closed())
    }

    /// When the open connection will have been idle for `max_idle` (Java's
    /// `connections.max.idle.ms`: the client closes it before the broker's
    /// own idle limit closes it under a request), if nothing uses it before;
    /// `None` without an open connection.
    pub fn idle_deadline(&mut self, max_idle: Duration, now: Instant) -> Option<Instant> {
        let link = self.open_link()?;
        let bytes = link.traffic().written;
        let busy = self.writing || self.in_flight > 0 || link.in_flight() > 0;
        match self.last_active {
            Some((_, seen)) if !busy && seen == bytes => {}
            _ => self.last_active = Some((now, bytes)),
        }
        self.last_active.map(|(since, _)| since + max_idle)
    }

    /// Whether a Produce request may be written to this broker now (Java's
    /// `NetworkClient.isReady`): connected, not throttled, the last request
    /// fully written, fewer than `max_in_flight` unanswered. `Err` carries the
    /// instant the sink unmutes when throttling is what holds it.
    pub fn may_produce(&self, max_in_flight: usize, now: Instant) -> Result<(), Option<Instant>> {
        let Some(link) = self.link.as_ref().filter(|l| !l.is_closed()) else {
            return Err(None);
        };
        if let Some(until) = link.muted_until().filter(|u| *u > now) {
            return Err(Some(until));
        }
        if self.writing || self.in_flight >= max_in_flight {
            return Err(None);
        }
        Ok(())
    }

    /// A Produce request starts being written.
    pub fn begin_write(&mut self) {
        self.writing = true;
        self.in_flight += 1;
    }

    /// The answer came, or the request failed.
    pub fn request_done(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}

/// One multi-partition Produce request for `batches` (closed and stamped).
/// Topics are named by id too when `cluster` knows it (Produce v13).
pub(super) fn produce_request(
    batches: &[ProducerBatch],
    cluster: &Cluster,
    acks: i16,
    timeout: Duration,
    transactional_id: Option<&str>,
) -> ProduceRequest {
    let mut topics: Vec<ProduceTopicData> = Vec::new();
    for batch in batches {
        let data = ProducePartitionData {
            index: batch.partition,
            records: batch.bytes(),
        };
        match topics.iter_mut().find(|t| *t.name == *batch.topic) {
            Some(t) => t.partitions.push(data),
            None => topics.push(ProduceTopicData {
                name: batch.topic.to_string(),
                topic_id: cluster.topic_id(&batch.topic),
                partitions: vec![data],
            }),
        }
    }
    ProduceRequest {
        transactional_id: transactional_id.map(str::to_owned),
        transaction_v2: false,
        acks,
        timeout_ms: i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX),
        topics,
    }
}
