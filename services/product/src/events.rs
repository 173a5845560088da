//! Stock follows orders: reserved when an order is created, released when it is
//! cancelled or refunded, committed when it completes.

use std::collections::BTreeMap;

use async_trait::async_trait;
use doc_store::{Query, Versioned, Write};
use event_bus::{BoxError, EventHandler, Outbox, apply_once, retry_on_conflict};
use event_contracts::{
    Envelope, Event, OrderCancelled, OrderCreated, PaymentRefunded, ProductDecrement,
    ProductRemoved, StockLine, StockRejected, StockReserved, UserDeleted,
};

use crate::{
    domain::{Reservation, ReservationState, Shelf, plan_reservation},
    store::{PRODUCTS, Product, RESERVATIONS},
};

pub const TOPICS: &[&str] = &[
    OrderCreated::TYPE,
    OrderCancelled::TYPE,
    PaymentRefunded::TYPE,
    ProductDecrement::TYPE,
    UserDeleted::TYPE,
];

pub struct StockEvents(pub Outbox);

#[async_trait]
impl EventHandler for StockEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        retry_on_conflict(|| async {
            match event.event_type.as_str() {
                OrderCreated::TYPE => self.reserve(event, event.decode()?).await,
                OrderCancelled::TYPE => {
                    let cancelled: OrderCancelled = event.decode()?;
                    self.settle(event, &cancelled.order_id, Settle::Release)
                        .await
                }
                PaymentRefunded::TYPE => {
                    let refunded: PaymentRefunded = event.decode()?;
                    self.settle(event, &refunded.order_id, Settle::Release)
                        .await
                }
                ProductDecrement::TYPE => {
                    let decrement: ProductDecrement = event.decode()?;
                    self.settle(event, &decrement.order_id, Settle::Commit)
                        .await
                }
                UserDeleted::TYPE => self.owner_deleted(event, event.decode()?).await,
                _ => Ok(()),
            }
        })
        .await
    }
}

#[derive(Clone, Copy)]
enum Settle {
    Release,
    Commit,
}

/// The version-guarded writes that give each of `products` its new shelf, so a product
/// changed since it was read fails the whole batch.
fn shelf_writes(
    products: &BTreeMap<String, Versioned<Product>>,
    shelves: impl IntoIterator<Item = (String, Shelf)>,
) -> Vec<Write> {
    shelves
        .into_iter()
        .map(|(id, shelf)| {
            let current = &products[&id];
            let mut next = current.value.clone();
            next.shelf = shelf;
            PRODUCTS.update(current, &next)
        })
        .collect()
}

impl StockEvents {
    async fn products(
        &self,
        lines: &[StockLine],
    ) -> Result<BTreeMap<String, Versioned<Product>>, BoxError> {
        let mut found = BTreeMap::new();
        for line in lines {
            if found.contains_key(&line.product_id) {
                continue;
            }
            if let Some(p) = PRODUCTS.get(self.0.store(), &line.product_id).await? {
                found.insert(line.product_id.clone(), p);
            }
        }
        Ok(found)
    }

    /// All lines or none, in one batch of version-guarded product updates: two orders
    /// racing for the last unit cannot both get it.
    async fn reserve(&self, event: &Envelope, order: OrderCreated) -> Result<(), BoxError> {
        if RESERVATIONS
            .get(self.0.store(), &order.order_id)
            .await?
            .is_some()
        {
            // Decided before; a redelivery must not decide again on newer stock.
            apply_once(&self.0, event, vec![], vec![]).await?;
            return Ok(());
        }
        let lines: Vec<StockLine> = order
            .items
            .iter()
            .map(|i| StockLine {
                product_id: i.product_id.clone(),
                quantity: i.quantity,
            })
            .collect();
        let products = self.products(&lines).await?;
        let shelves = products
            .iter()
            .map(|(id, p)| (id.clone(), p.value.shelf))
            .collect();
        let (writes, outcome, state) = match plan_reservation(&lines, &shelves) {
            Ok(planned) => {
                let writes = shelf_writes(&products, planned);
                let reserved = Envelope::caused_by(
                    &StockReserved {
                        order_id: order.order_id.clone(),
                        items: lines.clone(),
                    },
                    event,
                );
                (writes, reserved, ReservationState::Held)
            }
            Err(shortages) => {
                let rejected = Envelope::caused_by(
                    &StockRejected {
                        order_id: order.order_id.clone(),
                        reason: "not enough stock".into(),
                        shortages: shortages
                            .into_iter()
                            .map(|s| event_contracts::Shortage {
                                product_id: s.product_id,
                                requested: s.requested,
                                available: s.available,
                            })
                            .collect(),
                    },
                    event,
                );
                (Vec::new(), rejected, ReservationState::Rejected)
            }
        };
        let mut writes = writes;
        writes.push(RESERVATIONS.insert(
            &order.order_id,
            &Reservation {
                items: lines,
                state,
            },
        ));
        apply_once(&self.0, event, writes, vec![outcome]).await?;
        Ok(())
    }

    /// Releases or commits what an order holds; anything but a held reservation is
    /// left alone (never reserved, or already settled).
    async fn settle(&self, event: &Envelope, order_id: &str, how: Settle) -> Result<(), BoxError> {
        let Some(reservation) = RESERVATIONS.get(self.0.store(), order_id).await? else {
            if matches!(how, Settle::Commit) {
                // A completed order was reserved first; its reservation must still arrive.
                return Err(event_bus::too_early(format!(
                    "no reservation yet for order {order_id}"
                )));
            }
            // Cancelled before its order.created reached us (another topic): leave a
            // released reservation behind, so that order.created, when it comes, finds
            // the order decided and holds nothing that no one would ever give back.
            // Should order.created win the race after all, the insert conflicts and the
            // retry releases what it reserved.
            let tombstone = Reservation {
                items: Vec::new(),
                state: ReservationState::Released,
            };
            apply_once(
                &self.0,
                event,
                vec![RESERVATIONS.insert(order_id, &tombstone)],
                vec![],
            )
            .await?;
            return Ok(());
        };
        if reservation.value.state != ReservationState::Held {
            apply_once(&self.0, event, vec![], vec![]).await?;
            return Ok(());
        }
        let products = self.products(&reservation.value.items).await?;
        let mut shelves: BTreeMap<String, Shelf> = products
            .iter()
            .map(|(id, p)| (id.clone(), p.value.shelf))
            .collect();
        for line in &reservation.value.items {
            // A product removed since keeps nothing to give back.
            if let Some(shelf) = shelves.get_mut(&line.product_id) {
                *shelf = match how {
                    Settle::Release => shelf.release(line.quantity)?,
                    Settle::Commit => shelf.commit(line.quantity)?,
                };
            }
        }
        let mut writes = shelf_writes(&products, shelves);
        let mut settled = reservation.value.clone();
        settled.state = match how {
            Settle::Release => ReservationState::Released,
            Settle::Commit => ReservationState::Committed,
        };
        writes.push(RESERVATIONS.update(&reservation, &settled));
        apply_once(&self.0, event, writes, vec![]).await?;
        Ok(())
    }

    /// A deleted account's personal products leave the catalog.
    async fn owner_deleted(&self, event: &Envelope, deleted: UserDeleted) -> Result<(), BoxError> {
        let owned = PRODUCTS
            .find(
                self.0.store(),
                &Query::eq("owner_id", deleted.user_id.as_str()),
            )
            .await?;
        let writes = owned.items.iter().map(|p| PRODUCTS.delete(p)).collect();
        let removed = owned
            .items
            .iter()
            .map(|p| {
                Envelope::caused_by(
                    &ProductRemoved {
                        product_id: p.id.clone(),
                        owner_id: p.value.owner_id.clone(),
                    },
                    event,
                )
            })
            .collect();
        apply_once(&self.0, event, writes, removed).await?;
        Ok(())
    }
}
