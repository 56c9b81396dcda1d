//! Quota throttling as a connection sees it (KIP-219): the `throttle_time_ms`
//! of every response, for `produce-throttle-time`, and how long the client
//! must hold its requests on the connection when the broker answered before
//! throttling.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// What a connection's responses said about throttling, until taken.
#[derive(Debug, Default)]
pub(crate) struct ThrottleLog {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// `throttle_time_ms` of each response decoded since last taken (Java's
    /// `NetworkClient` records every response's, zeros included).
    values: Vec<u32>,
    /// No request may be written before this (KIP-219).
    muted_until: Option<Instant>,
}

impl ThrottleLog {
    /// Values kept for a connection nobody takes them from (one opened
    /// outside a producer): enough for any taker, bounded for the others.
    const KEPT: usize = 1024;

    /// A response said the broker throttles this client for
    /// `throttle_time_ms`; `client_throttles` when the client must hold its
    /// requests for that long itself.
    pub(crate) fn response(&self, throttle_time_ms: i32, client_throttles: bool, now: Instant) {
        let ms = u32::try_from(throttle_time_ms).unwrap_or(0);
        let mut seen = self.lock();
        if seen.values.len() < Self::KEPT {
            seen.values.push(ms);
        }
        if client_throttles && ms > 0 {
            let until = now + Duration::from_millis(u64::from(ms));
            seen.muted_until = Some(seen.muted_until.map_or(until, |u| u.max(until)));
        }
    }

    /// The values seen since last taken.
    pub(crate) fn take(&self) -> Vec<u32> {
        std::mem::take(&mut self.lock().values)
    }

    /// Until when the broker throttles this client, if it said so.
    pub(crate) fn muted_until(&self) -> Option<Instant> {
        self.lock().muted_until
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Every critical section is a push, a take or a copy: a panic cannot
        // leave it half done.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_value_is_kept_and_only_client_side_throttles_mute() {
        let log = ThrottleLog::default();
        let now = Instant::now();
        log.response(0, true, now);
        // Before KIP-219's versions the broker delayed the answer itself.
        log.response(500, false, now);
        assert_eq!(log.muted_until(), None);
        log.response(300, true, now);
        log.response(100, true, now);
        assert_eq!(log.muted_until(), Some(now + Duration::from_millis(300)));
        log.response(-5, true, now);
        assert_eq!(log.take(), vec![0, 500, 300, 100, 0]);
        assert!(log.take().is_empty());
    }

    #[tokio::test]
    async fn values_nobody_takes_stay_bounded() {
        let log = ThrottleLog::default();
        for _ in 0..ThrottleLog::KEPT + 10 {
            log.response(1, false, Instant::now());
        }
        assert_eq!(log.take().len(), ThrottleLog::KEPT);
    }
}
