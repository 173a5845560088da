//! `/healthz` says the process is up; `/readyz` says its dependencies answer.

use std::sync::Arc;

use async_trait::async_trait;
use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use doc_store::DocumentStore;
use event_bus::EventBus;
use serde_json::json;

#[async_trait]
pub trait ReadinessCheck: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn check(&self) -> Result<(), String>;
}

pub struct StoreReady(pub Arc<dyn DocumentStore>);

#[async_trait]
impl ReadinessCheck for StoreReady {
    fn name(&self) -> &'static str {
        "store"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Ready once every consumer of the service's bus has joined its group, and while none
/// has stopped.
pub struct ConsumersReady(pub Arc<dyn EventBus>);

#[async_trait]
impl ReadinessCheck for ConsumersReady {
    fn name(&self) -> &'static str {
        "consumers"
    }
    async fn check(&self) -> Result<(), String> {
        let waiting = self.0.consumers_waiting();
        if waiting.is_empty() {
            Ok(())
        } else {
            Err(format!("waiting for partitions: {}", waiting.join(", ")))
        }
    }
}

/// Fails once a background task the service needs (a consumer, the outbox relay) has
/// stopped while the service runs.
pub struct TasksAlive(pub crate::runtime::Vital);

#[async_trait]
impl ReadinessCheck for TasksAlive {
    fn name(&self) -> &'static str {
        "tasks"
    }
    async fn check(&self) -> Result<(), String> {
        match self.0.stopped() {
            stopped if stopped.is_empty() => Ok(()),
            stopped => Err(format!("stopped: {}", stopped.join(", "))),
        }
    }
}

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(checks): State<Arc<Vec<Arc<dyn ReadinessCheck>>>>) -> impl IntoResponse {
    let mut failing = serde_json::Map::new();
    for check in checks.iter() {
        if let Err(e) = check.check().await {
            failing.insert(check.name().to_owned(), json!(e));
        }
    }
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "code": "unavailable",
                "message": "not ready",
                "details": failing,
            })),
        )
    }
}
