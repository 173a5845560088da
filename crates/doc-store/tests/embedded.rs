//! The embedded adapter against the shared conformance suite, plus what only a
//! disk-backed store can show: data survives closing and reopening.

use std::sync::Arc;

use doc_store::{DocumentStore, EmbeddedStore, Write};
use serde_json::json;

async fn in_memory() -> Option<Arc<dyn DocumentStore>> {
    Some(Arc::new(EmbeddedStore::in_memory()))
}

mod in_memory {
    doc_store::conformance_suite!(super::in_memory);
}

mod on_disk {
    use super::*;

    async fn on_disk() -> Option<Arc<dyn DocumentStore>> {
        // Leaked so the directory outlives the store for the test's duration.
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        Some(Arc::new(
            EmbeddedStore::open(&dir.path().join("svc.redb")).unwrap(),
        ))
    }
    doc_store::conformance_suite!(on_disk);
}

#[tokio::test]
async fn committed_documents_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/svc.redb");
    {
        let store = EmbeddedStore::open(&path).unwrap();
        store
            .commit(vec![Write::Insert {
                collection: "things".into(),
                id: "t1".into(),
                body: json!({"name": "kept"}),
            }])
            .await
            .unwrap();
    }
    let reopened = EmbeddedStore::open(&path).unwrap();
    let doc = reopened.get("things", "t1").await.unwrap().unwrap();
    assert_eq!(doc.body["name"], "kept");
}
