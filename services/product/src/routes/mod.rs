use service_kit::{Api, OutboxState, openapi::ApiDoc};
use utoipa_axum::routes;

mod products;

pub use products::ProductView;

const DOC: ApiDoc = ApiDoc {
    title: "product-service",
    description: "The catalog: products, prices and stock.",
    tag: ("products", "Catalog; customers may sell their own products"),
};

pub fn api(state: OutboxState) -> Api {
    DOC.api(
        state,
        [
            routes!(products::list, products::create),
            routes!(products::get_one, products::update, products::remove),
        ],
    )
}

/// A field that breaks its rule is a 422 naming the field.
impl From<crate::domain::fields::FieldError> for service_kit::ApiError {
    fn from(e: crate::domain::fields::FieldError) -> Self {
        service_kit::ApiError::invalid(e.field(), e.to_string())
    }
}
