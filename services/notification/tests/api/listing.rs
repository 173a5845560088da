use std::time::Duration;

use axum::http::Method;
use event_contracts::CancelReason;
use serde_json::Value;
use test_support::{call, field_of_each};

use crate::helpers::*;

#[tokio::test]
async fn each_of_the_nine_events_tells_its_customer_what_happened() {
    let app = spawn_app().await;
    let cases = [
        (
            payment_completed("u1", "o1", 1234),
            "payment.completed",
            "o1",
            "Payment of 12.34 EUR received",
        ),
        (
            payment_failed("u1", "o2", "card declined"),
            "payment.failed",
            "o2",
            "failed: card declined",
        ),
        (
            payment_refunded("u1", "o3", 500),
            "payment.refunded",
            "o3",
            "5.00 EUR was refunded",
        ),
        (
            shipment_awaiting("u1", "o4"),
            "shipment.awaiting",
            "o4",
            "waiting to be shipped",
        ),
        (
            shipment_delivered("u1", "o5"),
            "shipment.delivered",
            "o5",
            "was delivered",
        ),
        (
            shipment_returned("u1", "o6"),
            "shipment.returned",
            "o6",
            "returned shipment",
        ),
        (
            order_cancelled("u1", "o7", CancelReason::PaymentFailed),
            "order.cancelled",
            "o7",
            "cancelled because its payment failed",
        ),
        (
            order_return_requested("u1", "o8"),
            "order.return_requested",
            "o8",
            "request to return",
        ),
        (
            order_completed("u1", "o9"),
            "order.completed",
            "o9",
            "is complete",
        ),
    ];
    let events: Vec<_> = cases.iter().map(|(event, ..)| event.clone()).collect();
    app.publish(&events).await;

    let listed = app.notifications_of("u1", cases.len()).await;
    for (event, kind, order_id, says) in &cases {
        let n = listed
            .iter()
            .find(|n| n["id"] == event.id.as_str())
            .unwrap_or_else(|| panic!("no notification for {kind}"));
        assert_eq!(n["kind"], *kind);
        assert_eq!(n["order_id"], *order_id);
        assert!(
            !n["title"].as_str().unwrap().is_empty(),
            "{kind} has a title"
        );
        let message = n["message"].as_str().unwrap();
        assert!(message.contains(says), "{kind}: {message}");
        assert!(
            message.contains(order_id),
            "{kind} names the order: {message}"
        );
    }
    assert!(
        app.deliveries().await.is_empty(),
        "no channel is configured, so nothing is to be delivered"
    );
}

#[tokio::test]
async fn a_redelivered_event_makes_one_notification() {
    let app = spawn_app().await;
    let event = payment_completed("u1", "o1", 1999);
    app.publish(&[event.clone(), event.clone()]).await;
    app.notifications_of("u1", 1).await;
    app.publish(&[event]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stored = app.stored("notifications").await;
    assert_eq!(stored.items.len(), 1);
    assert_eq!(app.parked("payment.completed").await.len(), 0);
}

#[tokio::test]
async fn a_customer_sees_only_their_own_notifications_newest_first_page_by_page() {
    let app = spawn_app().await;
    let start = time::OffsetDateTime::now_utc() - Duration::from_secs(60);
    let at = |secs: u64, mut event: event_contracts::Envelope| {
        event.occurred_at = start + Duration::from_secs(secs);
        event
    };
    let oldest = at(0, payment_completed("u1", "o1", 100));
    let middle = at(1, shipment_awaiting("u1", "o1"));
    let newest = at(2, shipment_delivered("u1", "o1"));
    let someone_elses = at(3, payment_completed("u2", "o2", 100));
    // Out of order, and on different topics, as they may well arrive.
    app.publish(&[
        newest.clone(),
        someone_elses.clone(),
        oldest.clone(),
        middle.clone(),
    ])
    .await;
    app.notifications_of("u1", 3).await;

    let token = app.tokens.customer("u1");
    let first = app.list(&format!("{LIST}?per_page=2"), &token).await;
    assert_eq!(first.status, 200);
    assert_eq!(ids(&first.body), [newest.id.as_str(), middle.id.as_str()]);
    let second = app.list(&format!("{LIST}?per_page=2&page=2"), &token).await;
    assert_eq!(ids(&second.body), [oldest.id.as_str()]);
    assert_eq!(second.next_page(), None);
    let next = first.next_page().expect("the oldest follows");
    let followed = app.list(next, &token).await;
    assert_eq!(ids(&followed.body), [oldest.id.as_str()]);

    let theirs = app.notifications_of("u2", 1).await;
    assert_eq!(theirs[0]["id"], someone_elses.id.as_str());
}

#[tokio::test]
async fn an_admin_gets_their_own_notifications_and_nobody_elses() {
    let app = spawn_app().await;
    let mine = payment_completed("root", "o1", 100);
    app.publish(&[mine.clone(), payment_completed("u1", "o2", 100)])
        .await;
    app.notifications_of("u1", 1).await;
    let listed = app.list(LIST, &app.tokens.admin("root")).await;
    assert_eq!(listed.status, 200);
    assert_eq!(ids(&listed.body), [mine.id.as_str()]);
}

#[tokio::test]
async fn paging_out_of_range_or_garbled_is_refused_naming_the_problem() {
    let app = spawn_app().await;
    let token = app.tokens.customer("u1");
    let too_many = app.list(&format!("{LIST}?per_page=1000"), &token).await;
    assert_eq!(too_many.status, 422);
    assert_eq!(too_many.body["details"]["field"], "per_page");
    let garbled = app.list(&format!("{LIST}?page=first"), &token).await;
    garbled.assert_error(400, "bad_request");
}

#[tokio::test]
async fn without_a_valid_token_notifications_are_refused_with_401() {
    let app = spawn_app().await;
    app.publish(&[payment_completed("u1", "o1", 100)]).await;
    app.notifications_of("u1", 1).await;
    for (what, token) in [
        ("expired", app.tokens.expired("u1")),
        ("forged", app.tokens.signed_with_another_key("u1")),
        ("alg=none", app.tokens.unsigned("u1")),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let response = app.list(LIST, &token).await;
        assert_eq!(response.status, 401, "{what} token");
        assert_eq!(response.error_code(), "unauthorized");
    }
    let anonymous = call(Method::GET, LIST).send(&app.router).await;
    app.contract
        .assert_documented(Method::GET, LIST, &anonymous);
    anonymous.assert_error(401, "unauthorized");
}

fn ids(page: &Value) -> Vec<&str> {
    field_of_each(&page["items"], "id")
}
