use shipping_service::SERVICE;
use test_support::{assert_matches_committed, committed_contract};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_openapi_document_matches_the_committed_contract() {
    let served = spawn_app().await.served_openapi().await;
    assert_eq!(served.status, 200);
    assert_matches_committed(&served.body, &committed_contract(&SERVICE));
}
