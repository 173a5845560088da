use std::sync::Arc;

use axum::{Router, extract::FromRef};
use event_bus::Outbox;
use service_kit::{ErrorBody, TokenVerifier, openapi::BearerAuth};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

mod orders;

#[derive(Clone)]
pub struct OrderState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

impl FromRef<OrderState> for Arc<TokenVerifier> {
    fn from_ref(state: &OrderState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "order-service",
        version = "1",
        description = "Orders and their lifecycle: pending, paid, awaiting_shipment, delivered, \
                       completed; return_requested, returned, refunded; cancelled."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags((name = "orders", description = "A customer's orders; admins see every order"))
)]
struct ApiDoc;

pub fn router(state: OrderState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orders::list))
        .routes(routes!(orders::get_one))
        .routes(routes!(orders::cancel))
        .routes(routes!(orders::accept))
        .routes(routes!(orders::request_return))
        .with_state(state)
        .split_for_parts()
}
