//! Awaits per-record futures (for clients whose send returns a future rather
//! than taking a callback) on a task of their own, so each outcome is seen
//! when it happens, not when the send loop next looks.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::tracker::Pending;

/// A task awaiting record futures as they complete.
pub struct Collector<F> {
    futures: mpsc::UnboundedSender<(F, Pending)>,
    task: JoinHandle<()>,
}

impl<F> Collector<F>
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    /// Starts the collector task on the current tokio runtime.
    pub fn spawn() -> Collector<F> {
        let (futures, receiver) = mpsc::unbounded_channel();
        Collector {
            futures,
            task: tokio::spawn(collect(receiver)),
        }
    }

    /// Completes `pending` with `future`'s output once it resolves.
    pub fn track(&self, future: F, pending: Pending) -> anyhow::Result<()> {
        self.futures
            .send((future, pending))
            .map_err(|_| anyhow::anyhow!("the collector task stopped"))
    }

    /// Waits until every tracked future has resolved.
    pub async fn finish(self) -> anyhow::Result<()> {
        drop(self.futures);
        Ok(self.task.await?)
    }
}

async fn collect<F>(mut futures: mpsc::UnboundedReceiver<(F, Pending)>)
where
    F: Future<Output = Result<(), String>>,
{
    let mut in_flight = FuturesUnordered::new();
    loop {
        tokio::select! {
            next = futures.recv() => match next {
                Some((future, pending)) => in_flight.push(async move { pending.complete(future.await) }),
                None => break,
            },
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
        }
    }
    while in_flight.next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::tracker::Tracker;

    #[tokio::test]
    async fn every_tracked_future_completes_its_record() {
        let tracker = Tracker::leak(3, false);
        let collector = Collector::spawn();
        for delay in [30u64, 10, 20] {
            let future = Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                if delay == 10 {
                    Err("late".to_owned())
                } else {
                    Ok(())
                }
            });
            collector.track(future, tracker.start()).unwrap();
        }
        collector.finish().await.unwrap();
        assert_eq!((tracker.acked(), tracker.failed()), (2, 1));
        assert!(tracker.wait_all(Duration::from_millis(1)).await);
    }
}
