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
use doc_store::redb_file::{RedbFile, Unavailable, existing_table};
use event_contracts::Envelope;
use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, TableHandle};
use serde::{Serialize, de::DeserializeOwned};
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
    file: RedbFile<Wakers>,
}

/// One wake-up per topic, so that a publish rouses the topic's idle consumers at once.
#[derive(Default)]
struct Wakers(Mutex<HashMap<String, Arc<Notify>>>);

impl From<Unavailable> for BusError {
    fn from(e: Unavailable) -> Self {
        BusError::Unavailable(e.0)
    }
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    Unavailable::because(e).into()
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
        Ok(Self {
            file: RedbFile::open(path, "bus")?,
        })
    }

    pub fn in_memory() -> Self {
        Self {
            file: RedbFile::in_memory("bus"),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, BusError> + Send + 'static,
    ) -> Result<T, BusError> {
        self.file.run(|db, _| work(db)).await
    }

    /// Every topic that has a log, for inspection (tests, tools).
    pub async fn topics(&self) -> Result<Vec<String>, BusError> {
        self.blocking(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
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
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let name = log_table(&topic);
            match existing_table(&txn, TableDefinition::<u64, &[u8]>::new(&name))? {
                Some(log) => decode_all(&log),
                None => Ok(Vec::new()),
            }
        })
        .await
    }

    fn wake(&self, topics: impl IntoIterator<Item = String>) {
        for topic in topics {
            self.file.state().of(&topic).notify_waiters();
        }
    }
}

impl Wakers {
    fn of(&self, topic: &str) -> Arc<Notify> {
        self.0
            .lock()
            .expect("waker map lock")
            .entry(topic.to_owned())
            .or_default()
            .clone()
    }
}

/// Every entry of a log or dead-letter table, decoded, oldest first.
fn decode_all<T: DeserializeOwned>(
    table: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<Vec<T>, BusError> {
    table
        .iter()
        .map_err(unavailable)?
        .map(|entry| {
            let (_, bytes) = entry.map_err(unavailable)?;
            serde_json::from_slice(bytes.value()).map_err(unavailable)
        })
        .collect()
}

/// Appends `entry`, as JSON, to a log or dead-letter table, after its last entry.
fn push(table: &mut Table<u64, &'static [u8]>, entry: &impl Serialize) -> Result<(), BusError> {
    let next = table
        .last()
        .map_err(unavailable)?
        .map_or(0, |(offset, _)| offset.value() + 1);
    let bytes = serde_json::to_vec(entry).map_err(unavailable)?;
    table.insert(next, bytes.as_slice()).map_err(unavailable)?;
    Ok(())
}

fn append(db: &Database, events: &[Envelope]) -> Result<(), BusError> {
    let txn = db.begin_write().map_err(unavailable)?;
    for event in events {
        let name = log_table(&event.event_type);
        let mut log = txn
            .open_table(TableDefinition::<u64, &[u8]>::new(&name))
            .map_err(unavailable)?;
        push(&mut log, event)?;
    }
    txn.commit().map_err(unavailable)
}

/// Up to a batch of entries from the group's next offset.
fn read_batch(db: &Database, group: &str, topic: &str) -> Result<Vec<LogEntry>, BusError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let from = match existing_table(&txn, OFFSETS)? {
        Some(offsets) => offsets
            .get(offset_key(group, topic).as_str())
            .map_err(unavailable)?
            .map_or(0, |v| v.value()),
        None => 0,
    };
    let name = log_table(topic);
    let Some(log) = existing_table(&txn, TableDefinition::<u64, &[u8]>::new(&name))? else {
        return Ok(Vec::new());
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
    db: &Database,
    group: &str,
    topic: &str,
    offset: u64,
    parked: Option<&ParkedEvent>,
) -> Result<(), BusError> {
    let txn = db.begin_write().map_err(unavailable)?;
    if let Some(parked) = parked {
        let name = dlq_table(topic);
        let mut dlq = txn
            .open_table(TableDefinition::<u64, &[u8]>::new(&name))
            .map_err(unavailable)?;
        push(&mut dlq, parked)?;
    }
    txn.open_table(OFFSETS)
        .map_err(unavailable)?
        .insert(offset_key(group, topic).as_str(), offset + 1)
        .map_err(unavailable)?;
    txn.commit().map_err(unavailable)
}

fn parked(db: &Database, topic: &str) -> Result<Vec<ParkedEvent>, BusError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let name = dlq_table(topic);
    match existing_table(&txn, TableDefinition::<u64, &[u8]>::new(&name))? {
        Some(dlq) => decode_all(&dlq),
        None => Ok(Vec::new()),
    }
}

/// Moves a topic's parked events back onto its log. The dead-letter list is read,
/// re-appended and cleared in one write transaction: an event parked meanwhile
/// waits for the transaction and stays parked, rather than being cleared unreplayed.
fn take_parked(db: &Database, topic: &str) -> Result<Vec<ParkedEvent>, BusError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let parked: Vec<ParkedEvent> = decode_all(
        &txn.open_table(TableDefinition::<u64, &[u8]>::new(&dlq_table(topic)))
            .map_err(unavailable)?,
    )?;
    if parked.is_empty() {
        return Ok(parked);
    }
    {
        let mut log = txn
            .open_table(TableDefinition::<u64, &[u8]>::new(&log_table(topic)))
            .map_err(unavailable)?;
        for p in &parked {
            push(&mut log, &p.event)?;
        }
    }
    txn.delete_table(TableDefinition::<u64, &[u8]>::new(&dlq_table(topic)))
        .map_err(unavailable)?;
    txn.commit().map_err(unavailable)?;
    Ok(parked)
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let batch = events.to_vec();
        let topics: Vec<String> = events.iter().map(|e| e.event_type.clone()).collect();
        self.blocking(move |db| append(db, &batch)).await?;
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
        self.blocking(move |db| parked(db, &topic)).await
    }

    async fn replay_parked(&self, topic: &str) -> Result<usize, BusError> {
        let owned = topic.to_owned();
        let replayed = self
            .blocking(move |db| take_parked(db, &owned))
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
    let waker = bus.file.state().of(&topic);
    while !shutdown.is_cancelled() {
        // Registered before reading, so a publish between the read and the wait still wakes us.
        let woken = waker.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();

        let (g, t) = (group.clone(), topic.clone());
        let batch = match bus.blocking(move |db| read_batch(db, &g, &t)).await {
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
                .blocking(move |db| acknowledge(db, &g, &t, offset, parked.as_ref()))
                .await;
            if let Err(e) = ack {
                // The offset stays put, so the event is handled again: at least once.
                tracing::error!(%group, %topic, offset, error = %e, "cannot commit offset");
                break;
            }
        }
    }
}
