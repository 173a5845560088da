//! Unpaid orders cannot hoard stock. Tried as a new user would: a freshly registered
//! customer checked out 1000 units twice and never paid, and the seller's stock stayed
//! at 0 for as long as anyone looked while other customers' orders were rejected.

use std::time::Duration;

use event_contracts::{Envelope, Money, PaymentCompleted};
use service_kit::Settings;
use test_support::TestService;

use crate::helpers::OrderSteps;

async fn spawn_with(pairs: &[(&str, &str)]) -> TestService {
    let mut all = vec![("bus_initial_backoff_ms", "10")];
    all.extend_from_slice(pairs);
    let observe = ["order.created", "order.cancelled"];
    TestService::spawn(
        &order_service::SERVICE,
        Settings::from_pairs(all).unwrap(),
        &observe,
    )
    .await
}

/// A pending order's reservation expires: the order is cancelled with its reason, and
/// `order.cancelled` (with the lines) tells product to release the stock and payment
/// to void the payment, as any cancellation does. A paid order is left alone.
#[tokio::test]
async fn an_order_not_paid_within_the_payment_window_is_cancelled_and_announced() {
    let app = spawn_with(&[("order_payment_window_secs", "1")]).await;
    app.checkout("u1", "unpaid").await;
    app.checkout("u1", "paid").await;
    app.announce(&PaymentCompleted {
        payment_id: "p1".into(),
        order_id: "paid".into(),
        user_id: "u1".into(),
        amount: Money::parse(2500, "EUR").unwrap(),
    })
    .await;
    app.wait_for_status("u1", "paid", "paid").await;

    app.wait_for_status("u1", "unpaid", "cancelled").await;
    let cancelled: Vec<Envelope> = app.wait_for_events("order.cancelled", 1).await;
    assert_eq!(cancelled[0].data["order_id"], "unpaid");
    assert_eq!(cancelled[0].data["reason"], "payment_timeout");
    assert_eq!(cancelled[0].data["items"][0]["quantity"], 2);
    let order = app
        .get("/api/v1/orders/unpaid", &app.tokens.customer("u1"))
        .await;
    let last = order.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(
        last["cause"].as_str().unwrap().contains("not paid"),
        "{last}"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.status("u1", "paid").await, "paid");
    assert_eq!(app.published("order.cancelled").len(), 1, "once");
}

/// One customer holds at most so many unpaid orders: a checkout past that is placed as
/// cancelled at once, and nobody else hears of it, so it reserves nothing.
#[tokio::test]
async fn a_customer_past_the_unpaid_order_cap_gets_the_order_refused() {
    let app = spawn_with(&[("order_max_pending", "2")]).await;
    app.checkout("u1", "o1").await;
    app.checkout("u1", "o2").await;
    app.checkout("u1", "o3").await;
    // Another customer is not held back by u1's orders.
    app.checkout("u2", "o4").await;

    assert_eq!(app.status("u1", "o3").await, "cancelled");
    let order = app
        .get("/api/v1/orders/o3", &app.tokens.customer("u1"))
        .await;
    let last = order.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(last["cause"].as_str().unwrap().contains("unpaid"), "{last}");
    app.wait_for_events("order.created", 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let created: Vec<_> = app
        .published("order.created")
        .iter()
        .map(|e| e.data["order_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(created, ["o1", "o2", "o4"]);
    assert!(app.published("order.cancelled").is_empty());

    // Paying one frees a place.
    app.announce(&PaymentCompleted {
        payment_id: "p1".into(),
        order_id: "o1".into(),
        user_id: "u1".into(),
        amount: Money::parse(2500, "EUR").unwrap(),
    })
    .await;
    app.wait_for_status("u1", "o1", "paid").await;
    app.checkout("u1", "o5").await;
    assert_eq!(app.status("u1", "o5").await, "pending");
}

/// And at most so many units across them: each checkout here holds 2.
#[tokio::test]
async fn a_customer_past_the_unpaid_unit_cap_gets_the_order_refused() {
    let app = spawn_with(&[("order_max_pending_units", "3")]).await;
    app.checkout("u1", "o1").await;
    app.checkout("u1", "o2").await;
    assert_eq!(app.status("u1", "o1").await, "pending");
    assert_eq!(app.status("u1", "o2").await, "cancelled");
}
