//! The project's own broker-failure run, shared by the `chaos` test (the short
//! form, two brokers killed in turn) and the `chaos` binary behind
//! `scripts/chaos --minutes N` (kills, connection cuts and stalls for minutes).
//!
//! Three brokers, a topic with replication factor 3 and `min.insync.replicas=2`,
//! an idempotent `acks=all` producer sending keyed records at a fixed pace while
//! faults come one at a time: a broker killed with SIGKILL and restarted with
//! its data (the next fault waits until every replica is in sync again), every
//! connection cut by the test kit's proxy, a Produce answer dropped after the
//! broker wrote it, a broker stalled with SIGSTOP and let go with SIGCONT.
//!
//! What landed is then read with Kafka's own Java consumer and judged against
//! what the producer said about each record ([`judge`]): every acknowledged
//! record exactly once and where its acknowledgement said, a record reported
//! "possibly written" at most once, a record reported as not written not at
//! all, and within each partition the records in the order they were sent.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_core::{KafkaProducer, ProducerConfig, ProducerRecord, RecordMetadata, SendError};
use kafka_testkit::proxy::{HarnessProxy, KafkaProxy, PRODUCE};
use kafka_testkit::{Cluster, ConsumedRecord, unique_name};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Partitions of the chaos topic: two led by each broker at the start.
pub const PARTITIONS: i32 = 6;
/// Distinct keys; records of one key share a partition and keep their order.
const KEYS: u64 = 120;
/// Prefix of every record value: `chaos-<send index>`.
const VALUE_PREFIX: &str = "chaos-";
/// How long the cluster may take to lead every partition again after a fault,
/// or to bring a restarted broker's replicas back in sync.
const RECOVERY: Duration = Duration::from_secs(120);

/// One fault the run injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL one broker and restart it with its data; then wait until every
    /// partition took a record sent since the kill and every replica is in sync.
    Kill,
    /// Close every connection between the producer and the brokers at once.
    Cut,
    /// Let the next Produce request reach its broker and drop the answer with
    /// the connection: the producer cannot know it was written.
    CutAfterProduce,
    /// SIGSTOP one broker for [`Plan::stall`], then SIGCONT it.
    Stall,
}

/// When the run stops injecting faults.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// After this many faults.
    Faults(usize),
    /// After the first fault that ends this long after the start.
    Elapsed(Duration),
}

/// What a run does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Records per second, sent at a fixed pace from start to end.
    pub rate: u32,
    /// The faults, taken in turn (and again from the first).
    pub faults: Vec<Fault>,
    /// When to stop.
    pub until: Until,
    /// How long a [`Fault::Stall`] holds the broker.
    pub stall: Duration,
    /// Progress lines on stderr.
    pub verbose: bool,
}

impl Plan {
    /// The short form for the test command: two brokers killed in turn.
    pub fn short() -> Plan {
        Plan {
            rate: 300,
            faults: vec![Fault::Kill],
            until: Until::Faults(2),
            stall: Duration::from_secs(12),
            verbose: true,
        }
    }

    /// The long form: every fault in turn for `duration`.
    pub fn long(duration: Duration, rate: u32) -> Plan {
        Plan {
            rate,
            faults: vec![
                Fault::Kill,
                Fault::Cut,
                Fault::Stall,
                Fault::CutAfterProduce,
            ],
            until: Until::Elapsed(duration),
            stall: Duration::from_secs(12),
            verbose: true,
        }
    }

    fn needs_proxy(&self) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f, Fault::Cut | Fault::CutAfterProduce))
    }
}

/// What the producer said about one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not settled yet (never the case once a run has ended).
    Pending,
    /// Acknowledged at this partition and offset.
    Acked {
        /// Partition of the acknowledgement.
        partition: i32,
        /// Offset of the acknowledgement (always known with `acks=all`).
        offset: Option<i64>,
    },
    /// Failed with an error that says it may have been written
    /// (`possibly_written()`).
    PossiblyWritten,
    /// Failed (or refused by `send`) with an error that says it was not written.
    NotWritten,
}

impl Outcome {
    fn of(result: &Result<RecordMetadata, SendError>) -> Outcome {
        match result {
            Ok(metadata) => Outcome::Acked {
                partition: metadata.partition,
                offset: metadata.offset,
            },
            Err(e) if e.possibly_written() => Outcome::PossiblyWritten,
            Err(_) => Outcome::NotWritten,
        }
    }
}

/// The figures of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Records handed to `send`.
    pub sent: usize,
    /// Records acknowledged.
    pub acknowledged: usize,
    /// Records that failed as possibly written.
    pub possibly_written: usize,
    /// Records that failed as not written (or were refused by `send`).
    pub not_written: usize,
    /// Records with no outcome when the run ended.
    pub pending: usize,
    /// Brokers killed (and restarted).
    pub kills: usize,
    /// Connection cuts (all connections, or one after a Produce answer).
    pub cuts: usize,
    /// Brokers stalled with SIGSTOP.
    pub stalls: usize,
    /// Batches the producer retried (`record_retry_total`): the faults hit it.
    pub retries: u64,
    /// Records the Java consumer read.
    pub read: usize,
    /// Acknowledged records not found.
    pub lost: usize,
    /// Records found more than once (each extra copy counts).
    pub duplicated: usize,
    /// Records found after a record sent later, in the same partition.
    pub reordered: usize,
    /// Acknowledged records found elsewhere than their acknowledgement said.
    pub misplaced: usize,
    /// Records reported as not written that were found.
    pub failed_but_written: usize,
    /// Records read that this run did not send.
    pub foreign: usize,
}

impl Figures {
    /// Whether the run kept every promise: nothing lost, duplicated, reordered,
    /// misplaced, written after failing, or left without an outcome.
    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.reordered == 0
            && self.misplaced == 0
            && self.failed_but_written == 0
            && self.foreign == 0
            && self.pending == 0
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "records sent          {}", self.sent)?;
        writeln!(f, "acknowledged          {}", self.acknowledged)?;
        writeln!(f, "possibly written      {}", self.possibly_written)?;
        writeln!(f, "not written           {}", self.not_written)?;
        writeln!(f, "no outcome            {}", self.pending)?;
        writeln!(f, "kills                 {}", self.kills)?;
        writeln!(f, "cuts                  {}", self.cuts)?;
        writeln!(f, "stalls                {}", self.stalls)?;
        writeln!(f, "producer retries      {}", self.retries)?;
        writeln!(f, "read back (Java)      {}", self.read)?;
        writeln!(f, "lost                  {}", self.lost)?;
        writeln!(f, "duplicated            {}", self.duplicated)?;
        writeln!(f, "reordered             {}", self.reordered)?;
        writeln!(f, "misplaced acks        {}", self.misplaced)?;
        writeln!(f, "failed but written    {}", self.failed_but_written)?;
        write!(f, "foreign               {}", self.foreign)
    }
}

/// The send index a record's value carries, `None` for a record this run did
/// not write.
fn index_of(record: &ConsumedRecord) -> Option<usize> {
    record
        .value
        .as_deref()
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.strip_prefix(VALUE_PREFIX))
        .and_then(|n| n.parse().ok())
}

/// Judges what was read (sorted by partition and offset, as the test kit's
/// reader returns it) against the outcome of each record, by send index.
pub fn judge(outcomes: &[Outcome], consumed: &[ConsumedRecord]) -> Figures {
    let mut figures = Figures {
        sent: outcomes.len(),
        read: consumed.len(),
        ..Figures::default()
    };
    for outcome in outcomes {
        match outcome {
            Outcome::Pending => figures.pending += 1,
            Outcome::Acked { .. } => figures.acknowledged += 1,
            Outcome::PossiblyWritten => figures.possibly_written += 1,
            Outcome::NotWritten => figures.not_written += 1,
        }
    }
    let mut copies = vec![0usize; outcomes.len()];
    // The highest send index seen so far in the partition being walked.
    let mut partition_high: Option<(i32, usize)> = None;
    for record in consumed {
        let Some(i) = index_of(record).filter(|i| *i < outcomes.len()) else {
            figures.foreign += 1;
            continue;
        };
        copies[i] += 1;
        if let Outcome::Acked { partition, offset } = outcomes[i]
            && copies[i] == 1
            && (partition, offset) != (record.partition, Some(record.offset))
        {
            figures.misplaced += 1;
        }
        match partition_high {
            Some((p, high)) if p == record.partition => {
                if i < high {
                    figures.reordered += 1;
                } else {
                    partition_high = Some((p, i));
                }
            }
            _ => partition_high = Some((record.partition, i)),
        }
    }
    for (outcome, n) in outcomes.iter().zip(&copies) {
        figures.duplicated += n.saturating_sub(1);
        match outcome {
            Outcome::Acked { .. } if *n == 0 => figures.lost += 1,
            Outcome::NotWritten if *n > 0 => figures.failed_but_written += 1,
            _ => {}
        }
    }
    figures
}

/// Where the run stands, watched by the fault loop.
#[derive(Clone, Debug)]
struct Progress {
    /// Per partition, the highest send index acknowledged there.
    latest_ack: Vec<Option<usize>>,
    /// Records acknowledged.
    acked: usize,
}

/// The records in flight and what became of them.
struct Ledger {
    outcomes: Mutex<Vec<Outcome>>,
    progress: watch::Sender<Progress>,
}

impl Ledger {
    fn settle(&self, index: usize, outcome: Outcome) {
        self.outcomes.lock().expect("ledger lock")[index] = outcome;
        if let Outcome::Acked { partition, .. } = outcome {
            self.progress.send_modify(|progress| {
                progress.acked += 1;
                if let Some(latest) = usize::try_from(partition)
                    .ok()
                    .and_then(|p| progress.latest_ack.get_mut(p))
                {
                    *latest = Some(latest.map_or(index, |l| l.max(index)));
                }
            });
        }
    }

    fn sent(&self) -> usize {
        self.outcomes.lock().expect("ledger lock").len()
    }
}

/// Sends `chaos-<i>` records at `rate` per second until `stop` is set; each
/// outcome goes to the ledger when it comes.
async fn send_at_fixed_rate(
    producer: KafkaProducer,
    topic: String,
    rate: u32,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    const TICK: Duration = Duration::from_millis(10);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut waiters = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        ticker.tick().await;
        // The pace is kept against the clock, not the ticks: a late tick sends
        // what is owed since the last one.
        let due = (started.elapsed().as_secs_f64() * f64::from(rate)) as usize;
        while ledger.sent() < due {
            let index = {
                let mut outcomes = ledger.outcomes.lock().expect("ledger lock");
                outcomes.push(Outcome::Pending);
                outcomes.len() - 1
            };
            let record = ProducerRecord::new(topic.clone(), format!("{VALUE_PREFIX}{index}"))
                .with_key(format!("key-{}", index as u64 % KEYS));
            match producer.send(record).await {
                Ok(delivery) => {
                    let ledger = ledger.clone();
                    waiters.push(tokio::spawn(async move {
                        let outcome = Outcome::of(&delivery.await);
                        ledger.settle(index, outcome);
                    }));
                }
                Err(e) => {
                    let outcome = if e.possibly_written() {
                        Outcome::PossiblyWritten
                    } else {
                        Outcome::NotWritten
                    };
                    ledger.settle(index, outcome);
                }
            }
        }
    }
    waiters
}

/// The runtime a run wants: two workers, so the sending and the faults go on
/// beside the producer's own network thread, as in an application.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `plan` on `cluster` (three brokers) and judges what landed. Panics when
/// the cluster itself fails (a broker that does not come back, replicas that
/// never catch up): that is not the producer's fault to be measured.
pub async fn run(cluster: Arc<Cluster>, plan: Plan) -> Figures {
    let started = Instant::now();
    let log = |message: String| {
        if plan.verbose {
            eprintln!(
                "chaos [{:>6.1}s] {message}",
                started.elapsed().as_secs_f64()
            );
        }
    };
    let nodes = cluster.nodes();
    assert!(nodes >= 3, "the chaos run needs 3 brokers, not {nodes}");
    let topic = unique_name("chaos");
    {
        let (cluster, topic) = (cluster.clone(), topic.clone());
        blocking(move || {
            cluster.create_topic_named(&topic, PARTITIONS, 3, &["min.insync.replicas=2"])
        })
        .await;
    }
    let proxy = plan.needs_proxy().then(|| KafkaProxy::start_for(&cluster));
    let bootstrap = proxy
        .as_ref()
        .map_or(cluster.bootstrap(), |p| p.bootstrap())
        .to_owned();
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", bootstrap.as_str()),
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("linger.ms", "5"),
        ("client.id", "chaos"),
    ])
    .expect("chaos producer config");
    let producer = KafkaProducer::new(config).expect("the producer starts inside a runtime");

    let (progress, watcher) = watch::channel(Progress {
        latest_ack: vec![None; PARTITIONS as usize],
        acked: 0,
    });
    let ledger = Arc::new(Ledger {
        outcomes: Mutex::new(Vec::new()),
        progress,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let sending = tokio::spawn(send_at_fixed_rate(
        producer.clone(),
        topic.clone(),
        plan.rate,
        ledger.clone(),
        stop.clone(),
    ));
    log(format!(
        "topic {topic}: {PARTITIONS} partitions, RF 3, min.insync.replicas=2; {} records/s{}",
        plan.rate,
        if proxy.is_some() {
            " through the proxy"
        } else {
            ""
        }
    ));

    let mut figures = Figures::default();
    let mut waiter = watcher.clone();
    all_partitions_acked_since(&mut waiter, ledger.sent(), "the first records").await;
    let mut done = 0usize;
    let mut victim = 0u32;
    loop {
        let stop_now = match plan.until {
            Until::Faults(n) => done >= n,
            Until::Elapsed(d) => started.elapsed() >= d,
        };
        if stop_now {
            break;
        }
        let fault = plan.faults[done % plan.faults.len()];
        done += 1;
        let node = victim % nodes + 1;
        match fault {
            Fault::Kill => {
                victim += 1;
                let c = cluster.clone();
                blocking(move || c.kill(node)).await;
                let mark = ledger.sent();
                figures.kills += 1;
                log(format!("killed broker {node} (SIGKILL)"));
                // A restart takes longer than the controller's broker session
                // (9 s): the broker is fenced and its partitions move meanwhile.
                let c = cluster.clone();
                blocking(move || c.restart(node)).await;
                log(format!("restarted broker {node}"));
                all_partitions_acked_since(&mut waiter, mark, "the kill").await;
                wait_in_sync(&cluster, &topic).await;
                log("every replica in sync".into());
            }
            Fault::Stall => {
                victim += 1;
                let c = cluster.clone();
                blocking(move || c.pause(node)).await;
                figures.stalls += 1;
                log(format!("stalled broker {node} (SIGSTOP)"));
                // The stall's length is the fault itself, not a wait for a condition.
                tokio::time::sleep(plan.stall).await;
                let c = cluster.clone();
                blocking(move || c.resume(node)).await;
                log(format!("resumed broker {node} (SIGCONT)"));
                all_partitions_acked_since(&mut waiter, ledger.sent(), "the stall").await;
                wait_in_sync(&cluster, &topic).await;
                log("every replica in sync".into());
            }
            Fault::Cut => {
                proxy.as_ref().expect("cuts go through the proxy").cut_all();
                figures.cuts += 1;
                log("cut every connection".into());
                all_partitions_acked_since(&mut waiter, ledger.sent(), "the cut").await;
            }
            Fault::CutAfterProduce => {
                let proxy = proxy.as_ref().expect("cuts go through the proxy");
                let before = proxy.cuts();
                proxy.cut_after_next_request(PRODUCE);
                all_partitions_acked_since(&mut waiter, ledger.sent(), "arming the cut").await;
                if proxy.cuts() > before {
                    figures.cuts += 1;
                    log("dropped a Produce answer with its connection".into());
                }
            }
        }
    }

    stop.store(true, Ordering::SeqCst);
    let waiters = sending.await.expect("the sending task ran");
    log(format!(
        "stopped sending after {} records; settling",
        ledger.sent()
    ));
    producer.flush().await;
    for waiter in waiters {
        waiter.await.expect("an outcome task ran");
    }
    let retries = producer.metrics().record_retry_total;
    let undelivered = producer.close(Duration::from_secs(30)).await;
    drop(proxy);
    let outcomes = ledger.outcomes.lock().expect("ledger lock").clone();
    let sent = outcomes.len();
    log(format!(
        "reading the topic back with Kafka's console consumer ({undelivered} undelivered at close)"
    ));
    let consumed = {
        let (cluster, topic) = (cluster.clone(), topic.clone());
        // Up to twice what was sent, so that duplicates, if any, are read too.
        blocking(move || cluster.read(&topic, 2 * sent, Duration::from_secs(5), false)).await
    };
    let judged = judge(&outcomes, &consumed);
    Figures {
        kills: figures.kills,
        cuts: figures.cuts,
        stalls: figures.stalls,
        retries,
        ..judged
    }
}

/// Waits until every partition acknowledged a record sent as `mark` or later:
/// the cluster leads every partition again and the producer found the leaders.
async fn all_partitions_acked_since(
    waiter: &mut watch::Receiver<Progress>,
    mark: usize,
    what: &str,
) {
    let caught_up = waiter.wait_for(|p| {
        p.latest_ack
            .iter()
            .all(|latest| latest.is_some_and(|l| l >= mark))
    });
    let settled = tokio::time::timeout(RECOVERY, caught_up)
        .await
        .map(|r| r.is_ok());
    match settled {
        Ok(true) => {}
        Ok(false) => panic!("the ledger closed while waiting after {what}"),
        Err(_) => {
            let progress = waiter.borrow().clone();
            panic!(
                "{RECOVERY:?} after {what}, not every partition acknowledged a record sent \
                 since (#{mark} on): latest per partition {:?}, {} acknowledged",
                progress.latest_ack, progress.acked
            );
        }
    }
}

async fn wait_in_sync(cluster: &Arc<Cluster>, topic: &str) {
    let (cluster, topic) = (cluster.clone(), topic.to_owned());
    blocking(move || {
        if let Err(lagging) = cluster.wait_in_sync(&topic, RECOVERY) {
            panic!("replicas not in sync {RECOVERY:?} after a restart: {lagging:#?}");
        }
    })
    .await;
}

/// Runs a blocking harness call (a script, a JVM) off the runtime's workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(partition: i32, offset: i64, index: usize) -> ConsumedRecord {
        ConsumedRecord::new("t", partition, offset)
            .with_value(format!("{VALUE_PREFIX}{index}").into_bytes())
    }

    fn acked(partition: i32, offset: i64) -> Outcome {
        Outcome::Acked {
            partition,
            offset: Some(offset),
        }
    }

    #[test]
    fn a_clean_run_is_clean() {
        let outcomes = [
            acked(0, 0),
            acked(1, 0),
            Outcome::PossiblyWritten,
            acked(0, 1),
        ];
        let consumed = [stored(0, 0, 0), stored(0, 1, 3), stored(1, 0, 1)];
        let figures = judge(&outcomes, &consumed);
        assert!(figures.clean(), "{figures}");
        assert_eq!(figures.acknowledged, 3);
        assert_eq!(figures.possibly_written, 1);
        assert_eq!(figures.read, 3);
    }

    #[test]
    fn a_lost_acknowledged_record_is_counted() {
        let figures = judge(&[acked(0, 0), acked(0, 1)], &[stored(0, 0, 0)]);
        assert_eq!(figures.lost, 1);
        assert!(!figures.clean());
    }

    #[test]
    fn copies_beyond_the_first_are_duplicates_whatever_the_outcome() {
        let outcomes = [acked(0, 0), Outcome::PossiblyWritten];
        let consumed = [
            stored(0, 0, 0),
            stored(0, 1, 0),
            stored(0, 2, 1),
            stored(0, 3, 1),
        ];
        let figures = judge(&outcomes, &consumed);
        assert_eq!(figures.duplicated, 2);
        // The later copy of #0 comes before #1 was first seen: no reordering.
        assert_eq!(figures.reordered, 0);
    }

    #[test]
    fn an_earlier_record_after_a_later_one_in_a_partition_is_reordered() {
        let outcomes = [acked(0, 1), acked(0, 0), acked(1, 0)];
        let consumed = [stored(0, 0, 1), stored(0, 1, 0), stored(1, 0, 2)];
        let figures = judge(&outcomes, &consumed);
        assert_eq!(figures.reordered, 1);
        assert_eq!(figures.misplaced, 0);
    }

    #[test]
    fn an_acknowledgement_naming_another_place_is_misplaced() {
        let figures = judge(&[acked(0, 7)], &[stored(0, 0, 0)]);
        assert_eq!(figures.misplaced, 1);
    }

    #[test]
    fn a_record_reported_not_written_must_not_be_found() {
        let figures = judge(&[Outcome::NotWritten], &[stored(0, 0, 0)]);
        assert_eq!(figures.failed_but_written, 1);
        assert!(!figures.clean());
        let figures = judge(&[Outcome::NotWritten], &[]);
        assert!(figures.clean());
    }

    #[test]
    fn unknown_values_and_unsettled_records_spoil_the_run() {
        let mut foreign = stored(0, 0, 0);
        foreign.value = Some(b"something else".to_vec());
        let figures = judge(&[Outcome::Pending], &[foreign]);
        assert_eq!(figures.foreign, 1);
        assert_eq!(figures.pending, 1);
        assert!(!figures.clean());
    }
}
