use std::sync::Arc;

use axum::extract::FromRef;
use event_bus::Outbox;
use service_kit::{Api, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

mod products;

pub use products::ProductView;

/// What the product routes share: the outbox (and through it the store) and the verifier.
#[derive(Clone, FromRef)]
pub struct ProductState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

const DOC: ApiDoc = ApiDoc {
    title: "product-service",
    description: "The catalog: products, prices and stock.",
    tag: ("products", "Catalog; customers may sell their own products"),
};

pub fn api(state: ProductState) -> Api {
    let routes = DOC
        .routes()
        .routes(routes!(products::list, products::create))
        .routes(routes!(
            products::get_one,
            products::update,
            products::remove
        ));
    DOC.api(routes.with_state(state))
}

/// A field that breaks its rule is a 422 naming the field.
impl From<crate::domain::fields::FieldError> for service_kit::ApiError {
    fn from(e: crate::domain::fields::FieldError) -> Self {
        service_kit::ApiError::invalid(e.field(), e.to_string())
    }
}
