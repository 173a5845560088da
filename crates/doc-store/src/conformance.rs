//! The behaviour every [`DocumentStore`] adapter must show, as checks an adapter's test
//! crate runs through [`conformance_suite!`](crate::conformance_suite). Each check takes a
//! fresh, empty store and panics with a message saying what broke.

use std::sync::Arc;

use serde_json::json;

use crate::{CollectionSpec, Document, DocumentStore, Query, SortOrder, StoreError, Write};

const PEOPLE: CollectionSpec = CollectionSpec {
    name: "people",
    unique: &["email"],
    indexed: &[&["team"], &["age"], &["team", "age"]],
};
/// The same documents as `people` are given in the index checks, with no index at all:
/// whatever a query answers, it must answer the same on both.
const PLAIN: CollectionSpec = CollectionSpec {
    name: "plain",
    unique: &[],
    indexed: &[],
};
const COUNTERS: CollectionSpec = CollectionSpec {
    name: "counters",
    unique: &[],
    indexed: &[],
};

async fn prepared(store: &Arc<dyn DocumentStore>) {
    store
        .ensure_collections(&[PEOPLE, COUNTERS, PLAIN])
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
    // Equal ages fall back to id order, so pages are stable.
    assert_eq!(ids(&page.items), ["p4", "p1", "p5", "p3"]);
    assert!(!page.has_more(), "an unlimited query is one page");

    let second = store
        .find("people", &reds.clone().page(1, 2))
        .await
        .unwrap();
    assert_eq!(ids(&second.items), ["p1", "p5"]);
    assert!(second.has_more(), "p3 follows");
    let last = store
        .find("people", &reds.clone().page_after(second.next.clone(), 2))
        .await
        .unwrap();
    assert_eq!(ids(&last.items), ["p3"], "the page after the cursor");
    assert!(!last.has_more());
    let exact = store
        .find("people", &reds.clone().page(2, 2))
        .await
        .unwrap();
    assert_eq!(ids(&exact.items), ["p5", "p3"]);
    assert_eq!(exact.next, None, "a full last page says nothing follows");

    // Descending is ascending reversed, ties included.
    let desc = Query::all().sort_by("age", SortOrder::Desc).page(0, 2);
    assert_eq!(
        ids(&store.find("people", &desc).await.unwrap().items),
        ["p3", "p5"]
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
    assert_eq!((none.items.len(), none.next), (0, None));
    let two_filters = Query::eq("team", "red").and_eq("age", 30);
    assert_eq!(
        ids(&store.find("people", &two_filters).await.unwrap().items),
        ["p1", "p5"]
    );
    assert_eq!(store.count("people", &two_filters).await.unwrap(), 2);
    assert_eq!(store.count("people", &Query::all()).await.unwrap(), 5);
    let empty = store.find("never_declared", &Query::all()).await.unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(
        store.count("never_declared", &Query::all()).await.unwrap(),
        0
    );
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
    assert!(store.find("counters", &q).await.unwrap().items.is_empty());
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
    assert!(
        store
            .find("people", &Query::all())
            .await
            .unwrap()
            .items
            .is_empty()
    );
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

/// A person for the index checks: `team` and `age` are sometimes missing or null, ages
/// tie often, and the ids do not follow the ages.
fn varied_person(n: u64) -> serde_json::Value {
    let mut body = json!({"name": format!("Person {n}"), "email": format!("p{n}@x.io")});
    match n % 5 {
        0 => {}
        1 => body["team"] = json!(null),
        2 | 3 => body["team"] = json!("red"),
        _ => body["team"] = json!("blue"),
    }
    if n % 7 != 3 {
        body["age"] = json!((n * 37) % 11 + 20);
    }
    body
}

/// What the port promises a query answers, computed here from all the documents: the
/// filters, then the order (missing and null first, ties by id in the sort's direction).
fn expected(all: &[Document], query: &Query) -> Vec<String> {
    let mut docs: Vec<&Document> = all
        .iter()
        .filter(|d| {
            query.filters.iter().all(|f| match f {
                crate::Filter::Eq(field, value) => d.body.get(field) == Some(value),
                crate::Filter::Contains(field, text) => d
                    .body
                    .get(field)
                    .and_then(|v| v.as_str())
                    .is_some_and(|s| s.to_lowercase().contains(&text.to_lowercase())),
            })
        })
        .collect();
    let field = query.sort_field().to_owned();
    docs.sort_by(|a, b| {
        let key = |d: &Document| {
            let age = match field.as_str() {
                "_id" => None,
                f => d.body.get(f).and_then(|v| v.as_i64()),
            };
            (age, d.id.clone())
        };
        let order = key(a).cmp(&key(b));
        match query.order() {
            SortOrder::Asc => order,
            SortOrder::Desc => order.reverse(),
        }
    });
    docs.into_iter().map(|d| d.id.clone()).collect()
}

/// Every match of `query`, read in pages of `size` by cursor and by skip: both must give
/// the same list, and only the last page may say nothing follows.
async fn paged(
    store: &Arc<dyn DocumentStore>,
    collection: &str,
    query: &Query,
    size: u64,
) -> Vec<String> {
    let mut by_cursor = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .find(collection, &query.clone().page_after(after, size))
            .await
            .unwrap();
        assert!(
            page.items.len() as u64 <= size,
            "a page holds at most its size"
        );
        by_cursor.extend(page.items.iter().map(|d| d.id.clone()));
        match page.next {
            Some(next) => {
                assert_eq!(page.items.len() as u64, size, "only the last page is short");
                after = Some(next);
            }
            None => break,
        }
    }
    let mut by_skip = Vec::new();
    for n in 0.. {
        let page = store
            .find(collection, &query.clone().page(n * size, size))
            .await
            .unwrap();
        by_skip.extend(page.items.iter().map(|d| d.id.clone()));
        if !page.has_more() {
            break;
        }
    }
    assert_eq!(
        by_cursor, by_skip,
        "{collection}: cursor and skip pages of {query:?}"
    );
    by_cursor
}

/// The queries the index checks ask, each served by an index on `people` (or by none).
fn index_queries() -> Vec<Query> {
    let mut queries = Vec::new();
    for order in [SortOrder::Asc, SortOrder::Desc] {
        queries.extend([
            Query::all().sort_by("age", order),
            Query::all().sort_by("_id", order),
            Query::eq("team", "red").sort_by("age", order),
            Query::eq("team", "blue").sort_by("_id", order),
            Query::all().and_contains("name", "1").sort_by("age", order),
            Query::eq("team", "red")
                .and_contains("name", "2")
                .sort_by("age", order),
        ]);
    }
    queries.extend([
        Query::eq("team", "red"),
        Query::eq("team", "red").and_eq("age", 24),
        Query::eq("age", 24),
        Query::eq("team", "green"),
    ]);
    queries
}

async fn assert_indexed_and_plain_agree(store: &Arc<dyn DocumentStore>, when: &str) {
    let all = store.find("plain", &Query::all()).await.unwrap().items;
    for query in index_queries() {
        let want = expected(&all, &query);
        for size in [1, 4, 100] {
            let indexed = paged(store, "people", &query, size).await;
            let plain = paged(store, "plain", &query, size).await;
            assert_eq!(
                indexed, want,
                "{when}: indexed answer to {query:?}, pages of {size}"
            );
            assert_eq!(
                plain, want,
                "{when}: unindexed answer to {query:?}, pages of {size}"
            );
        }
        assert_eq!(
            store.count("people", &query).await.unwrap(),
            want.len() as u64,
            "{when}: count of {query:?}"
        );
    }
}

/// Writes the same change to the indexed and the unindexed collection.
async fn both(store: &Arc<dyn DocumentStore>, change: impl Fn(&str) -> Write) {
    store
        .commit(vec![change("people"), change("plain")])
        .await
        .unwrap();
}

pub async fn indexed_queries_answer_as_unindexed_ones_through_every_change(
    store: Arc<dyn DocumentStore>,
) {
    prepared(&store).await;
    for n in 0..40 {
        let id = format!("id{:02}", (n * 17) % 40);
        both(&store, |c| insert(c, &id, varied_person(n))).await;
    }
    assert_indexed_and_plain_agree(&store, "after inserts").await;

    // Updates that move documents between teams and ages, and to and from missing.
    for n in (0..40).step_by(3) {
        let id = format!("id{n:02}");
        let current = store.get("people", &id).await.unwrap().unwrap();
        let body = varied_person(n * 7 + 1);
        let body = json!({"email": current.body["email"], "name": body["name"],
            "team": body.get("team").cloned().unwrap_or(json!("blue")), "age": body.get("age")});
        both(&store, |c| Write::Update {
            collection: c.into(),
            id: id.clone(),
            expected_version: current.version,
            body: body.clone(),
        })
        .await;
    }
    assert_indexed_and_plain_agree(&store, "after updates").await;

    for n in (1..40).step_by(4) {
        let id = format!("id{n:02}");
        let version = store.get("people", &id).await.unwrap().unwrap().version;
        both(&store, |c| Write::Delete {
            collection: c.into(),
            id: id.clone(),
            expected_version: version,
        })
        .await;
    }
    assert_indexed_and_plain_agree(&store, "after deletes").await;
}

pub async fn a_failed_batch_leaves_no_index_entry_behind(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    store
        .commit(vec![person("p1", "a@x.io", "red", 30)])
        .await
        .unwrap();
    let err = store
        .commit(vec![
            Write::Update {
                collection: "people".into(),
                id: "p1".into(),
                expected_version: 1,
                body: json!({"email": "a@x.io", "team": "blue", "age": 31}),
            },
            person("p2", "b@x.io", "green", 20),
            person("p3", "a@x.io", "green", 20),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    for (query, want) in [
        (Query::eq("team", "red"), vec!["p1"]),
        (Query::eq("team", "blue"), vec![]),
        (Query::eq("team", "green"), vec![]),
        (Query::eq("team", "red").and_eq("age", 30), vec!["p1"]),
        (Query::all().sort_by("age", SortOrder::Asc), vec!["p1"]),
    ] {
        let page = store.find("people", &query).await.unwrap();
        assert_eq!(ids(&page.items), want, "{query:?}");
    }
}

pub async fn an_index_declared_over_stored_documents_is_built_and_kept(
    store: Arc<dyn DocumentStore>,
) {
    const LATE: CollectionSpec = CollectionSpec {
        name: "late",
        unique: &[],
        indexed: &[],
    };
    const LATE_INDEXED: CollectionSpec = CollectionSpec {
        name: "late",
        unique: &["code"],
        indexed: &[&["size"]],
    };
    store.ensure_collections(&[LATE]).await.unwrap();
    store
        .commit(
            (0..6)
                .map(|n| {
                    insert(
                        "late",
                        &format!("l{n}"),
                        json!({"code": format!("c{n}"), "size": 5 - n}),
                    )
                })
                .collect(),
        )
        .await
        .unwrap();
    store.ensure_collections(&[LATE_INDEXED]).await.unwrap();
    let q = Query::all().sort_by("size", SortOrder::Asc).page(0, 2);
    let page = store.find("late", &q).await.unwrap();
    assert_eq!(ids(&page.items), ["l5", "l4"]);
    let err = store
        .commit(vec![insert("late", "l9", json!({"code": "c3", "size": 1}))])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { field, .. } if field == "code"),
        "a unique index built late holds: {err:?}"
    );
    store
        .commit(vec![insert("late", "l9", json!({"code": "c9", "size": 9}))])
        .await
        .unwrap();
    let q = Query::all().sort_by("size", SortOrder::Desc).page(0, 1);
    assert_eq!(ids(&store.find("late", &q).await.unwrap().items), ["l9"]);
}

/// A field declared unique over stored documents that share a value, whether it was
/// plain or already indexed: start-up must refuse, not keep the duplicates.
pub async fn a_unique_index_over_data_that_breaks_it_refuses_to_start(
    store: Arc<dyn DocumentStore>,
) {
    const PLAIN_FIELD: CollectionSpec = CollectionSpec {
        name: "twins",
        unique: &[],
        indexed: &[],
    };
    const INDEXED_FIELD: CollectionSpec = CollectionSpec {
        name: "indexed_twins",
        unique: &[],
        indexed: &[&["code"]],
    };
    for before in [PLAIN_FIELD, INDEXED_FIELD] {
        store.ensure_collections(&[before]).await.unwrap();
        store
            .commit(vec![
                insert(before.name, "a", json!({"code": "same"})),
                insert(before.name, "b", json!({"code": "same"})),
            ])
            .await
            .unwrap();
        let unique = CollectionSpec {
            unique: &["code"],
            ..before
        };
        assert!(
            store.ensure_collections(&[unique]).await.is_err(),
            "{}: two stored documents share a value declared unique",
            before.name
        );
    }
}

pub async fn equality_compares_values_not_their_spelling(store: Arc<dyn DocumentStore>) {
    prepared(&store).await;
    for collection in ["people", "plain"] {
        store
            .commit(vec![
                insert(collection, "int", json!({"age": 24})),
                insert(collection, "float", json!({"age": 24.0})),
                insert(collection, "null", json!({"age": null})),
                insert(collection, "missing", json!({})),
                insert(collection, "other", json!({"age": 25})),
            ])
            .await
            .unwrap();
    }
    for collection in ["people", "plain"] {
        for (query, want) in [
            (Query::eq("age", 24), vec!["float", "int"]),
            (Query::eq("age", 24.0), vec!["float", "int"]),
            // As in MongoDB, a null matches a missing field too.
            (
                Query::eq("age", serde_json::Value::Null),
                vec!["missing", "null"],
            ),
        ] {
            let page = store.find(collection, &query).await.unwrap();
            assert_eq!(ids(&page.items), want, "{collection}: {query:?}");
            let count = store.count(collection, &query).await.unwrap();
            assert_eq!(count, want.len() as u64, "{collection}: count of {query:?}");
            let skipped = store.find(collection, &query.page(1, 1)).await.unwrap();
            assert_eq!(ids(&skipped.items), &want[1..], "{collection}: skip");
        }
    }
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
            declaring_collections_twice_is_harmless,
            indexed_queries_answer_as_unindexed_ones_through_every_change,
            a_failed_batch_leaves_no_index_entry_behind,
            an_index_declared_over_stored_documents_is_built_and_kept,
            a_unique_index_over_data_that_breaks_it_refuses_to_start,
            equality_compares_values_not_their_spelling
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
