//! order-service: orders and their lifecycle. An order is placed from a checkout and
//! then only moves forward along its state machine, driven by stock, payment and
//! shipment events and by its owner's actions. It must never touch stock, money or
//! parcels itself: it announces, and the owning services act.

pub mod domain;
mod events;
mod lifecycle;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub const NAME: ServiceName = ServiceName::Order;

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
            Arc::new(events::OrderEvents(outbox.clone())),
        )
        .await?;
    let (api, openapi) = routes::router(routes::OrderState {
        outbox,
        verifier: ctx.verifier.clone(),
    });
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
