//! What the user service does with other services' events.

use async_trait::async_trait;
use event_bus::{BoxError, EventHandler, Outbox, apply_once};
use event_contracts::{
    Envelope, Event, ProductCreated, ProductRemoved, ProductUpdated, UserRegistered,
};

use crate::store::{DELETED_ACCOUNTS, OWNED_PRODUCTS, OwnedProduct, PROFILES, Profile};

pub const TOPICS: &[&str] = &[
    UserRegistered::TYPE,
    ProductCreated::TYPE,
    ProductUpdated::TYPE,
    ProductRemoved::TYPE,
];

pub struct UserEvents(pub Outbox);

#[async_trait]
impl EventHandler for UserEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            UserRegistered::TYPE => self.user_registered(event, event.decode()?).await,
            ProductCreated::TYPE => {
                let p: ProductCreated = event.decode()?;
                let owned = OwnedProduct::listed(event, p.owner_id, p.name, p.price, p.stock);
                self.product_changed(event, &p.product_id, owned).await
            }
            ProductUpdated::TYPE => {
                let p: ProductUpdated = event.decode()?;
                let owned = OwnedProduct::listed(event, p.owner_id, p.name, p.price, p.stock);
                self.product_changed(event, &p.product_id, owned).await
            }
            ProductRemoved::TYPE => {
                let p: ProductRemoved = event.decode()?;
                let tombstone = OwnedProduct {
                    owner_id: p.owner_id,
                    name: String::new(),
                    // XXX: ISO 4217's code for "no currency".
                    price: event_contracts::Money::parse(0, "XXX").expect("XXX is a valid code"),
                    stock: 0,
                    removed: true,
                    last_event_id: event.id.clone(),
                };
                self.product_changed(event, &p.product_id, tombstone).await
            }
            _ => Ok(()),
        }
    }
}

impl OwnedProduct {
    /// The snapshot of a product on sale that `event` (a `product.created` or
    /// `product.updated`) carries.
    fn listed(
        event: &Envelope,
        owner_id: String,
        name: String,
        price: event_contracts::Money,
        stock: u32,
    ) -> Self {
        Self {
            owner_id,
            name,
            price,
            stock,
            removed: false,
            last_event_id: event.id.clone(),
        }
    }
}

impl UserEvents {
    /// Keeps the owner's product list in step with the catalog. The events carry full
    /// snapshots; the newest (by event id) wins whatever order they arrive in.
    async fn product_changed(
        &self,
        event: &Envelope,
        product_id: &str,
        snapshot: OwnedProduct,
    ) -> Result<(), BoxError> {
        event_bus::retry_on_conflict(|| async {
            let current = OWNED_PRODUCTS.get(self.0.store(), product_id).await?;
            let write = match &current {
                None => Some(OWNED_PRODUCTS.insert(product_id, &snapshot)),
                Some(c) if c.value.last_event_id < snapshot.last_event_id => {
                    Some(OWNED_PRODUCTS.update(c, &snapshot))
                }
                Some(_) => None,
            };
            apply_once(&self.0, event, write.into_iter().collect(), vec![]).await?;
            Ok(())
        })
        .await
    }

    /// Every registered account gets a profile, once.
    async fn user_registered(
        &self,
        event: &Envelope,
        registered: UserRegistered,
    ) -> Result<(), BoxError> {
        let store = self.0.store();
        // Made already (by a request with the new account's token), or deleted since.
        let settled = PROFILES.get(store, &registered.user_id).await?.is_some()
            || DELETED_ACCOUNTS
                .get(store, &registered.user_id)
                .await?
                .is_some();
        let mut writes = Vec::new();
        if !settled {
            let profile = Profile::registered(registered.email, registered.role);
            writes.push(PROFILES.insert(&registered.user_id, &profile));
        }
        match apply_once(&self.0, event, writes, vec![]).await {
            Ok(_) => Ok(()),
            // A request made the profile between our look and our insert: the effect.
            Err(e) if e.is_duplicate_in(PROFILES.name()) => {
                apply_once(&self.0, event, vec![], vec![]).await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
