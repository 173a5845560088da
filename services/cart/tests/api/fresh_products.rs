//! Read-your-writes at the edge: a product the product service has just answered 201
//! for can be put in a cart at once, though its `product.created` has not reached the
//! cart's catalog yet. The cart asks the product service; only a product that really
//! does not exist is a 422, and a product service that cannot answer is a 503.

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{CartSteps, created, money, spawn_app};

fn product(id: &str, name: &str, amount_minor: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id,
        "owner_id": "seller",
        "name": name,
        "description": "just listed",
        "price": { "amount_minor": amount_minor, "currency": "EUR" },
        "stock": 5,
        "created_at": "2026-12-03T12:00:00Z",
    }))
}

#[tokio::test]
async fn a_product_listed_a_moment_ago_goes_in_the_cart_before_its_event_arrives() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/products/fresh"))
        .respond_with(product("fresh", "Fresh tea", 300))
        .expect(1)
        .mount(&app.products)
        .await;
    let token = app.tokens.customer("u1");

    let added = app.add(&token, "fresh", 2).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["items"][0]["name"], "Fresh tea");
    assert_eq!(added.body["total"]["amount_minor"], 600);
    // Known now: the next addition needs no question.
    let more = app.add(&token, "fresh", 1).await;
    assert_eq!(more.body["total"]["amount_minor"], 900);

    // The event, when it comes, is newer than what was read, and wins.
    app.deliver_events(&[created("fresh", "Fresh green tea", money(350, "EUR"))])
        .await;
    let cart = app.cart(&token).await;
    assert_eq!(cart.body["items"][0]["name"], "Fresh green tea");
    assert_eq!(cart.body["total"]["amount_minor"], 1050);
}

#[tokio::test]
async fn a_product_service_that_cannot_answer_is_a_503_not_a_422() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/products/fresh"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.products)
        .await;
    let token = app.tokens.customer("u1");
    let response = app.add(&token, "fresh", 1).await;
    response.assert_error(503, "unavailable");
    assert!(response.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_removed_product_is_a_422_without_asking_the_product_service() {
    let app = spawn_app().await;
    app.listed("gone", "Gone tea", 100).await;
    app.deliver_events(&[crate::helpers::removed("gone")]).await;
    Mock::given(method("GET"))
        .respond_with(product("gone", "Gone tea", 100))
        .expect(0)
        .mount(&app.products)
        .await;
    let token = app.tokens.customer("u1");
    let response = app.add(&token, "gone", 1).await;
    response.assert_error(422, "validation_failed");
}
