//! Stock follows the goods: reserved when an order is created, released when its goods
//! are called off before they left (`order.cancelled`, `shipment.cancelled`), committed
//! when they leave (`shipment.delivered`, or the accept's `product.decrement`), and put
//! back on sale when they come back (`shipment.returned`). A refund moves no stock: the
//! goods of a refunded order may be with the customer. The rule is `domain::on_news`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use doc_store::{Query, Versioned, Write};
use event_bus::{BoxError, EventHandler, Outbox, apply_once, retry_on_conflict};
use event_contracts::{
    Envelope, Event, OrderCancelled, OrderCreated, ProductDecrement, ProductRemoved,
    ShipmentCancelled, ShipmentDelivered, ShipmentReturned, StockLine, StockRejected,
    StockReserved, UserDeleted,
};

use crate::{
    domain::{GoodsNews, Reservation, ReservationState, Shelf, Verdict, on_news, plan_reservation},
    store::{PRODUCTS, Product, RESERVATIONS},
};

pub const TOPICS: &[&str] = &[
    OrderCreated::TYPE,
    OrderCancelled::TYPE,
    ShipmentCancelled::TYPE,
    ShipmentDelivered::TYPE,
    ShipmentReturned::TYPE,
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
                    let e: OrderCancelled = event.decode()?;
                    self.news(event, &e.order_id, GoodsNews::CalledOff).await
                }
                ShipmentCancelled::TYPE => {
                    let e: ShipmentCancelled = event.decode()?;
                    self.news(event, &e.order_id, GoodsNews::CalledOff).await
                }
                ShipmentDelivered::TYPE => {
                    let e: ShipmentDelivered = event.decode()?;
                    self.news(event, &e.order_id, GoodsNews::LeftTheShop).await
                }
                ProductDecrement::TYPE => {
                    let e: ProductDecrement = event.decode()?;
                    self.news(event, &e.order_id, GoodsNews::LeftTheShop).await
                }
                ShipmentReturned::TYPE => {
                    let e: ShipmentReturned = event.decode()?;
                    self.news(event, &e.order_id, GoodsNews::CameBack).await
                }
                UserDeleted::TYPE => self.owner_deleted(event, event.decode()?).await,
                _ => Ok(()),
            }
        })
        .await
    }
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

    /// Moves an order's units as `news` says its goods moved, once.
    async fn news(
        &self,
        event: &Envelope,
        order_id: &str,
        news: GoodsNews,
    ) -> Result<(), BoxError> {
        let reservation = RESERVATIONS.get(self.0.store(), order_id).await?;
        let (state, movement) = match on_news(reservation.as_ref().map(|r| r.value.state), news) {
            Verdict::Moves(state, movement) => (state, movement),
            Verdict::Ignore => {
                apply_once(&self.0, event, vec![], vec![]).await?;
                return Ok(());
            }
            Verdict::TooEarly => {
                return Err(event_bus::too_early(format!(
                    "no reservation yet for order {order_id}"
                )));
            }
        };
        let Some(reservation) = reservation else {
            // Called off before its order.created reached us: the released reservation
            // left behind makes order.created, when it comes, find the order decided. If
            // order.created wins the race after all, the insert conflicts and the retry
            // releases what it reserved.
            let tombstone = Reservation {
                items: Vec::new(),
                state,
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
        let mut writes = Vec::new();
        if let Some(movement) = movement {
            let products = self.products(&reservation.value.items).await?;
            let mut shelves: BTreeMap<String, Shelf> = products
                .iter()
                .map(|(id, p)| (id.clone(), p.value.shelf))
                .collect();
            for line in &reservation.value.items {
                // A product removed since keeps nothing to give back.
                if let Some(shelf) = shelves.get_mut(&line.product_id) {
                    *shelf = shelf.moved(movement, line.quantity)?;
                }
            }
            writes = shelf_writes(&products, shelves);
        }
        let mut settled = reservation.value.clone();
        settled.state = state;
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
