use std::{ops::Deref, time::Duration};

use axum::http::Method;
use doc_store::Query;
use event_contracts::{
    CancelReason, Envelope, Event, Money, OrderCancelled, OrderCreated, OrderReturnRequested,
    PaymentCompleted, PaymentRefunded,
};
use serde_json::Value;
use service_kit::Settings;
pub use test_support::eventually;
use test_support::{TestResponse, TestService};

pub const LIST: &str = "/api/v1/shipments";
pub const ONE: &str = "/api/v1/shipments/{id}";
pub const DELIVER: &str = "/api/v1/shipments/{id}/deliver";
pub const RETURN: &str = "/api/v1/shipments/{id}/return";

/// The shipping service; `published` records every `shipment.*` event it publishes, in
/// order, each checked against its contract schema.
pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

pub async fn spawn_app() -> TestApp {
    let observe = [
        "shipment.awaiting",
        "shipment.delivered",
        "shipment.returned",
    ];
    TestApp(TestService::spawn(&shipping_service::SERVICE, Settings::default(), &observe).await)
}

fn total() -> Money {
    Money::parse(1999, "EUR").unwrap()
}

pub fn order_created(order_id: &str, user_id: &str) -> Envelope {
    Envelope::new(
        &OrderCreated {
            order_id: order_id.into(),
            checkout_id: format!("checkout-{order_id}"),
            user_id: user_id.into(),
            items: vec![],
            total: total(),
        },
        format!("flow-{order_id}"),
    )
}

pub fn payment_completed(order_id: &str, user_id: &str) -> Envelope {
    Envelope::new(
        &PaymentCompleted {
            payment_id: format!("payment-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
            amount: total(),
        },
        format!("flow-{order_id}"),
    )
}

pub fn payment_refunded(order_id: &str, user_id: &str) -> Envelope {
    Envelope::new(
        &PaymentRefunded {
            payment_id: format!("payment-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
            amount: total(),
        },
        format!("flow-{order_id}"),
    )
}

pub fn order_cancelled(order_id: &str, user_id: &str) -> Envelope {
    Envelope::new(
        &OrderCancelled {
            order_id: order_id.into(),
            user_id: user_id.into(),
            reason: CancelReason::CustomerRequest,
            items: vec![],
        },
        format!("flow-{order_id}"),
    )
}

pub fn return_requested(order_id: &str, user_id: &str) -> Envelope {
    Envelope::new(
        &OrderReturnRequested {
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        format!("flow-{order_id}"),
    )
}

impl TestApp {
    /// Publishes the events on the bus as their producers' relays would.
    pub async fn publish(&self, events: &[Envelope]) {
        self.ctx.bus().publish(events).await.unwrap();
    }

    /// Publishes the event and waits until the service has stored its effect (the
    /// idempotency marker is written in the same batch as the effect).
    pub async fn deliver_event(&self, event: &Envelope) {
        self.publish(std::slice::from_ref(event)).await;
        self.handled(event).await;
    }

    pub async fn handled(&self, event: &Envelope) {
        eventually(&format!("{} to be handled", event.event_type), || async {
            self.ctx
                .store()
                .get(event_bus::PROCESSED_EVENTS, &event.id)
                .await
                .unwrap()
                .is_some()
        })
        .await;
    }

    /// Waits until every event the service committed has left its outbox, then a little
    /// longer for the test observer to see them: after this, a missing or extra event
    /// is really missing or extra.
    pub async fn settled(&self) {
        eventually("the outbox to drain", || async {
            self.ctx
                .store()
                .find(event_bus::OUTBOX, &Query::all())
                .await
                .unwrap()
                .total
                == 0
        })
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// The recorded events of one type.
    pub fn published_of<E: Event>(&self) -> Vec<Envelope> {
        self.published(E::TYPE)
    }

    /// Sends and checks the answer against the OpenAPI document.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        template: &str,
        token: &str,
    ) -> TestResponse {
        self.send_documented(method, uri, template, Some(token), None)
            .await
    }

    pub async fn list(&self, query: &str, token: &str) -> TestResponse {
        self.send(Method::GET, &format!("{LIST}{query}"), LIST, token)
            .await
    }

    pub async fn get(&self, id: &str, token: &str) -> TestResponse {
        self.send(Method::GET, &format!("{LIST}/{id}"), ONE, token)
            .await
    }

    pub async fn deliver(&self, id: &str, token: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("{LIST}/{id}/deliver"),
            DELIVER,
            token,
        )
        .await
    }

    pub async fn mark_returned(&self, id: &str, token: &str) -> TestResponse {
        self.send(Method::POST, &format!("{LIST}/{id}/return"), RETURN, token)
            .await
    }

    fn admin(&self) -> String {
        self.tokens.admin("root")
    }

    /// Every shipment of the order, as an admin sees them.
    pub async fn shipments_of(&self, order_id: &str) -> Vec<Value> {
        let response = self
            .list(&format!("?order_id={order_id}"), &self.admin())
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.body["items"].as_array().unwrap().clone()
    }

    /// The order's one shipment, asserting there is exactly one.
    pub async fn shipment_of(&self, order_id: &str) -> Value {
        let mut shipments = self.shipments_of(order_id).await;
        assert_eq!(shipments.len(), 1, "shipments of {order_id}: {shipments:?}");
        shipments.pop().unwrap()
    }

    /// An order of `user_id` that was created and paid; returns its shipment id.
    pub async fn awaiting_shipment(&self, order_id: &str, user_id: &str) -> String {
        self.deliver_event(&order_created(order_id, user_id)).await;
        self.deliver_event(&payment_completed(order_id, user_id))
            .await;
        let shipment = self.shipment_of(order_id).await;
        assert_eq!(shipment["status"], "awaiting");
        shipment["id"].as_str().unwrap().to_owned()
    }

    /// An order of `user_id` delivered by an admin; returns its shipment id.
    pub async fn delivered_shipment(&self, order_id: &str, user_id: &str) -> String {
        let id = self.awaiting_shipment(order_id, user_id).await;
        let delivered = self.deliver(&id, &self.admin()).await;
        assert_eq!(delivered.status, 200, "{}", delivered.body);
        id
    }
}

/// The statuses of a shipment's history, oldest first.
pub fn history(shipment: &Value) -> Vec<String> {
    shipment["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["status"].as_str().unwrap().to_owned())
        .collect()
}
