use std::sync::Arc;

use axum::{Router, http::Method};
use serde_json::{Value, json};
use service_kit::{ServiceContext, Settings, runtime::ServiceRuntime};
pub use test_support::eventually;
use test_support::{OpenApiContract, TestResponse, TestTokens, call, memory_context};

pub struct TestApp {
    pub router: Router,
    pub contract: OpenApiContract,
    pub ctx: ServiceContext,
    _runtime: ServiceRuntime,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let tokens = TestTokens::new();
    let mut ctx = memory_context(&tokens);
    ctx.settings = Arc::new(settings);
    spawn_in(ctx).await
}

pub async fn spawn_in(ctx: ServiceContext) -> TestApp {
    let (runtime, api, openapi) = auth_service::assemble(ctx.clone()).await.unwrap();
    let router = service_kit::http::service_router(
        api,
        openapi.clone(),
        prometheus::Registry::new(),
        vec![],
    );
    TestApp {
        router,
        contract: OpenApiContract::new(openapi),
        ctx,
        _runtime: runtime,
    }
}

impl TestApp {
    /// Sends and checks the answer against the OpenAPI document.
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        let response = call(Method::POST, path).json(body).send(&self.router).await;
        self.contract
            .assert_documented(Method::POST, path, &response);
        response
    }

    pub async fn register(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/register",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn refresh(&self, token: &str) -> TestResponse {
        self.post("/api/v1/auth/refresh", json!({ "refresh_token": token }))
            .await
    }

    /// Verifies an access token against the JWKS this service publishes.
    pub async fn verify(&self, access_token: &str) -> service_kit::AccessClaims {
        let jwks = call(Method::GET, "/api/v1/auth/jwks")
            .send(&self.router)
            .await
            .body;
        let jwks = serde_json::from_value(jwks).unwrap();
        let verifier = service_kit::TokenVerifier::with_keys(&jwks, "shop-auth", "shop").unwrap();
        verifier.verify(access_token).await.unwrap()
    }
}
