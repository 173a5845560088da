use std::ops::Deref;

use axum::http::Method;
use event_contracts::{Envelope, Role, UserRegistered};
use serde_json::Value;
use service_kit::Settings;
pub use test_support::eventually;
use test_support::{TestResponse, TestService};

/// The user service; `published` records every event it publishes, in order.
pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

pub async fn spawn_app() -> TestApp {
    TestApp(
        TestService::spawn(
            &user_service::SERVICE,
            Settings::default(),
            &["user.deleted"],
        )
        .await,
    )
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
            .bus()
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
        self.send_documented(method, uri, template, Some(token), body)
            .await
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
