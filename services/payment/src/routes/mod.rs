use std::sync::Arc;

use axum::{Router, extract::FromRef};
use service_kit::{ErrorBody, TokenVerifier, openapi::BearerAuth};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::payments::Payments;

mod payments;

/// What the payment routes share: the payments (store, outbox, provider) and the verifier.
#[derive(Clone)]
pub struct ApiState {
    pub payments: Payments,
    pub verifier: Arc<TokenVerifier>,
}

impl FromRef<ApiState> for Arc<TokenVerifier> {
    fn from_ref(state: &ApiState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "payment-service",
        version = "1",
        description = "One payment per order: customers pay their own, admins see all and refund."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags((name = "payments", description = "Paying for orders, and refunds"))
)]
struct ApiDoc;

pub fn router(state: ApiState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(payments::list_payments))
        .routes(routes!(payments::get_payment))
        .routes(routes!(payments::pay))
        .routes(routes!(payments::refund))
        .with_state(state)
        .split_for_parts()
}
