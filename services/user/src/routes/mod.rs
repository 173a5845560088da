use service_kit::{Api, OutboxState, openapi::ApiDoc};
use utoipa_axum::routes;

mod admin;
mod me;

const DOC: ApiDoc = ApiDoc {
    title: "user-service",
    description: "Profiles of registered users; admins inspect and delete accounts.",
    tag: ("users", "Profiles and account administration"),
};

pub fn api(state: OutboxState) -> Api {
    DOC.api(
        state,
        [
            routes!(me::get_me, me::update_me),
            routes!(me::my_products),
            routes!(admin::list_users),
            routes!(admin::get_user, admin::delete_user),
        ],
    )
}

/// A refused profile text is a 422 naming its field.
impl From<crate::domain::ProfileTextError> for service_kit::ApiError {
    fn from(e: crate::domain::ProfileTextError) -> Self {
        service_kit::ApiError::invalid(e.field(), e.to_string())
    }
}
