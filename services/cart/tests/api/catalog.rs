//! The cart's copy of the catalog, kept from the product events.

use std::time::Duration;

use crate::helpers::{
    CartSteps, created, lines, money, removed, spawn_app, spawn_app_with_tea,
    spawn_app_with_tea_and_cup, updated,
};

#[tokio::test]
async fn a_price_change_shows_in_the_cart() {
    let app = spawn_app_with_tea().await;
    let token = app.tokens.customer("u1");
    app.add(&token, "tea", 2).await;

    app.deliver_events(&[updated("tea", "Sencha", money(300, "EUR"))])
        .await;

    let cart = app.cart(&token).await;
    assert_eq!(cart.body["items"][0]["name"], "Sencha");
    assert_eq!(cart.body["items"][0]["unit_price"]["amount_minor"], 300);
    assert_eq!(cart.body["total"]["amount_minor"], 600);
}

#[tokio::test]
async fn an_older_snapshot_arriving_late_never_overwrites_a_newer_one() {
    let app = spawn_app_with_tea().await;
    let older = updated("tea", "Green tea", money(300, "EUR"));
    let newer = updated("tea", "Green tea", money(400, "EUR"));
    app.deliver_events(&[newer, older]).await;

    let token = app.tokens.customer("u1");
    let cart = app.add(&token, "tea", 1).await;
    assert_eq!(cart.body["items"][0]["unit_price"]["amount_minor"], 400);
}

#[tokio::test]
async fn a_redelivered_product_event_changes_nothing_twice() {
    let app = spawn_app().await;
    let listed = app.listed("tea", "Green tea", 250).await;
    let repriced = updated("tea", "Green tea", money(300, "EUR"));
    app.deliver_events(std::slice::from_ref(&repriced)).await;
    let before = app.catalog_entry("tea").await;

    // Both delivered again, as an at-least-once bus may; a later event on each topic
    // tells when the redeliveries have been handled.
    app.publish(&[listed, repriced]).await;
    app.deliver_events(&[
        created("cup", "Cup", money(1000, "EUR")),
        updated("cup", "Cup", money(1100, "EUR")),
    ])
    .await;

    let after = app.catalog_entry("tea").await;
    assert_eq!(after, before, "not even rewritten");
    let token = app.tokens.customer("u1");
    let cart = app.add(&token, "tea", 1).await;
    assert_eq!(cart.body["items"][0]["unit_price"]["amount_minor"], 300);
    for topic in ["product.created", "product.updated"] {
        assert!(app.parked(topic).await.is_empty(), "{topic}");
    }
}

#[tokio::test]
async fn a_removed_product_leaves_every_cart_that_held_it() {
    let app = spawn_app_with_tea_and_cup().await;
    let (ada, bob, cy) = (
        app.tokens.customer("ada"),
        app.tokens.customer("bob"),
        app.tokens.customer("cy"),
    );
    app.fill(&ada, &[("tea", 2), ("cup", 1)]).await;
    app.add(&bob, "tea", 5).await;
    app.add(&cy, "cup", 3).await;

    let removal = removed("tea");
    app.deliver_events(std::slice::from_ref(&removal)).await;

    assert_eq!(app.lines(&ada).await, lines(&[("cup", 1)]));
    assert_eq!(app.lines(&bob).await, lines(&[]));
    assert_eq!(app.lines(&cy).await, lines(&[("cup", 3)]));
    assert_eq!(app.cart(&ada).await.body["total"]["amount_minor"], 1000);
    assert_eq!(app.carts_indexed_under("tea").await, 0);
    assert_eq!(app.carts_indexed_under("cup").await, 2);

    let again = app.add(&bob, "tea", 1).await;
    assert_eq!(again.status, 422, "a removed product cannot be added");
    assert_eq!(again.body["details"]["field"], "product_id");

    // Redelivered: nothing more happens, and nothing is parked.
    app.publish(&[removal]).await;
    app.deliver_events(&[removed("cup")]).await;
    assert_eq!(app.lines(&ada).await, lines(&[]));
    assert!(app.parked("product.removed").await.is_empty());
}

#[tokio::test]
async fn an_update_arriving_after_the_removal_does_not_bring_the_product_back() {
    let app = spawn_app_with_tea().await;
    // Taken before the removal, delivered after it (another topic, another pace).
    let late = updated("tea", "Green tea", money(300, "EUR"));
    tokio::time::sleep(Duration::from_millis(2)).await;
    app.deliver_events(&[removed("tea")]).await;
    app.deliver_events(&[late]).await;

    let token = app.tokens.customer("u1");
    assert_eq!(app.add(&token, "tea", 1).await.status, 422);
}

#[tokio::test]
async fn a_product_that_changes_currency_must_leave_the_cart_before_it_can_be_totalled() {
    let app = spawn_app_with_tea_and_cup().await;
    let token = app.tokens.customer("u1");
    app.fill(&token, &[("tea", 1), ("cup", 1)]).await;

    app.deliver_events(&[updated("cup", "Cup", money(1200, "USD"))])
        .await;

    let cart = app.cart(&token).await;
    assert_eq!(cart.status, 422);
    assert_eq!(cart.body["details"]["product_id"], "cup");
    let checkout = app.checkout(&token).await;
    assert_eq!(checkout.status, 422);
    assert!(app.checkouts().is_empty());

    assert_eq!(app.remove(&token, "cup").await.status, 204);
    let cart = app.cart(&token).await;
    assert_eq!(cart.status, 200);
    assert_eq!(cart.body["total"]["amount_minor"], 250);
}
