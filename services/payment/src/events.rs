//! What the payment service does with other services' events. Every effect is stored
//! with `apply_once`, so a redelivered event changes nothing twice, and each
//! read-decide-write runs again when its guarded write loses a race.

use async_trait::async_trait;
use event_bus::{BoxError, EventHandler, apply_once, retry_on_conflict};
use event_contracts::{
    CancelReason, Envelope, Event, OrderCancelled, OrderCreated, ShipmentReturned, StockReserved,
};
use time::OffsetDateTime;

use crate::{
    domain::{PaymentStatus, Step},
    payments::{PaymentError, Payments},
    provider::ProviderError,
    store::{ORDERS_SEEN, OrderSeen, PAYMENTS, Payment, payment_for_order},
};

pub const TOPICS: &[&str] = &[
    OrderCreated::TYPE,
    StockReserved::TYPE,
    OrderCancelled::TYPE,
    ShipmentReturned::TYPE,
];

pub struct PaymentEvents(pub Payments);

#[async_trait]
impl EventHandler for PaymentEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        retry_on_conflict(|| async {
            match event.event_type.as_str() {
                OrderCreated::TYPE => self.order_created(event, event.decode()?).await,
                StockReserved::TYPE => self.stock_reserved(event, event.decode()?).await,
                OrderCancelled::TYPE => self.order_cancelled(event, event.decode()?).await,
                ShipmentReturned::TYPE => self.shipment_returned(event, event.decode()?).await,
                other => {
                    tracing::debug!(event_type = other, "not a payment concern");
                    Ok(())
                }
            }
        })
        .await
    }
}

/// The bus retries a handler that returns this, giving the event that creates the
/// payment (`order.created`, on another topic) time to arrive.
fn no_payment_yet(order_id: &str) -> BoxError {
    event_bus::too_early(format!(
        "no payment for order {order_id} yet; order.created has not been handled"
    ))
}

/// A race with the handler of another event about the same order, lost: the handler
/// runs again on what the other stored.
fn lost_race(order_id: &str) -> BoxError {
    Box::new(doc_store::StoreError::VersionConflict {
        collection: ORDERS_SEEN.name().to_owned(),
        id: order_id.to_owned(),
    })
}

/// Keeps a store error a `StoreError` inside the box, so `retry_on_conflict` still
/// recognises a lost race.
fn boxed(e: PaymentError) -> BoxError {
    match e {
        PaymentError::Store(e) => Box::new(e),
        // A provider that does not answer is an outage: retried, not parked, for as long
        // as the bus waits out outages.
        PaymentError::Provider(e @ (ProviderError::Timeout | ProviderError::Unavailable(_))) => {
            event_bus::outage(e.to_string())
        }
        other => Box::new(other),
    }
}

impl PaymentEvents {
    /// Every order gets one payment for its total (`order_id` is unique); voided from the
    /// start when its cancellation came first.
    async fn order_created(&self, event: &Envelope, created: OrderCreated) -> Result<(), BoxError> {
        let outbox = self.0.outbox();
        let order_id = &created.order_id;
        let writes = match self.0.for_order(order_id).await? {
            Some(_) => vec![],
            None => {
                let seen = ORDERS_SEEN.get(self.0.store(), order_id).await?;
                payment_for_order(
                    order_id,
                    &created.user_id,
                    created.total,
                    false,
                    None,
                    seen.as_ref().map(|s| &s.value),
                    OffsetDateTime::now_utc(),
                )?
            }
        };
        match apply_once(outbox, event, writes, vec![]).await {
            Ok(_) => Ok(()),
            // Created between our look and our insert (another order.created for the same
            // order, from a second process): the order has its payment, which is the effect.
            Err(e) if e.is_duplicate_in(PAYMENTS.name()) => {
                apply_once(outbox, event, vec![], vec![]).await?;
                Ok(())
            }
            // Its cancellation was stored meanwhile: look again.
            Err(e) if e.is_duplicate_in(ORDERS_SEEN.name()) => Err(lost_race(order_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// The order's stock is held, so its payment can be paid.
    async fn stock_reserved(
        &self,
        event: &Envelope,
        reserved: StockReserved,
    ) -> Result<(), BoxError> {
        let Some(current) = self.0.for_order(&reserved.order_id).await? else {
            if self.cancelled_before_created(&reserved.order_id).await? {
                // Nothing will ever be paid for this order.
                apply_once(self.0.outbox(), event, vec![], vec![]).await?;
                return Ok(());
            }
            return Err(no_payment_yet(&reserved.order_id));
        };
        let mut writes = vec![];
        if current.value.status == PaymentStatus::Pending && !current.value.payable {
            let next = current
                .value
                .after(Step::MarkPayable, None, OffsetDateTime::now_utc())?;
            writes.push(PAYMENTS.update(&current, &next));
        }
        // Otherwise already payable, or voided by a cancellation that overtook this event.
        apply_once(self.0.outbox(), event, writes, vec![]).await?;
        Ok(())
    }

    /// A cancelled order is not paid for: a pending payment is voided (through a
    /// reversal at the provider when a charge's outcome is unknown), and a completed one
    /// refunded (the customer was charged for an order that will not ship).
    async fn order_cancelled(
        &self,
        event: &Envelope,
        cancelled: OrderCancelled,
    ) -> Result<(), BoxError> {
        let note = match cancelled.reason {
            CancelReason::CustomerRequest => "order cancelled by the customer",
            CancelReason::PaymentFailed => "order cancelled: payment failed",
            CancelReason::StockRejected => "order cancelled: stock could not be reserved",
            CancelReason::PaymentTimeout => "order cancelled: not paid in time",
        };
        let Some(current) = self.0.settled_for_order(&cancelled.order_id).await? else {
            return self.cancelled_first(event, &cancelled.order_id, note).await;
        };
        match current.value.status {
            PaymentStatus::Pending => {
                let next = current.value.voided(note, OffsetDateTime::now_utc())?;
                apply_once(
                    self.0.outbox(),
                    event,
                    vec![PAYMENTS.update(&current, &next)],
                    vec![],
                )
                .await?;
                // Owed and stored; asked for now, and by the reconciler until it is taken.
                if next.reversing
                    && let Err(e) = self.0.reverse(&current.id).await
                {
                    tracing::warn!(payment_id = %current.id, error = %e, "the provider did not take a reversal yet; the reconciler asks again");
                }
            }
            PaymentStatus::Completed => self.refund(event, &current, note).await?,
            // Failed, voided or refunded: nothing left to give back.
            _ => {
                apply_once(self.0.outbox(), event, vec![], vec![]).await?;
            }
        }
        Ok(())
    }

    /// A cancellation before its order's `order.created`: kept, so that the payment
    /// `order.created` makes is voided from the start and can never be paid.
    async fn cancelled_first(
        &self,
        event: &Envelope,
        order_id: &str,
        note: &str,
    ) -> Result<(), BoxError> {
        if self.cancelled_before_created(order_id).await? {
            // Kept already (a second cancellation, or this one again after its marker
            // was pruned).
            apply_once(self.0.outbox(), event, vec![], vec![]).await?;
            return Ok(());
        }
        let seen = OrderSeen {
            cancelled_first: Some(note.to_owned()),
            at: OffsetDateTime::now_utc(),
        };
        match apply_once(
            self.0.outbox(),
            event,
            vec![ORDERS_SEEN.insert(order_id, &seen)],
            vec![],
        )
        .await
        {
            Ok(_) => Ok(()),
            // order.created stored the payment meanwhile: void it the usual way.
            Err(e) if e.is_duplicate_in(ORDERS_SEEN.name()) => Err(lost_race(order_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the order's cancellation came before its `order.created` and is kept.
    async fn cancelled_before_created(&self, order_id: &str) -> Result<bool, BoxError> {
        Ok(ORDERS_SEEN
            .get(self.0.store(), order_id)
            .await?
            .is_some_and(|seen| seen.value.cancelled_first.is_some()))
    }

    /// Goods came back, so the money goes back.
    async fn shipment_returned(
        &self,
        event: &Envelope,
        returned: ShipmentReturned,
    ) -> Result<(), BoxError> {
        let current = self
            .0
            .settled_for_order(&returned.order_id)
            .await?
            .ok_or_else(|| no_payment_yet(&returned.order_id))?;
        if current.value.status == PaymentStatus::Completed {
            self.refund(event, &current, "shipment returned").await
        } else {
            // Already refunded (an admin did it first), or never paid: a shipment only
            // goes out for a completed payment, so there is nothing to give back.
            if current.value.status != PaymentStatus::Refunded {
                tracing::warn!(
                    order_id = %returned.order_id,
                    status = %current.value.status,
                    "shipment returned for a payment that was never completed; ignored"
                );
            }
            apply_once(self.0.outbox(), event, vec![], vec![]).await?;
            Ok(())
        }
    }

    /// Refunds at the provider, then stores the refund and `payment.refunded` with the
    /// event's marker. A provider failure is an error, so the bus retries (the same
    /// idempotency key each time) and in the end parks the event for a person to see.
    async fn refund(
        &self,
        event: &Envelope,
        current: &doc_store::Versioned<Payment>,
        note: &str,
    ) -> Result<(), BoxError> {
        let (next, refunded) = self.0.refund(current, note).await.map_err(boxed)?;
        apply_once(
            self.0.outbox(),
            event,
            vec![PAYMENTS.update(current, &next)],
            vec![Envelope::caused_by(&refunded, event)],
        )
        .await?;
        Ok(())
    }
}
