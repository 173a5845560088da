use serde_json::json;
use test_support::TestService;

use crate::helpers::{ADA_EMAIL, ADA_PASSWORD, AuthSteps, spawn_app, spawn_in};

async fn logged_in(app: &TestService) -> String {
    app.register(ADA_EMAIL, ADA_PASSWORD).await;
    app.refresh_token(ADA_EMAIL, ADA_PASSWORD).await
}

#[tokio::test]
async fn refreshing_rotates_the_token_and_the_old_one_is_refused() {
    let app = spawn_app().await;
    let first = logged_in(&app).await;
    let rotated = app.refresh(&first).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    app.verify(rotated.body["access_token"].as_str().unwrap())
        .await;

    let replay = app.refresh(&first).await;
    replay.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn replaying_a_rotated_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let first = logged_in(&app).await;
    let second = app.refresh(&first).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A thief replays the old token: the legitimate holder's newer token dies too.
    assert_eq!(app.refresh(&first).await.status, 401);
    assert_eq!(app.refresh(&second).await.status, 401);
}

#[tokio::test]
async fn logging_out_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let token = logged_in(&app).await;
    let out = app
        .post("/api/v1/auth/logout", json!({ "refresh_token": token }))
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(app.refresh(&token).await.status, 401);
    // Other sessions of the same account are untouched.
    let other = app.refresh_token(ADA_EMAIL, ADA_PASSWORD).await;
    assert_eq!(app.refresh(&other).await.status, 200);
}

#[tokio::test]
async fn forged_or_garbled_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    let token = logged_in(&app).await;
    let (id, _) = token.split_once('.').unwrap();
    for bad in [
        "".to_owned(),
        "garbage".to_owned(),
        format!("{id}.not-the-secret"),
        format!("unknown.{}", "x".repeat(43)),
    ] {
        assert_eq!(app.refresh(&bad).await.status, 401, "{bad:?}");
        let out = app
            .post("/api/v1/auth/logout", json!({ "refresh_token": bad }))
            .await;
        assert_eq!(out.status, 401, "logout with {bad:?}");
    }
    assert_eq!(
        app.refresh(&token).await.status,
        200,
        "the real token still works"
    );
}

#[tokio::test]
async fn tokens_stay_valid_across_a_restart_because_the_signing_key_is_kept() {
    let app = spawn_app().await;
    app.register(ADA_EMAIL, ADA_PASSWORD).await;
    let access = app.login(ADA_EMAIL, ADA_PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Same store, new process.
    let restarted = spawn_in(app.ctx.clone()).await;
    restarted.verify(&access).await;
}
