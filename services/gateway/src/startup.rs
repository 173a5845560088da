//! Building the gateway's router and running it until shutdown.

use std::{collections::HashMap, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{FromRef, Request, State},
    routing::any,
};
use prometheus::Registry;
use reqwest::Url;
use serde_json::Value;
use service_kit::{Running, ServiceName, Settings, TokenVerifier, http};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::cors::CorsLayer;

use crate::{cors, openapi, proxy, rate_limit::RateLimits, routing::ROUTES};

/// How often rate-limit keys whose limit has refilled are dropped.
const FORGET_IDLE_KEYS_EVERY: Duration = Duration::from_secs(60);

/// Everything a request through the gateway needs; cheap to clone.
#[derive(Clone)]
pub struct GatewayState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<Settings>,
    verifier: Arc<TokenVerifier>,
    /// One pooled client for all services, so connections are kept alive and reused.
    http: reqwest::Client,
    upstreams: HashMap<ServiceName, String>,
    rate_limits: RateLimits,
    cors: CorsLayer,
    openapi: Value,
}

impl GatewayState {
    /// Fails on settings the gateway cannot work with (a malformed service URL or CORS
    /// origin) and on service OpenAPI documents that contradict each other, so that
    /// such mistakes stop the start rather than surface on some later request.
    pub fn new(settings: Arc<Settings>, verifier: Arc<TokenVerifier>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.upstream_timeout())
            // Redirects are the client's to follow, and service traffic never goes
            // through whatever proxy the environment names.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .context("building the upstream HTTP client")?;
        let upstreams = ROUTES
            .iter()
            .map(|(_, service)| {
                let base = settings.url(*service);
                Url::parse(&base)
                    .with_context(|| format!("the {service} service URL `{base}` is invalid"))?;
                Ok((*service, base))
            })
            .collect::<anyhow::Result<_>>()?;
        let rate_limits = RateLimits::new(
            settings.rate_limit_login_per_minute,
            settings.rate_limit_register_per_minute,
        )?;
        let cors = cors::layer(&settings.cors_allowed_origins)?;
        let openapi =
            openapi::combined_document().context("merging the services' OpenAPI documents")?;
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                verifier,
                http,
                upstreams,
                rate_limits,
                cors,
                openapi,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    /// The merged OpenAPI document served at `/openapi.json`.
    pub fn openapi(&self) -> &Value {
        &self.inner.openapi
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn upstream(&self, service: ServiceName) -> &str {
        &self.inner.upstreams[&service]
    }
}

impl FromRef<GatewayState> for Arc<TokenVerifier> {
    fn from_ref(state: &GatewayState) -> Self {
        state.inner.verifier.clone()
    }
}

/// The whole gateway: proxied API routes, ops routes, edge layers and CORS.
pub fn router(state: GatewayState) -> Router {
    let mut api = Router::new();
    for (prefix, service) in ROUTES {
        let service = *service;
        let forward = any(move |State(state): State<GatewayState>, request: Request| {
            proxy::forward(state, service, request)
        });
        api = api
            .route(&format!("/api/v1/{prefix}"), forward.clone())
            .route(&format!("/api/v1/{prefix}/{{*rest}}"), forward);
    }
    let cors = state.inner.cors.clone();
    // Upstreams being down must not make the gateway unready: it still answers, with
    // 502s naming the service, and other routes keep working.
    let checks = Vec::new();
    // Outermost, so preflights are answered before any check and every answer, errors
    // included, carries the CORS headers a browser needs to read it.
    http::service_router(
        api.with_state(state.clone()),
        state.openapi().clone(),
        Registry::new(),
        checks,
    )
    .layer(cors)
}

/// Serves the gateway on `listener` until `shutdown` is cancelled.
pub async fn start(
    settings: Arc<Settings>,
    verifier: Arc<TokenVerifier>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let state = GatewayState::new(settings, verifier)?;
    let forget_idle_keys =
        tokio::spawn(forget_idle_rate_limit_keys(state.clone(), shutdown.clone()));
    let server = tokio::spawn(http::serve(listener, router(state), shutdown));
    tracing::info!(service = %ServiceName::Gateway, %addr, "service listening");
    Ok(Running::new(
        ServiceName::Gateway,
        addr,
        vec![server, forget_idle_keys],
    ))
}

async fn forget_idle_rate_limit_keys(state: GatewayState, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(FORGET_IDLE_KEYS_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => state.rate_limits().retain_recent(),
        }
    }
}
