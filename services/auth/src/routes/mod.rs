use axum::Router;
use service_kit::ErrorBody;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AuthState;

mod jwks;
mod register;
mod session;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "auth-service",
        version = "1",
        description = "Accounts, sessions and the public keys access tokens are checked with."
    ),
    components(schemas(ErrorBody)),
    tags((name = "auth", description = "Registration, login and token rotation"))
)]
struct ApiDoc;

pub fn router(state: AuthState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(register::register))
        .routes(routes!(session::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(jwks::jwks))
        .with_state(state)
        .split_for_parts()
}
