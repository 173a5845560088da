use async_trait::async_trait;
use serde_json::Value;

/// A stored document: its id, its version (1 on insert, +1 on every update) and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    pub version: u64,
    pub body: Value,
}

/// One write of an atomic batch. Updates and deletes are guarded by the version the
/// writer read, so a writer that raced another one fails instead of overwriting it.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Insert {
        collection: String,
        id: String,
        body: Value,
    },
    Update {
        collection: String,
        id: String,
        expected_version: u64,
        body: Value,
    },
    Delete {
        collection: String,
        id: String,
        expected_version: u64,
    },
}

/// The fields of one index, in order: `&["user_id", "created_at"]` serves a query
/// filtering `user_id` by equality and sorted by `created_at` (either way), or one
/// filtering on `user_id` alone.
pub type Index = &'static [&'static str];

/// What a service declares about a collection at start-up: which fields are unique
/// (each is also an index) and which indexes its queries need. Every adapter keeps them
/// in step with the documents, so a query an index serves costs its page, not the
/// collection.
#[derive(Debug, Clone, Copy)]
pub struct CollectionSpec {
    pub name: &'static str,
    pub unique: &'static [&'static str],
    pub indexed: &'static [Index],
}

impl CollectionSpec {
    /// Every index of the collection: one per unique field, then the declared ones.
    pub fn indexes(&self) -> impl Iterator<Item = &'static [&'static str]> + '_ {
        self.unique
            .iter()
            .map(std::slice::from_ref)
            .chain(self.indexed.iter().copied())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The top-level field equals the value.
    Eq(String, Value),
    /// The top-level string field contains the text, ignoring ASCII case.
    Contains(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Sort is by one top-level field (or `"_id"`; no sort means `_id` ascending), ties
/// broken by id in the same direction, so pages are stable and a descending sort is
/// exactly the ascending one reversed (which is what lets an index serve both).
///
/// Paging is by `skip` (costs the skipped entries) or by `after`, a cursor naming the
/// last item of the previous page (costs only the page).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filters: Vec<Filter>,
    pub sort: Option<(String, SortOrder)>,
    pub skip: u64,
    pub limit: Option<u64>,
    pub after: Option<Cursor>,
}

/// Where a page ends: the sort field's value (null when absent, or when sorting by id)
/// and the id of its last item. The next page starts strictly after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub value: Value,
    pub id: String,
}

impl Query {
    pub fn all() -> Self {
        Self {
            filters: Vec::new(),
            sort: None,
            skip: 0,
            limit: None,
            after: None,
        }
    }

    pub fn eq(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::all().and_eq(field, value)
    }

    pub fn and_eq(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filters.push(Filter::Eq(field.into(), value.into()));
        self
    }

    pub fn and_contains(mut self, field: impl Into<String>, text: impl Into<String>) -> Self {
        self.filters
            .push(Filter::Contains(field.into(), text.into()));
        self
    }

    pub fn sort_by(mut self, field: impl Into<String>, order: SortOrder) -> Self {
        self.sort = Some((field.into(), order));
        self
    }

    pub fn page(mut self, skip: u64, limit: u64) -> Self {
        self.skip = skip;
        self.limit = Some(limit);
        self
    }

    /// The page of `limit` items after `cursor` (from the first when `None`).
    pub fn page_after(mut self, cursor: Option<Cursor>, limit: u64) -> Self {
        self.skip = 0;
        self.after = cursor;
        self.limit = Some(limit);
        self
    }

    /// The field the query sorts by, `_id` when it sorts by nothing else.
    pub fn sort_field(&self) -> &str {
        self.sort
            .as_ref()
            .map_or("_id", |(field, _)| field.as_str())
    }

    pub fn order(&self) -> SortOrder {
        self.sort
            .as_ref()
            .map_or(SortOrder::Asc, |(_, order)| *order)
    }

    /// The cursor that starts the page after `doc`, under this query's sort.
    pub fn cursor_of(&self, doc: &Document) -> Cursor {
        let value = match self.sort_field() {
            "_id" => Value::Null,
            field => doc.body.get(field).cloned().unwrap_or(Value::Null),
        };
        Cursor {
            value,
            id: doc.id.clone(),
        }
    }
}

/// One page of a query. There is no total: counting every match would cost the whole
/// result however small the page. `next` is where the following page starts, `None`
/// on the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Document> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn has_more(&self) -> bool {
        self.next.is_some()
    }
}

impl Page {
    /// A page from up to `limit + 1` matches in order: the extra one only says that more
    /// follow.
    pub fn from_matches(query: &Query, mut items: Vec<Document>) -> Self {
        let limit = query
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| query.cursor_of(last))
        } else {
            None
        };
        Page { items, next }
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// An insert reused an id (`field` is `_id`), or a unique field's value is taken.
    #[error("a document in {collection} already has this {field}")]
    Duplicate { collection: String, field: String },
    /// The document changed (or vanished) since the writer read it.
    #[error("{collection}/{id} was changed by someone else")]
    VersionConflict { collection: String, id: String },
    #[error("stored document {collection}/{id} is unreadable: {reason}")]
    Corrupt {
        collection: String,
        id: String,
        reason: String,
    },
    #[error("document store unavailable: {0}")]
    Unavailable(String),
    /// Refused before reaching storage (e.g. an outbox event that breaks its contract).
    #[error("write refused: {0}")]
    Rejected(String),
}

impl StoreError {
    /// True when this is a duplicate of the given collection's id or unique field.
    pub fn is_duplicate_in(&self, wanted: &str) -> bool {
        matches!(self, StoreError::Duplicate { collection, .. } if collection == wanted)
    }
}

#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Declares collections, their unique keys and indexes; idempotent, called at start-up.
    async fn ensure_collections(&self, specs: &[CollectionSpec]) -> Result<(), StoreError>;

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, StoreError>;

    /// One page of the matches, in the query's order.
    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError>;

    /// How many documents match `query` (its paging ignored). This walks every match, so
    /// it is for gauges and tests, never for a request's answer.
    async fn count(&self, collection: &str, query: &Query) -> Result<u64, StoreError>;

    /// Applies every write or none of them.
    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Cheap round trip used by readiness probes.
    async fn ping(&self) -> Result<(), StoreError>;
}
