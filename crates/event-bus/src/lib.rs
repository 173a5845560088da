//! The event-bus port, the delivery promises every transport keeps, and the in-process
//! transport used by the one-process system.
//!
//! Services publish only through the transactional outbox ([`Outbox`]): the events a
//! change causes are stored in the same batch as the change, and the [`OutboxRelay`]
//! hands them to the bus afterwards. Consumers are at-least-once; [`apply_once`] makes
//! a handler's effect idempotent by storing the event id beside it. The
//! [`HistoryPruner`] keeps what both leave behind bounded: markers and the log's
//! entries go once their retention is over. This crate must never know what an event
//! means; it moves envelopes and keeps promises.

mod conflict;
/// The promises every transport's tests check; behind the `conformance` feature so that
/// only test builds compile them.
#[cfg(feature = "conformance")]
pub mod conformance;
mod delivery;
mod history;
mod idempotency;
mod in_process;
mod metrics;
mod outbox;
mod port;

pub use conflict::{ConflictRetry, LostRace, retry_on_conflict};
pub use delivery::{
    Delivered, Outage, RetryPolicy, TooEarly, deliver_with_retry, is_outage, outage, too_early,
};
pub use history::{HistoryPruner, Pruned, Retention, WatchedTopics};
pub use idempotency::{
    Applied, PROCESSED_EVENTS, PROCESSED_EVENTS_SPEC, apply_once, prune_processed_events,
};
pub use in_process::InProcessBus;
pub use metrics::BusMetrics;
pub use outbox::{OUTBOX, OUTBOX_PARKED, OUTBOX_PARKED_SPEC, OUTBOX_SPEC, Outbox, OutboxRelay};
pub use port::{BoxError, BusError, EventBus, EventHandler, ParkedEvent, Subscription, handler_fn};
