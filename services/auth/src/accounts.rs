//! Creating accounts and issuing sessions: what the routes and the admin bootstrap share.

use doc_store::Query;
use event_contracts::{Envelope, Role, UserRegistered};
use service_kit::ApiError;

use crate::{
    domain::{Email, Password, RefreshSecret},
    state::AuthState,
    store::{CREDENTIALS, Credential, REFRESH_TOKENS, RefreshState, RefreshToken},
};

pub struct NewAccount {
    pub id: String,
    pub email: Email,
    pub role: Role,
}

/// Hashes the password off the async workers, then stores the credential and its
/// `user.registered` event in one batch. A taken email is a 409 naming the field.
pub async fn create(
    state: &AuthState,
    email: Email,
    password: Password,
    role: Role,
    correlation_id: &str,
) -> Result<NewAccount, ApiError> {
    let hasher = state.hasher.clone();
    let password_hash = tokio::task::spawn_blocking(move || hasher.hash(password.expose()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let id = uuid::Uuid::now_v7().to_string();
    let credential = Credential {
        email: email.to_string(),
        password_hash,
        role,
        created_at: time::OffsetDateTime::now_utc(),
    };
    let event = Envelope::new(
        &UserRegistered {
            user_id: id.clone(),
            email: email.to_string(),
            role,
        },
        correlation_id,
    );
    state
        .outbox
        .commit(vec![CREDENTIALS.insert(&id, &credential)], vec![event])
        .await?;
    Ok(NewAccount { id, email, role })
}

pub async fn find_by_email(
    state: &AuthState,
    email: &Email,
) -> Result<Option<doc_store::Versioned<Credential>>, ApiError> {
    Ok(CREDENTIALS
        .find_one(state.store(), Query::eq("email", email.as_str()))
        .await?)
}

/// An access token and the first refresh token of a new session family, or of an
/// existing one when rotating.
pub struct Session {
    pub access_token: String,
    pub refresh: RefreshSecret,
    pub record: RefreshToken,
}

pub fn open_session(
    state: &AuthState,
    user_id: &str,
    credential: &Credential,
    family_id: Option<String>,
) -> Result<Session, ApiError> {
    let access_token = state
        .signer
        .issue(user_id, &credential.email, credential.role)
        .map_err(ApiError::internal)?;
    let refresh = RefreshSecret::generate(uuid::Uuid::now_v7().to_string());
    let expires_at =
        time::OffsetDateTime::now_utc().unix_timestamp() + state.refresh_ttl.as_secs() as i64;
    let record = RefreshToken {
        user_id: user_id.to_owned(),
        family_id: family_id.unwrap_or_else(|| refresh.token_id.clone()),
        secret_sha256: refresh.hash(),
        expires_at,
        state: RefreshState::Active,
    };
    Ok(Session {
        access_token,
        refresh,
        record,
    })
}

/// Revokes every token of a session family (logout, or a stolen token replayed).
pub async fn revoke_family(state: &AuthState, family_id: &str) -> Result<(), ApiError> {
    let family = REFRESH_TOKENS
        .find(state.store(), &Query::eq("family_id", family_id))
        .await?;
    let writes: Vec<_> = family
        .items
        .iter()
        .filter(|t| t.value.state != RefreshState::Revoked)
        .map(|t| {
            let mut revoked = t.value.clone();
            revoked.state = RefreshState::Revoked;
            REFRESH_TOKENS.update(t, &revoked)
        })
        .collect();
    Ok(state.store().commit(writes).await?)
}
