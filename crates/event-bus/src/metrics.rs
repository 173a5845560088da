use std::time::Duration;

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

/// Event counters for one service: produced, consumed, failed attempts, attempts that
/// found the event too early (waiting for the one it follows), and parked, per event
/// type, plus the outbox backlog and how long consumed events took to get here.
/// Registered in the service's own registry.
#[derive(Clone)]
pub struct BusMetrics {
    produced: IntCounterVec,
    consumed: IntCounterVec,
    failed: IntCounterVec,
    early: IntCounterVec,
    parked: IntCounterVec,
    outbox_backlog: IntGauge,
    outbox_parked: IntCounter,
    delivery_delay: HistogramVec,
}

impl BusMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str| -> prometheus::Result<IntCounterVec> {
            let c = IntCounterVec::new(Opts::new(name, help), &["event_type"])?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let outbox_backlog = IntGauge::new(
            "shop_outbox_backlog",
            "Events stored in the outbox and not yet published",
        )?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        let outbox_parked = IntCounter::new(
            "shop_outbox_parked_total",
            "Outbox entries that can never be published (unreadable, or refused by the \
             broker for good), set aside so the rest go out",
        )?;
        registry.register(Box::new(outbox_parked.clone()))?;
        // From a millisecond (one process, in-process bus) through a broker's fetch waits
        // and handler retries to the five minutes an event may wait for the one it
        // follows.
        let delivery_delay = HistogramVec::new(
            HistogramOpts::new(
                "shop_event_delivery_delay_seconds",
                "Time from an event's occurrence to its successful handling here",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0, 120.0, 300.0,
            ]),
            &["event_type"],
        )?;
        registry.register(Box::new(delivery_delay.clone()))?;
        Ok(Self {
            produced: counter(
                "shop_events_produced_total",
                "Events published by the outbox relay",
            )?,
            consumed: counter("shop_events_consumed_total", "Events handled successfully")?,
            failed: counter("shop_events_failed_total", "Failed handler attempts")?,
            early: counter(
                "shop_events_early_total",
                "Handler attempts that found the event ahead of the one it follows",
            )?,
            parked: counter(
                "shop_events_parked_total",
                "Events parked on a dead-letter list",
            )?,
            outbox_backlog,
            outbox_parked,
            delivery_delay,
        })
    }

    /// Metrics that go nowhere, for tests that do not look at them.
    pub fn unregistered() -> Self {
        Self::register(&Registry::new()).expect("fresh registry accepts every metric")
    }

    /// Reports the consumer's counters for `event_types` from the start, at 0: a
    /// dashboard's failure or parking rate is then 0 rather than no data, and an alert's
    /// `increase` sees the first failure rise from 0 rather than appear.
    pub fn consuming(&self, event_types: &[String]) {
        for event_type in event_types {
            let labels = [event_type.as_str()];
            for counter in [&self.consumed, &self.failed, &self.early, &self.parked] {
                counter.with_label_values(&labels);
            }
        }
    }

    pub fn produced(&self, event_type: &str) {
        self.produced.with_label_values(&[event_type]).inc();
    }
    /// An event handled successfully, `delay` after it occurred.
    pub fn consumed(&self, event_type: &str, delay: Duration) {
        self.consumed.with_label_values(&[event_type]).inc();
        self.delivery_delay
            .with_label_values(&[event_type])
            .observe(delay.as_secs_f64());
    }
    pub fn failed(&self, event_type: &str) {
        self.failed.with_label_values(&[event_type]).inc();
    }
    pub fn early(&self, event_type: &str) {
        self.early.with_label_values(&[event_type]).inc();
    }
    pub fn parked(&self, event_type: &str) {
        self.parked.with_label_values(&[event_type]).inc();
    }
    pub fn outbox_parked(&self) {
        self.outbox_parked.inc();
    }
    /// How many outbox entries were parked so far.
    pub fn outbox_parked_count(&self) -> u64 {
        self.outbox_parked.get()
    }
    pub fn set_outbox_backlog(&self, n: u64) {
        self.outbox_backlog
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}
