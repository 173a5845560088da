use doc_store::{Collection, CollectionSpec};
use event_contracts::Money;
use serde::{Deserialize, Serialize};

use crate::domain::{Reservation, Shelf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    /// Whoever created it: the customer who owns a personal product, or the admin.
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    #[serde(flatten)]
    pub shelf: Shelf,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

pub const PRODUCTS: Collection<Product> = Collection::new("products");
/// Keyed by order id.
pub const RESERVATIONS: Collection<Reservation> = Collection::new("reservations");

pub const COLLECTIONS: &[CollectionSpec] = &[
    // The catalog is by name; a deleted user's products are found by owner.
    PRODUCTS.spec(&[], &[&["name"], &["owner_id"]]),
    RESERVATIONS.spec(&[], &[]),
];
