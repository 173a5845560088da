use std::marker::PhantomData;

use serde::{Serialize, de::DeserializeOwned};

use crate::{CollectionSpec, Document, DocumentStore, Page, Query, StoreError, Write};

/// A document decoded into its domain type, with the version a guarded write needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub id: String,
    pub version: u64,
    pub value: T,
}

/// A typed view of one collection: it turns domain values into [`Write`]s and stored
/// documents back into values, so services never handle raw JSON.
pub struct Collection<T> {
    name: &'static str,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Collection<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Collection<T> {}

impl<T: Serialize + DeserializeOwned> Collection<T> {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _type: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What a service declares about this collection at start-up, so that its name is
    /// written once, here, and not again in the service's list of specs.
    pub const fn spec(
        &self,
        unique: &'static [&'static str],
        indexed: &'static [crate::Index],
    ) -> CollectionSpec {
        CollectionSpec {
            name: self.name,
            unique,
            indexed,
        }
    }

    pub async fn get(
        &self,
        store: &dyn DocumentStore,
        id: &str,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        store
            .get(self.name, id)
            .await?
            .map(|doc| self.decode(doc))
            .transpose()
    }

    pub async fn find(
        &self,
        store: &dyn DocumentStore,
        query: &Query,
    ) -> Result<Page<Versioned<T>>, StoreError> {
        let page = store.find(self.name, query).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|doc| self.decode(doc))
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// The first document matching the query, if any.
    pub async fn find_one(
        &self,
        store: &dyn DocumentStore,
        query: Query,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        let mut page = self.find(store, &query.page(0, 1)).await?;
        Ok(page.items.pop())
    }

    pub fn insert(&self, id: impl Into<String>, value: &T) -> Write {
        Write::Insert {
            collection: self.name.to_owned(),
            id: id.into(),
            body: to_body(value),
        }
    }

    /// Replaces the document read as `current` with `value`, if nobody changed it since.
    pub fn update(&self, current: &Versioned<T>, value: &T) -> Write {
        Write::Update {
            collection: self.name.to_owned(),
            id: current.id.clone(),
            expected_version: current.version,
            body: to_body(value),
        }
    }

    pub fn delete(&self, current: &Versioned<T>) -> Write {
        Write::Delete {
            collection: self.name.to_owned(),
            id: current.id.clone(),
            expected_version: current.version,
        }
    }

    fn decode(&self, doc: Document) -> Result<Versioned<T>, StoreError> {
        let value = serde_json::from_value(doc.body).map_err(|e| StoreError::Corrupt {
            collection: self.name.to_owned(),
            id: doc.id.clone(),
            reason: e.to_string(),
        })?;
        Ok(Versioned {
            id: doc.id,
            version: doc.version,
            value,
        })
    }
}

/// Domain types are plain serde structs; failing to serialise one is a programming
/// error (a map with non-string keys), not a runtime condition to handle.
fn to_body<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("domain documents serialise to JSON")
}
