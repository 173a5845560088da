use axum::http::Method;

use crate::helpers::{OrderSteps, spawn_app};

#[tokio::test]
async fn customers_see_only_their_orders_and_admins_see_all() {
    let app = spawn_app().await;
    app.checkout("ada", "o1").await;
    app.checkout("bob", "o2").await;
    let bob = app.tokens.customer("bob");

    let not_yours = app.get("/api/v1/orders/o1", &bob).await;
    assert_eq!(not_yours.status, 404);
    for action in ["cancel", "accept", "return"] {
        let response = app.post(&format!("/api/v1/orders/o1/{action}"), &bob).await;
        assert_eq!(response.status, 404, "{action}");
    }
    assert_eq!(
        app.status("ada", "o1").await,
        "pending",
        "bob changed nothing"
    );

    let bobs = app.get("/api/v1/orders", &bob).await;
    assert_eq!(bobs.listed(), 1);
    assert_eq!(bobs.body["items"][0]["id"], "o2");

    let admin = app.tokens.admin("root");
    let all = app.get("/api/v1/orders", &admin).await;
    assert_eq!(all.listed(), 2);
    assert_eq!(all.body["items"][0]["id"], "o2", "newest first");
    let one = app.get("/api/v1/orders/o1", &admin).await;
    assert_eq!(one.status, 200);
    let pending = app.get("/api/v1/orders?status=pending", &admin).await;
    assert_eq!(pending.listed(), 2);
    let none = app.get("/api/v1/orders?status=completed", &admin).await;
    assert_eq!(none.listed(), 0);
    let bad = app.get("/api/v1/orders?status=lost", &admin).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn without_a_token_orders_are_refused() {
    let app = spawn_app().await;
    let response = test_support::call(Method::GET, "/api/v1/orders")
        .send(&app.router)
        .await;
    assert_eq!(response.status, 401);
}
