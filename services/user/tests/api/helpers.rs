use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, http::Method};
use event_contracts::{Envelope, Role, UserRegistered};
use serde_json::Value;
use service_kit::{ServiceContext, runtime::ServiceRuntime};
use test_support::{OpenApiContract, TestResponse, TestTokens, call, memory_context};

pub struct TestApp {
    pub router: Router,
    pub contract: OpenApiContract,
    pub ctx: ServiceContext,
    pub tokens: TestTokens,
    /// Every event the service published, in order.
    pub published: Arc<Mutex<Vec<Envelope>>>,
    _runtime: ServiceRuntime,
}

pub async fn spawn_app() -> TestApp {
    let tokens = TestTokens::new();
    let ctx = memory_context(&tokens);
    let (runtime, api, openapi) = user_service::assemble(ctx.clone()).await.unwrap();
    let router = service_kit::http::service_router(
        api,
        openapi.clone(),
        prometheus::Registry::new(),
        vec![],
    );
    let published: Arc<Mutex<Vec<Envelope>>> = Default::default();
    let sink = published.clone();
    ctx.bus
        .subscribe(
            event_bus::Subscription {
                group: "observer".into(),
                topics: vec!["user.deleted".into()],
                handler: event_bus::handler_fn(move |e: Envelope| {
                    let sink = sink.clone();
                    async move {
                        event_contracts::validate(&e)?;
                        sink.lock().unwrap().push(e);
                        Ok(())
                    }
                }),
                retry: Default::default(),
                metrics: event_bus::BusMetrics::unregistered(),
            },
            ctx.shutdown.clone(),
        )
        .await
        .unwrap();
    TestApp {
        router,
        contract: OpenApiContract::new(openapi),
        ctx,
        tokens,
        published,
        _runtime: runtime,
    }
}

impl TestApp {
    /// Announces a registration as auth would, and waits for the profile to exist.
    pub async fn registered(&self, user_id: &str, role: Role) -> Envelope {
        let event = Envelope::new(
            &UserRegistered {
                user_id: user_id.into(),
                email: format!("{user_id}@example.com"),
                role,
            },
            "test",
        );
        self.ctx
            .bus
            .publish(std::slice::from_ref(&event))
            .await
            .unwrap();
        let token = self.tokens.customer(user_id);
        eventually("the profile to be created", || async {
            self.get("/api/v1/users/me", &token).await.status == 200
        })
        .await;
        event
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        template: &str,
        token: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = call(method.clone(), uri).bearer(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send(&self.router).await;
        self.contract.assert_documented(method, template, &response);
        response
    }

    pub async fn get(&self, uri: &str, token: &str) -> TestResponse {
        let template = if uri.starts_with("/api/v1/users/me") {
            "/api/v1/users/me"
        } else if uri.starts_with("/api/v1/users/") {
            "/api/v1/users/{id}"
        } else {
            "/api/v1/users"
        };
        self.send(Method::GET, uri, template, token, None).await
    }
}

pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
