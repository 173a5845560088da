use crate::system::System;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_return_runs_to_returned_then_refunded_with_notifications() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, kettle) = target.admin_selling("E2E kettle", 3000, 2).await.unwrap();
    let eve = target.new_customer().await.unwrap();
    let eve = &eve.client;

    let order_id = eve.order(&kettle, 1).await.unwrap();
    assert_eq!(
        eve.pay(&order_id, "4242424242424242").await.unwrap().status,
        StatusCode::OK
    );
    admin.deliver(eve, &order_id).await.unwrap();

    let requested = eve
        .post(&format!("/orders/{order_id}/return"), json!({}))
        .await
        .unwrap();
    assert_eq!(requested.status, StatusCode::OK);
    assert_eq!(requested.body["status"], "return_requested");
    // The return is opened on the shipment by event; then the admin receives the parcel
    // (the helper checks it answers 200 and waits for the refund).
    admin.receive_return(eve, &order_id).await.unwrap();
    let order = eve.order_status(&order_id, "refunded").await.unwrap();
    let statuses = order.each("history", "status");
    // `returned` may be skipped: the refund it causes can reach the order service
    // first (another topic), and a refund ends a return_requested order too.
    assert_eq!(
        statuses[..5],
        [
            "pending",
            "paid",
            "awaiting_shipment",
            "delivered",
            "return_requested"
        ]
    );
    assert_eq!(statuses.last(), Some(&"refunded"));
    let payment = eve.payment_of(&order_id).await.unwrap();
    assert_eq!(payment["status"], "refunded");
    // The returned unit is back on sale.
    admin
        .follow(&format!("/products/{kettle}"), "stock back", |r| {
            r.body["stock"] == 2
        })
        .await
        .unwrap();
    let notes = eve
        .follow("/notifications", "refund notification", |r| {
            r.body["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|n| n["kind"] == "payment.refunded"))
        })
        .await
        .unwrap();
    let kinds = notes.each("items", "kind");
    assert_eq!(
        kinds.first(),
        Some(&"payment.refunded"),
        "newest first: {kinds:?}"
    );
    for kind in [
        "order.return_requested",
        "shipment.returned",
        "payment.completed",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    system.stop().await;
}
