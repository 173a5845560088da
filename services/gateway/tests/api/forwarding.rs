use axum::http::Method;
use serde_json::json;
use service_kit::Settings;
use test_support::{TestTokens, call};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{any, body_json, header, method, path, query_param},
};

use crate::helpers::{gateway_router, spawn_gateway, upstream_services};

#[tokio::test]
async fn a_request_is_forwarded_with_its_method_path_query_body_and_token() {
    let app = spawn_gateway().await;
    let token = app.tokens.customer("u1");
    Mock::given(method("PATCH"))
        .and(path("/api/v1/cart/items/p1"))
        .and(query_param("dry_run", "true"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "quantity": 3 })))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({ "product_id": "p1", "quantity": 3 }))
                .insert_header("location", "/api/v1/cart"),
        )
        .expect(1)
        .mount(&app.upstream)
        .await;

    let response = call(Method::PATCH, "/api/v1/cart/items/p1?dry_run=true")
        .bearer(&token)
        .json(json!({ "quantity": 3 }))
        .send(&app.router)
        .await;

    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.body, json!({ "product_id": "p1", "quantity": 3 }));
    assert_eq!(response.headers["location"], "/api/v1/cart");
    app.upstream.verify().await;
}

#[tokio::test]
async fn a_services_own_error_answer_comes_back_unchanged() {
    let app = spawn_gateway().await;
    let error = json!({ "code": "conflict", "message": "order is not pending", "details": null });
    Mock::given(any())
        .respond_with(ResponseTemplate::new(409).set_body_json(&error))
        .mount(&app.upstream)
        .await;

    let response = app
        .send_as(
            Method::POST,
            "/api/v1/orders/o1/cancel",
            &app.tokens.customer("u1"),
        )
        .await;

    assert_eq!(response.status, 409);
    assert_eq!(response.body, error);
}

#[tokio::test]
async fn the_request_id_reaches_the_service_and_the_client_sees_the_same_one() {
    let app = spawn_gateway().await;
    // A service echoing some other id must not confuse the client.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).insert_header("x-request-id", "from-service"))
        .mount(&app.upstream)
        .await;

    let generated = call(Method::GET, "/api/v1/products")
        .send(&app.router)
        .await;
    let chosen = call(Method::GET, "/api/v1/products")
        .header("x-request-id", "client-chosen-id")
        .send(&app.router)
        .await;

    let received = app.upstream.received_requests().await.unwrap();
    let upstream_ids: Vec<&str> = received
        .iter()
        .map(|r| r.headers["x-request-id"].to_str().unwrap())
        .collect();
    let generated_id = generated.headers["x-request-id"].to_str().unwrap();
    assert!(!generated_id.is_empty() && generated_id != "from-service");
    assert_eq!(upstream_ids, [generated_id, "client-chosen-id"]);
    assert_eq!(chosen.headers["x-request-id"], "client-chosen-id");
}

#[tokio::test]
async fn the_service_learns_the_client_address_and_connection_headers_stay_behind() {
    let app = spawn_gateway().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-kept", "yes")
                .insert_header("proxy-authenticate", "Basic realm=internal"),
        )
        .mount(&app.upstream)
        .await;

    let response = call(Method::GET, "/api/v1/products")
        .header("x-forwarded-for", "203.0.113.50")
        .header("connection", "x-hop-only")
        .header("x-hop-only", "secret")
        .header("proxy-authorization", "Basic c2VjcmV0")
        .header("accept", "application/json")
        .send(&app.router)
        .await;

    let received = &app.upstream.received_requests().await.unwrap()[0];
    // Without a socket the client counts as local; the last entry is the one we vouch for.
    assert_eq!(
        received.headers["x-forwarded-for"],
        "203.0.113.50, 127.0.0.1"
    );
    assert_eq!(received.headers["accept"], "application/json");
    assert!(received.headers.get("x-hop-only").is_none());
    assert!(received.headers.get("proxy-authorization").is_none());
    assert_eq!(response.headers["x-kept"], "yes");
    assert!(response.headers.get("proxy-authenticate").is_none());
}

#[tokio::test]
async fn each_prefix_is_forwarded_to_the_service_that_owns_it() {
    let mut services = Vec::new();
    for service in upstream_services().map(|s| s.name) {
        let mock = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "service": service.as_str() })),
            )
            .mount(&mock)
            .await;
        services.push((service, mock));
    }
    let keys: Vec<String> = services
        .iter()
        .map(|(service, _)| format!("{service}_url"))
        .collect();
    let uris: Vec<String> = services.iter().map(|(_, mock)| mock.uri()).collect();
    let settings = Settings::from_pairs(
        keys.iter()
            .map(String::as_str)
            .zip(uris.iter().map(String::as_str)),
    )
    .unwrap();
    let tokens = TestTokens::new();
    let router = gateway_router(settings, &tokens).await;
    let admin = tokens.admin("root");

    for (prefix, owner) in [
        ("auth", "auth"),
        ("users", "user"),
        ("products", "product"),
        ("cart", "cart"),
        ("orders", "order"),
        ("payments", "payment"),
        ("shipments", "shipping"),
        ("notifications", "notification"),
    ] {
        for uri in [format!("/api/v1/{prefix}"), format!("/api/v1/{prefix}/x/y")] {
            let response = call(Method::GET, &uri).bearer(&admin).send(&router).await;
            assert_eq!(response.status, 200, "{uri}");
            assert_eq!(response.body["service"], owner, "{uri}");
        }
    }
}
