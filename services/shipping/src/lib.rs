//! shipping-service: one shipment per order, from payment through delivery and, when
//! the customer sends it back, through its return. It learns of orders and payments
//! from `order.*` and `payment.*` events, admins record deliveries and returns, and it
//! tells the rest of the shop with `shipment.awaiting`, `shipment.delivered` and
//! `shipment.returned`. It must never change an order or a payment itself (it only
//! announces what happened to the parcel), never move a shipment backwards or out of a
//! final state, and never announce a transition twice.

pub mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub const NAME: ServiceName = ServiceName::Shipping;

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
        .consume(
            events::TOPICS,
            Arc::new(events::ShippingEvents(outbox.clone())),
        )
        .await?;
    let (api, openapi) = routes::router(routes::ShippingState {
        outbox,
        verifier: ctx.verifier.clone(),
    });
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
