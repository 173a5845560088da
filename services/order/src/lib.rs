//! order-service: orders and their lifecycle. An order is placed from a checkout and
//! then only moves forward along its state machine, driven by stock, payment and
//! shipment events and by its owner's actions. It must never touch stock, money or
//! parcels itself: it announces, and the owning services act.

pub mod domain;
// Public only so that the checkout-path bench (shop/benches/checkout_path.rs) can
// place an order from a checkout event.
#[doc(hidden)]
pub mod events;
mod expiry;
mod lifecycle;
pub mod metrics;
mod routes;
// Public only so that the scale bench (shop/benches/scale.rs) can seed its store.
#[doc(hidden)]
pub mod store;

use std::{sync::Arc, time::Duration};

use service_kit::{OutboxState, ServiceDef, ServiceRuntime, Wiring};

pub use crate::metrics::{OrderMetrics, refresh_once};

/// The order service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("order", 8085, store::COLLECTIONS, wire).public(
    &["orders"],
    include_str!("../../../contracts/api/order.v1.json"),
);

/// Registers its metrics, starts the refresh of the oldest pending order, consumes its
/// topics with a handler holding the outbox and the metrics, and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let ctx = runtime.context().clone();
        let metrics = OrderMetrics::register(runtime.registry())?;
        runtime.track(
            metrics
                .clone()
                .spawn_pending_refresh(ctx.store().clone(), ctx.shutdown.clone()),
        );
        let outbox = runtime.outbox().clone();
        runtime.track(
            expiry::Expiry {
                outbox: outbox.clone(),
                metrics: metrics.clone(),
                window: Duration::from_secs(ctx.settings.order_payment_window_secs),
            }
            .spawn(ctx.shutdown.clone()),
        );
        let handler = events::OrderEvents {
            outbox: outbox.clone(),
            metrics: metrics.clone(),
            caps: events::PendingCaps {
                orders: ctx.settings.order_max_pending,
                units: ctx.settings.order_max_pending_units,
            },
        };
        runtime.consume(events::TOPICS, Arc::new(handler)).await?;
        Ok(routes::api(routes::OrderState {
            api: OutboxState {
                outbox,
                verifier: ctx.verifier.clone(),
            },
            metrics,
        }))
    })
}
