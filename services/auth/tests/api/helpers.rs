use std::ops::Deref;

use axum::http::Method;
use serde_json::{Value, json};
use service_kit::{ServiceContext, Settings};
pub use test_support::eventually;
use test_support::{TestResponse, TestService, call};

pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    TestApp(TestService::spawn(&auth_service::SERVICE, settings, &[]).await)
}

/// The service again over `ctx`'s store and settings, as after a restart.
pub async fn spawn_in(ctx: ServiceContext) -> TestApp {
    TestApp(TestService::spawn_in(ctx, &auth_service::SERVICE, &[]).await)
}

impl TestApp {
    /// Sends and checks the answer against the OpenAPI document.
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send_documented(Method::POST, path, path, None, Some(body))
            .await
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
