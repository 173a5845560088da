use doc_store::{Collection, CollectionSpec};
use event_contracts::Role;
use serde::{Deserialize, Serialize};

/// A user's profile; the id is the user id auth assigned at registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub shipping_address: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

pub const PROFILES: Collection<Profile> = Collection::new("profiles");

pub const COLLECTIONS: &[CollectionSpec] = &[CollectionSpec {
    name: "profiles",
    unique: &[],
    indexed: &["email"],
}];
