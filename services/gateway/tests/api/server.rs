use std::time::Duration;

use gateway_service::SERVICE;
use test_support::TestTokens;
use tokio::net::TcpListener;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

use crate::helpers::{every_service_at, gateway_context};

#[tokio::test]
async fn a_started_gateway_proxies_real_connections_and_stops_on_shutdown() {
    let upstream = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&upstream)
        .await;
    let uri = upstream.uri();
    let ctx = gateway_context(every_service_at(&uri), &TestTokens::new());
    let shutdown = ctx.shutdown.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = SERVICE.start(ctx, listener).await.unwrap();
    assert_eq!(running.name, "gateway");
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    let proxied = client
        .get(format!("{base}/api/v1/products?page=2"))
        .send()
        .await
        .unwrap();

    assert_eq!(health.status(), 200);
    assert_eq!(proxied.status(), 200);
    let received = upstream.received_requests().await.unwrap();
    assert_eq!(received[0].url.path(), "/api/v1/products");
    assert_eq!(received[0].url.query(), Some("page=2"));
    // Behind a real socket the service learns the peer address.
    assert_eq!(received[0].headers["x-forwarded-for"], "127.0.0.1");

    drop(client);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), running.stopped())
        .await
        .expect("the gateway stops promptly once shut down");
}
