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

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

use crate::{
    domain::PasswordHasher,
    state::{AuthState, Inner},
};

/// The auth service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("auth", 8081, store::COLLECTIONS, wire).public(
    &["auth"],
    include_str!("../../../contracts/api/auth.v1.json"),
);

/// Starts its consumers (and background tasks) and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let ctx = runtime.context().clone();
        let signer = keys::load_or_create(ctx.store().as_ref(), &ctx.settings).await?;
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
        Ok(routes::api(state))
    })
}
