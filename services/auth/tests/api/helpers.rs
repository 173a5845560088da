use axum::http::Method;
use serde_json::{Value, json};
use service_kit::{AccessClaims, ServiceContext, Settings, TokenVerifier};
use test_support::{TestResponse, TestService, call};

/// The account most tests register and log in with.
pub const ADA_EMAIL: &str = "ada@example.com";
pub const ADA_PASSWORD: &str = "correct horse battery";

pub async fn spawn_app() -> TestService {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestService {
    TestService::spawn(&auth_service::SERVICE, settings, &[]).await
}

/// The service again over `ctx`'s store and settings, as after a restart.
pub async fn spawn_in(ctx: ServiceContext) -> TestService {
    TestService::spawn_in(ctx, &auth_service::SERVICE, &[]).await
}

/// What the auth tests do with the running service: the requests of a client that is
/// not logged in yet, and checks of the tokens it hands out.
pub trait AuthSteps {
    /// `POST path` with a JSON body, checked against the OpenAPI document.
    async fn post(&self, path: &str, body: Value) -> TestResponse;
    async fn register(&self, email: &str, password: &str) -> TestResponse;
    async fn login(&self, email: &str, password: &str) -> TestResponse;
    async fn refresh(&self, token: &str) -> TestResponse;
    /// Registers an account and returns its id.
    async fn registered(&self, email: &str, password: &str) -> String;
    /// Logs in and returns the refresh token.
    async fn refresh_token(&self, email: &str, password: &str) -> String;
    /// Verifies an access token against the JWKS this service publishes.
    async fn verify(&self, access_token: &str) -> AccessClaims;
}

impl AuthSteps for TestService {
    async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::POST, path, None, Some(body)).await
    }

    async fn register(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/register",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    async fn refresh(&self, token: &str) -> TestResponse {
        self.post("/api/v1/auth/refresh", json!({ "refresh_token": token }))
            .await
    }

    async fn registered(&self, email: &str, password: &str) -> String {
        let registered = self.register(email, password).await;
        registered.body["id"].as_str().unwrap().to_owned()
    }

    async fn refresh_token(&self, email: &str, password: &str) -> String {
        let login = self.login(email, password).await;
        login.body["refresh_token"].as_str().unwrap().to_owned()
    }

    async fn verify(&self, access_token: &str) -> AccessClaims {
        let jwks = call(Method::GET, "/api/v1/auth/jwks")
            .send(&self.router)
            .await
            .body;
        let jwks = serde_json::from_value(jwks).unwrap();
        let verifier = TokenVerifier::with_keys(&jwks, "shop-auth", "shop").unwrap();
        verifier.verify(access_token).await.unwrap()
    }
}
