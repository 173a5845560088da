use service_kit::Settings;

use crate::helpers::{AuthSteps, spawn_app_with, spawn_in};

fn with_admin(password: &str) -> Settings {
    Settings::from_pairs([
        ("bootstrap_admin_email", "root@example.com"),
        ("bootstrap_admin_password", password),
    ])
    .unwrap()
}

#[tokio::test]
async fn the_bootstrap_admin_can_log_in_with_the_admin_role() {
    let app = spawn_app_with(with_admin("root password 1")).await;
    let login = app.login("root@example.com", "root password 1").await;
    assert_eq!(login.status, 200);
    let claims = app
        .verify(login.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims.role, event_contracts::Role::Admin);
}

#[tokio::test]
async fn the_bootstrap_admin_is_created_once_and_never_overwritten() {
    let app = spawn_app_with(with_admin("root password 1")).await;
    let mut ctx = app.ctx.clone();
    ctx.settings = std::sync::Arc::new(with_admin("a different password"));
    let restarted = spawn_in(ctx).await;
    assert_eq!(
        restarted
            .login("root@example.com", "root password 1")
            .await
            .status,
        200
    );
    assert_eq!(
        restarted
            .login("root@example.com", "a different password")
            .await
            .status,
        401
    );
}
