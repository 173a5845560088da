use std::ops::Deref;

use axum::http::Method;
use event_contracts::{
    Envelope, Money, ProductCreated, ProductRemoved, ProductUpdated, UserDeleted,
};
use serde_json::{Value, json};
use service_kit::Settings;
pub use test_support::eventually;
use test_support::{TestResponse, TestService};

/// The cart service; `published` records every `cart.checkout` it publishes, in order,
/// each checked against its contract schema.
pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

pub async fn spawn_app() -> TestApp {
    TestApp(
        TestService::spawn(
            &cart_service::SERVICE,
            Settings::default(),
            &["cart.checkout"],
        )
        .await,
    )
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

impl TestApp {
    /// Publishes the events and waits until the cart service has applied each of them.
    pub async fn deliver(&self, events: &[Envelope]) {
        self.ctx.bus().publish(events).await.unwrap();
        for event in events {
            self.wait_until_applied(event).await;
        }
    }

    /// `apply_once` stores a marker per applied event; once it is there, the effect is too.
    pub async fn wait_until_applied(&self, event: &Envelope) {
        eventually(&format!("{} to be applied", event.event_type), || async {
            self.ctx
                .store()
                .get("processed_events", &event.id)
                .await
                .unwrap()
                .is_some()
        })
        .await;
    }

    /// A product in the catalog at `amount_minor` euro cents.
    pub async fn listed(&self, product_id: &str, name: &str, amount_minor: i64) -> Envelope {
        let event = created(product_id, name, eur(amount_minor));
        self.deliver(std::slice::from_ref(&event)).await;
        event
    }

    /// Sends and checks the answer against the OpenAPI document.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        template: &str,
        token: &str,
        body: Option<Value>,
    ) -> TestResponse {
        self.send_documented(method, uri, template, Some(token), body)
            .await
    }

    pub async fn cart(&self, token: &str) -> TestResponse {
        self.send(Method::GET, "/api/v1/cart", "/api/v1/cart", token, None)
            .await
    }

    pub async fn add(&self, token: &str, product_id: &str, quantity: i64) -> TestResponse {
        self.add_raw(
            token,
            json!({ "product_id": product_id, "quantity": quantity }),
        )
        .await
    }

    pub async fn add_raw(&self, token: &str, body: Value) -> TestResponse {
        self.send(
            Method::POST,
            "/api/v1/cart/items",
            "/api/v1/cart/items",
            token,
            Some(body),
        )
        .await
    }

    pub async fn set(&self, token: &str, product_id: &str, quantity: i64) -> TestResponse {
        self.send(
            Method::PATCH,
            &format!("/api/v1/cart/items/{product_id}"),
            "/api/v1/cart/items/{product_id}",
            token,
            Some(json!({ "quantity": quantity })),
        )
        .await
    }

    pub async fn remove(&self, token: &str, product_id: &str) -> TestResponse {
        self.send(
            Method::DELETE,
            &format!("/api/v1/cart/items/{product_id}"),
            "/api/v1/cart/items/{product_id}",
            token,
            None,
        )
        .await
    }

    pub async fn checkout(&self, token: &str) -> TestResponse {
        self.send(
            Method::POST,
            "/api/v1/cart/checkout",
            "/api/v1/cart/checkout",
            token,
            None,
        )
        .await
    }

    /// The `cart.checkout` events published so far.
    pub fn checkouts(&self) -> Vec<Envelope> {
        self.published.lock().unwrap().clone()
    }

    /// `(product_id, quantity)` of each line the cart shows, in order.
    pub async fn lines(&self, token: &str) -> Vec<(String, u64)> {
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

    /// How many reverse-index entries say a cart holds the product.
    pub async fn carts_indexed_under(&self, product_id: &str) -> u64 {
        self.ctx
            .store()
            .find(
                "cart_products",
                &doc_store::Query::eq("product_id", product_id),
            )
            .await
            .unwrap()
            .total
    }
}

pub fn lines(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(p, q)| (p.to_string(), *q)).collect()
}
