use std::ops::Deref;

use axum::http::Method;
use event_contracts::{CartCheckedOut, Envelope, Event, LineItem, Money};
use service_kit::Settings;
pub use test_support::eventually;
use test_support::{TestResponse, TestService};

pub struct TestApp(TestService);

impl Deref for TestApp {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.0
    }
}

pub async fn spawn_app() -> TestApp {
    // Events that overtook their cause are retried quickly in tests.
    let settings = Settings::from_pairs([("bus_initial_backoff_ms", "10")]).unwrap();
    let observe = [
        "order.created",
        "order.cancelled",
        "order.completed",
        "order.return_requested",
        "product.decrement",
    ];
    TestApp(TestService::spawn(&order_service::SERVICE, settings, &observe).await)
}

fn template(uri: &str) -> String {
    let path = uri.split('?').next().unwrap();
    let parts: Vec<&str> = path
        .trim_start_matches("/api/v1/orders")
        .split('/')
        .collect();
    match parts.as_slice() {
        [""] => "/api/v1/orders".into(),
        ["", _] => "/api/v1/orders/{id}".into(),
        ["", _, action] => format!("/api/v1/orders/{{id}}/{action}"),
        _ => panic!("unexpected uri {uri}"),
    }
}

impl TestApp {
    pub async fn send(&self, method: Method, uri: &str, token: &str) -> TestResponse {
        self.send_documented(method, uri, &template(uri), Some(token), None)
            .await
    }

    /// A checkout by `user` for one line, as the cart would announce it; waits for the
    /// order to be placed.
    pub async fn checkout(&self, user: &str, order_id: &str) -> Envelope {
        let event = Envelope::new(
            &CartCheckedOut {
                checkout_id: format!("checkout-{order_id}"),
                order_id: order_id.into(),
                user_id: user.into(),
                items: vec![LineItem {
                    product_id: "mug".into(),
                    name: "Mug".into(),
                    unit_price: Money::parse(1250, "EUR").unwrap(),
                    quantity: 2,
                }],
                total: Money::parse(2500, "EUR").unwrap(),
            },
            "test",
        );
        self.ctx
            .bus()
            .publish(std::slice::from_ref(&event))
            .await
            .unwrap();
        let token = self.tokens.customer(user);
        let uri = format!("/api/v1/orders/{order_id}");
        eventually("the order to be placed", || async {
            self.send(Method::GET, &uri, &token).await.status == 200
        })
        .await;
        event
    }

    pub async fn publish<E: Event>(&self, event: &E) {
        self.ctx
            .bus()
            .publish(&[Envelope::new(event, "test")])
            .await
            .unwrap();
    }

    pub async fn status(&self, user: &str, order_id: &str) -> String {
        let order = self
            .send(
                Method::GET,
                &format!("/api/v1/orders/{order_id}"),
                &self.tokens.customer(user),
            )
            .await;
        order.body["status"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn wait_for_status(&self, user: &str, order_id: &str, status: &str) {
        eventually(&format!("order {order_id} to be {status}"), || async {
            self.status(user, order_id).await == status
        })
        .await;
    }
}
