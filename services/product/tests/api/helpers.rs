use axum::http::Method;
use event_contracts::{Envelope, LineItem, Money, OrderCreated};
use serde_json::json;
use service_kit::Settings;
use test_support::TestService;

pub async fn spawn_app() -> TestService {
    let observe = [
        "product.created",
        "product.updated",
        "product.removed",
        "stock.reserved",
        "stock.rejected",
    ];
    TestService::spawn(&product_service::SERVICE, Settings::default(), &observe).await
}

/// What the product tests do with the running service.
pub trait ProductSteps {
    /// Creates a product as `owner` and returns its id.
    async fn product(&self, owner: &str, name: &str, stock: u32) -> String;
    async fn stock_of(&self, id: &str) -> u64;
    /// The product's stored shelf: (available, reserved).
    async fn shelf(&self, id: &str) -> (u64, u64);
}

impl ProductSteps for TestService {
    async fn product(&self, owner: &str, name: &str, stock: u32) -> String {
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

    async fn stock_of(&self, id: &str) -> u64 {
        let product = self
            .send(Method::GET, &format!("/api/v1/products/{id}"), None, None)
            .await;
        product.body["stock"].as_u64().unwrap()
    }

    async fn shelf(&self, id: &str) -> (u64, u64) {
        let doc = self.ctx.store().get("products", id).await.unwrap().unwrap();
        (
            doc.body["available"].as_u64().unwrap(),
            doc.body["reserved"].as_u64().unwrap(),
        )
    }
}

pub fn order(order_id: &str, lines: &[(&str, u32)]) -> Envelope {
    let items: Vec<LineItem> = lines
        .iter()
        .map(|(product_id, quantity)| LineItem {
            product_id: product_id.to_string(),
            name: "test product".into(),
            unit_price: Money::parse(1250, "EUR").unwrap(),
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
            total: Money::parse(total, "EUR").unwrap(),
        },
        "test",
    )
}
