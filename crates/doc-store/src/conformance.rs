//! The behaviour every [`DocumentStore`] adapter must show, as checks an adapter's test
//! crate runs through [`conformance_suite!`](crate::conformance_suite). Each check takes a
//! fresh, empty store and panics with a message saying what broke.

use std::sync::Arc;

use serde_json::json;

use crate::{CollectionSpec, Document, DocumentStore, Query, SortOrder, StoreError, Write};

const PEOPLE: CollectionSpec = CollectionSpec {
    name: "people",
    unique: &["email"],
    indexed: &["team"],
};
const COUNTERS: CollectionSpec = CollectionSpec {
    name: "counters",
    unique: &[],
    indexed: &[],
};

async fn prepared(store: &Arc<dyn DocumentStore>) {
    store
        .ensure_collections(&[PEOPLE, COUNTERS])
        .await
        .expect("collections can be declared");
}

fn insert(collection: &str, id: &str, body: serde_json::Value) -> Write {
    Write::Insert {
        collection: collection.into(),
        id: id.into(),
        body,
    }
}

fn person(id: &str, email: &str, team: &str, age: i64) -> Write {
    insert(
        "people",
        id,
        json!({"email": email, "team": team, "age": age, "name": format!("Person {id}")}),
    )
}

pub async fn insert_then_get_returns_the_document_at_version_one(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    let doc = store
        .get("people", "p1")
        .await
        .unwrap()
        .expect("inserted document");
    assert_eq!(doc.id, "p1");
    assert_eq!(doc.version, 1);
    assert_eq!(doc.body["email"], "a@x.io");
    assert_eq!(store.get("people", "missing").await.unwrap(), None);
    assert_eq!(store.get("never_declared", "p1").await.unwrap(), None);
}

pub async fn inserting_an_existing_id_is_a_duplicate(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    let err = store
        .commit(vec![person("p1", "b@x.io", "red", 31)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { collection, .. } if collection == "people"),
        "expected a duplicate, got {err:?}"
    );
    let doc = store.get("people", "p1").await.unwrap().unwrap();
    assert_eq!(
        doc.body["email"], "a@x.io",
        "the first document is untouched"
    );
}

pub async fn a_unique_field_refuses_a_second_document_with_the_same_value(
    store: Arc<dyn DocumentStore>,
) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    let err = store
        .commit(vec![person("p2", "a@x.io", "blue", 40)])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Duplicate {
            collection: "people".into(),
            field: "email".into()
        }
    );
    assert_eq!(store.get("people", "p2").await.unwrap(), None);

    // Once the holder gives the value up, it is free again.
    let p1 = store.get("people", "p1").await.unwrap().unwrap();
    store
        .commit(vec![Write::Update {
            collection: "people".into(),
            id: "p1".into(),
            expected_version: p1.version,
            body: json!({"email": "changed@x.io", "team": "red", "age": 30}),
        }])
        .await
        .unwrap();
    store
        .commit(vec![person("p2", "a@x.io", "blue", 40)])
        .await
        .unwrap();
    let err = store
        .commit(vec![person("p3", "changed@x.io", "blue", 40)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");

    let p2 = store.get("people", "p2").await.unwrap().unwrap();
    store
        .commit(vec![Write::Delete {
            collection: "people".into(),
            id: "p2".into(),
            expected_version: p2.version,
        }])
        .await
        .unwrap();
    store
        .commit(vec![person("p4", "a@x.io", "blue", 40)])
        .await
        .unwrap();
}

pub async fn an_update_with_the_current_version_bumps_it(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    store
        .commit(vec![Write::Update {
            collection: "people".into(),
            id: "p1".into(),
            expected_version: 1,
            body: json!({"email": "a@x.io", "team": "blue", "age": 31}),
        }])
        .await
        .unwrap();
    let doc = store.get("people", "p1").await.unwrap().unwrap();
    assert_eq!(doc.version, 2);
    assert_eq!(doc.body["team"], "blue");
}

pub async fn a_stale_update_or_delete_is_refused_and_changes_nothing(
    store: Arc<dyn DocumentStore>,
) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    store
        .commit(vec![Write::Update {
            collection: "people".into(),
            id: "p1".into(),
            expected_version: 1,
            body: json!({"email": "a@x.io", "team": "blue", "age": 31}),
        }])
        .await
        .unwrap();
    for stale in [
        Write::Update {
            collection: "people".into(),
            id: "p1".into(),
            expected_version: 1,
            body: json!({"email": "a@x.io", "team": "green", "age": 99}),
        },
        Write::Delete {
            collection: "people".into(),
            id: "p1".into(),
            expected_version: 1,
        },
        Write::Update {
            collection: "people".into(),
            id: "nobody".into(),
            expected_version: 1,
            body: json!({}),
        },
    ] {
        let err = store.commit(vec![stale.clone()]).await.unwrap_err();
        assert!(
            matches!(err, StoreError::VersionConflict { .. }),
            "{stale:?} gave {err:?}"
        );
    }
    let doc = store.get("people", "p1").await.unwrap().unwrap();
    assert_eq!((doc.version, doc.body["team"].clone()), (2, json!("blue")));
}

pub async fn concurrent_guarded_increments_never_lose_an_update(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![insert("counters", "c", json!({"n": 0}))])
        .await
        .unwrap();
    const WRITERS: u64 = 8;
    const EACH: u64 = 10;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..EACH {
                    loop {
                        let doc = store.get("counters", "c").await.unwrap().unwrap();
                        let n = doc.body["n"].as_u64().unwrap();
                        let write = Write::Update {
                            collection: "counters".into(),
                            id: "c".into(),
                            expected_version: doc.version,
                            body: json!({"n": n + 1}),
                        };
                        match store.commit(vec![write]).await {
                            Ok(()) => break,
                            Err(StoreError::VersionConflict { .. }) => continue,
                            Err(e) => panic!("unexpected error {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let doc = store.get("counters", "c").await.unwrap().unwrap();
    assert_eq!(doc.body["n"], WRITERS * EACH);
    assert_eq!(doc.version, 1 + WRITERS * EACH);
}

pub async fn a_batch_applies_every_write_or_none(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    let err = store
        .commit(vec![
            person("p2", "b@x.io", "red", 20),
            insert("counters", "c", json!({"n": 1})),
            Write::Update {
                collection: "people".into(),
                id: "p1".into(),
                expected_version: 1,
                body: json!({"email": "a@x.io", "team": "blue", "age": 31}),
            },
            // Fails: p3 takes p2's email, which the same batch just claimed.
            person("p3", "b@x.io", "red", 20),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    assert_eq!(store.get("people", "p2").await.unwrap(), None);
    assert_eq!(store.get("counters", "c").await.unwrap(), None);
    let p1 = store.get("people", "p1").await.unwrap().unwrap();
    assert_eq!((p1.version, p1.body["team"].clone()), (1, json!("red")));
    // The email the failed batch tried to claim is still free.
    store
        .commit(vec![person("p2", "b@x.io", "red", 20)])
        .await
        .unwrap();
}

fn ids(items: &[Document]) -> Vec<&str> {
    items.iter().map(|d| d.id.as_str()).collect()
}

pub async fn find_filters_sorts_and_pages(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![
            person("p1", "a@x.io", "red", 30),
            person("p2", "b@x.io", "blue", 25),
            person("p3", "c@x.io", "red", 41),
            person("p4", "d@x.io", "red", 19),
            person("p5", "e@x.io", "red", 30),
        ])
        .await
        .unwrap();

    let reds = Query::eq("team", "red").sort_by("age", SortOrder::Asc);
    let page = store.find("people", &reds).await.unwrap();
    assert_eq!(page.total, 4);
    // Equal ages fall back to id order, so pages are stable.
    assert_eq!(ids(&page.items), ["p4", "p1", "p5", "p3"]);

    let second = store
        .find("people", &reds.clone().page(1, 2))
        .await
        .unwrap();
    assert_eq!(second.total, 4, "total counts every match, not the page");
    assert_eq!(ids(&second.items), ["p1", "p5"]);

    let desc = Query::all().sort_by("age", SortOrder::Desc).page(0, 2);
    assert_eq!(
        ids(&store.find("people", &desc).await.unwrap().items),
        ["p3", "p1"]
    );

    let by_id = Query::all().sort_by("_id", SortOrder::Desc).page(0, 1);
    assert_eq!(
        ids(&store.find("people", &by_id).await.unwrap().items),
        ["p5"]
    );

    let none = store
        .find("people", &Query::eq("team", "green"))
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len()), (0, 0));
    let two_filters = Query::eq("team", "red").and_eq("age", 30);
    assert_eq!(store.find("people", &two_filters).await.unwrap().total, 2);
    let empty = store.find("never_declared", &Query::all()).await.unwrap();
    assert_eq!(empty.total, 0);
}

pub async fn contains_matches_text_ignoring_case(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![
            insert("counters", "a", json!({"name": "Blue Mug"})),
            insert("counters", "b", json!({"name": "red mug"})),
            insert("counters", "c", json!({"name": "Teapot"})),
            insert("counters", "d", json!({"name": 12})),
        ])
        .await
        .unwrap();
    let q = Query::all()
        .and_contains("name", "MUG")
        .sort_by("_id", SortOrder::Asc);
    let page = store.find("counters", &q).await.unwrap();
    assert_eq!(ids(&page.items), ["a", "b"]);
    // Regex metacharacters are literal text, not patterns.
    let q = Query::all().and_contains("name", ".*");
    assert_eq!(store.find("counters", &q).await.unwrap().total, 0);
}

pub async fn a_deleted_document_is_gone(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    store
        .commit(vec![Write::Delete {
            collection: "people".into(),
            id: "p1".into(),
            expected_version: 1,
        }])
        .await
        .unwrap();
    assert_eq!(store.get("people", "p1").await.unwrap(), None);
    assert_eq!(store.find("people", &Query::all()).await.unwrap().total, 0);
    // The id may be used again, starting over at version one.
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    assert_eq!(store.get("people", "p1").await.unwrap().unwrap().version, 1);
}

pub async fn declaring_collections_twice_is_harmless(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    prepared(&store).await;
    let err = store
        .commit(vec![person("p2", "a@x.io", "red", 30)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    store.ping().await.unwrap();
}

/// Expands to one `#[tokio::test]` per conformance check. `$factory` is an async fn
/// returning `Option<Arc<dyn DocumentStore>>`, a fresh empty store per call; `None`
/// means the adapter's backend is not reachable, and the factory must say why.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_suite!(@each $factory;
            insert_then_get_returns_the_document_at_version_one,
            inserting_an_existing_id_is_a_duplicate,
            a_unique_field_refuses_a_second_document_with_the_same_value,
            an_update_with_the_current_version_bumps_it,
            a_stale_update_or_delete_is_refused_and_changes_nothing,
            concurrent_guarded_increments_never_lose_an_update,
            a_batch_applies_every_write_or_none,
            find_filters_sorts_and_pages,
            contains_matches_text_ignoring_case,
            a_deleted_document_is_gone,
            declaring_collections_twice_is_harmless
        );
    };
    (@each $factory:path; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                if let Some(store) = $factory().await {
                    $crate::conformance::$check(store).await;
                }
            }
        )+
    };
}
