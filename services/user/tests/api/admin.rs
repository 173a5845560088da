use axum::http::Method;
use event_contracts::Role;
use test_support::eventually;

use crate::helpers::{UserSteps, spawn_app};

#[tokio::test]
async fn a_customer_on_an_admin_route_gets_403() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let token = app.tokens.customer("u1");
    for (method, uri) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/users/u1"),
        (Method::DELETE, "/api/v1/users/u1"),
    ] {
        let response = app.send(method.clone(), uri, Some(&token), None).await;
        assert_eq!(response.status, 403, "{method} {uri}");
        assert_eq!(response.error_code(), "forbidden");
    }
}

#[tokio::test]
async fn an_admin_lists_users_page_by_page_and_reads_one() {
    let app = spawn_app().await;
    for id in ["u1", "u2", "u3"] {
        app.registered(id, Role::Customer).await;
    }
    let admin = app.tokens.admin("root");
    let first = app.get("/api/v1/users?per_page=2", &admin).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.listed(), 2);
    let second = app.get("/api/v1/users?per_page=2&page=2", &admin).await;
    assert_eq!(second.listed(), 1);
    assert_eq!(second.next_page(), None);
    let followed = app
        .get(first.next_page().expect("a third user"), &admin)
        .await;
    assert_eq!(followed.body["items"], second.body["items"]);

    let one = app.get("/api/v1/users/u2", &admin).await;
    assert_eq!(one.body["email"], "u2@example.com");
    let missing = app.get("/api/v1/users/nobody", &admin).await;
    assert_eq!(missing.status, 404);
    let bad_paging = app.get("/api/v1/users?per_page=1000", &admin).await;
    assert_eq!(bad_paging.status, 422);
    assert_eq!(bad_paging.body["details"]["field"], "per_page");
    let garbled = app.get("/api/v1/users?page=first", &admin).await;
    assert_eq!(garbled.status, 400);
}

#[tokio::test]
async fn deleting_a_user_removes_the_profile_and_announces_it() {
    let app = spawn_app().await;
    app.registered("u1", Role::Customer).await;
    let admin = app.tokens.admin("root");
    let deleted = app
        .send(Method::DELETE, "/api/v1/users/u1", Some(&admin), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(app.get("/api/v1/users/u1", &admin).await.status, 404);
    assert_eq!(
        app.get("/api/v1/users/me", &app.tokens.customer("u1"))
            .await
            .status,
        404
    );
    eventually("user.deleted to be published", || async {
        !app.published.lock().unwrap().is_empty()
    })
    .await;
    let event = app.published.lock().unwrap()[0].clone();
    assert_eq!(event.event_type, "user.deleted");
    assert_eq!(event.data["user_id"], "u1");

    let again = app
        .send(Method::DELETE, "/api/v1/users/u1", Some(&admin), None)
        .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn an_admin_cannot_delete_their_own_account() {
    let app = spawn_app().await;
    app.registered("root", Role::Admin).await;
    let response = app
        .send(
            Method::DELETE,
            "/api/v1/users/root",
            Some(&app.tokens.admin("root")),
            None,
        )
        .await;
    assert_eq!(response.status, 409);
}
