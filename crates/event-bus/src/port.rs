use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use async_trait::async_trait;
use event_contracts::Envelope;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{BusMetrics, RetryPolicy};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a service does with one event. Returning `Ok` promises the effect is stored;
/// only then is the event acknowledged.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError>;
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

struct FnHandler<F>(F);

#[async_trait]
impl<F> EventHandler for FnHandler<F>
where
    F: Fn(Envelope) -> HandlerFuture + Send + Sync + 'static,
{
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        (self.0)(event.clone()).await
    }
}

/// A handler from an async closure, for tests and small consumers.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn EventHandler>
where
    F: Fn(Envelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    Arc::new(FnHandler(move |event| -> HandlerFuture {
        Box::pin(f(event))
    }))
}

/// One consumer group's interest in some topics (a topic is an event type).
#[derive(Clone)]
pub struct Subscription {
    pub group: String,
    pub topics: Vec<String>,
    pub handler: Arc<dyn EventHandler>,
    pub retry: RetryPolicy,
    pub metrics: BusMetrics,
}

/// An event whose handler kept failing, kept with the error so it can be replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedEvent {
    pub event: Envelope,
    pub group: String,
    pub error: String,
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// The broker refused these events for good (too large, malformed): asking again
    /// gets the same answer. The other events of the call were published.
    #[error("the event bus refused {} event(s) for good: {reason}", event_ids.len())]
    Rejected {
        event_ids: Vec<String>,
        reason: String,
    },
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Appends the events to their topics; order is kept per key.
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError>;

    /// Starts consuming until `shutdown`; the task ends after the in-flight event.
    async fn subscribe(
        &self,
        subscription: Subscription,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError>;

    /// The consumers this bus started that do not consume: not yet joined to their
    /// group (their first assignment), or whose task has ended. A service is not ready
    /// while one does not: events published meanwhile would wait for the group to
    /// settle, or for ever. A transport without groups has none.
    fn consumers_waiting(&self) -> Vec<String> {
        Vec::new()
    }

    /// The events parked on a topic's dead-letter list, oldest first.
    async fn parked(&self, topic: &str) -> Result<Vec<ParkedEvent>, BusError>;

    /// Publishes the parked events of a topic again and clears them; returns how many.
    /// Every group sees a replayed event again, so consumers must be idempotent.
    async fn replay_parked(&self, topic: &str) -> Result<usize, BusError>;

    /// Removes from the transport's log the events every consumer group has passed and
    /// whose `retention` is over; returns how many. Parked events are never removed. A
    /// broker keeps its log to its own retention (Kafka's `retention.ms`), so this does
    /// nothing unless the transport's log is its own.
    async fn compact(&self, retention: Duration) -> Result<u64, BusError> {
        let _ = retention;
        Ok(0)
    }
}
