use doc_store::{StoreError, Write};
use event_contracts::Envelope;
use serde_json::json;

use crate::Outbox;

/// The collection, in each consuming service's namespace, of event ids already applied.
pub const PROCESSED_EVENTS: &str = "processed_events";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    /// The event was applied before; nothing was written this time.
    Already,
}

/// Stores a consumer's effect, the events it causes and a marker for the event in one
/// batch. The marker's id is the event id, so a redelivered event collides with it and
/// the whole batch is refused: its effect can never be stored twice.
pub async fn apply_once(
    outbox: &Outbox,
    event: &Envelope,
    mut writes: Vec<Write>,
    events: Vec<Envelope>,
) -> Result<Applied, StoreError> {
    writes.insert(
        0,
        Write::Insert {
            collection: PROCESSED_EVENTS.into(),
            id: event.id.clone(),
            body: json!({ "type": event.event_type }),
        },
    );
    match outbox.commit(writes, events).await {
        Ok(()) => Ok(Applied::Now),
        Err(e) if e.is_duplicate_in(PROCESSED_EVENTS) => Ok(Applied::Already),
        Err(e) => Err(e),
    }
}
