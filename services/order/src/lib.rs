//! order-service: orders and their lifecycle. An order is placed from a checkout and
//! then only moves forward along its state machine, driven by stock, payment and
//! shipment events and by its owner's actions. It must never touch stock, money or
//! parcels itself: it announces, and the owning services act.

pub mod domain;
mod events;
mod lifecycle;
mod routes;
// Public only so that the scale bench (shop/benches/scale.rs) can seed its store.
#[doc(hidden)]
pub mod store;

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

/// The order service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("order", 8085, store::COLLECTIONS, wire).public(
    &["orders"],
    include_str!("../../../contracts/api/order.v1.json"),
);

/// Consumes its topics with a handler holding the outbox, and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    runtime.wire_with_outbox(events::TOPICS, events::OrderEvents, routes::api)
}
