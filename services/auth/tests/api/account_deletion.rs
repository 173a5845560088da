use event_contracts::{Envelope, UserDeleted};

use crate::helpers::{eventually, spawn_app};

#[tokio::test]
async fn a_deleted_user_can_no_longer_log_in_or_refresh() {
    let app = spawn_app().await;
    let id = app
        .register("ada@example.com", "correct horse battery")
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = app
        .login("ada@example.com", "correct horse battery")
        .await
        .body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let deleted = Envelope::new(&UserDeleted { user_id: id }, "test");
    // Delivered twice, as an at-least-once bus may: the second changes nothing.
    app.ctx
        .bus()
        .publish(&[deleted.clone(), deleted])
        .await
        .unwrap();

    eventually("the credential to be revoked", || async {
        app.login("ada@example.com", "correct horse battery")
            .await
            .status
            == 401
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
