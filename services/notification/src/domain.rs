//! What a notification says about an event, and how a delivery moves between its
//! states. No I/O: the event handler and the dispatcher do the reading and writing.

use std::time::Duration;

use event_contracts::{
    CancelReason, ContractError, Envelope, Event, OrderCancelled, OrderCompleted,
    OrderReturnRequested, PaymentCompleted, PaymentFailed, PaymentRefunded, ShipmentAwaiting,
    ShipmentDelivered, ShipmentReturned,
};
use serde::{Deserialize, Serialize};
use service_kit::Settings;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Which event a notification tells the customer about; written as the event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum NotificationKind {
    #[serde(rename = "payment.completed")]
    PaymentCompleted,
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    #[serde(rename = "payment.refunded")]
    PaymentRefunded,
    #[serde(rename = "shipment.awaiting")]
    ShipmentAwaiting,
    #[serde(rename = "shipment.delivered")]
    ShipmentDelivered,
    #[serde(rename = "shipment.returned")]
    ShipmentReturned,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    #[serde(rename = "order.return_requested")]
    OrderReturnRequested,
    #[serde(rename = "order.completed")]
    OrderCompleted,
}

impl NotificationKind {
    pub const ALL: [Self; 9] = [
        Self::PaymentCompleted,
        Self::PaymentFailed,
        Self::PaymentRefunded,
        Self::ShipmentAwaiting,
        Self::ShipmentDelivered,
        Self::ShipmentReturned,
        Self::OrderCancelled,
        Self::OrderReturnRequested,
        Self::OrderCompleted,
    ];

    /// The event this kind of notification comes from, which is also its topic.
    pub const fn event_type(self) -> &'static str {
        match self {
            Self::PaymentCompleted => PaymentCompleted::TYPE,
            Self::PaymentFailed => PaymentFailed::TYPE,
            Self::PaymentRefunded => PaymentRefunded::TYPE,
            Self::ShipmentAwaiting => ShipmentAwaiting::TYPE,
            Self::ShipmentDelivered => ShipmentDelivered::TYPE,
            Self::ShipmentReturned => ShipmentReturned::TYPE,
            Self::OrderCancelled => OrderCancelled::TYPE,
            Self::OrderReturnRequested => OrderReturnRequested::TYPE,
            Self::OrderCompleted => OrderCompleted::TYPE,
        }
    }
}

/// An in-app notification for one customer: stored once per event, listed by
/// `GET /notifications`, and what every channel is handed to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The id of the event it reports, so a redelivered event maps to the same
    /// notification; receivers of a channel can deduplicate on it too.
    pub id: String,
    pub user_id: String,
    pub kind: NotificationKind,
    pub title: String,
    pub message: String,
    pub order_id: String,
    /// When the reported event happened, not when this service got to it: after a
    /// backlog, notifications still sort in the order things happened.
    #[serde(with = "service_kit::timestamp::sortable")]
    pub created_at: OffsetDateTime,
}

/// The notification for `event`; `None` when the event is not one customers hear of.
/// An event of a known type whose data does not decode is an error, for the bus to
/// retry and park.
pub fn compose(event: &Envelope) -> Result<Option<Notification>, ContractError> {
    let Some(kind) = NotificationKind::ALL
        .into_iter()
        .find(|k| k.event_type() == event.event_type)
    else {
        return Ok(None);
    };
    let text = match kind {
        NotificationKind::PaymentCompleted => {
            let e: PaymentCompleted = event.decode()?;
            Text::new(e.user_id, e.order_id, "Payment received", |order| {
                format!("Payment of {} received for order {order}.", e.amount)
            })
        }
        NotificationKind::PaymentFailed => {
            let e: PaymentFailed = event.decode()?;
            Text::new(e.user_id, e.order_id, "Payment failed", |order| {
                format!("Payment for order {order} failed: {}.", e.reason)
            })
        }
        NotificationKind::PaymentRefunded => {
            let e: PaymentRefunded = event.decode()?;
            Text::new(e.user_id, e.order_id, "Payment refunded", |order| {
                format!("{} was refunded for order {order}.", e.amount)
            })
        }
        NotificationKind::ShipmentAwaiting => {
            let e: ShipmentAwaiting = event.decode()?;
            Text::new(e.user_id, e.order_id, "Order awaiting shipment", |order| {
                format!("Order {order} is paid and waiting to be shipped.")
            })
        }
        NotificationKind::ShipmentDelivered => {
            let e: ShipmentDelivered = event.decode()?;
            Text::new(e.user_id, e.order_id, "Order delivered", |order| {
                format!(
                    "Order {order} was delivered. Accept it to complete the order, or ask to return it."
                )
            })
        }
        NotificationKind::ShipmentReturned => {
            let e: ShipmentReturned = event.decode()?;
            Text::new(e.user_id, e.order_id, "Return received", |order| {
                format!("The returned shipment of order {order} has arrived back with us.")
            })
        }
        NotificationKind::OrderCancelled => {
            let e: OrderCancelled = event.decode()?;
            Text::new(e.user_id, e.order_id, "Order cancelled", |order| {
                let why = match e.reason {
                    CancelReason::CustomerRequest => "at your request",
                    CancelReason::PaymentFailed => "because its payment failed",
                    CancelReason::StockRejected => "because some items are out of stock",
                    CancelReason::PaymentTimeout => "because it was not paid in time",
                };
                format!("Order {order} was cancelled {why}.")
            })
        }
        NotificationKind::OrderReturnRequested => {
            let e: OrderReturnRequested = event.decode()?;
            Text::new(e.user_id, e.order_id, "Return requested", |order| {
                format!("Your request to return order {order} was registered.")
            })
        }
        NotificationKind::OrderCompleted => {
            let e: OrderCompleted = event.decode()?;
            Text::new(e.user_id, e.order_id, "Order completed", |order| {
                format!("Order {order} is complete. Thank you for shopping with us.")
            })
        }
    };
    Ok(Some(Notification {
        id: event.id.clone(),
        user_id: text.user_id,
        kind,
        title: text.title.to_owned(),
        message: text.message,
        order_id: text.order_id,
        created_at: event.occurred_at,
    }))
}

struct Text {
    user_id: String,
    order_id: String,
    title: &'static str,
    message: String,
}

impl Text {
    fn new(
        user_id: String,
        order_id: String,
        title: &'static str,
        message: impl FnOnce(&str) -> String,
    ) -> Self {
        let message = message(&order_id);
        Self {
            user_id,
            order_id,
            title,
            message,
        }
    }
}

/// Whether a notification has reached a channel yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Given up on after the policy's attempts, or impossible (no such channel).
    Failed,
}

/// One notification on its way to one channel; the dispatcher works through these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub notification_id: String,
    pub channel: String,
    pub status: DeliveryStatus,
    /// Attempts started so far, the one in flight included.
    pub attempts: u32,
    /// When the dispatcher may next try; while an attempt is in flight, when it may
    /// assume that attempt died with its process.
    #[serde(with = "service_kit::timestamp::sortable")]
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Worth trying again later: the channel is down or refused for now.
    Failed(String),
    /// No attempt can ever succeed (the channel is not configured any more).
    Impossible(String),
}

impl Delivery {
    /// A delivery due at once.
    pub fn pending(notification_id: &str, channel: &str, now: OffsetDateTime) -> Self {
        Self {
            notification_id: notification_id.to_owned(),
            channel: channel.to_owned(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
        }
    }

    /// The id of a notification's delivery on a channel: one per pair, by construction.
    pub fn id(notification_id: &str, channel: &str) -> String {
        format!("{notification_id}:{channel}")
    }

    /// Takes the delivery for an attempt: counts it, and keeps other dispatchers off it
    /// until `lease` has passed.
    pub fn claimed(&self, now: OffsetDateTime, lease: Duration) -> Self {
        Self {
            attempts: self.attempts + 1,
            next_attempt_at: now + lease,
            ..self.clone()
        }
    }

    /// The delivery after the attempt it was claimed for ended with `outcome`.
    pub fn settled(&self, outcome: Outcome, policy: &DeliveryPolicy, now: OffsetDateTime) -> Self {
        let mut next = self.clone();
        match outcome {
            Outcome::Delivered => {
                next.status = DeliveryStatus::Delivered;
                next.last_error = None;
            }
            Outcome::Failed(error) if self.attempts < policy.max_attempts => {
                next.next_attempt_at = now + policy.backoff_after(self.attempts);
                next.last_error = Some(error);
            }
            Outcome::Failed(error) | Outcome::Impossible(error) => {
                next.status = DeliveryStatus::Failed;
                next.last_error = Some(error);
            }
        }
        next
    }
}

/// How hard the dispatcher tries: exponential backoff from `initial_backoff`, doubling
/// up to `max_backoff`, and `failed` after `max_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for DeliveryPolicy {
    /// What the default settings say.
    fn default() -> Self {
        Self::from_settings(&Settings::default())
    }
}

impl DeliveryPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_attempts: settings.notification_max_attempts.max(1),
            initial_backoff: Duration::from_millis(settings.notification_initial_backoff_ms),
            max_backoff: Duration::from_millis(settings.notification_max_backoff_ms),
        }
    }

    /// The wait after the `attempts`-th failed attempt.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use event_contracts::Money;
    use time::macros::datetime;

    use super::*;

    fn eur(minor: i64) -> Money {
        Money::parse(minor, "EUR").unwrap()
    }

    #[test]
    fn a_payment_notification_shows_the_amount_exactly() {
        let event = Envelope::new(
            &PaymentCompleted {
                payment_id: "p1".into(),
                order_id: "o1".into(),
                user_id: "u1".into(),
                amount: eur(1234),
            },
            "c",
        );
        let n = compose(&event).unwrap().unwrap();
        assert_eq!(n.id, event.id);
        assert_eq!(n.user_id, "u1");
        assert_eq!(n.kind, NotificationKind::PaymentCompleted);
        assert_eq!(n.message, "Payment of 12.34 EUR received for order o1.");
        assert_eq!(n.created_at, event.occurred_at);
    }

    #[test]
    fn an_amount_the_money_type_refuses_is_refused_with_the_event() {
        // A producer that breaks the contract gets its event refused (and so retried,
        // then parked where an operator sees it), never a notification made up from it.
        let mut event = Envelope::new(
            &PaymentRefunded {
                payment_id: "p1".into(),
                order_id: "o1".into(),
                user_id: "u1".into(),
                amount: eur(5),
            },
            "c",
        );
        event.data["amount"]["currency"] = "eur".into();
        assert!(compose(&event).is_err());
    }

    #[test]
    fn a_cancellation_says_why() {
        for (reason, why) in [
            (CancelReason::CustomerRequest, "at your request"),
            (CancelReason::PaymentFailed, "payment failed"),
            (CancelReason::StockRejected, "out of stock"),
            (CancelReason::PaymentTimeout, "not paid in time"),
        ] {
            let event = Envelope::new(
                &OrderCancelled {
                    order_id: "o1".into(),
                    user_id: "u1".into(),
                    reason,
                    items: vec![],
                },
                "c",
            );
            let n = compose(&event).unwrap().unwrap();
            assert!(n.message.contains(why), "{reason:?}: {}", n.message);
        }
    }

    #[test]
    fn events_customers_do_not_hear_of_make_no_notification() {
        let event = Envelope::new(
            &event_contracts::UserDeleted {
                user_id: "u1".into(),
            },
            "c",
        );
        assert_eq!(compose(&event).unwrap(), None);
    }

    #[test]
    fn a_known_event_with_broken_data_is_an_error() {
        let mut event = Envelope::new(
            &OrderCompleted {
                order_id: "o1".into(),
                user_id: "u1".into(),
            },
            "c",
        );
        event.data = serde_json::json!({ "order_id": "o1" });
        assert!(compose(&event).is_err());
    }

    #[test]
    fn each_kind_is_written_as_its_event_type() {
        for kind in NotificationKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.event_type());
        }
    }

    #[test]
    fn backoff_doubles_from_the_initial_wait_up_to_the_cap() {
        let policy = DeliveryPolicy::default();
        let waits: Vec<u64> = (1..=10)
            .map(|n| policy.backoff_after(n).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(policy.backoff_after(u32::MAX), policy.max_backoff);
    }

    #[test]
    fn a_failed_attempt_waits_then_gives_up_after_the_last_one() {
        let policy = DeliveryPolicy {
            max_attempts: 2,
            ..DeliveryPolicy::default()
        };
        let now = datetime!(2024-05-01 10:00 UTC);
        let lease = Duration::from_secs(60);
        let first = Delivery::pending("n1", "webhook", now).claimed(now, lease);
        assert_eq!(first.attempts, 1);
        assert_eq!(first.next_attempt_at, now + lease);

        let retry = first.settled(Outcome::Failed("503".into()), &policy, now);
        assert_eq!(retry.status, DeliveryStatus::Pending);
        assert_eq!(retry.next_attempt_at, now + Duration::from_secs(1));
        assert_eq!(retry.last_error.as_deref(), Some("503"));

        let second = retry.claimed(now, lease);
        let given_up = second.settled(Outcome::Failed("503 again".into()), &policy, now);
        assert_eq!(given_up.status, DeliveryStatus::Failed);
        assert_eq!(given_up.attempts, 2);
        assert_eq!(given_up.last_error.as_deref(), Some("503 again"));
    }

    #[test]
    fn a_success_clears_the_last_error_and_an_impossible_delivery_fails_at_once() {
        let policy = DeliveryPolicy::default();
        let now = datetime!(2024-05-01 10:00 UTC);
        let claimed = Delivery {
            last_error: Some("timeout".into()),
            ..Delivery::pending("n1", "webhook", now)
        }
        .claimed(now, Duration::from_secs(60));
        let delivered = claimed.settled(Outcome::Delivered, &policy, now);
        assert_eq!(delivered.status, DeliveryStatus::Delivered);
        assert_eq!(delivered.last_error, None);

        let impossible = claimed.settled(Outcome::Impossible("no channel".into()), &policy, now);
        assert_eq!(impossible.status, DeliveryStatus::Failed);
        assert_eq!(impossible.attempts, 1);
    }
}
