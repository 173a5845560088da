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

    /// Gives a reservation back to sale (order cancelled or refunded).
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

    /// The reserved units leave the shelf for good (order completed).
    pub fn commit(self, quantity: u32) -> Result<Shelf, StockError> {
        Ok(Shelf {
            available: self.available,
            reserved: self
                .reserved
                .checked_sub(quantity)
                .ok_or(StockError::Insufficient)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    Held,
    Released,
    Committed,
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
