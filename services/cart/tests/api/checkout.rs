use std::time::Duration;

use axum::http::Method;
use serde_json::json;
use test_support::call;

use crate::helpers::{
    CartSteps, lines, money, spawn_app_with_tea, spawn_app_with_tea_and_cup, updated,
};

#[tokio::test]
async fn checking_out_answers_202_with_the_order_location_and_empties_the_cart() {
    let app = spawn_app_with_tea_and_cup().await;
    let token = app.tokens.customer("u1");
    app.fill(&token, &[("tea", 3), ("cup", 1)]).await;

    let accepted = call(Method::POST, "/api/v1/cart/checkout")
        .bearer(&token)
        .header("x-request-id", "req-42")
        .send(&app.router)
        .await;
    app.contract
        .assert_documented(Method::POST, "/api/v1/cart/checkout", &accepted);
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let order_id = accepted.body["order_id"].as_str().unwrap().to_owned();
    let checkout_id = accepted.body["checkout_id"].as_str().unwrap().to_owned();
    assert_ne!(order_id, checkout_id);
    assert_eq!(
        accepted.headers["location"],
        format!("/api/v1/orders/{order_id}").as_str()
    );

    assert_eq!(app.lines(&token).await, lines(&[]));
    assert_eq!(app.carts_indexed_under("tea").await, 0);

    app.wait_for_events("cart.checkout", 1).await;
    // Give a duplicate time to show up, if there were one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let published = app.checkouts();
    assert_eq!(published.len(), 1);
    let event = &published[0];
    assert_eq!(event.key, "u1");
    assert_eq!(event.correlation_id, "req-42");
    assert_eq!(
        event.data,
        json!({
            "checkout_id": checkout_id,
            "order_id": order_id,
            "user_id": "u1",
            "items": [
                {"product_id": "tea", "name": "Green tea", "quantity": 3,
                 "unit_price": {"amount_minor": 250, "currency": "EUR"}},
                {"product_id": "cup", "name": "Cup", "quantity": 1,
                 "unit_price": {"amount_minor": 1000, "currency": "EUR"}},
            ],
            "total": {"amount_minor": 1750, "currency": "EUR"},
        })
    );
}

#[tokio::test]
async fn the_checkout_snapshot_carries_the_price_at_checkout_time() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 2).await;
    app.deliver_events(&[updated("tea", "Sencha", money(275, "EUR"))])
        .await;

    assert_eq!(app.checkout(&token).await.status, 202);
    app.wait_for_events("cart.checkout", 1).await;
    let event = &app.checkouts()[0];
    assert_eq!(event.data["items"][0]["name"], "Sencha");
    assert_eq!(event.data["items"][0]["unit_price"]["amount_minor"], 275);
    assert_eq!(event.data["total"]["amount_minor"], 550);
}

#[tokio::test]
async fn checking_out_an_empty_cart_is_a_409() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");

    let never_used = app.checkout(&token).await;
    never_used.assert_error(409, "conflict");

    app.add(&token, "tea", 1).await;
    app.remove(&token, "tea").await;
    assert_eq!(app.checkout(&token).await.status, 409);

    app.add(&token, "tea", 1).await;
    assert_eq!(app.checkout(&token).await.status, 202);
    assert_eq!(
        app.checkout(&token).await.status,
        409,
        "already checked out"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.checkouts().len(), 1);
}

#[tokio::test]
async fn two_checkouts_of_one_cart_at_once_make_one_order() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 2).await;

    let (first, second) = tokio::join!(app.checkout(&token), app.checkout(&token));
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409]);

    app.wait_for_events("cart.checkout", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.checkouts().len(), 1);
}

#[tokio::test]
async fn the_cart_can_be_filled_again_after_a_checkout() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 2).await;
    assert_eq!(app.checkout(&token).await.status, 202);

    let refilled = app.add(&token, "tea", 1).await;
    assert_eq!(refilled.status, 200, "{}", refilled.body);
    assert_eq!(app.lines(&token).await, lines(&[("tea", 1)]));
    assert_eq!(app.carts_indexed_under("tea").await, 1);
}

/// `shop_checkouts_total` on the service's `/metrics`.
async fn checkouts_counted(app: &test_support::TestService) -> Option<f64> {
    let served = call(Method::GET, "/metrics").send(&app.router).await;
    assert_eq!(served.status, 200);
    served.body["non_json_body"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("shop_checkouts_total "))
        .map(|value| value.parse().expect("a sample's value is a number"))
}

#[tokio::test]
async fn only_an_accepted_checkout_is_counted() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    assert_eq!(checkouts_counted(&app).await, Some(0.0));

    assert_eq!(app.checkout(&token).await.status, 409, "the cart is empty");
    assert_eq!(checkouts_counted(&app).await, Some(0.0));

    app.add(&token, "tea", 1).await;
    assert_eq!(app.checkout(&token).await.status, 202);
    assert_eq!(checkouts_counted(&app).await, Some(1.0));
}
