use event_contracts::{Envelope, UserDeleted};
use test_support::eventually;

use crate::helpers::{ADA_EMAIL, ADA_PASSWORD, AuthSteps, spawn_app};

#[tokio::test]
async fn a_deleted_user_can_no_longer_log_in_or_refresh() {
    let app = spawn_app().await;
    let id = app.registered(ADA_EMAIL, ADA_PASSWORD).await;
    let refresh = app.refresh_token(ADA_EMAIL, ADA_PASSWORD).await;

    let deleted = Envelope::new(&UserDeleted { user_id: id }, "test");
    // Delivered twice, as an at-least-once bus may: the second changes nothing.
    app.publish(&[deleted.clone(), deleted]).await;

    eventually("the credential to be revoked", || async {
        app.login(ADA_EMAIL, ADA_PASSWORD).await.status == 401
    })
    .await;
    assert_eq!(app.refresh(&refresh).await.status, 401);
    // The email is free again.
    assert_eq!(
        app.register("ada@example.com", "a brand new password")
            .await
            .status,
        201
    );
}
