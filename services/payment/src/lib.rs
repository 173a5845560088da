//! payment-service: one payment per order, paid by its customer through a payment
//! provider and refunded when the order is cancelled after payment, the goods come
//! back, or an admin says so. It announces `payment.completed`, `payment.failed` and
//! `payment.refunded`. It must never capture or refund a payment twice, never mark
//! money as moved that the provider did not confirm, and never store or log a full
//! card number (the last four digits at most).

pub mod domain;
mod events;
mod payments;
pub mod provider;
mod routes;
// Public only so that the scale bench (shop/benches/scale.rs) can seed its store.
#[doc(hidden)]
pub mod store;

use std::{sync::Arc, time::Duration};

use service_kit::{Peer, ServiceDef, ServiceName, ServiceRuntime, Wiring};

/// The service whose orders the payments are for: asked when their events lag.
const ORDER: ServiceName = ServiceName::new("order");

/// The payment service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("payment", 8086, store::COLLECTIONS, wire).public(
    &["payments"],
    include_str!("../../../contracts/api/payment.v1.json"),
);

/// Added to the provider timeout to get how long a charge attempt keeps others off a
/// payment: room for the store writes around the provider call.
const CHARGE_LEASE_MARGIN: Duration = Duration::from_secs(10);

/// Starts its consumers (and background tasks) and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let ctx = runtime.context().clone();
        let provider = provider::from_settings(&ctx.settings)?;
        let charge_lease =
            Duration::from_millis(ctx.settings.payment_provider_timeout_ms) + CHARGE_LEASE_MARGIN;
        let payments = payments::Payments::new(runtime.outbox().clone(), provider, charge_lease);
        let reconcile_every = Duration::from_millis(ctx.settings.payment_reconcile_interval_ms);
        runtime.track(
            payments
                .clone()
                .spawn_reconciler(reconcile_every, ctx.shutdown.clone()),
        );
        runtime
            .consume(
                events::TOPICS,
                Arc::new(events::PaymentEvents(payments.clone())),
            )
            .await?;
        Ok(routes::api(routes::ApiState {
            payments,
            verifier: ctx.verifier.clone(),
            orders: routes::Orders(Peer::new(&ctx.settings, ORDER)?),
        }))
    })
}
