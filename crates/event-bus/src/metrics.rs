use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

/// Event counters for one service: produced, consumed, failed attempts, attempts that
/// found the event too early (waiting for the one it follows), and parked, per event
/// type, plus the outbox backlog. Registered in the service's own registry.
#[derive(Clone)]
pub struct BusMetrics {
    produced: IntCounterVec,
    consumed: IntCounterVec,
    failed: IntCounterVec,
    early: IntCounterVec,
    parked: IntCounterVec,
    outbox_backlog: IntGauge,
}

impl BusMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str| -> prometheus::Result<IntCounterVec> {
            let c = IntCounterVec::new(Opts::new(name, help), &["event_type"])?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let outbox_backlog = IntGauge::new(
            "outbox_backlog",
            "Events stored in the outbox and not yet published",
        )?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        Ok(Self {
            produced: counter(
                "events_produced_total",
                "Events published by the outbox relay",
            )?,
            consumed: counter("events_consumed_total", "Events handled successfully")?,
            failed: counter("events_failed_total", "Failed handler attempts")?,
            early: counter(
                "events_early_total",
                "Handler attempts that found the event ahead of the one it follows",
            )?,
            parked: counter("events_parked_total", "Events parked on a dead-letter list")?,
            outbox_backlog,
        })
    }

    /// Metrics that go nowhere, for tests that do not look at them.
    pub fn unregistered() -> Self {
        Self::register(&Registry::new()).expect("fresh registry accepts every metric")
    }

    pub fn produced(&self, event_type: &str) {
        self.produced.with_label_values(&[event_type]).inc();
    }
    pub fn consumed(&self, event_type: &str) {
        self.consumed.with_label_values(&[event_type]).inc();
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
    pub fn set_outbox_backlog(&self, n: u64) {
        self.outbox_backlog
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}
