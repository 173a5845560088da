//! product-service: the catalog and its stock. It is the only writer of stock, which
//! it reserves, releases and commits as orders move, so that concurrent checkouts never
//! oversell and stock never goes negative. It must never decide an order's fate beyond
//! saying whether its stock is there.

pub mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub use routes::ProductView;

pub const NAME: ServiceName = ServiceName::Product;

pub async fn start(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<Running> {
    let (runtime, api, openapi) = assemble(ctx).await?;
    runtime.serve(listener, api, openapi)
}

/// The running consumers and relay, the API router and its OpenAPI document.
pub async fn assemble(
    ctx: ServiceContext,
) -> anyhow::Result<(ServiceRuntime, Router, serde_json::Value)> {
    let mut runtime = ServiceRuntime::start(NAME, ctx.clone(), store::COLLECTIONS).await?;
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
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
