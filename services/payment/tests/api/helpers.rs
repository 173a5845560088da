use std::ops::Deref;

use axum::http::Method;
use event_contracts::{Envelope, LineItem, Money, OrderCreated, StockLine, StockReserved};
use serde_json::{Value, json};
use service_kit::Settings;
pub use test_support::eventually;
use test_support::{TestResponse, TestService};

pub const APPROVED_CARD: &str = "4242424242424242";
pub const DECLINED_CARD: &str = "4000000000000002";
pub const PAYMENT_EVENTS: &[&str] = &["payment.completed", "payment.failed", "payment.refunded"];

/// The payment service; `published` records every event it publishes, in order.
pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    TestApp(TestService::spawn(&payment_service::SERVICE, settings, PAYMENT_EVENTS).await)
}

/// The path template an URI of this service is documented under.
fn template(uri: &str) -> &'static str {
    let path = uri.split('?').next().unwrap_or(uri);
    let segments: Vec<&str> = path
        .trim_start_matches("/api/v1/payments")
        .split('/')
        .collect();
    match segments.as_slice() {
        [""] => "/api/v1/payments",
        ["", _] => "/api/v1/payments/{id}",
        ["", _, "pay"] => "/api/v1/payments/{id}/pay",
        ["", _, "refund"] => "/api/v1/payments/{id}/refund",
        _ => panic!("no template for {uri}"),
    }
}

pub fn order_created(order_id: &str, user_id: &str, amount_minor: i64) -> Envelope {
    let unit_price = Money::parse(amount_minor, "EUR").unwrap();
    Envelope::new(
        &OrderCreated {
            order_id: order_id.into(),
            checkout_id: format!("checkout-{order_id}"),
            user_id: user_id.into(),
            items: vec![LineItem {
                product_id: "p1".into(),
                name: "Teapot".into(),
                unit_price: unit_price.clone(),
                quantity: 1,
            }],
            total: unit_price,
        },
        format!("flow-{order_id}"),
    )
}

pub fn stock_reserved(order_id: &str) -> Envelope {
    Envelope::new(
        &StockReserved {
            order_id: order_id.into(),
            items: vec![StockLine {
                product_id: "p1".into(),
                quantity: 1,
            }],
        },
        format!("flow-{order_id}"),
    )
}

impl TestApp {
    pub async fn publish(&self, events: &[Envelope]) {
        self.ctx.bus().publish(events).await.unwrap();
    }

    /// Sends and checks the answer against the OpenAPI document.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> TestResponse {
        self.send_documented(method, uri, template(uri), Some(token), body)
            .await
    }

    pub async fn get(&self, uri: &str, token: &str) -> TestResponse {
        self.send(Method::GET, uri, token, None).await
    }

    pub async fn pay(&self, payment_id: &str, token: &str, card: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/api/v1/payments/{payment_id}/pay"),
            token,
            Some(json!({ "card_number": card })),
        )
        .await
    }

    pub async fn refund(&self, payment_id: &str, token: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/api/v1/payments/{payment_id}/refund"),
            token,
            None,
        )
        .await
    }

    /// The payment of an order as an admin sees it, once it exists.
    pub async fn payment_of(&self, order_id: &str) -> Value {
        let admin = self.tokens.admin("root");
        let uri = format!("/api/v1/payments?order_id={order_id}");
        eventually(&format!("the payment of {order_id}"), || async {
            !self.get(&uri, &admin).await.body["items"][0].is_null()
        })
        .await;
        let page = self.get(&uri, &admin).await;
        assert_eq!(
            page.body["total"], 1,
            "one payment per order: {}",
            page.body
        );
        page.body["items"][0].clone()
    }

    /// The payment with this id, re-read as an admin.
    pub async fn payment(&self, payment_id: &str) -> Value {
        let response = self
            .get(
                &format!("/api/v1/payments/{payment_id}"),
                &self.tokens.admin("root"),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.body
    }

    /// Waits until the payment reaches `status`.
    pub async fn until_status(&self, payment_id: &str, status: &str) -> Value {
        eventually(&format!("payment {payment_id} to be {status}"), || async {
            self.payment(payment_id).await["status"] == status
        })
        .await;
        self.payment(payment_id).await
    }

    /// An order whose payment exists but whose stock is not reserved yet; its payment id.
    pub async fn ordered(&self, order_id: &str, user_id: &str) -> String {
        self.publish(&[order_created(order_id, user_id, 1999)])
            .await;
        self.payment_of(order_id).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An order whose stock is reserved, so its payment can be paid; its payment id.
    pub async fn payable(&self, order_id: &str, user_id: &str) -> String {
        let id = self.ordered(order_id, user_id).await;
        self.publish(&[stock_reserved(order_id)]).await;
        eventually("the payment to become payable", || async {
            self.payment(&id).await["payable"] == true
        })
        .await;
        id
    }

    /// A payment the customer has paid with the approved card; its id.
    pub async fn paid(&self, order_id: &str, user_id: &str) -> String {
        let id = self.payable(order_id, user_id).await;
        let paid = self
            .pay(&id, &self.tokens.customer(user_id), APPROVED_CARD)
            .await;
        assert_eq!(paid.body["status"], "completed", "{}", paid.body);
        id
    }

    /// Waits for `count` events of a type, and returns them.
    pub async fn wait_for_events(&self, event_type: &str, count: usize) -> Vec<Envelope> {
        eventually(&format!("{count} {event_type} event(s)"), || async {
            self.published(event_type).len() >= count
        })
        .await;
        self.published(event_type)
    }

    /// Gives the relay and the consumers time to do anything more they were going to.
    pub async fn settle(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
