use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_contract() {
    spawn_app().await.assert_serves_committed_contract().await;
}
