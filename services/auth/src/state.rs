use std::{sync::Arc, time::Duration};

use doc_store::DocumentStore;
use event_bus::Outbox;
use service_kit::TokenSigner;

use crate::domain::PasswordHasher;

#[derive(Clone)]
pub struct AuthState(Arc<Inner>);

pub struct Inner {
    pub outbox: Outbox,
    pub signer: TokenSigner,
    pub hasher: PasswordHasher,
    pub refresh_ttl: Duration,
    /// Checked against when the email is unknown, so a login takes as long whether the
    /// account exists or not and timing does not reveal which emails are registered.
    pub dummy_hash: String,
}

impl AuthState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn store(&self) -> &dyn DocumentStore {
        self.0.outbox.store()
    }
}

impl std::ops::Deref for AuthState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
