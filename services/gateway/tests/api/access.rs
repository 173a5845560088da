use axum::http::Method;
use test_support::call;

use crate::helpers::{TestGateway, spawn_gateway};

/// A gateway whose services answer 200 to anything.
async fn gateway_with_willing_services() -> TestGateway {
    let app = spawn_gateway().await;
    app.services_answer(200).await;
    app
}

#[tokio::test]
async fn a_protected_route_without_a_token_is_401_and_never_reaches_the_service() {
    let app = gateway_with_willing_services().await;
    for (method, uri) in [
        (Method::GET, "/api/v1/users/me"),
        (Method::GET, "/api/v1/cart"),
        (Method::POST, "/api/v1/products"),
        (Method::GET, "/api/v1/users"),
    ] {
        let response = call(method.clone(), uri).send(&app.router).await;
        assert_eq!(response.status, 401, "{method} {uri}");
        assert_eq!(response.error_code(), "unauthorized");
    }
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn expired_foreign_and_unsigned_tokens_are_401_even_on_public_routes() {
    let app = gateway_with_willing_services().await;
    let bad_tokens = [
        ("expired", app.tokens.expired("u1")),
        (
            "signed with another key",
            app.tokens.signed_with_another_key("u1"),
        ),
        ("alg none", app.tokens.unsigned("u1")),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (what, token) in &bad_tokens {
        for (method, uri) in [
            (Method::GET, "/api/v1/users/me"),
            (Method::GET, "/api/v1/users"),
            (Method::GET, "/api/v1/products"),
            (Method::POST, "/api/v1/auth/login"),
        ] {
            let response = app.send_as(method.clone(), uri, token).await;
            assert_eq!(response.status, 401, "{what} token on {method} {uri}");
            assert_eq!(response.error_code(), "unauthorized");
        }
    }
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn an_authorization_header_that_is_not_a_bearer_token_is_401() {
    let app = gateway_with_willing_services().await;
    let response = call(Method::GET, "/api/v1/products")
        .header("authorization", "Basic dTE6cGFzc3dvcmQ=")
        .send(&app.router)
        .await;
    assert_eq!(response.status, 401);
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn a_customer_is_refused_the_admin_routes_with_403() {
    let app = gateway_with_willing_services().await;
    let customer = app.tokens.customer("u1");
    for (method, uri) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/users/u2"),
        (Method::DELETE, "/api/v1/users/u2"),
        (Method::POST, "/api/v1/payments/pay1/refund"),
        (Method::POST, "/api/v1/shipments/s1/deliver"),
        (Method::POST, "/api/v1/shipments/s1/return"),
    ] {
        let response = app.send_as(method.clone(), uri, &customer).await;
        assert_eq!(response.status, 403, "{method} {uri}");
        assert_eq!(response.error_code(), "forbidden");
    }
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn an_admin_token_is_forwarded_to_the_admin_routes() {
    let app = gateway_with_willing_services().await;
    let admin = app.tokens.admin("root");
    for (method, uri) in [
        (Method::GET, "/api/v1/users"),
        (Method::DELETE, "/api/v1/users/u2"),
        (Method::POST, "/api/v1/payments/pay1/refund"),
    ] {
        let response = app.send_as(method.clone(), uri, &admin).await;
        assert_eq!(response.status, 200, "{method} {uri}: {}", response.body);
    }
    assert_eq!(app.forwarded().await, 3);
}

#[tokio::test]
async fn a_customer_reaches_their_own_profile_and_other_protected_routes() {
    let app = gateway_with_willing_services().await;
    let customer = app.tokens.customer("u1");
    for (method, uri) in [
        (Method::GET, "/api/v1/users/me"),
        (Method::GET, "/api/v1/users/me/products"),
        (Method::POST, "/api/v1/cart/checkout"),
        (Method::POST, "/api/v1/payments/pay1/pay"),
    ] {
        let response = app.send_as(method.clone(), uri, &customer).await;
        assert_eq!(response.status, 200, "{method} {uri}: {}", response.body);
    }
}

#[tokio::test]
async fn the_catalog_and_the_auth_routes_need_no_token() {
    let app = gateway_with_willing_services().await;
    for (method, uri) in [
        (Method::GET, "/api/v1/products"),
        (Method::GET, "/api/v1/products/p1"),
        (Method::GET, "/api/v1/auth/jwks"),
        (Method::POST, "/api/v1/auth/refresh"),
    ] {
        let response = call(method.clone(), uri).send(&app.router).await;
        assert_eq!(response.status, 200, "{method} {uri}: {}", response.body);
    }
    assert_eq!(app.forwarded().await, 4);
}
