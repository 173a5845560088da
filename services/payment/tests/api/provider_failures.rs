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
