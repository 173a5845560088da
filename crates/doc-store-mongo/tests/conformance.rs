//! The MongoDB adapter against the conformance suite every store adapter passes.
//!
//! It runs against the server at `SHOP_TEST_MONGODB_URI` (a replica set: batches are
//! transactions), or else a throwaway replica set started with testcontainers where a
//! Docker engine answers. With neither, `cargo xtask test` leaves this binary out and
//! says why, and each check run by hand prints SKIPPED with the reason.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use doc_store::{CollectionSpec, Document, DocumentStore, Page, Query, StoreError, Write};
use doc_store_mongo::{MongoConfig, MongoStore};
use testcontainers_modules::{
    mongo::Mongo,
    testcontainers::{ContainerAsync, runners::AsyncRunner},
};

/// A store that owns the container it talks to, so the container stops with the test.
struct Contained {
    store: MongoStore,
    _container: Option<ContainerAsync<Mongo>>,
}

#[async_trait]
impl DocumentStore for Contained {
    async fn ensure_collections(&self, specs: &[CollectionSpec]) -> Result<(), StoreError> {
        self.store.ensure_collections(specs).await
    }
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, StoreError> {
        self.store.get(collection, id).await
    }
    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError> {
        self.store.find(collection, query).await
    }
    async fn count(&self, collection: &str, query: &Query) -> Result<u64, StoreError> {
        self.store.count(collection, query).await
    }
    async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.store.commit(writes).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

fn docker_available() -> bool {
    std::env::var_os("DOCKER_HOST").is_some()
        || std::path::Path::new("/var/run/docker.sock").exists()
}

async fn mongo() -> Option<Arc<dyn DocumentStore>> {
    let (uri, container) = match std::env::var("SHOP_TEST_MONGODB_URI") {
        Ok(uri) => (uri, None),
        Err(_) if docker_available() => {
            let node = Mongo::repl_set()
                .start()
                .await
                .expect("a MongoDB replica set container starts");
            let port = node.get_host_port_ipv4(27017).await.expect("mapped port");
            (
                format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
                Some(node),
            )
        }
        Err(_) => {
            eprintln!("SKIPPED: no SHOP_TEST_MONGODB_URI and no Docker engine for testcontainers");
            return None;
        }
    };
    // A database of its own per check: a fresh, empty store.
    let database = format!("shop_test_{}", uuid::Uuid::new_v4().simple());
    let store = MongoStore::connect(&MongoConfig {
        uri,
        database,
        timeout: Duration::from_secs(10),
    })
    .await
    .expect("MongoDB accepts the connection");
    store.ping().await.expect("MongoDB answers a ping");
    Some(Arc::new(Contained {
        store,
        _container: container,
    }))
}

doc_store::conformance_suite!(mongo);
