use event_contracts::{CancelReason, Envelope, PaymentRefunded, ShipmentReturned};
use service_kit::Settings;
use test_support::eventually;

use crate::helpers::{
    DECLINED_CARD, PaymentSteps, order_cancelled, order_created, spawn_app, spawn_app_with,
    stock_reserved,
};

fn shipment_returned(order_id: &str, user_id: &str) -> Envelope {
    Envelope::new(
        &ShipmentReturned {
            shipment_id: format!("ship-{order_id}"),
            order_id: order_id.into(),
            user_id: user_id.into(),
        },
        format!("flow-{order_id}"),
    )
}

#[tokio::test]
async fn a_new_order_gets_one_pending_unpayable_payment_for_its_total_even_if_announced_twice() {
    let app = spawn_app().await;
    let created = order_created("o1", "u1", 4250);
    // The same event twice, as an at-least-once bus may deliver it, then a second
    // order.created for the same order (a different event id).
    app.publish(&[created.clone(), created, order_created("o1", "u1", 4250)])
        .await;

    let payment = app.payment_of("o1").await;
    assert_eq!(payment["user_id"], "u1");
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["payable"], false);
    assert_eq!(payment["amount"]["amount_minor"], 4250);
    assert_eq!(payment["amount"]["currency"], "EUR");
    assert_eq!(payment["history"][0]["status"], "pending");

    app.settle().await;
    let stored = app.stored("payments").await;
    assert_eq!(stored.items.len(), 1);
    assert!(app.parked("order.created").await.is_empty());
}

#[tokio::test]
async fn reserved_stock_makes_the_payment_payable() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let payment = app.payment(&id).await;
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["payable"], true);
}

#[tokio::test]
async fn stock_reserved_before_the_order_is_known_is_retried_until_the_payment_exists() {
    let app = spawn_app().await;
    app.publish(&[stock_reserved("o1")]).await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    app.publish(&[order_created("o1", "u1", 1999)]).await;

    let id = app.payment_id_of("o1").await;
    app.until_status(&id, "pending").await;
    eventually("the payment to become payable", || async {
        app.payment(&id).await["payable"] == true
    })
    .await;
    assert!(app.parked("stock.reserved").await.is_empty());
}

#[tokio::test]
async fn a_cancelled_order_voids_its_pending_payment_without_moving_money() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    app.publish(&[order_cancelled("o1", "u1", CancelReason::CustomerRequest)])
        .await;

    let payment = app.until_status(&id, "voided").await;
    assert_eq!(payment["history"][1]["status"], "voided");
    assert_eq!(
        payment["history"][1]["note"],
        "order cancelled by the customer"
    );
    // A voided payment can no longer be paid.
    let pay = app.pay_as(&id, "u1").await;
    assert_eq!(pay.status, 409);
    app.settle().await;
    assert!(
        app.published.lock().unwrap().is_empty(),
        "nothing to announce"
    );
}

#[tokio::test]
async fn a_cancellation_that_overtakes_the_order_still_voids_the_payment() {
    let app = spawn_app().await;
    app.publish(&[order_cancelled("o1", "u1", CancelReason::CustomerRequest)])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    app.publish(&[order_created("o1", "u1", 1999)]).await;
    let id = app.payment_id_of("o1").await;
    app.until_status(&id, "voided").await;
}

/// However late `order.created` comes after its cancellation, even long after the bus
/// stopped waiting for it, the payment it creates is voided and cannot be paid.
#[tokio::test]
async fn a_cancellation_long_before_its_order_is_kept_and_voids_the_payment_when_it_comes() {
    let app = spawn_app_with(Settings {
        bus_early_wait_secs: 1,
        bus_initial_backoff_ms: 10,
        ..Settings::default()
    })
    .await;
    app.publish(&[order_cancelled("o1", "u1", CancelReason::StockRejected)])
        .await;
    // Longer than the bus waits for an event that comes too early.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // What else may come for the order meanwhile waits for nothing either: its stock
    // (reserved before the cancellation), and the cancellation once more.
    app.publish(&[
        stock_reserved("o1"),
        order_cancelled("o1", "u1", CancelReason::StockRejected),
    ])
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.publish(&[order_created("o1", "u1", 1999)]).await;

    let id = app.payment_id_of("o1").await;
    let payment = app.until_status(&id, "voided").await;
    assert_eq!(
        payment["history"].as_array().unwrap().last().unwrap()["note"],
        "order cancelled: stock could not be reserved"
    );
    let pay = app.pay_as(&id, "u1").await;
    assert_eq!(pay.status, 409, "{:?}", pay.body);
    app.settle().await;
    for topic in ["order.cancelled", "stock.reserved"] {
        assert!(
            app.parked(topic).await.is_empty(),
            "{topic}: kept, not parked"
        );
    }
}

#[tokio::test]
async fn a_cancelled_order_that_was_paid_is_refunded_once_and_announced() {
    let app = spawn_app().await;
    let id = app.paid("o1", "u1").await;
    let cancelled = order_cancelled("o1", "u1", CancelReason::CustomerRequest);
    app.publish(&[cancelled.clone(), cancelled.clone()]).await;

    let payment = app.until_status(&id, "refunded").await;
    assert!(payment["refund_reference"].is_string());
    let refunded = app.wait_for_events("payment.refunded", 1).await;
    assert_eq!(
        app.settled_events("payment.refunded").await.len(),
        1,
        "refunded once"
    );
    let event = &refunded[0];
    assert_eq!(event.causation_id.as_deref(), Some(cancelled.id.as_str()));
    assert_eq!(event.correlation_id, cancelled.correlation_id);
    let data: PaymentRefunded = event.decode().unwrap();
    assert_eq!(
        (
            data.payment_id.as_str(),
            data.order_id.as_str(),
            data.user_id.as_str()
        ),
        (id.as_str(), "o1", "u1")
    );
    assert_eq!(data.amount.amount_minor(), 1999);
}

#[tokio::test]
async fn a_cancellation_after_a_failed_payment_changes_nothing() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let failed = app
        .pay(&id, &app.tokens.customer("u1"), DECLINED_CARD)
        .await;
    assert_eq!(failed.body["status"], "failed");
    app.publish(&[order_cancelled("o1", "u1", CancelReason::PaymentFailed)])
        .await;
    app.settle().await;
    assert_eq!(app.payment(&id).await["status"], "failed");
    assert!(app.published("payment.refunded").is_empty());
    assert!(app.parked("order.cancelled").await.is_empty());
}

#[tokio::test]
async fn a_returned_shipment_refunds_the_payment_once() {
    let app = spawn_app().await;
    let id = app.paid("o1", "u1").await;
    let returned = shipment_returned("o1", "u1");
    app.publish(&[returned.clone(), returned.clone()]).await;

    let payment = app.until_status(&id, "refunded").await;
    assert_eq!(payment["history"][2]["note"], "shipment returned");
    let refunded = app.wait_for_events("payment.refunded", 1).await;
    assert_eq!(
        refunded[0].causation_id.as_deref(),
        Some(returned.id.as_str())
    );
    assert_eq!(app.settled_events("payment.refunded").await.len(), 1);
}

#[tokio::test]
async fn a_returned_shipment_of_a_payment_an_admin_already_refunded_refunds_nothing_more() {
    let app = spawn_app().await;
    let id = app.paid("o1", "u1").await;
    assert_eq!(app.refund(&id, &app.tokens.admin("root")).await.status, 200);
    app.publish(&[shipment_returned("o1", "u1")]).await;
    app.settle().await;
    assert_eq!(app.wait_for_events("payment.refunded", 1).await.len(), 1);
    assert!(app.parked("shipment.returned").await.is_empty());
}
