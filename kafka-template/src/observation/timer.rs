//! The timer of Spring's send observation: with
//! `template.observation-enabled`, Spring Kafka observes each send as
//! `spring.kafka.template`, and Micrometer's default meter handler makes it a
//! timer of that name, tagged with the observation's low-cardinality keys
//! (`KafkaTemplateObservation`) and `error`. Here the same timer, published to
//! the [`metrics`] facade as a histogram of seconds, so that the Prometheus
//! recorder shows `spring_kafka_template_seconds_count` / `_sum` as
//! Micrometer's does. Its handles are registered with the recorder installed
//! at a topic's first send: install the recorder before sending.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use kafka_core::KafkaError;
use metrics::{Histogram, Label};

/// The histogram's name in the facade: Micrometer's timer
/// `spring.kafka.template`, with the `seconds` its Prometheus registry adds.
pub const SEND_TIMER: &str = "spring.kafka.template.seconds";

/// The `spring.kafka.template.name` of the default template: the bean name
/// Spring Boot gives its auto-configured `KafkaTemplate`.
pub const DEFAULT_TEMPLATE_NAME: &str = "kafkaTemplate";

/// The send timers of one template, a histogram per topic and outcome.
pub(crate) struct SendTimers {
    template_name: Arc<str>,
    /// Read on every send, written once per topic.
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

/// The histograms of one topic: of successful sends, and per error kind.
struct TopicTimers {
    template_name: Arc<str>,
    topic: Arc<str>,
    /// Registered at the first success (no series of a count of 0).
    ok: OnceLock<Histogram>,
    errors: Mutex<HashMap<&'static str, Histogram>>,
}

/// One send being timed.
#[derive(Clone)]
pub(crate) struct SendTiming {
    started: Instant,
    timers: Arc<TopicTimers>,
}

impl std::fmt::Debug for SendTimers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendTimers")
            .field("template_name", &self.template_name)
            .finish_non_exhaustive()
    }
}

impl SendTimers {
    /// The timers of the template named `template_name`.
    pub(crate) fn new(template_name: &str) -> Self {
        metrics::describe_histogram!(
            SEND_TIMER,
            metrics::Unit::Seconds,
            "Spring's KafkaTemplate observation: the time from a send to its outcome"
        );
        SendTimers {
            template_name: template_name.into(),
            topics: RwLock::new(HashMap::default()),
        }
    }

    /// Starts timing a send to `topic`.
    pub(crate) fn start(&self, topic: &str) -> SendTiming {
        let started = Instant::now();
        let known = self
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .cloned();
        let timers = match known {
            Some(timers) => timers,
            None => {
                let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
                let timers = topics.entry(topic.into()).or_insert_with_key(|topic| {
                    Arc::new(TopicTimers {
                        template_name: Arc::clone(&self.template_name),
                        ok: OnceLock::new(),
                        topic: Arc::clone(topic),
                        errors: Mutex::new(HashMap::new()),
                    })
                });
                Arc::clone(timers)
            }
        };
        SendTiming { started, timers }
    }
}

impl SendTiming {
    /// Records the send's time, tagged with its outcome (`error` is `none`,
    /// or the error's kind: the broker's code name, or the client's kind).
    pub(crate) fn finish(&self, outcome: Result<(), &KafkaError>) {
        let seconds = self.started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => self
                .timers
                .ok
                .get_or_init(|| histogram(&self.timers.template_name, &self.timers.topic, "none"))
                .record(seconds),
            Err(error) => {
                let kind = error.kind_name();
                let mut errors = self
                    .timers
                    .errors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                errors
                    .entry(kind)
                    .or_insert_with(|| {
                        histogram(&self.timers.template_name, &self.timers.topic, kind)
                    })
                    .record(seconds);
            }
        }
    }
}

/// The histogram of one template, topic and outcome, with the tags of
/// Spring's `DefaultKafkaTemplateObservationConvention`.
fn histogram(template_name: &str, topic: &str, error: &str) -> Histogram {
    let labels = vec![
        Label::new("error", error.to_owned()),
        Label::new("messaging.destination.kind", "topic"),
        Label::new("messaging.destination.name", topic.to_owned()),
        Label::new("messaging.operation", "publish"),
        Label::new("messaging.system", "kafka"),
        Label::new("spring.kafka.template.name", template_name.to_owned()),
    ];
    metrics::histogram!(SEND_TIMER, labels)
}
