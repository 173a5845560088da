//! The embedded adapter, on redb: one database file per namespace (service), one table
//! per collection, one table per index. redb gives ACID write transactions that are
//! serialised, so a batch is atomic and a version check inside it cannot race; it is
//! pure Rust, so the one-command system needs no database server and no C toolchain.
//!
//! Layout: `doc/<collection>` maps id -> 8-byte big-endian version followed by the JSON
//! body. `idx/<collection>/<field>+<field>...` maps an index key (the fields' values
//! and the id, encoded so byte order is sort order: see [`key`]) -> id, for every
//! document, kept in the same write transaction as the document; a unique field's
//! index (`idx/<collection>/<field>!unique`) holds each value (absent and null aside)
//! once. `indexes` lists the index tables that are complete: start-up builds an index
//! only once, when it is first declared, and every write and query reads the list from
//! the file, so a write keeps every built index whoever wrote it and whenever.
//!
//! A query walks one range: of an index whose leading fields the query fixes by
//! equality, or of the collection in id order (see [`plan`]). When that range already
//! comes in the query's order, it decodes documents only until the page is full. When
//! it does not (a sort no declared index serves), it keeps the best `skip + limit + 1`
//! matches seen, so its memory is bounded by the page (by the page and those before it
//! for a page asked for by number: no list the services serve takes this path with a
//! range larger than one document); its time is that of the range. Substring filters
//! (`Contains`) are checked on each decoded document: the catalog's name search walks
//! the name index in order and stops at a full page, so a common word costs a page and
//! only a rare one costs the walk, which is the trade a shop's search box can live with
//! until it needs a text index.

mod key;
mod plan;

use std::{
    collections::{BinaryHeap, HashMap},
    ops::Bound,
    path::Path,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};

use async_trait::async_trait;
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use serde_json::Value;

use crate::{
    CollectionSpec, Document, DocumentStore, Filter, Page, Query, SortOrder, StoreError, Write,
    redb_file::{DEFAULT_CACHE_BYTES, RedbFile, Unavailable, existing_table},
};
use plan::{Plan, Source};

/// Index tables that hold every document of their collection.
const INDEXES: TableDefinition<&str, ()> = TableDefinition::new("indexes");
/// Where unique values lived before indexes; dropped once the indexes are built.
const LEGACY_UNIQUE: TableDefinition<&str, &str> = TableDefinition::new("unique");

type Docs<'a> = TableDefinition<'a, &'static str, &'static [u8]>;
type IndexTable<'a> = TableDefinition<'a, &'static [u8], &'static str>;

#[derive(Clone)]
pub struct EmbeddedStore {
    file: RedbFile<Reads>,
}

/// How many stored documents were decoded, which is what a query costs.
#[derive(Default)]
struct Reads(AtomicU64);

impl Reads {
    fn one(&self) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[derive(Debug, Clone, PartialEq)]
struct IndexDef {
    fields: Vec<String>,
    unique: bool,
    table: String,
}

impl IndexDef {
    fn new(collection: &str, fields: Vec<String>, unique: bool) -> Self {
        let suffix = if unique { UNIQUE_SUFFIX } else { "" };
        Self {
            table: format!("{}{}{suffix}", index_prefix(collection), fields.join("+")),
            fields,
            unique,
        }
    }

    /// The index a table name describes (the inverse of [`IndexDef::new`]).
    fn from_table(collection: &str, table: &str) -> Option<Self> {
        let rest = table.strip_prefix(&index_prefix(collection))?;
        let (fields, unique) = match rest.strip_suffix(UNIQUE_SUFFIX) {
            Some(fields) => (fields, true),
            None => (rest, false),
        };
        let fields = fields.split('+').map(str::to_owned).collect();
        Some(Self::new(collection, fields, unique))
    }

    fn table(&self) -> IndexTable<'_> {
        TableDefinition::new(&self.table)
    }
}

const UNIQUE_SUFFIX: &str = "!unique";

fn index_prefix(collection: &str) -> String {
    format!("idx/{collection}/")
}

/// The complete indexes of `collection`, as the file lists them.
fn indexes_in(
    built: &impl ReadableTable<&'static str, ()>,
    collection: &str,
) -> Result<Vec<IndexDef>, StoreError> {
    let prefix = index_prefix(collection);
    let mut indexes = Vec::new();
    for entry in built
        .range::<&str>(prefix.as_str()..)
        .map_err(unavailable)?
    {
        let (name, _) = entry.map_err(unavailable)?;
        match IndexDef::from_table(collection, name.value()) {
            Some(index) => indexes.push(index),
            None => break,
        }
    }
    Ok(indexes)
}

fn read_indexes(
    txn: &redb::ReadTransaction,
    collection: &str,
) -> Result<Vec<IndexDef>, StoreError> {
    match existing_table(txn, INDEXES)? {
        Some(built) => indexes_in(&built, collection),
        None => Ok(Vec::new()),
    }
}

impl EmbeddedStore {
    /// Opens (or creates) the namespace's database file, with the default cache.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the namespace's database file with a page cache of
    /// `cache_bytes`.
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        Ok(Self {
            file: RedbFile::open(path, "store", cache_bytes)?,
        })
    }

    /// A store that lives only as long as this value; for tests and throwaway runs.
    pub fn in_memory() -> Self {
        Self {
            file: RedbFile::in_memory("store"),
        }
    }

    /// Documents decoded so far by queries and index builds (`get` aside): a query
    /// served by an index adds about its page, a walk of the collection adds its size.
    pub fn documents_read(&self) -> u64 {
        self.file.state().0.load(Relaxed)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database, &Reads) -> Result<T, StoreError> + Send + 'static,
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

fn docs_name(collection: &str) -> String {
    format!("doc/{collection}")
}

/// The indexes `spec` declares, each once: a field declared unique and also indexed
/// alone is one (unique) index.
fn index_defs(spec: &CollectionSpec) -> Vec<IndexDef> {
    let unique = spec.unique.len();
    let mut defs: Vec<IndexDef> = Vec::new();
    for (i, fields) in spec.indexes().enumerate() {
        if defs.iter().all(|d| d.fields != fields) {
            let fields = fields.iter().map(|f| f.to_string()).collect();
            defs.push(IndexDef::new(spec.name, fields, i < unique));
        }
    }
    defs
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

/// The value a unique index must not see twice: absent and null are not values, so
/// optional unique fields behave like MongoDB's partial unique index.
fn unique_value<'a>(index: &IndexDef, body: &'a Value) -> Option<&'a Value> {
    body.get(&index.fields[0]).filter(|v| !v.is_null())
}

/// Adds `doc` to `index`, refusing a unique value some other document holds.
fn add_to_index(
    table: &mut redb::Table<&'static [u8], &'static str>,
    index: &IndexDef,
    collection: &str,
    id: &str,
    body: &Value,
) -> Result<(), StoreError> {
    if index.unique
        && let Some(value) = unique_value(index, body)
    {
        let mut prefix = Vec::new();
        key::push_value(&mut prefix, Some(value));
        let mut end = prefix.clone();
        end.push(key::END);
        let mut holders = table
            .range::<&[u8]>(prefix.as_slice()..end.as_slice())
            .map_err(unavailable)?;
        let taken = holders
            .try_fold(false, |taken, entry| {
                entry.map(|(_, holder)| taken || holder.value() != id)
            })
            .map_err(unavailable)?;
        if taken {
            return Err(StoreError::Duplicate {
                collection: collection.to_owned(),
                field: index.fields[0].clone(),
            });
        }
    }
    let key = key::index_key(&index.fields, id, body);
    table.insert(key.as_slice(), id).map_err(unavailable)?;
    Ok(())
}

/// One write of a batch, checked against the document's version and unique fields, and
/// reflected in every index the file holds for its collection.
fn apply(
    txn: &WriteTransaction,
    write: &Write,
    indexes: &mut HashMap<String, Vec<IndexDef>>,
) -> Result<(), StoreError> {
    let (collection, id) = match write {
        Write::Insert { collection, id, .. }
        | Write::Update { collection, id, .. }
        | Write::Delete { collection, id, .. } => (collection.as_str(), id.as_str()),
    };
    let name = docs_name(collection);
    let mut docs = txn.open_table(Docs::new(&name)).map_err(unavailable)?;
    let current = docs
        .get(id)
        .map_err(unavailable)?
        .map(|bytes| decode(collection, id, bytes.value()))
        .transpose()?;
    let conflict = || StoreError::VersionConflict {
        collection: collection.to_owned(),
        id: id.to_owned(),
    };

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

    if !indexes.contains_key(collection) {
        let built = txn.open_table(INDEXES).map_err(unavailable)?;
        indexes.insert(collection.to_owned(), indexes_in(&built, collection)?);
    }
    for index in &indexes[collection] {
        let mut table = txn.open_table(index.table()).map_err(unavailable)?;
        if let Some(old) = &current {
            let key = key::index_key(&index.fields, id, &old.body);
            table.remove(key.as_slice()).map_err(unavailable)?;
        }
        if let Some(body) = new_body {
            add_to_index(&mut table, index, collection, id, body)?;
        }
    }
    match new_body {
        Some(body) => docs
            .insert(id, encode(new_version, body).as_slice())
            .map(drop),
        None => docs.remove(id).map(drop),
    }
    .map_err(unavailable)
}

/// Builds the indexes `spec` declares that the file does not hold yet (all of them for
/// a new file, or for documents stored before an index was declared), and drops the
/// collection's index tables that are no longer declared, so none goes stale. An index
/// that becomes unique is a new table, so its build checks the stored values.
fn build_indexes(
    txn: &WriteTransaction,
    spec: &CollectionSpec,
    reads: &Reads,
) -> Result<(), StoreError> {
    let wanted = index_defs(spec);
    let mut built = txn.open_table(INDEXES).map_err(unavailable)?;
    let present = indexes_in(&built, spec.name)?;
    for old in present.iter().filter(|p| !wanted.contains(p)) {
        txn.delete_table(old.table()).map_err(unavailable)?;
        built.remove(old.table.as_str()).map_err(unavailable)?;
    }
    let docs_name = docs_name(spec.name);
    let docs = txn.open_table(Docs::new(&docs_name)).map_err(unavailable)?;
    for index in wanted.iter().filter(|w| !present.contains(w)) {
        let mut table = txn.open_table(index.table()).map_err(unavailable)?;
        for entry in docs.iter().map_err(unavailable)? {
            let (id, bytes) = entry.map_err(unavailable)?;
            reads.one();
            let doc = decode(spec.name, id.value(), bytes.value())?;
            add_to_index(&mut table, index, spec.name, &doc.id, &doc.body)?;
        }
        built
            .insert(index.table.as_str(), ())
            .map_err(unavailable)?;
    }
    Ok(())
}

/// Equality is of the values' keys, as MongoDB compares: 24 equals 24.0, and null
/// equals a missing field. So a document is in an index range exactly when it matches.
fn matches(doc: &Document, filter: &Filter) -> bool {
    match filter {
        Filter::Eq(field, value) => {
            let (mut stored, mut wanted) = (Vec::new(), Vec::new());
            key::push_value(&mut stored, doc.body.get(field));
            key::push_value(&mut wanted, Some(value));
            stored == wanted
        }
        Filter::Contains(field, text) => doc
            .body
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| s.to_lowercase().contains(&text.to_lowercase())),
    }
}

/// A document's place in the query's order: its sort value, then its id.
fn sort_key(query: &Query, id: &str, body: &Value) -> Vec<u8> {
    let mut k = Vec::new();
    if query.sort_field() != "_id" {
        key::push_value(&mut k, body.get(query.sort_field()));
    }
    key::push_id(&mut k, id);
    k
}

fn cursor_key(query: &Query) -> Option<Vec<u8>> {
    let cursor = query.after.as_ref()?;
    let mut k = Vec::new();
    if query.sort_field() != "_id" {
        key::push_value(&mut k, Some(&cursor.value));
    }
    key::push_id(&mut k, &cursor.id);
    Some(k)
}

/// The ids of one range, in key order (reversed for a descending walk).
type Ids<'a> = Box<dyn Iterator<Item = Result<String, StoreError>> + 'a>;

/// Walks the range the plan names. An index range of a sorted plan starts after the
/// cursor; any other range is walked whole and the cursor is applied per document.
fn walk<'a>(
    txn: &'a redb::ReadTransaction,
    collection: &str,
    query: &Query,
    plan: &Plan,
) -> Result<Ids<'a>, StoreError> {
    let desc = plan.sorted && query.order() == SortOrder::Desc;
    let after = if plan.sorted { cursor_key(query) } else { None };
    match &plan.source {
        Source::Collection => {
            let name = docs_name(collection);
            let Some(docs) = existing_table(txn, Docs::new(&name))? else {
                return Ok(Box::new(std::iter::empty()));
            };
            let cursor = plan
                .sorted
                .then(|| query.after.as_ref().map(|c| c.id.clone()))
                .flatten();
            let range = match (&cursor, desc) {
                (Some(id), false) => {
                    docs.range::<&str>((Bound::Excluded(id.as_str()), Bound::Unbounded))
                }
                (Some(id), true) => {
                    docs.range::<&str>((Bound::Unbounded, Bound::Excluded(id.as_str())))
                }
                (None, _) => docs.range::<&str>(..),
            }
            .map_err(unavailable)?;
            let ids = range.map(|entry| {
                entry
                    .map(|(id, _)| id.value().to_owned())
                    .map_err(unavailable)
            });
            Ok(if desc {
                Box::new(ids.rev())
            } else {
                Box::new(ids)
            })
        }
        Source::Index { table, prefix } => {
            let Some(index) = existing_table(txn, IndexTable::new(table))? else {
                return Ok(Box::new(std::iter::empty()));
            };
            let start = prefix.clone();
            let mut end = prefix.clone();
            end.push(key::END);
            let from_cursor = after.map(|tail| [prefix.as_slice(), &tail].concat());
            let lower = match (&from_cursor, desc) {
                (Some(k), false) => Bound::Excluded(k.as_slice()),
                _ => Bound::Included(start.as_slice()),
            };
            let upper = match (&from_cursor, desc) {
                (Some(k), true) => Bound::Excluded(k.as_slice()),
                _ => Bound::Excluded(end.as_slice()),
            };
            let ids = index
                .range::<&[u8]>((lower, upper))
                .map_err(unavailable)?
                .map(|entry| {
                    entry
                        .map(|(_, id)| id.value().to_owned())
                        .map_err(unavailable)
                });
            Ok(if desc {
                Box::new(ids.rev())
            } else {
                Box::new(ids)
            })
        }
    }
}

/// The page `query` asks for, reading as little as its plan allows.
fn run(db: &Database, reads: &Reads, collection: &str, query: &Query) -> Result<Page, StoreError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let plan = Plan::choose(query, &read_indexes(&txn, collection)?);
    let name = docs_name(collection);
    let Some(docs) = existing_table(&txn, Docs::new(&name))? else {
        return Ok(Page {
            items: Vec::new(),
            next: None,
        });
    };
    let load = |id: &str| -> Result<Option<Document>, StoreError> {
        let Some(bytes) = docs.get(id).map_err(unavailable)? else {
            return Ok(None);
        };
        reads.one();
        let doc = decode(collection, id, bytes.value())?;
        Ok(query
            .filters
            .iter()
            .all(|f| matches(&doc, f))
            .then_some(doc))
    };
    let limit = query.limit.map_or(usize::MAX, |l| {
        usize::try_from(l).unwrap_or(usize::MAX).saturating_add(1)
    });
    let mut skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    let ids = walk(&txn, collection, query, &plan)?;

    if plan.sorted {
        let mut items = Vec::new();
        for id in ids {
            if items.len() >= limit {
                break;
            }
            let id = id?;
            // Skipping inside a range that only holds matches needs no document.
            if skip > 0 && plan.covered {
                skip -= 1;
                continue;
            }
            let Some(doc) = load(&id)? else { continue };
            if skip > 0 {
                skip -= 1;
                continue;
            }
            items.push(doc);
        }
        return Ok(Page::from_matches(query, items));
    }

    // No index gives this order: keep the best `skip + limit` matches (plus one, to know
    // whether more follow) in a heap whose top is the worst kept.
    let after = cursor_key(query);
    let desc = query.order() == SortOrder::Desc;
    let keep = skip.saturating_add(limit);
    let mut best: BinaryHeap<Ranked> = BinaryHeap::new();
    for id in ids {
        let Some(doc) = load(&id?)? else { continue };
        let key = sort_key(query, &doc.id, &doc.body);
        if let Some(after) = &after
            && (if desc { &key >= after } else { &key <= after })
        {
            continue;
        }
        best.push(Ranked { key, desc, doc });
        if best.len() > keep {
            best.pop();
        }
    }
    let items = best
        .into_sorted_vec()
        .into_iter()
        .skip(skip)
        .map(|ranked| ranked.doc)
        .collect();
    Ok(Page::from_matches(query, items))
}

/// A match ranked by its sort key in the query's direction.
struct Ranked {
    key: Vec<u8>,
    desc: bool,
    doc: Document,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let order = self.key.cmp(&other.key);
        if self.desc { order.reverse() } else { order }
    }
}

fn count(db: &Database, reads: &Reads, collection: &str, query: &Query) -> Result<u64, StoreError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let name = docs_name(collection);
    let Some(docs) = existing_table(&txn, Docs::new(&name))? else {
        return Ok(0);
    };
    if query.filters.is_empty() {
        return docs.len().map_err(unavailable);
    }
    let plan = Plan::choose(query, &read_indexes(&txn, collection)?);
    let unpaged = Query {
        after: None,
        ..query.clone()
    };
    let mut n = 0;
    for id in walk(&txn, collection, &unpaged, &plan)? {
        let id = id?;
        let counted = plan.covered || {
            match docs.get(id.as_str()).map_err(unavailable)? {
                Some(bytes) => {
                    reads.one();
                    let doc = decode(collection, &id, bytes.value())?;
                    query.filters.iter().all(|f| matches(&doc, f))
                }
                None => false,
            }
        };
        n += u64::from(counted);
    }
    Ok(n)
}

#[async_trait]
impl DocumentStore for EmbeddedStore {
    async fn ensure_collections(&self, specs: &[CollectionSpec]) -> Result<(), StoreError> {
        let specs = specs.to_vec();
        self.blocking(move |db, reads| {
            let txn = db.begin_write().map_err(unavailable)?;
            for spec in &specs {
                // Dropping the transaction on error (a unique value already taken twice
                // by stored documents) leaves the file as it was and refuses to start.
                build_indexes(&txn, spec, reads)?;
            }
            txn.delete_table(LEGACY_UNIQUE).map_err(unavailable)?;
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, StoreError> {
        let (collection, id) = (collection.to_owned(), id.to_owned());
        self.blocking(move |db, _| {
            let txn = db.begin_read().map_err(unavailable)?;
            let name = docs_name(&collection);
            let Some(table) = existing_table(&txn, Docs::new(&name))? else {
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
        self.blocking(move |db, reads| run(db, reads, &collection, &query))
            .await
    }

    async fn count(&self, collection: &str, query: &Query) -> Result<u64, StoreError> {
        let (collection, query) = (collection.to_owned(), query.clone());
        self.blocking(move |db, reads| count(db, reads, &collection, &query))
            .await
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.blocking(move |db, _| {
            let txn = db.begin_write().map_err(unavailable)?;
            let mut indexes = HashMap::new();
            for write in &writes {
                // Dropping the transaction on error aborts every write before it.
                apply(&txn, write, &mut indexes)?;
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
