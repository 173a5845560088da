use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_contract() {
    spawn_app().await.assert_serves_committed_contract().await;
}

#[tokio::test]
async fn every_payment_route_is_documented_with_bearer_auth() {
    let doc = spawn_app().await.served_openapi().await.body;
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
