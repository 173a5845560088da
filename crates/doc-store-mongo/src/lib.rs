//! The MongoDB adapter of the document-store port, on the official driver: one
//! database per service, each stored document `{_id, _v, ...body}`. Indexes (unique ones
//! included) are created at start-up; guarded writes are `replace_one` / `delete_one`
//! filtered on `_id` and `_v`; a batch is one multi-document transaction (so MongoDB
//! must run as a replica set); a duplicate key (E11000) is the port's `Duplicate`. It
//! must never hold service logic: it translates the port, nothing else.

use std::time::Duration;

use async_trait::async_trait;
use doc_store::{
    CollectionSpec, Document as StoredDocument, DocumentStore, Filter, Page, Query, SortOrder,
    StoreError, Write,
};
use futures::TryStreamExt;
use mongodb::{
    Client, ClientSession, Database, IndexModel,
    bson::{Bson, Document, doc},
    error::{
        Error as MongoError, ErrorKind, RETRYABLE_WRITE_ERROR, TRANSIENT_TRANSACTION_ERROR,
        UNKNOWN_TRANSACTION_COMMIT_RESULT, WriteFailure,
    },
    options::{ClientOptions, IndexOptions, ReadConcern, WriteConcern},
};

/// How to reach MongoDB; from the service's settings.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    pub uri: String,
    /// The service's own database, e.g. `shop_order`.
    pub database: String,
    /// Server selection and connection timeout.
    pub timeout: Duration,
}

#[derive(Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A body MongoDB cannot hold (a number beyond BSON's range, say): trying again
/// changes nothing.
fn rejected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Rejected(e.to_string())
}

/// Server codes of a condition that passes: a primary stepping down or shutting down, a
/// node recovering, a host or the network unreachable, a time limit or write concern not
/// met yet (MongoDB's own retryable read and write codes, plus 64 and 50).
const PASSING_CODES: &[i32] = &[
    6, 7, 50, 64, 89, 91, 134, 189, 262, 9001, 10058, 10107, 11600, 11602, 13435, 13436,
];

/// What the port makes of a driver error. Only a condition that passes is `Unavailable`,
/// which the bus retries as an outage without parking: no server reachable, a network
/// error, a primary stepping down, a write concern not met, what the driver labels
/// retryable. Anything else (a document too large, a command the server refuses) will
/// happen again on every try, so it is `Rejected`, and the bus parks its event after
/// its attempts.
fn driver(e: MongoError) -> StoreError {
    let code = match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        _ => None,
    };
    let passes = matches!(
        e.kind.as_ref(),
        ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Write(WriteFailure::WriteConcernError(_))
    ) || [
        TRANSIENT_TRANSACTION_ERROR,
        RETRYABLE_WRITE_ERROR,
        UNKNOWN_TRANSACTION_COMMIT_RESULT,
    ]
    .iter()
    .any(|label| e.contains_label(label))
        || code.is_some_and(|c| PASSING_CODES.contains(&c));
    if passes {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Rejected(e.to_string())
    }
}

const DUPLICATE_KEY: i32 = 11000;
const NAMESPACE_EXISTS: i32 = 48;
const TRANSACTION_ATTEMPTS: u32 = 5;

impl MongoStore {
    pub async fn connect(config: &MongoConfig) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(&config.uri)
            .await
            .map_err(unavailable)?;
        options.server_selection_timeout = Some(config.timeout);
        options.connect_timeout = Some(config.timeout);
        options.app_name = Some(config.database.clone());
        // An acknowledged write must survive a failover: a consumer commits its offset
        // once the effect is acknowledged, and a write a new primary rolls back would
        // then be lost for good. Reads see only what is majority-committed likewise.
        // What the connection string sets explicitly (`w=`, `readConcernLevel=`) wins.
        options
            .write_concern
            .get_or_insert_with(WriteConcern::majority);
        options
            .read_concern
            .get_or_insert_with(ReadConcern::majority);
        let client = Client::with_options(options).map_err(unavailable)?;
        let db = client.database(&config.database);
        Ok(Self { client, db })
    }

    fn collection(&self, name: &str) -> mongodb::Collection<Document> {
        self.db.collection(name)
    }
}

/// A port body as stored: the body's fields plus `_id` and `_v`.
fn to_stored(id: &str, version: u64, body: &serde_json::Value) -> Result<Document, StoreError> {
    let mut stored = match Bson::try_from(body.clone()).map_err(rejected)? {
        Bson::Document(d) => d,
        other => doc! { "value": other },
    };
    stored.insert("_id", id);
    stored.insert("_v", i64::try_from(version).map_err(rejected)?);
    Ok(stored)
}

fn from_stored(collection: &str, mut stored: Document) -> Result<StoredDocument, StoreError> {
    let id = stored
        .remove("_id")
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| StoreError::Corrupt {
            collection: collection.to_owned(),
            id: String::new(),
            reason: "no string _id".into(),
        })?;
    let version = match stored.remove("_v") {
        Some(Bson::Int64(v)) => v as u64,
        Some(Bson::Int32(v)) => v as u64,
        _ => {
            return Err(StoreError::Corrupt {
                collection: collection.to_owned(),
                id,
                reason: "no _v version".into(),
            });
        }
    };
    Ok(StoredDocument {
        id,
        version,
        body: Bson::Document(stored).into_relaxed_extjson(),
    })
}

/// Text matched literally: every character that is not a letter or digit is escaped.
fn escape_regex(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !c.is_alphanumeric() && c != ' ';
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// The query's filters, each its own clause of an `$and`, so two on one field both
/// hold. Equality is `$eq`, so a value that looks like an operator is only a value.
fn filter_of(query: &Query) -> Result<Document, StoreError> {
    let mut clauses = Vec::new();
    for f in &query.filters {
        let clause = match f {
            Filter::Eq(field, value) => {
                doc! { field: { "$eq": Bson::try_from(value.clone()).map_err(rejected)? } }
            }
            Filter::Contains(field, text) => {
                doc! { field: { "$regex": escape_regex(text), "$options": "i" } }
            }
        };
        clauses.push(Bson::Document(clause));
    }
    Ok(match clauses.len() {
        0 => Document::new(),
        _ => doc! { "$and": clauses },
    })
}

/// What comes strictly after the cursor in the query's order: a greater sort value, or
/// the same one and a greater id (less, for a descending sort). Missing and null sort
/// first, so they are matched by `null` and by "exists and is not null". A comparison
/// in MongoDB matches values of the cursor's own type only, so a field sorted by cursor
/// must hold one type (and null); every field the services page by does.
fn after_filter(query: &Query) -> Result<Option<Document>, StoreError> {
    let Some(cursor) = &query.after else {
        return Ok(None);
    };
    let (beyond, toward_null) = match query.order() {
        SortOrder::Asc => ("$gt", false),
        SortOrder::Desc => ("$lt", true),
    };
    let same_value_later_id = doc! { "_id": { beyond: cursor.id.as_str() } };
    let field = query.sort_field();
    if field == "_id" {
        return Ok(Some(same_value_later_id));
    }
    // A cursor comes from a client: only a plain value can be one.
    let value = match &cursor.value {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
            return Err(StoreError::Rejected(
                "a cursor's value is a plain value".into(),
            ));
        }
        plain => Bson::try_from(plain.clone()).map_err(rejected)?,
    };
    let mut ways = Vec::new();
    if value == Bson::Null {
        let mut tie = doc! { field: { "$eq": Bson::Null } };
        tie.extend(same_value_later_id);
        ways.push(Bson::Document(tie));
        if !toward_null {
            ways.push(Bson::Document(
                doc! { field: { "$exists": true, "$ne": Bson::Null } },
            ));
        }
    } else {
        let mut tie = doc! { field: { "$eq": value.clone() } };
        tie.extend(same_value_later_id);
        ways.push(Bson::Document(tie));
        ways.push(Bson::Document(doc! { field: { beyond: value } }));
        if toward_null {
            ways.push(Bson::Document(doc! { field: { "$eq": Bson::Null } }));
        }
    }
    Ok(Some(doc! { "$or": ways }))
}

/// The field of a duplicate-key error, from the index name (`email_1` -> `email`).
fn duplicate_field(e: &MongoError) -> Option<String> {
    let message = match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) if w.code == DUPLICATE_KEY => &w.message,
        ErrorKind::Command(c) if c.code == DUPLICATE_KEY => &c.message,
        _ => return None,
    };
    let index = message
        .split("index: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("_id_");
    Some(match index {
        "_id_" => "_id".to_owned(),
        other => other.trim_end_matches("_1").to_owned(),
    })
}

enum Failure {
    Store(StoreError),
    Mongo(MongoError),
}

impl MongoStore {
    async fn apply(&self, session: &mut ClientSession, write: &Write) -> Result<(), Failure> {
        match write {
            Write::Insert {
                collection,
                id,
                body,
            } => {
                let stored = to_stored(id, 1, body).map_err(Failure::Store)?;
                self.collection(collection)
                    .insert_one(stored)
                    .session(&mut *session)
                    .await
                    .map(drop)
                    .map_err(|e| match duplicate_field(&e) {
                        Some(field) => Failure::Store(StoreError::Duplicate {
                            collection: collection.clone(),
                            field,
                        }),
                        None => Failure::Mongo(e),
                    })
            }
            Write::Update {
                collection,
                id,
                expected_version,
                body,
            } => {
                let stored = to_stored(id, expected_version + 1, body).map_err(Failure::Store)?;
                let guard = doc! { "_id": id, "_v": *expected_version as i64 };
                let result = self
                    .collection(collection)
                    .replace_one(guard, stored)
                    .session(&mut *session)
                    .await
                    .map_err(|e| match duplicate_field(&e) {
                        Some(field) => Failure::Store(StoreError::Duplicate {
                            collection: collection.clone(),
                            field,
                        }),
                        None => Failure::Mongo(e),
                    })?;
                if result.matched_count == 0 {
                    return Err(Failure::Store(StoreError::VersionConflict {
                        collection: collection.clone(),
                        id: id.clone(),
                    }));
                }
                Ok(())
            }
            Write::Delete {
                collection,
                id,
                expected_version,
            } => {
                let guard = doc! { "_id": id, "_v": *expected_version as i64 };
                let result = self
                    .collection(collection)
                    .delete_one(guard)
                    .session(&mut *session)
                    .await
                    .map_err(Failure::Mongo)?;
                if result.deleted_count == 0 {
                    return Err(Failure::Store(StoreError::VersionConflict {
                        collection: collection.clone(),
                        id: id.clone(),
                    }));
                }
                Ok(())
            }
        }
    }
}

#[async_trait]
impl DocumentStore for MongoStore {
    async fn ensure_collections(&self, specs: &[CollectionSpec]) -> Result<(), StoreError> {
        for spec in specs {
            // Transactions cannot create collections on older servers: create them now.
            match self.db.create_collection(spec.name).await {
                Ok(()) => {}
                Err(e) if matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == NAMESPACE_EXISTS) =>
                    {}
                Err(e) => return Err(driver(e)),
            }
            let collection = self.collection(spec.name);
            for field in spec.unique {
                // Only string values are indexed, so absent and null values do not
                // collide: the port's unique keys are sparse.
                let options = IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! { *field: { "$type": "string" } })
                    .build();
                collection
                    .create_index(
                        IndexModel::builder()
                            .keys(doc! { *field: 1 })
                            .options(options)
                            .build(),
                    )
                    .await
                    .map_err(driver)?;
            }
            for fields in spec.indexed {
                if let [field] = fields
                    && spec.unique.contains(field)
                {
                    continue; // the unique index above serves it
                }
                // Compound, ascending, ending with `_id`: the port breaks ties by id, so
                // only an index whose keys end with it gives a sort's order (MongoDB walks
                // it either way, as the embedded store does).
                let mut keys: Document = fields
                    .iter()
                    .map(|f| (f.to_string(), Bson::Int32(1)))
                    .collect();
                keys.insert("_id", 1);
                collection
                    .create_index(IndexModel::builder().keys(keys).build())
                    .await
                    .map_err(driver)?;
            }
        }
        Ok(())
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<StoredDocument>, StoreError> {
        self.collection(collection)
            .find_one(doc! { "_id": id })
            .await
            .map_err(driver)?
            .map(|d| from_stored(collection, d))
            .transpose()
    }

    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError> {
        let mut filter = filter_of(query)?;
        if let Some(after) = after_filter(query)? {
            filter = doc! { "$and": [filter, after] };
        }
        let direction = if query.order() == SortOrder::Asc {
            1
        } else {
            -1
        };
        let mut sort = Document::new();
        if query.sort_field() != "_id" {
            sort.insert(query.sort_field(), direction);
        }
        // Ties broken by id in the sort's direction, as the port promises.
        sort.insert("_id", direction);
        let coll = self.collection(collection);
        let mut find = coll.find(filter).sort(sort).skip(query.skip);
        if let Some(limit) = query.limit {
            // One more than the page, only to learn whether more follow.
            find = find.limit(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX));
        }
        let items = find
            .await
            .map_err(driver)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(driver)?
            .into_iter()
            .map(|d| from_stored(collection, d))
            .collect::<Result<_, _>>()?;
        Ok(Page::from_matches(query, items))
    }

    async fn count(&self, collection: &str, query: &Query) -> Result<u64, StoreError> {
        self.collection(collection)
            .count_documents(filter_of(query)?)
            .await
            .map_err(driver)
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut session = self.client.start_session().await.map_err(driver)?;
            // Snapshot reads: the transaction's guards all see one point in time; and
            // a majority commit, as for single writes.
            session
                .start_transaction()
                .read_concern(ReadConcern::snapshot())
                .write_concern(WriteConcern::majority())
                .await
                .map_err(driver)?;
            let mut failure = None;
            for write in &writes {
                if let Err(f) = self.apply(&mut session, write).await {
                    failure = Some(f);
                    break;
                }
            }
            let outcome = match failure {
                None => session.commit_transaction().await.map_err(Failure::Mongo),
                Some(f) => {
                    let _ = session.abort_transaction().await;
                    Err(f)
                }
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(Failure::Store(e)) => return Err(e),
                // A transaction that raced another one is retried whole, as the driver
                // documentation advises for the TransientTransactionError label.
                Err(Failure::Mongo(e))
                    if e.contains_label(TRANSIENT_TRANSACTION_ERROR)
                        && attempt < TRANSACTION_ATTEMPTS =>
                {
                    tracing::debug!(attempt, error = %e, "retrying a transient transaction error");
                }
                Err(Failure::Mongo(e)) if e.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                    // A write conflict with another transaction is a lost race.
                    let (collection, id) = match &writes[0] {
                        Write::Insert { collection, id, .. }
                        | Write::Update { collection, id, .. }
                        | Write::Delete { collection, id, .. } => (collection.clone(), id.clone()),
                    };
                    return Err(StoreError::VersionConflict { collection, id });
                }
                Err(Failure::Mongo(e)) => return Err(driver(e)),
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(drop)
            .map_err(driver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_continues_after_its_value_and_id_in_the_sort_direction() {
        let cursor = doc_store::Cursor {
            value: serde_json::json!("2026-01-02"),
            id: "o7".into(),
        };
        let asc = Query::all()
            .sort_by("created_at", SortOrder::Asc)
            .page_after(Some(cursor.clone()), 20);
        assert_eq!(
            after_filter(&asc).unwrap().unwrap(),
            doc! { "$or": [
                { "created_at": { "$eq": "2026-01-02" }, "_id": { "$gt": "o7" } },
                { "created_at": { "$gt": "2026-01-02" } },
            ] }
        );
        let desc = Query::all()
            .sort_by("created_at", SortOrder::Desc)
            .page_after(Some(cursor), 20);
        assert_eq!(
            after_filter(&desc).unwrap().unwrap(),
            doc! { "$or": [
                { "created_at": { "$eq": "2026-01-02" }, "_id": { "$lt": "o7" } },
                { "created_at": { "$lt": "2026-01-02" } },
                { "created_at": { "$eq": null } },
            ] }
        );
        let by_id = Query::all().page_after(
            Some(doc_store::Cursor {
                value: serde_json::Value::Null,
                id: "o7".into(),
            }),
            20,
        );
        assert_eq!(
            after_filter(&by_id).unwrap().unwrap(),
            doc! { "_id": { "$gt": "o7" } }
        );
    }

    #[test]
    fn only_errors_that_pass_are_unavailable() {
        let io = MongoError::from(ErrorKind::Io(std::sync::Arc::new(
            std::io::ErrorKind::ConnectionReset.into(),
        )));
        assert!(matches!(driver(io), StoreError::Unavailable(_)));
        // A server that will never do what is asked is refused, not waited for.
        let refused = MongoError::from(ErrorKind::SessionsNotSupported);
        assert!(matches!(driver(refused), StoreError::Rejected(_)));
        // A version beyond BSON's integers is refused, not waited for.
        let too_big = to_stored("id", u64::MAX, &serde_json::json!({"n": 1}));
        assert!(
            matches!(too_big, Err(StoreError::Rejected(_))),
            "{too_big:?}"
        );
    }

    #[test]
    fn contains_text_is_matched_literally() {
        assert_eq!(escape_regex("a.b*c"), "a\\.b\\*c");
        assert_eq!(escape_regex("Blue mug"), "Blue mug");
    }

    #[test]
    fn a_body_round_trips_through_its_stored_form() {
        let body = serde_json::json!({"email": "a@x.io", "n": 3, "big": 9_007_199_254_740_993_i64,
            "nested": {"list": [1, "two", null]}, "flag": true});
        let stored = to_stored("id-1", 7, &body).unwrap();
        let back = from_stored("c", stored).unwrap();
        assert_eq!((back.id.as_str(), back.version), ("id-1", 7));
        assert_eq!(back.body, body);
    }

    #[test]
    fn filters_translate_to_mongodb_queries() {
        let q = Query::eq("team", "red").and_contains("team", "r.");
        assert_eq!(
            filter_of(&q).unwrap(),
            doc! { "$and": [
                { "team": { "$eq": "red" } },
                { "team": { "$regex": "r\\.", "$options": "i" } },
            ] }
        );
        let operator_like = Query::eq("team", serde_json::json!({"$ne": 1}));
        assert_eq!(
            filter_of(&operator_like).unwrap(),
            doc! { "$and": [{ "team": { "$eq": { "$ne": 1 } } }] }
        );
    }
}
