use std::{ops::Deref, time::Duration};

use axum::http::Method;
use doc_store::Query;
use event_contracts::{
    CancelReason, Envelope, Money, OrderCancelled, OrderCompleted, OrderReturnRequested,
    PaymentCompleted, PaymentFailed, PaymentRefunded, ShipmentAwaiting, ShipmentDelivered,
    ShipmentReturned,
};
use notification_service::DeliveryPolicy;
use serde_json::Value;
use service_kit::Settings;
pub use test_support::eventually;
use test_support::{TestResponse, TestService};

pub const LIST: &str = "/api/v1/notifications";

pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

/// The service without channels: notifications are only listed.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default(), DeliveryPolicy::default()).await
}

/// The service with its webhook channel posting to `url`.
pub async fn spawn_app_with_webhook(url: &str, policy: DeliveryPolicy) -> TestApp {
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

async fn spawn_app_with(settings: Settings, policy: DeliveryPolicy) -> TestApp {
    let settings = Settings {
        notification_max_attempts: policy.max_attempts,
        notification_initial_backoff_ms: policy.initial_backoff.as_millis() as u64,
        notification_max_backoff_ms: policy.max_backoff.as_millis() as u64,
        ..settings
    };
    TestApp(TestService::spawn(&notification_service::SERVICE, settings, &[]).await)
}

impl Drop for TestApp {
    /// Stops the consumers and the dispatcher with the test.
    fn drop(&mut self) {
        self.ctx.shutdown.cancel();
    }
}

impl TestApp {
    /// Publishes as the producing services would.
    pub async fn publish(&self, events: &[Envelope]) {
        self.ctx.bus().publish(events).await.unwrap();
    }

    /// `GET uri` as the holder of `token`, checked against the OpenAPI document.
    pub async fn list(&self, uri: &str, token: &str) -> TestResponse {
        self.send_documented(Method::GET, uri, LIST, Some(token), None)
            .await
    }

    /// Waits until `user_id` has `count` notifications, then returns them newest first.
    pub async fn notifications_of(&self, user_id: &str, count: usize) -> Vec<Value> {
        let token = self.tokens.customer(user_id);
        let uri = format!("{LIST}?per_page=100");
        eventually(&format!("{count} notifications for {user_id}"), || async {
            self.list(&uri, &token).await.body["total"] == count
        })
        .await;
        let page = self.list(&uri, &token).await;
        page.body["items"].as_array().unwrap().clone()
    }

    /// Every stored delivery, as stored.
    pub async fn deliveries(&self) -> Vec<Value> {
        let page = self
            .ctx
            .store()
            .find("deliveries", &Query::all())
            .await
            .unwrap();
        page.items.into_iter().map(|d| d.body).collect()
    }

    /// Waits until every stored delivery (at least one) has `status`, and returns them.
    pub async fn deliveries_once_all(&self, status: &str) -> Vec<Value> {
        eventually(&format!("every delivery to be {status}"), || async {
            let deliveries = self.deliveries().await;
            !deliveries.is_empty() && deliveries.iter().all(|d| d["status"] == status)
        })
        .await;
        self.deliveries().await
    }

    /// Events whose handling failed for good; none are expected.
    pub async fn parked(&self, topic: &str) -> usize {
        self.ctx.bus().parked(topic).await.unwrap().len()
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
