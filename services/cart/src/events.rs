//! What the cart service does with other services' events: it keeps its copy of the
//! catalog from the product events, takes removed products out of carts, and drops the
//! cart of a deleted account.

use async_trait::async_trait;
use doc_store::{DocumentStore, Query, SortOrder};
use event_bus::{BoxError, EventHandler, Outbox, PROCESSED_EVENTS, apply_once, retry_on_conflict};
use event_contracts::{
    Envelope, Event, ProductCreated, ProductRemoved, ProductUpdated, UserDeleted,
};

use crate::{
    domain::SnapshotStamp,
    store::{
        CART_PRODUCTS, CARTS, CATALOG, CartDoc, CatalogEntry, CatalogProduct, as_conflict,
        delete_cart, save_cart,
    },
};

pub const TOPICS: &[&str] = &[
    ProductCreated::TYPE,
    ProductUpdated::TYPE,
    ProductRemoved::TYPE,
    UserDeleted::TYPE,
];

/// Carts touched per query while taking a removed product out of carts.
const REMOVAL_PAGE: u64 = 100;

pub struct CartEvents(pub Outbox);

#[async_trait]
impl EventHandler for CartEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            ProductCreated::TYPE => {
                let p: ProductCreated = event.decode()?;
                let product = CatalogProduct::new(p.name, p.owner_id, p.price);
                self.product_listed(event, &p.product_id, product).await
            }
            ProductUpdated::TYPE => {
                let p: ProductUpdated = event.decode()?;
                let product = CatalogProduct::new(p.name, p.owner_id, p.price);
                self.product_listed(event, &p.product_id, product).await
            }
            ProductRemoved::TYPE => self.product_removed(event, event.decode()?).await,
            UserDeleted::TYPE => self.user_deleted(event, event.decode()?).await,
            other => {
                tracing::debug!(event_type = other, "not a cart concern");
                Ok(())
            }
        }
    }
}

fn stamp_of(event: &Envelope) -> SnapshotStamp {
    SnapshotStamp {
        occurred_at: event.occurred_at,
        event_id: event.id.clone(),
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

impl CartEvents {
    fn store(&self) -> &dyn DocumentStore {
        self.0.store()
    }

    /// `product.created` and `product.updated` both carry the whole product, so both
    /// upsert the copy, unless the copy already holds a newer snapshot.
    async fn product_listed(
        &self,
        event: &Envelope,
        product_id: &str,
        product: CatalogProduct,
    ) -> Result<(), BoxError> {
        let stamp = stamp_of(event);
        retry_on_conflict(|| async {
            let current = CATALOG.get(self.store(), product_id).await?;
            let entry = CatalogEntry {
                product: Some(product.clone()),
                stamp: stamp.clone(),
                updated_at: now(),
            };
            let writes = match &current {
                Some(current) if !stamp.supersedes(&current.value.stamp) => vec![],
                Some(current) => vec![CATALOG.update(current, &entry)],
                None => vec![CATALOG.insert(product_id, &entry)],
            };
            apply_once(&self.0, event, writes, vec![])
                .await
                .map_err(as_conflict)?;
            Ok(())
        })
        .await
    }

    /// Marks the product removed, then takes it out of every cart holding it, one cart
    /// per batch so a popular product never makes one huge write. The event counts as
    /// applied only once every cart is done; a crash half-way redoes the rest, and
    /// taking out a product that is already out changes nothing.
    async fn product_removed(
        &self,
        event: &Envelope,
        removed: ProductRemoved,
    ) -> Result<(), BoxError> {
        if self
            .store()
            .get(PROCESSED_EVENTS, &event.id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let product_id = removed.product_id.as_str();
        let stamp = stamp_of(event);
        // The tombstone goes first: from then on no request can add the product.
        let removal_stands = retry_on_conflict(|| async {
            let current = CATALOG.get(self.store(), product_id).await?;
            let tombstone = CatalogEntry {
                product: None,
                stamp: stamp.clone(),
                updated_at: now(),
            };
            let write = match &current {
                // Already a tombstone (this event, redelivered half-way), or a newer
                // snapshot that lists the product again.
                Some(current) if !stamp.supersedes(&current.value.stamp) => {
                    return Ok(current.value.product.is_none());
                }
                Some(current) => CATALOG.update(current, &tombstone),
                None => CATALOG.insert(product_id, &tombstone),
            };
            self.store()
                .commit(vec![write])
                .await
                .map_err(as_conflict)?;
            Ok(true)
        })
        .await?;
        if removal_stands {
            self.take_out_of_every_cart(product_id).await?;
        }
        apply_once(&self.0, event, vec![], vec![]).await?;
        Ok(())
    }

    async fn take_out_of_every_cart(&self, product_id: &str) -> Result<(), BoxError> {
        let holders = Query::eq("product_id", product_id)
            .sort_by("_id", SortOrder::Asc)
            .page(0, REMOVAL_PAGE);
        loop {
            // Each pass deletes the entries it read, so the first page is always the next.
            let page = CART_PRODUCTS.find(self.store(), &holders).await?;
            if page.items.is_empty() {
                return Ok(());
            }
            for holder in page.items {
                retry_on_conflict(|| self.take_out_of_cart(&holder.value.user_id, product_id))
                    .await?;
            }
        }
    }

    async fn take_out_of_cart(&self, user_id: &str, product_id: &str) -> Result<(), BoxError> {
        let store = self.store();
        let writes = match CARTS.get(store, user_id).await? {
            Some(current) if current.value.cart.contains(product_id) => {
                let mut cart = current.value.cart.clone();
                cart.remove(product_id)?;
                save_cart(user_id, Some(&current), &CartDoc::new(cart))
            }
            // The line is already gone (the user removed it meanwhile); an entry left
            // without its line would otherwise be found again and again.
            _ => CART_PRODUCTS
                .get(store, &crate::store::cart_product_id(product_id, user_id))
                .await?
                .map(|entry| vec![CART_PRODUCTS.delete(&entry)])
                .unwrap_or_default(),
        };
        store.commit(writes).await.map_err(as_conflict)?;
        Ok(())
    }

    /// A deleted account's cart goes, with its index entries.
    async fn user_deleted(&self, event: &Envelope, deleted: UserDeleted) -> Result<(), BoxError> {
        retry_on_conflict(|| async {
            let writes = match CARTS.get(self.store(), &deleted.user_id).await? {
                Some(cart) => delete_cart(&cart),
                None => vec![],
            };
            apply_once(&self.0, event, writes, vec![])
                .await
                .map_err(as_conflict)?;
            Ok(())
        })
        .await
    }
}
