//! The first admin, from `SHOP_BOOTSTRAP_ADMIN_EMAIL` / `SHOP_BOOTSTRAP_ADMIN_PASSWORD`:
//! created once, never overwritten, so changing the variables later cannot hijack or
//! reset an existing account.

use event_contracts::Role;
use secrecy::ExposeSecret;
use service_kit::Settings;

use crate::{
    accounts,
    domain::{Email, Password},
    state::AuthState,
};

pub async fn ensure_admin(state: &AuthState, settings: &Settings) -> anyhow::Result<()> {
    let (Some(email), Some(password)) = (
        &settings.bootstrap_admin_email,
        &settings.bootstrap_admin_password,
    ) else {
        return Ok(());
    };
    let email =
        Email::parse(email).map_err(|e| anyhow::anyhow!("SHOP_BOOTSTRAP_ADMIN_EMAIL: {e}"))?;
    let password = Password::parse(password.expose_secret())
        .map_err(|e| anyhow::anyhow!("SHOP_BOOTSTRAP_ADMIN_PASSWORD: {e}"))?;
    if accounts::find_by_email(state, &email).await?.is_some() {
        tracing::info!(%email, "bootstrap admin already exists; left unchanged");
        return Ok(());
    }
    match accounts::create(state, email.clone(), password, Role::Admin, "bootstrap").await {
        Ok(account) => {
            tracing::info!(%email, user_id = %account.id, "bootstrap admin created");
            Ok(())
        }
        // Another auth process created it between our look and our insert.
        Err(e) if e.code() == service_kit::ErrorCode::Conflict => Ok(()),
        Err(e) => Err(anyhow::anyhow!("creating the bootstrap admin: {e}")),
    }
}
