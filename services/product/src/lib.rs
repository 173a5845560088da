//! product-service: the catalog and its stock. It is the only writer of stock, which
//! it reserves, releases and commits as orders move, so that concurrent checkouts never
//! oversell and stock never goes negative. It must never decide an order's fate beyond
//! saying whether its stock is there.

pub mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use service_kit::{Api, PublicApi, ServiceDef, ServiceName, ServiceRuntime};

pub use routes::ProductView;

/// The product service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef {
    name: ServiceName::new("product"),
    default_port: 8083,
    public_api: Some(PublicApi {
        prefixes: &["products"],
        contract: include_str!("../../../contracts/api/product.v1.json"),
    }),
    collections: store::COLLECTIONS,
    wire: |runtime| Box::pin(wire(runtime)),
};

/// Starts its consumers (and background tasks) and returns its API.
async fn wire(runtime: &mut ServiceRuntime) -> anyhow::Result<Api> {
    let ctx = runtime.context().clone();
    let outbox = runtime.outbox().clone();
    runtime
        .consume(
            events::TOPICS,
            Arc::new(events::StockEvents(outbox.clone())),
        )
        .await?;
    let (api, openapi) = routes::router(routes::ProductState {
        outbox,
        verifier: ctx.verifier.clone(),
    });
    Ok(Api::new(api, &openapi))
}
