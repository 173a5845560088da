//! Turns a service's API router into the full HTTP service: ops routes, error-shaped
//! fallbacks, request ids, tracing, metrics, panic safety and the body limit.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Body,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    ApiError,
    error::{method_not_allowed_fallback, not_found_fallback},
    health::{self, ReadinessCheck},
    metrics::{self, HttpMetrics},
};

/// Request bodies above this get 413, per the public API.
pub const BODY_LIMIT: usize = 1024 * 1024;
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `api` with everything a service answers besides its own routes.
pub(crate) fn service_router(
    api: Router,
    openapi: serde_json::Value,
    registry: Registry,
    checks: Vec<Arc<dyn ReadinessCheck>>,
) -> Router {
    let http_metrics = HttpMetrics::register(&registry).expect("HTTP metrics register once");
    let ops = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz).with_state(Arc::new(checks)))
        .route("/metrics", get(metrics::render).with_state(registry))
        .route(
            "/openapi.json",
            get(move || std::future::ready(Json(openapi.clone()))),
        );
    // The ops routes sit outside the edge layers: an orchestrator's probe is no request
    // to trace, and a /readyz answering 503 while consumers join is no error to log.
    // They keep the error shape for a wrong method and a 500 for a panic.
    let ops = ops
        .method_not_allowed_fallback(method_not_allowed_fallback)
        .layer(catch_panics());
    with_edge_layers(
        api.fallback(not_found_fallback)
            .method_not_allowed_fallback(method_not_allowed_fallback),
    )
    .merge(ops)
    .layer(middleware::from_fn_with_state(http_metrics, metrics::track))
}

/// A panicking handler answers 500 in the error shape instead of dropping the
/// connection.
fn catch_panics() -> CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response> {
    CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
        ApiError::internal("handler panicked").into_response()
    })
}

/// The layers every HTTP edge has, the gateway's included.
pub fn with_edge_layers(router: Router) -> Router {
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(catch_panics())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    uri = %request.uri().path(),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Serves until `shutdown`, then lets in-flight requests finish (up to 10 s).
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    let addr = listener.local_addr().ok();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let drained = async {
        shutdown.cancelled().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    };
    tokio::select! {
        result = server => {
            if let Err(e) = result {
                tracing::error!(?addr, error = %e, "HTTP server failed");
            }
        }
        _ = drained => tracing::warn!(?addr, "in-flight requests cut off after 10 s"),
    }
}
