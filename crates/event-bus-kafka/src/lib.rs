//! The Kafka transport of the event-bus port, on rdkafka: one topic per event type,
//! created through the admin API at start-up (never by auto-creation); an idempotent
//! producer with `acks=all`, keyed by aggregate id so each aggregate's events stay in
//! order; each service consumes each of its topics in a consumer group of its own
//! ([`group_id`]), whose offset for a message is committed only after its handler
//! stored the effect; retries with backoff, then the event is parked
//! on `<topic>.dlq` with the error in its headers. The correlation id travels in the
//! message headers. This crate must never interpret an event: it moves envelopes.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use event_bus::{BusError, Delivered, EventBus, ParkedEvent, Subscription, deliver_with_retry};
use event_contracts::Envelope;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::{ClientContext, DefaultClientContext},
    consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer},
    message::{BorrowedMessage, Header, Headers, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
    types::RDKafkaErrorCode,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The consumer group that remembers how far each dead-letter topic was replayed.
const REPLAY_GROUP: &str = "shop-dlq-replay";
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`
    pub brokers: String,
    pub partitions: i32,
    pub replication: i32,
    /// Names this process in the broker's logs.
    pub client_id: String,
    /// How long a fetch may wait for data (`fetch.wait.max.ms`). Kafka answers a
    /// waiting fetch as soon as data arrives; brokers that hold it for the whole wait
    /// (tansu does) add this much latency to every event, so keep it short for them.
    pub fetch_wait_max_ms: u32,
    /// This replica's `group.instance.id` in every group it consumes in (static
    /// membership); `None` joins as a dynamic member.
    pub instance_id: Option<String>,
}

#[derive(Clone)]
pub struct KafkaBus {
    config: Arc<KafkaConfig>,
    producer: FutureProducer,
    /// Every consumer this bus started, by `group/topic`, and whether it consumes: a
    /// service is not ready while one does not.
    consumers: Arc<Mutex<Vec<Started>>>,
}

/// A consumer's `group/topic`, and whether it consumes now.
type Started = (String, Arc<AtomicBool>);

/// Tells whether a consumer has joined its group: set at its first assignment, even of
/// no partitions (a replica beyond the topic's partition count stands by, ready to take
/// over). A later rebalance does not clear it, so replicas do not flap out of service
/// while their group rebalances; the consumer's task ending does. librdkafka calls this
/// from the consumer's own poll, which `consume` runs.
struct Assignment {
    joined: Arc<AtomicBool>,
}

impl ClientContext for Assignment {}

impl ConsumerContext for Assignment {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            self.joined.store(true, Ordering::Release);
        }
    }
}

/// Marks a consumer as no longer consuming when its task ends, by shutdown or panic.
struct Consuming(Arc<AtomicBool>);

impl Drop for Consuming {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// The Kafka consumer group in which `service` consumes `topic`: `<service>.<topic>`
/// (service names have no dots). One group per service and topic, not one per
/// service: members of a group that subscribe to different topics still rebalance
/// together, and a member inside a long handler retry (an event waiting for the one it
/// follows, from another topic) does not rejoin until it polls again, so the whole
/// group, the topic it waits for included, would stall until it gave up. Instances of
/// a service still share each topic's partitions, and each service still gets every
/// event.
pub fn group_id(service: &str, topic: &str) -> String {
    format!("{service}.{topic}")
}

/// librdkafka backs off up to 10 s between reconnections; after a broker restart that
/// leaves topics idle for seconds after the broker is back. Kafka's Java clients cap
/// it at 1 s, and so do we.
const RECONNECT_BACKOFF_MAX_MS: &str = "1000";

impl KafkaBus {
    /// Connects and creates every event type's topic and dead-letter topic.
    pub async fn connect(config: KafkaConfig) -> Result<Self, BusError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("client.id", &config.client_id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", "30000")
            .set("reconnect.backoff.max.ms", RECONNECT_BACKOFF_MAX_MS)
            .create()
            .map_err(unavailable)?;
        let bus = Self {
            config: Arc::new(config),
            producer,
            consumers: Arc::default(),
        };
        let topics: Vec<String> = event_contracts::EVENT_TYPES
            .iter()
            .flat_map(|e| [e.event_type.to_owned(), dlq_topic(e.event_type)])
            .collect();
        bus.ensure_topics(&topics).await?;
        Ok(bus)
    }

    /// Creates the topics that do not exist yet; existing ones are left as they are.
    pub async fn ensure_topics(&self, topics: &[String]) -> Result<(), BusError> {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.config.brokers)
            .create()
            .map_err(unavailable)?;
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| {
                NewTopic::new(
                    t,
                    self.config.partitions,
                    TopicReplication::Fixed(self.config.replication),
                )
            })
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        for result in admin
            .create_topics(&new, &options)
            .await
            .map_err(unavailable)?
        {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(BusError::Unavailable(format!(
                        "creating topic {topic}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }

    async fn send(
        &self,
        topic: &str,
        event: &Envelope,
        headers: OwnedHeaders,
    ) -> Result<(), BusError> {
        let refused = |reason: String| BusError::Rejected {
            event_ids: vec![event.id.clone()],
            reason,
        };
        let payload = serde_json::to_vec(event).map_err(|e| refused(e.to_string()))?;
        let record = FutureRecord::to(topic)
            .key(&event.key)
            .payload(&payload)
            .headers(headers);
        self.producer
            .send(record, SEND_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|(e, _)| match e.rdkafka_error_code() {
                // What the broker (or librdkafka, before sending) will refuse however
                // often it is asked.
                Some(
                    RDKafkaErrorCode::MessageSizeTooLarge
                    | RDKafkaErrorCode::InvalidMessageSize
                    | RDKafkaErrorCode::InvalidMessage
                    | RDKafkaErrorCode::InvalidRecord
                    | RDKafkaErrorCode::MessageBatchTooLarge,
                ) => refused(e.to_string()),
                _ => unavailable(e),
            })
    }

    fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.config.brokers)
            .set("client.id", &self.config.client_id)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            // Nothing here writes transactionally, so read_committed (librdkafka's
            // default) would read the same records; and tansu 0.6.0 on PostgreSQL 15
            // fails its read_committed "latest offset" query (a subquery without an
            // alias, accepted from PostgreSQL 16), which the dead-letter reads ask for.
            .set("isolation.level", "read_uncommitted")
            .set(
                "fetch.wait.max.ms",
                self.config.fetch_wait_max_ms.to_string(),
            )
            .set("session.timeout.ms", "10000")
            .set("reconnect.backoff.max.ms", RECONNECT_BACKOFF_MAX_MS);
        config
    }

    /// Reads a dead-letter topic from the replay group's position to its end, with the
    /// positions just past what was read (what a replay commits once done).
    async fn read_parked(
        &self,
        topic: &str,
    ) -> Result<(Vec<(ParkedEvent, String)>, TopicPartitionList), BusError> {
        let consumer: BaseConsumer = self
            .consumer_config(REPLAY_GROUP)
            .create()
            .map_err(unavailable)?;
        let dlq = dlq_topic(topic);
        tokio::task::spawn_blocking(move || {
            let timeout = Duration::from_secs(10);
            let metadata = consumer
                .fetch_metadata(Some(&dlq), timeout)
                .map_err(unavailable)?;
            let partitions: Vec<i32> = metadata
                .topics()
                .iter()
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect();
            let mut wanted = TopicPartitionList::new();
            for p in &partitions {
                wanted.add_partition(&dlq, *p);
            }
            let committed = consumer
                .committed_offsets(wanted, timeout)
                .map_err(unavailable)?;
            let mut parked = Vec::new();
            let mut done = TopicPartitionList::new();
            for p in partitions {
                let (low, high) = consumer
                    .fetch_watermarks(&dlq, p, timeout)
                    .map_err(unavailable)?;
                let from = match committed.find_partition(&dlq, p).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => o,
                    _ => low,
                };
                if from >= high {
                    continue;
                }
                let mut assignment = TopicPartitionList::new();
                assignment
                    .add_partition_offset(&dlq, p, Offset::Offset(from))
                    .map_err(unavailable)?;
                consumer.assign(&assignment).map_err(unavailable)?;
                let mut next = from;
                while next < high {
                    let Some(message) = consumer.poll(timeout) else {
                        return Err(BusError::Unavailable(format!("{dlq} stopped answering")));
                    };
                    let message = message.map_err(unavailable)?;
                    next = message.offset() + 1;
                    parked.push(parked_from(&message)?);
                }
                done.add_partition_offset(&dlq, p, Offset::Offset(next))
                    .map_err(unavailable)?;
            }
            Ok((parked, done))
        })
        .await
        .map_err(unavailable)?
    }
}

fn header<'a>(message: &'a BorrowedMessage<'_>, name: &str) -> Option<&'a str> {
    message.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
    })
}

fn parked_from(message: &BorrowedMessage<'_>) -> Result<(ParkedEvent, String), BusError> {
    let event: Envelope =
        serde_json::from_slice(message.payload().unwrap_or_default()).map_err(unavailable)?;
    let parked = ParkedEvent {
        group: header(message, "group").unwrap_or_default().to_owned(),
        error: header(message, "error").unwrap_or_default().to_owned(),
        attempts: header(message, "attempts")
            .and_then(|a| a.parse().ok())
            .unwrap_or_default(),
        event,
    };
    let topic = header(message, "original_topic")
        .map(str::to_owned)
        .unwrap_or_else(|| parked.event.event_type.clone());
    Ok((parked, topic))
}

/// What a parked event carries besides itself: why, who gave up, after how many
/// attempts, and the topic it came from (for replay).
fn park_headers(error: &str, group: &str, attempts: u32, topic: &str) -> OwnedHeaders {
    OwnedHeaders::new()
        .insert(Header {
            key: "error",
            value: Some(error),
        })
        .insert(Header {
            key: "group",
            value: Some(group),
        })
        .insert(Header {
            key: "attempts",
            value: Some(attempts.to_string().as_str()),
        })
        .insert(Header {
            key: "original_topic",
            value: Some(topic),
        })
}

fn event_headers(event: &Envelope) -> OwnedHeaders {
    OwnedHeaders::new()
        .insert(Header {
            key: "correlation_id",
            value: Some(event.correlation_id.as_str()),
        })
        .insert(Header {
            key: "event_id",
            value: Some(event.id.as_str()),
        })
        .insert(Header {
            key: "event_type",
            value: Some(event.event_type.as_str()),
        })
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError> {
        // Every event handed to librdkafka at once, in order, and the acks awaited
        // together: it batches them per partition, and the idempotent producer keeps
        // per-key order with several requests in flight. The relay deletes its batch
        // only after every event is acked (or refused for good).
        let sends = events
            .iter()
            .map(|event| self.send(&event.event_type, event, event_headers(event)));
        let mut refused = Vec::new();
        let mut reasons = Vec::new();
        let mut outage = None;
        for result in futures::future::join_all(sends).await {
            match result {
                Ok(()) => {}
                Err(BusError::Rejected { event_ids, reason }) => {
                    refused.extend(event_ids);
                    reasons.push(reason);
                }
                Err(e) => outage = Some(e),
            }
        }
        match outage {
            Some(e) => Err(e),
            None if refused.is_empty() => Ok(()),
            None => Err(BusError::Rejected {
                event_ids: refused,
                reason: reasons.join("; "),
            }),
        }
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError> {
        // One consumer per topic, each in a group of its own: an event retried while it
        // waits for its cause on another topic must not hold that topic up.
        let mut workers = Vec::new();
        let shutdown_all = shutdown.clone();
        for topic in &subscription.topics {
            let mut config = self.consumer_config(&group_id(&subscription.group, topic));
            if let Some(instance) = &self.config.instance_id {
                // A restarted replica rejoins as the member it was: no wait for the
                // dead member's session to expire, and no rebalance.
                config.set("group.instance.id", instance);
            }
            // The consumer polls only between events, and one event may be retried
            // through a whole early or outage wait: librdkafka must not take it for a
            // dead member (and rebalance its group) meanwhile.
            let retry = &subscription.retry;
            let longest_handling = retry.early_wait.max(retry.outage_wait)
                + retry.max_backoff * retry.max_attempts
                + Duration::from_secs(60);
            let max_poll_interval = longest_handling.as_millis().clamp(300_000, 86_400_000);
            config.set("max.poll.interval.ms", max_poll_interval.to_string());
            let joined = Arc::new(AtomicBool::new(false));
            let consumer: StreamConsumer<Assignment> = config
                .create_with_context(Assignment {
                    joined: joined.clone(),
                })
                .map_err(unavailable)?;
            consumer.subscribe(&[topic]).map_err(unavailable)?;
            self.consumers
                .lock()
                .expect("no holder of this lock panics")
                .push((format!("{}/{topic}", subscription.group), joined.clone()));
            workers.push(tokio::spawn(consume(
                self.clone(),
                consumer,
                subscription.clone(),
                topic.clone(),
                shutdown.clone(),
                Consuming(joined),
            )));
        }
        // Ends when any worker ends: before shutdown, that is a consumer that died (or
        // was fenced), and the service must hear of it, not wait on the others.
        Ok(tokio::spawn(async move {
            let (first, _, rest) = futures::future::select_all(workers).await;
            if let Err(e) = first {
                tracing::error!(error = %e, "kafka consumer task panicked");
            }
            if shutdown_all.is_cancelled() {
                for worker in rest {
                    if let Err(e) = worker.await {
                        tracing::error!(error = %e, "kafka consumer task panicked");
                    }
                }
            }
        }))
    }

    fn consumers_waiting(&self) -> Vec<String> {
        self.consumers
            .lock()
            .expect("no holder of this lock panics")
            .iter()
            .filter(|(_, joined)| !joined.load(Ordering::Acquire))
            .map(|(name, _)| name.clone())
            .collect()
    }

    async fn parked(&self, topic: &str) -> Result<Vec<ParkedEvent>, BusError> {
        let (parked, _) = self.read_parked(topic).await?;
        Ok(parked.into_iter().map(|(p, _)| p).collect())
    }

    async fn replay_parked(&self, topic: &str) -> Result<usize, BusError> {
        let (parked, read_up_to) = self.read_parked(topic).await?;
        for (p, original) in &parked {
            self.send(original, &p.event, event_headers(&p.event))
                .await?;
        }
        // Only once every event is back on its topic does the replay group move on, and
        // only past what was replayed: an event parked meanwhile stays parked. A crash
        // in between replays them again, which idempotent consumers absorb.
        if read_up_to.count() > 0 {
            let consumer: BaseConsumer = self
                .consumer_config(REPLAY_GROUP)
                .create()
                .map_err(unavailable)?;
            tokio::task::spawn_blocking(move || consumer.commit(&read_up_to, CommitMode::Sync))
                .await
                .map_err(unavailable)?
                .map_err(unavailable)?;
        }
        Ok(parked.len())
    }
}

async fn consume(
    bus: KafkaBus,
    consumer: StreamConsumer<Assignment>,
    subscription: Subscription,
    topic: String,
    shutdown: CancellationToken,
    _consuming: Consuming,
) {
    let Subscription {
        group,
        handler,
        retry,
        metrics,
        ..
    } = subscription;
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return,
            m = consumer.recv() => m,
        };
        let message = match message {
            Ok(m) => m,
            // Another member took this one's static id: it must stop, and the service
            // with it, rather than fight over the partitions.
            Err(e)
                if matches!(
                    e.rdkafka_error_code(),
                    Some(RDKafkaErrorCode::FencedInstanceId | RDKafkaErrorCode::Fatal)
                ) =>
            {
                tracing::error!(%group, %topic, error = %e, "kafka consumer fenced or failed for good; it stops");
                return;
            }
            Err(e) => {
                tracing::warn!(%group, %topic, error = %e, "kafka receive failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let decoded: Result<Envelope, _> =
            serde_json::from_slice(message.payload().unwrap_or_default());
        let outcome = match &decoded {
            Ok(event) => tokio::select! {
                // Not committed: redelivered after restart, absorbed by idempotency.
                _ = shutdown.cancelled() => return,
                o = deliver_with_retry(handler.as_ref(), event, &group, &retry, &metrics) => o,
            },
            Err(e) => Delivered::Exhausted {
                attempts: 0,
                error: format!("undecodable event: {e}"),
            },
        };
        if let Delivered::Exhausted { attempts, error } = outcome {
            metrics.parked(&topic);
            tracing::error!(%group, %topic, offset = message.offset(), %error, "event parked");
            // Until it is parked, the event's offset must not be committed: the next
            // record's commit would move the group past it and lose it.
            loop {
                let headers = park_headers(&error, &group, attempts, &topic);
                let parked = match &decoded {
                    Ok(event) => bus.send(&dlq_topic(&topic), event, headers).await,
                    Err(_) => {
                        let dlq = dlq_topic(&topic);
                        let record = FutureRecord::<[u8], [u8]>::to(&dlq)
                            .payload(message.payload().unwrap_or_default())
                            .headers(headers);
                        bus.producer
                            .send(record, SEND_TIMEOUT)
                            .await
                            .map(|_| ())
                            .map_err(|(e, _)| unavailable(e))
                    }
                };
                let Err(e) = parked else { break };
                tracing::error!(%group, %topic, error = %e, "cannot park event; retrying");
                tokio::select! {
                    // Not committed: redelivered after restart.
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
        if let Err(e) = consumer.commit_message(&message, CommitMode::Sync) {
            tracing::warn!(%group, %topic, error = %e, "offset commit failed; event may repeat");
        }
    }
}
