use std::sync::Arc;

use axum::{Router, extract::FromRef};
use event_bus::Outbox;
use service_kit::{ErrorBody, TokenVerifier, openapi::BearerAuth};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

mod products;

pub use products::ProductView;

#[derive(Clone)]
pub struct ProductState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

impl FromRef<ProductState> for Arc<TokenVerifier> {
    fn from_ref(state: &ProductState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "product-service",
        version = "1",
        description = "The catalog: products, prices and stock."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags((name = "products", description = "Catalog; customers may sell their own products"))
)]
struct ApiDoc;

pub fn router(state: ProductState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(products::list, products::create))
        .routes(routes!(
            products::get_one,
            products::update,
            products::remove
        ))
        .with_state(state)
        .split_for_parts()
}
