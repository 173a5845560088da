//! notification-service: tells customers what happened to their orders. It turns the
//! payment, shipment and order events they care about into in-app notifications
//! (`GET /api/v1/notifications`) and hands each one to the configured channels (a
//! webhook today; email, SMS or push through the [`Channel`] port) from a background
//! dispatcher that retries with backoff. It must never let a channel's failure block
//! or fail the consumption of events, never store a notification twice for one event,
//! and never show a customer anyone else's notifications. It only listens: it changes
//! no order, payment or shipment and publishes no events.

mod channel;
mod dispatcher;
mod domain;
mod events;
mod routes;
mod store;
mod timestamp;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub use crate::{
    channel::{Channel, ChannelError, WebhookChannel},
    domain::{DeliveryPolicy, Notification, NotificationKind},
};

pub const NAME: ServiceName = ServiceName::Notification;

/// Starts the service on `listener` until `ctx.shutdown`.
pub async fn start(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<Running> {
    let (runtime, api, openapi) = assemble(ctx).await?;
    runtime.serve(listener, api, openapi)
}

/// Everything but the listener: the consumers, the outbox relay and the delivery
/// dispatcher running, the API router and its OpenAPI document.
pub async fn assemble(
    ctx: ServiceContext,
) -> anyhow::Result<(ServiceRuntime, Router, serde_json::Value)> {
    assemble_with(ctx, DeliveryPolicy::default()).await
}

/// [`assemble`] with another retry policy for deliveries; tests use one that gives up
/// in milliseconds instead of minutes.
pub async fn assemble_with(
    ctx: ServiceContext,
    policy: DeliveryPolicy,
) -> anyhow::Result<(ServiceRuntime, Router, serde_json::Value)> {
    let channels = channel::from_settings(&ctx.settings)?;
    let mut runtime = ServiceRuntime::start(NAME, ctx.clone(), store::COLLECTIONS).await?;
    let dispatcher = dispatcher::Dispatcher::new(ctx.store.clone(), channels.clone(), policy);
    let handler = events::NotificationEvents {
        outbox: runtime.outbox().clone(),
        channels: channels.iter().map(|c| c.name()).collect(),
        dispatcher: dispatcher.waker(),
    };
    // Started before consuming, so what a backlog of events stores goes out at once.
    runtime.track(dispatcher.spawn(ctx.shutdown.clone()));
    runtime.consume(events::TOPICS, Arc::new(handler)).await?;
    let (api, openapi) = routes::router(routes::NotificationState {
        store: ctx.store.clone(),
        verifier: ctx.verifier.clone(),
    });
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
