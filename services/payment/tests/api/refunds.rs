use event_contracts::PaymentRefunded;
use test_support::field_of_each;

use crate::helpers::{PaymentSteps, spawn_app};

#[tokio::test]
async fn a_customer_cannot_refund_even_their_own_payment() {
    let app = spawn_app().await;
    let id = app.paid("o1", "u1").await;
    let response = app.refund(&id, &app.tokens.customer("u1")).await;
    response.assert_error(403, "forbidden");
    assert_eq!(app.payment(&id).await["status"], "completed");
}

#[tokio::test]
async fn an_admin_refunds_a_completed_payment_once_and_it_is_announced() {
    let app = spawn_app().await;
    let id = app.paid("o1", "u1").await;
    let admin = app.tokens.admin("root");

    let refunded = app.refund(&id, &admin).await;
    assert_eq!(refunded.status, 200, "{}", refunded.body);
    assert_eq!(refunded.body["status"], "refunded");
    assert!(refunded.body["refund_reference"].is_string());
    let statuses = field_of_each(&refunded.body["history"], "status");
    assert_eq!(statuses, ["pending", "completed", "refunded"]);

    let events = app.wait_for_events("payment.refunded", 1).await;
    let data: PaymentRefunded = events[0].decode().unwrap();
    assert_eq!(
        (data.payment_id.as_str(), data.order_id.as_str()),
        (id.as_str(), "o1")
    );
    assert_eq!(data.amount.amount_minor(), 1999);

    let again = app.refund(&id, &admin).await;
    again.assert_error(409, "conflict");
    assert_eq!(app.settled_events("payment.refunded").await.len(), 1);
}

#[tokio::test]
async fn a_payment_that_was_not_completed_cannot_be_refunded() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let admin = app.tokens.admin("root");
    let pending = app.refund(&id, &admin).await;
    assert_eq!(pending.status, 409);
    assert_eq!(app.payment(&id).await["status"], "pending");

    let missing = app.refund("no-such-payment", &admin).await;
    assert_eq!(missing.status, 404);
    assert!(app.settled_events("payment.refunded").await.is_empty());
}
