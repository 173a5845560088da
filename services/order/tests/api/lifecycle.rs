use event_contracts::{
    Money, PaymentCompleted, PaymentFailed, PaymentRefunded, ShipmentAwaiting, ShipmentDelivered,
    ShipmentReturned, StockRejected,
};

use test_support::{TestService, eventually, field_of_each};

use crate::helpers::{OrderSteps, spawn_app};

fn eur(amount_minor: i64) -> Money {
    Money::parse(amount_minor, "EUR").unwrap()
}

async fn paid(app: &TestService, order_id: &str) {
    app.announce(&PaymentCompleted {
        payment_id: format!("pay-{order_id}"),
        order_id: order_id.into(),
        user_id: "ada".into(),
        amount: eur(2500),
    })
    .await;
}

/// An order of ada's, placed, paid, shipped and delivered.
async fn delivered(app: &TestService, order_id: &str) {
    app.checkout("ada", order_id).await;
    paid(app, order_id).await;
    app.wait_for_status("ada", order_id, "paid").await;
    app.announce(&ShipmentAwaiting {
        shipment_id: format!("ship-{order_id}"),
        order_id: order_id.into(),
        user_id: "ada".into(),
    })
    .await;
    app.wait_for_status("ada", order_id, "awaiting_shipment")
        .await;
    app.announce(&ShipmentDelivered {
        shipment_id: format!("ship-{order_id}"),
        order_id: order_id.into(),
        user_id: "ada".into(),
    })
    .await;
    app.wait_for_status("ada", order_id, "delivered").await;
}

#[tokio::test]
async fn a_checkout_places_one_pending_order_and_announces_it() {
    let app = spawn_app().await;
    let checkout = app.checkout("ada", "o1").await;
    // Delivered again: still one order, one announcement.
    app.publish(&[checkout]).await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let order = app
        .get("/api/v1/orders/o1", &app.tokens.customer("ada"))
        .await;
    assert_eq!(order.body["status"], "pending");
    assert_eq!(order.body["total"]["amount_minor"], 2500);
    assert_eq!(order.body["items"][0]["quantity"], 2);
    app.wait_for_events("order.created", 1).await;
    assert_eq!(app.published("order.created").len(), 1);
    let listed = app.get("/api/v1/orders", &app.tokens.customer("ada")).await;
    assert_eq!(listed.listed(), 1);
}

#[tokio::test]
async fn a_paid_shipped_delivered_order_completes_when_accepted() {
    let app = spawn_app().await;
    delivered(&app, "o1").await;

    let ada = app.tokens.customer("ada");
    let accepted = app.post("/api/v1/orders/o1/accept", &ada).await;
    assert_eq!(accepted.status, 200);
    assert_eq!(accepted.body["status"], "completed");
    let statuses = field_of_each(&accepted.body["history"], "status");
    assert_eq!(
        statuses,
        [
            "pending",
            "paid",
            "awaiting_shipment",
            "delivered",
            "completed"
        ]
    );
    eventually("completion events", || async {
        app.published("order.completed").len() == 1 && app.published("product.decrement").len() == 1
    })
    .await;
    assert_eq!(
        app.published("product.decrement")[0].data["items"][0]["quantity"],
        2
    );

    let again = app.post("/api/v1/orders/o1/accept", &ada).await;
    again.assert_error(409, "conflict");
}

#[tokio::test]
async fn events_that_overtake_their_cause_are_applied_in_lifecycle_order() {
    let app = spawn_app().await;
    app.checkout("ada", "o1").await;
    // The shipment is announced before the payment reaches the order service.
    app.announce(&ShipmentAwaiting {
        shipment_id: "s1".into(),
        order_id: "o1".into(),
        user_id: "ada".into(),
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(app.status("ada", "o1").await, "pending");
    paid(&app, "o1").await;
    app.wait_for_status("ada", "o1", "awaiting_shipment").await;
}

#[tokio::test]
async fn a_pending_order_can_be_cancelled_by_its_owner_but_not_after_payment() {
    let app = spawn_app().await;
    app.checkout("ada", "o1").await;
    app.checkout("ada", "o2").await;
    let ada = app.tokens.customer("ada");

    let cancelled = app.post("/api/v1/orders/o1/cancel", &ada).await;
    assert_eq!(cancelled.status, 200);
    assert_eq!(cancelled.body["status"], "cancelled");
    let event = &app.wait_for_events("order.cancelled", 1).await[0];
    assert_eq!(event.data["reason"], "customer_request");
    assert_eq!(event.data["items"][0]["product_id"], "mug");

    paid(&app, "o2").await;
    app.wait_for_status("ada", "o2", "paid").await;
    let refused = app.post("/api/v1/orders/o2/cancel", &ada).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.body["details"]["status"], "paid");
    // A late payment for the cancelled order leaves it cancelled.
    paid(&app, "o1").await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.status("ada", "o1").await, "cancelled");
}

#[tokio::test]
async fn a_declined_payment_or_missing_stock_cancels_the_order_with_its_reason() {
    let app = spawn_app().await;
    app.checkout("ada", "o1").await;
    app.checkout("ada", "o2").await;
    app.announce(&PaymentFailed {
        payment_id: "p1".into(),
        order_id: "o1".into(),
        user_id: "ada".into(),
        reason: "card declined".into(),
    })
    .await;
    app.announce(&StockRejected {
        order_id: "o2".into(),
        reason: "not enough stock".into(),
        shortages: vec![],
    })
    .await;
    app.wait_for_status("ada", "o1", "cancelled").await;
    app.wait_for_status("ada", "o2", "cancelled").await;
    eventually("two cancellations", || async {
        app.published("order.cancelled").len() == 2
    })
    .await;
    let mut reasons: Vec<_> = app
        .published("order.cancelled")
        .iter()
        .map(|e| e.data["reason"].as_str().unwrap().to_owned())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["payment_failed", "stock_rejected"]);
}

#[tokio::test]
async fn a_returned_order_ends_refunded() {
    let app = spawn_app().await;
    delivered(&app, "o1").await;
    let ada = app.tokens.customer("ada");

    let returning = app.post("/api/v1/orders/o1/return", &ada).await;
    assert_eq!(returning.status, 200);
    assert_eq!(returning.body["status"], "return_requested");
    eventually("order.return_requested", || async {
        app.published("order.return_requested").len() == 1
    })
    .await;
    app.announce(&ShipmentReturned {
        shipment_id: "ship-o1".into(),
        order_id: "o1".into(),
        user_id: "ada".into(),
    })
    .await;
    app.wait_for_status("ada", "o1", "returned").await;
    app.announce(&PaymentRefunded {
        payment_id: "pay-o1".into(),
        order_id: "o1".into(),
        user_id: "ada".into(),
        amount: eur(2500),
    })
    .await;
    app.wait_for_status("ada", "o1", "refunded").await;
    let accept = app.post("/api/v1/orders/o1/accept", &ada).await;
    assert_eq!(accept.status, 409, "a refunded order stays refunded");
}
