//! cart-service: each customer's cart, priced from its own copy of the catalog (kept
//! from the product events), and checkout, which empties the cart and emits
//! `cart.checkout` in one batch so the order service can create the order. It must
//! never let a user see or touch another user's cart, never emit a checkout whose
//! lines are still in the cart (so one cart never becomes two orders), and never
//! create orders, reserve stock or take payment itself: those belong to the order,
//! product and payment services.

mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub const NAME: ServiceName = ServiceName::Cart;

/// Starts the service on `listener` until `ctx.shutdown`.
pub async fn start(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<Running> {
    let (runtime, api, openapi) = assemble(ctx).await?;
    runtime.serve(listener, api, openapi)
}

/// Everything but the listener: the running consumers and relay, the API router and
/// its OpenAPI document. Tests drive the router with `oneshot`.
pub async fn assemble(
    ctx: ServiceContext,
) -> anyhow::Result<(ServiceRuntime, Router, serde_json::Value)> {
    let mut runtime = ServiceRuntime::start(NAME, ctx.clone(), store::COLLECTIONS).await?;
    let outbox = runtime.outbox().clone();
    runtime
        .consume(events::TOPICS, Arc::new(events::CartEvents(outbox.clone())))
        .await?;
    let (api, openapi) = routes::router(routes::CartState {
        outbox,
        verifier: ctx.verifier.clone(),
    });
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
