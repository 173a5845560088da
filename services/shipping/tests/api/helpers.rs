use axum::http::Method;
use event_contracts::{
    CancelReason, Envelope, Event, Money, OrderCancelled, OrderCreated, OrderReturnRequested,
    PaymentCompleted, PaymentRefunded,
};
use serde_json::{Value, json};
use service_kit::Settings;
use std::ops::Deref;
use test_support::{TestResponse, TestService, field_of_each};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, path_regex},
};

pub const LIST: &str = "/api/v1/shipments";

/// The shipping service, and the order service it asks before an admin's step: a mock
/// that answers every order as `awaiting_shipment` unless a test says otherwise.
pub struct App {
    pub service: TestService,
    pub orders: MockServer,
}

impl Deref for App {
    type Target = TestService;

    fn deref(&self) -> &TestService {
        &self.service
    }
}

impl App {
    /// From now on the order service answers that `order_id` is `status`.
    pub async fn order_is(&self, order_id: &str, status: &str) {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/orders/{order_id}")))
            .respond_with(order_answer(order_id, status))
            .mount(&self.orders)
            .await;
    }
}

fn order_answer(order_id: &str, status: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({ "id": order_id, "user_id": "u1", "status": status }))
}

/// The shipping service; `published` records every `shipment.*` event it publishes, in
/// order, each checked against its contract schema.
pub async fn spawn_app() -> App {
    let orders = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/orders/[^/]+$"))
        .respond_with(order_answer("any", "awaiting_shipment"))
        .with_priority(10)
        .mount(&orders)
        .await;
    let mut settings = Settings::default();
    settings.urls.insert("order".into(), orders.uri());
    let observe = [
        "shipment.awaiting",
        "shipment.delivered",
        "shipment.returned",
        "shipment.cancelled",
    ];
    let service = TestService::spawn(&shipping_service::SERVICE, settings, &observe).await;
    App { service, orders }
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

/// What the shipping tests do with the running service: a customer's or an admin's
/// requests, and shipments brought to the state a test starts from.
pub trait ShippingSteps {
    /// The recorded events of one type.
    fn published_of<E: Event>(&self) -> Vec<Envelope>;
    /// Once the service has settled, its one recorded event of type `E`, asserting there
    /// is exactly one.
    async fn announced_once<E: Event>(&self) -> Envelope;
    async fn list(&self, query: &str, token: &str) -> TestResponse;
    async fn get(&self, id: &str, token: &str) -> TestResponse;
    async fn deliver(&self, id: &str, token: &str) -> TestResponse;
    async fn mark_returned(&self, id: &str, token: &str) -> TestResponse;
    /// Every shipment of the order, as an admin sees them.
    async fn shipments_of(&self, order_id: &str) -> Vec<Value>;
    /// The order's one shipment, asserting there is exactly one.
    async fn shipment_of(&self, order_id: &str) -> Value;
    /// An order of `user_id` that was created and paid; returns its shipment id.
    async fn awaiting_shipment(&self, order_id: &str, user_id: &str) -> String;
    /// An order of `user_id` delivered by an admin; returns its shipment id.
    async fn delivered_shipment(&self, order_id: &str, user_id: &str) -> String;
}

impl ShippingSteps for TestService {
    fn published_of<E: Event>(&self) -> Vec<Envelope> {
        self.published(E::TYPE)
    }

    async fn announced_once<E: Event>(&self) -> Envelope {
        self.settled().await;
        let mut announced = self.published_of::<E>();
        assert_eq!(announced.len(), 1, "{announced:?}");
        announced.pop().unwrap()
    }

    async fn list(&self, query: &str, token: &str) -> TestResponse {
        self.send_as(Method::GET, &format!("{LIST}{query}"), token)
            .await
    }

    async fn get(&self, id: &str, token: &str) -> TestResponse {
        self.send_as(Method::GET, &format!("{LIST}/{id}"), token)
            .await
    }

    async fn deliver(&self, id: &str, token: &str) -> TestResponse {
        self.send_as(Method::POST, &format!("{LIST}/{id}/deliver"), token)
            .await
    }

    async fn mark_returned(&self, id: &str, token: &str) -> TestResponse {
        self.send_as(Method::POST, &format!("{LIST}/{id}/return"), token)
            .await
    }

    async fn shipments_of(&self, order_id: &str) -> Vec<Value> {
        let response = self
            .list(&format!("?order_id={order_id}"), &self.tokens.admin("root"))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.body["items"].as_array().unwrap().clone()
    }

    async fn shipment_of(&self, order_id: &str) -> Value {
        let mut shipments = self.shipments_of(order_id).await;
        assert_eq!(shipments.len(), 1, "shipments of {order_id}: {shipments:?}");
        shipments.pop().unwrap()
    }

    async fn awaiting_shipment(&self, order_id: &str, user_id: &str) -> String {
        self.deliver_events(&[order_created(order_id, user_id)])
            .await;
        self.deliver_events(&[payment_completed(order_id, user_id)])
            .await;
        let shipment = self.shipment_of(order_id).await;
        assert_eq!(shipment["status"], "awaiting");
        shipment["id"].as_str().unwrap().to_owned()
    }

    async fn delivered_shipment(&self, order_id: &str, user_id: &str) -> String {
        let id = self.awaiting_shipment(order_id, user_id).await;
        let delivered = self.deliver(&id, &self.tokens.admin("root")).await;
        assert_eq!(delivered.status, 200, "{}", delivered.body);
        id
    }
}

/// The statuses of a shipment's history, oldest first.
pub fn history(shipment: &Value) -> Vec<&str> {
    field_of_each(&shipment["history"], "status")
}
