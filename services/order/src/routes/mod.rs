use std::sync::Arc;

use axum::extract::FromRef;
use event_bus::Outbox;
use service_kit::{Api, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

mod orders;

/// What the order routes share: the outbox (and through it the store) and the verifier.
#[derive(Clone, FromRef)]
pub struct OrderState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

const DOC: ApiDoc = ApiDoc {
    title: "order-service",
    description: "Orders and their lifecycle: pending, paid, awaiting_shipment, delivered, \
                  completed; return_requested, returned, refunded; cancelled.",
    tag: ("orders", "A customer's orders; admins see every order"),
};

pub fn api(state: OrderState) -> Api {
    let routes = DOC
        .routes()
        .routes(routes!(orders::list))
        .routes(routes!(orders::get_one))
        .routes(routes!(orders::cancel))
        .routes(routes!(orders::accept))
        .routes(routes!(orders::request_return));
    DOC.api(routes.with_state(state))
}
