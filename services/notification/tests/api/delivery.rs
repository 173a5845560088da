use std::time::Duration;

use notification_service::DeliveryPolicy;
use serde_json::json;
use test_support::closed_port_url;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::*;

/// A receiver answering `status` to every POST on `/hook`.
async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn hook(server: &MockServer) -> String {
    format!("{}/hook", server.uri())
}

#[tokio::test]
async fn a_notification_is_posted_to_the_webhook_as_json() {
    let server = receiver(200).await;
    let app = spawn_app_with_webhook(&hook(&server), DeliveryPolicy::default()).await;
    let event = payment_completed("u1", "o1", 1234);
    app.publish(std::slice::from_ref(&event)).await;

    let deliveries = app.deliveries_once_all("delivered").await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["channel"], "webhook");
    assert_eq!(deliveries[0]["attempts"], 1);

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let posted = &requests[0];
    assert_eq!(posted.headers["content-type"], "application/json");
    assert_eq!(posted.headers["idempotency-key"], event.id.as_str());
    let body: serde_json::Value = posted.body_json().unwrap();
    let listed = &app.notifications_of("u1", 1).await[0];
    assert_eq!(
        body,
        json!({
            "id": event.id,
            "user_id": "u1",
            "kind": "payment.completed",
            "title": listed["title"],
            "message": "Payment of 12.34 EUR received for order o1.",
            "order_id": "o1",
            "created_at": listed["created_at"],
        })
    );
}

#[tokio::test]
async fn a_webhook_failing_twice_is_retried_until_it_takes_the_notification() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let app = spawn_app_with_webhook(&hook(&server), quick_policy(5)).await;
    app.publish(&[order_completed("u1", "o1")]).await;

    let deliveries = app.deliveries_once_all("delivered").await;
    assert_eq!(deliveries[0]["attempts"], 3);
    assert_eq!(deliveries[0]["last_error"], json!(null));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_redelivered_event_is_posted_once() {
    let server = receiver(200).await;
    let app = spawn_app_with_webhook(&hook(&server), quick_policy(5)).await;
    let event = shipment_delivered("u1", "o1");
    app.publish(&[event.clone(), event.clone()]).await;
    app.deliveries_once_all("delivered").await;
    app.publish(&[event]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    assert_eq!(app.deliveries().await.len(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_dead_webhook_never_holds_up_notifications_and_its_deliveries_end_failed() {
    // A port nobody listens on: every attempt is refused.
    let dead = format!("{}/hook", closed_port_url());
    let app = spawn_app_with_webhook(&dead, quick_policy(3)).await;
    let events = [
        payment_completed("u1", "o1", 100),
        shipment_awaiting("u1", "o1"),
        shipment_delivered("u1", "o1"),
    ];
    app.publish(&events).await;

    app.notifications_of("u1", 3).await;
    let deliveries = app.deliveries_once_all("failed").await;
    assert_eq!(deliveries.len(), 3);
    for d in &deliveries {
        assert_eq!(d["attempts"], 3, "{d}");
        assert!(
            d["last_error"]
                .as_str()
                .unwrap()
                .contains("could not reach"),
            "{d}"
        );
    }
    for topic in [
        "payment.completed",
        "shipment.awaiting",
        "shipment.delivered",
    ] {
        assert_eq!(app.parked(topic).await.len(), 0, "{topic}");
    }
}

#[tokio::test]
async fn a_webhook_that_hangs_does_not_delay_notifications() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let app = spawn_app_with_webhook(&hook(&server), DeliveryPolicy::default()).await;
    app.publish(&[
        payment_completed("u1", "o1", 100),
        payment_completed("u1", "o2", 100),
    ])
    .await;

    // Listed while the webhook still holds every attempt, well inside its 5 s timeout.
    let started = std::time::Instant::now();
    app.notifications_of("u1", 2).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let deliveries = app.deliveries().await;
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries.iter().all(|d| d["status"] == "pending"),
        "{deliveries:?}"
    );
}

#[tokio::test]
async fn a_webhook_that_keeps_answering_errors_is_given_up_on_after_the_policy_s_attempts() {
    let server = receiver(503).await;
    let app = spawn_app_with_webhook(&hook(&server), quick_policy(4)).await;
    app.publish(&[payment_refunded("u1", "o1", 100)]).await;

    let deliveries = app.deliveries_once_all("failed").await;
    assert_eq!(deliveries[0]["attempts"], 4);
    assert!(
        deliveries[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{}",
        deliveries[0]
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "no attempt after giving up"
    );
}
