use std::sync::Arc;

use axum::extract::FromRef;
use event_bus::Outbox;
use service_kit::{Api, OutboxState, Peer, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

mod shipments;

const DOC: ApiDoc = ApiDoc {
    title: "shipping-service",
    description: "One shipment per order: customers follow theirs; admins record deliveries and returns.",
    tag: ("shipments", "Shipments of orders, their status and history"),
};

/// What the shipping routes share: the outbox, the verifier, and the order service,
/// which an admin's step asks before it moves goods.
#[derive(Clone, FromRef)]
pub struct ApiState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
    pub orders: Orders,
}

/// The order service, as the shipping routes read it.
#[derive(Clone)]
pub struct Orders(pub Peer);

impl FromRef<ApiState> for OutboxState {
    fn from_ref(state: &ApiState) -> Self {
        OutboxState {
            outbox: state.outbox.clone(),
            verifier: state.verifier.clone(),
        }
    }
}

pub fn api(state: ApiState) -> Api {
    DOC.api(
        state,
        [
            routes!(shipments::list_shipments),
            routes!(shipments::get_shipment),
            routes!(shipments::deliver_shipment),
            routes!(shipments::return_shipment),
        ],
    )
}
