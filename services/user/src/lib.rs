//! user-service: the profile of every registered account, and account administration.
//! It learns of accounts from `user.registered` and announces deletions with
//! `user.deleted`; it never sees a password and never decides who may log in.

mod domain;
mod events;
mod routes;
mod store;

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

/// The user service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("user", 8082, store::COLLECTIONS, wire).public(
    &["users"],
    include_str!("../../../contracts/api/user.v1.json"),
);

/// Consumes its topics with a handler holding the outbox, and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    runtime.wire_with_outbox(events::TOPICS, events::UserEvents, routes::api)
}
