pub use money::Money;
use serde::{Deserialize, Serialize};

/// One line of a cart or order. Name and price are copied in at checkout so
/// later catalogue changes do not alter what the customer agreed to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub product_id: String,
    pub name: String,
    pub unit_price: Money,
    /// At least 1.
    pub quantity: u32,
}

/// A quantity of one product, for stock movements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLine {
    pub product_id: String,
    /// At least 1.
    pub quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Admin,
}
