//! user-service: the profile of every registered account, and account administration.
//! It learns of accounts from `user.registered` and announces deletions with
//! `user.deleted`; it never sees a password and never decides who may log in.

mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

/// The user service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("user", 8082, store::COLLECTIONS, wire).public(
    &["users"],
    include_str!("../../../contracts/api/user.v1.json"),
);

/// Starts its consumers (and background tasks) and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let outbox = runtime.outbox().clone();
        runtime
            .consume(events::TOPICS, Arc::new(events::UserEvents(outbox.clone())))
            .await?;
        let verifier = runtime.context().verifier.clone();
        Ok(routes::api(routes::UserState { outbox, verifier }))
    })
}
