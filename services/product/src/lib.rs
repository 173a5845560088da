//! product-service: the catalog and its stock. It is the only writer of stock, which
//! it reserves, releases and commits as orders move, so that concurrent checkouts never
//! oversell and stock never goes negative. It must never decide an order's fate beyond
//! saying whether its stock is there.

pub mod domain;
mod events;
mod routes;
// Public only so that the scale bench (shop/benches/scale.rs) can seed its store.
#[doc(hidden)]
pub mod store;

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

pub use routes::ProductView;

/// The product service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("product", 8083, store::COLLECTIONS, wire).public(
    &["products"],
    include_str!("../../../contracts/api/product.v1.json"),
);

/// Consumes its topics with a handler holding the outbox, and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    runtime.wire_with_outbox(events::TOPICS, events::StockEvents, routes::api)
}
