//! Pure rules of accounts and credentials: no I/O here.

mod email;
mod password;
mod refresh_token;

pub use email::Email;
pub use password::{Password, PasswordHasher};
pub use refresh_token::RefreshSecret;
