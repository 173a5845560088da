use std::time::Duration;

use event_contracts::Envelope;

use crate::{BusMetrics, EventHandler};

/// How a failing handler is retried before its event is parked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
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

/// Runs the handler until it succeeds or the policy's attempts run out. Transports
/// share this so that the in-process bus and Kafka retry and park the same way.
pub async fn deliver_with_retry(
    handler: &dyn EventHandler,
    event: &Envelope,
    group: &str,
    policy: &RetryPolicy,
    metrics: &BusMetrics,
) -> Delivered {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match handler.handle(event).await {
            Ok(()) => {
                metrics.consumed(&event.event_type);
                return Delivered::Handled { attempts: attempt };
            }
            Err(error) => {
                metrics.failed(&event.event_type);
                tracing::warn!(
                    group,
                    event_id = %event.id,
                    event_type = %event.event_type,
                    attempt,
                    error = %error,
                    "event handler failed"
                );
                if attempt >= policy.max_attempts.max(1) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_initial_value_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
        };
        let waits: Vec<_> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 700, 700]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(700));
    }
}
