use axum::Router;
use event_bus::Outbox;
use service_kit::{ErrorBody, openapi::BearerAuth};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

mod admin;
mod me;

/// What the user routes share: the outbox (and through it the store) and the verifier.
#[derive(Clone)]
pub struct UserState {
    pub outbox: Outbox,
    pub verifier: Arc<service_kit::TokenVerifier>,
}

impl axum::extract::FromRef<UserState> for Arc<service_kit::TokenVerifier> {
    fn from_ref(state: &UserState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "user-service",
        version = "1",
        description = "Profiles of registered users; admins inspect and delete accounts."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags((name = "users", description = "Profiles and account administration"))
)]
struct ApiDoc;

pub fn router(state: UserState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me::get_me, me::update_me))
        .routes(routes!(me::my_products))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::get_user, admin::delete_user))
        .with_state(state)
        .split_for_parts()
}
