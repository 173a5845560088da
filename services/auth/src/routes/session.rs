use axum::{Json, extract::State, http::StatusCode};
use doc_store::Versioned;
use serde::{Deserialize, Serialize};
use service_kit::{ApiError, ApiJson, ErrorBody, openapi::MalformedJson};
use utoipa::ToSchema;

use crate::{
    accounts::{self, Session},
    domain::{Email, RefreshSecret},
    state::AuthState,
    store::{CREDENTIALS, REFRESH_TOKENS, RefreshState, RefreshToken},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Short-lived (15 minutes or less) EdDSA-signed JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single use: exchanging it at /auth/refresh returns a new pair.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

fn wrong_credentials() -> ApiError {
    ApiError::unauthorized("email or password is wrong")
}

fn refused_refresh() -> ApiError {
    ApiError::unauthorized("refresh token is invalid, expired or already used")
}

fn pair(state: &AuthState, session: &Session) -> TokenPair {
    TokenPair {
        access_token: session.access_token.clone(),
        refresh_token: session.refresh.token(),
        token_type: "Bearer".into(),
        expires_in: state.signer.ttl().as_secs(),
    }
}

/// The stored refresh token that `raw` is, in whatever state; refused when it names
/// no token or its secret does not match.
async fn presented(state: &AuthState, raw: &str) -> Result<Versioned<RefreshToken>, ApiError> {
    let presented = RefreshSecret::parse(raw).ok_or_else(refused_refresh)?;
    REFRESH_TOKENS
        .get(state.store(), &presented.token_id)
        .await?
        .filter(|t| t.value.secret_sha256 == presented.hash())
        .ok_or_else(refused_refresh)
}

/// Exchanges email and password for tokens. A wrong password and an unknown email get
/// the same answer, in about the same time.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Email or password is wrong", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn login(
    State(state): State<AuthState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let credential = match Email::parse(&request.email) {
        Ok(email) => accounts::find_by_email(&state, &email).await?,
        Err(_) => None,
    };
    let phc = credential.as_ref().map_or_else(
        || state.dummy_hash.clone(),
        |c| c.value.password_hash.clone(),
    );
    let hasher = state.hasher.clone();
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || hasher.verify(&password, &phc))
        .await
        .map_err(ApiError::internal)?;
    let credential = match credential {
        Some(c) if matches => c,
        _ => return Err(wrong_credentials()),
    };
    let session = accounts::open_session(&state, &credential.id, &credential.value, None)?;
    state
        .store()
        .commit(vec![
            REFRESH_TOKENS.insert(&session.refresh.token_id, &session.record),
        ])
        .await?;
    Ok(Json(pair(&state, &session)))
}

/// Rotates a refresh token: the old one stops working and a new pair is returned.
/// Presenting an already rotated token revokes its whole session, since only a thief
/// or a replay would still hold it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 401, description = "Refresh token refused", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn refresh(
    State(state): State<AuthState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let current = presented(&state, &request.refresh_token).await?;
    match current.value.state {
        RefreshState::Active => {}
        RefreshState::Rotated => {
            tracing::warn!(user_id = %current.value.user_id, "rotated refresh token reused; revoking its session");
            accounts::revoke_family(&state, &current.value.family_id).await?;
            return Err(refused_refresh());
        }
        RefreshState::Revoked => return Err(refused_refresh()),
    }
    if current.value.expires_at <= time::OffsetDateTime::now_utc().unix_timestamp() {
        return Err(refused_refresh());
    }
    // A deleted account's sessions end with it.
    let credential = CREDENTIALS
        .get(state.store(), &current.value.user_id)
        .await?
        .ok_or_else(refused_refresh)?;
    let session = accounts::open_session(
        &state,
        &credential.id,
        &credential.value,
        Some(current.value.family_id.clone()),
    )?;
    let mut rotated = current.value.clone();
    rotated.state = RefreshState::Rotated;
    // Guarded by the version read above: of two concurrent refreshes, one wins.
    state
        .store()
        .commit(vec![
            REFRESH_TOKENS.update(&current, &rotated),
            REFRESH_TOKENS.insert(&session.refresh.token_id, &session.record),
        ])
        .await
        .map_err(|e| match e {
            doc_store::StoreError::VersionConflict { .. } => refused_refresh(),
            other => other.into(),
        })?;
    Ok(Json(pair(&state, &session)))
}

/// Ends the session the refresh token belongs to.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, description = "Refresh token refused", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn logout(
    State(state): State<AuthState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let token = presented(&state, &request.refresh_token).await?;
    accounts::revoke_family(&state, &token.value.family_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
