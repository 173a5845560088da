use axum::{Router, http::Method};
use event_contracts::{Envelope, Role, UserRegistered};
use serde_json::Value;
use service_kit::{ServiceContext, runtime::ServiceRuntime};
pub use test_support::eventually;
use test_support::{
    OpenApiContract, Recorded, TestResponse, TestTokens, call, memory_context, record_events,
};

pub struct TestApp {
    pub router: Router,
    pub contract: OpenApiContract,
    pub ctx: ServiceContext,
    pub tokens: TestTokens,
    /// Every event the service published, in order.
    pub published: Recorded,
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
    let published = record_events(&ctx, &["user.deleted"]).await;
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
        let template = if uri.starts_with("/api/v1/users/me/products") {
            "/api/v1/users/me/products"
        } else if uri.starts_with("/api/v1/users/me") {
            "/api/v1/users/me"
        } else if uri.starts_with("/api/v1/users/") {
            "/api/v1/users/{id}"
        } else {
            "/api/v1/users"
        };
        self.send(Method::GET, uri, template, token, None).await
    }
}
