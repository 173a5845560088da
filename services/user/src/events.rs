//! What the user service does with other services' events.

use async_trait::async_trait;
use event_bus::{BoxError, EventHandler, Outbox, apply_once};
use event_contracts::{Envelope, Event, UserRegistered};

use crate::store::{PROFILES, Profile};

pub const TOPICS: &[&str] = &[UserRegistered::TYPE];

pub struct UserEvents(pub Outbox);

#[async_trait]
impl EventHandler for UserEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            UserRegistered::TYPE => self.user_registered(event, event.decode()?).await,
            _ => Ok(()),
        }
    }
}

impl UserEvents {
    /// Every registered account gets a profile, once.
    async fn user_registered(
        &self,
        event: &Envelope,
        registered: UserRegistered,
    ) -> Result<(), BoxError> {
        let exists = PROFILES
            .get(self.0.store(), &registered.user_id)
            .await?
            .is_some();
        let mut writes = Vec::new();
        if !exists {
            let now = time::OffsetDateTime::now_utc();
            let profile = Profile {
                email: registered.email,
                role: registered.role,
                display_name: None,
                shipping_address: None,
                created_at: now,
                updated_at: now,
            };
            writes.push(PROFILES.insert(&registered.user_id, &profile));
        }
        apply_once(&self.0, event, writes, vec![]).await?;
        Ok(())
    }
}
