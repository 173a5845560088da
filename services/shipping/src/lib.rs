//! shipping-service: one shipment per order, from payment through delivery and, when
//! the customer sends it back, through its return. It learns of orders and payments
//! from `order.*` and `payment.*` events, admins record deliveries and returns, and it
//! tells the rest of the shop with `shipment.awaiting`, `shipment.delivered`,
//! `shipment.returned` and `shipment.cancelled`. Before an admin's step moves goods, it
//! asks the order service, the authority on whether the order may still be cancelled
//! or has a return open. It must never change an order or a payment itself (it only
//! announces what happened to the parcel), never move a shipment backwards or out of a
//! final state, and never announce a transition twice.

pub mod domain;
mod events;
mod routes;
// Public only so that the scale bench (shop/benches/scale.rs) can seed its store.
#[doc(hidden)]
pub mod store;

use std::sync::Arc;

use service_kit::{Peer, ServiceDef, ServiceName, ServiceRuntime, Wiring};

/// The shipping service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("shipping", 8087, store::COLLECTIONS, wire).public(
    &["shipments"],
    include_str!("../../../contracts/api/shipping.v1.json"),
);

/// The service whose orders the shipments are: asked before goods move.
const ORDER: ServiceName = ServiceName::new("order");

/// Consumes its topics with a handler holding the outbox, and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let ctx = runtime.context().clone();
        let outbox = runtime.outbox().clone();
        runtime
            .consume(
                events::TOPICS,
                Arc::new(events::ShippingEvents(outbox.clone())),
            )
            .await?;
        Ok(routes::api(routes::ApiState {
            outbox,
            verifier: ctx.verifier.clone(),
            orders: routes::Orders(Peer::new(&ctx.settings, ORDER)?),
        }))
    })
}
