//! The auth service's collections and the shape of what it stores in them.

use doc_store::{Collection, CollectionSpec};
use event_contracts::Role;
use serde::{Deserialize, Serialize};

/// Login credentials; the id is the user id every other service knows the account by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshState {
    Active,
    /// Exchanged for a new token; presenting it again means it was stolen.
    Rotated,
    Revoked,
}

/// One refresh token of a login session; every rotation of a session shares `family_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    pub user_id: String,
    pub family_id: String,
    pub secret_sha256: String,
    pub expires_at: i64,
    pub state: RefreshState,
}

/// The Ed25519 seed access tokens are signed with; the id is the JWT `kid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKey {
    pub seed: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

pub const CREDENTIALS: Collection<Credential> = Collection::new("credentials");
pub const REFRESH_TOKENS: Collection<RefreshToken> = Collection::new("refresh_tokens");
pub const SIGNING_KEYS: Collection<SigningKey> = Collection::new("signing_keys");

pub const COLLECTIONS: &[CollectionSpec] = &[
    CREDENTIALS.spec(&["email"], &[]),
    // Revoking a user's tokens, and a family's on reuse.
    REFRESH_TOKENS.spec(&[], &[&["user_id"], &["family_id"]]),
    SIGNING_KEYS.spec(&[], &[]),
];
