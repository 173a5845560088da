use std::time::Duration;

use axum::http::Method;
use event_contracts::{
    CancelReason, Envelope, Money, OrderCancelled, OrderCompleted, OrderReturnRequested,
    PaymentCompleted, PaymentFailed, PaymentRefunded, ShipmentAwaiting, ShipmentDelivered,
    ShipmentReturned,
};
use notification_service::DeliveryPolicy;
use serde_json::Value;
use service_kit::Settings;
use test_support::{TestResponse, TestService, eventually};

pub const LIST: &str = "/api/v1/notifications";

/// The service without channels: notifications are only listed.
pub async fn spawn_app() -> TestService {
    spawn_app_with(Settings::default(), DeliveryPolicy::default()).await
}

/// The service with its webhook channel posting to `url`.
pub async fn spawn_app_with_webhook(url: &str, policy: DeliveryPolicy) -> TestService {
    let settings = Settings {
        notification_webhook_url: Some(url.to_owned()),
        ..Settings::default()
    };
    spawn_app_with(settings, policy).await
}

/// Retries within milliseconds, so a test sees a delivery give up.
pub fn quick_policy(max_attempts: u32) -> DeliveryPolicy {
    DeliveryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

async fn spawn_app_with(settings: Settings, policy: DeliveryPolicy) -> TestService {
    let settings = Settings {
        notification_max_attempts: policy.max_attempts,
        notification_initial_backoff_ms: policy.initial_backoff.as_millis() as u64,
        notification_max_backoff_ms: policy.max_backoff.as_millis() as u64,
        ..settings
    };
    TestService::spawn(&notification_service::SERVICE, settings, &[]).await
}

/// What the notification tests do with the running service: a customer's listing, and
/// the deliveries it stores for its channels.
pub trait NotificationSteps {
    /// `GET uri` as the holder of `token`, checked against the OpenAPI document.
    async fn list(&self, uri: &str, token: &str) -> TestResponse;
    /// Waits until `user_id` has `count` notifications, then returns them newest first.
    async fn notifications_of(&self, user_id: &str, count: usize) -> Vec<Value>;
    /// Every stored delivery, as stored.
    async fn deliveries(&self) -> Vec<Value>;
    /// Waits until every stored delivery (at least one) has `status`, and returns them.
    async fn deliveries_once_all(&self, status: &str) -> Vec<Value>;
}

impl NotificationSteps for TestService {
    async fn list(&self, uri: &str, token: &str) -> TestResponse {
        self.send_as(Method::GET, uri, token).await
    }

    async fn notifications_of(&self, user_id: &str, count: usize) -> Vec<Value> {
        let token = self.tokens.customer(user_id);
        let uri = format!("{LIST}?per_page=100");
        eventually(&format!("{count} notifications for {user_id}"), || async {
            self.list(&uri, &token).await.listed() == count
        })
        .await;
        let page = self.list(&uri, &token).await;
        page.body["items"].as_array().unwrap().clone()
    }

    async fn deliveries(&self) -> Vec<Value> {
        let page = self.stored("deliveries").await;
        page.items.into_iter().map(|d| d.body).collect()
    }

    async fn deliveries_once_all(&self, status: &str) -> Vec<Value> {
        eventually(&format!("every delivery to be {status}"), || async {
            let deliveries = self.deliveries().await;
            !deliveries.is_empty() && deliveries.iter().all(|d| d["status"] == status)
        })
        .await;
        self.deliveries().await
    }
}

pub fn eur(amount_minor: i64) -> Money {
    Money::parse(amount_minor, "EUR").unwrap()
}

pub fn payment_completed(user_id: &str, order_id: &str, amount_minor: i64) -> Envelope {
    Envelope::new(
        &PaymentCompleted {
            payment_id: format!("pay-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
            amount: eur(amount_minor),
        },
        "test",
    )
}

pub fn payment_failed(user_id: &str, order_id: &str, reason: &str) -> Envelope {
    Envelope::new(
        &PaymentFailed {
            payment_id: format!("pay-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
            reason: reason.into(),
        },
        "test",
    )
}

pub fn payment_refunded(user_id: &str, order_id: &str, amount_minor: i64) -> Envelope {
    Envelope::new(
        &PaymentRefunded {
            payment_id: format!("pay-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
            amount: eur(amount_minor),
        },
        "test",
    )
}

pub fn shipment_awaiting(user_id: &str, order_id: &str) -> Envelope {
    Envelope::new(
        &ShipmentAwaiting {
            shipment_id: format!("ship-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        "test",
    )
}

pub fn shipment_delivered(user_id: &str, order_id: &str) -> Envelope {
    Envelope::new(
        &ShipmentDelivered {
            shipment_id: format!("ship-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        "test",
    )
}

pub fn shipment_returned(user_id: &str, order_id: &str) -> Envelope {
    Envelope::new(
        &ShipmentReturned {
            shipment_id: format!("ship-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        "test",
    )
}

pub fn order_cancelled(user_id: &str, order_id: &str, reason: CancelReason) -> Envelope {
    Envelope::new(
        &OrderCancelled {
            order_id: order_id.into(),
            user_id: user_id.into(),
            reason,
            items: vec![],
        },
        "test",
    )
}

pub fn order_return_requested(user_id: &str, order_id: &str) -> Envelope {
    Envelope::new(
        &OrderReturnRequested {
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        "test",
    )
}

pub fn order_completed(user_id: &str, order_id: &str) -> Envelope {
    Envelope::new(
        &OrderCompleted {
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        "test",
    )
}
