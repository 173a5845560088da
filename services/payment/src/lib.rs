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
mod store;

use std::{sync::Arc, time::Duration};

use axum::Router;
use service_kit::{Running, ServiceContext, ServiceName, runtime::ServiceRuntime};
use tokio::net::TcpListener;

pub const NAME: ServiceName = ServiceName::Payment;

/// Added to the provider timeout to get how long a charge attempt keeps others off a
/// payment: room for the store writes around the provider call.
const CHARGE_LEASE_MARGIN: Duration = Duration::from_secs(10);

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
    let provider = provider::from_settings(&ctx.settings)?;
    let mut runtime = ServiceRuntime::start(NAME, ctx.clone(), store::COLLECTIONS).await?;
    let charge_lease =
        Duration::from_millis(ctx.settings.payment_provider_timeout_ms) + CHARGE_LEASE_MARGIN;
    let payments = payments::Payments::new(runtime.outbox().clone(), provider, charge_lease);
    runtime
        .consume(
            events::TOPICS,
            Arc::new(events::PaymentEvents(payments.clone())),
        )
        .await?;
    let (api, openapi) = routes::router(routes::ApiState {
        payments,
        verifier: ctx.verifier.clone(),
    });
    Ok((runtime, api, service_kit::openapi::to_json(&openapi)))
}
