//! What the services' tests share: requests through a router with `oneshot`, access
//! tokens good and bad, checks that an answer matches the OpenAPI document and that the
//! served document matches the committed one, and a whole service assembled for a test
//! ([`TestService`]) with the abilities every service's tests need (publishing on its
//! bus, documented requests, waiting for what arrives by event). What only one service's
//! tests need stays in that service's `tests/api/helpers.rs`. Never linked into a
//! service.

mod service;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use event_contracts::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use service_kit::{AccessClaims, ServiceDef, TokenSigner, TokenVerifier};
use tower::ServiceExt;

pub use crate::service::TestService;

pub const ISSUER: &str = "shop-auth";
pub const AUDIENCE: &str = "shop";

/// Mints access tokens the way the auth service does, and forged ones.
pub struct TestTokens {
    signer: TokenSigner,
    verifier: Arc<TokenVerifier>,
}

impl Default for TestTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl TestTokens {
    pub fn new() -> Self {
        let signer = signer("test-key");
        let verifier = Arc::new(
            TokenVerifier::with_keys(&signer.jwks(), ISSUER, AUDIENCE).expect("test JWKS loads"),
        );
        Self { signer, verifier }
    }

    pub fn verifier(&self) -> Arc<TokenVerifier> {
        self.verifier.clone()
    }

    pub fn customer(&self, user_id: &str) -> String {
        self.issue(user_id, Role::Customer)
    }

    pub fn admin(&self, user_id: &str) -> String {
        self.issue(user_id, Role::Admin)
    }

    fn issue(&self, user_id: &str, role: Role) -> String {
        self.signer
            .issue(user_id, &format!("{user_id}@example.com"), role)
            .expect("test token signs")
    }

    fn claims(user_id: &str, role: Role) -> AccessClaims {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        AccessClaims {
            sub: user_id.into(),
            email: format!("{user_id}@example.com"),
            role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now - 3600,
            nbf: now - 3600,
            exp: now - 1800,
            jti: "expired".into(),
        }
    }

    /// Correctly signed, but expired half an hour ago.
    pub fn expired(&self, user_id: &str) -> String {
        self.signer
            .sign(&Self::claims(user_id, Role::Customer))
            .expect("test token signs")
    }

    /// Claims that would pass, signed by a key the services do not know, under a kid they do.
    pub fn signed_with_another_key(&self, user_id: &str) -> String {
        signer("test-key")
            .issue(user_id, &format!("{user_id}@example.com"), Role::Admin)
            .expect("test token signs")
    }

    /// An unsigned `alg: none` token claiming the admin role.
    pub fn unsigned(&self, user_id: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"test-key"}"#);
        let mut claims = Self::claims(user_id, Role::Admin);
        claims.exp += 7200;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        format!("{header}.{payload}.")
    }
}

fn signer(kid: &str) -> TokenSigner {
    TokenSigner::from_seed(
        kid,
        &TokenSigner::generate_seed(),
        ISSUER,
        AUDIENCE,
        Duration::from_secs(900),
    )
}

/// An answer read whole, for assertions.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The error code of an error-shaped body, asserting the shape on the way.
    pub fn error_code(&self) -> &str {
        assert_error_shape(&self.body);
        self.body["code"].as_str().unwrap()
    }

    /// How many items a page of a list holds; a body that is not a page (an error, say)
    /// fails the test rather than counting as an empty list.
    #[track_caller]
    pub fn listed(&self) -> usize {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a page of a list ({}): {}", self.status, self.body))
            .len()
    }

    /// The link to the page after this one, asserting that the page says more follow
    /// (`has_more`) exactly when it has such a link.
    #[track_caller]
    pub fn next_page(&self) -> Option<&str> {
        let next = self.body["next"].as_str();
        assert_eq!(self.body["has_more"], next.is_some(), "{}", self.body);
        next
    }

    /// Asserts a refusal: the status, then the error code (and with it the error shape).
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.error_code(), code);
    }
}

/// The string `field` of each object in the JSON array `items`, in order: the ids,
/// names or statuses of a page or a history, to compare with the ones a test expects.
pub fn field_of_each<'a>(items: &'a Value, field: &str) -> Vec<&'a str> {
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"));
    items
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no {field}: {item}"))
        })
        .collect()
}

/// Checks the body is `{code, message, details}` and nothing else.
pub fn assert_error_shape(body: &Value) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {body}"));
    let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "details", "message"], "error shape: {body}");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body}"
    );
}

/// Builds a request: `call(Method::POST, "/x").json(..).bearer(..)`.
pub struct Call {
    builder: axum::http::request::Builder,
    body: Body,
}

pub fn call(method: Method, uri: &str) -> Call {
    Call {
        builder: Request::builder().method(method).uri(uri),
        body: Body::empty(),
    }
}

impl Call {
    pub fn json(mut self, body: Value) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.builder = self
            .builder
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    /// As if over a connection from the IP address `client`, which `oneshot` alone
    /// cannot do: what a server puts in the request for `ConnectInfo`.
    pub fn connected_from(mut self, client: &str) -> Self {
        let addr: SocketAddr = format!("{client}:40000")
            .parse()
            .expect("client is an IP address");
        self.builder = self.builder.extension(ConnectInfo(addr));
        self
    }

    pub fn request(self) -> Request<Body> {
        self.builder.body(self.body).expect("test request builds")
    }

    /// Sends through the router with `oneshot` and reads the whole answer.
    pub async fn send(self, router: &Router) -> TestResponse {
        let response = router
            .clone()
            .oneshot(self.request())
            .await
            .expect("routers are infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body reads")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!({ "non_json_body": String::from_utf8_lossy(&bytes) }))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

/// The OpenAPI document of a service, for checking answers against what it documents.
pub struct OpenApiContract {
    doc: Value,
}

impl OpenApiContract {
    pub fn new(doc: Value) -> Self {
        Self { doc }
    }

    /// The documented path template `uri` falls under: `/api/v1/users/u1?page=2` is
    /// `/api/v1/users/{id}`. Of the templates that match segment by segment, the one
    /// with a literal where the others have a parameter wins, so `/api/v1/users/me` is
    /// its own path and not a user called "me". A template is its own template.
    pub fn template_of(&self, uri: &str) -> &str {
        let path = uri.split('?').next().unwrap_or(uri);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object().into_iter().flatten();
        paths
            .filter_map(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(part, segment)| is_parameter(part) || part == segment);
                let literals: Vec<bool> = parts.iter().map(|part| !is_parameter(part)).collect();
                fits.then_some((literals, template.as_str()))
            })
            .max()
            .map(|(_, template)| template)
            .unwrap_or_else(|| panic!("{uri} is under no path of the OpenAPI document"))
    }

    /// Asserts that `response` is documented for `method` on the path `uri` falls under
    /// (see [`Self::template_of`]) and that its body validates against the documented
    /// schema.
    pub fn assert_documented(&self, method: Method, uri: &str, response: &TestResponse) {
        let path = self.template_of(uri);
        let status = response.status.as_str();
        let operation = &self.doc["paths"][path][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
        let documented = &operation["responses"][status];
        assert!(
            documented.is_object(),
            "{method} {path} answered {status}, which its OpenAPI entry does not list"
        );
        let Some(schema) = documented["content"]["application/json"]["schema"].as_object() else {
            assert!(
                response.body.is_null(),
                "{method} {path} {status} is documented without a body but sent {}",
                response.body
            );
            return;
        };
        // Local `#/components/...` references resolve against this wrapper's root.
        let mut wrapper = schema.clone();
        wrapper.insert("components".into(), self.doc["components"].clone());
        let validator = jsonschema::validator_for(&Value::Object(wrapper))
            .unwrap_or_else(|e| panic!("schema of {method} {path} {status} compiles: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&response.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} body does not match its schema: {errors:?}\nbody: {}",
            response.body
        );
    }
}

/// `{id}`: a path parameter of an OpenAPI path template.
fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Where the committed OpenAPI document of `service` lives: `contracts/api/<name>.v1.json`.
pub fn committed_contract(service: &ServiceDef) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/api")
        .join(format!("{}.v1.json", service.name))
}

/// Fails when the served OpenAPI document differs from the committed file; with
/// `SHOP_BLESS=1` it rewrites the file instead (then review the diff).
pub fn assert_matches_committed(served: &Value, committed_path: &Path) {
    // Written with sorted keys, so a change to the document is a small diff whatever
    // order the code declares things in.
    fn sorted(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.sort_keys();
                map.values_mut().for_each(sorted);
            }
            Value::Array(items) => items.iter_mut().for_each(sorted),
            _ => {}
        }
    }
    let mut served_sorted = served.clone();
    sorted(&mut served_sorted);
    let rendered = serde_json::to_string_pretty(&served_sorted).expect("JSON renders") + "\n";
    if std::env::var_os("SHOP_BLESS").is_some() {
        std::fs::write(committed_path, &rendered).expect("contract file writes");
        return;
    }
    let committed = std::fs::read_to_string(committed_path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run the test with SHOP_BLESS=1 to create it",
            committed_path.display()
        )
    });
    let committed: Value = serde_json::from_str(&committed).expect("committed contract is JSON");
    assert!(
        &committed == served,
        "the served OpenAPI document differs from {}; if the change is intended, run \
         the test with SHOP_BLESS=1 and commit the file",
        committed_path.display()
    );
}

/// A service context over an in-memory store and bus, checking tokens from `tokens`.
pub fn memory_context(tokens: &TestTokens) -> service_kit::ServiceContext {
    service_kit::ServiceContext {
        settings: Arc::new(service_kit::Settings::default()),
        store: Some(Arc::new(doc_store::EmbeddedStore::in_memory())),
        bus: Some(Arc::new(event_bus::InProcessBus::in_memory())),
        verifier: tokens.verifier(),
        shutdown: tokio_util::sync::CancellationToken::new(),
        peers: &[],
    }
}

/// The URL of a local port nothing listens on (bound, then released): a service that is
/// down.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port binds");
    let port = listener.local_addr().expect("bound").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Polls until the async condition holds, failing the test after five seconds: for
/// state that arrives by event.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Everything published on `topics`, in order, each checked against its contract
/// schema (an off-contract event is parked, never recorded, so tests notice).
pub type Recorded = Arc<std::sync::Mutex<Vec<event_contracts::Envelope>>>;

pub async fn record_events(ctx: &service_kit::ServiceContext, topics: &[&str]) -> Recorded {
    let recorded: Recorded = Default::default();
    let sink = recorded.clone();
    ctx.bus()
        .subscribe(
            event_bus::Subscription {
                group: "test-observer".into(),
                topics: topics.iter().map(|t| t.to_string()).collect(),
                handler: event_bus::handler_fn(move |event: event_contracts::Envelope| {
                    let sink = sink.clone();
                    async move {
                        event_contracts::validate(&event)?;
                        sink.lock().unwrap().push(event);
                        Ok(())
                    }
                }),
                retry: event_bus::RetryPolicy {
                    max_attempts: 1,
                    ..Default::default()
                },
                metrics: event_bus::BusMetrics::unregistered(),
            },
            ctx.shutdown.clone(),
        )
        .await
        .expect("test observer subscribes");
    recorded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> OpenApiContract {
        let paths = [
            "/api/v1/users",
            "/api/v1/users/me",
            "/api/v1/users/me/products",
            "/api/v1/users/{id}",
            "/api/v1/orders/{id}/{action}",
            "/api/v1/orders/{id}/accept",
        ];
        let paths: serde_json::Map<String, Value> =
            paths.iter().map(|p| (p.to_string(), json!({}))).collect();
        OpenApiContract::new(json!({ "paths": paths }))
    }

    #[test]
    fn a_uri_falls_under_the_template_that_matches_it_segment_by_segment() {
        let contract = contract();
        for (uri, template) in [
            ("/api/v1/users", "/api/v1/users"),
            ("/api/v1/users?per_page=2&page=2", "/api/v1/users"),
            ("/api/v1/users/u1", "/api/v1/users/{id}"),
            ("/api/v1/users/me/products", "/api/v1/users/me/products"),
            ("/api/v1/users/{id}", "/api/v1/users/{id}"),
        ] {
            assert_eq!(contract.template_of(uri), template, "{uri}");
        }
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        let contract = contract();
        assert_eq!(contract.template_of("/api/v1/users/me"), "/api/v1/users/me");
        assert_eq!(
            contract.template_of("/api/v1/orders/o1/accept"),
            "/api/v1/orders/{id}/accept"
        );
        assert_eq!(
            contract.template_of("/api/v1/orders/o1/cancel"),
            "/api/v1/orders/{id}/{action}"
        );
    }

    #[test]
    #[should_panic(expected = "is under no path")]
    fn a_uri_under_no_documented_path_fails_the_test() {
        contract().template_of("/api/v1/users/u1/orders");
    }
}
