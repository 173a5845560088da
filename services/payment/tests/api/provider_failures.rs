//! The service with a real (mock) provider behind HTTP: what the customer and the
//! bus see when the provider is slow, down, or refuses.

use std::time::Duration;

use event_contracts::CancelReason;
use serde_json::json;
use service_kit::Settings;
use test_support::{TestService, eventually};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_partial_json, method, path},
};

use crate::helpers::{
    APPROVED_CARD, PaymentSteps, approved, order_cancelled, refunded, spawn_app_with,
};

async fn app_with_provider(server: &MockServer, timeout_ms: &str) -> TestService {
    app_with_provider_and(server, timeout_ms, &[]).await
}

/// The service on `server`'s provider, with `more` settings.
async fn app_with_provider_and(
    server: &MockServer,
    timeout_ms: &str,
    more: &[(&str, &str)],
) -> TestService {
    let uri = server.uri();
    let mut pairs = vec![
        ("payment_provider", "http"),
        ("payment_provider_url", uri.as_str()),
        ("payment_provider_timeout_ms", timeout_ms),
    ];
    pairs.extend_from_slice(more);
    spawn_app_with(Settings::from_pairs(pairs).unwrap()).await
}

#[tokio::test]
async fn a_provider_timeout_answers_502_and_the_payment_stays_pending_for_a_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(approved("ch_late").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let app = app_with_provider(&server, "200").await;
    let id = app.payable("o1", "u1").await;
    let token = app.tokens.customer("u1");

    let timed_out = app.pay(&id, &token, APPROVED_CARD).await;
    assert_eq!(timed_out.status, 502, "{}", timed_out.body);
    assert_eq!(timed_out.error_code(), "bad_gateway");
    let payment = app.payment(&id).await;
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["payable"], true);

    // The provider recovers; the retry goes through at once, with the same key.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .and(body_partial_json(json!({ "idempotency_key": id })))
        .respond_with(approved("ch_1"))
        .expect(1)
        .mount(&server)
        .await;
    let retried = app.pay(&id, &token, APPROVED_CARD).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.body["status"], "completed");
    assert_eq!(retried.body["provider_reference"], "ch_1");
    assert_eq!(app.settled_events("payment.completed").await.len(), 1);
    assert!(app.published("payment.failed").is_empty());
}

#[tokio::test]
async fn a_provider_server_error_answers_502_and_changes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let app = app_with_provider(&server, "1000").await;
    let id = app.payable("o1", "u1").await;
    let response = app.pay_as(&id, "u1").await;
    response.assert_error(502, "bad_gateway");
    assert_eq!(app.payment(&id).await["status"], "pending");
    app.settle().await;
    assert!(app.published.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refund_the_provider_does_not_make_answers_502_and_the_payment_stays_completed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(approved("ch_1"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let app = app_with_provider(&server, "1000").await;
    let id = app.paid("o1", "u1").await;

    let response = app.refund(&id, &app.tokens.admin("root")).await;
    response.assert_error(502, "bad_gateway");
    assert_eq!(app.payment(&id).await["status"], "completed");
    assert!(app.settled_events("payment.refunded").await.is_empty());
}

#[tokio::test]
async fn a_cancellation_during_a_charge_waits_for_it_and_then_refunds_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(approved("ch_1").set_delay(Duration::from_millis(800)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(refunded("re_1"))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_with_provider(&server, "2000").await;
    let id = app.payable("o1", "u1").await;
    let token = app.tokens.customer("u1");

    let cancel = order_cancelled("o1", "u1", CancelReason::CustomerRequest);
    let (paid, ()) = tokio::join!(app.pay(&id, &token, APPROVED_CARD), async {
        // While the provider is still charging.
        eventually("the provider to be asked for the charge", || async {
            let requests = server.received_requests().await.unwrap_or_default();
            requests.iter().any(|r| r.url.path() == "/charges")
        })
        .await;
        app.publish(&[cancel]).await;
    });
    // The charge went through, so the cancellation refunds it rather than voiding a
    // payment whose money was taken.
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "completed");
    let payment = app.until_status(&id, "refunded").await;
    assert_eq!(payment["refund_reference"], "re_1");
    assert_eq!(app.wait_for_events("payment.refunded", 1).await.len(), 1);
    assert_eq!(app.published("payment.completed").len(), 1);
}

/// A provider outage is not something wrong with the cancellation: its refund is retried
/// past the bus's attempts until the provider is back, and nothing is parked.
#[tokio::test]
async fn a_refund_through_a_provider_outage_is_made_once_the_provider_is_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(approved("ch_1"))
        .mount(&server)
        .await;
    // Down for more tries than the bus makes before it parks a failing event.
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(5)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(refunded("re_1"))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_with_provider_and(
        &server,
        "2000",
        &[("bus_max_attempts", "2"), ("bus_initial_backoff_ms", "10")],
    )
    .await;
    let id = app.paid("o1", "u1").await;

    app.publish(&[order_cancelled("o1", "u1", CancelReason::CustomerRequest)])
        .await;
    let payment = app.until_status(&id, "refunded").await;
    assert_eq!(payment["refund_reference"], "re_1");
    let refund_requests = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/refunds")
        .count();
    assert_eq!(
        refund_requests, 6,
        "five refused while down, then the refund"
    );
    assert!(app.parked("order.cancelled").await.is_empty());
}

/// What an HTTP payment provider answers to a reversal that gave money back.
fn reversed(reference: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"status": "reversed", "reference": reference}))
}

/// The provider charged the card but answered after we stopped waiting, so we do not
/// know that it did. The customer then cancels: the money must go back all the same.
#[tokio::test]
async fn a_charge_answered_too_late_is_reversed_at_the_provider_when_the_order_is_cancelled() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(approved("ch_late").set_delay(Duration::from_millis(1500)))
        .mount(&server)
        .await;
    let app = app_with_provider(&server, "200").await;
    let id = app.payable("o1", "u1").await;
    Mock::given(method("POST"))
        .and(path("/reversals"))
        .and(body_partial_json(json!({
            "charge_idempotency_key": id,
            "amount_minor": 1999,
            "currency": "EUR",
        })))
        .respond_with(reversed("rv_1"))
        .expect(1)
        .mount(&server)
        .await;

    let timed_out = app.pay_as(&id, "u1").await;
    timed_out.assert_error(502, "bad_gateway");
    app.publish(&[order_cancelled("o1", "u1", CancelReason::CustomerRequest)])
        .await;

    let payment = app.until_status(&id, "voided").await;
    assert_eq!(payment["reversal_reference"], "rv_1", "{payment}");
    assert_eq!(payment["reversing"], false);
    let note = payment["history"].as_array().unwrap().last().unwrap()["note"].clone();
    assert!(
        note.as_str().unwrap().contains("reversed at the provider"),
        "{note}"
    );
    assert!(app.settled_events("payment.completed").await.is_empty());
    server.verify().await;
}

/// The reversal is stored before the provider is asked, and asked again until it
/// answers: an outage longer than any retry of the event does not lose it.
#[tokio::test]
async fn a_reversal_the_provider_cannot_take_now_is_retried_until_it_does_and_blocks_paying() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(ResponseTemplate::new(504))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/reversals"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let app =
        app_with_provider_and(&server, "1000", &[("payment_reconcile_interval_ms", "50")]).await;
    let id = app.payable("o1", "u1").await;
    app.pay_as(&id, "u1").await.assert_error(502, "bad_gateway");

    let cancel = order_cancelled("o1", "u1", CancelReason::PaymentFailed);
    app.publish(std::slice::from_ref(&cancel)).await;
    app.handled(&cancel).await;
    eventually("the reversal to be asked again", || async {
        let requests = server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|r| r.url.path() == "/reversals")
            .count()
            >= 3
    })
    .await;
    // Until the provider answers, the payment is neither payable nor voided.
    let reversing = app.payment(&id).await;
    assert_eq!(reversing["status"], "pending", "{reversing}");
    assert_eq!(reversing["reversing"], true, "{reversing}");
    assert_eq!(reversing["payable"], false, "{reversing}");
    app.pay_as(&id, "u1").await.assert_error(409, "conflict");

    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/reversals"))
        .and(body_partial_json(json!({ "charge_idempotency_key": id })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "not_charged"})))
        .expect(1)
        .mount(&server)
        .await;
    let payment = app.until_status(&id, "voided").await;
    assert_eq!(payment["reversing"], false);
    assert_eq!(payment["reversal_reference"], serde_json::Value::Null);
    let note = payment["history"].as_array().unwrap().last().unwrap()["note"].clone();
    assert!(note.as_str().unwrap().contains("charged nothing"), "{note}");
    assert!(app.parked("order.cancelled").await.is_empty());
    app.settle().await;
    server.verify().await;
}

/// A crash between the provider's approval and storing it leaves a charge attempt with
/// no answer; once its lease is over, a cancellation reverses it rather than voiding
/// a payment whose money may have been taken.
#[tokio::test]
async fn a_charge_attempt_a_crash_left_unanswered_is_reversed_when_the_order_is_cancelled() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/reversals"))
        .respond_with(reversed("rv_1"))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_with_provider(&server, "200").await;
    let id = app.payable("o1", "u1").await;
    // What the crashed process left: its claim on the payment, long ago.
    let store = app.ctx.store();
    let mut doc = store.get("payments", &id).await.unwrap().unwrap();
    doc.body["charge_attempt"] = json!({"id": "a1", "started_at": "2026-01-01T00:00:00Z"});
    store
        .commit(vec![doc_store::Write::Update {
            collection: "payments".into(),
            id: id.clone(),
            expected_version: doc.version,
            body: doc.body,
        }])
        .await
        .unwrap();

    app.publish(&[order_cancelled("o1", "u1", CancelReason::CustomerRequest)])
        .await;
    let payment = app.until_status(&id, "voided").await;
    assert_eq!(payment["reversal_reference"], "rv_1", "{payment}");
    server.verify().await;
}
