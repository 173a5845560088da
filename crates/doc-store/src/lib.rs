//! The document-store port every service persists through, and its embedded adapter.
//!
//! A service sees collections of JSON documents inside its own namespace: insert, get
//! by id, find by field with sort and paging, and atomic batches of guarded writes
//! (compare-and-set on a document version) so concurrent writers never lose an update.
//! The transactional outbox rides on those batches: the events a change causes are
//! written in the same batch as the change. [`redb_file`] is the redb plumbing the
//! embedded store shares with event-bus's in-process transport. This crate must never
//! know about a service's domain; it stores JSON and enforces versions and unique keys,
//! nothing else.

mod embedded;
mod port;
pub mod redb_file;
mod typed;

/// The checks every store adapter's tests run; behind the `conformance` feature so that
/// only test builds compile them.
#[cfg(feature = "conformance")]
pub mod conformance;

pub use embedded::EmbeddedStore;
pub use port::{
    CollectionSpec, Cursor, Document, DocumentStore, Filter, Index, Page, Query, SortOrder,
    StoreError, Write,
};
pub use typed::{Collection, Versioned};
