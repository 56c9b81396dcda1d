//! Spring Kafka's send timer, `spring.kafka.template`, in either of its two
//! forms:
//!
//! - with `template.observation-enabled`, Spring observes each send, and
//!   Micrometer's default meter handler makes the observation a timer tagged
//!   with its low-cardinality keys (`KafkaTemplateObservation`, per topic)
//!   and `error` (`none`, or the exception's simple class name);
//! - without it (Spring's default), the template keeps Micrometer timers of
//!   its own (`MicrometerHolder`), tagged `name` (the template's bean name),
//!   `result` (`success`/`failure`) and `exception` (`none`, or the
//!   exception's simple class name); `template.micrometer-enabled: false`
//!   turns them off, as Spring's `KafkaTemplate.setMicrometerEnabled`.
//!
//! Here the same timers, published to the [`metrics`] facade as histograms
//! of seconds, so that the Prometheus recorder shows
//! `spring_kafka_template_seconds_count` / `_sum` as Micrometer's does, and
//! dashboards made for a Spring service read them. The exception names are
//! the Java client's ([`KafkaError::java_exception_name`]). Handles are
//! registered with the recorder installed at the first send (per topic when
//! observed): install the recorder before sending.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError, RwLock, Weak};

use kafka_core::{KafkaError, TransactionError};
use metrics::{Histogram, Label};

/// The histogram's name in the facade: Micrometer's timer
/// `spring.kafka.template`, with the `seconds` its Prometheus registry adds.
pub const SEND_TIMER: &str = "spring.kafka.template.seconds";

/// The `spring.kafka.template.name` of the default template: the bean name
/// Spring Boot gives its auto-configured `KafkaTemplate`.
pub const DEFAULT_TEMPLATE_NAME: &str = "kafkaTemplate";

/// The send timers of one template: with observation, a histogram per
/// topic and outcome; without, one per outcome.
pub(crate) struct SendTimers {
    /// Tells these timers apart in [`LAST_TOPIC`] (never reused).
    id: u64,
    template_name: Arc<str>,
    /// Without observation: the template's own timers, for every topic.
    template: Option<Arc<TopicTimers>>,
    /// Read on every observed send, written once per topic.
    topics: RwLock<HashMap<Arc<str>, Arc<TopicTimers>, BuildHasherDefault<TopicHasher>>>,
}

/// FNV-1a for the topic names looked up on every observed send: a few
/// short keys of the application's own, where the default SipHash's
/// defence against crafted keys costs more than the lookup is worth.
#[derive(Default)]
struct TopicHasher(u64);

impl Hasher for TopicHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
        self.0 = hash;
    }
}

/// The histograms of one topic (observed) or of the template: of successful
/// sends, and per exception.
struct TopicTimers {
    /// Its key in [`LIVE`], which a send's timing carries.
    id: u64,
    template_name: Arc<str>,
    /// `None`: the template's own timers (tags `name`, `result`, `exception`).
    topic: Option<Arc<str>>,
    /// Registered at the first success (no series of a count of 0).
    ok: OnceLock<Histogram>,
    errors: Mutex<HashMap<&'static str, Histogram>>,
    /// Its template is gone: threads that kept it let it go (sends still
    /// in flight are timed while a thread keeps it).
    retired: std::sync::atomic::AtomicBool,
}

/// The clock of the send timers: the CPU's time-stamp counter where it is
/// invariant (calibrated against the monotonic clock once per process, when
/// the first template with timers is built: a busy loop of a millisecond or
/// so, at most 200 ms),
/// else the monotonic clock. Read twice a send: `clock_gettime` took about
/// a tenth of a template's time per record (perf, 100-byte records), the
/// counter a third of that. `quanta` is the clock `metrics`' own exporters
/// use.
static CLOCK: LazyLock<quanta::Clock> = LazyLock::new(quanta::Clock::new);

/// One send being timed: its start, and which timers by id (see [`LIVE`]).
#[derive(Clone, Copy)]
pub(crate) struct SendTiming {
    /// [`CLOCK`]'s raw reading at the start.
    started: u64,
    timers: u64,
}

/// Every [`TopicTimers`] alive, by id. A send's timing carries the id, not
/// a share of its timers: an `Arc` cloned on the caller's thread and
/// dropped on the producer's, where the outcome is heard, passed its
/// count's cache line between two cores on every record (measured: two
/// thirds of the timer's cost, about 80 ns a record). Each thread keeps the
/// timers it has recorded into ([`KNOWN`]), so the lock is taken once per
/// thread and timers.
static LIVE: LazyLock<Mutex<HashMap<u64, Weak<TopicTimers>>>> = LazyLock::new(Mutex::default);

static NEXT_TIMERS_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The timers this thread has recorded into, found again with no lock
    /// and no shared count. Timers whose template is gone are let go when
    /// the thread next meets timers it has not seen.
    static KNOWN: RefCell<HashMap<u64, Arc<TopicTimers>, BuildHasherDefault<TopicHasher>>> =
        RefCell::default();
}

thread_local! {
    /// The timers this thread recorded into last, looked at before
    /// [`KNOWN`]: a thread hearing outcomes mostly hears them for one
    /// template (and topic), and this costs a compare where the map costs a
    /// hash and a probe.
    static LAST_TIMERS: RefCell<Option<Arc<TopicTimers>>> = const { RefCell::new(None) };
}

thread_local! {
    /// The topic this thread last started an observed send to, with which
    /// timers' ([`SendTimers::id`]) and the id of the topic's: found again
    /// with no lock. A sending thread usually sends to one topic many times;
    /// the per-topic map's read lock was a shared count written by every
    /// send of every thread (about 3% of an observed 100-byte send).
    static LAST_TOPIC: RefCell<Option<(u64, Arc<str>, u64)>> = const { RefCell::new(None) };
}

impl TopicTimers {
    /// New timers, listed in [`LIVE`].
    fn new(template_name: &Arc<str>, topic: Option<Arc<str>>) -> Arc<TopicTimers> {
        let timers = Arc::new(TopicTimers {
            id: NEXT_TIMERS_ID.fetch_add(1, Ordering::Relaxed),
            template_name: Arc::clone(template_name),
            topic,
            ok: OnceLock::new(),
            errors: Mutex::new(HashMap::new()),
            retired: std::sync::atomic::AtomicBool::new(false),
        });
        LIVE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(timers.id, Arc::downgrade(&timers));
        timers
    }

    /// Runs `f` with the timers `id` names, if they are alive.
    fn with<T>(id: u64, f: impl FnOnce(&TopicTimers) -> T) -> Option<T> {
        let live = || {
            LIVE.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .and_then(Weak::upgrade)
        };
        let mut f = Some(f);
        let last = LAST_TIMERS.try_with(|last| {
            let last = last.try_borrow().ok()?;
            let timers = last.as_ref().filter(|timers| timers.id == id)?;
            f.take().map(|f| f(timers))
        });
        if let Ok(Some(result)) = last {
            return Some(result);
        }
        let kept = KNOWN.try_with(|known| {
            if let Some(timers) = known.borrow().get(&id) {
                remember_last(timers);
                return f.take().map(|f| f(timers));
            }
            let timers = live()?;
            remember_last(&timers);
            let result = f.take().map(|f| f(&timers));
            // (Not kept when met while this thread records into other
            // timers: a recorder that sends through a template.)
            if let Ok(mut known) = known.try_borrow_mut() {
                known.retain(|_, kept| !kept.retired.load(Ordering::Relaxed));
                known.insert(id, timers);
            }
            result
        });
        match (kept, f) {
            (Ok(result), _) => result,
            // A thread ending, its own gone: looked up, not kept.
            (Err(_), Some(f)) => live().map(|timers| f(&timers)),
            (Err(_), None) => None,
        }
    }
}

/// Makes `timers` this thread's [`LAST_TIMERS`] (not while they are lent:
/// a recorder that sends through a template).
fn remember_last(timers: &Arc<TopicTimers>) {
    let _ = LAST_TIMERS.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some(Arc::clone(timers));
        }
    });
}

impl Drop for TopicTimers {
    fn drop(&mut self) {
        LIVE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

impl Drop for SendTimers {
    fn drop(&mut self) {
        let topics = self
            .topics
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for timers in self.template.iter().chain(topics.values()) {
            timers.retired.store(true, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for SendTimers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendTimers")
            .field("template_name", &self.template_name)
            .finish_non_exhaustive()
    }
}

impl SendTimers {
    /// The timers of the template named `template_name`: the observation's
    /// when `observed`, else the template's own.
    pub(crate) fn new(template_name: &str, observed: bool) -> Self {
        metrics::describe_histogram!(
            SEND_TIMER,
            metrics::Unit::Seconds,
            "KafkaTemplate Timer: the time from a send to its outcome"
        );
        // Calibrated now, with the template, not in its first send.
        LazyLock::force(&CLOCK);
        let template_name: Arc<str> = template_name.into();
        SendTimers {
            id: NEXT_TIMERS_ID.fetch_add(1, Ordering::Relaxed),
            template: (!observed).then(|| TopicTimers::new(&template_name, None)),
            template_name,
            topics: RwLock::new(HashMap::default()),
        }
    }

    /// Whether these are the observation's timers (not the template's own).
    pub(crate) fn observed(&self) -> bool {
        self.template.is_none()
    }

    /// Starts timing a send to `topic`.
    pub(crate) fn start(&self, topic: &str) -> SendTiming {
        let started = CLOCK.raw();
        if let Some(timers) = &self.template {
            return SendTiming {
                started,
                timers: timers.id,
            };
        }
        SendTiming {
            started,
            timers: self.topic_timers(topic),
        }
    }

    /// The id of the observed timers of `topic`, made at its first send.
    fn topic_timers(&self, topic: &str) -> u64 {
        let last = LAST_TOPIC.try_with(|last| match &*last.borrow() {
            Some((timers, name, id)) if *timers == self.id && **name == *topic => Some(*id),
            _ => None,
        });
        if let Ok(Some(id)) = last {
            return id;
        }
        let known = self
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get_key_value(topic)
            .map(|(name, timers)| (Arc::clone(name), timers.id));
        let (name, id) = known.unwrap_or_else(|| {
            let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
            let name: Arc<str> = topic.into();
            let timers = topics
                .entry(Arc::clone(&name))
                .or_insert_with(|| TopicTimers::new(&self.template_name, Some(Arc::clone(&name))));
            (name, timers.id)
        });
        let _ = LAST_TOPIC.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = Some((self.id, name, id));
            }
        });
        id
    }
}

impl SendTiming {
    /// Records the send's time, tagged with its outcome: `none`, or the
    /// Java client's exception for the error.
    ///
    /// A send the producer refused at once (`refused_at_once`) is left out of
    /// the template's own timer when Java's `send` would have thrown it (an
    /// illegal argument or state, a serializer's failure, a transactional
    /// producer's stored error as a `KafkaException`): Spring's
    /// `MicrometerHolder` hears only what the producer's callback gets (an
    /// `ApiException`: a record too large, a full buffer, a metadata
    /// timeout, a fencing). The observation's timer times both.
    pub(crate) fn finish(&self, outcome: Result<(), &KafkaError>, refused_at_once: bool) {
        // Timers whose template is gone, and no thread kept: not timed.
        TopicTimers::with(self.timers, |timers| {
            self.record(timers, outcome, refused_at_once);
        });
    }

    fn record(
        &self,
        timers: &TopicTimers,
        outcome: Result<(), &KafkaError>,
        refused_at_once: bool,
    ) {
        let exception = outcome.err().map(|error| {
            if refused_at_once {
                refusal_exception(error)
            } else {
                error.java_exception_name()
            }
        });
        if refused_at_once
            && timers.topic.is_none()
            && exception.is_some_and(|exception| {
                matches!(
                    exception,
                    "IllegalArgumentException"
                        | "IllegalStateException"
                        | "KafkaException"
                        | "SerializationException"
                        | "ConfigException"
                )
            })
        {
            return;
        }
        let seconds = CLOCK.delta(self.started, CLOCK.raw()).as_secs_f64();
        match exception {
            None => timers
                .ok
                .get_or_init(|| timers.histogram(NO_EXCEPTION))
                .record(seconds),
            Some(exception) => {
                let mut errors = timers.errors.lock().unwrap_or_else(PoisonError::into_inner);
                errors
                    .entry(exception)
                    .or_insert_with(|| timers.histogram(exception))
                    .record(seconds);
            }
        }
    }
}

/// The exception tag of a send that succeeded.
const NO_EXCEPTION: &str = "none";

/// The exception Java's `send` gives for an error the producer refused the
/// send with at once. A transactional producer in an error state refuses a
/// send with the error it stored (a refused offset commit, a fatal broker
/// error, an authorization failure); Java's `maybeFailWithError` throws a
/// `KafkaException` wrapping it, except a fencing or a stale epoch, thrown as
/// itself (an `ApiException`, which the callback gets).
fn refusal_exception(error: &KafkaError) -> &'static str {
    const FENCING: [&str; 2] = ["ProducerFencedException", "InvalidProducerEpochException"];
    match error {
        KafkaError::Transaction(
            TransactionError::ProducerFenced { .. } | TransactionError::InvalidProducerEpoch { .. },
        ) => error.java_exception_name(),
        // A produce refused for a stale epoch under transactions V2 is
        // stored as the send's failure; Java stores the exception itself.
        KafkaError::Transaction(TransactionError::SendFailed { cause })
            if FENCING.contains(&cause.java_exception_name()) =>
        {
            cause.java_exception_name()
        }
        KafkaError::Transaction(
            TransactionError::NotTransactional { .. }
            | TransactionError::InvalidState { .. }
            | TransactionError::Closed,
        ) => "IllegalStateException",
        KafkaError::Transaction(_) => "KafkaException",
        _ => error.java_exception_name(),
    }
}

impl TopicTimers {
    /// The histogram of one outcome (`exception`, or [`NO_EXCEPTION`]):
    /// observed, with the tags of Spring's
    /// `DefaultKafkaTemplateObservationConvention` and Micrometer's `error`;
    /// else with those of Spring's `MicrometerHolder`.
    fn histogram(&self, exception: &str) -> Histogram {
        let name = self.template_name.to_string();
        let labels = match &self.topic {
            Some(topic) => vec![
                Label::new("error", exception.to_owned()),
                Label::new("messaging.destination.kind", "topic"),
                Label::new("messaging.destination.name", topic.to_string()),
                Label::new("messaging.operation", "publish"),
                Label::new("messaging.system", "kafka"),
                Label::new("spring.kafka.template.name", name),
            ],
            None => vec![
                Label::new("exception", exception.to_owned()),
                Label::new("name", name),
                Label::new(
                    "result",
                    if exception == NO_EXCEPTION {
                        "success"
                    } else {
                        "failure"
                    },
                ),
            ],
        };
        metrics::histogram!(SEND_TIMER, labels)
    }
}

#[cfg(test)]
mod tests {
    use kafka_core::ErrorCode;

    use super::*;

    #[test]
    fn a_send_refused_for_a_stored_transactional_error_is_javas_kafka_exception() {
        let stored = |error| KafkaError::Transaction(error);
        let refused_commit = stored(TransactionError::AbortableBroker {
            operation: "TxnOffsetCommit",
            code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
            message: None,
        });
        assert_eq!(
            refused_commit.java_exception_name(),
            "CoordinatorNotAvailableException"
        );
        assert_eq!(refusal_exception(&refused_commit), "KafkaException");
        let unauthorized = stored(TransactionError::TransactionalIdAuthorizationFailed {
            transactional_id: "orders-tx-0".to_owned(),
        });
        assert_eq!(refusal_exception(&unauthorized), "KafkaException");
        // A fencing, or a stale epoch stored as a send's failure, reaches
        // Java's callback as itself.
        let fenced = stored(TransactionError::ProducerFenced {
            transactional_id: "orders-tx-0".to_owned(),
        });
        assert_eq!(refusal_exception(&fenced), "ProducerFencedException");
        let stale_epoch = stored(TransactionError::SendFailed {
            cause: Box::new(KafkaError::Broker {
                topic: "orders".to_owned(),
                partition: 0,
                code: ErrorCode::INVALID_PRODUCER_EPOCH,
                message: None,
            }),
        });
        assert_eq!(
            refusal_exception(&stale_epoch),
            "InvalidProducerEpochException"
        );
        assert_eq!(
            refusal_exception(&stored(TransactionError::Closed)),
            "IllegalStateException"
        );
        // Other refusals keep their own exception.
        let too_large = KafkaError::RecordTooLarge {
            size: 2_000_000,
            max_request_size: 1_048_576,
        };
        assert_eq!(
            refusal_exception(&too_large),
            too_large.java_exception_name()
        );
    }

    #[test]
    fn the_default_timer_leaves_out_what_java_throws_and_the_observed_one_tags_it() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let refused_commit = KafkaError::Transaction(TransactionError::AbortableBroker {
            operation: "TxnOffsetCommit",
            code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
            message: None,
        });
        let fenced = KafkaError::Transaction(TransactionError::ProducerFenced {
            transactional_id: "orders-tx-0".to_owned(),
        });
        metrics::with_local_recorder(&recorder, || {
            let own = SendTimers::new("kafkaTemplate", false);
            let observed = SendTimers::new("observedTemplate", true);
            for timers in [&own, &observed] {
                timers.start("orders").finish(Err(&refused_commit), true);
                timers.start("orders").finish(Err(&fenced), true);
                timers.start("orders").finish(Ok(()), false);
            }
        });
        let text = handle.render();
        let count = |labels: &str| {
            text.lines()
                .find(|line| {
                    line.starts_with("spring_kafka_template_seconds_count{")
                        && line.contains(labels)
                })
                .and_then(|line| line.rsplit(' ').next())
                .map(str::to_owned)
        };
        // The template's own timer: the fencing (the callback gets it) and
        // the success; not the KafkaException Java throws.
        assert_eq!(
            count(r#"exception="ProducerFencedException",name="kafkaTemplate""#).as_deref(),
            Some("1"),
            "{text}"
        );
        assert_eq!(
            count(r#"exception="none",name="kafkaTemplate""#).as_deref(),
            Some("1"),
            "{text}"
        );
        assert_eq!(
            count(r#"exception="KafkaException",name="kafkaTemplate""#),
            None,
            "{text}"
        );
        // The observation's timer: every send, the refusal as KafkaException.
        assert_eq!(
            count(r#"error="KafkaException""#).as_deref(),
            Some("1"),
            "{text}"
        );
        assert!(!text.contains("CoordinatorNotAvailableException"), "{text}");
    }

    #[test]
    fn observed_sends_are_timed_per_topic_and_template_whatever_the_thread_met_last() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let first = SendTimers::new("first", true);
            let second = SendTimers::new("second", true);
            // Each send after one to another topic or through other timers.
            for (timers, topic) in [
                (&first, "orders"),
                (&first, "orders"),
                (&first, "payments"),
                (&second, "payments"),
                (&first, "orders"),
                (&second, "orders"),
                (&second, "orders"),
            ] {
                timers.start(topic).finish(Ok(()), false);
            }
        });
        let text = handle.render();
        let count = |name: &str, topic: &str| {
            text.lines()
                .find(|line| {
                    line.starts_with("spring_kafka_template_seconds_count{")
                        && line.contains(&format!(r#"name="{name}""#))
                        && line.contains(&format!(r#""{topic}""#))
                })
                .and_then(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        };
        assert_eq!(count("first", "orders"), Some(3), "{text}");
        assert_eq!(count("first", "payments"), Some(1), "{text}");
        assert_eq!(count("second", "payments"), Some(1), "{text}");
        assert_eq!(count("second", "orders"), Some(2), "{text}");
    }

    /// The `_count` of the successes of template `name` in `recorder`.
    fn successes(handle: &metrics_exporter_prometheus::PrometheusHandle, name: &str) -> u64 {
        let text = handle.render();
        text.lines()
            .find(|line| {
                line.starts_with("spring_kafka_template_seconds_count{")
                    && line.contains(&format!(r#"exception="none",name="{name}""#))
            })
            .and_then(|line| line.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn sends_are_timed_on_the_thread_that_hears_them_and_after_their_template_is_gone() {
        let recorder =
            Arc::new(metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let timers = SendTimers::new("handedOver", false);
        // Started here, finished on another thread (the producer's), as a
        // callback does: twice, the second time from what it kept.
        let started: Vec<SendTiming> = (0..3).map(|_| timers.start("orders")).collect();
        let producer_thread = {
            let recorder = Arc::clone(&recorder);
            let (first, second) = (started[0], started[1]);
            std::thread::spawn(move || {
                metrics::with_local_recorder(&*recorder, || {
                    first.finish(Ok(()), false);
                    second.finish(Ok(()), false);
                });
            })
        };
        producer_thread.join().expect("finished");
        assert_eq!(successes(&handle, "handedOver"), 2);
        // The template gone: a send still in flight is timed by a thread
        // that kept its timers...
        let late = started[2];
        let keeper = {
            let recorder = Arc::clone(&recorder);
            let (warm, template) = (timers.start("orders"), timers);
            std::thread::spawn(move || {
                metrics::with_local_recorder(&*recorder, || {
                    warm.finish(Ok(()), false);
                    drop(template);
                    late.finish(Ok(()), false);
                });
            })
        };
        keeper.join().expect("finished");
        assert_eq!(successes(&handle, "handedOver"), 4);
        // ...and once no thread keeps them either, a timing is dropped
        // quietly (its thread let them go when it met other timers).
        let gone = SendTimers::new("goneSoon", false);
        let orphan = gone.start("orders");
        let other = SendTimers::new("other", false);
        std::thread::spawn(move || {
            metrics::with_local_recorder(&*recorder, || {
                orphan.finish(Ok(()), false);
                drop(gone);
                other.start("orders").finish(Ok(()), false);
                orphan.finish(Ok(()), false);
            });
        })
        .join()
        .expect("finished");
        assert_eq!(successes(&handle, "goneSoon"), 1);
        assert_eq!(successes(&handle, "other"), 1);
    }
}
