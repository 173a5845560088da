//! The redb plumbing that both embedded adapters need: this crate's [`EmbeddedStore`]
//! and event-bus's in-process transport. It opens the database (a file, or memory for
//! tests), runs each piece of blocking redb work off the async runtime, and reads a
//! table that may not exist yet as empty. It never knows what the tables hold; each
//! adapter owns its layout and turns [`Unavailable`] into its own port's error.
//!
//! [`EmbeddedStore`]: crate::EmbeddedStore

use std::{fmt::Display, path::Path, sync::Arc};

use redb::{
    Database, Key, ReadOnlyTable, ReadTransaction, TableDefinition, TableError, Value,
    backends::InMemoryBackend,
};

/// The page cache of a file whose owner does not choose one: a request reads a page's
/// worth of documents, and the OS's file cache holds what redb's does not.
pub const DEFAULT_CACHE_BYTES: usize = 4 << 20;

/// The database cannot be used right now; the words are redb's (or the file system's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

impl Unavailable {
    pub fn because(cause: impl Display) -> Self {
        Self(cause.to_string())
    }
}

/// A redb database and the state an adapter keeps beside it (its wakers, its unique
/// fields). Clones share both.
pub struct RedbFile<S> {
    shared: Arc<Shared<S>>,
}

struct Shared<S> {
    db: Database,
    state: S,
    /// What the database holds ("store", "bus"), for the error a failed task leaves.
    holds: &'static str,
}

impl<S> Clone for RedbFile<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<S: Default + Send + Sync + 'static> RedbFile<S> {
    /// Opens (or creates) the database file, creating its folder first, with a page
    /// cache of `cache_bytes` (redb's own default is 1 GiB per file, far more than a
    /// service's working set; see [`DEFAULT_CACHE_BYTES`]).
    pub fn open(path: &Path, holds: &'static str, cache_bytes: usize) -> Result<Self, Unavailable> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Unavailable::because)?;
        }
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(Unavailable::because)?;
        Ok(Self::over(db, holds))
    }

    /// A database that lives only as long as this value; for tests and throwaway runs.
    pub fn in_memory(holds: &'static str) -> Self {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .expect("an in-memory redb database always opens");
        Self::over(db, holds)
    }

    fn over(db: Database, holds: &'static str) -> Self {
        Self {
            shared: Arc::new(Shared {
                db,
                state: S::default(),
                holds,
            }),
        }
    }

    pub fn state(&self) -> &S {
        &self.shared.state
    }

    /// Runs `work` on tokio's blocking pool: redb blocks on disk I/O and on its write
    /// lock, which must not stall the async workers that serve requests.
    pub async fn run<T, E>(
        &self,
        work: impl FnOnce(&Database, &S) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
    {
        let shared = self.shared.clone();
        let holds = shared.holds;
        tokio::task::spawn_blocking(move || work(&shared.db, &shared.state))
            .await
            .map_err(|e| Unavailable(format!("{holds} task failed: {e}")))?
    }
}

/// Opens a table for reading, or `None` when nothing was ever written to it: a
/// collection or topic nobody has used yet reads as empty rather than as a failure.
pub fn existing_table<K: Key + 'static, V: Value + 'static>(
    txn: &ReadTransaction,
    table: TableDefinition<'_, K, V>,
) -> Result<Option<ReadOnlyTable<K, V>>, Unavailable> {
    match txn.open_table(table) {
        Ok(table) => Ok(Some(table)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(Unavailable::because(e)),
    }
}
