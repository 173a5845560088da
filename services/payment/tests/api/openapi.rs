use std::path::Path;

use axum::http::Method;
use test_support::{assert_matches_committed, call};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_contract() {
    let app = spawn_app().await;
    let served = call(Method::GET, "/openapi.json").send(&app.router).await;
    assert_eq!(served.status, 200);
    let committed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/api/payment.v1.json");
    assert_matches_committed(&served.body, &committed);
}

#[tokio::test]
async fn every_payment_route_is_documented_with_bearer_auth() {
    let app = spawn_app().await;
    let doc = call(Method::GET, "/openapi.json")
        .send(&app.router)
        .await
        .body;
    for (path, method) in [
        ("/api/v1/payments", "get"),
        ("/api/v1/payments/{id}", "get"),
        ("/api/v1/payments/{id}/pay", "post"),
        ("/api/v1/payments/{id}/refund", "post"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is undocumented");
        assert_eq!(
            operation["security"][0]["bearerAuth"],
            serde_json::json!([]),
            "{method} {path}"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearerAuth"].is_object());
}
