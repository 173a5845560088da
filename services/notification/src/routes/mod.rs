use std::sync::Arc;

use axum::extract::FromRef;
use doc_store::DocumentStore;
use service_kit::{Api, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

mod notifications;

/// What the notification routes share: the store (read only) and the token verifier.
#[derive(Clone, FromRef)]
pub struct NotificationState {
    pub store: Arc<dyn DocumentStore>,
    pub verifier: Arc<TokenVerifier>,
}

const DOC: ApiDoc = ApiDoc {
    title: "notification-service",
    description: "In-app notifications about customers' orders, payments and shipments.",
    tag: ("notifications", "The caller's own notifications"),
};

pub fn api(state: NotificationState) -> Api {
    DOC.api(state, [routes!(notifications::list_notifications)])
}
