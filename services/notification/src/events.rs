//! What the notification service does with other services' events: each one a
//! customer should hear of becomes a stored notification plus a pending delivery per
//! configured channel. Channels are never called from here (see the dispatcher).

use std::sync::Arc;

use async_trait::async_trait;
use event_bus::{Applied, BoxError, EventHandler, Outbox, apply_once};
use event_contracts::Envelope;
use tokio::sync::Notify;

use crate::{
    domain::{self, Delivery, NotificationKind},
    store::{DELIVERIES, NOTIFICATIONS},
};

/// The topics consumed: one per [`NotificationKind`].
pub const TOPICS: &[&str] = &{
    let mut topics = [""; NotificationKind::ALL.len()];
    let mut i = 0;
    while i < topics.len() {
        topics[i] = NotificationKind::ALL[i].event_type();
        i += 1;
    }
    topics
};

pub struct NotificationEvents {
    pub outbox: Outbox,
    /// Names of the configured channels; each notification gets a delivery per name.
    pub channels: Vec<&'static str>,
    /// Wakes the dispatcher once new deliveries are stored.
    pub dispatcher: Arc<Notify>,
}

#[async_trait]
impl EventHandler for NotificationEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        let Some(notification) = domain::compose(event)? else {
            tracing::debug!(event_type = %event.event_type, "not a notification concern");
            return Ok(());
        };
        // The notification and its deliveries go in one batch with the event's marker:
        // a redelivered event changes nothing, and no notification is stored without
        // the deliveries that will send it.
        let mut writes = vec![NOTIFICATIONS.insert(&notification.id, &notification)];
        let now = time::OffsetDateTime::now_utc();
        writes.extend(self.channels.iter().map(|channel| {
            DELIVERIES.insert(
                Delivery::id(&notification.id, channel),
                &Delivery::pending(&notification.id, channel, now),
            )
        }));
        let applied = apply_once(&self.outbox, event, writes, vec![]).await?;
        if applied == Applied::Now && !self.channels.is_empty() {
            self.dispatcher.notify_one();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_notification_has_its_topic_consumed() {
        assert_eq!(TOPICS.len(), 9);
        for kind in NotificationKind::ALL {
            assert!(TOPICS.contains(&kind.event_type()), "{kind:?}");
        }
    }
}
