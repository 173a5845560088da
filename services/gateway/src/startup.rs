//! The gateway as a service: a definition with no collections and no consumers, whose
//! wiring builds the forwarding routes to its peers.

use std::{collections::HashMap, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{FromRef, Request, State},
    routing::any,
};
use reqwest::Url;
use service_kit::{Api, ServiceDef, ServiceName, ServiceRuntime, Settings, TokenVerifier, Wiring};
use tokio_util::sync::CancellationToken;

use crate::{cors, openapi, proxy, rate_limit::RateLimits, routing::Routes};

/// The gateway, as every host starts it. It keeps no state: no store, no bus. Upstream
/// services being down must not make it unready either: it still answers, with 502s
/// naming the service, and other routes keep working.
pub const SERVICE: ServiceDef = ServiceDef::new("gateway", 8080, &[], wire);

/// How often rate-limit keys whose limit has refilled are dropped.
const FORGET_IDLE_KEYS_EVERY: Duration = Duration::from_secs(60);

/// Everything a request through the gateway needs; cheap to clone. The verifier stands
/// apart so that the edge's `AuthUser` checks take it from the state.
#[derive(Clone, FromRef)]
pub(crate) struct GatewayState {
    verifier: Arc<TokenVerifier>,
    #[from_ref(skip)]
    inner: Arc<Inner>,
}

struct Inner {
    /// One pooled client for all services, so connections are kept alive and reused.
    http: reqwest::Client,
    routes: Routes,
    upstreams: HashMap<ServiceName, String>,
    rate_limits: RateLimits,
}

impl GatewayState {
    /// Fails on settings the gateway cannot work with (a malformed service URL, a rate
    /// limit of zero) and on two services claiming one prefix, so that such mistakes
    /// stop the start rather than surface on some later request.
    fn new(
        settings: Arc<Settings>,
        verifier: Arc<TokenVerifier>,
        services: &[&ServiceDef],
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.upstream_timeout())
            // Redirects are the client's to follow, and service traffic never goes
            // through whatever proxy the environment names.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .context("building the upstream HTTP client")?;
        let routes = Routes::of(services)?;
        let upstreams = routes
            .iter()
            .map(|(_, service)| {
                let base = settings.url(service);
                Url::parse(&base)
                    .with_context(|| format!("the {service} service URL `{base}` is invalid"))?;
                Ok((service, base))
            })
            .collect::<anyhow::Result<_>>()?;
        let rate_limits = RateLimits::new(
            settings.rate_limit_login_per_minute,
            settings.rate_limit_register_per_minute,
        )?;
        Ok(Self {
            verifier,
            inner: Arc::new(Inner {
                http,
                routes,
                upstreams,
                rate_limits,
            }),
        })
    }

    pub(crate) fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn upstream(&self, service: ServiceName) -> &str {
        &self.inner.upstreams[&service]
    }
}

/// Forwarding routes to the peers, behind CORS and edge checks; the rate-limit keys
/// forgotten in the background.
fn wire(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        let ctx = runtime.context().clone();
        let state = GatewayState::new(ctx.settings.clone(), ctx.verifier.clone(), ctx.peers)?;
        // Both refuse to start on a mistake: a malformed CORS origin, or service
        // documents that contradict each other.
        let cors = cors::layer(&ctx.settings.cors_allowed_origins)?;
        let openapi = openapi::combined_document(ctx.peers)
            .context("merging the services' OpenAPI documents")?;
        runtime.track(tokio::spawn(forget_idle_rate_limit_keys(
            state.clone(),
            ctx.shutdown.clone(),
        )));
        // Outermost, so preflights are answered before any check and every answer, errors
        // included, carries the CORS headers a browser needs to read it.
        Ok(Api::from_json(forwarding(state.clone()), openapi)
            .with_outer_layer(move |router| router.layer(cors)))
    })
}

/// `/api/v1/<prefix>` and everything under it, for each prefix a peer owns.
fn forwarding(state: GatewayState) -> Router {
    let mut api = Router::new();
    for (prefix, service) in state.inner.routes.iter() {
        let forward = any(move |State(state): State<GatewayState>, request: Request| {
            proxy::forward(state, service, request)
        });
        api = api
            .route(&format!("/api/v1/{prefix}"), forward.clone())
            .route(&format!("/api/v1/{prefix}/{{*rest}}"), forward);
    }
    api.with_state(state)
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
