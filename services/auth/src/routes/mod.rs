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
    DOC.api(
        state,
        [
            routes!(register::register),
            routes!(session::login),
            routes!(session::refresh),
            routes!(session::logout),
            routes!(jwks::jwks),
        ],
    )
}
