//! `buffer.memory` as a hard bound: every batch holds a reservation of its
//! capacity (`batch.size`, plus, while a full compressed batch waits uncompressed
//! for the sender, its records beyond that) until the broker acknowledges it (or
//! it fails), and appends that need a new batch wait, first come first served,
//! for reservations to be released — at most `max.block.ms` (Java's
//! `BufferPool`, counting bytes instead of pooling buffers: Rust's allocator
//! already reuses memory well; recycling the batch buffers measured no lower
//! peak RSS).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::oneshot;
use tokio::time::Instant;

#[derive(Debug)]
struct Waiter {
    id: u64,
    needed: usize,
    grant: oneshot::Sender<()>,
}

#[derive(Debug)]
struct PoolState {
    available: usize,
    waiters: VecDeque<Waiter>,
    next_id: u64,
}

/// Why a reservation could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReserveError {
    /// More than the whole pool was asked for.
    LargerThanPool,
    /// The deadline passed before enough bytes were released.
    Timeout,
}

#[derive(Debug)]
pub(crate) struct BufferPool {
    total: usize,
    state: Mutex<PoolState>,
    /// Mirrors `state.waiters.len()` for lock-free reads by the ready check.
    waiting: AtomicUsize,
}

impl BufferPool {
    pub fn new(total: usize) -> Self {
        BufferPool {
            total,
            state: Mutex::new(PoolState {
                available: total,
                waiters: VecDeque::new(),
                next_id: 0,
            }),
            waiting: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn available(&self) -> usize {
        self.lock().available
    }

    /// Appends waiting for space; while any wait, every batch counts as ready so the
    /// sender frees memory as fast as it can.
    pub fn waiters(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Reserves without waiting, if nobody is queued ahead and the bytes are free.
    pub fn try_reserve(&self, size: usize) -> bool {
        let mut state = self.lock();
        if state.waiters.is_empty() && state.available >= size {
            state.available -= size;
            true
        } else {
            false
        }
    }

    /// Reserves `size` bytes, waiting in line until `deadline`. `on_wait` runs once
    /// if the call has to wait (to wake the sender).
    pub async fn reserve(
        &self,
        size: usize,
        deadline: Instant,
        on_wait: impl FnOnce(),
    ) -> Result<(), ReserveError> {
        if size > self.total {
            return Err(ReserveError::LargerThanPool);
        }
        let (id, granted) = {
            let mut state = self.lock();
            if state.waiters.is_empty() && state.available >= size {
                state.available -= size;
                return Ok(());
            }
            let (grant, granted) = oneshot::channel();
            let id = state.next_id;
            state.next_id += 1;
            state.waiters.push_back(Waiter {
                id,
                needed: size,
                grant,
            });
            self.waiting.store(state.waiters.len(), Ordering::Relaxed);
            (id, granted)
        };
        let mut place = PlaceInLine {
            pool: self,
            id,
            needed: size,
            granted,
            left: false,
        };
        on_wait();
        match tokio::time::timeout_at(deadline, &mut place.granted).await {
            Ok(Ok(())) => {
                place.left = true;
                Ok(())
            }
            // The sender half lives in the queue until it is served.
            Ok(Err(_)) | Err(_) => {
                // Granted between the timeout and the line's lock: keep it.
                if place.leave() {
                    Ok(())
                } else {
                    Err(ReserveError::Timeout)
                }
            }
        }
    }

    /// Returns `size` bytes and hands them to waiters in order.
    pub fn release(&self, size: usize) {
        if size == 0 {
            return;
        }
        let mut state = self.lock();
        state.available = (state.available + size).min(self.total);
        Self::serve(&mut state);
        self.waiting.store(state.waiters.len(), Ordering::Relaxed);
    }

    fn serve(state: &mut PoolState) {
        while let Some(front) = state.waiters.front() {
            if front.needed > state.available {
                break;
            }
            let Some(waiter) = state.waiters.pop_front() else {
                break;
            };
            state.available -= waiter.needed;
            if waiter.grant.send(()).is_err() {
                // The waiter is gone (its task was cancelled): take the bytes back.
                state.available += waiter.needed;
            }
        }
    }
}

/// A reservation's place in the line while it waits. Left when the wait
/// ends without the grant, and also when the waiting future is dropped (a
/// send given up by its caller): a grant sent meanwhile is then given back,
/// or those bytes would be lost to the pool for good.
struct PlaceInLine<'a> {
    pool: &'a BufferPool,
    id: u64,
    needed: usize,
    granted: oneshot::Receiver<()>,
    /// Whether the grant was taken or the line left.
    left: bool,
}

impl PlaceInLine<'_> {
    /// Leaves the line; true if the bytes were granted meanwhile (they are
    /// then the caller's).
    fn leave(&mut self) -> bool {
        if std::mem::replace(&mut self.left, true) {
            return false;
        }
        let pool = self.pool;
        let mut state = pool.lock();
        state.waiters.retain(|w| w.id != self.id);
        let was_granted = self.granted.try_recv().is_ok();
        // Leaving the head of the line may let the next waiter through.
        BufferPool::serve(&mut state);
        pool.waiting.store(state.waiters.len(), Ordering::Relaxed);
        was_granted
    }
}

impl Drop for PlaceInLine<'_> {
    fn drop(&mut self) {
        if self.leave() {
            self.pool.release(self.needed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn reserves_and_releases_bytes() {
        let pool = BufferPool::new(100);
        assert!(pool.try_reserve(60));
        assert_eq!(pool.available(), 40);
        assert!(!pool.try_reserve(50));
        pool.release(60);
        assert_eq!(pool.available(), 100);
    }

    #[tokio::test]
    async fn a_grant_to_a_wait_given_up_comes_back_to_the_pool() {
        use futures_util::FutureExt;
        let pool = BufferPool::new(100);
        assert!(pool.try_reserve(100));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut wait = Box::pin(pool.reserve(50, deadline, || {}));
        assert!((&mut wait).now_or_never().is_none(), "waits in line");
        assert_eq!(pool.waiters(), 1);
        // Granted, then given up before it saw the grant.
        pool.release(100);
        assert_eq!(pool.available(), 50);
        drop(wait);
        assert_eq!(pool.available(), 100);
        assert_eq!(pool.waiters(), 0);
    }

    #[tokio::test]
    async fn a_wait_given_up_in_line_lets_the_next_through() {
        use futures_util::FutureExt;
        let pool = BufferPool::new(100);
        assert!(pool.try_reserve(100));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut first = Box::pin(pool.reserve(80, deadline, || {}));
        assert!((&mut first).now_or_never().is_none());
        let mut second = Box::pin(pool.reserve(30, deadline, || {}));
        assert!((&mut second).now_or_never().is_none());
        pool.release(50);
        // 50 free: not enough for the head of the line, so the second waits.
        assert_eq!(pool.available(), 50);
        drop(first);
        assert_eq!(pool.available(), 20, "the second was served");
        assert_eq!((&mut second).now_or_never(), Some(Ok(())));
    }

    #[tokio::test]
    async fn more_than_the_pool_is_refused_at_once() {
        let pool = BufferPool::new(100);
        let deadline = Instant::now() + Duration::from_secs(10);
        assert_eq!(
            pool.reserve(101, deadline, || {}).await,
            Err(ReserveError::LargerThanPool)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_times_out_at_the_deadline_and_leaves_the_line() {
        let pool = BufferPool::new(100);
        assert!(pool.try_reserve(100));
        let deadline = Instant::now() + Duration::from_millis(50);
        let mut woke = false;
        assert_eq!(
            pool.reserve(10, deadline, || woke = true).await,
            Err(ReserveError::Timeout)
        );
        assert!(woke);
        assert_eq!(pool.waiters(), 0);
        pool.release(100);
        assert_eq!(pool.available(), 100);
    }

    #[tokio::test]
    async fn waiters_are_served_in_order() {
        let pool = Arc::new(BufferPool::new(100));
        assert!(pool.try_reserve(100));
        let order = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut tasks = Vec::new();
        for (i, size) in [(0, 80), (1, 10), (2, 10)] {
            let (task_pool, task_order) = (pool.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                task_pool.reserve(size, deadline, || {}).await.unwrap();
                task_order.lock().unwrap().push(i);
            }));
            // Queue them in a known order.
            while pool.waiters() <= i {
                tokio::task::yield_now().await;
            }
        }
        // 20 bytes free: enough for waiters 1 and 2, but 0 is first in line.
        pool.release(20);
        tokio::task::yield_now().await;
        assert!(order.lock().unwrap().is_empty());
        assert_eq!(pool.waiters(), 3);
        pool.release(80);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        assert_eq!(pool.available(), 0);
    }
}
