use std::sync::Arc;

use axum::Router;
use doc_store::DocumentStore;
use service_kit::{ErrorBody, openapi::BearerAuth};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

mod notifications;

/// What the notification routes share: the store (read only) and the token verifier.
#[derive(Clone)]
pub struct NotificationState {
    pub store: Arc<dyn DocumentStore>,
    pub verifier: Arc<service_kit::TokenVerifier>,
}

impl axum::extract::FromRef<NotificationState> for Arc<service_kit::TokenVerifier> {
    fn from_ref(state: &NotificationState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "notification-service",
        version = "1",
        description = "In-app notifications about customers' orders, payments and shipments."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags((name = "notifications", description = "The caller's own notifications"))
)]
struct ApiDoc;

pub fn router(state: NotificationState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(notifications::list_notifications))
        .with_state(state)
        .split_for_parts()
}
