//! The document-store port every service persists through, and its embedded adapter.
//!
//! A service sees collections of JSON documents inside its own namespace: insert, get
//! by id, find by field with sort and paging, and atomic batches of guarded writes
//! (compare-and-set on a document version) so concurrent writers never lose an update.
//! The transactional outbox rides on those batches: the events a change causes are
//! written in the same batch as the change. This crate must never know about a
//! service's domain; it stores JSON and enforces versions and unique keys, nothing else.

mod embedded;
mod port;
mod typed;

pub mod conformance;

pub use embedded::EmbeddedStore;
pub use port::{
    CollectionSpec, Document, DocumentStore, Filter, Page, Query, SortOrder, StoreError, Write,
};
pub use typed::{Collection, Versioned};
