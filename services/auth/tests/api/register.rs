use axum::http::Method;
use serde_json::json;
use test_support::{call, eventually};

use crate::helpers::{ADA_EMAIL, ADA_PASSWORD, AuthSteps, spawn_app};

#[tokio::test]
async fn registering_creates_a_customer_account_and_announces_it() {
    let app = spawn_app().await;
    let response = app
        .register("Ada@Example.com", "correct horse battery")
        .await;
    assert_eq!(response.status, 201, "{:?}", response.body);
    assert_eq!(response.body["email"], "ada@example.com");
    assert_eq!(response.body["role"], "customer");
    let user_id = response.body["id"].as_str().unwrap().to_owned();

    // The user.registered event leaves through the outbox onto the bus, on contract.
    let seen = test_support::record_events(&app.ctx, &["user.registered"]).await;
    eventually("user.registered on the bus", || {
        let seen = seen.clone();
        async move { !seen.lock().unwrap().is_empty() }
    })
    .await;
    let event = seen.lock().unwrap()[0].clone();
    assert_eq!(event.key, user_id);
    assert_eq!(event.data["email"], "ada@example.com");
    assert_eq!(event.data["role"], "customer");
}

#[tokio::test]
async fn a_second_account_with_the_same_email_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.register(ADA_EMAIL, ADA_PASSWORD).await.status, 201);
    let again = app
        .register(" ADA@example.com", "another long password")
        .await;
    again.assert_error(409, "conflict");
    assert_eq!(again.body["details"]["field"], "email");
}

#[tokio::test]
async fn invalid_fields_are_refused_with_the_field_named_and_nothing_stored() {
    let app = spawn_app().await;
    for (body, field) in [
        (
            json!({"email": "not-an-email", "password": "correct horse"}),
            "email",
        ),
        (
            json!({"email": "ada@example.com", "password": "short"}),
            "password",
        ),
        (json!({"email": "ada@example.com"}), "password"),
        (
            json!({"email": "ada@example.com", "password": "correct horse", "role": "admin"}),
            "role",
        ),
    ] {
        let response = app.post("/api/v1/auth/register", body.clone()).await;
        assert_eq!(response.status, 422, "{body}");
        assert_eq!(response.error_code(), "validation_failed");
        assert_eq!(response.body["details"]["field"], field, "{body}");
    }
    let stored = app.stored("credentials").await;
    assert_eq!(stored.items.len(), 0);
}

#[tokio::test]
async fn malformed_json_is_a_bad_request_naming_the_problem() {
    let app = spawn_app().await;
    let response = call(Method::POST, "/api/v1/auth/register")
        .raw(
            "application/json",
            r#"{"email": "ada@example.com", "password": }"#,
        )
        .send(&app.router)
        .await;
    response.assert_error(400, "bad_request");
    assert!(
        response.body["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{}",
        response.body
    );
    assert_eq!(response.body["details"]["line"], 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused() {
    let app = spawn_app().await;
    let response = call(Method::POST, "/api/v1/auth/register")
        .raw("text/plain", "email=ada")
        .send(&app.router)
        .await;
    response.assert_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused() {
    let app = spawn_app().await;
    let huge = format!(
        r#"{{"email": "ada@example.com", "password": "{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let response = call(Method::POST, "/api/v1/auth/register")
        .raw("application/json", huge)
        .send(&app.router)
        .await;
    response.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn an_unknown_route_is_a_404_in_the_error_shape() {
    let app = spawn_app().await;
    let response = call(Method::GET, "/api/v1/auth/nothing-here")
        .send(&app.router)
        .await;
    response.assert_error(404, "not_found");
    let wrong_method = call(Method::GET, "/api/v1/auth/register")
        .send(&app.router)
        .await;
    wrong_method.assert_error(405, "method_not_allowed");
    // The probes, outside the edge layers, keep the same shape.
    let wrong_method_on_a_probe = call(Method::POST, "/readyz").send(&app.router).await;
    wrong_method_on_a_probe.assert_error(405, "method_not_allowed");
}
