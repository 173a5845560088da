use crate::helpers::{ADA_EMAIL, ADA_PASSWORD, AuthSteps, spawn_app};

#[tokio::test]
async fn logging_in_returns_an_access_token_for_the_account_and_a_refresh_token() {
    let app = spawn_app().await;
    let id = app.registered(ADA_EMAIL, ADA_PASSWORD).await;
    let response = app.login("ADA@example.com", "correct horse battery").await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(response.body["token_type"], "Bearer");
    assert!(response.body["expires_in"].as_u64().unwrap() <= 900);

    let access = response.body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert!(header.kid.is_some(), "tokens carry the key id");
    let claims = app.verify(access).await;
    assert_eq!(claims.sub, id);
    assert_eq!(claims.email, "ada@example.com");
    assert_eq!(claims.iss, "shop-auth");
    assert_eq!(claims.aud, "shop");
    assert!(claims.exp - claims.iat <= 900);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.register(ADA_EMAIL, ADA_PASSWORD).await;
    let wrong_password = app
        .login("ada@example.com", "incorrect horse battery")
        .await;
    let unknown_email = app.login("bob@example.com", "correct horse battery").await;
    let malformed_email = app.login("bob", "correct horse battery").await;
    wrong_password.assert_error(401, "unauthorized");
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.body, malformed_email.body);
    assert_eq!(unknown_email.status, 401);
}
