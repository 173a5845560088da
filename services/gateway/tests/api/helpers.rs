use std::sync::Arc;

use axum::{Router, http::Method};
use service_kit::{ServiceContext, ServiceDef, Settings};
use test_support::{TestResponse, TestTokens, call};
use tokio_util::sync::CancellationToken;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

/// The services the gateway fronts in the real system: those with a public API.
pub fn upstream_services() -> impl Iterator<Item = &'static ServiceDef> {
    shop::SERVICES
        .iter()
        .copied()
        .filter(|service| service.public_api.is_some())
}

/// Settings whose every service URL is `uri`, so that all of them point at one mock.
pub fn every_service_at(uri: &str) -> Settings {
    let mut settings = Settings::default();
    for service in upstream_services() {
        settings
            .urls
            .insert(service.name.to_string(), uri.to_owned());
    }
    settings
}

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
    let mut settings = every_service_at(&uri);
    configure(&mut settings);
    let tokens = TestTokens::new();
    TestGateway {
        router: gateway_router(settings, &tokens).await,
        tokens,
        upstream,
    }
}

/// The context a host gives the gateway of the real system, over `settings`, trusting
/// the tokens `tokens` mints.
pub fn gateway_context(settings: Settings, tokens: &TestTokens) -> ServiceContext {
    ServiceContext {
        settings: Arc::new(settings),
        store: None,
        bus: None,
        verifier: tokens.verifier(),
        shutdown: CancellationToken::new(),
        peers: shop::SERVICES,
    }
}

/// The gateway's whole HTTP service over `settings`, as a host serves it.
pub async fn gateway_router(settings: Settings, tokens: &TestTokens) -> Router {
    let (runtime, api) = gateway_service::SERVICE
        .assemble(gateway_context(settings, tokens))
        .await
        .unwrap();
    runtime.router(api)
}

impl TestGateway {
    /// `method uri` as the holder of `token`.
    pub async fn send_as(&self, method: Method, uri: &str, token: &str) -> TestResponse {
        call(method, uri).bearer(token).send(&self.router).await
    }

    /// `GET uri` as a browser sends it from a page served at `origin`.
    pub async fn get_from_origin(&self, uri: &str, origin: &str) -> TestResponse {
        call(Method::GET, uri)
            .header("origin", origin)
            .send(&self.router)
            .await
    }

    /// Every service answers every request with `status` and no body.
    pub async fn services_answer(&self, status: u16) {
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status))
            .mount(&self.upstream)
            .await;
    }

    /// How many requests reached the services.
    pub async fn forwarded(&self) -> usize {
        self.upstream.received_requests().await.unwrap().len()
    }
}
