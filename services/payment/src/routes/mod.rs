use std::sync::Arc;

use axum::extract::FromRef;
use service_kit::{Api, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

use crate::payments::Payments;

mod payments;

/// What the payment routes share: the payments (store, outbox, provider) and the verifier.
#[derive(Clone, FromRef)]
pub struct ApiState {
    pub payments: Payments,
    pub verifier: Arc<TokenVerifier>,
    pub orders: Orders,
}

/// The order service, asked about an order whose events have not reached payment yet.
#[derive(Clone)]
pub struct Orders(pub service_kit::Peer);

const DOC: ApiDoc = ApiDoc {
    title: "payment-service",
    description: "One payment per order: customers pay their own, admins see all and refund.",
    tag: ("payments", "Paying for orders, and refunds"),
};

pub fn api(state: ApiState) -> Api {
    DOC.api(
        state,
        [
            routes!(payments::list_payments),
            routes!(payments::get_payment),
            routes!(payments::pay),
            routes!(payments::refund),
        ],
    )
}
