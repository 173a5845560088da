use std::collections::BTreeMap;

use event_contracts::StockLine;
use serde::{Deserialize, Serialize};

/// A product's stock: `available` can be sold now; `reserved` is held for orders
/// that are not finished. Neither can go negative (they are unsigned and every change
/// is checked), and `available + reserved` is what is on the shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shelf {
    pub available: u32,
    pub reserved: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("not enough stock")]
    Insufficient,
    #[error("stock count overflow")]
    Overflow,
}

impl Shelf {
    pub fn reserve(self, quantity: u32) -> Result<Shelf, StockError> {
        Ok(Shelf {
            available: self
                .available
                .checked_sub(quantity)
                .ok_or(StockError::Insufficient)?,
            reserved: self
                .reserved
                .checked_add(quantity)
                .ok_or(StockError::Overflow)?,
        })
    }

    /// Gives a reservation back to sale (its goods never left).
    pub fn release(self, quantity: u32) -> Result<Shelf, StockError> {
        Ok(Shelf {
            available: self
                .available
                .checked_add(quantity)
                .ok_or(StockError::Overflow)?,
            reserved: self
                .reserved
                .checked_sub(quantity)
                .ok_or(StockError::Insufficient)?,
        })
    }

    /// The reserved units leave the shelf (delivered to the customer).
    pub fn commit(self, quantity: u32) -> Result<Shelf, StockError> {
        Ok(Shelf {
            available: self.available,
            reserved: self
                .reserved
                .checked_sub(quantity)
                .ok_or(StockError::Insufficient)?,
        })
    }

    /// Units that had left come back, and are on sale again.
    pub fn restock(self, quantity: u32) -> Result<Shelf, StockError> {
        Ok(Shelf {
            available: self
                .available
                .checked_add(quantity)
                .ok_or(StockError::Overflow)?,
            reserved: self.reserved,
        })
    }

    /// The shelf after `movement` of `quantity` units.
    pub fn moved(self, movement: Movement, quantity: u32) -> Result<Shelf, StockError> {
        match movement {
            Movement::Release => self.release(quantity),
            Movement::Commit => self.commit(quantity),
            Movement::Restock => self.restock(quantity),
        }
    }
}

/// What the shop learns about where an order's goods are. Stock follows the goods,
/// not the money: a refund alone moves none, since refunded goods may be with the
/// customer. Only shipping (and, before any shipment, the order) knows where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoodsNews {
    /// They never left and never will: `order.cancelled` (only a pending, unshipped
    /// order is cancelled) or `shipment.cancelled`.
    CalledOff,
    /// They left the shop: `shipment.delivered`, or the customer's accept
    /// (`product.decrement`) should that come first.
    LeftTheShop,
    /// They came back from the customer: `shipment.returned`.
    CameBack,
}

/// How a shelf changes for one order's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Held units go back on sale.
    Release,
    /// Held units leave the shelf.
    Commit,
    /// Units that had left come back on sale.
    Restock,
}

/// What a piece of news does to an order's reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The reservation enters this state, and the shelf moves (if at all) so.
    Moves(ReservationState, Option<Movement>),
    /// Already accounted for (a redelivery, or news a later state makes moot).
    Ignore,
    /// The news needs the reservation, which `order.created` has not made yet.
    TooEarly,
}

/// The rule of the stock ledger, for an order's reservation (`None`: none yet).
/// Every unit is on sale, held for an order, or with a customer; news moves units
/// between these only as the goods themselves move, and each move happens once.
pub fn on_news(reservation: Option<ReservationState>, news: GoodsNews) -> Verdict {
    use GoodsNews::*;
    use ReservationState::*;
    match (reservation, news) {
        // Called off before order.created reached us (another topic): a released
        // reservation is left behind, so that order.created finds the order decided.
        (None, CalledOff) => Verdict::Moves(Released, None),
        (None, LeftTheShop | CameBack) => Verdict::TooEarly,
        (Some(Held), CalledOff) => Verdict::Moves(Released, Some(Movement::Release)),
        (Some(Held), LeftTheShop) => Verdict::Moves(Committed, Some(Movement::Commit)),
        // Back before we heard they left: they are on the shelf again either way.
        (Some(Held), CameBack) => Verdict::Moves(Returned, Some(Movement::Release)),
        (Some(Committed), CameBack) => Verdict::Moves(Returned, Some(Movement::Restock)),
        // Out with the customer: only their coming back changes that.
        (Some(Committed), CalledOff | LeftTheShop) => Verdict::Ignore,
        (Some(Released | Rejected | Returned), _) => Verdict::Ignore,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    Held,
    /// The goods never left; what was held is on sale again.
    Released,
    /// The goods left the shop with the customer.
    Committed,
    /// The goods came back from the customer and are on sale again.
    Returned,
    /// Stock was short; nothing was held. Kept so a redelivered order gets the same answer.
    Rejected,
}

/// What an order holds, by order id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub items: Vec<StockLine>,
    pub state: ReservationState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub product_id: String,
    pub requested: u32,
    pub available: u32,
}

/// Decides an order's reservation as a whole: every line is held, or none is. Lines
/// naming the same product are added up first, so an order cannot split a product
/// into lines that each fit but together oversell. A product missing from `shelves`
/// (removed from the catalog) has nothing available.
pub fn plan_reservation(
    lines: &[StockLine],
    shelves: &BTreeMap<String, Shelf>,
) -> Result<BTreeMap<String, Shelf>, Vec<Shortage>> {
    let mut wanted: BTreeMap<&str, u32> = BTreeMap::new();
    for line in lines {
        let total = wanted.entry(&line.product_id).or_default();
        *total = total.saturating_add(line.quantity);
    }
    let mut planned = BTreeMap::new();
    let mut shortages = Vec::new();
    for (product_id, requested) in wanted {
        let shelf = shelves.get(product_id).copied();
        match shelf.map(|s| s.reserve(requested)) {
            Some(Ok(next)) => {
                planned.insert(product_id.to_owned(), next);
            }
            _ => shortages.push(Shortage {
                product_id: product_id.to_owned(),
                requested,
                available: shelf.map_or(0, |s| s.available),
            }),
        }
    }
    if shortages.is_empty() {
        Ok(planned)
    } else {
        Err(shortages)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn line(product_id: &str, quantity: u32) -> StockLine {
        StockLine {
            product_id: product_id.into(),
            quantity,
        }
    }

    fn shelves(entries: &[(&str, u32)]) -> BTreeMap<String, Shelf> {
        entries
            .iter()
            .map(|(id, available)| {
                (
                    id.to_string(),
                    Shelf {
                        available: *available,
                        reserved: 0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn an_order_that_fits_holds_every_line() {
        let planned = plan_reservation(
            &[line("a", 2), line("b", 1)],
            &shelves(&[("a", 2), ("b", 5)]),
        )
        .unwrap();
        assert_eq!(
            planned["a"],
            Shelf {
                available: 0,
                reserved: 2
            }
        );
        assert_eq!(
            planned["b"],
            Shelf {
                available: 4,
                reserved: 1
            }
        );
    }

    #[test]
    fn one_short_line_rejects_the_whole_order_and_names_every_shortage() {
        let shortages = plan_reservation(
            &[line("a", 1), line("b", 3), line("gone", 1)],
            &shelves(&[("a", 5), ("b", 2)]),
        )
        .unwrap_err();
        assert_eq!(
            shortages,
            [
                Shortage {
                    product_id: "b".into(),
                    requested: 3,
                    available: 2
                },
                Shortage {
                    product_id: "gone".into(),
                    requested: 1,
                    available: 0
                },
            ]
        );
    }

    #[test]
    fn lines_of_the_same_product_are_added_up_before_checking() {
        let result = plan_reservation(&[line("a", 2), line("a", 2)], &shelves(&[("a", 3)]));
        assert_eq!(result.unwrap_err()[0].requested, 4);
    }

    #[test]
    fn releasing_or_committing_more_than_is_reserved_is_refused() {
        let shelf = Shelf {
            available: 1,
            reserved: 2,
        };
        assert_eq!(shelf.release(3), Err(StockError::Insufficient));
        assert_eq!(shelf.commit(3), Err(StockError::Insufficient));
        assert_eq!(
            shelf.commit(2).unwrap(),
            Shelf {
                available: 1,
                reserved: 0
            }
        );
    }

    /// What can happen to an order's goods, as the news product hears of it (a refund
    /// is no news about goods, so it is not here: wherever it falls, it moves nothing),
    /// and whether the goods end with the customer.
    const STORIES: &[(&[GoodsNews], bool)] = {
        use GoodsNews::*;
        &[
            // Cancelled while pending.
            (&[CalledOff], false),
            // Paid, then refunded before delivery: the shipment is called off.
            (&[CalledOff, CalledOff], false),
            // Delivered and accepted (shipment.delivered, product.decrement).
            (&[LeftTheShop, LeftTheShop], true),
            // Delivered, then refunded without a return.
            (&[LeftTheShop], true),
            // Delivered, returned, refunded.
            (&[LeftTheShop, CameBack], false),
        ]
    };

    #[test]
    fn only_goods_that_came_back_are_restocked() {
        use GoodsNews::*;
        use ReservationState::*;
        assert_eq!(
            on_news(Some(Committed), CalledOff),
            Verdict::Ignore,
            "a delivered order's units stay with the customer"
        );
        assert_eq!(
            on_news(Some(Committed), CameBack),
            Verdict::Moves(Returned, Some(Movement::Restock))
        );
        assert_eq!(on_news(Some(Returned), CameBack), Verdict::Ignore);
        assert_eq!(on_news(None, LeftTheShop), Verdict::TooEarly);
        assert_eq!(on_news(None, CalledOff), Verdict::Moves(Released, None));
    }

    proptest! {
        /// Serving any sequence of orders against one shelf never sells more than it
        /// had, and every unit is either still available, reserved, or committed.
        #[test]
        fn no_sequence_of_orders_oversells(
            start in 0u32..50,
            orders in proptest::collection::vec((1u32..10, 0u8..3), 0..40)
        ) {
            let mut shelf = Shelf { available: start, reserved: 0 };
            let mut committed = 0u32;
            for (quantity, outcome) in orders {
                let Ok(next) = shelf.reserve(quantity) else {
                    prop_assert!(quantity > shelf.available);
                    continue;
                };
                shelf = match outcome {
                    0 => next.release(quantity).unwrap(),
                    1 => { committed += quantity; next.commit(quantity).unwrap() }
                    _ => next,
                };
                prop_assert_eq!(shelf.available + shelf.reserved + committed, start);
            }
        }

        /// The stock ledger over any interleaving of the news of several orders, each
        /// piece of news possibly delivered twice: at every step every unit received is
        /// on sale, held, or with a customer; at the end, exactly the units of orders
        /// whose goods ended with their customer are gone, and nothing is held.
        #[test]
        fn sold_plus_held_plus_available_is_always_the_stock_received(
            orders in proptest::collection::vec((1u32..6, 0usize..STORIES.len()), 1..6),
            spare in 0u32..10,
            shuffle in proptest::collection::vec(any::<u32>(), 0..60),
            twice in proptest::collection::vec(any::<bool>(), 0..60),
        ) {
            let received: u32 = orders.iter().map(|(q, _)| q).sum::<u32>() + spare;
            // Every piece of news of every order, `None` for order.created.
            let mut queue: Vec<(usize, Option<GoodsNews>)> = Vec::new();
            for (i, (_, story)) in orders.iter().enumerate() {
                queue.push((i, None));
                queue.extend(STORIES[*story].0.iter().map(|n| (i, Some(*n))));
            }
            // Any order across topics and orders, with redeliveries.
            for (i, key) in shuffle.iter().enumerate() {
                let len = queue.len();
                queue.swap(i % len, *key as usize % len);
            }
            for (i, again) in twice.iter().enumerate() {
                if *again && i < queue.len() {
                    queue.push(queue[i]);
                }
            }

            let mut shelf = Shelf { available: received, reserved: 0 };
            let mut states: Vec<Option<ReservationState>> = vec![None; orders.len()];
            let mut steps = 0;
            while let Some((i, news)) = (!queue.is_empty()).then(|| queue.remove(0)) {
                steps += 1;
                prop_assert!(steps < 10_000, "the news never settles");
                let quantity = orders[i].0;
                match news {
                    None if states[i].is_none() => {
                        shelf = shelf.reserve(quantity).unwrap();
                        states[i] = Some(ReservationState::Held);
                    }
                    None => {} // decided before: a redelivery, or after a call-off
                    Some(news) => match on_news(states[i], news) {
                        Verdict::Moves(state, movement) => {
                            if let Some(movement) = movement {
                                shelf = shelf.moved(movement, quantity).unwrap();
                            }
                            states[i] = Some(state);
                        }
                        Verdict::Ignore => {}
                        // The bus retries it later.
                        Verdict::TooEarly => queue.push((i, Some(news))),
                    },
                }
                let units = |wanted: ReservationState| -> u32 {
                    states.iter().zip(&orders)
                        .filter(|(s, _)| **s == Some(wanted))
                        .map(|(_, (q, _))| q)
                        .sum()
                };
                let (held, sold) = (units(ReservationState::Held), units(ReservationState::Committed));
                prop_assert_eq!(shelf.reserved, held);
                prop_assert_eq!(shelf.available + held + sold, received);
            }
            let with_customers: u32 = orders.iter()
                .filter(|(_, story)| STORIES[*story].1)
                .map(|(q, _)| q)
                .sum();
            prop_assert_eq!(shelf, Shelf { available: received - with_customers, reserved: 0 });
        }

        #[test]
        fn a_plan_either_holds_exactly_the_order_or_changes_nothing(
            available in proptest::collection::vec(0u32..20, 1..5),
            wanted in proptest::collection::vec((0usize..5, 1u32..10), 1..6)
        ) {
            let shelves: BTreeMap<String, Shelf> = available.iter().enumerate()
                .map(|(i, a)| (format!("p{i}"), Shelf { available: *a, reserved: 0 }))
                .collect();
            let lines: Vec<StockLine> = wanted.iter()
                .map(|(i, q)| StockLine { product_id: format!("p{i}"), quantity: *q })
                .collect();
            match plan_reservation(&lines, &shelves) {
                Ok(planned) => {
                    let held: u32 = planned.values().map(|s| s.reserved).sum();
                    let asked: u32 = lines.iter().map(|l| l.quantity).sum();
                    prop_assert_eq!(held, asked);
                }
                Err(shortages) => prop_assert!(!shortages.is_empty()),
            }
        }
    }
}
