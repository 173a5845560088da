use std::{collections::HashMap, sync::Arc, time::Duration};

use doc_store::{CollectionSpec, DocumentStore, Query, SortOrder, StoreError, Write};
use event_contracts::Envelope;
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{BusError, BusMetrics, EventBus};

/// The collection, in each service's own namespace, that holds events not yet published.
pub const OUTBOX: &str = "outbox";
/// The outbox, declared at start-up with the service's own collections: MongoDB then
/// never has to create it inside the first transaction that writes to it. The relay
/// reads it in id order, which needs no index of its own.
pub const OUTBOX_SPEC: CollectionSpec = CollectionSpec {
    name: OUTBOX,
    unique: &[],
    indexed: &[],
};
/// Where the relay sets aside an outbox entry that can never be published, with why:
/// one bad entry must not hold up every event behind it. A person looks at it; nothing
/// replays it.
pub const OUTBOX_PARKED: &str = "outbox_parked";
pub const OUTBOX_PARKED_SPEC: CollectionSpec = CollectionSpec {
    name: OUTBOX_PARKED,
    unique: &[],
    indexed: &[],
};
const RELAY_BATCH: u64 = 256;
/// The relay also looks without a wake-up, to pick up what another process or a
/// previous run left behind.
const RELAY_POLL: Duration = Duration::from_millis(500);

/// Commits a state change together with the events it causes. Events are ordered by
/// their ids (UUID v7, time-ordered), which the relay publishes in.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn DocumentStore>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(store: Arc<dyn DocumentStore>) -> Self {
        Self {
            store,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &dyn DocumentStore {
        self.store.as_ref()
    }

    /// Stores the writes and the events atomically, then nudges the relay. An event
    /// that does not validate against its contract schema (or has none) is refused with
    /// the whole batch: producers never publish off-contract events.
    pub async fn commit(
        &self,
        mut writes: Vec<Write>,
        events: Vec<Envelope>,
    ) -> Result<(), StoreError> {
        for event in &events {
            event_contracts::validate(event).map_err(|e| {
                StoreError::Rejected(format!(
                    "event {} v{} breaks its contract: {e}",
                    event.event_type, event.version
                ))
            })?;
        }
        let has_events = !events.is_empty();
        writes.extend(events.into_iter().map(|event| Write::Insert {
            collection: OUTBOX.into(),
            id: event.id.clone(),
            body: serde_json::to_value(&event).expect("an envelope always serialises"),
        }));
        self.store.commit(writes).await?;
        if has_events {
            self.wake.notify_one();
        }
        Ok(())
    }

    pub fn relay(&self, bus: Arc<dyn EventBus>, metrics: BusMetrics) -> OutboxRelay {
        OutboxRelay {
            store: self.store.clone(),
            wake: self.wake.clone(),
            bus,
            metrics,
        }
    }
}

/// Publishes outbox events to the bus, then deletes them. A crash between the two
/// publishes them again, which idempotent consumers absorb: at least once, never lost.
pub struct OutboxRelay {
    store: Arc<dyn DocumentStore>,
    wake: Arc<Notify>,
    bus: Arc<dyn EventBus>,
    metrics: BusMetrics,
}

impl OutboxRelay {
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let drained = match self.relay_batch().await {
                    Ok(n) => n < RELAY_BATCH,
                    Err(e) => {
                        tracing::error!(error = %e, "outbox relay failed; retrying");
                        true
                    }
                };
                if shutdown.is_cancelled() {
                    return;
                }
                if drained {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(RELAY_POLL) => {}
                        // One last pass after shutdown, for what the final requests stored.
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
        })
    }

    /// Publishes one batch; returns how many events it held.
    pub async fn relay_batch(&self) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
        let query = Query::all()
            .sort_by("_id", SortOrder::Asc)
            .page(0, RELAY_BATCH);
        let page = self.store.find(OUTBOX, &query).await?;
        // The outbox holds only what is not relayed yet, so counting it stays cheap.
        let backlog = self.store.count(OUTBOX, &Query::all()).await?;
        self.metrics.set_outbox_backlog(backlog);
        if page.items.is_empty() {
            return Ok(0);
        }
        // An entry that is not an event can never be published: set aside with why.
        let mut unpublishable: HashMap<String, String> = HashMap::new();
        let mut events = Vec::with_capacity(page.items.len());
        for doc in &page.items {
            match serde_json::from_value::<Envelope>(doc.body.clone()) {
                Ok(event) => events.push(event),
                Err(e) => {
                    unpublishable.insert(doc.id.clone(), format!("unreadable outbox entry: {e}"));
                }
            }
        }
        match self.bus.publish(&events).await {
            Ok(()) => {}
            // Refused for good: the rest were published; the refused are set aside.
            Err(BusError::Rejected { event_ids, reason }) => {
                for id in event_ids {
                    unpublishable.insert(id, format!("refused by the broker: {reason}"));
                }
            }
            // Nothing is deleted, so the next round publishes the batch again.
            Err(e) => return Err(e.into()),
        }
        for event in events.iter().filter(|e| !unpublishable.contains_key(&e.id)) {
            self.metrics.produced(&event.event_type);
        }
        let parked_at = time::OffsetDateTime::now_utc();
        let mut writes = Vec::with_capacity(page.items.len() + unpublishable.len());
        for doc in &page.items {
            if let Some(reason) = unpublishable.get(&doc.id) {
                tracing::error!(outbox_id = %doc.id, %reason, "an outbox entry can never be published; parked in {OUTBOX_PARKED}");
                writes.push(Write::Insert {
                    collection: OUTBOX_PARKED.into(),
                    id: doc.id.clone(),
                    body: serde_json::json!({
                        "entry": doc.body,
                        "reason": reason,
                        "parked_at": parked_at
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default(),
                    }),
                });
            }
            writes.push(Write::Delete {
                collection: OUTBOX.into(),
                id: doc.id.clone(),
                expected_version: doc.version,
            });
        }
        match self.store.commit(writes).await {
            Ok(()) => {
                for _ in 0..unpublishable.len() {
                    self.metrics.outbox_parked();
                }
            }
            // Another relay of the same service got there first; its writes stand.
            Err(StoreError::VersionConflict { .. } | StoreError::Duplicate { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.metrics
            .set_outbox_backlog(backlog.saturating_sub(page.items.len() as u64));
        Ok(page.items.len() as u64)
    }
}
