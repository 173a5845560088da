//! How the shipment follows the order and payment events, whatever their order and
//! however often they arrive.

use std::time::Duration;

use event_contracts::{ShipmentAwaiting, ShipmentCancelled, ShipmentDelivered};

use test_support::eventually;

use crate::helpers::{
    ShippingSteps, history, order_cancelled, order_created, payment_completed, payment_refunded,
    return_requested, spawn_app,
};

#[tokio::test]
async fn an_order_created_event_delivered_twice_makes_one_pending_shipment() {
    let app = spawn_app().await;
    let created = order_created("o1", "u1");
    app.publish(&[created.clone(), created.clone()]).await;
    app.handled(&created).await;
    // A second, distinct `order.created` for the same order (a producer retry) too.
    app.deliver_events(&[order_created("o1", "u1")]).await;
    app.settled().await;

    let shipment = app.shipment_of("o1").await;
    assert_eq!(shipment["status"], "pending");
    assert_eq!(shipment["user_id"], "u1");
    assert_eq!(history(&shipment), ["pending"]);
    assert!(
        app.published.lock().unwrap().is_empty(),
        "pending is not announced"
    );
    assert!(app.parked("order.created").await.is_empty());
}

#[tokio::test]
async fn a_completed_payment_makes_the_shipment_awaiting_and_announces_it_once() {
    let app = spawn_app().await;
    app.deliver_events(&[order_created("o1", "u1")]).await;
    let paid = payment_completed("o1", "u1");
    app.publish(&[paid.clone(), paid.clone()]).await;
    app.handled(&paid).await;
    // A distinct duplicate of the payment event finds the shipment already awaiting.
    app.deliver_events(&[payment_completed("o1", "u1")]).await;
    app.settled().await;

    let shipment = app.shipment_of("o1").await;
    assert_eq!(shipment["status"], "awaiting");
    assert_eq!(history(&shipment), ["pending", "awaiting"]);
    let announced = app.announced_once::<ShipmentAwaiting>().await;
    assert_eq!(announced.data["shipment_id"], shipment["id"]);
    assert_eq!(announced.data["order_id"], "o1");
    assert_eq!(announced.data["user_id"], "u1");
    assert_eq!(announced.causation_id.as_deref(), Some(paid.id.as_str()));
    assert_eq!(announced.correlation_id, paid.correlation_id);
}

#[tokio::test]
async fn a_payment_before_its_order_still_yields_one_awaiting_shipment() {
    let app = spawn_app().await;
    app.deliver_events(&[payment_completed("o1", "u1")]).await;
    let early = app.shipment_of("o1").await;
    assert_eq!(early["status"], "awaiting");
    assert_eq!(history(&early), ["awaiting"]);

    app.deliver_events(&[order_created("o1", "u1")]).await;
    app.settled().await;
    let shipment = app.shipment_of("o1").await;
    assert_eq!(
        shipment["status"], "awaiting",
        "order.created does not reset it"
    );
    assert_eq!(shipment["id"], early["id"]);
    assert_eq!(app.published_of::<ShipmentAwaiting>().len(), 1);
}

#[tokio::test]
async fn the_order_and_its_payment_arriving_together_make_one_shipment() {
    let app = spawn_app().await;
    for round in 0..5 {
        let order_id = format!("o{round}");
        let created = order_created(&order_id, "u1");
        let paid = payment_completed(&order_id, "u1");
        // Different topics, consumed by different tasks: they race to create it.
        app.publish(&[paid.clone(), created.clone()]).await;
        app.handled(&created).await;
        app.handled(&paid).await;
        let shipment = app.shipment_of(&order_id).await;
        assert_eq!(shipment["status"], "awaiting", "{order_id}");
    }
    app.settled().await;
    assert_eq!(app.published_of::<ShipmentAwaiting>().len(), 5);
}

#[tokio::test]
async fn a_cancelled_order_cancels_its_pending_shipment_which_then_cannot_be_delivered() {
    let app = spawn_app().await;
    app.deliver_events(&[order_created("o1", "u1")]).await;
    app.deliver_events(&[order_cancelled("o1", "u1")]).await;
    let shipment = app.shipment_of("o1").await;
    assert_eq!(shipment["status"], "cancelled");
    assert_eq!(history(&shipment), ["pending", "cancelled"]);

    // A payment that completed anyway (the payment service refunds it) ships nothing.
    app.deliver_events(&[payment_completed("o1", "u1")]).await;
    let id = shipment["id"].as_str().unwrap();
    let delivered = app.deliver(id, &app.tokens.admin("root")).await;
    delivered.assert_error(409, "conflict");
    assert_eq!(delivered.body["details"]["status"], "cancelled");
    app.settled().await;
    // Only that the goods never left, once: what stock is put back on sale on.
    let cancelled = app.published_of::<ShipmentCancelled>();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].data["order_id"], "o1");
    assert_eq!(app.published.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refunded_payment_cancels_an_awaiting_shipment() {
    let app = spawn_app().await;
    app.awaiting_shipment("o1", "u1").await;
    app.deliver_events(&[payment_refunded("o1", "u1")]).await;
    let shipment = app.shipment_of("o1").await;
    assert_eq!(shipment["status"], "cancelled");
    assert_eq!(history(&shipment), ["pending", "awaiting", "cancelled"]);
    app.settled().await;
    assert_eq!(app.published_of::<ShipmentCancelled>().len(), 1);
}

#[tokio::test]
async fn a_cancellation_that_overtakes_its_order_keeps_the_shipment_cancelled() {
    let app = spawn_app().await;
    app.deliver_events(&[order_cancelled("o1", "u1")]).await;
    app.deliver_events(&[order_created("o1", "u1")]).await;
    app.deliver_events(&[payment_completed("o1", "u1")]).await;
    app.settled().await;
    let shipment = app.shipment_of("o1").await;
    assert_eq!(shipment["status"], "cancelled");
    assert!(app.published_of::<ShipmentAwaiting>().is_empty());
}

#[tokio::test]
async fn a_cancellation_after_delivery_is_acknowledged_and_changes_nothing() {
    let app = spawn_app().await;
    app.delivered_shipment("o1", "u1").await;
    app.deliver_events(&[order_cancelled("o1", "u1")]).await;
    app.deliver_events(&[payment_refunded("o1", "u1")]).await;
    assert_eq!(app.shipment_of("o1").await["status"], "delivered");
    app.settled().await;
    assert!(
        app.published_of::<ShipmentCancelled>().is_empty(),
        "delivered goods are out of the shop"
    );
    assert!(app.parked("order.cancelled").await.is_empty());
    assert!(app.parked("payment.refunded").await.is_empty());
}

#[tokio::test]
async fn a_return_request_opens_the_return_of_a_delivered_shipment() {
    let app = spawn_app().await;
    app.delivered_shipment("o1", "u1").await;
    let requested = return_requested("o1", "u1");
    app.publish(&[requested.clone(), requested.clone()]).await;
    app.handled(&requested).await;
    let shipment = app.shipment_of("o1").await;
    assert_eq!(shipment["status"], "return_open");
    assert_eq!(
        history(&shipment),
        ["pending", "awaiting", "delivered", "return_open"]
    );
}

#[tokio::test]
async fn a_return_request_that_overtakes_the_delivery_is_retried_until_it_applies() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    let requested = return_requested("o1", "u1");
    app.publish(std::slice::from_ref(&requested)).await;
    // The first attempt fails (the shipment is only awaiting) and the bus backs off.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(app.shipment_of("o1").await["status"], "awaiting");

    let delivered = app.deliver(&id, &app.tokens.admin("root")).await;
    assert_eq!(delivered.status, 200);
    eventually("the retried return request to open the return", || async {
        app.shipment_of("o1").await["status"] == "return_open"
    })
    .await;
    assert!(app.parked("order.return_requested").await.is_empty());
    app.settled().await;
    assert_eq!(app.published_of::<ShipmentDelivered>().len(), 1);
}
