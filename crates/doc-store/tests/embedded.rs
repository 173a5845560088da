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

mod cost {
    use doc_store::{CollectionSpec, Query, SortOrder};

    use super::*;

    const ITEMS: CollectionSpec = CollectionSpec {
        name: "items",
        unique: &["code"],
        indexed: &[&["name"], &["owner", "created"]],
    };
    const SIZE: u64 = 3_000;

    async fn filled(path: &std::path::Path) -> EmbeddedStore {
        let store = EmbeddedStore::open(path).unwrap();
        store.ensure_collections(&[ITEMS]).await.unwrap();
        let writes = (0..SIZE)
            .map(|n| Write::Insert {
                collection: "items".into(),
                id: format!("i{n:05}"),
                body: json!({"code": format!("c{n}"), "name": format!("item {:05}", (n * 7919) % SIZE),
                    "owner": format!("o{}", n % 3), "created": n, "price": n % 17}),
            })
            .collect();
        store.commit(writes).await.unwrap();
        store
    }

    /// Pages read what they show: a query an index serves decodes its page (and the one
    /// document that says more follow), however large the collection.
    #[tokio::test]
    async fn a_page_an_index_serves_reads_the_page_not_the_collection() {
        let dir = tempfile::tempdir().unwrap();
        let store = filled(&dir.path().join("s.redb")).await;
        let cost = |before: u64| store.documents_read() - before;

        let by_name = Query::all().sort_by("name", SortOrder::Asc);
        let before = store.documents_read();
        let first = store
            .find("items", &by_name.clone().page(0, 20))
            .await
            .unwrap();
        assert_eq!((first.items.len(), cost(before)), (20, 21));

        let mut after = first.next;
        for _ in 0..50 {
            let page = store
                .find("items", &by_name.clone().page_after(after, 20))
                .await
                .unwrap();
            after = page.next;
        }
        let before = store.documents_read();
        let deep = store
            .find("items", &by_name.clone().page_after(after, 20))
            .await
            .unwrap();
        assert_eq!(
            deep.items[0].body["name"], "item 01020",
            "page 52 by cursor"
        );
        assert_eq!(cost(before), 21, "a deep cursor page costs a page");

        let before = store.documents_read();
        store
            .find("items", &by_name.clone().page(1_000, 20))
            .await
            .unwrap();
        assert_eq!(cost(before), 21, "skipped index entries are not decoded");

        let mine = Query::eq("owner", "o1").sort_by("created", SortOrder::Desc);
        let before = store.documents_read();
        let page = store.find("items", &mine.page(0, 20)).await.unwrap();
        assert_eq!(page.items[0].id, "i02998");
        assert_eq!(cost(before), 21);

        let before = store.documents_read();
        let one = store
            .find("items", &Query::eq("code", "c2500"))
            .await
            .unwrap();
        assert_eq!(
            (one.items.len(), cost(before)),
            (1, 1),
            "a unique field finds its one"
        );
        // Even when another index would give the order the query asks for.
        let pinned = Query::eq("owner", "o1")
            .and_eq("code", "c2500")
            .sort_by("created", SortOrder::Desc);
        let before = store.documents_read();
        let one = store.find("items", &pinned.page(0, 20)).await.unwrap();
        assert_eq!((one.items.len(), cost(before)), (1, 1));

        // A common substring fills its page early in the name order and stops there.
        let search = Query::all()
            .and_contains("name", "0")
            .sort_by("name", SortOrder::Asc);
        let before = store.documents_read();
        store.find("items", &search.page(0, 20)).await.unwrap();
        assert!(cost(before) < 100, "read {}", cost(before));
    }

    /// A sort no index serves walks its range but keeps only a page's worth of matches,
    /// and answers as the port says.
    #[tokio::test]
    async fn a_sort_without_an_index_walks_but_answers_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let store = filled(&dir.path().join("s.redb")).await;
        let q = Query::eq("owner", "o2").sort_by("price", SortOrder::Desc);
        let before = store.documents_read();
        let page = store.find("items", &q.clone().page(0, 5)).await.unwrap();
        assert_eq!(
            store.documents_read() - before,
            SIZE / 3,
            "the owner's range, once"
        );
        let prices: Vec<_> = page
            .items
            .iter()
            .map(|d| d.body["price"].as_u64().unwrap())
            .collect();
        assert_eq!(prices, [16, 16, 16, 16, 16]);
        let next = store
            .find("items", &q.page_after(page.next, 5))
            .await
            .unwrap();
        assert!(
            next.items[0].id < page.items[4].id,
            "ties in the sort's direction"
        );
    }

    /// A write by a process that never declared the collection (a tool, an older
    /// binary) still keeps the indexes the file holds.
    #[tokio::test]
    async fn a_write_without_declaring_keeps_the_files_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        drop(filled(&path).await);
        {
            let undeclared = EmbeddedStore::open(&path).unwrap();
            undeclared
                .commit(vec![Write::Insert {
                    collection: "items".into(),
                    id: "late".into(),
                    body: json!({"code": "c-late", "name": "aaa first by name", "owner": "o9", "created": 1}),
                }])
                .await
                .unwrap();
        }
        let store = EmbeddedStore::open(&path).unwrap();
        store.ensure_collections(&[ITEMS]).await.unwrap();
        let q = Query::all().sort_by("name", SortOrder::Asc).page(0, 1);
        assert_eq!(store.find("items", &q).await.unwrap().items[0].id, "late");
        let mine = Query::eq("owner", "o9").sort_by("created", SortOrder::Asc);
        assert_eq!(store.find("items", &mine).await.unwrap().items.len(), 1);
    }

    /// Indexes are kept in the file: reopening it does not rebuild them.
    #[tokio::test]
    async fn reopening_keeps_the_indexes_without_rebuilding_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        drop(filled(&path).await);
        let store = EmbeddedStore::open(&path).unwrap();
        store.ensure_collections(&[ITEMS]).await.unwrap();
        assert_eq!(store.documents_read(), 0, "start-up read no document");
        let page = store
            .find(
                "items",
                &Query::all().sort_by("name", SortOrder::Desc).page(0, 3),
            )
            .await
            .unwrap();
        assert_eq!(page.items[0].body["name"], "item 02999");
        assert_eq!(store.documents_read(), 4);
    }
}
