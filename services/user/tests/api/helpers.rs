use axum::http::Method;
use event_contracts::{Envelope, Role, UserRegistered};
use service_kit::Settings;
use test_support::{TestResponse, TestService};

/// The user service; `published` records every `user.deleted` it publishes, in order.
pub async fn spawn_app() -> TestService {
    TestService::spawn(
        &user_service::SERVICE,
        Settings::default(),
        &["user.deleted"],
    )
    .await
}

/// What the user tests do with the running service.
pub trait UserSteps {
    /// Announces a registration as auth would, and waits for the profile to exist.
    async fn registered(&self, user_id: &str, role: Role) -> Envelope;
    async fn get(&self, uri: &str, token: &str) -> TestResponse;
}

impl UserSteps for TestService {
    async fn registered(&self, user_id: &str, role: Role) -> Envelope {
        let event = Envelope::new(
            &UserRegistered {
                user_id: user_id.into(),
                email: format!("{user_id}@example.com"),
                role,
            },
            "test",
        );
        self.deliver_events(std::slice::from_ref(&event)).await;
        event
    }

    async fn get(&self, uri: &str, token: &str) -> TestResponse {
        self.send_as(Method::GET, uri, token).await
    }
}
