//! One service assembled the way every host assembles it, over an in-memory store and
//! bus, behind the ops router every service serves, and driven with `oneshot`; with the
//! abilities every service's tests need. A service's own test vocabulary (adding to a
//! cart, paying) is an extension trait in that service's `tests/api/helpers.rs`,
//! implemented for [`TestService`].

use std::{sync::Arc, time::Duration};

use axum::{Router, http::Method};
use doc_store::{Page, Query};
use event_bus::{OUTBOX, PROCESSED_EVENTS, ParkedEvent};
use event_contracts::Envelope;
use serde_json::Value;
use service_kit::{ServiceContext, ServiceDef, ServiceRuntime, Settings};

use crate::{
    OpenApiContract, Recorded, TestResponse, TestTokens, assert_matches_committed, call,
    committed_contract, eventually, memory_context, record_events,
};

/// A running service under test. Its consumers and outbox relay run as long as it lives:
/// dropping it cancels `ctx.shutdown`.
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
    /// What was started, for its committed OpenAPI contract.
    service: &'static ServiceDef,
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
    /// same store, bus and settings. Its `tokens` are new, and `ctx.verifier` is replaced
    /// by one that accepts them; its shutdown is its own, so dropping the instance it
    /// replaces does not stop it.
    pub async fn spawn_in(
        mut ctx: ServiceContext,
        service: &'static ServiceDef,
        observe: &[&str],
    ) -> Self {
        let tokens = TestTokens::new();
        ctx.verifier = tokens.verifier();
        ctx.shutdown = tokio_util::sync::CancellationToken::new();
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
            service,
            _runtime: runtime,
        }
    }

    /// Sends `method uri` through the router, with `token` as bearer and `body` as JSON
    /// when given, and asserts the answer is documented for the path `uri` falls under.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
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
        self.contract.assert_documented(method, uri, &response);
        response
    }

    /// [`Self::send`] without a body, as the holder of `token`.
    pub async fn send_as(&self, method: Method, uri: &str, token: &str) -> TestResponse {
        self.send(method, uri, Some(token), None).await
    }

    /// `GET /openapi.json`, as a client reads the document the service serves.
    pub async fn served_openapi(&self) -> TestResponse {
        call(Method::GET, "/openapi.json").send(&self.router).await
    }

    /// Asserts that `GET /openapi.json` answers 200 with the service's committed contract
    /// (with `SHOP_BLESS=1`, rewrites the contract instead; see
    /// [`assert_matches_committed`]).
    pub async fn assert_serves_committed_contract(&self) {
        let served = self.served_openapi().await;
        assert_eq!(served.status, 200);
        assert_matches_committed(&served.body, &committed_contract(self.service));
    }

    /// Publishes the events on the bus, as their producers' relays would.
    pub async fn publish(&self, events: &[Envelope]) {
        self.ctx
            .bus()
            .publish(events)
            .await
            .expect("the bus takes events");
    }

    /// Waits until the service has handled `event`: a consumer stores its processed-event
    /// marker in the same batch as the effect, so once the marker is there, so is the
    /// effect.
    pub async fn handled(&self, event: &Envelope) {
        eventually(&format!("{} to be handled", event.event_type), || async {
            self.ctx
                .store()
                .get(PROCESSED_EVENTS, &event.id)
                .await
                .expect("the store answers")
                .is_some()
        })
        .await;
    }

    /// Publishes the events and waits until the service has handled each of them.
    pub async fn deliver_events(&self, events: &[Envelope]) {
        self.publish(events).await;
        for event in events {
            self.handled(event).await;
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

    /// Waits until at least `count` events of a type are recorded, and returns them all.
    pub async fn wait_for_events(&self, event_type: &str, count: usize) -> Vec<Envelope> {
        eventually(&format!("{count} {event_type} event(s)"), || async {
            self.published(event_type).len() >= count
        })
        .await;
        self.published(event_type)
    }

    /// Waits until every event the service committed has left its outbox, then a little
    /// longer for the test observer to see them: after this, a missing or extra event
    /// is really missing or extra.
    pub async fn settled(&self) {
        eventually("the outbox to drain", || async {
            self.stored(OUTBOX).await.items.is_empty()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// Events on `topic` whose handling failed for good.
    pub async fn parked(&self, topic: &str) -> Vec<ParkedEvent> {
        self.ctx.bus().parked(topic).await.expect("the bus answers")
    }

    /// Every document of one of the service's collections.
    pub async fn stored(&self, collection: &str) -> Page {
        self.ctx
            .store()
            .find(collection, &Query::all())
            .await
            .expect("the store answers")
    }
}

impl Drop for TestService {
    /// Stops the consumers, the relay and any other background task with the test.
    fn drop(&mut self) {
        self.ctx.shutdown.cancel();
    }
}
