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
    let me = client
        .eventually("/users/me", StatusCode::OK)
        .await
        .unwrap();
    assert_eq!(
        me.body["email"], customer.email,
        "the in-flight event was delivered"
    );
    system.stop().await;
}
