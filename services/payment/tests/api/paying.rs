use axum::http::Method;
use event_contracts::{PaymentCompleted, PaymentFailed};
use serde_json::json;

use crate::helpers::{APPROVED_CARD, DECLINED_CARD, PaymentSteps, spawn_app};

#[tokio::test]
async fn paying_before_the_stock_is_reserved_is_refused_with_409() {
    let app = spawn_app().await;
    let id = app.ordered("o1", "u1").await;
    let response = app.pay_as(&id, "u1").await;
    response.assert_error(409, "conflict");
    assert!(
        response.body["message"].as_str().unwrap().contains("stock"),
        "{}",
        response.body
    );
    assert_eq!(app.payment(&id).await["status"], "pending");
}

#[tokio::test]
async fn an_approved_card_completes_the_payment_and_announces_it() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let response = app
        .send(
            Method::POST,
            &format!("/api/v1/payments/{id}/pay"),
            Some(&app.tokens.customer("u1")),
            Some(json!({ "card_number": APPROVED_CARD })),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["status"], "completed");
    assert_eq!(response.body["card_last4"], "4242");
    assert!(response.body["provider_reference"].is_string());
    assert_eq!(response.body["history"][1]["status"], "completed");
    assert_eq!(app.payment(&id).await["status"], "completed");

    let events = app.wait_for_events("payment.completed", 1).await;
    let completed: PaymentCompleted = events[0].decode().unwrap();
    assert_eq!(completed.payment_id, id);
    assert_eq!(completed.order_id, "o1");
    assert_eq!(completed.user_id, "u1");
    assert_eq!(completed.amount.amount_minor(), 1999);
    assert_eq!(events[0].causation_id, None, "caused by a request");
}

#[tokio::test]
async fn a_declined_card_fails_the_payment_with_the_reason_and_announces_it() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let response = app
        .pay(&id, &app.tokens.customer("u1"), DECLINED_CARD)
        .await;
    assert_eq!(response.status, 200, "a decline is an answer, not an error");
    assert_eq!(response.body["status"], "failed");
    let reason = response.body["failure_reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("declined"), "{reason}");

    let events = app.wait_for_events("payment.failed", 1).await;
    let failed: PaymentFailed = events[0].decode().unwrap();
    assert_eq!((failed.payment_id, failed.reason), (id.clone(), reason));
    assert!(app.published("payment.completed").is_empty());

    // Failed is final: the same order is not charged with another card.
    let retry = app.pay_as(&id, "u1").await;
    assert_eq!(retry.status, 409);
}

#[tokio::test]
async fn any_other_well_formed_card_is_declined_by_the_simulated_provider() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let response = app
        .pay(&id, &app.tokens.customer("u1"), "5555555555554444")
        .await;
    assert_eq!(response.body["status"], "failed");
    assert_eq!(response.body["card_last4"], "4444");
}

#[tokio::test]
async fn a_completed_payment_is_not_paid_twice() {
    let app = spawn_app().await;
    let id = app.paid("o1", "u1").await;
    let again = app.pay_as(&id, "u1").await;
    again.assert_error(409, "conflict");
    assert_eq!(app.settled_events("payment.completed").await.len(), 1);
}

#[tokio::test]
async fn of_two_concurrent_payments_only_one_captures() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let token = app.tokens.customer("u1");
    let (a, b, c) = tokio::join!(
        app.pay(&id, &token, APPROVED_CARD),
        app.pay(&id, &token, APPROVED_CARD),
        app.pay(&id, &token, APPROVED_CARD),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16(), c.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409]);
    app.wait_for_events("payment.completed", 1).await;
    assert_eq!(app.settled_events("payment.completed").await.len(), 1);
    assert_eq!(
        app.payment(&id).await["history"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn another_customers_payment_is_not_found() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let stranger = app.tokens.customer("u2");
    let get = app.get(&format!("/api/v1/payments/{id}"), &stranger).await;
    get.assert_error(404, "not_found");
    let pay = app.pay(&id, &stranger, APPROVED_CARD).await;
    assert_eq!(pay.status, 404);
    // Indistinguishable from a payment that does not exist.
    let missing = app.pay("no-such-payment", &stranger, APPROVED_CARD).await;
    assert_eq!((missing.status, &missing.body), (pay.status, &pay.body));
    assert_eq!(app.payment(&id).await["status"], "pending");
}

#[tokio::test]
async fn the_owner_and_admins_can_read_a_payment() {
    let app = spawn_app().await;
    let id = app.ordered("o1", "u1").await;
    for token in [app.tokens.customer("u1"), app.tokens.admin("root")] {
        let response = app.get(&format!("/api/v1/payments/{id}"), &token).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body["id"], id.as_str());
        assert_eq!(response.body["order_id"], "o1");
    }
}

#[tokio::test]
async fn an_admin_cannot_pay_for_a_customer() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let response = app.pay(&id, &app.tokens.admin("root"), APPROVED_CARD).await;
    response.assert_error(403, "forbidden");
    assert_eq!(app.payment(&id).await["status"], "pending");
}

#[tokio::test]
async fn a_card_number_that_is_not_13_to_19_digits_is_refused_naming_card_number() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    let token = app.tokens.customer("u1");
    for card in [
        "",
        "424242424242",
        "42424242424242424242",
        "4242 4242 4242 4242",
        "4242abcd42424242",
    ] {
        let response = app.pay(&id, &token, card).await;
        assert_eq!(response.status, 422, "{card:?}");
        assert_eq!(response.error_code(), "validation_failed");
        assert_eq!(response.body["details"]["field"], "card_number", "{card:?}");
    }
    for body in [
        json!({}),
        json!({ "card_number": 4242424242424242u64 }),
        json!({ "card_number": APPROVED_CARD, "amount": 1 }),
    ] {
        let response = app
            .send(
                Method::POST,
                &format!("/api/v1/payments/{id}/pay"),
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status, 422, "{body}");
    }
    assert_eq!(app.payment(&id).await["status"], "pending", "nothing moved");
}

#[tokio::test]
async fn the_full_card_number_is_never_stored() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    app.pay_as(&id, "u1").await;
    app.wait_for_events("payment.completed", 1).await;

    let payments = app.stored("payments").await;
    let outbox = app.stored("outbox").await;
    for doc in payments.items.iter().chain(&outbox.items) {
        let text = doc.body.to_string();
        assert!(!text.contains(APPROVED_CARD), "{text}");
    }
    assert_eq!(payments.items[0].body["card_last4"], "4242");
    for event in app.published.lock().unwrap().iter() {
        assert!(!event.data.to_string().contains(APPROVED_CARD));
    }
}

#[tokio::test]
async fn without_a_valid_token_payments_are_refused_with_401() {
    let app = spawn_app().await;
    let id = app.payable("o1", "u1").await;
    for token in [app.tokens.expired("u1"), "garbage".to_owned()] {
        assert_eq!(app.get("/api/v1/payments", &token).await.status, 401);
        assert_eq!(app.pay(&id, &token, APPROVED_CARD).await.status, 401);
    }
    let anonymous = test_support::call(Method::GET, "/api/v1/payments")
        .send(&app.router)
        .await;
    assert_eq!(anonymous.status, 401);
}
