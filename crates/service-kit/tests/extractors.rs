//! The identity extractors through a router, with `oneshot`: a missing token and a bad
//! one are different things, and an invalid token is never treated as anonymous.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
    routing::get,
};
use event_contracts::Role;
use service_kit::{AdminUser, AuthUser, MaybeAuthUser, TokenSigner, TokenVerifier};
use tower::ServiceExt;

fn signer() -> TokenSigner {
    TokenSigner::from_seed(
        "k1",
        &TokenSigner::generate_seed(),
        "shop-auth",
        "shop",
        Duration::from_secs(60),
    )
}

fn app(verifier: Arc<TokenVerifier>) -> Router {
    Router::new()
        .route(
            "/maybe",
            get(|MaybeAuthUser(user): MaybeAuthUser| async move {
                user.map_or_else(|| "anonymous".to_owned(), |u| u.id)
            }),
        )
        .route("/user", get(|user: AuthUser| async move { user.id }))
        .route(
            "/admin",
            get(|AdminUser(user): AdminUser| async move { user.id }),
        )
        .with_state(verifier)
}

async fn status_and_body(app: &Router, uri: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::builder().uri(uri);
    if let Some(value) = auth {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn an_optional_user_is_anonymous_only_without_an_authorization_header() {
    let signer = signer();
    let app = app(Arc::new(
        TokenVerifier::with_keys(&signer.jwks(), "shop-auth", "shop").unwrap(),
    ));
    let token = signer.issue("u1", "u1@x.io", Role::Customer).unwrap();
    let foreign = signer_token_from_another_key();

    assert_eq!(
        status_and_body(&app, "/maybe", None).await,
        (StatusCode::OK, "anonymous".into())
    );
    assert_eq!(
        status_and_body(&app, "/maybe", Some(&format!("Bearer {token}"))).await,
        (StatusCode::OK, "u1".into())
    );
    for bad in [
        format!("Bearer {foreign}"),
        "Bearer not-a-jwt".to_owned(),
        format!("Basic {token}"),
        "Bearer".to_owned(),
    ] {
        let (status, body) = status_and_body(&app, "/maybe", Some(&bad)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert!(body.contains("\"code\":\"unauthorized\""), "{body}");
    }
}

fn signer_token_from_another_key() -> String {
    signer().issue("u1", "u1@x.io", Role::Admin).unwrap()
}

#[tokio::test]
async fn required_and_admin_users_answer_401_and_403_in_the_error_shape() {
    let signer = signer();
    let app = app(Arc::new(
        TokenVerifier::with_keys(&signer.jwks(), "shop-auth", "shop").unwrap(),
    ));
    let customer = signer.issue("u1", "u1@x.io", Role::Customer).unwrap();
    let admin = signer.issue("a1", "a1@x.io", Role::Admin).unwrap();

    let (status, body) = status_and_body(&app, "/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"code\":\"unauthorized\""));
    let (status, body) = status_and_body(&app, "/admin", Some(&format!("Bearer {customer}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("\"code\":\"forbidden\""));
    assert_eq!(
        status_and_body(&app, "/admin", Some(&format!("Bearer {admin}"))).await,
        (StatusCode::OK, "a1".into())
    );
}

#[tokio::test]
async fn when_the_signing_keys_cannot_be_fetched_the_answer_is_503_not_401() {
    // Nothing listens here: the JWKS fetch fails, which is not the caller's fault.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    drop(listener);
    let app = app(Arc::new(TokenVerifier::remote(url, "shop-auth", "shop")));
    let token = signer().issue("u1", "u1@x.io", Role::Customer).unwrap();
    let (status, body) = status_and_body(&app, "/user", Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
