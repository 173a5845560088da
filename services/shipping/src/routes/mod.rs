use std::sync::Arc;

use axum::extract::FromRef;
use event_bus::Outbox;
use service_kit::{Api, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

mod shipments;

/// What the shipping routes share: the outbox (and through it the store) and the verifier.
#[derive(Clone, FromRef)]
pub struct ShippingState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

const DOC: ApiDoc = ApiDoc {
    title: "shipping-service",
    description: "One shipment per order: customers follow theirs; admins record deliveries and returns.",
    tag: ("shipments", "Shipments of orders, their status and history"),
};

pub fn api(state: ShippingState) -> Api {
    let routes = DOC
        .routes()
        .routes(routes!(shipments::list_shipments))
        .routes(routes!(shipments::get_shipment))
        .routes(routes!(shipments::deliver_shipment))
        .routes(routes!(shipments::return_shipment));
    DOC.api(routes.with_state(state))
}
