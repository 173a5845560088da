use axum::http::Method;
use event_contracts::Role;
use serde_json::json;
use test_support::eventually;

use crate::helpers::{UserSteps, spawn_app};

#[tokio::test]
async fn a_registered_user_gets_a_profile_they_can_read() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let me = app
        .get("/api/v1/users/me", &app.tokens.customer("u1"))
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], "u1");
    assert_eq!(me.body["email"], "u1@example.com");
    assert_eq!(me.body["role"], "customer");
}

#[tokio::test]
async fn a_redelivered_registration_makes_one_profile() {
    let app = spawn_app().await;
    let event = app.registered("u1", Role::Customer).await;
    app.publish(&[event.clone(), event]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let profiles = app.stored("profiles").await;
    assert_eq!(profiles.items.len(), 1);
    assert!(app.parked("user.registered").await.is_empty());
}

#[tokio::test]
async fn without_a_valid_token_the_profile_is_refused_with_401() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    for (what, token) in [
        ("expired", app.tokens.expired("u1")),
        (
            "signed with another key",
            app.tokens.signed_with_another_key("u1"),
        ),
        ("alg=none", app.tokens.unsigned("u1")),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let response = app.get("/api/v1/users/me", &token).await;
        assert_eq!(response.status, 401, "{what} token");
        assert_eq!(response.error_code(), "unauthorized");
    }
    let anonymous = test_support::call(Method::GET, "/api/v1/users/me")
        .send(&app.router)
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn a_user_can_update_their_display_name_and_address() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let token = app.tokens.customer("u1");
    let updated = app
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({"display_name": "  Ada  ", "shipping_address": "1 Loop Rd"})),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["display_name"], "Ada");
    let me = app.get("/api/v1/users/me", &token).await;
    assert_eq!(me.body["display_name"], "Ada");
    assert_eq!(me.body["shipping_address"], "1 Loop Rd");
}

#[tokio::test]
async fn a_role_change_through_patch_has_no_effect() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let token = app.tokens.customer("u1");
    for body in [
        json!({"role": "admin"}),
        json!({"display_name": "Ada", "role": "admin"}),
        json!({"id": "someone-else"}),
    ] {
        let response = app
            .send(
                Method::PATCH,
                "/api/v1/users/me",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status, 422, "{body}");
        assert_eq!(response.error_code(), "validation_failed");
    }
    let me = app.get("/api/v1/users/me", &token).await;
    assert_eq!(me.body["role"], "customer");
    assert_eq!(me.body["id"], "u1");
    assert_eq!(me.body["display_name"], json!(null), "nothing half-written");
}

#[tokio::test]
async fn an_invalid_display_name_is_refused_naming_the_field() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let response = app
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&app.tokens.customer("u1")),
            Some(json!({"display_name": "x".repeat(101)})),
        )
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.body["details"]["field"], "display_name");
}

#[tokio::test]
async fn a_user_lists_the_products_they_own_as_the_catalog_announces_them() {
    use event_contracts::{Envelope, Money, ProductCreated, ProductRemoved, ProductUpdated};
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let price = Money::parse(500, "EUR").unwrap();
    let created = |id: &str, owner: &str, name: &str| {
        Envelope::new(
            &ProductCreated {
                product_id: id.into(),
                owner_id: owner.into(),
                name: name.into(),
                description: String::new(),
                price,
                stock: 1,
            },
            "test",
        )
    };
    // Built in the order the product service would emit them: ids are time-ordered.
    let bike = created("p1", "u1", "Bike");
    let lamp = created("p2", "u1", "Lamp");
    let kettle = created("p3", "someone-else", "Kettle");
    let renamed = Envelope::new(
        &ProductUpdated {
            product_id: "p1".into(),
            owner_id: "u1".into(),
            name: "Bike (serviced)".into(),
            description: String::new(),
            price,
            stock: 2,
        },
        "test",
    );
    let removed = Envelope::new(
        &ProductRemoved {
            product_id: "p2".into(),
            owner_id: "u1".into(),
        },
        "test",
    );
    // Delivered newest first, and the rename twice: the list must still settle on the
    // latest snapshot of each product.
    app.publish(&[removed, renamed.clone(), renamed]).await;
    app.publish(&[bike, lamp, kettle]).await;
    let token = app.tokens.customer("u1");
    eventually("the owner's list to settle", || async {
        let mine = app.get("/api/v1/users/me/products", &token).await;
        mine.listed() == 1 && mine.body["items"][0]["name"] == "Bike (serviced)"
    })
    .await;
    let mine = app.get("/api/v1/users/me/products", &token).await;
    assert_eq!(mine.body["items"][0]["id"], "p1");
    assert_eq!(mine.body["items"][0]["stock"], 2);
}

/// Tried as a new user would, in distributed mode: right after register and login,
/// `GET /users/me` answered 404 "no profile for this account" until user.registered
/// arrived. The verified token is auth's word that the account exists, with its email
/// and role, so the profile is there at once.
#[tokio::test]
async fn a_profile_is_there_right_after_registration_before_its_event_arrives() {
    let app = spawn_app().await;
    let token = app.tokens.customer("u1");
    let me = app.get("/api/v1/users/me", &token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], "u1@example.com");
    assert_eq!(me.body["role"], "customer");

    let updated = app
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({ "display_name": "Ada" })),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);

    // The event, when it comes, finds the profile and keeps what the user changed.
    app.registered("u1", Role::Customer).await;
    let me = app.get("/api/v1/users/me", &token).await;
    assert_eq!(me.body["display_name"], "Ada");
    assert_eq!(app.stored("profiles").await.items.len(), 1);
}

/// A deleted account's token stays valid until it expires; it must not bring the
/// profile back, and neither may a late user.registered.
#[tokio::test]
async fn a_deleted_account_gets_no_profile_back() {
    let app = spawn_app().await;
    let event = app.registered("u1", Role::Customer).await;
    let admin = app.tokens.admin("root");
    let deleted = app
        .send(Method::DELETE, "/api/v1/users/u1", Some(&admin), None)
        .await;
    assert_eq!(deleted.status, 204);

    let token = app.tokens.customer("u1");
    let me = app.get("/api/v1/users/me", &token).await;
    assert_eq!(me.status, 404, "{}", me.body);
    app.publish(&[event]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.get("/api/v1/users/me", &token).await.status, 404);
    assert!(app.stored("profiles").await.items.is_empty());
}
