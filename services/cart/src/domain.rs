//! The cart's rules, without I/O: what a cart may hold, how lines are added, merged,
//! changed and removed, and how a cart is priced from the catalog with exact,
//! overflow-checked money. Property tests live here.

use std::collections::HashMap;

use money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// The most of one product a cart takes. Larger orders are not a cart's business, and
/// the bound keeps `price × quantity` far from overflowing for any sane price.
pub const MAX_QUANTITY: u32 = 1000;
/// The most distinct products in one cart, so a cart document stays small.
pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("quantity must be between 1 and {MAX_QUANTITY}, got {0}")]
    QuantityOutOfRange(u32),
    #[error(
        "at most {MAX_QUANTITY} of one product fit in a cart; it already holds {held} of {product_id}"
    )]
    TooManyOfOne { product_id: String, held: u32 },
    #[error("a cart holds at most {MAX_LINES} different products")]
    Full,
    #[error("product {0} is not in the cart")]
    NotInCart(String),
}

/// How many of one product a line holds: 1 to [`MAX_QUANTITY`], so a line can never be
/// empty or negative; removing a product is a separate operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub fn parse(n: u32) -> Result<Self, CartError> {
        if (1..=MAX_QUANTITY).contains(&n) {
            Ok(Self(n))
        } else {
            Err(CartError::QuantityOutOfRange(n))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = CartError;
    fn try_from(n: u32) -> Result<Self, CartError> {
        Self::parse(n)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

/// One product in the cart. Only the product and how many: names and prices are looked
/// up when the cart is shown or checked out, so they are always the current ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: String,
    pub quantity: Quantity,
}

/// A user's cart: at most one line per product, in the order products were first added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    lines: Vec<CartLine>,
}

impl Cart {
    pub fn contains(&self, product_id: &str) -> bool {
        self.lines.iter().any(|l| l.product_id == product_id)
    }

    pub fn product_ids(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|l| l.product_id.as_str())
    }

    /// Puts `quantity` more of the product in the cart: a product already there gets
    /// its quantity increased rather than a second line.
    pub fn add(&mut self, product_id: &str, quantity: Quantity) -> Result<(), CartError> {
        if let Some(line) = self.line_mut(product_id) {
            // Both are at most MAX_QUANTITY, so the sum cannot overflow a u32.
            let merged = line.quantity.0 + quantity.0;
            if merged > MAX_QUANTITY {
                return Err(CartError::TooManyOfOne {
                    product_id: product_id.to_owned(),
                    held: line.quantity.0,
                });
            }
            line.quantity = Quantity(merged);
            return Ok(());
        }
        if self.lines.len() >= MAX_LINES {
            return Err(CartError::Full);
        }
        self.lines.push(CartLine {
            product_id: product_id.to_owned(),
            quantity,
        });
        Ok(())
    }

    /// Sets the quantity of a product already in the cart.
    pub fn set(&mut self, product_id: &str, quantity: Quantity) -> Result<(), CartError> {
        let line = self
            .line_mut(product_id)
            .ok_or_else(|| CartError::NotInCart(product_id.to_owned()))?;
        line.quantity = quantity;
        Ok(())
    }

    pub fn remove(&mut self, product_id: &str) -> Result<CartLine, CartError> {
        let at = self
            .lines
            .iter()
            .position(|l| l.product_id == product_id)
            .ok_or_else(|| CartError::NotInCart(product_id.to_owned()))?;
        Ok(self.lines.remove(at))
    }

    /// Drops the lines whose product `keep` refuses (products that left the catalog);
    /// returns what was dropped.
    pub fn retain_products(&mut self, keep: impl Fn(&str) -> bool) -> Vec<CartLine> {
        let (kept, dropped) = std::mem::take(&mut self.lines)
            .into_iter()
            .partition(|l| keep(&l.product_id));
        self.lines = kept;
        dropped
    }

    fn line_mut(&mut self, product_id: &str) -> Option<&mut CartLine> {
        self.lines.iter_mut().find(|l| l.product_id == product_id)
    }
}

/// What the catalog says about a product now: the name and price a line is shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub name: String,
    pub unit_price: Money,
}

/// The listings of the products a cart refers to, by product id.
pub type Catalog = HashMap<String, Listing>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// A cart is paid in one currency; a product priced in another cannot join it (or,
    /// if its price changed currency after it was added, must leave it).
    #[error("{product_id} is priced in {product}, but the cart is in {cart}")]
    MixedCurrency {
        product_id: String,
        cart: Currency,
        product: Currency,
    },
    #[error("the cart total is too large (at {product_id})")]
    Overflow { product_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub product_id: String,
    pub name: String,
    pub unit_price: Money,
    pub quantity: Quantity,
    pub line_total: Money,
}

/// A cart with current names and prices. `total` is `None` only for a cart with no
/// priced line: an empty cart has no currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PricedCart {
    pub lines: Vec<PricedLine>,
    pub total: Option<Money>,
}

impl PricedCart {
    /// How many units in all, for a cart badge.
    pub fn item_count(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity.get())).sum()
    }
}

/// Prices every line from the catalog. A line whose product is missing from the catalog
/// (it was removed) is left out rather than failing the whole cart. The cart's currency
/// is that of its first priced line; every other line must share it.
pub fn price(cart: &Cart, catalog: &Catalog) -> Result<PricedCart, PricingError> {
    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut total: Option<Money> = None;
    for line in &cart.lines {
        let Some(listing) = catalog.get(&line.product_id) else {
            continue;
        };
        let overflow = || PricingError::Overflow {
            product_id: line.product_id.clone(),
        };
        if let Some(total) = total {
            if total.currency() != listing.unit_price.currency() {
                return Err(PricingError::MixedCurrency {
                    product_id: line.product_id.clone(),
                    cart: total.currency(),
                    product: listing.unit_price.currency(),
                });
            }
        }
        let line_total = listing
            .unit_price
            .times(line.quantity.get())
            .map_err(|_| overflow())?;
        total = Some(match total {
            None => line_total,
            Some(sum) => sum.checked_add(line_total).map_err(|_| overflow())?,
        });
        lines.push(PricedLine {
            product_id: line.product_id.clone(),
            name: listing.name.clone(),
            unit_price: listing.unit_price,
            quantity: line.quantity,
            line_total,
        });
    }
    Ok(PricedCart { lines, total })
}

/// Where a catalog snapshot sits in time: when the product service took it, then the id
/// of the event that carried it (UUID v7, time-ordered) to break ties. Product events
/// travel on three topics, and order holds only within one topic, so a
/// `product.updated` can arrive after a newer `product.removed` or before the
/// `product.created` it follows; comparing stamps keeps the newest snapshot whatever
/// the arrival order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SnapshotStamp {
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: time::OffsetDateTime,
    pub event_id: String,
}

impl SnapshotStamp {
    /// The stamp of a snapshot read from the product service rather than taken from an
    /// event: older than any event's, so that every event about the product replaces it.
    pub fn read_through() -> Self {
        Self {
            occurred_at: time::OffsetDateTime::UNIX_EPOCH,
            event_id: String::new(),
        }
    }

    /// Whether a snapshot with this stamp replaces one stamped `current`. A redelivered
    /// event has an equal stamp and replaces nothing.
    pub fn supersedes(&self, current: &SnapshotStamp) -> bool {
        self > current
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn q(n: u32) -> Quantity {
        Quantity::parse(n).unwrap()
    }

    fn money(minor: i64, currency: &str) -> Money {
        Money::new(minor, Currency::parse(currency).unwrap()).unwrap()
    }

    fn listing(name: &str, minor: i64, currency: &str) -> Listing {
        Listing {
            name: name.into(),
            unit_price: money(minor, currency),
        }
    }

    fn catalog(entries: &[(&str, i64, &str)]) -> Catalog {
        entries
            .iter()
            .map(|(id, minor, cur)| (id.to_string(), listing(&format!("name {id}"), *minor, cur)))
            .collect()
    }

    #[test]
    fn a_quantity_is_between_one_and_a_thousand() {
        assert!(Quantity::parse(0).is_err());
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert_eq!(Quantity::parse(MAX_QUANTITY).unwrap().get(), MAX_QUANTITY);
        assert_eq!(
            Quantity::parse(MAX_QUANTITY + 1),
            Err(CartError::QuantityOutOfRange(1001))
        );
        assert!(serde_json::from_value::<Quantity>(serde_json::json!(0)).is_err());
    }

    #[test]
    fn adding_a_product_already_in_the_cart_increases_its_quantity() {
        let mut cart = Cart::default();
        cart.add("tea", q(2)).unwrap();
        cart.add("cup", q(1)).unwrap();
        cart.add("tea", q(3)).unwrap();
        assert_eq!(
            cart.lines,
            [
                CartLine {
                    product_id: "tea".into(),
                    quantity: q(5)
                },
                CartLine {
                    product_id: "cup".into(),
                    quantity: q(1)
                },
            ]
        );
    }

    #[test]
    fn merging_past_the_limit_is_refused_and_changes_nothing() {
        let mut cart = Cart::default();
        cart.add("tea", q(999)).unwrap();
        let before = cart.clone();
        assert!(matches!(
            cart.add("tea", q(2)),
            Err(CartError::TooManyOfOne { held: 999, .. })
        ));
        assert_eq!(cart, before);
    }

    #[test]
    fn a_full_cart_takes_more_of_a_product_it_has_but_no_new_product() {
        let mut cart = Cart::default();
        for i in 0..MAX_LINES {
            cart.add(&format!("p{i}"), q(1)).unwrap();
        }
        assert_eq!(cart.add("one-more", q(1)), Err(CartError::Full));
        assert!(cart.add("p0", q(1)).is_ok());
    }

    #[test]
    fn setting_or_removing_a_product_not_in_the_cart_says_so() {
        let mut cart = Cart::default();
        cart.add("tea", q(1)).unwrap();
        assert_eq!(
            cart.set("cup", q(2)),
            Err(CartError::NotInCart("cup".into()))
        );
        assert_eq!(cart.remove("cup"), Err(CartError::NotInCart("cup".into())));
        cart.set("tea", q(7)).unwrap();
        assert_eq!(cart.remove("tea").unwrap().quantity, q(7));
        assert!(cart.lines.is_empty());
    }

    #[test]
    fn a_cart_is_priced_line_by_line_with_a_total() {
        let mut cart = Cart::default();
        cart.add("tea", q(3)).unwrap();
        cart.add("cup", q(2)).unwrap();
        let priced = price(
            &cart,
            &catalog(&[("tea", 250, "EUR"), ("cup", 1000, "EUR")]),
        )
        .unwrap();
        assert_eq!(priced.lines[0].name, "name tea");
        assert_eq!(priced.lines[0].line_total, money(750, "EUR"));
        assert_eq!(priced.lines[1].line_total, money(2000, "EUR"));
        assert_eq!(priced.total, Some(money(2750, "EUR")));
        assert_eq!(priced.item_count(), 5);
    }

    #[test]
    fn an_empty_cart_has_no_total() {
        let priced = price(&Cart::default(), &Catalog::new()).unwrap();
        assert!(priced.lines.is_empty());
        assert_eq!(priced.total, None);
    }

    #[test]
    fn a_product_no_longer_in_the_catalog_is_left_out() {
        let mut cart = Cart::default();
        cart.add("gone", q(1)).unwrap();
        cart.add("tea", q(1)).unwrap();
        let priced = price(&cart, &catalog(&[("tea", 250, "EUR")])).unwrap();
        assert_eq!(priced.lines.len(), 1);
        assert_eq!(priced.total, Some(money(250, "EUR")));
        let dropped = cart.retain_products(|id| id != "gone");
        assert_eq!(dropped[0].product_id, "gone");
        assert_eq!(cart.lines.len(), 1);
    }

    #[test]
    fn a_product_in_another_currency_cannot_be_priced_into_the_cart() {
        let mut cart = Cart::default();
        cart.add("tea", q(1)).unwrap();
        cart.add("dollar-cup", q(1)).unwrap();
        let err = price(
            &cart,
            &catalog(&[("tea", 250, "EUR"), ("dollar-cup", 900, "USD")]),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            PricingError::MixedCurrency { ref product_id, .. } if product_id == "dollar-cup"
        ));
    }

    #[test]
    fn a_total_that_would_overflow_is_an_error_naming_the_line() {
        let mut cart = Cart::default();
        cart.add("gold", q(3)).unwrap();
        let err = price(&cart, &catalog(&[("gold", i64::MAX / 2, "EUR")])).unwrap_err();
        assert_eq!(
            err,
            PricingError::Overflow {
                product_id: "gold".into()
            }
        );
    }

    #[test]
    fn only_a_newer_snapshot_supersedes_the_stored_one() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let stamp = |secs: i64, id: &str| SnapshotStamp {
            occurred_at: at + time::Duration::seconds(secs),
            event_id: id.into(),
        };
        assert!(stamp(2, "a").supersedes(&stamp(1, "b")));
        assert!(!stamp(1, "b").supersedes(&stamp(2, "a")));
        assert!(
            stamp(1, "b").supersedes(&stamp(1, "a")),
            "same instant: id breaks the tie"
        );
        assert!(
            !stamp(1, "a").supersedes(&stamp(1, "a")),
            "a redelivery replaces nothing"
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, u32),
        Set(u8, u32),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6, 0u32..1200).prop_map(|(p, n)| Op::Add(p, n)),
            (0u8..6, 0u32..1200).prop_map(|(p, n)| Op::Set(p, n)),
            (0u8..6).prop_map(Op::Remove),
        ]
    }

    fn cart_of(lines: &[(u8, u32)]) -> Cart {
        let mut cart = Cart::default();
        for (p, n) in lines {
            let _ = cart.add(&format!("p{p}"), q(*n));
        }
        cart
    }

    proptest! {
        #[test]
        fn quantities_never_leave_one_to_a_thousand_whatever_is_done(ops in proptest::collection::vec(op(), 0..40)) {
            let mut cart = Cart::default();
            for op in ops {
                let before = cart.clone();
                let result = match op {
                    Op::Add(p, n) => Quantity::parse(n).and_then(|n| cart.add(&format!("p{p}"), n)),
                    Op::Set(p, n) => Quantity::parse(n).and_then(|n| cart.set(&format!("p{p}"), n)),
                    Op::Remove(p) => cart.remove(&format!("p{p}")).map(|_| ()),
                };
                if result.is_err() {
                    prop_assert_eq!(&cart, &before, "a refused change changes nothing");
                }
                for line in &cart.lines {
                    prop_assert!((1..=MAX_QUANTITY).contains(&line.quantity.get()));
                }
                let mut ids: Vec<_> = cart.product_ids().collect();
                let count = ids.len();
                ids.sort_unstable();
                ids.dedup();
                prop_assert_eq!(ids.len(), count, "one line per product");
            }
        }

        #[test]
        fn adding_then_removing_a_new_product_leaves_the_cart_as_it_was(
            lines in proptest::collection::vec((0u8..6, 1u32..=MAX_QUANTITY), 0..6),
            n in 1u32..=MAX_QUANTITY,
        ) {
            let mut cart = cart_of(&lines);
            let before = cart.clone();
            cart.add("new", q(n)).unwrap();
            cart.remove("new").unwrap();
            prop_assert_eq!(cart, before);
        }

        #[test]
        fn adding_in_two_steps_is_adding_the_sum(a in 1u32..=500, b in 1u32..=500) {
            let mut twice = Cart::default();
            twice.add("tea", q(a)).unwrap();
            twice.add("tea", q(b)).unwrap();
            let mut once = Cart::default();
            once.add("tea", q(a + b)).unwrap();
            prop_assert_eq!(twice, once);
        }

        #[test]
        fn the_total_is_the_exact_sum_of_the_line_totals_or_an_overflow(
            // Everyday prices mostly, and some big enough that the sum may overflow.
            lines in proptest::collection::vec(
                (prop_oneof![4 => 0i64..1_000_000_000, 1 => 0i64..=i64::MAX / 1000], 1u32..=MAX_QUANTITY),
                1..6,
            ),
        ) {
            let mut cart = Cart::default();
            let mut listings = Catalog::new();
            for (i, (minor, n)) in lines.iter().enumerate() {
                let id = format!("p{i}");
                cart.add(&id, q(*n)).unwrap();
                listings.insert(id, listing("x", *minor, "EUR"));
            }
            let exact: i128 = lines.iter().map(|(m, n)| i128::from(*m) * i128::from(*n)).sum();
            match price(&cart, &listings) {
                Ok(priced) => {
                    let sum: i128 = priced.lines.iter().map(|l| i128::from(l.line_total.amount_minor())).sum();
                    let total = priced.total.unwrap();
                    prop_assert_eq!(i128::from(total.amount_minor()), sum);
                    prop_assert_eq!(sum, exact);
                    for line in &priced.lines {
                        prop_assert_eq!(
                            i128::from(line.line_total.amount_minor()),
                            i128::from(line.unit_price.amount_minor()) * i128::from(line.quantity.get())
                        );
                    }
                }
                Err(e) => {
                    let overflowed = matches!(e, PricingError::Overflow { .. });
                    prop_assert!(overflowed, "{:?}", e);
                    prop_assert!(exact > i128::from(i64::MAX));
                }
            }
        }
    }
}
