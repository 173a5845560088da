//! An admin's step that must agree with the order service asks it first, rather than
//! trusting events that may still be on their way: goods never ship for an order that
//! was cancelled (or can still be), and a return the customer opened is received even
//! before its event arrives.

use event_contracts::{ShipmentDelivered, ShipmentReturned};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{ShippingSteps, history, return_requested, spawn_app};

/// The cancel raced the capture: the payment completed (so the shipment awaits), but
/// the customer's cancel won at the order service, and the refund is on its way.
#[tokio::test]
async fn a_shipment_whose_order_was_cancelled_is_not_delivered() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    app.order_is("o1", "cancelled").await;

    let response = app.deliver(&id, &app.tokens.admin("root")).await;
    response.assert_error(409, "conflict");
    assert_eq!(response.body["details"]["order_status"], "cancelled");
    assert_eq!(app.shipment_of("o1").await["status"], "awaiting");
    app.settled().await;
    assert!(app.published_of::<ShipmentDelivered>().is_empty());
}

/// While the order is pending, its customer may still cancel it: nothing ships until
/// the order service has the payment, and the answer says to come back.
#[tokio::test]
async fn a_shipment_whose_order_is_still_pending_is_not_delivered_yet() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    app.order_is("o1", "pending").await;

    let response = app.deliver(&id, &app.tokens.admin("root")).await;
    response.assert_error(409, "conflict");
    assert_eq!(response.body["details"]["order_status"], "pending");
    assert_eq!(
        response
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(app.shipment_of("o1").await["status"], "awaiting");
}

#[tokio::test]
async fn an_order_service_that_cannot_answer_is_a_503_and_nothing_ships() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/o1"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.orders)
        .await;

    let response = app.deliver(&id, &app.tokens.admin("root")).await;
    response.assert_error(503, "unavailable");
    assert_eq!(
        response
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(app.shipment_of("o1").await["status"], "awaiting");
}

/// Tried as a new user would: the customer's return answered and the order reads
/// `return_requested`, but `order.return_requested` has not reached shipping yet. The
/// admin's receipt of the goods must not be refused.
#[tokio::test]
async fn a_return_the_order_service_has_opened_is_received_before_its_event_arrives() {
    let app = spawn_app().await;
    let id = app.delivered_shipment("o1", "u1").await;
    app.order_is("o1", "return_requested").await;

    let response = app.mark_returned(&id, &app.tokens.admin("root")).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        history(&response.body),
        [
            "pending",
            "awaiting",
            "delivered",
            "return_open",
            "returned"
        ]
    );
    // The event, when it comes, finds the return done.
    app.deliver_events(&[return_requested("o1", "u1")]).await;
    assert_eq!(app.shipment_of("o1").await["status"], "returned");
    let announced = app.announced_once::<ShipmentReturned>().await;
    assert_eq!(announced.data["order_id"], "o1");
}

/// Right after checkout, the order's shipment is asked for before order.created reached
/// shipping: it is made as the events would have made it, from what the order service
/// says; a paid order's shipment awaits delivery, announced as payment.completed would.
#[tokio::test]
async fn an_orders_shipment_asked_for_before_its_events_is_made_from_the_order() {
    use event_contracts::ShipmentAwaiting;

    use crate::helpers::{order_created, payment_completed};

    let app = spawn_app().await;
    let token = app.tokens.customer("u1");
    app.order_is("o1", "pending").await;
    app.order_is("o2", "paid").await;

    let pending = app.list("?order_id=o1", &token).await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert_eq!(pending.listed(), 1, "{}", pending.body);
    assert_eq!(pending.body["items"][0]["status"], "pending");

    let awaiting = app.list("?order_id=o2", &token).await;
    assert_eq!(awaiting.body["items"][0]["status"], "awaiting");
    let announced = app.announced_once::<ShipmentAwaiting>().await;
    assert_eq!(announced.data["order_id"], "o2");

    // The events, when they come, find the shipments made.
    app.deliver_events(&[
        order_created("o1", "u1"),
        order_created("o2", "u1"),
        payment_completed("o2", "u1"),
    ])
    .await;
    assert_eq!(app.shipments_of("o1").await.len(), 1);
    assert_eq!(app.shipments_of("o2").await.len(), 1);
    app.settled().await;
    assert_eq!(app.published_of::<ShipmentAwaiting>().len(), 1);
}
