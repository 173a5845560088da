use axum::http::Method;
use event_contracts::{
    CancelReason, Envelope, LineItem, Money, OrderCancelled, OrderCreated, StockLine, StockReserved,
};
use serde_json::{Value, json};
use service_kit::Settings;
use test_support::{TestResponse, TestService, eventually};
use wiremock::{MockServer, ResponseTemplate};

pub const APPROVED_CARD: &str = "4242424242424242";
pub const DECLINED_CARD: &str = "4000000000000002";
pub const PAYMENT_EVENTS: &[&str] = &["payment.completed", "payment.failed", "payment.refunded"];

/// The payment service; `published` records every event it publishes, in order.
pub async fn spawn_app() -> TestService {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(mut settings: Settings) -> TestService {
    if !settings.urls.contains_key("order") {
        // An order service that knows no order, so a read-through finds nothing. It
        // must outlive the test's service, and each test runs in its own process.
        let orders: &'static MockServer = Box::leak(Box::new(MockServer::start().await));
        settings.urls.insert("order".into(), orders.uri());
    }
    TestService::spawn(&payment_service::SERVICE, settings, PAYMENT_EVENTS).await
}

/// What an HTTP payment provider answers to a charge it approved.
pub fn approved(reference: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"status": "approved", "reference": reference}))
}

/// What an HTTP payment provider answers to a refund it made.
pub fn refunded(reference: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"status": "refunded", "reference": reference}))
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
                unit_price,
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

pub fn order_cancelled(order_id: &str, user_id: &str, reason: CancelReason) -> Envelope {
    Envelope::new(
        &OrderCancelled {
            order_id: order_id.into(),
            user_id: user_id.into(),
            reason,
            items: vec![StockLine {
                product_id: "p1".into(),
                quantity: 1,
            }],
        },
        format!("flow-{order_id}"),
    )
}

/// What the payment tests do with the running service: a customer's or an admin's
/// requests, and orders brought to the state a test starts from.
pub trait PaymentSteps {
    async fn get(&self, uri: &str, token: &str) -> TestResponse;
    async fn pay(&self, payment_id: &str, token: &str, card: &str) -> TestResponse;
    /// `user_id` pays with the approved card.
    async fn pay_as(&self, payment_id: &str, user_id: &str) -> TestResponse;
    async fn refund(&self, payment_id: &str, token: &str) -> TestResponse;
    /// The payment of an order as an admin sees it, once it exists.
    async fn payment_of(&self, order_id: &str) -> Value;
    /// The id of the order's payment, once it exists.
    async fn payment_id_of(&self, order_id: &str) -> String;
    /// The payment with this id, re-read as an admin.
    async fn payment(&self, payment_id: &str) -> Value;
    /// Waits until the payment reaches `status`.
    async fn until_status(&self, payment_id: &str, status: &str) -> Value;
    /// An order whose payment exists but whose stock is not reserved yet; its payment id.
    async fn ordered(&self, order_id: &str, user_id: &str) -> String;
    /// An order whose stock is reserved, so its payment can be paid; its payment id.
    async fn payable(&self, order_id: &str, user_id: &str) -> String;
    /// A payment the customer has paid with the approved card; its id.
    async fn paid(&self, order_id: &str, user_id: &str) -> String;
    /// Gives the relay and the consumers time to do anything more they were going to.
    async fn settle(&self);
    /// The recorded events of one type once the service has settled: none missing, none
    /// still to come.
    async fn settled_events(&self, event_type: &str) -> Vec<Envelope>;
}

impl PaymentSteps for TestService {
    async fn get(&self, uri: &str, token: &str) -> TestResponse {
        self.send_as(Method::GET, uri, token).await
    }

    async fn pay(&self, payment_id: &str, token: &str, card: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/api/v1/payments/{payment_id}/pay"),
            Some(token),
            Some(json!({ "card_number": card })),
        )
        .await
    }

    async fn pay_as(&self, payment_id: &str, user_id: &str) -> TestResponse {
        self.pay(payment_id, &self.tokens.customer(user_id), APPROVED_CARD)
            .await
    }

    async fn refund(&self, payment_id: &str, token: &str) -> TestResponse {
        self.send_as(
            Method::POST,
            &format!("/api/v1/payments/{payment_id}/refund"),
            token,
        )
        .await
    }

    async fn payment_of(&self, order_id: &str) -> Value {
        let admin = self.tokens.admin("root");
        let uri = format!("/api/v1/payments?order_id={order_id}");
        eventually(&format!("the payment of {order_id}"), || async {
            !self.get(&uri, &admin).await.body["items"][0].is_null()
        })
        .await;
        let page = self.get(&uri, &admin).await;
        assert_eq!(page.listed(), 1, "one payment per order: {}", page.body);
        page.body["items"][0].clone()
    }

    async fn payment_id_of(&self, order_id: &str) -> String {
        let payment = self.payment_of(order_id).await;
        payment["id"].as_str().unwrap().to_owned()
    }

    async fn payment(&self, payment_id: &str) -> Value {
        let response = self
            .get(
                &format!("/api/v1/payments/{payment_id}"),
                &self.tokens.admin("root"),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.body
    }

    async fn until_status(&self, payment_id: &str, status: &str) -> Value {
        eventually(&format!("payment {payment_id} to be {status}"), || async {
            self.payment(payment_id).await["status"] == status
        })
        .await;
        self.payment(payment_id).await
    }

    async fn ordered(&self, order_id: &str, user_id: &str) -> String {
        self.publish(&[order_created(order_id, user_id, 1999)])
            .await;
        self.payment_id_of(order_id).await
    }

    async fn payable(&self, order_id: &str, user_id: &str) -> String {
        let id = self.ordered(order_id, user_id).await;
        self.publish(&[stock_reserved(order_id)]).await;
        eventually("the payment to become payable", || async {
            self.payment(&id).await["payable"] == true
        })
        .await;
        id
    }

    async fn paid(&self, order_id: &str, user_id: &str) -> String {
        let id = self.payable(order_id, user_id).await;
        let paid = self.pay_as(&id, user_id).await;
        assert_eq!(paid.body["status"], "completed", "{}", paid.body);
        id
    }

    async fn settle(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    async fn settled_events(&self, event_type: &str) -> Vec<Envelope> {
        self.settle().await;
        self.published(event_type)
    }
}
