use axum::http::Method;
use event_contracts::{
    CartCheckedOut, Envelope, Event, LineItem, Money, PaymentCompleted, PaymentFailed,
};
use order_service::{
    OrderMetrics,
    domain::OrderStatus,
    refresh_once,
    store::{HistoryEntry, ORDERS, Order},
};
use prometheus::Registry;
use test_support::{TestService, call, eventually};

use crate::helpers::{OrderSteps, spawn_app};

/// The value of one sample (`name{labels}` exactly as served) on the service's
/// `/metrics`, if it is there.
async fn sample(app: &TestService, series: &str) -> Option<f64> {
    let served = call(Method::GET, "/metrics").send(&app.router).await;
    assert_eq!(served.status, 200);
    let text = served.body["non_json_body"].as_str().unwrap_or_default();
    text.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().expect("a sample's value is a number"))
    })
}

async fn entered(app: &TestService, status: &str) -> f64 {
    let series = format!("shop_order_transitions_total{{status=\"{status}\"}}");
    sample(app, &series)
        .await
        .unwrap_or_else(|| panic!("{series} is not served"))
}

/// Waits until the service has handled events of `event_type` `count` times, a
/// redelivery included (which leaves no new marker to wait for).
async fn consumed(app: &TestService, event_type: &str, count: f64) {
    let series = format!("shop_events_consumed_total{{event_type=\"{event_type}\"}}");
    eventually(&format!("{count} {event_type} handled"), || async {
        sample(app, &series).await == Some(count)
    })
    .await;
}

#[tokio::test]
async fn each_status_an_order_enters_counts_once_even_when_its_event_comes_again() {
    let app = spawn_app().await;
    for status in ["pending", "paid", "cancelled"] {
        assert_eq!(
            entered(&app, status).await,
            0.0,
            "{status} before any order"
        );
    }
    let checkout = app.checkout("ada", "o1").await;
    let paid = Envelope::new(
        &PaymentCompleted {
            payment_id: "pay-o1".into(),
            order_id: "o1".into(),
            user_id: "ada".into(),
            amount: Money::parse(2500, "EUR").unwrap(),
        },
        "test",
    );
    app.deliver_events(std::slice::from_ref(&paid)).await;
    assert_eq!(entered(&app, "pending").await, 1.0);
    assert_eq!(entered(&app, "paid").await, 1.0);

    // Both delivered again: handled (acknowledged), but nothing entered anew.
    app.publish(&[checkout, paid]).await;
    consumed(&app, CartCheckedOut::TYPE, 2.0).await;
    consumed(&app, PaymentCompleted::TYPE, 2.0).await;
    assert_eq!(entered(&app, "pending").await, 1.0);
    assert_eq!(entered(&app, "paid").await, 1.0);
    assert_eq!(entered(&app, "cancelled").await, 0.0);
}

#[tokio::test]
async fn an_order_cancelled_by_its_customer_or_by_an_event_counts_once() {
    let app = spawn_app().await;
    let ada = app.tokens.customer("ada");
    app.checkout("ada", "o1").await;
    app.checkout("ada", "o2").await;
    assert_eq!(app.post("/api/v1/orders/o1/cancel", &ada).await.status, 200);
    // Refused: it is cancelled already, and enters nothing.
    assert_eq!(app.post("/api/v1/orders/o1/cancel", &ada).await.status, 409);
    let failed = Envelope::new(
        &PaymentFailed {
            payment_id: "pay-o2".into(),
            order_id: "o2".into(),
            user_id: "ada".into(),
            reason: "declined".into(),
        },
        "test",
    );
    app.deliver_events(&[failed]).await;
    assert_eq!(app.status("ada", "o2").await, "cancelled");
    assert_eq!(entered(&app, "pending").await, 2.0);
    assert_eq!(entered(&app, "cancelled").await, 2.0);
}

fn order(status: OrderStatus, minutes_ago: i64) -> Order {
    let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago);
    Order {
        user_id: "ada".into(),
        checkout_id: format!("checkout-{minutes_ago}"),
        items: vec![LineItem {
            product_id: "mug".into(),
            name: "Mug".into(),
            unit_price: Money::parse(1250, "EUR").unwrap(),
            quantity: 1,
        }],
        total: Money::parse(1250, "EUR").unwrap(),
        status,
        stock_reserved: false,
        history: vec![HistoryEntry {
            status,
            at,
            cause: "test".into(),
        }],
        created_at: at,
    }
}

#[tokio::test]
async fn the_pending_gauge_is_the_age_of_the_oldest_pending_order() {
    let first = spawn_app().await;
    assert_eq!(
        sample(&first, "shop_orders_pending_oldest_seconds").await,
        Some(0.0),
        "no order is pending"
    );
    // Ids sort in the order the orders were placed, as UUID v7 ids do. The oldest of
    // all was paid, so it no longer waits.
    let seeded = vec![
        ORDERS.insert("0-paid", &order(OrderStatus::Paid, 120)),
        ORDERS.insert("1-pending", &order(OrderStatus::Pending, 10)),
        ORDERS.insert("2-pending", &order(OrderStatus::Pending, 1)),
    ];
    first.ctx.store().commit(seeded).await.unwrap();

    // A start refreshes the gauge at once, without waiting for the first period.
    let ctx = first.ctx.clone();
    drop(first);
    let app = TestService::spawn_in(ctx, &order_service::SERVICE, &[]).await;
    eventually(
        "the gauge to show the order placed 10 minutes ago",
        || async {
            sample(&app, "shop_orders_pending_oldest_seconds")
                .await
                .is_some_and(|age| (600.0..660.0).contains(&age))
        },
    )
    .await;

    let registry = Registry::new();
    let metrics = OrderMetrics::register(&registry).unwrap();
    let gauge = || {
        registry
            .gather()
            .iter()
            .find(|family| family.name() == "shop_orders_pending_oldest_seconds")
            .map(|family| family.get_metric()[0].get_gauge().get_value())
    };
    let ada = app.tokens.customer("ada");
    assert_eq!(
        app.post("/api/v1/orders/1-pending/cancel", &ada)
            .await
            .status,
        200
    );
    let age = refresh_once(app.ctx.store().as_ref(), &metrics)
        .await
        .unwrap();
    assert!((60.0..120.0).contains(&age), "the next oldest: {age}s");
    assert_eq!(gauge(), Some(age));

    assert_eq!(
        app.post("/api/v1/orders/2-pending/cancel", &ada)
            .await
            .status,
        200
    );
    let age = refresh_once(app.ctx.store().as_ref(), &metrics)
        .await
        .unwrap();
    assert_eq!(age, 0.0, "none is pending");
    assert_eq!(gauge(), Some(0.0));
}

/// A dashboard's failure, parking and error ratios are 0 on a healthy service, not "no
/// data": the series are served at 0 before anything goes wrong.
#[tokio::test]
async fn failure_parking_and_error_counters_are_served_at_zero_before_anything_fails() {
    let app = spawn_app().await;
    for counter in [
        "shop_events_consumed_total",
        "shop_events_failed_total",
        "shop_events_early_total",
        "shop_events_parked_total",
    ] {
        for event_type in [
            CartCheckedOut::TYPE,
            PaymentCompleted::TYPE,
            PaymentFailed::TYPE,
        ] {
            let series = format!("{counter}{{event_type=\"{event_type}\"}}");
            assert_eq!(sample(&app, &series).await, Some(0.0), "{series}");
        }
    }
    // /metrics itself is a route: its first request creates its error series.
    sample(&app, "").await;
    let errors = "shop_http_request_errors_total{method=\"GET\",route=\"/metrics\"}";
    assert_eq!(sample(&app, errors).await, Some(0.0), "{errors}");
}
