use std::sync::Arc;

use axum::Router;
use event_bus::Outbox;
use service_kit::{ErrorBody, openapi::BearerAuth};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

mod shipments;

/// What the shipping routes share: the outbox (and through it the store) and the verifier.
#[derive(Clone)]
pub struct ShippingState {
    pub outbox: Outbox,
    pub verifier: Arc<service_kit::TokenVerifier>,
}

impl axum::extract::FromRef<ShippingState> for Arc<service_kit::TokenVerifier> {
    fn from_ref(state: &ShippingState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shipping-service",
        version = "1",
        description = "One shipment per order: customers follow theirs; admins record deliveries and returns."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags((name = "shipments", description = "Shipments of orders, their status and history"))
)]
struct ApiDoc;

pub fn router(state: ShippingState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(shipments::list_shipments))
        .routes(routes!(shipments::get_shipment))
        .routes(routes!(shipments::deliver_shipment))
        .routes(routes!(shipments::return_shipment))
        .with_state(state)
        .split_for_parts()
}
