use doc_store::{CollectionSpec, Document, DocumentStore, Query, SortOrder, StoreError, Write};
use event_contracts::Envelope;
use serde_json::json;
use time::{
    OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros::format_description,
};

use crate::Outbox;

/// The collection, in each consuming service's namespace, of event ids already applied.
pub const PROCESSED_EVENTS: &str = "processed_events";

/// How a consuming service declares [`PROCESSED_EVENTS`]: indexed by the time each
/// marker was applied, so pruning reads only the oldest markers, however many there are.
pub const PROCESSED_EVENTS_SPEC: CollectionSpec = CollectionSpec {
    name: PROCESSED_EVENTS,
    unique: &[],
    indexed: &[&["at"]],
};

/// Markers deleted per batch: one guarded delete each, in one atomic commit.
const PRUNE_BATCH: u64 = 256;

/// A marker's `at`: RFC 3339 in UTC with exactly nine fractional digits, the form
/// `service_kit::timestamp::sortable` writes (this crate sits below service-kit, so it
/// cannot call it). The store sorts strings, and only a fixed width makes text order
/// time order. Text rather than a number so a marker reads like every other stored
/// time, in the embedded store and in MongoDB alike.
const SORTABLE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

fn sortable(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(SORTABLE)
        .expect("a four-digit-year UTC time always formats")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    /// The event was applied before; nothing was written this time.
    Already,
}

/// Stores a consumer's effect, the events it causes and a marker for the event in one
/// batch. The marker's id is the event id, so a redelivered event collides with it and
/// the whole batch is refused: its effect can never be stored twice. That holds for as
/// long as the marker is kept (see [`prune_processed_events`]).
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
            body: json!({
                "type": event.event_type,
                "at": sortable(OffsetDateTime::now_utc()),
            }),
        },
    );
    match outbox.commit(writes, events).await {
        Ok(()) => Ok(Applied::Now),
        Err(e) if e.is_duplicate_in(PROCESSED_EVENTS) => Ok(Applied::Already),
        Err(e) => Err(e),
    }
}

/// Deletes the markers applied before `cutoff`, oldest first, a batch per commit so no
/// write holds the store long; returns how many went. Once a marker is gone its event
/// would be applied again, so `cutoff` must lie further back than any redelivery.
///
/// A marker stored before markers carried their time has no `at` and sorts first; it is
/// given the time it is found at, and so is kept one whole retention from now.
pub async fn prune_processed_events(
    store: &dyn DocumentStore,
    cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    let cutoff = sortable(cutoff);
    let oldest = Query::all()
        .sort_by("at", SortOrder::Asc)
        .page(0, PRUNE_BATCH);
    let mut pruned = 0;
    loop {
        let page = store.find(PROCESSED_EVENTS, &oldest).await?;
        let mut deleted = 0;
        let writes: Vec<Write> = page
            .items
            .iter()
            .filter_map(
                |marker| match marker.body.get("at").and_then(|at| at.as_str()) {
                    Some(at) if at < cutoff.as_str() => {
                        deleted += 1;
                        Some(delete(marker))
                    }
                    Some(_) => None,
                    None => Some(stamp(marker)),
                },
            )
            .collect();
        if writes.is_empty() {
            return Ok(pruned);
        }
        match store.commit(writes).await {
            Ok(()) => pruned += deleted,
            // Another pruner of the same namespace (a replica) took some of them first;
            // the next read sees what is left.
            Err(StoreError::VersionConflict { .. }) => {}
            Err(e) => return Err(e),
        }
        // Between batches, so writers waiting on the store go first.
        tokio::task::yield_now().await;
    }
}

fn delete(marker: &Document) -> Write {
    Write::Delete {
        collection: PROCESSED_EVENTS.into(),
        id: marker.id.clone(),
        expected_version: marker.version,
    }
}

fn stamp(marker: &Document) -> Write {
    let mut body = marker.body.clone();
    body["at"] = json!(sortable(OffsetDateTime::now_utc()));
    Write::Update {
        collection: PROCESSED_EVENTS.into(),
        id: marker.id.clone(),
        expected_version: marker.version,
        body,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::sortable;

    #[test]
    fn marker_times_are_fixed_width_utc_as_service_kit_writes_them() {
        // The same text service_kit::timestamp::sortable gives for these instants.
        assert_eq!(
            sortable(datetime!(2024-05-01 10:00:05.1 UTC)),
            "2024-05-01T10:00:05.100000000Z"
        );
        assert_eq!(
            sortable(datetime!(2024-05-01 12:00:00 +02:00)),
            "2024-05-01T10:00:00.000000000Z"
        );
        assert!(
            sortable(datetime!(2024-05-01 10:00:05.1 UTC))
                < sortable(datetime!(2024-05-01 10:00:05.12 UTC))
        );
    }
}
