//! The in-process transport: a durable log per topic in a redb file, with committed
//! offsets per consumer group, so it keeps Kafka's promises inside one process. Events
//! handed to it survive a crash, a group resumes from its last committed offset, and a
//! failing event is parked on the topic's dead-letter list after its retries.
//!
//! Each topic is a single partition: order per key holds because order per topic does.
//! A group consumes each of its topics on its own task.
//!
//! The log is compacted ([`EventBus::compact`]): an entry goes once every group
//! consuming its topic has passed it and its retention is over. Dead-letter lists are
//! never compacted; parked events stay until they are replayed.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use doc_store::redb_file::{RedbFile, Unavailable, existing_table};
use event_contracts::Envelope;
use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use time::OffsetDateTime;
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    BusError, Delivered, EventBus, ParkedEvent, Subscription, deliver_with_retry,
    history::cutoff_before,
};

const OFFSETS: TableDefinition<&str, u64> = TableDefinition::new("offsets");

/// An offset and its event, or why the stored bytes could not be decoded.
type LogEntry = (u64, Result<Envelope, String>);
const BATCH: usize = 64;
/// How often an idle consumer looks at its topic even without a wake-up.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Log entries removed per write transaction: publishers and consumers waiting on the
/// write lock wait for one such batch at most.
const COMPACT_BATCH: usize = 512;

#[derive(Clone)]
pub struct InProcessBus {
    file: RedbFile<Shared>,
}

/// What the clones of a bus share beside the file.
#[derive(Default)]
struct Shared {
    wakers: Wakers,
    /// The groups consuming each topic in this process. A group holds its topic's log
    /// from its first subscription, before it has committed any offset.
    consumers: Mutex<HashMap<String, HashSet<String>>>,
    /// Held while compacting: every service sharing the bus asks on its own timer, and
    /// one walk at a time is enough.
    compacting: tokio::sync::Mutex<()>,
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
            file: RedbFile::open(path, "bus", doc_store::redb_file::DEFAULT_CACHE_BYTES)?,
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

    /// The events still in a topic's log, oldest first, for inspection: every event
    /// appended to it but those compaction has removed.
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
            self.file.state().wakers.of(&topic).notify_waiters();
        }
    }

    /// Removes from every topic's log the entries that occurred before `cutoff` and that
    /// every group consuming the topic has passed, a batch per write transaction;
    /// returns how many. A call while another compaction runs returns 0 at once.
    ///
    /// An entry's age is its event's `occurred_at`: the log keeps no time of its own,
    /// so files written before compaction existed compact the same way. In one process
    /// the relay appends an event milliseconds after it occurred; one that waited
    /// longer (an outbox backlog after a crash, a replayed parked event) is older on
    /// arrival and may go as soon as every group has passed it, which no consumer
    /// notices. Entries are removed from the front only, and only while they qualify,
    /// so the log stays one unbroken run of offsets.
    pub async fn compact_before(&self, cutoff: OffsetDateTime) -> Result<u64, BusError> {
        let Ok(_only_one) = self.file.state().compacting.try_lock() else {
            return Ok(0);
        };
        let mut removed = 0;
        for topic in self.topics().await? {
            loop {
                let consumers = self.file.state().consumers_of(&topic);
                let t = topic.clone();
                let (n, more) = self
                    .blocking(move |db| compact_batch(db, &t, &consumers, cutoff))
                    .await?;
                removed += n;
                if !more {
                    break;
                }
            }
        }
        Ok(removed)
    }
}

impl Shared {
    fn consumers_of(&self, topic: &str) -> Vec<String> {
        self.consumers
            .lock()
            .expect("consumer map lock")
            .get(topic)
            .map(|groups| groups.iter().cloned().collect())
            .unwrap_or_default()
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

/// The part of an entry compaction reads: when its event occurred.
#[derive(Deserialize)]
struct Occurred {
    #[serde(with = "time::serde::rfc3339")]
    occurred_at: OffsetDateTime,
}

/// The offset below which every group consuming `topic` has passed the log: the least
/// of their committed offsets, 0 while one of `consumers` has committed none, and
/// unbounded when no group has ever consumed it.
fn passed_by_every_group(
    txn: &redb::ReadTransaction,
    topic: &str,
    consumers: &[String],
) -> Result<u64, BusError> {
    let mut lowest = u64::MAX;
    let mut committed = HashSet::new();
    if let Some(offsets) = existing_table(txn, OFFSETS)? {
        let suffix = format!("\u{1f}{topic}");
        for entry in offsets.iter().map_err(unavailable)? {
            let (key, offset) = entry.map_err(unavailable)?;
            if let Some(group) = key.value().strip_suffix(suffix.as_str()) {
                lowest = lowest.min(offset.value());
                committed.insert(group.to_owned());
            }
        }
    }
    if consumers.iter().any(|group| !committed.contains(group)) {
        return Ok(0);
    }
    Ok(lowest)
}

/// Removes up to a batch of entries from the front of `topic`'s log that every group has
/// passed and that occurred before `cutoff`. They are chosen in a read transaction, so
/// the write lock is held only to remove them: offsets only move forward and only this
/// removes entries, so what qualified when read still does. Returns how many went and
/// whether more may qualify.
fn compact_batch(
    db: &Database,
    topic: &str,
    consumers: &[String],
    cutoff: OffsetDateTime,
) -> Result<(u64, bool), BusError> {
    let name = log_table(topic);
    let def = TableDefinition::<u64, &[u8]>::new(&name);
    let txn = db.begin_read().map_err(unavailable)?;
    let passed = passed_by_every_group(&txn, topic, consumers)?;
    let Some(log) = existing_table(&txn, def)? else {
        return Ok((0, false));
    };
    // The newest entry always stays: the next offset is counted on from it, and an
    // emptied log would start again at 0, behind every group's offset.
    let newest = match log.last().map_err(unavailable)? {
        Some((offset, _)) => offset.value(),
        None => return Ok((0, false)),
    };
    let mut chosen = Vec::new();
    let mut young = false;
    for entry in log
        .range(..passed.min(newest))
        .map_err(unavailable)?
        .take(COMPACT_BATCH)
    {
        let (offset, bytes) = entry.map_err(unavailable)?;
        // An entry that does not decode has no age; every group has skipped it already.
        if serde_json::from_slice::<Occurred>(bytes.value())
            .is_ok_and(|entry| entry.occurred_at >= cutoff)
        {
            young = true;
            break;
        }
        chosen.push(offset.value());
    }
    drop(log);
    drop(txn);
    if chosen.is_empty() {
        return Ok((0, false));
    }
    let txn = db.begin_write().map_err(unavailable)?;
    let mut removed = 0;
    {
        let mut log = txn.open_table(def).map_err(unavailable)?;
        for offset in &chosen {
            if log.remove(offset).map_err(unavailable)?.is_some() {
                removed += 1;
            }
        }
    }
    txn.commit().map_err(unavailable)?;
    Ok((removed, !young && chosen.len() == COMPACT_BATCH))
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
        {
            let mut consumers = self
                .file
                .state()
                .consumers
                .lock()
                .expect("consumer map lock");
            for topic in &subscription.topics {
                consumers
                    .entry(topic.clone())
                    .or_default()
                    .insert(subscription.group.clone());
            }
        }
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

    async fn compact(&self, retention: Duration) -> Result<u64, BusError> {
        match cutoff_before(retention) {
            Some(cutoff) => self.compact_before(cutoff).await,
            None => Ok(0),
        }
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
    let waker = bus.file.state().wakers.of(&topic);
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
