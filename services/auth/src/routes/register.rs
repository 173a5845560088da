use axum::{Json, extract::State, http::StatusCode};
use event_contracts::Role;
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, ApiJson, CorrelationId, ErrorBody,
    openapi::{MalformedJson, RoleSchema},
};
use utoipa::ToSchema;

use crate::{
    accounts,
    domain::{Email, Password},
    state::AuthState,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8 to 128 characters.
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

/// Creates a customer account.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = Account),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "Invalid email or password", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn register(
    State(state): State<AuthState>,
    CorrelationId(correlation): CorrelationId,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let email = Email::parse(&request.email).map_err(|e| ApiError::invalid("email", e))?;
    let password =
        Password::parse(&request.password).map_err(|e| ApiError::invalid("password", e))?;
    let account = accounts::create(&state, email, password, Role::Customer, &correlation)
        .await
        .map_err(|e| {
            if e.code() == service_kit::ErrorCode::Conflict {
                ApiError::conflict("an account with this email already exists")
                    .with_details(serde_json::json!({ "field": "email" }))
            } else {
                e
            }
        })?;
    Ok((
        StatusCode::CREATED,
        Json(Account {
            id: account.id,
            email: account.email.to_string(),
            role: account.role,
        }),
    ))
}
