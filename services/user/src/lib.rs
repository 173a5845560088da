//! user-service: the profile of every registered account, and account administration.
//! It learns of accounts from `user.registered` and announces deletions with
//! `user.deleted`; it never sees a password and never decides who may log in.

mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub const NAME: ServiceName = ServiceName::User;

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
        .consume(events::TOPICS, Arc::new(events::UserEvents(outbox.clone())))
        .await?;
    let (api, openapi) = routes::router(routes::UserState {
        outbox,
        verifier: ctx.verifier.clone(),
    });
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
