use std::path::Path;

use axum::http::Method;
use test_support::{assert_matches_committed, call};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_contract() {
    let app = spawn_app().await;
    let served = call(Method::GET, "/openapi.json").send(&app.router).await;
    assert_eq!(served.status, 200);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/api/cart.v1.json");
    assert_matches_committed(&served.body, &committed);
}

#[tokio::test]
async fn the_checkout_documents_its_202_with_the_location_header() {
    let app = spawn_app().await;
    let served = call(Method::GET, "/openapi.json").send(&app.router).await;
    let accepted = &served.body["paths"]["/api/v1/cart/checkout"]["post"]["responses"]["202"];
    assert!(accepted["headers"]["Location"].is_object(), "{accepted}");
}
