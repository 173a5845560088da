//! The cart service's collections, the shape of what it stores in them, and the writes
//! that keep a cart and its reverse index in step.
//!
//! `cart_products` is a reverse index (product -> carts holding it) so `product.removed`
//! finds the affected carts with one equality query on an indexed field, instead of
//! reading every cart: the store's equality filter compares a whole field, so it cannot
//! ask "carts whose lines contain this product" directly. Each entry is written in the
//! same batch as the cart change that adds or drops the line, so the index never drifts
//! from the carts.

use std::collections::{BTreeSet, HashMap};

use doc_store::{Collection, CollectionSpec, DocumentStore, StoreError, Versioned, Write};
use serde::{Deserialize, Serialize};

use crate::domain::{Cart, Catalog, Listing, SnapshotStamp};

/// A user's cart; the id is the user id, so each user has exactly one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CartDoc {
    #[serde(flatten)]
    pub cart: Cart,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

impl CartDoc {
    pub fn new(cart: Cart) -> Self {
        Self {
            cart,
            updated_at: time::OffsetDateTime::now_utc(),
        }
    }
}

/// The cart service's copy of one catalog product, from the product events; the id is
/// the product id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// `None` once the product was removed. The entry stays as a tombstone so that a
    /// `product.created` or `product.updated` arriving late (on another topic) cannot
    /// bring the product back.
    pub product: Option<CatalogProduct>,
    /// Which snapshot this is; only a newer one replaces it.
    pub stamp: SnapshotStamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogProduct {
    pub name: String,
    pub owner_id: String,
    pub price: event_contracts::Money,
}

impl CatalogProduct {
    /// What the cart keeps of a product from its `product.created` or `product.updated`.
    pub fn new(name: String, owner_id: String, price: event_contracts::Money) -> Self {
        Self {
            name,
            owner_id,
            price,
        }
    }
}

/// "The cart of `user_id` holds `product_id`". Entries are inserted and deleted, never
/// updated, so every stored entry is at version 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CartProduct {
    pub product_id: String,
    pub user_id: String,
}

pub const CARTS: Collection<CartDoc> = Collection::new("carts");
pub const CATALOG: Collection<CatalogEntry> = Collection::new("catalog");
pub const CART_PRODUCTS: Collection<CartProduct> = Collection::new("cart_products");

pub const COLLECTIONS: &[CollectionSpec] = &[
    CARTS.spec(&[], &[]),
    CATALOG.spec(&[], &[]),
    // The carts holding a product, when it is removed.
    CART_PRODUCTS.spec(&[], &[&["product_id"]]),
];

/// The index entry's id: a JSON pair, so no product or user id can make two pairs
/// collide the way a plain separator could.
pub fn cart_product_id(product_id: &str, user_id: &str) -> String {
    serde_json::to_string(&[product_id, user_id]).expect("a pair of strings serialises")
}

/// The writes that replace the cart `current` (or create it) with `next`, index
/// included. The cart write is version-guarded, so the batch fails if the cart changed
/// since it was read.
pub fn save_cart(
    user_id: &str,
    current: Option<&Versioned<CartDoc>>,
    next: &CartDoc,
) -> Vec<Write> {
    let before: BTreeSet<&str> = current
        .map(|c| c.value.cart.product_ids().collect())
        .unwrap_or_default();
    let after: BTreeSet<&str> = next.cart.product_ids().collect();
    let mut writes = vec![match current {
        Some(current) => CARTS.update(current, next),
        None => CARTS.insert(user_id, next),
    }];
    writes.extend(after.difference(&before).map(|product_id| {
        CART_PRODUCTS.insert(
            cart_product_id(product_id, user_id),
            &CartProduct {
                product_id: (*product_id).to_owned(),
                user_id: user_id.to_owned(),
            },
        )
    }));
    writes.extend(
        before
            .difference(&after)
            .map(|product_id| unindex(product_id, user_id)),
    );
    writes
}

/// The writes that delete a cart and its index entries.
pub fn delete_cart(current: &Versioned<CartDoc>) -> Vec<Write> {
    let mut writes = vec![CARTS.delete(current)];
    writes.extend(
        current
            .value
            .cart
            .product_ids()
            .map(|product_id| unindex(product_id, &current.id)),
    );
    writes
}

/// Deletes an index entry; guarded by version 1, the only version an entry has.
pub fn unindex(product_id: &str, user_id: &str) -> Write {
    Write::Delete {
        collection: CART_PRODUCTS.name().to_owned(),
        id: cart_product_id(product_id, user_id),
        expected_version: 1,
    }
}

/// The current listings of the given products; removed and unknown ones are absent.
pub async fn listings<'a>(
    store: &dyn DocumentStore,
    product_ids: impl IntoIterator<Item = &'a str>,
) -> Result<Catalog, StoreError> {
    let mut catalog = HashMap::new();
    for product_id in product_ids {
        if catalog.contains_key(product_id) {
            continue;
        }
        let Some(entry) = CATALOG.get(store, product_id).await? else {
            continue;
        };
        let Some(product) = entry.value.product else {
            continue;
        };
        let unit_price = product.price;
        catalog.insert(
            entry.id,
            Listing {
                name: product.name,
                unit_price,
            },
        );
    }
    Ok(catalog)
}

/// Two writers that both found a document missing and both inserted it raced just like
/// two version-guarded updates; reporting it as a version conflict lets
/// `retry_on_conflict` re-read and try again. Duplicates of processed-event markers are
/// left alone: `apply_once` reads them as "already applied".
pub fn as_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Duplicate { collection, field }
            if collection != event_bus::PROCESSED_EVENTS =>
        {
            StoreError::VersionConflict {
                collection,
                id: format!("(duplicate {field})"),
            }
        }
        other => other,
    }
}
