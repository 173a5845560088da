//! cart-service: each customer's cart, priced from its own copy of the catalog (kept
//! from the product events), and checkout, which empties the cart and emits
//! `cart.checkout` in one batch so the order service can create the order. It must
//! never let a user see or touch another user's cart, never emit a checkout whose
//! lines are still in the cart (so one cart never becomes two orders), and never
//! create orders, reserve stock or take payment itself: those belong to the order,
//! product and payment services.

// Public only so that the checkout-path bench (shop/benches/checkout_path.rs) can price
// a cart.
#[doc(hidden)]
pub mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use service_kit::{OutboxState, Peer, ServiceDef, ServiceName, ServiceRuntime, Wiring};

/// The cart service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("cart", 8084, store::COLLECTIONS, wire).public(
    &["cart"],
    include_str!("../../../contracts/api/cart.v1.json"),
);

/// The service that owns the catalog: asked about a product the cart has not heard of.
const PRODUCT: ServiceName = ServiceName::new("product");

/// Registers its checkout count, consumes its topics with a handler holding the outbox,
/// and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let checkouts = routes::Checkouts::register(runtime.registry())?;
        let outbox = runtime.outbox().clone();
        runtime
            .consume(events::TOPICS, Arc::new(events::CartEvents(outbox.clone())))
            .await?;
        let ctx = runtime.context();
        Ok(routes::api(routes::CartState {
            api: OutboxState {
                outbox,
                verifier: ctx.verifier.clone(),
            },
            checkouts,
            products: routes::Products(Peer::new(&ctx.settings, PRODUCT)?),
        }))
    })
}
