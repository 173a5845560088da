//! Produced by the product service (catalogue changes).

use serde::{Deserialize, Serialize};

use crate::Money;

/// `product.created`: an admin added a product to the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCreated {
    pub product_id: String,
    /// Admin who owns the product.
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
}
impl_event! { ProductCreated, "product.created", version = 1, key = product_id }

/// `product.updated`: a product changed.
///
/// Carries the whole product after the change rather than a diff, so
/// consumers can upsert their copy without having seen earlier events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUpdated {
    pub product_id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
}
impl_event! { ProductUpdated, "product.updated", version = 1, key = product_id }

/// `product.removed`: a product left the catalogue and can no longer be
/// bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRemoved {
    pub product_id: String,
    pub owner_id: String,
}
impl_event! { ProductRemoved, "product.removed", version = 1, key = product_id }
