//! Publishing to the [`metrics`](::metrics) facade: one counter or gauge handle per
//! metric and tag set, registered with the installed recorder the first time
//! the metric is published and reused after (no per-publish lookup in the
//! recorder).

use std::collections::HashMap;

use ::metrics::{Counter, Gauge, Label};

use super::{MetricKind, MetricValue};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct HandleKey {
    group: &'static str,
    name: &'static str,
    tags: Vec<(&'static str, String)>,
}

enum Handle {
    Counter(Counter),
    Gauge(Gauge),
}

/// The facade handles of one producer's metrics.
#[derive(Default)]
pub(crate) struct Publisher {
    handles: HashMap<HandleKey, Handle>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("handles", &self.handles.len())
            .finish()
    }
}

impl Publisher {
    /// Sets every metric's counter (to its total) or gauge (to its value).
    pub fn publish(&mut self, values: &[MetricValue]) {
        for value in values {
            let key = HandleKey {
                group: value.group,
                name: value.name,
                tags: value.tags.clone(),
            };
            let handle = self.handles.entry(key).or_insert_with(|| register(value));
            match handle {
                // Totals are whole numbers; a counter holds the producer's own.
                Handle::Counter(counter) => counter.absolute(value.value as u64),
                Handle::Gauge(gauge) => gauge.set(value.value),
            }
        }
    }
}

fn register(value: &MetricValue) -> Handle {
    let name = value.facade_name();
    let labels: Vec<Label> = value
        .facade_labels()
        .into_iter()
        .map(|(key, value)| Label::new(key, value))
        .collect();
    match value.kind {
        MetricKind::Counter => {
            ::metrics::describe_counter!(name.clone(), value.description);
            Handle::Counter(::metrics::counter!(name, labels))
        }
        MetricKind::Gauge => {
            ::metrics::describe_gauge!(name.clone(), value.description);
            Handle::Gauge(::metrics::gauge!(name, labels))
        }
    }
}
