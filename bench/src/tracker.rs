//! Counts acknowledgements and failures from whatever thread a client's
//! producer reports them on, and (in latency mode) times each send to its ack.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Notify;

use crate::report::Latency;

/// Outcomes of the records of one run.
pub struct Tracker {
    expected: u64,
    acked: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    latencies: Option<Mutex<Histogram<u64>>>,
    /// In latency mode, the records left out of `latencies` (see
    /// [`Tracker::start_untimed`]), timed apart.
    others: Option<Mutex<Histogram<u64>>>,
    all_done: Notify,
}

/// The outcome of one record, to be completed exactly once by the client's
/// callback or future.
pub struct Pending {
    tracker: &'static Tracker,
    sent_at: Option<Instant>,
    /// Timed apart, in the tracker's other histogram.
    other: bool,
}

impl Tracker {
    /// A tracker expecting `expected` outcomes; `time_each` keeps a latency
    /// histogram (1 µs to 10 minutes, 3 significant digits).
    pub fn new(expected: u64, time_each: bool) -> Tracker {
        let histogram = || {
            time_each.then(|| {
                Mutex::new(
                    Histogram::new_with_bounds(1, 600_000_000, 3)
                        .expect("the histogram's bounds are constants and valid"),
                )
            })
        };
        Tracker {
            expected,
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            first_error: Mutex::new(None),
            latencies: histogram(),
            others: histogram(),
            all_done: Notify::new(),
        }
    }

    /// A tracker for the whole life of the process: callbacks must be
    /// `'static`, and a leaked tracker costs them no reference counting (one
    /// tracker per benchmark process).
    pub fn leak(expected: u64, time_each: bool) -> &'static Tracker {
        Box::leak(Box::new(Tracker::new(expected, time_each)))
    }

    /// Starts the clock for one record (in latency mode), just before it is
    /// handed to the producer.
    pub fn start(&'static self) -> Pending {
        Pending {
            tracker: self,
            sent_at: self.latencies.is_some().then(Instant::now),
            other: false,
        }
    }

    /// Like [`Tracker::start`] for a record left out of the latency figures
    /// (timed apart, in [`Tracker::others_latency`]).
    pub fn start_untimed(&'static self) -> Pending {
        Pending {
            tracker: self,
            sent_at: self.others.is_some().then(Instant::now),
            other: true,
        }
    }

    fn complete(&self, pending: &Pending, outcome: Result<(), String>) {
        let histogram = if pending.other {
            &self.others
        } else {
            &self.latencies
        };
        if let (Some(latencies), Some(sent_at)) = (histogram, pending.sent_at) {
            let micros = u64::try_from(sent_at.elapsed().as_micros()).unwrap_or(u64::MAX);
            if let Ok(mut histogram) = latencies.lock() {
                histogram.saturating_record(micros.max(1));
            }
        }
        match outcome {
            Ok(()) => self.acked.fetch_add(1, Ordering::Relaxed),
            Err(message) => {
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert(message);
                }
                self.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
        if self.done() >= self.expected {
            self.all_done.notify_one();
        }
    }

    fn done(&self) -> u64 {
        self.acked.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    /// Waits until every expected record has an outcome, at most `timeout`;
    /// returns whether they all did.
    pub async fn wait_all(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.done() < self.expected {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            // A completion may race the check above; look again at least every 10 ms.
            let _ = tokio::time::timeout(Duration::from_millis(10), self.all_done.notified()).await;
        }
        true
    }

    /// Records acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Records failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// The first failure's message, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|first| first.clone())
    }

    /// Latency percentiles, when this tracker timed each record.
    pub fn latency(&self) -> Option<Latency> {
        Self::percentiles(self.latencies.as_ref()?)
    }

    /// Latency percentiles of the records left out of [`Tracker::latency`],
    /// when there were any.
    pub fn others_latency(&self) -> Option<Latency> {
        Self::percentiles(self.others.as_ref()?)
    }

    fn percentiles(histogram: &Mutex<Histogram<u64>>) -> Option<Latency> {
        let histogram = histogram.lock().ok()?;
        if histogram.is_empty() {
            return None;
        }
        Some(Latency {
            p50_us: histogram.value_at_quantile(0.50) as f64,
            p99_us: histogram.value_at_quantile(0.99) as f64,
            p999_us: histogram.value_at_quantile(0.999) as f64,
            max_us: histogram.max() as f64,
            mean_us: histogram.mean(),
            resolution_us: 1.0,
        })
    }
}

impl Pending {
    /// Completes the record with its outcome.
    pub fn complete(self, outcome: Result<(), String>) {
        self.tracker.complete(&self, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_outcomes_and_times_them() {
        let tracker = Tracker::leak(3, true);
        tracker.start().complete(Ok(()));
        tracker.start().complete(Err("boom".into()));
        assert!(!tracker.wait_all(Duration::from_millis(30)).await);
        tracker.start().complete(Err("second".into()));
        assert!(tracker.wait_all(Duration::from_secs(1)).await);
        assert_eq!((tracker.acked(), tracker.failed()), (1, 2));
        assert_eq!(tracker.first_error().as_deref(), Some("boom"));
        let latency = tracker.latency().unwrap();
        assert!(latency.p50_us >= 1.0 && latency.p50_us <= latency.max_us);
    }

    #[tokio::test]
    async fn untimed_records_count_but_stay_out_of_the_histogram() {
        let tracker = Tracker::leak(2, true);
        let timed = tracker.start();
        let untimed = tracker.start_untimed();
        tokio::time::sleep(Duration::from_millis(20)).await;
        untimed.complete(Ok(()));
        timed.complete(Ok(()));
        assert!(tracker.wait_all(Duration::from_secs(1)).await);
        assert_eq!(tracker.acked(), 2);
        assert_eq!(tracker.latencies.as_ref().unwrap().lock().unwrap().len(), 1);
        assert_eq!(tracker.others.as_ref().unwrap().lock().unwrap().len(), 1);
        assert!(tracker.others_latency().unwrap().p50_us >= 20_000.0);
        assert!(Tracker::leak(1, true).others_latency().is_none());
    }

    #[test]
    fn throughput_trackers_keep_no_histogram() {
        assert!(Tracker::new(1, false).latency().is_none());
    }
}
