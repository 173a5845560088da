use serde_json::json;

use crate::helpers::{
    CartSteps, created, lines, money, spawn_app, spawn_app_with_tea, spawn_app_with_tea_and_cup,
};

#[tokio::test]
async fn an_added_product_is_shown_with_its_current_name_price_and_totals() {
    let app = spawn_app_with_tea_and_cup().await;
    let token = app.tokens.customer("u1");

    let added = app.add(&token, "tea", 3).await;
    assert_eq!(added.status, 200, "{}", added.body);
    app.add(&token, "cup", 1).await;

    let cart = app.cart(&token).await;
    assert_eq!(cart.status, 200);
    let tea = &cart.body["items"][0];
    assert_eq!(tea["product_id"], "tea");
    assert_eq!(tea["name"], "Green tea");
    assert_eq!(
        tea["unit_price"],
        json!({"amount_minor": 250, "currency": "EUR"})
    );
    assert_eq!(tea["quantity"], 3);
    assert_eq!(
        tea["line_total"],
        json!({"amount_minor": 750, "currency": "EUR"})
    );
    assert_eq!(cart.body["items"][1]["line_total"]["amount_minor"], 1000);
    assert_eq!(cart.body["item_count"], 4);
    assert_eq!(
        cart.body["total"],
        json!({"amount_minor": 1750, "currency": "EUR"})
    );
}

#[tokio::test]
async fn a_cart_nobody_added_to_is_empty_and_has_no_total() {
    let app = spawn_app().await;
    let cart = app.cart(&app.tokens.customer("u1")).await;
    assert_eq!(cart.status, 200);
    assert_eq!(cart.body["items"], json!([]));
    assert_eq!(cart.body["item_count"], 0);
    assert_eq!(cart.body["total"], json!(null));
}

#[tokio::test]
async fn adding_a_product_already_in_the_cart_increases_its_quantity() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 2).await;
    let again = app.add(&token, "tea", 5).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(again.body["total"]["amount_minor"], 1750);
    assert_eq!(app.lines(&token).await, lines(&[("tea", 7)]));
}

#[tokio::test]
async fn changing_a_quantity_sets_it_and_updates_the_totals() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 2).await;
    let changed = app.set(&token, "tea", 4).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["items"][0]["quantity"], 4);
    assert_eq!(changed.body["total"]["amount_minor"], 1000);
    assert_eq!(app.lines(&token).await, lines(&[("tea", 4)]));
}

#[tokio::test]
async fn removing_a_line_takes_the_product_out_of_the_cart() {
    let app = spawn_app_with_tea_and_cup().await;
    let token = app.tokens.customer("u1");
    app.fill(&token, &[("tea", 2), ("cup", 1)]).await;

    let removed = app.remove(&token, "tea").await;
    assert_eq!(removed.status, 204);
    let cart = app.cart(&token).await;
    assert_eq!(app.lines(&token).await, lines(&[("cup", 1)]));
    assert_eq!(cart.body["total"]["amount_minor"], 1000);
    assert_eq!(app.carts_indexed_under("tea").await, 0);
    assert_eq!(app.remove(&token, "tea").await.status, 404);
}

#[tokio::test]
async fn changing_or_removing_a_product_not_in_the_cart_is_a_404() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    let changed = app.set(&token, "tea", 1).await;
    changed.assert_error(404, "not_found");
    assert_eq!(app.remove(&token, "tea").await.status, 404);
    assert_eq!(app.lines(&token).await, lines(&[]));
}

#[tokio::test]
async fn a_quantity_outside_one_to_a_thousand_is_refused_naming_quantity() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    for quantity in [0, -1, 1001, 5_000_000_000] {
        let response = app.add(&token, "tea", quantity).await;
        assert_eq!(response.status, 422, "adding {quantity}");
        assert_eq!(response.error_code(), "validation_failed");
        assert_eq!(
            response.body["details"]["field"], "quantity",
            "adding {quantity}"
        );
    }
    app.add(&token, "tea", 2).await;
    for quantity in [0, 1001] {
        let response = app.set(&token, "tea", quantity).await;
        assert_eq!(response.status, 422, "setting {quantity}");
        assert_eq!(response.body["details"]["field"], "quantity");
    }
    assert_eq!(
        app.lines(&token).await,
        lines(&[("tea", 2)]),
        "nothing changed"
    );
}

#[tokio::test]
async fn adding_past_a_thousand_of_one_product_is_refused_naming_quantity() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    assert_eq!(app.add(&token, "tea", 1000).await.status, 200);
    let more = app.add(&token, "tea", 1).await;
    assert_eq!(more.status, 422);
    assert_eq!(more.body["details"]["field"], "quantity");
    assert_eq!(app.lines(&token).await, lines(&[("tea", 1000)]));
}

#[tokio::test]
async fn an_unknown_product_is_refused_with_422_naming_product_id() {
    let app = spawn_app().await;
    let token = app.tokens.customer("u1");
    for product_id in ["nope", ""] {
        let response = app.add(&token, product_id, 1).await;
        assert_eq!(response.status, 422, "{product_id:?}");
        assert_eq!(response.error_code(), "validation_failed");
        assert_eq!(response.body["details"]["field"], "product_id");
    }
    assert_eq!(app.lines(&token).await, lines(&[]));
}

#[tokio::test]
async fn a_product_in_another_currency_than_the_cart_is_refused_naming_product_id() {
    let app = spawn_app_with_tea().await;
    app.deliver_events(&[created("mug", "Diner mug", money(900, "USD"))])
        .await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 1).await;
    let response = app.add(&token, "mug", 1).await;
    assert_eq!(response.status, 422);
    assert_eq!(response.body["details"]["field"], "product_id");
    assert_eq!(response.body["details"]["product_id"], "mug");
    assert_eq!(app.lines(&token).await, lines(&[("tea", 1)]));

    // Alone, the dollar mug is fine: the cart takes the currency of its first line.
    let other = app.tokens.customer("u2");
    let alone = app.add(&other, "mug", 1).await;
    assert_eq!(alone.status, 200);
    assert_eq!(alone.body["total"]["currency"], "USD");
}

#[tokio::test]
async fn a_total_that_would_overflow_is_refused_with_422() {
    let app = spawn_app().await;
    app.listed("gold", "Gold bar", i64::MAX / 2).await;
    let token = app.tokens.customer("u1");
    let response = app.add(&token, "gold", 3).await;
    assert_eq!(response.status, 422);
    assert_eq!(response.body["details"]["field"], "quantity");
    assert_eq!(app.lines(&token).await, lines(&[]));
}

#[tokio::test]
async fn unknown_fields_and_malformed_bodies_are_refused() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    let priced = app
        .add_raw(
            &token,
            json!({"product_id": "tea", "quantity": 1, "unit_price": 1}),
        )
        .await;
    assert_eq!(priced.status, 422);
    assert_eq!(priced.body["details"]["field"], "unit_price");
    let missing = app.add_raw(&token, json!({"product_id": "tea"})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["details"]["field"], "quantity");

    let garbled = test_support::call(axum::http::Method::POST, "/api/v1/cart/items")
        .bearer(&token)
        .raw("application/json", "{\"product_id\": ")
        .send(&app.router)
        .await;
    app.contract
        .assert_documented(axum::http::Method::POST, "/api/v1/cart/items", &garbled);
    assert_eq!(garbled.status, 400);
    assert_eq!(app.lines(&token).await, lines(&[]));
}

#[tokio::test]
async fn two_tabs_adding_at_once_both_count() {
    let app = spawn_app_with_tea_and_cup().await;
    let token = app.tokens.customer("u1");
    // The cart does not exist yet: both requests race to create it.
    let (first, second) = tokio::join!(app.add(&token, "tea", 1), app.add(&token, "cup", 2));
    assert_eq!((first.status.as_u16(), second.status.as_u16()), (200, 200));
    let (again, more) = tokio::join!(app.add(&token, "tea", 1), app.add(&token, "tea", 1));
    assert_eq!((again.status.as_u16(), more.status.as_u16()), (200, 200));

    let mut held = app.lines(&token).await;
    held.sort();
    assert_eq!(held, lines(&[("cup", 2), ("tea", 3)]));
    assert_eq!(app.carts_indexed_under("tea").await, 1);
}
