//! Java's windowed statistics (`org.apache.kafka.common.metrics.stats`, as
//! of Kafka 3.8): a value is recorded into the current *sample*; a sample
//! covers `metrics.sample.window.ms`, and `metrics.num.samples` of them plus
//! one (the sample overlapping the start of the span) are kept, the oldest
//! reused when a new window starts; a sample is dropped once its last event
//! is older than the span. Rates, averages and maxima are taken over the
//! samples kept, as `SampledStat`, `Rate`, `Avg`, `Max` and `Meter` compute
//! them (NaN when an average or a maximum has no sample, as in Java).
//!
//! Time is milliseconds since the producer's metrics were created (a
//! monotonic clock), passed in by the caller so tests can drive it.

/// `metrics.sample.window.ms` and `metrics.num.samples`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowConfig {
    pub window_ms: u64,
    pub samples: usize,
}

impl Default for WindowConfig {
    /// Java's defaults: two samples of 30 s.
    fn default() -> Self {
        WindowConfig {
            window_ms: 30_000,
            samples: 2,
        }
    }
}

impl WindowConfig {
    fn window(&self) -> u64 {
        self.window_ms.max(1)
    }

    fn samples(&self) -> usize {
        self.samples.max(1)
    }
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    /// When this sample's window started (Java's `startTimeMs`).
    start_ms: u64,
    /// When its last value was recorded (Java's `lastEventMs`).
    last_event_ms: u64,
    events: u64,
    value: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Combine {
    /// Values are added up (`WindowedSum`, `Avg`).
    Sum,
    /// The largest value is kept (`Max`).
    Max,
}

/// Java's `SampledStat`: one value per sample window.
#[derive(Clone, Debug)]
struct Sampled {
    samples: Vec<Sample>,
    current: usize,
    combine: Combine,
}

impl Sampled {
    const fn new(combine: Combine) -> Self {
        Sampled {
            samples: Vec::new(),
            current: 0,
            combine,
        }
    }

    fn initial(&self) -> f64 {
        match self.combine {
            Combine::Sum => 0.0,
            Combine::Max => f64::NEG_INFINITY,
        }
    }

    fn fresh(&self, now: u64) -> Sample {
        Sample {
            start_ms: now,
            last_event_ms: now,
            events: 0,
            value: self.initial(),
        }
    }

    fn record(&mut self, config: &WindowConfig, value: f64, now: u64) {
        self.record_events(config, value, 1, now);
    }

    /// `events` values at once: their sum (or, for a `Max`, the largest)
    /// is `value`.
    fn record_events(&mut self, config: &WindowConfig, value: f64, events: u64, now: u64) {
        if self.samples.is_empty() {
            self.samples.push(self.fresh(now));
            self.current = 0;
        }
        let current = self.samples[self.current];
        if now.saturating_sub(current.start_ms) >= config.window() {
            // Java's `advance`: the next sample, reused once all exist
            // (one more than the span holds: the one overlapping its start).
            self.current = (self.current + 1) % (config.samples() + 1);
            let fresh = self.fresh(now);
            match self.samples.get_mut(self.current) {
                Some(sample) => *sample = fresh,
                None => {
                    self.samples.push(fresh);
                    self.current = self.samples.len() - 1;
                }
            }
        }
        let sample = &mut self.samples[self.current];
        match self.combine {
            Combine::Sum => sample.value += value,
            Combine::Max => sample.value = sample.value.max(value),
        }
        sample.events += events;
        sample.last_event_ms = now;
    }

    /// Java's `purgeObsoleteSamples`: a sample with no event within all the
    /// windows together starts over (one that started before the span but
    /// has events in it is kept).
    fn purge(&mut self, config: &WindowConfig, now: u64) {
        let expire_age = config.window().saturating_mul(config.samples() as u64);
        let fresh = self.fresh(now);
        for sample in &mut self.samples {
            if now.saturating_sub(sample.last_event_ms) >= expire_age {
                *sample = fresh;
            }
        }
    }

    fn sum(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.purge(config, now);
        // `+ 0.0`: an empty float sum is -0.0, which exporters print as "-0".
        self.samples.iter().map(|s| s.value).sum::<f64>() + 0.0
    }

    fn average(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.purge(config, now);
        let (total, events) = self
            .samples
            .iter()
            .fold((0.0, 0u64), |(t, n), s| (t + s.value, n + s.events));
        if events == 0 {
            f64::NAN
        } else {
            total / events as f64
        }
    }

    fn max(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.purge(config, now);
        let events: u64 = self.samples.iter().map(|s| s.events).sum();
        if events == 0 {
            return f64::NAN;
        }
        self.samples
            .iter()
            .map(|s| s.value)
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Java's `Rate.windowSize`: the time the samples span, at least
    /// `samples - 1` full windows (so a young rate is not overstated), at
    /// least 1 ms.
    fn window_size_ms(&mut self, config: &WindowConfig, now: u64) -> u64 {
        self.purge(config, now);
        let oldest = self.samples.iter().map(|s| s.start_ms).min().unwrap_or(now);
        let mut elapsed = now.saturating_sub(oldest);
        let full_windows = elapsed / config.window();
        let min_full_windows = config.samples() as u64 - 1;
        if full_windows < min_full_windows {
            elapsed += (min_full_windows - full_windows) * config.window();
        }
        elapsed.max(1)
    }

    /// The windowed sum per second (Java's `Rate` over a `WindowedSum`).
    fn rate_per_second(&mut self, config: &WindowConfig, now: u64) -> f64 {
        let sum = self.sum(config, now);
        sum * 1000.0 / self.window_size_ms(config, now) as f64
    }
}

/// Java's `Meter`: a windowed rate and a cumulative total of the same values.
#[derive(Clone, Debug)]
pub(crate) struct Meter {
    rate: Sampled,
    total: f64,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            rate: Sampled::new(Combine::Sum),
            total: 0.0,
        }
    }
}

impl Meter {
    pub fn record(&mut self, config: &WindowConfig, value: f64, now: u64) {
        self.rate.record(config, value, now);
        self.total += value;
    }

    /// Everything recorded since the start.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Per second over the sample windows.
    pub fn rate(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.rate.rate_per_second(config, now)
    }

    /// The windowed sum over the span the samples cover, per that span in
    /// `unit_ms` (Java's `Rate` with another time unit: with
    /// nanoseconds recorded and `unit_ms` = 1e-6 this is the fraction of time).
    pub fn rate_per(&mut self, config: &WindowConfig, now: u64, unit_ms: f64) -> f64 {
        let sum = self.rate.sum(config, now);
        sum / (self.rate.window_size_ms(config, now) as f64 / unit_ms)
    }
}

/// Java's `Avg` over sample windows (NaN with no sample).
#[derive(Clone, Debug)]
pub(crate) struct Avg(Sampled);

impl Default for Avg {
    fn default() -> Self {
        Avg(Sampled::new(Combine::Sum))
    }
}

impl Avg {
    pub fn record(&mut self, config: &WindowConfig, value: f64, now: u64) {
        self.0.record(config, value, now);
    }

    pub fn value(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.0.average(config, now)
    }

    /// `events` values counted together, whose `sum` is given.
    pub fn record_events(&mut self, config: &WindowConfig, sum: f64, events: u64, now: u64) {
        if events > 0 {
            self.0.record_events(config, sum, events, now);
        }
    }
}

/// An `Avg` and a `Max` of the same values (Java adds both to one sensor).
#[derive(Clone, Debug)]
pub(crate) struct AvgMax {
    avg: Avg,
    max: Sampled,
}

impl Default for AvgMax {
    fn default() -> Self {
        AvgMax {
            avg: Avg::default(),
            max: Sampled::new(Combine::Max),
        }
    }
}

impl AvgMax {
    pub fn record(&mut self, config: &WindowConfig, value: f64, now: u64) {
        self.avg.record(config, value, now);
        self.max.record(config, value, now);
    }

    pub fn avg(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.avg.value(config, now)
    }

    pub fn max(&mut self, config: &WindowConfig, now: u64) -> f64 {
        self.max.max(config, now)
    }

    /// `events` values counted together (a connection's requests since the
    /// last count): their `sum` and the `largest` of them.
    pub fn record_events(
        &mut self,
        config: &WindowConfig,
        sum: f64,
        largest: f64,
        events: u64,
        now: u64,
    ) {
        if events == 0 {
            return;
        }
        self.avg.record_events(config, sum, events, now);
        self.max.record_events(config, largest, events, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: WindowConfig = WindowConfig {
        window_ms: 1_000,
        samples: 2,
    };

    #[test]
    fn a_young_rate_counts_at_least_one_full_window() {
        // Java: 10 events in the first 100 ms of two 1 s samples are measured
        // over (100 ms + one full window), not over 100 ms.
        let mut meter = Meter::default();
        for _ in 0..10 {
            meter.record(&CONFIG, 1.0, 0);
        }
        let rate = meter.rate(&CONFIG, 100);
        assert!((rate - 10.0 / 1.1).abs() < 1e-9, "{rate}");
        assert_eq!(meter.total(), 10.0);
    }

    #[test]
    fn the_rate_spans_the_samples_kept_and_old_samples_expire() {
        let mut meter = Meter::default();
        meter.record(&CONFIG, 100.0, 0);
        meter.record(&CONFIG, 50.0, 1_500); // second sample, from 1 500
        // Both samples, spanning 0..=1 800 ms.
        let rate = meter.rate(&CONFIG, 1_800);
        assert!((rate - 150.0 / 1.8).abs() < 1e-9, "{rate}");
        // At 2 000 the first sample is two windows old: purged (restarted at
        // 2 000); the second spans 500 ms, stretched to one full window.
        let rate = meter.rate(&CONFIG, 2_000);
        assert!((rate - 50.0 / 1.5).abs() < 1e-9, "{rate}");
        // A third window reuses the oldest sample.
        meter.record(&CONFIG, 10.0, 3_000);
        let rate = meter.rate(&CONFIG, 3_000);
        assert!((rate - 60.0 / 1.5).abs() < 1e-9, "{rate}");
        // The total never forgets.
        assert_eq!(meter.total(), 160.0);
        // Long idle: nothing left in the window (0, not -0: exporters print
        // the sign).
        let idle = meter.rate(&CONFIG, 60_000);
        assert!(idle == 0.0 && idle.is_sign_positive(), "{idle}");
    }

    #[test]
    fn a_steady_rate_does_not_dip_when_windows_roll_over() {
        // One request every 7 s with Java's default windows (2 of 30 s): a
        // steady 0.143 a second. Kafka before 3.8 dropped a sample once its
        // start was two windows old, the events it held in the span with
        // it, and the rate dipped at every rollover; 3.8 keeps it while it
        // has an event in the span. Measured every second for 10 minutes.
        let config = WindowConfig::default();
        let mut meter = Meter::default();
        let (mut lowest, mut highest) = (f64::MAX, 0.0_f64);
        for second in 0..600u64 {
            let now = second * 1_000;
            if second % 7 == 0 {
                meter.record(&config, 1.0, now);
            }
            if second >= 120 {
                let rate = meter.rate(&config, now);
                lowest = lowest.min(rate);
                highest = highest.max(rate);
            }
        }
        // (Before: down to 0.070, about half.)
        assert!(lowest > 0.13 && highest < 0.17, "{lowest}..{highest}");
    }

    #[test]
    fn avg_and_max_are_nan_without_samples_and_windowed_with_them() {
        let mut stat = AvgMax::default();
        assert!(stat.avg(&CONFIG, 0).is_nan());
        assert!(stat.max(&CONFIG, 0).is_nan());
        stat.record(&CONFIG, 10.0, 0);
        stat.record(&CONFIG, 30.0, 10);
        stat.record(&CONFIG, 20.0, 1_200);
        assert_eq!(stat.avg(&CONFIG, 1_200), 20.0);
        assert_eq!(stat.max(&CONFIG, 1_200), 30.0);
        // At 2 000 the first window started two windows ago but its last
        // event (at 10) is within the span: kept, as Kafka 3.8's
        // SampledStat keeps it (before, it was dropped, and rates dipped).
        assert_eq!(stat.max(&CONFIG, 2_000), 30.0);
        // At 2 010 that event is two windows old: obsolete.
        assert_eq!(stat.avg(&CONFIG, 2_010), 20.0);
        assert_eq!(stat.max(&CONFIG, 2_010), 20.0);
        assert!(stat.max(&CONFIG, 10_000).is_nan());
    }

    #[test]
    fn values_counted_together_average_over_each_event() {
        // request-size-*: 3 requests of 100, 300 and 200 bytes counted at
        // once, then one of 400: the average is over the 4 requests.
        let mut size = AvgMax::default();
        size.record_events(&CONFIG, 600.0, 300.0, 3, 0);
        size.record_events(&CONFIG, 0.0, 0.0, 0, 5);
        size.record_events(&CONFIG, 400.0, 400.0, 1, 10);
        assert_eq!(size.avg(&CONFIG, 10), 250.0);
        assert_eq!(size.max(&CONFIG, 10), 400.0);
    }

    #[test]
    fn a_ratio_of_nanoseconds_over_the_window() {
        // bufferpool-wait-ratio: 0.5 s of waiting within a 1 s span of two samples.
        let mut wait = Meter::default();
        wait.record(&CONFIG, 500_000_000.0, 0);
        let ratio = wait.rate_per(&CONFIG, 1_000, 1e-6);
        assert!((ratio - 0.5).abs() < 1e-9, "{ratio}");
    }

    #[test]
    fn one_sample_config_still_works() {
        let one = WindowConfig {
            window_ms: 1_000,
            samples: 1,
        };
        let mut meter = Meter::default();
        meter.record(&one, 5.0, 0);
        meter.record(&one, 5.0, 1_000);
        assert_eq!(meter.total(), 10.0);
        assert_eq!(meter.rate(&one, 1_000), 5.0 / 0.001);
    }
}
