//! A service as a value. Each service crate exports one [`ServiceDef`]: its name, the
//! collections it keeps, what it publishes at the edge, and how it wires its consumers
//! and routes into a [`ServiceRuntime`]. Every host starts a service through
//! [`ServiceDef::start`] (the one-process runner, `shop serve`, a test), so no host can
//! start one differently from another.

use std::{fmt, future::Future, pin::Pin};

use axum::Router;
use doc_store::CollectionSpec;

use crate::runtime::ServiceRuntime;

/// A service's name: one lowercase ASCII word (`order`, `notification`). It names the
/// service's store namespace, its consumer groups, its settings (`SHOP_ORDER_PORT`,
/// `SHOP_ORDER_URL`) and `shop serve <name>`; being one word is what lets a setting
/// like `SHOP_PAYMENT_PROVIDER_URL` never be taken for a service's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceName(&'static str);

impl ServiceName {
    /// Fails to compile (in a `const`) for anything but one lowercase ASCII word.
    pub const fn new(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        assert!(!bytes.is_empty(), "a service name is not empty");
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i].is_ascii_lowercase(),
                "a service name is one lowercase ASCII word"
            );
            i += 1;
        }
        Self(name)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<&str> for ServiceName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// What a service offers through the gateway.
#[derive(Debug, Clone, Copy)]
pub struct PublicApi {
    /// First path segments under `/api/v1` that the service owns (`orders` for
    /// `/api/v1/orders/...`); the gateway forwards them to it under the same path.
    pub prefixes: &'static [&'static str],
    /// The committed OpenAPI document (`contracts/api/<name>.v1.json`), compiled in so
    /// the gateway serves exactly what was reviewed.
    pub contract: &'static str,
}

/// The future a service's wiring returns.
pub type Wiring<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Api>> + Send + 'a>>;

/// A deployable service, as every host starts it.
pub struct ServiceDef {
    pub name: ServiceName,
    /// Where it listens when `SHOP_<NAME>_PORT` says nothing.
    pub default_port: u16,
    /// What it offers through the gateway; `None` for the gateway itself.
    pub public_api: Option<PublicApi>,
    /// Its collections. A service that declares none keeps no state: its host gives it
    /// no store namespace and no bus, and it has no outbox relay and no consumers.
    pub collections: &'static [CollectionSpec],
    /// Starts its consumers and background tasks in `runtime`, and returns its API.
    pub wire: for<'a> fn(&'a mut ServiceRuntime) -> Wiring<'a>,
}

impl ServiceDef {
    /// A service called `name` with its default port, its collections and its wiring;
    /// it offers nothing through the gateway until [`ServiceDef::public`] says so.
    pub const fn new(
        name: &'static str,
        default_port: u16,
        collections: &'static [CollectionSpec],
        wire: for<'a> fn(&'a mut ServiceRuntime) -> Wiring<'a>,
    ) -> Self {
        Self {
            name: ServiceName::new(name),
            default_port,
            public_api: None,
            collections,
            wire,
        }
    }

    /// The service owns `/api/v1/<prefix>` for each of `prefixes`, documented by the
    /// committed `contract`.
    pub const fn public(
        mut self,
        prefixes: &'static [&'static str],
        contract: &'static str,
    ) -> Self {
        self.public_api = Some(PublicApi { prefixes, contract });
        self
    }

    /// Whether the service keeps state, and so is given a store and the bus.
    pub fn is_stateful(&self) -> bool {
        !self.collections.is_empty()
    }
}

impl fmt::Debug for ServiceDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceDef")
            .field("name", &self.name)
            .field("default_port", &self.default_port)
            .field("public_api", &self.public_api.map(|api| api.prefixes))
            .field("collections", &self.collections.len())
            .finish_non_exhaustive()
    }
}

/// What a service's wiring hands back: its API routes and their OpenAPI document, and
/// optionally a layer for the outside of the whole HTTP service (the gateway's CORS,
/// which must answer preflights and decorate every answer, ops routes included).
pub struct Api {
    pub router: Router,
    pub openapi: serde_json::Value,
    pub outer: Option<Box<dyn FnOnce(Router) -> Router + Send>>,
}

impl Api {
    pub fn new(router: Router, openapi: &utoipa::openapi::OpenApi) -> Self {
        Self {
            router,
            openapi: crate::openapi::to_json(openapi),
            outer: None,
        }
    }

    /// Routes whose document is already JSON (the gateway's merged one).
    pub fn from_json(router: Router, openapi: serde_json::Value) -> Self {
        Self {
            router,
            openapi,
            outer: None,
        }
    }

    pub fn with_outer_layer(
        mut self,
        wrap: impl FnOnce(Router) -> Router + Send + 'static,
    ) -> Self {
        self.outer = Some(Box::new(wrap));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_name_compares_with_its_text() {
        const ORDER: ServiceName = ServiceName::new("order");
        assert_eq!(ORDER, "order");
        assert_eq!(ORDER.to_string(), "order");
    }

    #[test]
    #[should_panic(expected = "one lowercase ASCII word")]
    fn a_service_name_with_an_underscore_is_refused() {
        ServiceName::new("payment_provider");
    }
}
