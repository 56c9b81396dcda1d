//! The sender's part of KIP-714 client metrics (Java's `NetworkClient.TelemetrySender`):
//! each turn of the loop, the telemetry state machine ([`ClientTelemetry`]) may
//! want a GetTelemetrySubscriptions or a PushTelemetry sent; it goes to the
//! connection the last one went to while that stays open (KIP-714 keeps a
//! client's pushes on one broker; Java's `stickyNode`), else to the least
//! loaded open connection (Java's `leastLoadedNode`; without one a
//! connection is opened, as Java's does, so that a producer that has sent
//! nothing yet registers too), as a future on the sender's event set, so it
//! never holds up a Produce request. A broker that
//! does not advertise both APIs (no telemetry plugin) is asked nothing.

use std::time::Duration;

use futures_util::FutureExt;
use tokio::time::Instant;

use super::{Event, Sender, Target};
use crate::network::NetworkError;
use crate::protocol::messages::{GetTelemetrySubscriptionsResponse, PushTelemetryResponse};
use crate::telemetry::{ClientTelemetry, Step};

/// A telemetry request's answer.
pub(super) enum TelemetryEvent {
    Subscribed(
        Target,
        Result<GetTelemetrySubscriptionsResponse, NetworkError>,
    ),
    Pushed(Target, Result<PushTelemetryResponse, NetworkError>),
}

impl Sender {
    /// The telemetry state for a producer with `enable.metrics.push=true`.
    pub(super) fn new_telemetry(&self) -> Option<ClientTelemetry> {
        let config = self.config();
        config
            .metrics_push_enabled()
            .then(|| ClientTelemetry::new(config.transactional_id(), Instant::now()))
    }

    /// Sends the telemetry request that is due, if any; returns when to look again.
    pub(super) fn drive_telemetry(&mut self, now: Instant) -> Option<Instant> {
        let telemetry = self.telemetry.as_ref()?;
        if let Err(at) = telemetry.due(now) {
            return at;
        }
        // As Java's `TelemetrySender`: the connection the last request went
        // to while it is open, else the least loaded open one, and without
        // one a connection is opened (a producer that has sent nothing yet
        // still registers and pushes). A close never waits for a broker it
        // would have to reach first: no terminating push then.
        let closing = self.telemetry_close_deadline.is_some();
        let sticky = self.telemetry_target.as_ref().and_then(|target| {
            let link = self.nodes.get(target)?.open_link()?;
            Some((target.clone(), link))
        });
        let open = match sticky {
            Some(open) => Some(open),
            None if closing => self.least_loaded_open(),
            None => self.any_connection(now),
        };
        self.telemetry_target = open.as_ref().map(|(target, _)| target.clone());
        let Some((target, link)) = open else {
            if closing {
                tracing::debug!("no open connection for the terminating telemetry push");
                self.give_up_telemetry();
            }
            // The new connection's event wakes the loop.
            return None;
        };
        let telemetry = self.telemetry.as_mut()?;
        if !link.supports_telemetry() {
            if closing {
                self.give_up_telemetry();
                return None;
            }
            telemetry.unsupported_here(now);
            return telemetry.due(now).err().flatten();
        }
        let shared = self.shared.clone();
        let step = telemetry.poll(now, || shared.metrics_snapshot());
        let timeout = self.config().request_timeout();
        match step {
            Step::Wait(at) => return at,
            Step::Subscribe(request) => {
                let call = link.get_telemetry_subscriptions(request, timeout);
                self.events.push(
                    async move { Event::Telemetry(TelemetryEvent::Subscribed(target, call.await)) }
                        .boxed(),
                );
            }
            Step::Push(request) => {
                let call = link.push_telemetry(request, timeout);
                self.events.push(
                    async move { Event::Telemetry(TelemetryEvent::Pushed(target, call.await)) }
                        .boxed(),
                );
            }
        }
        None
    }

    /// Drops telemetry at close (no terminating push) and lets the loop see it.
    fn give_up_telemetry(&mut self) {
        self.telemetry = None;
        self.shared.wakeup.notify_one();
    }

    pub(super) fn on_telemetry_event(&mut self, event: TelemetryEvent) {
        let now = Instant::now();
        let (target, failed) = match event {
            TelemetryEvent::Subscribed(target, result) => {
                let failed = result.as_ref().err().cloned();
                if let Some(telemetry) = self.telemetry.as_mut() {
                    telemetry.on_subscription(result, now);
                    if let Some(id) = telemetry.client_instance_id() {
                        let _ = self.shared.client_instance_id.set(id);
                    }
                }
                (target, failed)
            }
            TelemetryEvent::Pushed(target, result) => {
                let failed = result.as_ref().err().cloned();
                if let Some(telemetry) = self.telemetry.as_mut() {
                    telemetry.on_push(result, now);
                }
                (target, failed)
            }
        };
        if let Some(error) = failed {
            self.disconnected(&target, &error);
        }
    }

    /// At close, once every batch has its outcome: whether telemetry is done
    /// too (its terminating push answered, or none due, or
    /// `request.timeout.ms` spent on it). Returns `false` while the
    /// terminating push is still to be sent or answered.
    pub(super) fn telemetry_settled(&mut self, now: Instant) -> bool {
        let timeout = self.config().request_timeout();
        let Some(telemetry) = self.telemetry.as_mut() else {
            return true;
        };
        telemetry.close();
        if telemetry.is_terminated() {
            return true;
        }
        let deadline = *self.telemetry_close_deadline.get_or_insert(now + timeout);
        if now >= deadline {
            tracing::debug!("no answer to the terminating telemetry push in time; closing");
            return true;
        }
        false
    }

    /// When the loop must look again at a close waiting for telemetry.
    pub(super) fn telemetry_close_wake(&self) -> Option<Instant> {
        self.telemetry_close_deadline
            .map(|d| d.max(Instant::now() + Duration::from_millis(1)))
    }
}
