use crate::system::System;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn bad_input_unknown_routes_and_forbidden_calls_get_the_error_shape() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let customer = target.new_customer().await.unwrap();
    let client = &customer.client;

    let invalid = client
        .post(
            "/auth/register",
            json!({"email": "nope", "password": "long enough pw"}),
        )
        .await
        .unwrap();
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.error_code(), "validation_failed");
    assert_eq!(invalid.body["details"]["field"], "email");

    let unknown = client.get("/no-such-thing").await.unwrap();
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error_code(), "not_found");

    let forbidden = client.get("/users").await.unwrap();
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.error_code(), "forbidden");

    let anonymous = target.client().get("/users/me").await.unwrap();
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error_code(), "unauthorized");
    system.stop().await;
}

#[tokio::test]
async fn malformed_json_through_the_gateway_is_a_400_naming_the_problem() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", target.base_url))
        .header("content-type", "application/json")
        .body(r#"{"email": "a@b.io", "password": }"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
    assert!(body["message"].as_str().unwrap().contains("malformed JSON"));
    system.stop().await;
}

#[tokio::test]
async fn too_many_logins_get_429_with_retry_after() {
    // Its own system: the limit is per account and address, and other scenarios log in.
    let system = System::in_process(&[("rate_limit_login_per_minute", "3")])
        .await
        .unwrap();
    let target = &system.target;
    let client = target.client();
    let attempt = || {
        client.send(
            Method::POST,
            "/auth/login",
            Some(json!({"email": "victim@shop.test", "password": "guessing 123"})),
        )
    };
    for _ in 0..3 {
        assert_eq!(attempt().await.unwrap().status, StatusCode::UNAUTHORIZED);
    }
    let limited = attempt().await.unwrap();
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    system.stop().await;
}

#[tokio::test]
async fn the_gateway_serves_one_openapi_document_for_every_service() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", target.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/users/me",
        "/api/v1/users/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    system.stop().await;
}

#[tokio::test]
async fn every_service_reports_health_readiness_and_request_metrics() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let http = reqwest::Client::new();
    // One request through each service, so each has a route to report.
    target.client().get("/users/me").await.unwrap();
    target
        .client()
        .post(
            "/auth/login",
            json!({"email": "x@shop.test", "password": "whatever1"}),
        )
        .await
        .unwrap();
    let mut bases = vec![target.base_url.clone()];
    // Service ports are only reachable when the system runs in this process.
    bases.extend(target.service_urls.iter().cloned());
    for base in bases {
        for probe in ["/healthz", "/readyz"] {
            let r = http.get(format!("{base}{probe}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{base}{probe}");
        }
        let metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("shop_http_requests_total{method=\""),
            "{base} reports no request metrics:\n{metrics}"
        );
        assert!(
            metrics.contains("shop_http_request_duration_seconds_bucket"),
            "{base}"
        );
    }
    system.stop().await;
}

#[tokio::test]
async fn a_list_is_read_to_its_end_by_following_next_through_the_gateway() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let admin = target.admin().await.unwrap();
    // A name no other scenario uses, so the filtered catalog holds just these.
    let marker = format!("pager-{}", uuid::Uuid::new_v4().simple());
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(
            admin
                .create_product(&format!("{marker} {n}"), 100, 1)
                .await
                .unwrap(),
        );
    }
    let listed = admin
        .all_pages(&format!("/products?name={marker}&per_page=2"))
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(
        ids, made,
        "every product once, in name order, across three pages"
    );
    system.stop().await;
}
