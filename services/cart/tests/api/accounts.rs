//! Whose cart is whose: tokens, isolation between users, and deleted accounts.

use axum::http::Method;
use serde_json::json;
use test_support::call;

use crate::helpers::{CartSteps, lines, spawn_app, spawn_app_with_tea_and_cup, user_deleted};

#[tokio::test]
async fn without_a_valid_token_every_cart_route_is_refused_with_401() {
    let app = spawn_app().await;
    let routes = [
        (Method::GET, "/api/v1/cart", None),
        (
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"product_id": "tea", "quantity": 1})),
        ),
        (
            Method::PATCH,
            "/api/v1/cart/items/tea",
            Some(json!({"quantity": 1})),
        ),
        (Method::DELETE, "/api/v1/cart/items/tea", None),
        (Method::POST, "/api/v1/cart/checkout", None),
    ];
    for (method, uri, body) in routes {
        let mut anonymous = call(method.clone(), uri);
        if let Some(body) = body.clone() {
            anonymous = anonymous.json(body);
        }
        let response = anonymous.send(&app.router).await;
        app.contract
            .assert_documented(method.clone(), uri, &response);
        assert_eq!(response.status, 401, "{method} {uri} without a token");
        assert_eq!(response.error_code(), "unauthorized");

        for (what, token) in [
            ("expired", app.tokens.expired("u1")),
            ("forged", app.tokens.signed_with_another_key("u1")),
            ("alg=none", app.tokens.unsigned("u1")),
        ] {
            let response = app
                .send(method.clone(), uri, Some(&token), body.clone())
                .await;
            assert_eq!(response.status, 401, "{method} {uri} with an {what} token");
        }
    }
}

#[tokio::test]
async fn one_users_changes_never_touch_another_users_cart() {
    let app = spawn_app_with_tea_and_cup().await;
    let (ada, bob) = (app.tokens.customer("ada"), app.tokens.customer("bob"));
    app.add(&ada, "tea", 2).await;
    app.fill(&bob, &[("tea", 1), ("cup", 1)]).await;

    app.set(&bob, "tea", 9).await;
    app.remove(&bob, "cup").await;
    assert_eq!(
        app.set(&ada, "cup", 4).await.status,
        404,
        "cup is only in bob's cart"
    );
    assert_eq!(app.checkout(&bob).await.status, 202);

    assert_eq!(app.lines(&ada).await, lines(&[("tea", 2)]));
    assert_eq!(app.lines(&bob).await, lines(&[]));
}

#[tokio::test]
async fn a_deleted_account_loses_its_cart_and_no_one_else_does() {
    let app = spawn_app_with_tea_and_cup().await;
    let (ada, bob) = (app.tokens.customer("ada"), app.tokens.customer("bob"));
    app.fill(&ada, &[("tea", 2), ("cup", 1)]).await;
    app.add(&bob, "tea", 1).await;

    let deleted = user_deleted("ada");
    // Delivered twice, as an at-least-once bus may.
    app.deliver_events(&[deleted.clone(), deleted]).await;

    assert!(app.ctx.store().get("carts", "ada").await.unwrap().is_none());
    assert_eq!(app.carts_indexed_under("cup").await, 0);
    assert_eq!(app.carts_indexed_under("tea").await, 1);
    assert_eq!(app.lines(&bob).await, lines(&[("tea", 1)]));
    assert!(app.parked("user.deleted").await.is_empty());
}

#[tokio::test]
async fn deleting_an_account_without_a_cart_is_acknowledged() {
    let app = spawn_app().await;
    app.deliver_events(&[user_deleted("nobody")]).await;
    assert!(app.parked("user.deleted").await.is_empty());
}
