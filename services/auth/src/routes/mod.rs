use service_kit::{Api, openapi::ApiDoc};
use utoipa_axum::routes;

use crate::state::AuthState;

mod jwks;
mod register;
mod session;

const DOC: ApiDoc = ApiDoc {
    title: "auth-service",
    description: "Accounts, sessions and the public keys access tokens are checked with.",
    tag: ("auth", "Registration, login and token rotation"),
};

pub fn api(state: AuthState) -> Api {
    let routes = DOC
        .routes()
        .routes(routes!(register::register))
        .routes(routes!(session::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(jwks::jwks));
    DOC.api(routes.with_state(state))
}
