use axum::{Router, http::Method};
use event_contracts::{CartCheckedOut, Envelope, Event, LineItem, Money};

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
    let mut ctx = memory_context(&tokens);
    // Events that overtook their cause are retried quickly in tests.
    ctx.settings = std::sync::Arc::new(
        service_kit::Settings::from_pairs([("bus_initial_backoff_ms", "10")]).unwrap(),
    );
    let (runtime, api, openapi) = order_service::assemble(ctx.clone()).await.unwrap();
    let router = service_kit::http::service_router(
        api,
        openapi.clone(),
        prometheus::Registry::new(),
        vec![],
    );
    let published = record_events(
        &ctx,
        &[
            "order.created",
            "order.cancelled",
            "order.completed",
            "order.return_requested",
            "product.decrement",
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
        let response = call(method.clone(), uri)
            .bearer(token)
            .send(&self.router)
            .await;
        self.contract
            .assert_documented(method, &template(uri), &response);
        response
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
                    unit_price: Money {
                        amount_minor: 1250,
                        currency: "EUR".into(),
                    },
                    quantity: 2,
                }],
                total: Money {
                    amount_minor: 2500,
                    currency: "EUR".into(),
                },
            },
            "test",
        );
        self.ctx
            .bus
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
            .bus
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
