use crate::system::System;
use reqwest::StatusCode;

#[tokio::test]
async fn what_was_committed_before_a_stop_is_there_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let on_disk = [("storage", "disk"), ("data_dir", data_dir)];

    let system = System::in_process(&on_disk).await.unwrap();
    let target = &system.target;
    let customer = target.new_customer().await.unwrap();
    // Stopped at once: user.registered may still sit in auth's outbox or on the bus.
    system.stop().await;

    let system = System::in_process(&on_disk).await.unwrap();
    let target = &system.target;
    let mut client = target.client();
    client
        .login(&customer.email, &customer.password)
        .await
        .expect("the account survived the restart");
    // The admin's view of users follows user.registered (by event): the profile
    // appears there once the event in flight at the stop is delivered. (GET /users/me
    // would make it from the token at once, so it proves nothing here.)
    let admin = target.admin().await.unwrap();
    let user = admin
        .follow(
            &format!("/users/{}", customer.id),
            "the in-flight user.registered delivered",
            |r| r.status == StatusCode::OK,
        )
        .await
        .unwrap();
    assert_eq!(user.body["email"], customer.email);
    let me = client.get("/users/me").await.unwrap();
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    system.stop().await;
}
