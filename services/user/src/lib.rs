//! user-service: the profile of every registered account, and account administration.
//! It learns of accounts from `user.registered` and announces deletions with
//! `user.deleted`; it never sees a password and never decides who may log in.

mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use service_kit::{Api, PublicApi, ServiceDef, ServiceName, ServiceRuntime};

/// The user service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef {
    name: ServiceName::new("user"),
    default_port: 8082,
    public_api: Some(PublicApi {
        prefixes: &["users"],
        contract: include_str!("../../../contracts/api/user.v1.json"),
    }),
    collections: store::COLLECTIONS,
    wire: |runtime| Box::pin(wire(runtime)),
};

/// Starts its consumers (and background tasks) and returns its API.
async fn wire(runtime: &mut ServiceRuntime) -> anyhow::Result<Api> {
    let ctx = runtime.context().clone();
    let outbox = runtime.outbox().clone();
    runtime
        .consume(events::TOPICS, Arc::new(events::UserEvents(outbox.clone())))
        .await?;
    let (api, openapi) = routes::router(routes::UserState {
        outbox,
        verifier: ctx.verifier.clone(),
    });
    Ok(Api::new(api, &openapi))
}
