use axum::http::Method;
use serde_json::json;
use test_support::{TestResponse, call};

use crate::helpers::{TestGateway, spawn_gateway, spawn_gateway_with};

async fn accept_everything(app: &TestGateway) {
    app.services_answer(200).await;
}

async fn login(app: &TestGateway, client: &str, email: &str) -> TestResponse {
    let body = json!({ "email": email, "password": "correct horse battery" });
    call(Method::POST, "/api/v1/auth/login")
        .json(body)
        .connected_from(client)
        .send(&app.router)
        .await
}

async fn register(app: &TestGateway, client: &str, n: usize) -> TestResponse {
    let body = json!({ "email": format!("user{n}@example.com"), "password": "long enough pw" });
    call(Method::POST, "/api/v1/auth/register")
        .json(body)
        .connected_from(client)
        .send(&app.router)
        .await
}

fn assert_rate_limited(response: &TestResponse) {
    assert_eq!(response.status, 429, "{}", response.body);
    assert_eq!(response.error_code(), "rate_limited");
    let retry_after: u64 = response.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
}

#[tokio::test]
async fn the_eleventh_login_for_one_email_from_one_address_within_a_minute_is_429() {
    let app = spawn_gateway().await;
    accept_everything(&app).await;
    for attempt in 0..10 {
        // Case and padding do not make a different account.
        let email = if attempt % 2 == 0 {
            "ann@example.com"
        } else {
            " Ann@Example.com"
        };
        let response = login(&app, "192.0.2.1", email).await;
        assert_eq!(response.status, 200, "attempt {}", attempt + 1);
    }

    assert_rate_limited(&login(&app, "192.0.2.1", "ANN@example.com").await);
    assert_eq!(
        login(&app, "192.0.2.1", "bob@example.com").await.status,
        200
    );
    assert_eq!(
        login(&app, "192.0.2.2", "ann@example.com").await.status,
        200
    );
    assert_eq!(app.forwarded().await, 12);
}

#[tokio::test]
async fn registration_is_limited_per_address() {
    let app = spawn_gateway().await;
    accept_everything(&app).await;
    for n in 0..30 {
        assert_eq!(register(&app, "198.51.100.7", n).await.status, 200, "#{n}");
    }

    assert_rate_limited(&register(&app, "198.51.100.7", 30).await);
    assert_eq!(register(&app, "198.51.100.8", 31).await.status, 200);
    assert_eq!(app.forwarded().await, 31);
}

#[tokio::test]
async fn the_limits_come_from_the_settings() {
    let app = spawn_gateway_with(|s| {
        s.rate_limit_login_per_minute = 2;
        s.rate_limit_register_per_minute = 1;
    })
    .await;
    accept_everything(&app).await;

    for _ in 0..2 {
        assert_eq!(
            login(&app, "192.0.2.1", "ann@example.com").await.status,
            200
        );
    }
    assert_rate_limited(&login(&app, "192.0.2.1", "ann@example.com").await);
    assert_eq!(register(&app, "192.0.2.1", 0).await.status, 200);
    assert_rate_limited(&register(&app, "192.0.2.1", 1).await);
}

#[tokio::test]
async fn other_auth_routes_are_not_rate_limited() {
    let app = spawn_gateway_with(|s| s.rate_limit_login_per_minute = 1).await;
    accept_everything(&app).await;
    for _ in 0..5 {
        let response = call(Method::POST, "/api/v1/auth/refresh")
            .json(json!({ "refresh_token": "r" }))
            .send(&app.router)
            .await;
        assert_eq!(response.status, 200);
    }
}
