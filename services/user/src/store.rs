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

impl Profile {
    /// A new account's profile: what auth said of it (in `user.registered`, or in the
    /// token it signed), nothing the user chose yet.
    pub fn registered(email: String, role: Role) -> Self {
        let now = time::OffsetDateTime::now_utc();
        Self {
            email,
            role,
            display_name: None,
            shipping_address: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// An account an admin deleted, under its user id: kept so that neither a late
/// `user.registered` nor a token still valid until it expires brings its profile back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeletedAccount {
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// What the user service knows of a product someone owns, from product events; the
/// id is the product id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnedProduct {
    pub owner_id: String,
    pub name: String,
    pub price: event_contracts::Money,
    pub stock: u32,
    /// Kept as a tombstone, so an older event arriving late cannot bring it back.
    pub removed: bool,
    /// Id of the event this snapshot came from. Created, updated and removed travel on
    /// different topics and may arrive out of order; event ids are UUID v7 from the one
    /// producer, so the greater id is the later snapshot.
    pub last_event_id: String,
}

pub const PROFILES: Collection<Profile> = Collection::new("profiles");
pub const OWNED_PRODUCTS: Collection<OwnedProduct> = Collection::new("owned_products");
pub const DELETED_ACCOUNTS: Collection<DeletedAccount> = Collection::new("deleted_accounts");

pub const COLLECTIONS: &[CollectionSpec] = &[
    PROFILES.spec(&[], &[&["email"]]),
    // "My products", by name.
    OWNED_PRODUCTS.spec(&[], &[&["owner_id", "name"]]),
    DELETED_ACCOUNTS.spec(&[], &[]),
];
