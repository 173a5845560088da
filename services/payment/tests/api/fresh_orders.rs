//! Read-your-writes at the edge: a customer who checked out, and saw their order's
//! stock reserved by polling the checkout's Location, can find and pay its payment at
//! once, though `order.created` or `stock.reserved` has not reached the payment service
//! yet. The payment service asks the order service, which is the authority.

use serde_json::json;
use service_kit::Settings;
use test_support::TestService;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{APPROVED_CARD, PaymentSteps, order_created, spawn_app_with, stock_reserved};

async fn app_with_orders() -> (TestService, MockServer) {
    let orders = MockServer::start().await;
    let uri = orders.uri();
    let app = spawn_app_with(Settings::from_pairs([("order_url", uri.as_str())]).unwrap()).await;
    (app, orders)
}

fn order(order_id: &str, user_id: &str, status: &str, stock_reserved: bool) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": order_id,
        "user_id": user_id,
        "checkout_id": format!("checkout-{order_id}"),
        "status": status,
        "items": [],
        "total": { "amount_minor": 1999, "currency": "EUR" },
        "stock_reserved": stock_reserved,
        "history": [],
        "created_at": "2026-12-03T12:00:00Z",
    }))
}

#[tokio::test]
async fn an_order_the_payment_service_has_not_heard_of_has_its_payment_found_and_paid() {
    let (app, orders) = app_with_orders().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/o1"))
        .respond_with(order("o1", "u1", "pending", true))
        .mount(&orders)
        .await;
    let token = app.tokens.customer("u1");

    let listed = app.get("/api/v1/payments?order_id=o1", &token).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.listed(), 1, "{}", listed.body);
    let payment = &listed.body["items"][0];
    assert_eq!(payment["amount"]["amount_minor"], 1999);
    assert_eq!(payment["payable"], true);
    let id = payment["id"].as_str().unwrap().to_owned();

    let paid = app.pay(&id, &token, APPROVED_CARD).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "completed");

    // The events, when they come, find the payment made and change nothing.
    app.deliver_events(&[order_created("o1", "u1", 1999), stock_reserved("o1")])
        .await;
    let after = app.get("/api/v1/payments?order_id=o1", &token).await;
    assert_eq!(after.listed(), 1);
    assert_eq!(after.body["items"][0]["status"], "completed");
    assert_eq!(app.settled_events("payment.completed").await.len(), 1);
}

/// The payment exists, but `stock.reserved` has not reached it while the order service
/// already holds the stock as reserved: paying goes through.
#[tokio::test]
async fn a_payment_whose_stock_the_order_holds_as_reserved_is_payable_at_once() {
    let (app, orders) = app_with_orders().await;
    let id = app.ordered("o1", "u1").await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/o1"))
        .respond_with(order("o1", "u1", "pending", true))
        .mount(&orders)
        .await;
    let paid = app.pay_as(&id, "u1").await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "completed");
}

/// Not reserved anywhere yet: the answer says to come back, rather than a bare 409.
#[tokio::test]
async fn a_payment_whose_stock_is_not_reserved_yet_answers_409_with_retry_after() {
    let (app, orders) = app_with_orders().await;
    let id = app.ordered("o1", "u1").await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/o1"))
        .respond_with(order("o1", "u1", "pending", false))
        .mount(&orders)
        .await;
    let refused = app.pay_as(&id, "u1").await;
    refused.assert_error(409, "conflict");
    assert!(
        refused.headers.contains_key("retry-after"),
        "{:?}",
        refused.headers
    );
}

/// The customer's cancel answered, but order.cancelled has not reached the payment
/// service: paying must not charge the card for an order the API just said is
/// cancelled.
#[tokio::test]
async fn a_payment_whose_order_was_just_cancelled_is_not_charged() {
    let (app, orders) = app_with_orders().await;
    let id = app.payable("o1", "u1").await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/o1"))
        .respond_with(order("o1", "u1", "cancelled", true))
        .mount(&orders)
        .await;
    let refused = app.pay_as(&id, "u1").await;
    refused.assert_error(409, "conflict");
    assert!(!refused.headers.contains_key("retry-after"));
    assert_eq!(app.payment(&id).await["status"], "pending");
    assert!(app.settled_events("payment.completed").await.is_empty());
}
