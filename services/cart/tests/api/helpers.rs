use axum::http::Method;
use doc_store::{Document, Query};
use event_contracts::{
    Envelope, Money, ProductCreated, ProductRemoved, ProductUpdated, UserDeleted,
};
use serde_json::{Value, json};
use service_kit::Settings;
use std::ops::Deref;
use test_support::{TestResponse, TestService};
use wiremock::MockServer;

/// The cart service, and the product service it reads a product from when its
/// catalog has not heard of it yet: a mock that knows no product unless a test says.
pub struct App {
    pub service: TestService,
    pub products: MockServer,
}

impl Deref for App {
    type Target = TestService;

    fn deref(&self) -> &TestService {
        &self.service
    }
}

/// The cart service; `published` records every `cart.checkout` it publishes, in order,
/// each checked against its contract schema.
pub async fn spawn_app() -> App {
    let products = MockServer::start().await;
    let mut settings = Settings::default();
    settings.urls.insert("product".into(), products.uri());
    let service = TestService::spawn(&cart_service::SERVICE, settings, &["cart.checkout"]).await;
    App { service, products }
}

/// The cart service with green tea at 2.50 EUR in its catalog.
pub async fn spawn_app_with_tea() -> App {
    let app = spawn_app().await;
    app.listed("tea", "Green tea", 250).await;
    app
}

/// The cart service with green tea at 2.50 EUR and a cup at 10.00 EUR in its catalog.
pub async fn spawn_app_with_tea_and_cup() -> App {
    let app = spawn_app_with_tea().await;
    app.listed("cup", "Cup", 1000).await;
    app
}

fn eur(amount_minor: i64) -> Money {
    money(amount_minor, "EUR")
}

pub fn money(amount_minor: i64, currency: &str) -> Money {
    Money::parse(amount_minor, currency).unwrap()
}

/// `product.created` as the product service would send it.
pub fn created(product_id: &str, name: &str, price: Money) -> Envelope {
    let event = ProductCreated {
        product_id: product_id.into(),
        owner_id: "seller".into(),
        name: name.into(),
        description: format!("all about {name}"),
        price,
        stock: 10,
    };
    Envelope::new(&event, "test")
}

pub fn updated(product_id: &str, name: &str, price: Money) -> Envelope {
    let event = ProductUpdated {
        product_id: product_id.into(),
        owner_id: "seller".into(),
        name: name.into(),
        description: format!("all about {name}"),
        price,
        stock: 10,
    };
    Envelope::new(&event, "test")
}

pub fn removed(product_id: &str) -> Envelope {
    let event = ProductRemoved {
        product_id: product_id.into(),
        owner_id: "seller".into(),
    };
    Envelope::new(&event, "test")
}

pub fn user_deleted(user_id: &str) -> Envelope {
    Envelope::new(
        &UserDeleted {
            user_id: user_id.into(),
        },
        "test",
    )
}

/// What the cart tests do with the running service: a customer's requests, and what
/// the catalog copy and the index of carts hold.
pub trait CartSteps {
    /// A product in the catalog at `amount_minor` euro cents.
    async fn listed(&self, product_id: &str, name: &str, amount_minor: i64) -> Envelope;
    async fn cart(&self, token: &str) -> TestResponse;
    async fn add(&self, token: &str, product_id: &str, quantity: i64) -> TestResponse;
    async fn add_raw(&self, token: &str, body: Value) -> TestResponse;
    /// Adds each `(product_id, quantity)` in turn, as a customer filling a cart.
    async fn fill(&self, token: &str, lines: &[(&str, i64)]);
    async fn set(&self, token: &str, product_id: &str, quantity: i64) -> TestResponse;
    async fn remove(&self, token: &str, product_id: &str) -> TestResponse;
    async fn checkout(&self, token: &str) -> TestResponse;
    /// The `cart.checkout` events published so far.
    fn checkouts(&self) -> Vec<Envelope>;
    /// `(product_id, quantity)` of each line the cart shows, in order.
    async fn lines(&self, token: &str) -> Vec<(String, u64)>;
    /// How many reverse-index entries say a cart holds the product.
    async fn carts_indexed_under(&self, product_id: &str) -> u64;
    /// The cart's stored copy of a catalog product, with its version.
    async fn catalog_entry(&self, product_id: &str) -> Document;
}

impl CartSteps for TestService {
    async fn listed(&self, product_id: &str, name: &str, amount_minor: i64) -> Envelope {
        let event = created(product_id, name, eur(amount_minor));
        self.deliver_events(std::slice::from_ref(&event)).await;
        event
    }

    async fn cart(&self, token: &str) -> TestResponse {
        self.send_as(Method::GET, "/api/v1/cart", token).await
    }

    async fn add(&self, token: &str, product_id: &str, quantity: i64) -> TestResponse {
        self.add_raw(
            token,
            json!({ "product_id": product_id, "quantity": quantity }),
        )
        .await
    }

    async fn add_raw(&self, token: &str, body: Value) -> TestResponse {
        self.send(Method::POST, "/api/v1/cart/items", Some(token), Some(body))
            .await
    }

    async fn fill(&self, token: &str, lines: &[(&str, i64)]) {
        for (product_id, quantity) in lines {
            let added = self.add(token, product_id, *quantity).await;
            assert!(
                added.status.is_success(),
                "filling the cart: {}",
                added.body
            );
        }
    }

    async fn set(&self, token: &str, product_id: &str, quantity: i64) -> TestResponse {
        self.send(
            Method::PATCH,
            &format!("/api/v1/cart/items/{product_id}"),
            Some(token),
            Some(json!({ "quantity": quantity })),
        )
        .await
    }

    async fn remove(&self, token: &str, product_id: &str) -> TestResponse {
        self.send_as(
            Method::DELETE,
            &format!("/api/v1/cart/items/{product_id}"),
            token,
        )
        .await
    }

    async fn checkout(&self, token: &str) -> TestResponse {
        self.send_as(Method::POST, "/api/v1/cart/checkout", token)
            .await
    }

    fn checkouts(&self) -> Vec<Envelope> {
        self.published.lock().unwrap().clone()
    }

    async fn lines(&self, token: &str) -> Vec<(String, u64)> {
        let cart = self.cart(token).await;
        assert_eq!(cart.status, 200, "{}", cart.body);
        cart.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["product_id"].as_str().unwrap().to_owned(),
                    l["quantity"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    async fn carts_indexed_under(&self, product_id: &str) -> u64 {
        self.ctx
            .store()
            .count("cart_products", &Query::eq("product_id", product_id))
            .await
            .unwrap()
    }

    async fn catalog_entry(&self, product_id: &str) -> Document {
        let entry = self.ctx.store().get("catalog", product_id).await.unwrap();
        entry.expect("the product is in the cart's catalog")
    }
}

pub fn lines(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(p, q)| (p.to_string(), *q)).collect()
}
