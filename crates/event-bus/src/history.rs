//! What keeps a consuming service's event history bounded: its processed-event markers
//! and the bus's log are pruned on a timer, each once its retention is over.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use doc_store::DocumentStore;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{BoxError, EventBus, prune_processed_events};

/// How long event history is kept, and how often it is pruned.
///
/// A marker must outlive every redelivery of its event, or the event would be applied
/// twice. An event can be delivered again for as long as it is in the log, so markers
/// are kept longer than log entries (the settings refuse anything else); and a parked
/// event can be replayed to every group at any time, so no marker younger than the
/// oldest event parked on the service's topics is pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// How long a processed-event marker is kept after its event was applied.
    pub processed_events: Duration,
    /// How long a log entry is kept after its event occurred, once every consumer group
    /// has passed it.
    pub event_log: Duration,
    /// How often the pruning runs.
    pub every: Duration,
}

/// The instant `retention` before now, or `None` when that is before time can be told
/// (nothing is that old).
pub(crate) fn cutoff_before(retention: Duration) -> Option<OffsetDateTime> {
    let retention = time::Duration::try_from(retention).ok()?;
    OffsetDateTime::now_utc().checked_sub(retention)
}

/// What one pruning pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub markers: u64,
    pub log_entries: u64,
}

/// Prunes one service's processed-event markers, and compacts the bus it consumes from.
/// Services that share one in-process bus each ask it to compact; it runs one
/// compaction at a time.
pub struct HistoryPruner {
    store: Arc<dyn DocumentStore>,
    bus: Arc<dyn EventBus>,
    retention: Retention,
    topics: WatchedTopics,
}

/// The topics a service consumes, whose parked events hold its markers back; shared
/// with the runtime, which adds to it as the service subscribes.
#[derive(Debug, Clone, Default)]
pub struct WatchedTopics(Arc<RwLock<Vec<String>>>);

impl WatchedTopics {
    pub fn add(&self, topics: &[&str]) {
        let mut watched = self.0.write().expect("topic list lock");
        for topic in topics {
            if !watched.iter().any(|t| t == topic) {
                watched.push(topic.to_string());
            }
        }
    }

    fn list(&self) -> Vec<String> {
        self.0.read().expect("topic list lock").clone()
    }
}

impl HistoryPruner {
    pub fn new(
        store: Arc<dyn DocumentStore>,
        bus: Arc<dyn EventBus>,
        retention: Retention,
        topics: WatchedTopics,
    ) -> Self {
        Self {
            store,
            bus,
            retention,
            topics,
        }
    }

    /// One pass: the markers past their retention, then the log's entries past theirs.
    pub async fn prune(&self) -> Result<Pruned, BoxError> {
        let mut cutoff = cutoff_before(self.retention.processed_events);
        for topic in self.topics.list() {
            for parked in self.bus.parked(&topic).await? {
                cutoff = cutoff.map(|c| c.min(parked.event.occurred_at));
            }
        }
        let markers = match cutoff {
            Some(cutoff) => prune_processed_events(self.store.as_ref(), cutoff).await?,
            None => 0,
        };
        let log_entries = self.bus.compact(self.retention.event_log).await?;
        Ok(Pruned {
            markers,
            log_entries,
        })
    }

    /// Prunes every `retention.every` until `shutdown`. The first pass waits one period,
    /// so start-up is not slowed by it. A pass cut short by shutdown leaves whole batches
    /// behind it (each is one atomic write), which the next start prunes.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(self.retention.every) => {}
                }
                let pruned = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    pruned = self.prune() => pruned,
                };
                match pruned {
                    Ok(pruned) if pruned != Pruned::default() => tracing::info!(
                        markers = pruned.markers,
                        log_entries = pruned.log_entries,
                        "event history pruned"
                    ),
                    Ok(_) => {}
                    // Nothing is lost by waiting: the next pass prunes what this one left.
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot prune event history; retrying later")
                    }
                }
            }
        })
    }
}
