//! notification-service: tells customers what happened to their orders. It turns the
//! payment, shipment and order events they care about into in-app notifications
//! (`GET /api/v1/notifications`) and hands each one to the configured channels (a
//! webhook today; email, SMS or push through the [`Channel`] port) from a background
//! dispatcher that retries with backoff. It must never let a channel's failure block
//! or fail the consumption of events, never store a notification twice for one event,
//! and never show a customer anyone else's notifications. It only listens: it changes
//! no order, payment or shipment and publishes no events.

mod channel;
mod dispatcher;
mod domain;
mod events;
mod routes;
mod store;

use std::sync::Arc;

use service_kit::{ServiceDef, ServiceRuntime, Wiring};

pub use crate::{
    channel::{Channel, ChannelError, WebhookChannel},
    domain::{DeliveryPolicy, Notification, NotificationKind},
};

/// The notification service, as every host starts it.
pub const SERVICE: ServiceDef = ServiceDef::new("notification", 8088, store::COLLECTIONS, wire)
    .public(
        &["notifications"],
        include_str!("../../../contracts/api/notification.v1.json"),
    );

/// Starts its consumers (and background tasks) and returns its API.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let ctx = runtime.context().clone();
        let channels = channel::from_settings(&ctx.settings)?;
        let policy = DeliveryPolicy::from_settings(&ctx.settings);
        let dispatcher = dispatcher::Dispatcher::new(ctx.store().clone(), channels.clone(), policy);
        let handler = events::NotificationEvents {
            outbox: runtime.outbox().clone(),
            channels: channels.iter().map(|c| c.name()).collect(),
            dispatcher: dispatcher.waker(),
        };
        // Started before consuming, so what a backlog of events stores goes out at once.
        runtime.track(dispatcher.spawn(ctx.shutdown.clone()));
        runtime.consume(events::TOPICS, Arc::new(handler)).await?;
        Ok(routes::api(routes::NotificationState {
            store: ctx.store().clone(),
            verifier: ctx.verifier.clone(),
        }))
    })
}
