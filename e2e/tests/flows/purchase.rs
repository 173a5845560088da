use crate::system::System;
use reqwest::StatusCode;

const APPROVED: &str = "4242424242424242";
const DECLINED: &str = "4000000000000002";

#[tokio::test]
async fn a_purchase_runs_to_completed_and_the_stock_is_decremented() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, mug) = target.admin_selling("E2E mug", 1250, 5).await.unwrap();
    let ada = target.new_customer().await.unwrap();
    let ada = &ada.client;

    ada.add_to_cart(&mug, 2).await.unwrap();
    let cart = ada.get("/cart").await.unwrap();
    assert_eq!(cart.status, StatusCode::OK);
    let order_id = ada.checkout().await.unwrap();
    let order = ada.order_status(&order_id, "pending").await.unwrap();
    assert_eq!(order.body["total"]["amount_minor"], 2500);
    let emptied = ada.get("/cart").await.unwrap();
    assert_eq!(
        emptied.body["items"].as_array().map(Vec::len),
        Some(0),
        "{emptied:?}"
    );

    let paid = ada.pay(&order_id, APPROVED).await.unwrap();
    assert_eq!(paid.status, StatusCode::OK, "{paid:?}");
    assert_eq!(paid.body["status"], "completed");
    // Awaiting shipment, then delivered by the admin (the helper checks each step).
    admin.deliver(ada, &order_id).await.unwrap();

    let accepted = ada
        .post(&format!("/orders/{order_id}/accept"), serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(accepted.status, StatusCode::OK);
    assert_eq!(accepted.body["status"], "completed");
    // 5 on the shelf, 2 sold: 3 left, and the reservation is committed, not released.
    assert_eq!(admin.stock_of(&mug).await.unwrap(), 3);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(admin.stock_of(&mug).await.unwrap(), 3);

    let notes = ada
        .follow(
            "/notifications",
            "payment and shipment notifications",
            |r| r.listed() >= 4,
        )
        .await
        .unwrap();
    let kinds = notes.each("items", "kind");
    for kind in [
        "payment.completed",
        "shipment.awaiting",
        "shipment.delivered",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    system.stop().await;
}

#[tokio::test]
async fn a_declined_payment_cancels_the_order_and_releases_the_stock() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, lamp) = target.admin_selling("E2E lamp", 4000, 5).await.unwrap();
    let bob = target.new_customer().await.unwrap();
    let bob = &bob.client;

    let order_id = bob.order(&lamp, 2).await.unwrap();
    // Held while the order is open.
    admin
        .follow(&format!("/products/{lamp}"), "stock held", |r| {
            r.body["stock"] == 3
        })
        .await
        .unwrap();

    let declined = bob.pay(&order_id, DECLINED).await.unwrap();
    assert_eq!(declined.status, StatusCode::OK, "{declined:?}");
    assert_eq!(declined.body["status"], "failed");
    let order = bob.order_status(&order_id, "cancelled").await.unwrap();
    let causes = order.each("history", "cause");
    assert!(causes.contains(&"payment.failed"), "{causes:?}");
    admin
        .follow(&format!("/products/{lamp}"), "stock released", |r| {
            r.body["stock"] == 5
        })
        .await
        .unwrap();
    let again = bob.pay(&order_id, APPROVED).await.unwrap();
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a failed payment is not retried into a capture"
    );
    system.stop().await;
}

#[tokio::test]
async fn a_customer_cancels_a_pending_order_and_the_stock_comes_back() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, pen) = target.admin_selling("E2E pen", 300, 4).await.unwrap();
    let cy = target.new_customer().await.unwrap();
    let order_id = cy.client.order(&pen, 4).await.unwrap();
    cy.client.order_status(&order_id, "pending").await.unwrap();
    let cancelled = cy
        .client
        .post(&format!("/orders/{order_id}/cancel"), serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(cancelled.status, StatusCode::OK);
    admin
        .follow(&format!("/products/{pen}"), "stock back", |r| {
            r.body["stock"] == 4
        })
        .await
        .unwrap();
    let payment = cy.client.payment_of(&order_id).await.unwrap();
    let payment = cy
        .client
        .follow(
            &format!("/payments/{}", payment["id"].as_str().unwrap()),
            "voided",
            |r| r.body["status"] == "voided",
        )
        .await
        .unwrap();
    assert_eq!(payment.body["status"], "voided");
    system.stop().await;
}

#[tokio::test]
async fn checking_out_an_empty_cart_is_a_conflict() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let dee = target.new_customer().await.unwrap();
    let reply = dee
        .client
        .post("/cart/checkout", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_code(), "conflict");
    system.stop().await;
}
