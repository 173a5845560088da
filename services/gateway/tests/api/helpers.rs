use std::{net::SocketAddr, sync::Arc};

use axum::{Router, extract::ConnectInfo};
use gateway_service::{GatewayState, router};
use http_body_util::BodyExt;
use serde_json::Value;
use service_kit::Settings;
use test_support::{Call, TestResponse, TestTokens};
use tower::ServiceExt;
use wiremock::MockServer;

/// Every service URL setting, so that all of them can point at one mock.
pub const SERVICE_URL_KEYS: [&str; 8] = [
    "auth_url",
    "user_url",
    "product_url",
    "cart_url",
    "order_url",
    "payment_url",
    "shipping_url",
    "notification_url",
];

/// A gateway whose every service is the one `upstream` mock.
pub struct TestGateway {
    pub router: Router,
    pub tokens: TestTokens,
    pub upstream: MockServer,
}

pub async fn spawn_gateway() -> TestGateway {
    spawn_gateway_with(|_| {}).await
}

/// Like [`spawn_gateway`], with `configure` adjusting the settings last.
pub async fn spawn_gateway_with(configure: impl FnOnce(&mut Settings)) -> TestGateway {
    let upstream = MockServer::start().await;
    let uri = upstream.uri();
    let mut settings =
        Settings::from_pairs(SERVICE_URL_KEYS.map(|key| (key, uri.as_str()))).unwrap();
    configure(&mut settings);
    let tokens = TestTokens::new();
    TestGateway {
        router: gateway_router(settings, &tokens),
        tokens,
        upstream,
    }
}

/// The gateway's full router over `settings`, trusting the tokens `tokens` mints.
pub fn gateway_router(settings: Settings, tokens: &TestTokens) -> Router {
    router(GatewayState::new(Arc::new(settings), tokens.verifier()).unwrap())
}

impl TestGateway {
    /// How many requests reached the services.
    pub async fn forwarded(&self) -> usize {
        self.upstream.received_requests().await.unwrap().len()
    }
}

/// An address nothing listens on: bound, then released.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Sends as if over a connection from `client`, which `oneshot` alone cannot do.
pub async fn send_from(router: &Router, client: &str, call: Call) -> TestResponse {
    let mut request = call.request();
    let addr: SocketAddr = format!("{client}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    TestResponse {
        status,
        headers,
        body,
    }
}
