//! The order follows the other services' events through its state machine.

use async_trait::async_trait;
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
        let order = Order {
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
