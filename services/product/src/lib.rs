//! product-service: the catalog and its stock. It is the only writer of stock, which
//! it reserves, releases and commits as orders move, so that concurrent checkouts never
//! oversell and stock never goes negative. It must never decide an order's fate beyond
//! saying whether its stock is there.

pub mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

pub use routes::ProductView;

/// The product service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("product", 8083, store::COLLECTIONS, wire).public(
    &["products"],
    include_str!("../../../contracts/api/product.v1.json"),
);

/// Starts its consumers (and background tasks) and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let outbox = runtime.outbox().clone();
        runtime
            .consume(
                events::TOPICS,
                Arc::new(events::StockEvents(outbox.clone())),
            )
            .await?;
        let verifier = runtime.context().verifier.clone();
        Ok(routes::api(routes::ProductState { outbox, verifier }))
    })
}
