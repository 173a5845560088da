use axum::{Json, extract::State};
use serde::Serialize;
use service_kit::token::JwkSet;
use utoipa::ToSchema;

use crate::state::AuthState;

/// The JSON Web Key Set document (RFC 7517).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct Jwks {
    /// Ed25519 public keys (`kty` OKP, `crv` Ed25519, `alg` EdDSA) by `kid`.
    #[schema(value_type = Vec<Object>)]
    keys: Vec<serde_json::Value>,
}

/// The public keys access tokens are signed with; services verify tokens against them.
#[utoipa::path(
    get,
    path = "/api/v1/auth/jwks",
    responses((status = 200, description = "Signing keys", body = Jwks))
)]
pub async fn jwks(State(state): State<AuthState>) -> Json<JwkSet> {
    Json(state.signer.jwks())
}
