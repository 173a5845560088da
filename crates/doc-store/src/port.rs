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

/// What a service declares about a collection at start-up: which fields are unique
/// and which are queried often (adapters with real indexes create them).
#[derive(Debug, Clone, Copy)]
pub struct CollectionSpec {
    pub name: &'static str,
    pub unique: &'static [&'static str],
    pub indexed: &'static [&'static str],
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

/// Sort is by one top-level field (or `"_id"`), ties broken by id so pages are stable.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filters: Vec<Filter>,
    pub sort: Option<(String, SortOrder)>,
    pub skip: u64,
    pub limit: Option<u64>,
}

impl Query {
    pub fn all() -> Self {
        Self {
            filters: Vec::new(),
            sort: None,
            skip: 0,
            limit: None,
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
}

/// One page of a query and the number of documents matching it in total.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Document> {
    pub items: Vec<T>,
    pub total: u64,
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

    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError>;

    /// Applies every write or none of them.
    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Cheap round trip used by readiness probes.
    async fn ping(&self) -> Result<(), StoreError>;
}
