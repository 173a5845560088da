use axum::{Router, http::Method};
use event_contracts::{Envelope, LineItem, Money, OrderCreated};
use serde_json::{Value, json};
use service_kit::{ServiceContext, runtime::ServiceRuntime};
pub use test_support::eventually;
use test_support::{
    OpenApiContract, Recorded, TestResponse, TestTokens, call, memory_context, record_events,
};

pub struct TestApp {
    pub router: Router,
    pub contract: OpenApiContract,
    pub ctx: ServiceContext,
    pub tokens: TestTokens,
    pub published: Recorded,
    _runtime: ServiceRuntime,
}

pub async fn spawn_app() -> TestApp {
    let tokens = TestTokens::new();
    let ctx = memory_context(&tokens);
    let (runtime, api, openapi) = product_service::assemble(ctx.clone()).await.unwrap();
    let router = service_kit::http::service_router(
        api,
        openapi.clone(),
        prometheus::Registry::new(),
        vec![],
    );
    let published = record_events(
        &ctx,
        &[
            "product.created",
            "product.updated",
            "product.removed",
            "stock.reserved",
            "stock.rejected",
        ],
    )
    .await;
    TestApp {
        router,
        contract: OpenApiContract::new(openapi),
        ctx,
        tokens,
        published,
        _runtime: runtime,
    }
}

fn template(uri: &str) -> &'static str {
    let path = uri.split('?').next().unwrap();
    if path == "/api/v1/products" {
        "/api/v1/products"
    } else {
        "/api/v1/products/{id}"
    }
}

impl TestApp {
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = call(method.clone(), uri);
        if let Some(token) = token {
            request = request.bearer(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send(&self.router).await;
        self.contract
            .assert_documented(method, template(uri), &response);
        response
    }

    /// Creates a product as `owner` and returns its id.
    pub async fn product(&self, owner: &str, name: &str, stock: u32) -> String {
        let created = self
            .send(
                Method::POST,
                "/api/v1/products",
                Some(&self.tokens.customer(owner)),
                Some(json!({
                    "name": name,
                    "description": "test product",
                    "price": {"amount_minor": 1250, "currency": "EUR"},
                    "stock": stock,
                })),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn stock_of(&self, id: &str) -> u64 {
        let product = self
            .send(Method::GET, &format!("/api/v1/products/{id}"), None, None)
            .await;
        product.body["stock"].as_u64().unwrap()
    }

    /// The product's stored shelf: (available, reserved).
    pub async fn shelf(&self, id: &str) -> (u64, u64) {
        let doc = self.ctx.store.get("products", id).await.unwrap().unwrap();
        (
            doc.body["available"].as_u64().unwrap(),
            doc.body["reserved"].as_u64().unwrap(),
        )
    }

    pub fn published(&self, event_type: &str) -> Vec<Envelope> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.event_type == event_type)
            .cloned()
            .collect()
    }
}

pub fn order(order_id: &str, lines: &[(&str, u32)]) -> Envelope {
    let items: Vec<LineItem> = lines
        .iter()
        .map(|(product_id, quantity)| LineItem {
            product_id: product_id.to_string(),
            name: "test product".into(),
            unit_price: Money {
                amount_minor: 1250,
                currency: "EUR".into(),
            },
            quantity: *quantity,
        })
        .collect();
    let total = items.iter().map(|i| 1250 * i64::from(i.quantity)).sum();
    Envelope::new(
        &OrderCreated {
            order_id: order_id.into(),
            checkout_id: format!("checkout-{order_id}"),
            user_id: "buyer".into(),
            items,
            total: Money {
                amount_minor: total,
                currency: "EUR".into(),
            },
        },
        "test",
    )
}
