//! The order follows the other services' events through its state machine.

use async_trait::async_trait;
use doc_store::Query;
use event_bus::{Applied, BoxError, EventHandler, Outbox, apply_once, retry_on_conflict};
use event_contracts::{
    CartCheckedOut, Envelope, Event, OrderCreated, PaymentCompleted, PaymentFailed,
    PaymentRefunded, ShipmentAwaiting, ShipmentDelivered, ShipmentReturned, StockRejected,
    StockReserved,
};

use crate::{
    domain::{OrderStatus, Step, Trigger},
    lifecycle::{Origin, plan},
    metrics::OrderMetrics,
    store::{HistoryEntry, ORDERS, Order},
};

pub const TOPICS: &[&str] = &[
    CartCheckedOut::TYPE,
    StockReserved::TYPE,
    StockRejected::TYPE,
    PaymentCompleted::TYPE,
    PaymentFailed::TYPE,
    PaymentRefunded::TYPE,
    ShipmentAwaiting::TYPE,
    ShipmentDelivered::TYPE,
    ShipmentReturned::TYPE,
];

pub struct OrderEvents {
    pub outbox: Outbox,
    pub metrics: OrderMetrics,
    pub caps: PendingCaps,
}

/// The most unpaid orders, and units across them, one customer may hold.
#[derive(Debug, Clone, Copy)]
pub struct PendingCaps {
    pub orders: u32,
    pub units: u32,
}

impl PendingCaps {
    /// Why a new order of `units` is refused, given the customer's pending orders'
    /// unit counts; `None` when it is placed.
    pub fn refusal(&self, pending: &[u32], units: u32) -> Option<String> {
        let held: u64 = pending.iter().map(|u| u64::from(*u)).sum();
        if pending.len() >= self.orders as usize {
            return Some(format!(
                "refused: the customer already holds {} unpaid orders, the most allowed; \
                 pay or cancel one first",
                pending.len()
            ));
        }
        if held + u64::from(units) > u64::from(self.units) {
            return Some(format!(
                "refused: {units} more units would make {} held in unpaid orders, over the \
                 {} allowed",
                held + u64::from(units),
                self.units
            ));
        }
        None
    }
}

/// Every event but the checkout names its order; pull the id out of whichever it is.
fn order_id_of(event: &Envelope) -> Result<String, BoxError> {
    event.data["order_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} has no order_id", event.event_type).into())
}

#[async_trait]
impl EventHandler for OrderEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        retry_on_conflict(|| async {
            let trigger = match event.event_type.as_str() {
                CartCheckedOut::TYPE => return self.place(event, event.decode()?).await,
                StockReserved::TYPE => return self.stock_reserved(event).await,
                StockRejected::TYPE => Trigger::StockRejected,
                PaymentCompleted::TYPE => Trigger::PaymentCompleted,
                PaymentFailed::TYPE => Trigger::PaymentFailed,
                PaymentRefunded::TYPE => Trigger::PaymentRefunded,
                ShipmentAwaiting::TYPE => Trigger::ShipmentAwaiting,
                ShipmentDelivered::TYPE => Trigger::ShipmentDelivered,
                ShipmentReturned::TYPE => Trigger::ShipmentReturned,
                _ => return Ok(()),
            };
            self.advance(event, trigger).await
        })
        .await
    }
}

impl OrderEvents {
    /// A checkout becomes a pending order. The cart chose the order id, so a
    /// redelivered checkout finds its order and places nothing twice.
    async fn place(&self, event: &Envelope, checkout: CartCheckedOut) -> Result<(), BoxError> {
        if ORDERS
            .get(self.outbox.store(), &checkout.order_id)
            .await?
            .is_some()
        {
            apply_once(&self.outbox, event, vec![], vec![]).await?;
            return Ok(());
        }
        let now = time::OffsetDateTime::now_utc();
        let mut order = Order {
            user_id: checkout.user_id.clone(),
            checkout_id: checkout.checkout_id.clone(),
            items: checkout.items.clone(),
            total: checkout.total,
            status: OrderStatus::Pending,
            stock_reserved: false,
            history: vec![HistoryEntry {
                status: OrderStatus::Pending,
                at: now,
                cause: event.event_type.clone(),
            }],
            created_at: now,
        };
        if let Some(refusal) = self.refusal(&checkout).await? {
            // Placed, so the checkout's Location answers, but cancelled at once, and
            // announced to nobody: it never reserves anything.
            order.move_to(OrderStatus::Cancelled, &refusal);
            let applied = apply_once(
                &self.outbox,
                event,
                vec![ORDERS.insert(&checkout.order_id, &order)],
                vec![],
            )
            .await?;
            if applied == Applied::Now {
                tracing::info!(order_id = %checkout.order_id, user_id = %checkout.user_id, %refusal, "checkout refused");
                self.metrics.entered(OrderStatus::Cancelled);
            }
            return Ok(());
        }
        let created = Envelope::caused_by(
            &OrderCreated {
                order_id: checkout.order_id.clone(),
                checkout_id: checkout.checkout_id,
                user_id: checkout.user_id,
                items: checkout.items,
                total: checkout.total,
            },
            event,
        );
        let applied = apply_once(
            &self.outbox,
            event,
            vec![ORDERS.insert(&checkout.order_id, &order)],
            vec![created],
        )
        .await?;
        if applied == Applied::Now {
            self.metrics.entered(OrderStatus::Pending);
        }
        Ok(())
    }

    /// Why the customer may not place this checkout now, if they may not: past the cap
    /// on unpaid orders or on units held in them.
    async fn refusal(&self, checkout: &CartCheckedOut) -> Result<Option<String>, BoxError> {
        let query = Query::eq("user_id", checkout.user_id.as_str())
            .and_eq("status", "pending")
            .page(0, u64::from(self.caps.orders));
        let pending = ORDERS.find(self.outbox.store(), &query).await?;
        let held: Vec<u32> = pending
            .items
            .iter()
            .map(|o| o.value.items.iter().map(|i| i.quantity).sum())
            .collect();
        let units = checkout.items.iter().map(|i| i.quantity).sum();
        Ok(self.caps.refusal(&held, units))
    }

    async fn stock_reserved(&self, event: &Envelope) -> Result<(), BoxError> {
        let id = order_id_of(event)?;
        let current = ORDERS
            .get(self.outbox.store(), &id)
            .await?
            .ok_or_else(|| event_bus::too_early(format!("order {id} not placed yet")))?;
        let mut next = current.value.clone();
        next.stock_reserved = true;
        apply_once(
            &self.outbox,
            event,
            vec![ORDERS.update(&current, &next)],
            vec![],
        )
        .await?;
        Ok(())
    }

    async fn advance(&self, event: &Envelope, trigger: Trigger) -> Result<(), BoxError> {
        let id = order_id_of(event)?;
        let Some(current) = ORDERS.get(self.outbox.store(), &id).await? else {
            // The checkout that places it may still be on its way.
            return Err(event_bus::too_early(format!("order {id} not placed yet")));
        };
        match plan(&current, trigger, Origin::Event(event)) {
            Ok((writes, events, next)) => {
                if apply_once(&self.outbox, event, writes, events).await? == Applied::Now {
                    self.metrics.entered(next.status);
                }
                Ok(())
            }
            Err(Step::TooEarly) => Err(event_bus::too_early(format!(
                "{} arrived while order {id} is {:?}; waiting for the event before it",
                event.event_type, current.value.status
            ))),
            Err(_) => {
                tracing::debug!(order_id = %id, event_type = %event.event_type,
                    status = ?current.value.status, "event does not move the order");
                apply_once(&self.outbox, event, vec![], vec![]).await?;
                Ok(())
            }
        }
    }
}
