use axum::http::Method;
use test_support::{TestResponse, call};

use crate::helpers::{TestGateway, spawn_gateway, spawn_gateway_with};

async fn shop_only() -> TestGateway {
    spawn_gateway_with(|s| s.cors_allowed_origins = vec!["https://shop.example".into()]).await
}

async fn preflight(app: &TestGateway, origin: &str) -> TestResponse {
    call(Method::OPTIONS, "/api/v1/users/me")
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-request-id",
        )
        .send(&app.router)
        .await
}

fn header<'a>(response: &'a TestResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_succeeds_without_a_token() {
    let app = shop_only().await;

    let response = preflight(&app, "https://shop.example").await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        "https://shop.example"
    );
    let methods = header(&response, "access-control-allow-methods");
    for method in ["GET", "POST", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = header(&response, "access-control-allow-headers");
    for name in ["authorization", "content-type", "x-request-id"] {
        assert!(headers.contains(name), "{headers}");
    }
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn a_disallowed_origin_gets_no_allow_origin_header() {
    let app = shop_only().await;
    app.services_answer(200).await;

    let preflight = preflight(&app, "https://evil.example").await;
    let simple = app
        .get_from_origin("/api/v1/products", "https://evil.example")
        .await;

    assert!(
        preflight
            .headers
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(simple.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn any_origin_is_allowed_by_default_and_the_useful_headers_are_exposed() {
    let app = spawn_gateway().await;
    app.services_answer(200).await;

    let response = app
        .get_from_origin("/api/v1/products", "https://anywhere.example")
        .await;

    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    let exposed = header(&response, "access-control-expose-headers");
    for name in ["x-request-id", "retry-after", "location"] {
        assert!(exposed.contains(name), "{exposed}");
    }
}

#[tokio::test]
async fn error_answers_carry_cors_headers_so_browsers_can_read_them() {
    let app = shop_only().await;

    let response = app
        .get_from_origin("/api/v1/users/me", "https://shop.example")
        .await;

    assert_eq!(response.status, 401);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        "https://shop.example"
    );
}
