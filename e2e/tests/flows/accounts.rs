use crate::system::System;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_customer_registers_logs_in_refreshes_and_manages_their_profile() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let mut customer = target.new_customer().await.unwrap();

    // At once, though user.registered may still be on its way from auth to user.
    let me = customer.client.get("/users/me").await.unwrap();
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    assert_eq!(me.body["email"], customer.email);
    assert_eq!(me.body["role"], "customer");

    let updated = customer
        .client
        .patch("/users/me", json!({"display_name": "Ada"}))
        .await
        .unwrap();
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["display_name"], "Ada");

    let rotated = customer
        .client
        .refresh(&customer.refresh_token)
        .await
        .unwrap();
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    customer.client.token = rotated.body["access_token"].as_str().map(str::to_owned);
    let me = customer.client.get("/users/me").await.unwrap();
    assert_eq!(me.body["display_name"], "Ada", "the new access token works");

    let replay = customer
        .client
        .refresh(&customer.refresh_token)
        .await
        .unwrap();
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);

    let role_change = customer
        .client
        .patch("/users/me", json!({"role": "admin"}))
        .await
        .unwrap();
    assert_eq!(role_change.status, StatusCode::UNPROCESSABLE_ENTITY);
    let me = customer.client.get("/users/me").await.unwrap();
    assert_eq!(me.body["role"], "customer");
    system.stop().await;
}

#[tokio::test]
async fn the_admin_lists_users_and_a_deleted_user_can_no_longer_log_in() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let customer = target.new_customer().await.unwrap();
    let me = customer.client.get("/users/me").await.unwrap();
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    let admin = target.admin().await.unwrap();

    let listed = admin.get("/users?per_page=100").await.unwrap();
    assert_eq!(listed.status, StatusCode::OK);
    let ids = listed.each("items", "id");
    assert!(ids.contains(&customer.id.as_str()), "{ids:?}");

    let deleted = admin
        .delete(&format!("/users/{}", customer.id))
        .await
        .unwrap();
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    // auth revokes the credentials when user.deleted reaches it.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let login = target
            .client()
            .post(
                "/auth/login",
                json!({"email": customer.email, "password": customer.password}),
            )
            .await
            .unwrap();
        if login.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "login still works: {login:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let gone = admin.get(&format!("/users/{}", customer.id)).await.unwrap();
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    system.stop().await;
}
