use std::sync::Arc;

use axum::extract::FromRef;
use event_bus::Outbox;
use service_kit::{Api, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

mod admin;
mod me;

/// What the user routes share: the outbox (and through it the store) and the verifier.
#[derive(Clone, FromRef)]
pub struct UserState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

const DOC: ApiDoc = ApiDoc {
    title: "user-service",
    description: "Profiles of registered users; admins inspect and delete accounts.",
    tag: ("users", "Profiles and account administration"),
};

pub fn api(state: UserState) -> Api {
    let routes = DOC
        .routes()
        .routes(routes!(me::get_me, me::update_me))
        .routes(routes!(me::my_products))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::get_user, admin::delete_user));
    DOC.api(routes.with_state(state))
}

/// A refused profile text is a 422 naming its field.
impl From<crate::domain::ProfileTextError> for service_kit::ApiError {
    fn from(e: crate::domain::ProfileTextError) -> Self {
        service_kit::ApiError::invalid(e.field(), e.to_string())
    }
}
