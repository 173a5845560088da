//! What keeps a consuming service's event history bounded: its processed-event markers
//! and the bus's log are pruned on a timer, each once its retention is over.

use std::{sync::Arc, time::Duration};

use doc_store::DocumentStore;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{BoxError, EventBus, prune_processed_events};

/// How long event history is kept, and how often it is pruned.
///
/// A marker must outlive every redelivery of its event, or the event would be applied
/// twice; an event can be delivered again for as long as it is in the log, so markers
/// are kept longer than log entries (the settings refuse anything else).
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
}

impl HistoryPruner {
    pub fn new(
        store: Arc<dyn DocumentStore>,
        bus: Arc<dyn EventBus>,
        retention: Retention,
    ) -> Self {
        Self {
            store,
            bus,
            retention,
        }
    }

    /// One pass: the markers past their retention, then the log's entries past theirs.
    pub async fn prune(&self) -> Result<Pruned, BoxError> {
        let markers = match cutoff_before(self.retention.processed_events) {
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
