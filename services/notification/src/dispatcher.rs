//! The background task that takes pending deliveries to their channels, retrying with
//! backoff. It is the only place a channel is called: event handlers just store a
//! pending delivery, so a dead channel never slows or fails the consumption of events.

use std::{collections::HashMap, sync::Arc, time::Duration};

use doc_store::{DocumentStore, Query, SortOrder, StoreError, Versioned};
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    channel::Channel,
    domain::{Delivery, DeliveryPolicy, DeliveryStatus, Outcome},
    store::{DELIVERIES, NOTIFICATIONS},
};

/// Deliveries looked at per pass.
const BATCH: u64 = 64;
/// Attempts in flight at once, so one slow receiver does not hold up the rest.
const CONCURRENCY: usize = 8;
/// How long a claimed delivery is kept from other dispatchers (replicas of this
/// service). Well above any channel's own timeout; if the process dies mid-attempt,
/// the delivery is picked up again once it runs out.
const LEASE: Duration = Duration::from_secs(60);
/// The longest the dispatcher sleeps without a wake-up, to notice deliveries that
/// another replica stored or a failed pass left behind.
const IDLE_POLL: Duration = Duration::from_secs(5);

pub struct Dispatcher {
    store: Arc<dyn DocumentStore>,
    channels: HashMap<&'static str, Arc<dyn Channel>>,
    policy: DeliveryPolicy,
    wake: Arc<Notify>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn DocumentStore>,
        channels: Vec<Arc<dyn Channel>>,
        policy: DeliveryPolicy,
    ) -> Self {
        Self {
            store,
            channels: channels.into_iter().map(|c| (c.name(), c)).collect(),
            policy,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Notified after new deliveries are stored, so they go out without waiting for a
    /// poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown`; attempts already in flight then finish, no new ones start.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let pause = match self.pass(&shutdown).await {
                    Ok(next_due) => next_due.map_or(IDLE_POLL, |at| {
                        Duration::try_from(at - OffsetDateTime::now_utc())
                            .unwrap_or(Duration::ZERO)
                            .min(IDLE_POLL)
                    }),
                    Err(e) => {
                        tracing::error!(error = %e, "notification dispatch failed; retrying");
                        IDLE_POLL
                    }
                };
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        })
    }

    /// Attempts every due delivery of one batch; returns when the next one is due.
    async fn pass(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let query = Query::eq("status", "pending")
            .sort_by("next_attempt_at", SortOrder::Asc)
            .page(0, BATCH);
        let pending = DELIVERIES.find(self.store.as_ref(), &query).await?;
        let now = OffsetDateTime::now_utc();
        let (due, later): (Vec<_>, Vec<_>) = pending
            .items
            .into_iter()
            .partition(|d| d.value.next_attempt_at <= now);
        // After attempts, look again at once: they moved their deliveries' due times,
        // and a full batch may have more due deliveries behind it.
        let next_due = if due.is_empty() {
            later.first().map(|d| d.value.next_attempt_at)
        } else {
            Some(now)
        };
        futures::stream::iter(due)
            .take_until(shutdown.cancelled())
            .for_each_concurrent(CONCURRENCY, |d| self.attempt(d))
            .await;
        Ok(next_due)
    }

    async fn attempt(&self, due: Versioned<Delivery>) {
        let id = due.id.clone();
        if let Err(e) = self.try_attempt(due).await {
            // The delivery stays pending (or leased) and is tried again later.
            tracing::warn!(delivery = %id, error = %e, "could not record a delivery attempt");
        }
    }

    async fn try_attempt(&self, due: Versioned<Delivery>) -> Result<(), StoreError> {
        let claimed = due.value.claimed(OffsetDateTime::now_utc(), LEASE);
        match self
            .store
            .commit(vec![DELIVERIES.update(&due, &claimed)])
            .await
        {
            // Another dispatcher claimed it first; the attempt is theirs.
            Err(StoreError::VersionConflict { .. }) => return Ok(()),
            other => other?,
        }
        let claimed = Versioned {
            id: due.id,
            version: due.version + 1,
            value: claimed,
        };
        let outcome = self.send(&claimed.value).await;
        let settled = claimed
            .value
            .settled(outcome, &self.policy, OffsetDateTime::now_utc());
        log_settled(&claimed.id, &settled);
        self.store
            .commit(vec![DELIVERIES.update(&claimed, &settled)])
            .await
    }

    async fn send(&self, delivery: &Delivery) -> Outcome {
        let Some(channel) = self.channels.get(delivery.channel.as_str()) else {
            return Outcome::Impossible(format!("channel {} is not configured", delivery.channel));
        };
        let notification = match NOTIFICATIONS
            .get(self.store.as_ref(), &delivery.notification_id)
            .await
        {
            Ok(Some(n)) => n.value,
            Ok(None) => return Outcome::Impossible("the notification no longer exists".into()),
            Err(e) => return Outcome::Failed(format!("reading the notification: {e}")),
        };
        match channel.deliver(&notification).await {
            Ok(()) => Outcome::Delivered,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

fn log_settled(id: &str, d: &Delivery) {
    let error = d.last_error.as_deref().unwrap_or_default();
    match d.status {
        DeliveryStatus::Delivered => tracing::debug!(
            delivery = id,
            attempts = d.attempts,
            "notification delivered"
        ),
        DeliveryStatus::Pending => tracing::warn!(
            delivery = id,
            attempts = d.attempts,
            error,
            "notification delivery failed; will retry"
        ),
        DeliveryStatus::Failed => tracing::error!(
            delivery = id,
            attempts = d.attempts,
            error,
            "notification delivery given up"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use async_trait::async_trait;
    use doc_store::EmbeddedStore;
    use event_contracts::{Envelope, OrderCompleted};

    use super::*;
    use crate::{channel::ChannelError, domain::Notification, store::COLLECTIONS};

    /// Counts what it is handed, slowly enough for attempts to overlap.
    #[derive(Default)]
    struct CountingChannel(AtomicU32);

    #[async_trait]
    impl Channel for CountingChannel {
        fn name(&self) -> &'static str {
            "counting"
        }
        async fn deliver(&self, _: &Notification) -> Result<(), ChannelError> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A store holding one notification with a pending delivery on `channel`.
    async fn store_with_pending(channel: &str) -> (Arc<dyn DocumentStore>, String) {
        let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
        store.ensure_collections(COLLECTIONS).await.unwrap();
        let event = Envelope::new(
            &OrderCompleted {
                order_id: "o1".into(),
                user_id: "u1".into(),
            },
            "c",
        );
        let n = crate::domain::compose(&event).unwrap().unwrap();
        let now = OffsetDateTime::now_utc();
        let id = Delivery::id(&n.id, channel);
        store
            .commit(vec![
                NOTIFICATIONS.insert(&n.id, &n),
                DELIVERIES.insert(&id, &Delivery::pending(&n.id, channel, now)),
            ])
            .await
            .unwrap();
        (store, id)
    }

    async fn delivery(store: &Arc<dyn DocumentStore>, id: &str) -> Delivery {
        DELIVERIES
            .get(store.as_ref(), id)
            .await
            .unwrap()
            .unwrap()
            .value
    }

    #[tokio::test]
    async fn two_dispatchers_racing_for_a_delivery_send_it_once() {
        let (store, id) = store_with_pending("counting").await;
        let channel = Arc::new(CountingChannel::default());
        let replica = || {
            Dispatcher::new(
                store.clone(),
                vec![channel.clone() as Arc<dyn Channel>],
                DeliveryPolicy::default(),
            )
        };
        let (a, b) = (replica(), replica());
        let shutdown = CancellationToken::new();
        let (first, second) = tokio::join!(a.pass(&shutdown), b.pass(&shutdown));
        first.unwrap();
        second.unwrap();

        assert_eq!(channel.0.load(Ordering::SeqCst), 1);
        let d = delivery(&store, &id).await;
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(d.attempts, 1);
    }

    #[tokio::test]
    async fn a_delivery_for_a_channel_no_longer_configured_fails_at_once() {
        let (store, id) = store_with_pending("sms").await;
        let dispatcher = Dispatcher::new(
            store.clone(),
            vec![Arc::new(CountingChannel::default())],
            DeliveryPolicy::default(),
        );
        dispatcher.pass(&CancellationToken::new()).await.unwrap();

        let d = delivery(&store, &id).await;
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert_eq!(
            d.last_error.as_deref(),
            Some("channel sms is not configured")
        );
    }

    #[tokio::test]
    async fn a_delivery_not_yet_due_is_left_alone_and_reported_as_next() {
        let (store, id) = store_with_pending("counting").await;
        let current = DELIVERIES.get(store.as_ref(), &id).await.unwrap().unwrap();
        let later = OffsetDateTime::now_utc() + Duration::from_secs(30);
        let postponed = Delivery {
            next_attempt_at: later,
            ..current.value.clone()
        };
        store
            .commit(vec![DELIVERIES.update(&current, &postponed)])
            .await
            .unwrap();
        let channel = Arc::new(CountingChannel::default());
        let dispatcher = Dispatcher::new(
            store.clone(),
            vec![channel.clone() as Arc<dyn Channel>],
            DeliveryPolicy::default(),
        );

        let next = dispatcher.pass(&CancellationToken::new()).await.unwrap();
        assert_eq!(next, Some(later));
        assert_eq!(channel.0.load(Ordering::SeqCst), 0);
        assert_eq!(delivery(&store, &id).await.attempts, 0);
    }
}
