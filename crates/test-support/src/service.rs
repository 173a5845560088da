//! One service assembled the way its binary assembles it, over an in-memory store and
//! bus, behind the ops router every service serves, and driven with `oneshot`.

use std::sync::Arc;

use axum::{Router, http::Method};
use event_contracts::Envelope;
use serde_json::Value;
use service_kit::{ServiceContext, ServiceDef, ServiceRuntime, Settings};

use crate::{
    OpenApiContract, Recorded, TestResponse, TestTokens, call, memory_context, record_events,
};

/// A running service under test. Its consumers and outbox relay run as long as it lives.
pub struct TestService {
    /// The whole HTTP service, as a host serves it (`/healthz`, `/readyz`, `/metrics`,
    /// `/openapi.json` beside the API).
    pub router: Router,
    /// The OpenAPI document the service serves.
    pub contract: OpenApiContract,
    pub ctx: ServiceContext,
    /// Mints tokens that `ctx.verifier` accepts.
    pub tokens: TestTokens,
    /// Every event published on the observed topics, in order, each checked against its
    /// contract schema; stays empty when no topic is observed.
    pub published: Recorded,
    _runtime: ServiceRuntime,
}

impl TestService {
    /// Starts `service` as every host does, over a fresh in-memory store and bus, with
    /// `settings`, recording what is published on the `observe` topics.
    pub async fn spawn(service: &'static ServiceDef, settings: Settings, observe: &[&str]) -> Self {
        let tokens = TestTokens::new();
        let mut ctx = memory_context(&tokens);
        ctx.settings = Arc::new(settings);
        Self::start(ctx, tokens, service, observe).await
    }

    /// Starts the service over an existing context, as a restarted process would: the
    /// same store, bus, settings and shutdown. Its `tokens` are new, and `ctx.verifier`
    /// is replaced by one that accepts them.
    pub async fn spawn_in(
        mut ctx: ServiceContext,
        service: &'static ServiceDef,
        observe: &[&str],
    ) -> Self {
        let tokens = TestTokens::new();
        ctx.verifier = tokens.verifier();
        Self::start(ctx, tokens, service, observe).await
    }

    async fn start(
        ctx: ServiceContext,
        tokens: TestTokens,
        service: &'static ServiceDef,
        observe: &[&str],
    ) -> Self {
        let (runtime, api) = service
            .assemble(ctx.clone())
            .await
            .unwrap_or_else(|e| panic!("{} assembles: {e:#}", service.name));
        let openapi = api.openapi.clone();
        let router = runtime.router(api);
        let published = if observe.is_empty() {
            Recorded::default()
        } else {
            record_events(&ctx, observe).await
        };
        Self {
            router,
            contract: OpenApiContract::new(openapi),
            ctx,
            tokens,
            published,
            _runtime: runtime,
        }
    }

    /// The recorded events of one type, in order.
    pub fn published(&self, event_type: &str) -> Vec<Envelope> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.event_type == event_type)
            .cloned()
            .collect()
    }

    /// Sends `method uri` through the router, with `token` as bearer and `body` as JSON
    /// when given, and asserts the answer is documented for `method` on the path
    /// `template`.
    pub async fn send_documented(
        &self,
        method: Method,
        uri: &str,
        template: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = call(method.clone(), uri);
        if let Some(token) = token {
            request = request.bearer(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send(&self.router).await;
        self.contract.assert_documented(method, template, &response);
        response
    }
}
