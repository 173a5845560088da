//! auth-service: accounts' credentials, sessions (access and rotating refresh tokens)
//! and the public signing keys. It is the only holder of passwords and of the private
//! signing key; it must never hand out either, nor keep a credential whose account was
//! deleted.

mod accounts;
mod bootstrap;
pub mod domain;
mod events;
mod keys;
mod routes;
mod state;
mod store;

use std::sync::Arc;

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

use crate::{
    domain::PasswordHasher,
    state::{AuthState, Inner},
};

pub const NAME: ServiceName = ServiceName::Auth;

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
    let signer = keys::load_or_create(ctx.store.as_ref(), &ctx.settings).await?;
    let hasher = PasswordHasher::default();
    let dummy_hash = {
        let hasher = hasher.clone();
        tokio::task::spawn_blocking(move || hasher.hash("not a real password"))
            .await?
            .map_err(|e| anyhow::anyhow!("hashing: {e}"))?
    };
    let state = AuthState::new(Inner {
        outbox: runtime.outbox().clone(),
        signer,
        hasher,
        refresh_ttl: std::time::Duration::from_secs(ctx.settings.refresh_token_ttl_secs),
        dummy_hash,
    });
    bootstrap::ensure_admin(&state, &ctx.settings).await?;
    runtime
        .consume(events::TOPICS, Arc::new(events::AuthEvents(state.clone())))
        .await?;
    let (api, openapi) = routes::router(state);
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
