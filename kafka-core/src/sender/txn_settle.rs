//! How long the next transaction's first request waits after EndTxn answers.
//!
//! The coordinator answers EndTxn once it has logged PrepareCommit and then
//! completes the transaction (markers, CompleteCommit); a partition of the next
//! transaction reaching it before then is refused and retried 20 ms later
//! (see the `txn` module).
//!
//! So the producer asks the coordinator: DescribeTransactions on its own
//! transactional id, again as soon as each answer comes, until the state is
//! no longer PrepareCommit or PrepareAbort (at most the refusal's retry
//! backoff; past that the retry costs less). A request round trip is a
//! fraction of a millisecond on a LAN, and an answer-driven wait needs no
//! timer (tokio's rounds up to the next millisecond). After four answers
//! that it is still completing, once a millisecond: a slow completion (a
//! transaction log replicated across brokers) costs the coordinator a
//! request a millisecond at most.
//!
//! Where it cannot ask (a broker before Kafka 3.0, an ACL that refuses
//! `DESCRIBE`, a failed request), the wait is learned: how long completing
//! takes depends on the cluster and on the transaction (markers to more
//! partitions take longer), about one and a half EndTxn round trips for 100
//! records on one partition, more for 1,000 records over two. So the wait
//! starts at 1.5 round trips, grows by one round trip each time the first
//! request is refused anyway, and shrinks by a fiftieth of one each time it is
//! not, settling where about one transaction in fifty is refused.
//!
//! Under transactions V1 the refusal is explicit (our AddPartitionsToTxn
//! answered `CONCURRENT_TRANSACTIONS`). Under V2 the partition leader adds the
//! partition for our Produce and retries the refusal itself, so the refusal
//! shows as a first Produce answered at least the retry backoff later than a
//! round trip.

use std::time::Duration;

use tokio::time::Instant;

/// The least, first and most of the wait, in EndTxn round trips.
const MIN_ROUND_TRIPS: f64 = 1.0;
const INITIAL_ROUND_TRIPS: f64 = 1.5;
const MAX_ROUND_TRIPS: f64 = 8.0;
/// What a refused first request adds to the wait, and a clean one takes off.
const STEP_UP: f64 = 1.0;
const STEP_DOWN: f64 = 0.02;

/// The learned wait after EndTxn, and the first request it is judged by.
#[derive(Debug)]
pub(super) struct TxnSettle {
    /// The wait, in EndTxn round trips.
    round_trips: f64,
    /// The last EndTxn's round trip.
    end_txn_rtt: Duration,
    /// Until when the next transaction's first request waits.
    until: Option<Instant>,
    /// Under V2: the first Produce after the wait, not yet answered.
    probe: Probe,
    /// Whether the coordinator may be asked (DescribeTransactions); false
    /// once it could not answer for good.
    may_ask: bool,
    /// Asking the coordinator after this EndTxn: when it answered, the learned
    /// wait to fall back on, and whether the producer uses V2.
    asking: Option<Asking>,
    /// Whether the current wait is the learned one, so the first request
    /// after it judges it.
    learning: bool,
}

#[derive(Debug, Clone, Copy)]
struct Asking {
    ended_at: Instant,
    learned_wait: Duration,
    v2: bool,
    /// Answers that the transaction was still completing.
    preparing: u32,
    /// When to ask next.
    next_at: Instant,
}

/// How many times the coordinator is asked back to back (a completion takes
/// about one or two round trips); after that, once per [`ASK_INTERVAL`], so a
/// slow completion costs the coordinator a request a millisecond at most.
const QUICK_ASKS: u32 = 4;
const ASK_INTERVAL: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Idle,
    /// The next Produce is the transaction's first.
    Armed,
    /// The transaction's first Produce went out then.
    Sent(Instant),
}

impl TxnSettle {
    pub fn new() -> Self {
        TxnSettle {
            round_trips: INITIAL_ROUND_TRIPS,
            end_txn_rtt: Duration::ZERO,
            until: None,
            probe: Probe::Idle,
            may_ask: true,
            asking: None,
            learning: false,
        }
    }

    /// EndTxn answered at `now` after `end_txn_rtt`: the next transaction's
    /// first request waits, at most `max_wait` (past that, the refusal's
    /// retry costs less). While the coordinator may be asked, until it says the
    /// transaction is complete ([`settled`](Self::settled)); otherwise for the
    /// learned wait. `v2`: that request is a Produce, judged by its answer's
    /// delay.
    pub fn transaction_ended(
        &mut self,
        now: Instant,
        end_txn_rtt: Duration,
        max_wait: Duration,
        v2: bool,
    ) -> Duration {
        self.end_txn_rtt = end_txn_rtt;
        let learned_wait = end_txn_rtt.mul_f64(self.round_trips).min(max_wait);
        if self.may_ask {
            self.asking = Some(Asking {
                ended_at: now,
                learned_wait,
                v2,
                preparing: 0,
                next_at: now,
            });
            self.until = Some(now + max_wait);
            self.probe = Probe::Idle;
            self.learning = false;
            return max_wait;
        }
        self.learned(now, learned_wait, v2);
        learned_wait
    }

    fn learned(&mut self, ended_at: Instant, wait: Duration, v2: bool) {
        self.until = Some(ended_at + wait);
        self.probe = if v2 { Probe::Armed } else { Probe::Idle };
        self.learning = true;
    }

    /// When to ask the coordinator (again) whether the last transaction is
    /// complete (at or before `now`: at once), while still waiting for it and
    /// not past the longest wait.
    pub fn ask_at(&mut self, now: Instant) -> Option<Instant> {
        if self.asking.is_some() && self.settling(now).is_none() {
            self.asking = None;
        }
        self.asking.map(|asking| asking.next_at)
    }

    /// The coordinator answered at `now` that the transaction is still
    /// completing: asked again at once, or after the first few answers, a
    /// little later.
    pub fn still_completing(&mut self, now: Instant) {
        if let Some(asking) = self.asking.as_mut() {
            asking.preparing += 1;
            asking.next_at = if asking.preparing < QUICK_ASKS {
                now
            } else {
                now + ASK_INTERVAL
            };
        }
    }

    /// The coordinator says the last transaction is complete: the wait is
    /// over. Returns how many answers said it was still completing.
    pub fn settled(&mut self) -> u32 {
        match self.asking.take() {
            Some(asking) => {
                self.until = None;
                asking.preparing
            }
            None => 0,
        }
    }

    /// The coordinator could not say (`for_good`: and never will, as with a
    /// broker without DescribeTransactions or an ACL refusing it): the learned
    /// wait from EndTxn's answer applies.
    pub fn cannot_ask(&mut self, for_good: bool) {
        if for_good {
            self.may_ask = false;
        }
        if let Some(asking) = self.asking.take() {
            self.learned(asking.ended_at, asking.learned_wait, asking.v2);
        }
    }

    /// When the wait ends, if it is still on.
    pub fn settling(&self, now: Instant) -> Option<Instant> {
        self.until.filter(|at| *at > now)
    }

    /// The wait the next EndTxn's answer starts, in EndTxn round trips.
    pub fn round_trips(&self) -> f64 {
        self.round_trips
    }

    /// A Produce went out at `sent_at`.
    pub fn produce_sent(&mut self, sent_at: Instant) {
        if self.probe == Probe::Armed {
            self.probe = Probe::Sent(sent_at);
        }
    }

    /// The Produce sent at `sent_at` was answered at `now` (or failed):
    /// judges the wait when it was the transaction's first. `refusal_retry`
    /// is the leader's retry backoff after a refusal.
    pub fn produce_answered(&mut self, sent_at: Instant, now: Instant, refusal_retry: Duration) {
        if self.probe != Probe::Sent(sent_at) {
            return;
        }
        self.probe = Probe::Idle;
        // A refused add is retried after `refusal_retry`: nine tenths of it
        // past a round trip is no network's jitter on a LAN, and a slower
        // network's produce round trip is longer than EndTxn's too.
        let threshold = self.end_txn_rtt + refusal_retry.mul_f64(0.9);
        self.first_request_judged(now.saturating_duration_since(sent_at) >= threshold);
    }

    /// The transaction's first request was (`true`) or was not refused as
    /// `CONCURRENT_TRANSACTIONS`: judges the learned wait, if it was that.
    pub fn first_request_judged(&mut self, refused: bool) {
        if !self.learning {
            return;
        }
        self.round_trips = if refused {
            (self.round_trips + STEP_UP).min(MAX_ROUND_TRIPS)
        } else {
            (self.round_trips - STEP_DOWN).max(MIN_ROUND_TRIPS)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTT: Duration = Duration::from_micros(400);
    const MAX: Duration = Duration::from_millis(20);
    const RETRY: Duration = Duration::from_millis(20);

    /// A settle that learns its wait (the coordinator cannot be asked).
    fn learning() -> TxnSettle {
        let mut settle = TxnSettle::new();
        settle.cannot_ask(true);
        settle
    }

    #[test]
    fn while_the_coordinator_may_be_asked_the_wait_lasts_until_it_answers_settled() {
        let now = Instant::now();
        let mut settle = TxnSettle::new();
        assert_eq!(settle.transaction_ended(now, RTT, MAX, true), MAX);
        assert_eq!(settle.ask_at(now), Some(now));
        assert_eq!(settle.settling(now + RTT), Some(now + MAX));
        // Still completing: asked again at once, the wait goes on.
        settle.still_completing(now + RTT);
        assert_eq!(settle.ask_at(now + RTT), Some(now + RTT));
        settle.settled();
        assert_eq!(settle.ask_at(now + RTT), None);
        assert_eq!(settle.settling(now + RTT), None);
        // No produce judges a wait that was not learned.
        settle.produce_sent(now + RTT);
        settle.produce_answered(now + RTT, now + Duration::from_millis(30), RETRY);
        settle.first_request_judged(true);
        assert_eq!(settle.round_trips(), INITIAL_ROUND_TRIPS);
    }

    #[test]
    fn asking_stops_at_the_longest_wait() {
        let now = Instant::now();
        let mut settle = TxnSettle::new();
        settle.transaction_ended(now, RTT, MAX, true);
        assert_eq!(settle.ask_at(now + MAX), None);
        assert_eq!(settle.settling(now + MAX), None);
        // A late answer changes nothing.
        settle.settled();
        assert_eq!(settle.settling(now + MAX), None);
    }

    #[test]
    fn a_coordinator_that_cannot_say_falls_back_to_the_learned_wait() {
        let now = Instant::now();
        let mut settle = TxnSettle::new();
        settle.transaction_ended(now, RTT, MAX, true);
        // This time only: the learned wait, counted from EndTxn's answer.
        settle.cannot_ask(false);
        assert_eq!(settle.ask_at(now), None);
        assert_eq!(settle.settling(now), Some(now + Duration::from_micros(600)));
        assert_eq!(settle.transaction_ended(now, RTT, MAX, true), MAX);
        assert_eq!(settle.ask_at(now), Some(now));
        // For good: every later transaction waits the learned time.
        settle.cannot_ask(true);
        assert_eq!(
            settle.transaction_ended(now, RTT, MAX, true),
            Duration::from_micros(600)
        );
        assert_eq!(settle.ask_at(now), None);
    }

    #[test]
    fn after_a_few_answers_that_it_is_still_completing_the_coordinator_is_asked_each_millisecond() {
        let now = Instant::now();
        let mut settle = TxnSettle::new();
        settle.transaction_ended(now, RTT, MAX, true);
        let mut at = now;
        for _ in 1..QUICK_ASKS {
            at += RTT;
            settle.still_completing(at);
            assert_eq!(settle.ask_at(at), Some(at));
        }
        at += RTT;
        settle.still_completing(at);
        assert_eq!(settle.ask_at(at), Some(at + ASK_INTERVAL));
        assert_eq!(settle.settling(at), Some(now + MAX));
    }

    #[test]
    fn the_learned_wait_is_one_and_a_half_round_trips_at_first_and_never_above_the_cap() {
        let now = Instant::now();
        let mut settle = learning();
        assert_eq!(
            settle.transaction_ended(now, RTT, MAX, true),
            Duration::from_micros(600)
        );
        assert_eq!(settle.settling(now), Some(now + Duration::from_micros(600)));
        assert_eq!(settle.settling(now + Duration::from_millis(1)), None);
        let slow = Duration::from_millis(30);
        assert_eq!(settle.transaction_ended(now, slow, MAX, true), MAX);
    }

    #[test]
    fn a_refused_first_produce_lengthens_the_learned_wait_and_clean_ones_shorten_it() {
        let now = Instant::now();
        let mut settle = learning();
        settle.transaction_ended(now, RTT, MAX, true);
        let sent = now + Duration::from_millis(1);
        settle.produce_sent(sent);
        // A later Produce of the same transaction is not the probe.
        settle.produce_sent(sent + Duration::from_millis(1));
        settle.produce_answered(sent, sent + Duration::from_millis(21), RETRY);
        assert_eq!(settle.round_trips(), 2.5);
        // Answered once only.
        settle.produce_answered(sent, sent + Duration::from_millis(21), RETRY);
        assert_eq!(settle.round_trips(), 2.5);

        settle.transaction_ended(now, RTT, MAX, true);
        settle.produce_sent(sent);
        settle.produce_answered(sent, sent + Duration::from_millis(2), RETRY);
        assert!((settle.round_trips() - 2.48).abs() < 1e-9);
        for _ in 0..200 {
            settle.first_request_judged(false);
        }
        assert_eq!(settle.round_trips(), MIN_ROUND_TRIPS);
        for _ in 0..20 {
            settle.first_request_judged(true);
        }
        assert_eq!(settle.round_trips(), MAX_ROUND_TRIPS);
    }

    #[test]
    fn under_v1_produces_do_not_judge_the_wait() {
        let now = Instant::now();
        let mut settle = learning();
        settle.transaction_ended(now, RTT, MAX, false);
        settle.produce_sent(now);
        settle.produce_answered(now, now + Duration::from_millis(50), RETRY);
        assert_eq!(settle.round_trips(), INITIAL_ROUND_TRIPS);
    }
}
