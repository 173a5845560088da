//! Produced by the product service in answer to `product.decrement`.

use serde::{Deserialize, Serialize};

use crate::StockLine;

/// `stock.reserved`: every line of the order was taken out of stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReserved {
    pub order_id: String,
    pub items: Vec<StockLine>,
}
impl_event! { StockReserved, "stock.reserved", version = 1, key = order_id }

/// `stock.rejected`: the order's stock could not be reserved, and nothing
/// was taken out of stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRejected {
    pub order_id: String,
    /// Human-readable; not meant to be parsed.
    pub reason: String,
    /// May be empty when the rejection is not about quantities (e.g. an
    /// unknown product).
    pub shortages: Vec<Shortage>,
}
impl_event! { StockRejected, "stock.rejected", version = 1, key = order_id }

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub product_id: String,
    pub requested: u32,
    pub available: u32,
}
