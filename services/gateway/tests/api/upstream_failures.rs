use std::time::Duration;

use axum::http::Method;
use service_kit::http::BODY_LIMIT;
use test_support::{call, closed_port_url};
use wiremock::{Mock, ResponseTemplate, matchers::any};

use crate::helpers::{spawn_gateway, spawn_gateway_with};

#[tokio::test]
async fn an_unknown_route_is_a_404_in_the_error_shape_and_reaches_no_service() {
    let app = spawn_gateway().await;
    for uri in [
        "/api/v1/nothing-here",
        "/api/v1",
        "/api/v2/users",
        "/elsewhere",
    ] {
        let response = app
            .send_as(Method::GET, uri, &app.tokens.admin("root"))
            .await;
        assert_eq!(response.status, 404, "{uri}");
        assert_eq!(response.error_code(), "not_found", "{uri}");
    }
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn a_service_that_is_down_is_a_502_naming_it_but_not_its_address() {
    let down = closed_port_url();
    let app = spawn_gateway_with(|s| {
        s.urls.insert("user".into(), down.clone());
    })
    .await;

    let response = app
        .send_as(Method::GET, "/api/v1/users/me", &app.tokens.customer("u1"))
        .await;

    response.assert_error(502, "bad_gateway");
    let message = response.body["message"].as_str().unwrap();
    assert!(message.contains("user"), "{message}");
    let port = down.rsplit(':').next().unwrap();
    assert!(
        !response.body.to_string().contains(port),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn a_service_that_answers_too_late_is_a_504_naming_it() {
    let app = spawn_gateway_with(|s| s.upstream_timeout_ms = 200).await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&app.upstream)
        .await;

    let response = app
        .send_as(Method::GET, "/api/v1/orders", &app.tokens.customer("u1"))
        .await;

    response.assert_error(504, "gateway_timeout");
    assert!(response.body["message"].as_str().unwrap().contains("order"));
}

#[tokio::test]
async fn the_gateway_stays_ready_while_services_are_down() {
    let down = closed_port_url();
    let app = spawn_gateway_with(|s| {
        s.urls.insert("auth".into(), down.clone());
        s.urls.insert("user".into(), down.clone());
    })
    .await;
    for probe in ["/healthz", "/readyz"] {
        let response = call(Method::GET, probe).send(&app.router).await;
        assert_eq!(response.status, 200, "{probe}: {}", response.body);
    }
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_a_413_and_never_reaches_the_service() {
    let app = spawn_gateway().await;
    let token = app.tokens.customer("u1");

    let too_big = call(Method::POST, "/api/v1/products")
        .bearer(&token)
        .raw("application/json", vec![b' '; BODY_LIMIT + 1])
        .send(&app.router)
        .await;
    let declared_too_big = call(Method::POST, "/api/v1/products")
        .bearer(&token)
        .header("content-length", &(BODY_LIMIT + 1).to_string())
        .raw("application/json", vec![b' '; BODY_LIMIT + 1])
        .send(&app.router)
        .await;

    for response in [too_big, declared_too_big] {
        response.assert_error(413, "payload_too_large");
    }
    assert_eq!(app.forwarded().await, 0);
}

#[tokio::test]
async fn a_body_of_exactly_one_mebibyte_is_forwarded_whole() {
    let app = spawn_gateway().await;
    app.services_answer(201).await;

    let response = call(Method::POST, "/api/v1/products")
        .bearer(&app.tokens.customer("u1"))
        .raw("application/json", vec![b' '; BODY_LIMIT])
        .send(&app.router)
        .await;

    assert_eq!(response.status, 201);
    let received = app.upstream.received_requests().await.unwrap();
    assert_eq!(received[0].body.len(), BODY_LIMIT);
}

#[tokio::test]
async fn a_path_that_would_be_rewritten_on_the_way_is_refused_before_any_service() {
    let app = spawn_gateway().await;
    for uri in [
        "/api/v1/users/me/../u2",
        "/api/v1/users/me/%2e%2e/u2",
        "/api/v1/products/p1/%2E%2E/..",
    ] {
        let response = app
            .send_as(Method::GET, uri, &app.tokens.customer("u1"))
            .await;
        assert_eq!(response.status, 400, "{uri}");
        assert_eq!(response.error_code(), "bad_request", "{uri}");
    }
    assert_eq!(app.forwarded().await, 0);
}
