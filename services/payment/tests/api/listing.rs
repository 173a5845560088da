use serde_json::Value;
use test_support::field_of_each;

use crate::helpers::{PaymentSteps, spawn_app};

fn order_ids(page: &Value) -> Vec<&str> {
    field_of_each(&page["items"], "order_id")
}

#[tokio::test]
async fn customers_list_their_own_payments_and_admins_list_all_newest_first() {
    let app = spawn_app().await;
    // One at a time, so creation order is known.
    app.ordered("o1", "u1").await;
    app.ordered("o2", "u2").await;
    app.ordered("o3", "u1").await;

    let mine = app
        .get("/api/v1/payments", &app.tokens.customer("u1"))
        .await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.listed(), 2);
    assert_eq!(order_ids(&mine.body), ["o3", "o1"]);

    let theirs = app
        .get("/api/v1/payments", &app.tokens.customer("u2"))
        .await;
    assert_eq!(order_ids(&theirs.body), ["o2"]);

    let nobody = app
        .get("/api/v1/payments", &app.tokens.customer("u3"))
        .await;
    assert_eq!(nobody.listed(), 0);

    let all = app.get("/api/v1/payments", &app.tokens.admin("root")).await;
    assert_eq!(all.listed(), 3);
    assert_eq!(order_ids(&all.body), ["o3", "o2", "o1"]);
}

#[tokio::test]
async fn payments_are_filtered_by_order_and_a_customer_never_sees_anothers() {
    let app = spawn_app().await;
    app.ordered("o1", "u1").await;
    app.ordered("o2", "u2").await;

    let own = app
        .get("/api/v1/payments?order_id=o1", &app.tokens.customer("u1"))
        .await;
    assert_eq!(order_ids(&own.body), ["o1"]);
    let foreign = app
        .get("/api/v1/payments?order_id=o2", &app.tokens.customer("u1"))
        .await;
    assert_eq!(foreign.status, 200);
    assert_eq!(foreign.listed(), 0);
    let admin = app
        .get("/api/v1/payments?order_id=o2", &app.tokens.admin("root"))
        .await;
    assert_eq!(order_ids(&admin.body), ["o2"]);
}

#[tokio::test]
async fn payments_are_listed_page_by_page() {
    let app = spawn_app().await;
    for order in ["o1", "o2", "o3"] {
        app.ordered(order, "u1").await;
    }
    let token = app.tokens.customer("u1");
    let first = app.get("/api/v1/payments?per_page=2", &token).await;
    assert_eq!(first.body["per_page"], 2);
    assert_eq!(order_ids(&first.body), ["o3", "o2"]);
    let second = app.get("/api/v1/payments?per_page=2&page=2", &token).await;
    assert_eq!(order_ids(&second.body), ["o1"]);
    assert_eq!(second.next_page(), None);
    // The cursor link gives the same page as its number does.
    let next = first.next_page().expect("a third payment follows");
    let followed = app.get(next, &token).await;
    assert_eq!(order_ids(&followed.body), ["o1"]);
    assert_eq!(followed.next_page(), None);

    let too_many = app.get("/api/v1/payments?per_page=500", &token).await;
    assert_eq!(too_many.status, 422);
    assert_eq!(too_many.body["details"]["field"], "per_page");
    let garbled = app.get("/api/v1/payments?page=first", &token).await;
    assert_eq!(garbled.status, 400);
}
