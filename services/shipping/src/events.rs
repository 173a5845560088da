//! What the shipping service does with other services' events, and the `shipment.*`
//! events it announces its own transitions with.

use async_trait::async_trait;
use doc_store::{Query, StoreError};
use event_bus::{Applied, BoxError, EventHandler, Outbox, apply_once, retry_on_conflict};
use event_contracts::{
    Envelope, Event, OrderCancelled, OrderCreated, OrderReturnRequested, PaymentCompleted,
    PaymentRefunded, ShipmentAwaiting, ShipmentCancelled, ShipmentDelivered, ShipmentReturned,
};

use crate::{
    domain::{Outcome, ShipmentStatus, Step},
    store::{SHIPMENTS, Shipment},
};

pub const TOPICS: &[&str] = &[
    OrderCreated::TYPE,
    PaymentCompleted::TYPE,
    OrderReturnRequested::TYPE,
    OrderCancelled::TYPE,
    PaymentRefunded::TYPE,
];

pub struct ShippingEvents(pub Outbox);

#[async_trait]
impl EventHandler for ShippingEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        let (order_id, user_id, step) = match event.event_type.as_str() {
            OrderCreated::TYPE => {
                let e: OrderCreated = event.decode()?;
                (e.order_id, e.user_id, Step::Open)
            }
            PaymentCompleted::TYPE => {
                let e: PaymentCompleted = event.decode()?;
                (e.order_id, e.user_id, Step::Pay)
            }
            OrderReturnRequested::TYPE => {
                let e: OrderReturnRequested = event.decode()?;
                (e.order_id, e.user_id, Step::OpenReturn)
            }
            OrderCancelled::TYPE => {
                let e: OrderCancelled = event.decode()?;
                (e.order_id, e.user_id, Step::Cancel)
            }
            PaymentRefunded::TYPE => {
                let e: PaymentRefunded = event.decode()?;
                (e.order_id, e.user_id, Step::Cancel)
            }
            other => {
                tracing::debug!(event_type = other, "not a shipping concern");
                return Ok(());
            }
        };
        retry_on_conflict(|| self.apply(event, &order_id, &user_id, step)).await
    }
}

impl ShippingEvents {
    /// One read-decide-write of `step` on the order's shipment, stored with the event's
    /// marker so that a redelivery changes nothing. A lost race comes back as a version
    /// conflict, which the caller answers by reading again.
    async fn apply(
        &self,
        event: &Envelope,
        order_id: &str,
        user_id: &str,
        step: Step,
    ) -> Result<(), BoxError> {
        let outbox = &self.0;
        let current = SHIPMENTS
            .find_one(outbox.store(), Query::eq("order_id", order_id))
            .await?;
        let outcome = match &current {
            Some(shipment) => shipment.value.status.on(step),
            None => ShipmentStatus::first(step),
        };
        let now = time::OffsetDateTime::now_utc();
        let (id, shipment, write) = match (outcome, current) {
            (Outcome::Enters(status), None) => {
                let id = uuid::Uuid::now_v7().to_string();
                let shipment = Shipment::new(order_id, user_id, status, now);
                let write = SHIPMENTS.insert(&id, &shipment);
                (id, shipment, write)
            }
            (Outcome::Enters(status), Some(current)) => {
                let shipment = current.value.entering(status, now);
                let write = SHIPMENTS.update(&current, &shipment);
                (current.id, shipment, write)
            }
            (Outcome::AlreadyPast, current) => {
                // Redelivered, overtaken by a later event, or the shipment is final:
                // acknowledged, so that it is neither retried nor parked.
                tracing::debug!(
                    event_id = %event.id,
                    event_type = %event.event_type,
                    order_id,
                    status = current.map(|s| s.value.status.as_str()),
                    "shipment already past this event; ignored"
                );
                apply_once(outbox, event, vec![], vec![]).await?;
                return Ok(());
            }
            (Outcome::TooEarly, current) => {
                // The step it follows (a delivery, say) may still be on its way; failing
                // makes the bus retry with backoff instead of losing the event.
                let status = current.map_or("missing", |s| s.value.status.as_str());
                return Err(event_bus::too_early(format!(
                    "{} for order {order_id} arrived while its shipment is {status}",
                    event.event_type
                )));
            }
        };
        let events = announce(&id, &shipment, Cause::Event(event))
            .into_iter()
            .collect();
        match apply_once(outbox, event, vec![write], events).await {
            Ok(Applied::Now) => {
                tracing::info!(shipment_id = %id, order_id, status = %shipment.status, "shipment moved");
                Ok(())
            }
            Ok(Applied::Already) => Ok(()),
            // Another event created this order's shipment between our read and our
            // insert: the same lost race as a version conflict, so read again.
            Err(e) if e.is_duplicate_in(SHIPMENTS.name()) => Err(StoreError::VersionConflict {
                collection: SHIPMENTS.name().to_owned(),
                id: order_id.to_owned(),
            }
            .into()),
            Err(e) => Err(e.into()),
        }
    }
}

/// What started a transition, which decides how its event joins the flow.
#[derive(Debug, Clone, Copy)]
pub enum Cause<'a> {
    /// Another service's event; ours continues its flow.
    Event(&'a Envelope),
    /// An admin's request, by its correlation id.
    Request(&'a str),
}

/// The event announcing that a shipment entered its current status, if that status is
/// one other services act on.
pub fn announce(shipment_id: &str, shipment: &Shipment, cause: Cause<'_>) -> Option<Envelope> {
    fn wrap<E: Event>(event: &E, cause: Cause<'_>) -> Envelope {
        match cause {
            Cause::Event(by) => Envelope::caused_by(event, by),
            Cause::Request(correlation) => Envelope::new(event, correlation),
        }
    }
    let shipment_id = shipment_id.to_owned();
    let order_id = shipment.order_id.clone();
    let user_id = shipment.user_id.clone();
    match shipment.status {
        ShipmentStatus::Awaiting => Some(wrap(
            &ShipmentAwaiting {
                shipment_id,
                order_id,
                user_id,
            },
            cause,
        )),
        ShipmentStatus::Delivered => Some(wrap(
            &ShipmentDelivered {
                shipment_id,
                order_id,
                user_id,
            },
            cause,
        )),
        ShipmentStatus::Returned => Some(wrap(
            &ShipmentReturned {
                shipment_id,
                order_id,
                user_id,
            },
            cause,
        )),
        // The goods never left: stock may go back on sale.
        ShipmentStatus::Cancelled => Some(wrap(
            &ShipmentCancelled {
                shipment_id,
                order_id,
                user_id,
            },
            cause,
        )),
        // Nobody acts on these: the order service already knows, having caused them.
        ShipmentStatus::Pending | ShipmentStatus::ReturnOpen => None,
    }
}
