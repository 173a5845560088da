//! The in-process transport: a durable log per topic in a redb file, with committed
//! offsets per consumer group, so it keeps Kafka's promises inside one process. Events
//! handed to it survive a crash, a group resumes from its last committed offset, and a
//! failing event is parked on the topic's dead-letter list after its retries.
//!
//! Each topic is a single partition: order per key holds because order per topic does.
//! A group consumes each of its topics on its own task.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use event_contracts::Envelope;
use redb::{
    Database, ReadableDatabase, ReadableTable, TableDefinition, TableError, TableHandle,
    backends::InMemoryBackend,
};
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{BusError, Delivered, EventBus, ParkedEvent, Subscription, deliver_with_retry};

const OFFSETS: TableDefinition<&str, u64> = TableDefinition::new("offsets");

/// An offset and its event, or why the stored bytes could not be decoded.
type LogEntry = (u64, Result<Envelope, String>);
const BATCH: usize = 64;
/// How often an idle consumer looks at its topic even without a wake-up.
const IDLE_POLL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

fn log_table(topic: &str) -> String {
    format!("log/{topic}")
}

fn dlq_table(topic: &str) -> String {
    format!("dlq/{topic}")
}

fn offset_key(group: &str, topic: &str) -> String {
    format!("{group}\u{1f}{topic}")
}

impl InProcessBus {
    pub fn open(path: &Path) -> Result<Self, BusError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(unavailable)?;
        }
        Ok(Self::from_db(Database::create(path).map_err(unavailable)?))
    }

    pub fn in_memory() -> Self {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .expect("an in-memory redb database always opens");
        Self::from_db(db)
    }

    fn from_db(db: Database) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                wakers: Mutex::new(HashMap::new()),
            }),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, BusError> + Send + 'static,
    ) -> Result<T, BusError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| BusError::Unavailable(format!("bus task failed: {e}")))?
    }

    /// Every topic that has a log, for inspection (tests, tools).
    pub async fn topics(&self) -> Result<Vec<String>, BusError> {
        self.blocking(|inner| {
            let txn = inner.db.begin_read().map_err(unavailable)?;
            let tables = txn.list_tables().map_err(unavailable)?;
            Ok(tables
                .filter_map(|t| t.name().strip_prefix("log/").map(str::to_owned))
                .collect())
        })
        .await
    }

    /// Every event ever appended to a topic, oldest first, for inspection.
    pub async fn topic_log(&self, topic: &str) -> Result<Vec<Envelope>, BusError> {
        let topic = topic.to_owned();
        self.blocking(move |inner| {
            let txn = inner.db.begin_read().map_err(unavailable)?;
            let name = log_table(&topic);
            let log = match txn.open_table(TableDefinition::<u64, &[u8]>::new(&name)) {
                Ok(log) => log,
                Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(unavailable(e)),
            };
            log.iter()
                .map_err(unavailable)?
                .map(|entry| {
                    let (_, bytes) = entry.map_err(unavailable)?;
                    serde_json::from_slice(bytes.value()).map_err(unavailable)
                })
                .collect()
        })
        .await
    }

    fn wake(&self, topics: impl IntoIterator<Item = String>) {
        for topic in topics {
            self.inner.waker(&topic).notify_waiters();
        }
    }
}

impl Inner {
    fn waker(&self, topic: &str) -> Arc<Notify> {
        self.wakers
            .lock()
            .expect("waker map lock")
            .entry(topic.to_owned())
            .or_default()
            .clone()
    }

    fn append(&self, events: &[Envelope]) -> Result<(), BusError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        for event in events {
            let name = log_table(&event.event_type);
            let mut log = txn
                .open_table(TableDefinition::<u64, &[u8]>::new(&name))
                .map_err(unavailable)?;
            let next = log
                .last()
                .map_err(unavailable)?
                .map_or(0, |(offset, _)| offset.value() + 1);
            let bytes = serde_json::to_vec(event).map_err(unavailable)?;
            log.insert(next, bytes.as_slice()).map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)
    }

    /// Up to a batch of entries from the group's next offset.
    fn read_batch(&self, group: &str, topic: &str) -> Result<Vec<LogEntry>, BusError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let from = match txn.open_table(OFFSETS) {
            Ok(offsets) => offsets
                .get(offset_key(group, topic).as_str())
                .map_err(unavailable)?
                .map_or(0, |v| v.value()),
            Err(TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(unavailable(e)),
        };
        let name = log_table(topic);
        let log = match txn.open_table(TableDefinition::<u64, &[u8]>::new(&name)) {
            Ok(log) => log,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(e)),
        };
        log.range(from..)
            .map_err(unavailable)?
            .take(BATCH)
            .map(|entry| {
                let (offset, bytes) = entry.map_err(unavailable)?;
                let event = serde_json::from_slice(bytes.value())
                    .map_err(|e| format!("undecodable event at offset {}: {e}", offset.value()));
                Ok((offset.value(), event))
            })
            .collect()
    }

    /// Moves the group past `offset`, parking the event first when it could not be handled.
    fn acknowledge(
        &self,
        group: &str,
        topic: &str,
        offset: u64,
        parked: Option<&ParkedEvent>,
    ) -> Result<(), BusError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        if let Some(parked) = parked {
            let name = dlq_table(topic);
            let mut dlq = txn
                .open_table(TableDefinition::<u64, &[u8]>::new(&name))
                .map_err(unavailable)?;
            let next = dlq
                .last()
                .map_err(unavailable)?
                .map_or(0, |(k, _)| k.value() + 1);
            let bytes = serde_json::to_vec(parked).map_err(unavailable)?;
            dlq.insert(next, bytes.as_slice()).map_err(unavailable)?;
        }
        txn.open_table(OFFSETS)
            .map_err(unavailable)?
            .insert(offset_key(group, topic).as_str(), offset + 1)
            .map_err(unavailable)?;
        txn.commit().map_err(unavailable)
    }

    fn parked(&self, topic: &str) -> Result<Vec<ParkedEvent>, BusError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let name = dlq_table(topic);
        let dlq = match txn.open_table(TableDefinition::<u64, &[u8]>::new(&name)) {
            Ok(dlq) => dlq,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(e)),
        };
        dlq.iter()
            .map_err(unavailable)?
            .map(|entry| {
                let (_, bytes) = entry.map_err(unavailable)?;
                serde_json::from_slice(bytes.value()).map_err(unavailable)
            })
            .collect()
    }

    /// Moves a topic's parked events back onto its log. The dead-letter list is read,
    /// re-appended and cleared in one write transaction: an event parked meanwhile
    /// waits for the transaction and stays parked, rather than being cleared unreplayed.
    fn take_parked(&self, topic: &str) -> Result<Vec<ParkedEvent>, BusError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        let parked: Vec<ParkedEvent> = {
            let dlq = txn
                .open_table(TableDefinition::<u64, &[u8]>::new(&dlq_table(topic)))
                .map_err(unavailable)?;
            dlq.iter()
                .map_err(unavailable)?
                .map(|entry| {
                    let (_, bytes) = entry.map_err(unavailable)?;
                    serde_json::from_slice(bytes.value()).map_err(unavailable)
                })
                .collect::<Result<_, _>>()?
        };
        if parked.is_empty() {
            return Ok(parked);
        }
        {
            let mut log = txn
                .open_table(TableDefinition::<u64, &[u8]>::new(&log_table(topic)))
                .map_err(unavailable)?;
            let next = log
                .last()
                .map_err(unavailable)?
                .map_or(0, |(k, _)| k.value() + 1);
            for (offset, p) in (next..).zip(&parked) {
                let bytes = serde_json::to_vec(&p.event).map_err(unavailable)?;
                log.insert(offset, bytes.as_slice()).map_err(unavailable)?;
            }
        }
        txn.delete_table(TableDefinition::<u64, &[u8]>::new(&dlq_table(topic)))
            .map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(parked)
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let batch = events.to_vec();
        let topics: Vec<String> = events.iter().map(|e| e.event_type.clone()).collect();
        self.blocking(move |inner| inner.append(&batch)).await?;
        self.wake(topics);
        Ok(())
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError> {
        let workers: Vec<JoinHandle<()>> = subscription
            .topics
            .iter()
            .map(|topic| {
                tokio::spawn(consume(
                    self.clone(),
                    subscription.clone(),
                    topic.clone(),
                    shutdown.clone(),
                ))
            })
            .collect();
        Ok(tokio::spawn(async move {
            for worker in workers {
                if let Err(e) = worker.await {
                    tracing::error!(error = %e, "consumer task panicked");
                }
            }
        }))
    }

    async fn parked(&self, topic: &str) -> Result<Vec<ParkedEvent>, BusError> {
        let topic = topic.to_owned();
        self.blocking(move |inner| inner.parked(&topic)).await
    }

    async fn replay_parked(&self, topic: &str) -> Result<usize, BusError> {
        let owned = topic.to_owned();
        let replayed = self
            .blocking(move |inner| inner.take_parked(&owned))
            .await?
            .len();
        self.wake([topic.to_owned()]);
        Ok(replayed)
    }
}

async fn consume(
    bus: InProcessBus,
    subscription: Subscription,
    topic: String,
    shutdown: CancellationToken,
) {
    let Subscription {
        group,
        handler,
        retry,
        metrics,
        ..
    } = subscription;
    let waker = bus.inner.waker(&topic);
    while !shutdown.is_cancelled() {
        // Registered before reading, so a publish between the read and the wait still wakes us.
        let woken = waker.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();

        let (g, t) = (group.clone(), topic.clone());
        let batch = match bus.blocking(move |inner| inner.read_batch(&g, &t)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(%group, %topic, error = %e, "cannot read the event log");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(IDLE_POLL) => continue,
                }
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = &mut woken => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
            continue;
        }
        for (offset, event) in batch {
            let outcome = match &event {
                Ok(event) => tokio::select! {
                    // An interrupted handler stored nothing or everything (its store write
                    // is atomic); its event is redelivered on the next start either way.
                    _ = shutdown.cancelled() => return,
                    outcome = deliver_with_retry(handler.as_ref(), event, &group, &retry, &metrics) => outcome,
                },
                Err(reason) => Delivered::Exhausted {
                    attempts: 0,
                    error: reason.clone(),
                },
            };
            let parked = match (outcome, event) {
                (Delivered::Handled { .. }, _) => None,
                (Delivered::Exhausted { attempts, error }, Ok(event)) => {
                    metrics.parked(&event.event_type);
                    tracing::error!(%group, %topic, event_id = %event.id, %error, "event parked");
                    Some(ParkedEvent {
                        event,
                        group: group.clone(),
                        error,
                        attempts,
                    })
                }
                (Delivered::Exhausted { error, .. }, Err(_)) => {
                    // Nothing to replay: an entry we cannot decode is skipped loudly.
                    tracing::error!(%group, %topic, offset, %error, "skipping undecodable event");
                    None
                }
            };
            let (g, t) = (group.clone(), topic.clone());
            let ack = bus
                .blocking(move |inner| inner.acknowledge(&g, &t, offset, parked.as_ref()))
                .await;
            if let Err(e) = ack {
                // The offset stays put, so the event is handled again: at least once.
                tracing::error!(%group, %topic, offset, error = %e, "cannot commit offset");
                break;
            }
        }
    }
}
