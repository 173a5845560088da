use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_contract() {
    spawn_app().await.assert_serves_committed_contract().await;
}

#[tokio::test]
async fn the_checkout_documents_its_202_with_the_location_header() {
    let served = spawn_app().await.served_openapi().await;
    let accepted = &served.body["paths"]["/api/v1/cart/checkout"]["post"]["responses"]["202"];
    assert!(accepted["headers"]["Location"].is_object(), "{accepted}");
}
