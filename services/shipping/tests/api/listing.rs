//! Who sees which shipments.

use axum::http::Method;
use test_support::field_of_each;

use crate::helpers::{ShippingSteps, spawn_app};

#[tokio::test]
async fn a_customer_lists_only_their_own_shipments_newest_first() {
    let app = spawn_app().await;
    app.awaiting_shipment("o1", "u1").await;
    app.awaiting_shipment("o2", "u2").await;
    app.awaiting_shipment("o3", "u1").await;

    let mine = app.list("", &app.tokens.customer("u1")).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.listed(), 2);
    let orders = field_of_each(&mine.body["items"], "order_id");
    assert_eq!(orders, ["o3", "o1"]);

    // Filtering by someone else's order finds nothing rather than their shipment.
    let theirs = app.list("?order_id=o2", &app.tokens.customer("u1")).await;
    assert_eq!(theirs.listed(), 0);
    let own = app.list("?order_id=o1", &app.tokens.customer("u1")).await;
    assert_eq!(own.listed(), 1);
    assert_eq!(own.body["items"][0]["order_id"], "o1");
}

#[tokio::test]
async fn an_admin_lists_every_shipment_page_by_page_and_filters_by_order() {
    let app = spawn_app().await;
    for (order, user) in [("o1", "u1"), ("o2", "u2"), ("o3", "u3")] {
        app.awaiting_shipment(order, user).await;
    }
    let admin = app.tokens.admin("root");
    let first = app.list("?per_page=2", &admin).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["items"][0]["order_id"], "o3");
    assert_eq!(first.listed(), 2);
    let second = app.list("?per_page=2&page=2", &admin).await;
    assert_eq!(second.listed(), 1);
    assert_eq!(second.body["items"][0]["order_id"], "o1");
    assert_eq!(second.next_page(), None);
    let next = first.next_page().expect("a third shipment follows");
    let followed = app.send_as(Method::GET, next, &admin).await;
    assert_eq!(followed.body["items"], second.body["items"]);

    let filtered = app.list("?order_id=o2&per_page=5", &admin).await;
    assert_eq!(filtered.listed(), 1);
    assert_eq!(filtered.body["items"][0]["user_id"], "u2");
}

#[tokio::test]
async fn bad_paging_is_refused_naming_the_parameter() {
    let app = spawn_app().await;
    let token = app.tokens.customer("u1");
    let out_of_range = app.list("?per_page=1000", &token).await;
    assert_eq!(out_of_range.status, 422);
    assert_eq!(out_of_range.body["details"]["field"], "per_page");
    let garbled = app.list("?page=first", &token).await;
    garbled.assert_error(400, "bad_request");
}

#[tokio::test]
async fn the_owner_and_an_admin_read_a_shipment_and_another_customer_gets_404() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;

    let owner = app.get(&id, &app.tokens.customer("u1")).await;
    assert_eq!(owner.status, 200);
    assert_eq!(owner.body["order_id"], "o1");
    assert_eq!(owner.body["status"], "awaiting");
    let admin = app.get(&id, &app.tokens.admin("root")).await;
    assert_eq!(admin.status, 200);

    let stranger = app.get(&id, &app.tokens.customer("u2")).await;
    stranger.assert_error(404, "not_found");
    let missing = app.get("no-such-id", &app.tokens.customer("u2")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        stranger.body, missing.body,
        "indistinguishable from a missing one"
    );
}

#[tokio::test]
async fn without_a_valid_token_shipments_are_refused_with_401() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    for (what, token) in [
        ("expired", app.tokens.expired("u1")),
        ("forged", app.tokens.signed_with_another_key("u1")),
        ("alg=none", app.tokens.unsigned("u1")),
    ] {
        assert_eq!(app.list("", &token).await.status, 401, "{what}");
        assert_eq!(app.get(&id, &token).await.status, 401, "{what}");
        assert_eq!(app.deliver(&id, &token).await.status, 401, "{what}");
    }
    let uri = format!("/api/v1/shipments/{id}");
    let anonymous = test_support::call(Method::GET, &uri)
        .send(&app.router)
        .await;
    assert_eq!(anonymous.status, 401);
    app.contract
        .assert_documented(Method::GET, &uri, &anonymous);
    assert_eq!(app.shipment_of("o1").await["status"], "awaiting");
}
