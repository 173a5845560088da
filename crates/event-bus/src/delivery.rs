use std::time::Duration;

use doc_store::StoreError;
use event_contracts::Envelope;

use crate::{BoxError, BusError, BusMetrics, EventHandler};

/// A handler's answer for an event that arrived before one it follows (sent on another
/// topic, or by a service that has not caught up). It is not a failure of the event:
/// the bus keeps retrying it for [`RetryPolicy::early_wait`] instead of counting it
/// against `max_attempts`, so that an outage of the broker or of a service (which
/// delays one topic and not another) does not park events that only had to wait.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TooEarly(pub String);

/// A [`TooEarly`] answer, boxed for a handler's `Err`.
pub fn too_early(why: impl Into<String>) -> BoxError {
    Box::new(TooEarly(why.into()))
}

/// A handler's answer when what it needs cannot be reached for now (a payment provider
/// that times out, say): nothing is wrong with the event. Like an unavailable store or
/// broker, it is retried for [`RetryPolicy::outage_wait`] without counting against
/// `max_attempts`, so a short outage parks nothing.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Outage(pub String);

/// An [`Outage`] answer, boxed for a handler's `Err`.
pub fn outage(why: impl Into<String>) -> BoxError {
    Box::new(Outage(why.into()))
}

/// Whether a handler's error is an outage rather than something about the event: an
/// [`Outage`], the store unavailable, or the broker unavailable. Those pass; an error
/// that will repeat (a broken event, a bug) does not.
pub fn is_outage(error: &BoxError) -> bool {
    error.downcast_ref::<Outage>().is_some()
        || matches!(
            error.downcast_ref::<StoreError>(),
            Some(StoreError::Unavailable(_))
        )
        || matches!(
            error.downcast_ref::<BusError>(),
            Some(BusError::Unavailable(_))
        )
}

/// How a failing handler is retried before its event is parked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long an event the handler calls [`TooEarly`] keeps being retried, from the
    /// first such answer, before it is parked.
    pub early_wait: Duration,
    /// How long an event keeps being retried through an outage (see [`is_outage`]),
    /// from its first attempt, before those attempts count against `max_attempts`.
    pub outage_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            early_wait: Duration::from_secs(120),
            outage_wait: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt + 1`: doubling from the initial value, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Handled {
        attempts: u32,
    },
    /// Every attempt failed; the last error is kept for the dead-letter entry.
    Exhausted {
        attempts: u32,
        error: String,
    },
}

/// Runs the handler until it succeeds, or its failures use up the policy's attempts, or
/// (for an event that keeps arriving too early) the policy's early wait has passed.
/// Transports share this so that the in-process bus and Kafka retry and park the same
/// way.
pub async fn deliver_with_retry(
    handler: &dyn EventHandler,
    event: &Envelope,
    group: &str,
    policy: &RetryPolicy,
    metrics: &BusMetrics,
) -> Delivered {
    let started = tokio::time::Instant::now();
    // The early wait runs from the first "too early" answer: time spent waiting out an
    // outage (which likely held back the other topic too) does not use it up.
    let mut early_since = None;
    let mut attempt = 0;
    let mut failures = 0;
    loop {
        attempt += 1;
        match handler.handle(event).await {
            Ok(()) => {
                metrics.consumed(&event.event_type, since_occurred(event));
                return Delivered::Handled { attempts: attempt };
            }
            Err(error) => {
                let early = error.downcast_ref::<TooEarly>().is_some();
                // An outage is retried without using up the attempts, for a while.
                let outage = !early && is_outage(&error) && started.elapsed() < policy.outage_wait;
                let exhausted = if early {
                    metrics.early(&event.event_type);
                    tracing::info!(
                        group,
                        event_id = %event.id,
                        event_type = %event.event_type,
                        attempt,
                        why = %error,
                        "event arrived before the one it follows; retrying"
                    );
                    early_since
                        .get_or_insert_with(tokio::time::Instant::now)
                        .elapsed()
                        >= policy.early_wait
                } else {
                    metrics.failed(&event.event_type);
                    if !outage {
                        failures += 1;
                    }
                    tracing::warn!(
                        group,
                        event_id = %event.id,
                        event_type = %event.event_type,
                        attempt,
                        outage,
                        error = %error,
                        "event handler failed"
                    );
                    !outage && failures >= policy.max_attempts.max(1)
                };
                if exhausted {
                    return Delivered::Exhausted {
                        attempts: attempt,
                        error: error.to_string(),
                    };
                }
                tokio::time::sleep(policy.backoff(attempt)).await;
            }
        }
    }
}

/// How long ago `event` occurred, by this host's clock. Another host's clock may run
/// ahead of this one; an event from the future arrived at once.
fn since_occurred(event: &Envelope) -> Duration {
    let elapsed = time::OffsetDateTime::now_utc() - event.occurred_at;
    Duration::try_from(elapsed).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_initial_value_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            early_wait: Duration::ZERO,
            outage_wait: Duration::ZERO,
        };
        let waits: Vec<_> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 700, 700]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(700));
    }

    /// Answers each attempt with the next of `answers` (`None`: handled).
    fn scripted(answers: Vec<Option<BoxError>>) -> std::sync::Arc<dyn EventHandler> {
        let answers = std::sync::Mutex::new(answers.into_iter());
        crate::handler_fn(move |_event: Envelope| {
            let next = answers.lock().unwrap().next().flatten();
            async move { next.map_or(Ok(()), Err) }
        })
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(40),
            early_wait: Duration::from_millis(400),
            outage_wait: Duration::from_millis(400),
        }
    }

    /// One event through `deliver_with_retry` under `policy()`.
    async fn deliver(handler: std::sync::Arc<dyn EventHandler>) -> Delivered {
        deliver_with_retry(
            handler.as_ref(),
            &an_event(),
            "g",
            &policy(),
            &BusMetrics::unregistered(),
        )
        .await
    }

    fn an_event() -> Envelope {
        Envelope::new(
            &event_contracts::UserRegistered {
                user_id: "u1".into(),
                email: "u1@example.com".into(),
                role: event_contracts::Role::Customer,
            },
            "test",
        )
    }

    #[tokio::test]
    async fn too_early_answers_do_not_use_up_the_attempts() {
        let mut answers: Vec<Option<BoxError>> = (0..6).map(|_| Some(too_early("wait"))).collect();
        answers.push(Some("down".into()));
        answers.push(None);
        let handler = scripted(answers);
        let delivered = deliver(handler).await;
        // Six early answers and one failure, within two attempts' worth of failures.
        assert_eq!(delivered, Delivered::Handled { attempts: 8 });
    }

    #[tokio::test]
    async fn an_event_too_early_for_longer_than_the_early_wait_is_parked() {
        let handler = scripted(
            (0..1000)
                .map(|_| Some(too_early("still waiting")))
                .collect(),
        );
        let started = tokio::time::Instant::now();
        let delivered = deliver(handler).await;
        let Delivered::Exhausted { attempts, error } = delivered else {
            panic!("not parked: {delivered:?}");
        };
        assert_eq!(error, "still waiting");
        assert!(attempts > 2, "retried past max_attempts: {attempts}");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(400) && waited < Duration::from_millis(1400),
            "parked after the early wait, not long after: {waited:?}"
        );
    }

    #[tokio::test]
    async fn a_short_outage_of_the_store_the_broker_or_a_provider_parks_nothing() {
        let mut answers: Vec<Option<BoxError>> = Vec::new();
        for _ in 0..3 {
            answers.push(Some(Box::new(StoreError::Unavailable(
                "primary stepped down".into(),
            ))));
            answers.push(Some(Box::new(BusError::Unavailable(
                "broker unreachable".into(),
            ))));
            answers.push(Some(outage("the provider did not answer in time")));
        }
        answers.push(None);
        let delivered = deliver(scripted(answers)).await;
        // Nine failed attempts, against a policy that parks after two failures.
        assert_eq!(delivered, Delivered::Handled { attempts: 10 });
    }

    #[tokio::test]
    async fn an_outage_longer_than_the_outage_wait_counts_and_parks() {
        let handler = scripted(
            (0..1000)
                .map(|_| Some(Box::new(StoreError::Unavailable("down".into())) as BoxError))
                .collect(),
        );
        let started = tokio::time::Instant::now();
        let Delivered::Exhausted { attempts, .. } = deliver(handler).await else {
            panic!("an endless outage is parked in the end");
        };
        assert!(attempts > 2, "retried past max_attempts: {attempts}");
        assert!(started.elapsed() >= Duration::from_millis(400));
    }

    #[tokio::test]
    async fn an_outage_does_not_use_up_the_wait_for_an_event_that_came_too_early() {
        // An outage longer than the early wait, then the event it held back is late.
        let mut answers: Vec<Option<BoxError>> = (0..30)
            .map(|_| Some(Box::new(StoreError::Unavailable("down".into())) as BoxError))
            .collect();
        answers.push(Some(too_early("its order.created is on its way")));
        answers.push(None);
        let policy = RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(20),
            early_wait: Duration::from_millis(300),
            outage_wait: Duration::from_secs(60),
        };
        let delivered = deliver_with_retry(
            scripted(answers).as_ref(),
            &an_event(),
            "g",
            &policy,
            &BusMetrics::unregistered(),
        )
        .await;
        assert_eq!(delivered, Delivered::Handled { attempts: 32 });
    }

    #[tokio::test]
    async fn errors_that_will_repeat_are_not_outages() {
        let handler = scripted(
            (0..10)
                .map(|_| {
                    Some(Box::new(StoreError::Corrupt {
                        collection: "c".into(),
                        id: "i".into(),
                        reason: "not JSON".into(),
                    }) as BoxError)
                })
                .collect(),
        );
        let Delivered::Exhausted { attempts, .. } = deliver(handler).await else {
            panic!("parked");
        };
        assert_eq!(attempts, 2);
    }

    #[tokio::test]
    async fn failures_still_park_after_max_attempts() {
        let handler = scripted((0..10).map(|_| Some("broken".into())).collect());
        let delivered = deliver(handler).await;
        assert_eq!(
            delivered,
            Delivered::Exhausted {
                attempts: 2,
                error: "broken".into()
            }
        );
    }

    /// The delivery-delay histogram's (count, sum) for `event_type` in `registry`.
    fn delivery_delay(registry: &prometheus::Registry, event_type: &str) -> (u64, f64) {
        registry
            .gather()
            .iter()
            .filter(|family| family.name() == "shop_event_delivery_delay_seconds")
            .flat_map(|family| family.get_metric())
            .filter(|metric| {
                metric
                    .get_label()
                    .iter()
                    .any(|l| l.name() == "event_type" && l.value() == event_type)
            })
            .map(|metric| {
                let h = metric.get_histogram();
                (h.get_sample_count(), h.get_sample_sum())
            })
            .next()
            .unwrap_or((0, 0.0))
    }

    /// Delivers `event` under `policy()` with metrics registered in a registry of its own.
    async fn deliver_measured(
        handler: std::sync::Arc<dyn EventHandler>,
        event: &Envelope,
    ) -> (Delivered, prometheus::Registry) {
        let registry = prometheus::Registry::new();
        let metrics = BusMetrics::register(&registry).unwrap();
        let delivered = deliver_with_retry(handler.as_ref(), event, "g", &policy(), &metrics).await;
        (delivered, registry)
    }

    #[tokio::test]
    async fn a_handled_event_records_how_long_ago_it_occurred() {
        let mut event = an_event();
        event.occurred_at -= time::Duration::seconds(2);
        // A failed attempt first: the delay is to the handling, and counted once.
        let (delivered, registry) =
            deliver_measured(scripted(vec![Some("down".into()), None]), &event).await;
        assert_eq!(delivered, Delivered::Handled { attempts: 2 });
        let (count, sum) = delivery_delay(&registry, &event.event_type);
        assert_eq!(count, 1);
        assert!((2.0..10.0).contains(&sum), "delay {sum}s, occurred 2 s ago");
    }

    #[tokio::test]
    async fn an_event_from_a_clock_ahead_of_ours_records_no_delay() {
        let mut event = an_event();
        event.occurred_at += time::Duration::minutes(1);
        let (_, registry) = deliver_measured(scripted(vec![None]), &event).await;
        assert_eq!(delivery_delay(&registry, &event.event_type), (1, 0.0));
    }

    #[tokio::test]
    async fn a_parked_event_records_no_delivery_delay() {
        let event = an_event();
        let (delivered, registry) = deliver_measured(
            scripted((0..10).map(|_| Some("broken".into())).collect()),
            &event,
        )
        .await;
        assert!(matches!(delivered, Delivered::Exhausted { .. }));
        assert_eq!(delivery_delay(&registry, &event.event_type).0, 0);
    }
}
