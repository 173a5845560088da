use axum::http::Method;
use event_contracts::{CartCheckedOut, Envelope, Event, LineItem, Money};
use service_kit::Settings;
use test_support::{TestResponse, TestService, eventually};

pub async fn spawn_app() -> TestService {
    // Events that overtook their cause are retried quickly in tests.
    let settings = Settings::from_pairs([("bus_initial_backoff_ms", "10")]).unwrap();
    let observe = [
        "order.created",
        "order.cancelled",
        "order.completed",
        "order.return_requested",
        "product.decrement",
    ];
    TestService::spawn(&order_service::SERVICE, settings, &observe).await
}

/// What the order tests do with the running service: the events other services would
/// announce, and a customer's or an admin's requests.
pub trait OrderSteps {
    /// A checkout by `user` for one line, as the cart would announce it; waits for the
    /// order to be placed.
    async fn checkout(&self, user: &str, order_id: &str) -> Envelope;
    /// Publishes `event` as the service that owns it would.
    async fn announce<E: Event>(&self, event: &E);
    async fn get(&self, uri: &str, token: &str) -> TestResponse;
    async fn post(&self, uri: &str, token: &str) -> TestResponse;
    async fn status(&self, user: &str, order_id: &str) -> String;
    async fn wait_for_status(&self, user: &str, order_id: &str, status: &str);
}

impl OrderSteps for TestService {
    async fn checkout(&self, user: &str, order_id: &str) -> Envelope {
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
        self.publish(std::slice::from_ref(&event)).await;
        let token = self.tokens.customer(user);
        let uri = format!("/api/v1/orders/{order_id}");
        eventually("the order to be placed", || async {
            self.get(&uri, &token).await.status == 200
        })
        .await;
        event
    }

    async fn announce<E: Event>(&self, event: &E) {
        self.publish(&[Envelope::new(event, "test")]).await;
    }

    async fn get(&self, uri: &str, token: &str) -> TestResponse {
        self.send_as(Method::GET, uri, token).await
    }

    async fn post(&self, uri: &str, token: &str) -> TestResponse {
        self.send_as(Method::POST, uri, token).await
    }

    async fn status(&self, user: &str, order_id: &str) -> String {
        let order = self
            .get(
                &format!("/api/v1/orders/{order_id}"),
                &self.tokens.customer(user),
            )
            .await;
        order.body["status"].as_str().unwrap_or_default().to_owned()
    }

    async fn wait_for_status(&self, user: &str, order_id: &str, status: &str) {
        eventually(&format!("order {order_id} to be {status}"), || async {
            self.status(user, order_id).await == status
        })
        .await;
    }
}
