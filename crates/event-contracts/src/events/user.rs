//! Produced by the user service.

use serde::{Deserialize, Serialize};

use crate::Role;

/// `user.registered`: an account was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: String,
    pub email: String,
    pub role: Role,
}
impl_event! { UserRegistered, "user.registered", version = 1, key = user_id }

/// `user.deleted`: an account was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeleted {
    pub user_id: String,
}
impl_event! { UserDeleted, "user.deleted", version = 1, key = user_id }
