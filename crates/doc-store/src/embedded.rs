//! The embedded adapter, on redb: one database file per namespace (service), one table
//! per collection. redb gives ACID write transactions that are serialised, so a batch
//! is atomic and a version check inside it cannot race; it is pure Rust, so the
//! one-command system needs no database server and no C toolchain.
//!
//! Layout: `doc/<collection>` maps id -> 8-byte big-endian version followed by the JSON
//! body; `unique` maps `<collection> US <field> US <json value>` -> id. Queries scan the
//! collection, which is the right trade for the embedded mode's data sizes.

use std::{cmp::Ordering, collections::HashMap, path::Path, sync::RwLock};

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde_json::Value;

use crate::{
    CollectionSpec, Document, DocumentStore, Filter, Page, Query, SortOrder, StoreError, Write,
    redb_file::{RedbFile, Unavailable, existing_table},
};

const UNIQUE: TableDefinition<&str, &str> = TableDefinition::new("unique");
const SEPARATOR: char = '\u{1f}';

#[derive(Clone)]
pub struct EmbeddedStore {
    file: RedbFile<UniqueFields>,
}

/// Unique fields per collection, as declared by `ensure_collections`.
#[derive(Default)]
struct UniqueFields(RwLock<HashMap<String, Vec<String>>>);

impl EmbeddedStore {
    /// Opens (or creates) the namespace's database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: RedbFile::open(path, "store")?,
        })
    }

    /// A store that lives only as long as this value; for tests and throwaway runs.
    pub fn in_memory() -> Self {
        Self {
            file: RedbFile::in_memory("store"),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database, &UniqueFields) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.file.run(work).await
    }
}

impl From<Unavailable> for StoreError {
    fn from(e: Unavailable) -> Self {
        StoreError::Unavailable(e.0)
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    Unavailable::because(e).into()
}

fn table_name(collection: &str) -> String {
    format!("doc/{collection}")
}

fn unique_key(collection: &str, field: &str, value: &Value) -> String {
    format!("{collection}{SEPARATOR}{field}{SEPARATOR}{value}")
}

fn encode(version: u64, body: &Value) -> Vec<u8> {
    let mut bytes = version.to_be_bytes().to_vec();
    serde_json::to_writer(&mut bytes, body).expect("a JSON value always serialises");
    bytes
}

fn decode(collection: &str, id: &str, bytes: &[u8]) -> Result<Document, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        collection: collection.to_owned(),
        id: id.to_owned(),
        reason,
    };
    let (version, body) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("shorter than its version header".into()))?;
    Ok(Document {
        id: id.to_owned(),
        version: u64::from_be_bytes(*version),
        body: serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))?,
    })
}

/// The values of the declared unique fields a body carries; absent and null are not
/// indexed, so optional unique fields behave like a sparse unique index.
fn unique_values<'a>(fields: &'a [String], body: &'a Value) -> Vec<(&'a str, &'a Value)> {
    fields
        .iter()
        .filter_map(|f| {
            body.get(f)
                .filter(|v| !v.is_null())
                .map(|v| (f.as_str(), v))
        })
        .collect()
}

impl UniqueFields {
    fn of(&self, collection: &str) -> Vec<String> {
        self.0
            .read()
            .expect("unique-field map lock")
            .get(collection)
            .cloned()
            .unwrap_or_default()
    }

    fn declare(&self, collection: &str, fields: Vec<String>) {
        self.0
            .write()
            .expect("unique-field map lock")
            .insert(collection.to_owned(), fields);
    }
}

/// One write of a batch, checked against the document's version and the unique fields.
fn apply(
    txn: &WriteTransaction,
    write: &Write,
    unique_fields: &UniqueFields,
) -> Result<(), StoreError> {
    let (collection, id) = match write {
        Write::Insert { collection, id, .. }
        | Write::Update { collection, id, .. }
        | Write::Delete { collection, id, .. } => (collection.as_str(), id.as_str()),
    };
    let name = table_name(collection);
    let mut docs = txn
        .open_table(TableDefinition::<&str, &[u8]>::new(&name))
        .map_err(unavailable)?;
    let mut unique = txn.open_table(UNIQUE).map_err(unavailable)?;
    let current = docs
        .get(id)
        .map_err(unavailable)?
        .map(|bytes| decode(collection, id, bytes.value()))
        .transpose()?;
    let conflict = || StoreError::VersionConflict {
        collection: collection.to_owned(),
        id: id.to_owned(),
    };
    let fields = unique_fields.of(collection);

    let (new_version, new_body) = match write {
        Write::Insert { body, .. } => {
            if current.is_some() {
                return Err(StoreError::Duplicate {
                    collection: collection.to_owned(),
                    field: "_id".into(),
                });
            }
            (1, Some(body))
        }
        Write::Update {
            expected_version,
            body,
            ..
        } => match &current {
            Some(doc) if doc.version == *expected_version => (doc.version + 1, Some(body)),
            _ => return Err(conflict()),
        },
        Write::Delete {
            expected_version, ..
        } => match &current {
            Some(doc) if doc.version == *expected_version => (0, None),
            _ => return Err(conflict()),
        },
    };

    if let Some(old) = &current {
        for (field, value) in unique_values(&fields, &old.body) {
            unique
                .remove(unique_key(collection, field, value).as_str())
                .map_err(unavailable)?;
        }
    }
    match new_body {
        Some(body) => {
            for (field, value) in unique_values(&fields, body) {
                let key = unique_key(collection, field, value);
                let taken = unique.get(key.as_str()).map_err(unavailable)?.is_some();
                if taken {
                    return Err(StoreError::Duplicate {
                        collection: collection.to_owned(),
                        field: field.to_owned(),
                    });
                }
                unique.insert(key.as_str(), id).map_err(unavailable)?;
            }
            docs.insert(id, encode(new_version, body).as_slice())
                .map_err(unavailable)?;
        }
        None => {
            docs.remove(id).map_err(unavailable)?;
        }
    }
    Ok(())
}

fn scan(db: &Database, collection: &str) -> Result<Vec<Document>, StoreError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let name = table_name(collection);
    let Some(table) = existing_table(&txn, TableDefinition::<&str, &[u8]>::new(&name))? else {
        return Ok(Vec::new());
    };
    table
        .iter()
        .map_err(unavailable)?
        .map(|entry| {
            let (id, bytes) = entry.map_err(unavailable)?;
            decode(collection, id.value(), bytes.value())
        })
        .collect()
}

fn matches(doc: &Document, filter: &Filter) -> bool {
    match filter {
        Filter::Eq(field, value) => field_value(doc, field) == Some(value),
        Filter::Contains(field, text) => field_value(doc, field)
            .and_then(Value::as_str)
            .is_some_and(|s| s.to_lowercase().contains(&text.to_lowercase())),
    }
}

fn field_value<'a>(doc: &'a Document, field: &str) -> Option<&'a Value> {
    doc.body.get(field)
}

/// Orders JSON values the way MongoDB's sort does for the types we store:
/// missing/null < numbers < strings < booleans, each compared naturally.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(Value::String(_)) => 2,
            Some(Value::Bool(_)) => 3,
            Some(_) => 4,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
        },
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[async_trait]
impl DocumentStore for EmbeddedStore {
    async fn ensure_collections(&self, specs: &[CollectionSpec]) -> Result<(), StoreError> {
        let specs = specs.to_vec();
        self.blocking(move |db, unique_fields| {
            let txn = db.begin_write().map_err(unavailable)?;
            txn.open_table(UNIQUE).map_err(unavailable)?;
            for spec in &specs {
                let name = table_name(spec.name);
                txn.open_table(TableDefinition::<&str, &[u8]>::new(&name))
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)?;

            // Rebuild the unique index for a field declared after documents existed, and
            // refuse to start if existing data already breaks the constraint.
            for spec in &specs {
                let fields: Vec<String> = spec.unique.iter().map(|f| f.to_string()).collect();
                let known = unique_fields.of(spec.name);
                if fields.iter().all(|f| known.contains(f)) {
                    continue;
                }
                let docs = scan(db, spec.name)?;
                let txn = db.begin_write().map_err(unavailable)?;
                {
                    let mut unique = txn.open_table(UNIQUE).map_err(unavailable)?;
                    for doc in &docs {
                        for (field, value) in unique_values(&fields, &doc.body) {
                            let key = unique_key(spec.name, field, value);
                            let owner = unique
                                .get(key.as_str())
                                .map_err(unavailable)?
                                .map(|id| id.value().to_owned());
                            match owner {
                                Some(owner) if owner != doc.id => {
                                    return Err(StoreError::Duplicate {
                                        collection: spec.name.to_owned(),
                                        field: field.to_owned(),
                                    });
                                }
                                _ => {
                                    unique
                                        .insert(key.as_str(), doc.id.as_str())
                                        .map_err(unavailable)?;
                                }
                            }
                        }
                    }
                }
                txn.commit().map_err(unavailable)?;
                unique_fields.declare(spec.name, fields);
            }
            Ok(())
        })
        .await
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, StoreError> {
        let (collection, id) = (collection.to_owned(), id.to_owned());
        self.blocking(move |db, _| {
            let txn = db.begin_read().map_err(unavailable)?;
            let name = table_name(&collection);
            let Some(table) = existing_table(&txn, TableDefinition::<&str, &[u8]>::new(&name))?
            else {
                return Ok(None);
            };
            let found = table.get(id.as_str()).map_err(unavailable)?;
            found
                .map(|bytes| decode(&collection, &id, bytes.value()))
                .transpose()
        })
        .await
    }

    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError> {
        let (collection, query) = (collection.to_owned(), query.clone());
        self.blocking(move |db, _| {
            let mut docs: Vec<Document> = scan(db, &collection)?
                .into_iter()
                .filter(|doc| query.filters.iter().all(|f| matches(doc, f)))
                .collect();
            // The table iterates in id order, which is the tie-break for every sort.
            if let Some((field, order)) = &query.sort {
                docs.sort_by(|a, b| {
                    let ord = if field == "_id" {
                        a.id.cmp(&b.id)
                    } else {
                        compare_values(field_value(a, field), field_value(b, field))
                    };
                    match order {
                        SortOrder::Asc => ord,
                        SortOrder::Desc => ord.reverse(),
                    }
                    .then_with(|| a.id.cmp(&b.id))
                });
            }
            let total = docs.len() as u64;
            let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
            let limit = query
                .limit
                .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
            let items = docs.into_iter().skip(skip).take(limit).collect();
            Ok(Page { items, total })
        })
        .await
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.blocking(move |db, unique_fields| {
            let txn = db.begin_write().map_err(unavailable)?;
            for write in &writes {
                // Dropping the transaction on error aborts every write before it.
                apply(&txn, write, unique_fields)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.blocking(|db, _| db.begin_read().map(drop).map_err(unavailable))
            .await
    }
}
