//! The wall clock records are stamped with, Java's `System.currentTimeMillis`.
//!
//! Every record without a timestamp of its own reads it, so it is read
//! cheaply: each sending thread reads the system's wall clock, then carries
//! that reading forward by the CPU's time-stamp counter (through `quanta`,
//! calibrated once per process) for [`REREAD_AFTER_NANOS`] before it reads
//! the system's clock again. A `clock_gettime` took about 4% of the raw
//! producer's CPU per 100-byte record, the counter a fraction of that.
//!
//! A reading is paired with the counter read just after it, so what is
//! carried forward trails the system's clock by at most the read's own time
//! (a reading that took over [`READ_WITHIN_NANOS`] is not carried forward),
//! and a thread's timestamps never step back when it reads again, as Java's
//! `currentTimeMillis` on one thread does not. Over so short a stretch the
//! counter's calibration error is nanoseconds, a millionth of the
//! millisecond Kafka keeps, and a step of the system's clock (NTP, an
//! operator) shows within that stretch.
//!
//! `quanta` trusts a counter the CPU reports invariant. On a host whose
//! cores' counters are not in step (where Linux stops using the counter for
//! its own clock), a thread that moves to a core whose counter runs ahead is
//! ahead by up to [`REREAD_AFTER_NANOS`] until it reads again; one that moves
//! to a core whose counter runs behind reads again at once. Where the CPU
//! does not report an invariant counter (valgrind's emulated CPU does not),
//! `quanta` reads the monotonic clock instead, which costs about what a
//! direct read did.

use std::cell::Cell;
use std::sync::LazyLock;

/// The counter, calibrated against the monotonic clock when first used.
static COUNTER: LazyLock<quanta::Clock> = LazyLock::new(quanta::Clock::new);

/// How long a reading of the system's clock is carried forward.
const REREAD_AFTER_NANOS: u64 = 50_000;

/// How long reading the system's clock may take for the reading to be
/// carried forward: a thread preempted in between would carry an error as
/// large as the pause.
const READ_WITHIN_NANOS: u64 = 2_000;

/// The wall clock at a counter reading: what a thread carries forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    /// The counter, read just after the system's clock.
    counter: u64,
    /// The system's clock, in nanoseconds since the Unix epoch.
    wall_nanos: i64,
}

thread_local! {
    static LAST_READING: Cell<Option<Reading>> = const { Cell::new(None) };
}

/// Calibrates the counter now, so that no send waits for it (the first
/// calibration in a process: usually about a millisecond, at most 200 ms).
pub(crate) fn calibrate() {
    LazyLock::force(&COUNTER);
}

/// Milliseconds since the Unix epoch (0 for a clock set before 1970).
#[inline]
pub(crate) fn wall_clock_ms() -> i64 {
    wall_clock_nanos().max(0) / 1_000_000
}

/// Nanoseconds since the Unix epoch, carried forward from the thread's last
/// reading of the system's clock while it is recent enough.
#[inline]
fn wall_clock_nanos() -> i64 {
    let counter = COUNTER.raw();
    LAST_READING
        // A `const` local without a destructor: there even while the thread ends.
        .with(|last| match carried_forward(last.get(), counter) {
            Some(nanos) => nanos,
            None => {
                let (reading, nanos) = read_system_clock(counter);
                last.set(reading);
                nanos
            }
        })
}

/// The wall clock at `counter`, from `last` when it is recent enough.
#[inline]
fn carried_forward(last: Option<Reading>, counter: u64) -> Option<i64> {
    let last = last?;
    // A counter behind the reading (another core's, not in step) reads again.
    if counter < last.counter {
        return None;
    }
    let elapsed = COUNTER.delta_as_nanos(last.counter, counter);
    (elapsed < REREAD_AFTER_NANOS).then(|| last.wall_nanos.saturating_add_unsigned(elapsed))
}

/// Reads the system's clock after the counter read `before`, and the
/// reading to carry forward when the read was quick enough.
#[cold]
fn read_system_clock(before: u64) -> (Option<Reading>, i64) {
    let wall_nanos = system_wall_nanos();
    let after = COUNTER.raw();
    // Paired with the counter after the read: carried forward, the reading
    // trails the system's clock by at most the read's time, never leads it,
    // so the next reading does not step back.
    let quick = after >= before && COUNTER.delta_as_nanos(before, after) <= READ_WITHIN_NANOS;
    let reading = quick.then_some(Reading {
        counter: after,
        wall_nanos,
    });
    (reading, wall_nanos)
}

/// The system's wall clock, in nanoseconds since the Unix epoch (negative
/// before it).
#[cfg(all(unix, not(target_os = "espidf")))]
fn system_wall_nanos() -> i64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    // `tv_nsec` is an i64 here, narrower on some 32-bit targets.
    #[allow(clippy::useless_conversion)]
    let nanos = i64::from(now.tv_nsec);
    now.tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(nanos)
}

/// See the Unix version (rustix has no clock on ESP-IDF).
#[cfg(not(all(unix, not(target_os = "espidf"))))]
fn system_wall_nanos() -> i64 {
    let now = std::time::SystemTime::now();
    match now.duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counter's calibration and the reading's own read time, at most.
    const SLACK_NANOS: i64 = 5_000;

    /// Checks `ours`, in nanoseconds over `per_unit`, against reads of the
    /// system's clock before and after it, for 20 ms of windows.
    fn between_system_reads(mut ours: impl FnMut() -> i64, per_unit: i64) {
        let end = std::time::Instant::now() + std::time::Duration::from_millis(20);
        let mut reads = 0;
        while std::time::Instant::now() < end || reads < 1_000 {
            let before = system_wall_nanos();
            let read = ours();
            let after = system_wall_nanos();
            let earliest = (before - SLACK_NANOS) / per_unit;
            let latest = (after + SLACK_NANOS) / per_unit;
            assert!(
                (earliest..=latest).contains(&read),
                "{earliest} <= {read} <= {latest}"
            );
            reads += 1;
        }
    }

    #[test]
    fn the_wall_clock_is_the_systems_in_milliseconds() {
        between_system_reads(wall_clock_ms, 1_000_000);
    }

    #[test]
    fn carried_forward_readings_stay_within_microseconds_of_the_systems() {
        between_system_reads(wall_clock_nanos, 1);
    }

    #[test]
    fn a_reading_is_carried_forward_only_while_recent_and_behind_the_counter() {
        let start = COUNTER.raw();
        let last = Some(Reading {
            counter: start,
            wall_nanos: 1_000_000_000,
        });
        assert_eq!(carried_forward(None, start), None);
        assert_eq!(carried_forward(last, start), Some(1_000_000_000));
        // A counter behind the reading (another core's).
        assert_eq!(carried_forward(last, start - 1), None);
        // Spin until the window has passed: the system's clock is read again.
        loop {
            let now = COUNTER.raw();
            let elapsed = COUNTER.delta_as_nanos(start, now);
            match carried_forward(last, now) {
                Some(nanos) => {
                    assert!(elapsed < REREAD_AFTER_NANOS, "{elapsed} ns");
                    assert_eq!(nanos, 1_000_000_000 + i64::try_from(elapsed).unwrap());
                }
                None => {
                    assert!(elapsed >= REREAD_AFTER_NANOS, "{elapsed} ns");
                    break;
                }
            }
        }
    }

    #[test]
    fn a_quick_read_of_the_systems_clock_is_carried_forward_and_a_slow_one_not() {
        let long_ago = COUNTER.raw();
        // Until more than READ_WITHIN_NANOS have passed since `long_ago`.
        while COUNTER.delta_as_nanos(long_ago, COUNTER.raw()) <= READ_WITHIN_NANOS {}
        let (reading, _) = read_system_clock(long_ago);
        assert_eq!(reading, None);
        // A read can be slow when this thread is preempted in it, so one of
        // many is enough; every one kept is paired with the counter after it.
        let kept = (0..1_000)
            .filter_map(|_| {
                let before = COUNTER.raw();
                let (reading, nanos) = read_system_clock(before);
                reading.inspect(|reading| {
                    assert!(reading.counter >= before);
                    assert_eq!(reading.wall_nanos, nanos);
                })
            })
            .count();
        assert!(kept > 0, "no read of the system's clock was quick enough");
    }

    #[test]
    fn a_threads_timestamps_do_not_step_back_when_it_reads_again() {
        // Across many re-reads, as a thread sending records makes them.
        let end = std::time::Instant::now() + std::time::Duration::from_millis(20);
        let mut last = wall_clock_nanos();
        let mut carried = false;
        while std::time::Instant::now() < end {
            let now = wall_clock_nanos();
            // The counter's calibration may put a carried-forward reading a
            // few nanoseconds off; a step back of the read's own time (tens
            // of nanoseconds and more) is what pairing with the counter
            // before the read would give.
            assert!(now >= last - 5, "{now} after {last}");
            last = now;
            carried |= LAST_READING.with(Cell::get).is_some();
        }
        assert!(carried, "no reading was carried forward");
    }
}
