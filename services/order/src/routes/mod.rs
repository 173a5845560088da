use std::sync::Arc;

use axum::extract::FromRef;
use service_kit::{Api, OutboxState, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

use crate::metrics::OrderMetrics;

mod orders;

/// What the order routes share: the outbox and verifier every stateful service's
/// routes have, and the metrics a customer's action moves.
#[derive(Clone, FromRef)]
pub struct OrderState {
    pub api: OutboxState,
    pub metrics: OrderMetrics,
}

impl FromRef<OrderState> for Arc<TokenVerifier> {
    fn from_ref(state: &OrderState) -> Self {
        state.api.verifier.clone()
    }
}

const DOC: ApiDoc = ApiDoc {
    title: "order-service",
    description: "Orders and their lifecycle: pending, paid, awaiting_shipment, delivered, \
                  completed; return_requested, returned, refunded; cancelled.",
    tag: ("orders", "A customer's orders; admins see every order"),
};

pub fn api(state: OrderState) -> Api {
    DOC.api(
        state,
        [
            routes!(orders::list),
            routes!(orders::get_one),
            routes!(orders::cancel),
            routes!(orders::accept),
            routes!(orders::request_return),
        ],
    )
}
