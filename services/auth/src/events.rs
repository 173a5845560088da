//! What auth does with other services' events.

use async_trait::async_trait;
use doc_store::Query;
use event_bus::{BoxError, EventHandler, apply_once};
use event_contracts::{Envelope, Event, UserDeleted};

use crate::{
    state::AuthState,
    store::{CREDENTIALS, REFRESH_TOKENS},
};

pub const TOPICS: &[&str] = &[UserDeleted::TYPE];

pub struct AuthEvents(pub AuthState);

#[async_trait]
impl EventHandler for AuthEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            UserDeleted::TYPE => self.user_deleted(event, event.decode()?).await,
            other => {
                tracing::debug!(event_type = other, "not an auth concern");
                Ok(())
            }
        }
    }
}

impl AuthEvents {
    /// A deleted account can no longer log in, and its sessions end: the credential
    /// and every refresh token go in one batch.
    async fn user_deleted(&self, event: &Envelope, deleted: UserDeleted) -> Result<(), BoxError> {
        let store = self.0.store();
        let mut writes = Vec::new();
        if let Some(credential) = CREDENTIALS.get(store, &deleted.user_id).await? {
            writes.push(CREDENTIALS.delete(&credential));
        }
        let tokens = REFRESH_TOKENS
            .find(store, &Query::eq("user_id", deleted.user_id.as_str()))
            .await?;
        writes.extend(tokens.items.iter().map(|t| REFRESH_TOKENS.delete(t)));
        apply_once(&self.0.outbox, event, writes, vec![]).await?;
        Ok(())
    }
}
