use event_contracts::{
    CancelReason, Envelope, OrderCancelled, PaymentRefunded, ProductDecrement, ShipmentCancelled,
    ShipmentDelivered, ShipmentReturned, StockLine, UserDeleted,
};

use test_support::eventually;

use crate::helpers::{ProductSteps, order, spawn_app};

#[tokio::test]
async fn an_order_that_fits_reserves_its_stock() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    app.publish(&[order("o1", &[(&mug, 3)])]).await;
    app.wait_for_events("stock.reserved", 1).await;
    assert_eq!(app.shelf(&mug).await, (2, 3));
    assert_eq!(
        app.stock_of(&mug).await,
        2,
        "the catalog shows what can be bought"
    );
    let event = &app.published("stock.reserved")[0];
    assert_eq!(event.data["order_id"], "o1");
    assert_eq!(
        event.correlation_id, "test",
        "correlation travels with the flow"
    );
}

#[tokio::test]
async fn an_order_that_does_not_fit_is_rejected_whole_and_changes_nothing() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    let pot = app.product("seller", "Pot", 1).await;
    app.publish(&[order("o1", &[(&mug, 2), (&pot, 2), ("gone", 1)])])
        .await;
    let rejected = &app.wait_for_events("stock.rejected", 1).await[0];
    let short: Vec<_> = rejected.data["shortages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["product_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(short.len(), 2);
    assert!(short.contains(&pot) && short.contains(&"gone".to_owned()));
    assert_eq!(
        app.shelf(&mug).await,
        (5, 0),
        "the line that fitted was not held"
    );
    assert_eq!(app.shelf(&pot).await, (1, 0));
}

fn cancelled(order_id: &str, product: &str, quantity: u32) -> Envelope {
    Envelope::new(
        &OrderCancelled {
            order_id: order_id.into(),
            user_id: "buyer".into(),
            reason: CancelReason::PaymentFailed,
            items: vec![StockLine {
                product_id: product.into(),
                quantity,
            }],
        },
        "test",
    )
}

#[tokio::test]
async fn cancelling_releases_and_completing_commits_a_reservation_once() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    app.publish(&[order("o1", &[(&mug, 2)]), order("o2", &[(&mug, 1)])])
        .await;
    eventually("both reserved", || async {
        app.shelf(&mug).await == (2, 3)
    })
    .await;

    // o1 is cancelled (delivered twice), o2 completes (delivered twice).
    let cancel = cancelled("o1", &mug, 2);
    let decrement = Envelope::new(
        &ProductDecrement {
            order_id: "o2".into(),
            items: vec![StockLine {
                product_id: mug.clone(),
                quantity: 1,
            }],
        },
        "test",
    );
    app.publish(&[cancel.clone(), cancel, decrement.clone(), decrement])
        .await;
    eventually("released and committed", || async {
        app.shelf(&mug).await == (4, 0)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.shelf(&mug).await, (4, 0), "nothing applied twice");

    // A refund after completion has nothing held to release.
    let refund = Envelope::new(
        &PaymentRefunded {
            payment_id: "p2".into(),
            order_id: "o2".into(),
            user_id: "buyer".into(),
            amount: event_contracts::Money::parse(1250, "EUR").unwrap(),
        },
        "test",
    );
    app.publish(&[refund]).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.shelf(&mug).await, (4, 0));
}

#[tokio::test]
async fn an_order_cancelled_before_it_reached_the_product_service_never_holds_stock() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    // order.cancelled and order.created travel on different topics: the cancel can win.
    app.publish(&[cancelled("o1", &mug, 2)]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // o2 follows o1 on the same topic: once o2 is reserved, o1 has been handled.
    app.publish(&[order("o1", &[(&mug, 2)]), order("o2", &[(&mug, 1)])])
        .await;
    eventually("o2 reserved", || async {
        app.published("stock.reserved")
            .iter()
            .any(|e| e.data["order_id"] == "o2")
    })
    .await;
    assert_eq!(app.shelf(&mug).await, (4, 1), "only o2 holds stock");
    assert!(
        app.published("stock.reserved")
            .iter()
            .all(|e| e.data["order_id"] != "o1"),
        "a cancelled order is not reserved"
    );
}

#[tokio::test]
async fn a_redelivered_order_is_reserved_once() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    let o1 = order("o1", &[(&mug, 2)]);
    app.publish(&[o1.clone(), o1.clone(), o1]).await;
    eventually("reserved", || async { app.shelf(&mug).await == (3, 2) }).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.shelf(&mug).await, (3, 2));
    assert_eq!(app.published("stock.reserved").len(), 1);
}

#[tokio::test]
async fn many_orders_for_the_last_units_never_oversell() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 3).await;
    let orders: Vec<_> = (0..12)
        .map(|i| order(&format!("o{i}"), &[(&mug, 1)]))
        .collect();
    // Published from concurrent tasks, as concurrent checkouts would.
    let tasks: Vec<_> = orders
        .into_iter()
        .map(|o| {
            let bus = app.ctx.bus().clone();
            tokio::spawn(async move { bus.publish(&[o]).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    eventually("every order decided", || async {
        app.published("stock.reserved").len() + app.published("stock.rejected").len() == 12
    })
    .await;
    assert_eq!(app.published("stock.reserved").len(), 3);
    assert_eq!(app.published("stock.rejected").len(), 9);
    assert_eq!(app.shelf(&mug).await, (0, 3));
}

#[tokio::test]
async fn a_deleted_accounts_personal_products_leave_the_catalog() {
    let app = spawn_app().await;
    let theirs = app.product("leaver", "Old bike", 1).await;
    let other = app.product("stayer", "Kettle", 1).await;
    app.publish(&[Envelope::new(
        &UserDeleted {
            user_id: "leaver".into(),
        },
        "test",
    )])
    .await;
    app.wait_for_events("product.removed", 1).await;
    for (id, status) in [(theirs, 404), (other, 200)] {
        let response = app
            .send(
                axum::http::Method::GET,
                &format!("/api/v1/products/{id}"),
                None,
                None,
            )
            .await;
        assert_eq!(response.status, status);
    }
}

fn shipment<E: event_contracts::Event>(
    make: fn(String, String, String) -> E,
    order_id: &str,
) -> Envelope {
    Envelope::new(
        &make(format!("s-{order_id}"), order_id.into(), "buyer".into()),
        "test",
    )
}

fn delivered(order_id: &str) -> Envelope {
    shipment(
        |shipment_id, order_id, user_id| ShipmentDelivered {
            shipment_id,
            order_id,
            user_id,
        },
        order_id,
    )
}

fn returned(order_id: &str) -> Envelope {
    shipment(
        |shipment_id, order_id, user_id| ShipmentReturned {
            shipment_id,
            order_id,
            user_id,
        },
        order_id,
    )
}

fn shipment_cancelled(order_id: &str) -> Envelope {
    shipment(
        |shipment_id, order_id, user_id| ShipmentCancelled {
            shipment_id,
            order_id,
            user_id,
        },
        order_id,
    )
}

/// Publishes the order's refund, and gives the service time to act on it, were it
/// to (it does not consume refunds, so there is no marker to wait for).
async fn refund(app: &test_support::TestService, order_id: &str) {
    app.publish(&[refunded(order_id)]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

fn refunded(order_id: &str) -> Envelope {
    Envelope::new(
        &PaymentRefunded {
            payment_id: format!("p-{order_id}"),
            order_id: order_id.into(),
            user_id: "buyer".into(),
            amount: event_contracts::Money::parse(1250, "EUR").unwrap(),
        },
        "test",
    )
}

/// Tried as a new user would: an admin refunds a delivered order that never came back.
/// The unit is with the customer, so it must not go back on sale.
#[tokio::test]
async fn a_refund_of_a_delivered_order_that_never_came_back_puts_no_stock_back() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    app.publish(&[order("o1", &[(&mug, 1)])]).await;
    eventually("reserved", || async { app.shelf(&mug).await == (4, 1) }).await;

    app.deliver_events(&[delivered("o1")]).await;
    assert_eq!(app.shelf(&mug).await, (4, 0), "the unit left the shop");
    refund(&app, "o1").await;
    assert_eq!(
        app.shelf(&mug).await,
        (4, 0),
        "and is still with the customer"
    );

    // Goods that do come back go back on sale, once.
    app.deliver_events(&[returned("o1"), returned("o1")]).await;
    assert_eq!(app.shelf(&mug).await, (5, 0));
}

/// A goodwill refund racing the customer's accept: whichever comes first, a refund
/// alone moves no stock, and the accept commits what the order holds.
#[tokio::test]
async fn a_refund_racing_the_accept_does_not_put_sold_units_back_on_sale() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    app.publish(&[order("o1", &[(&mug, 2)])]).await;
    eventually("reserved", || async { app.shelf(&mug).await == (3, 2) }).await;

    refund(&app, "o1").await;
    assert_eq!(
        app.shelf(&mug).await,
        (3, 2),
        "a refund alone moves no stock"
    );
    let decrement = Envelope::new(
        &ProductDecrement {
            order_id: "o1".into(),
            items: vec![StockLine {
                product_id: mug.clone(),
                quantity: 2,
            }],
        },
        "test",
    );
    app.deliver_events(&[decrement]).await;
    assert_eq!(app.shelf(&mug).await, (3, 0));
}

/// A shipment called off before delivery (its payment refunded) means the goods never
/// left: that, not the refund, puts them back on sale.
#[tokio::test]
async fn a_shipment_called_off_before_delivery_releases_what_its_order_held() {
    let app = spawn_app().await;
    let mug = app.product("seller", "Mug", 5).await;
    app.publish(&[order("o1", &[(&mug, 2)])]).await;
    eventually("reserved", || async { app.shelf(&mug).await == (3, 2) }).await;

    refund(&app, "o1").await;
    assert_eq!(
        app.shelf(&mug).await,
        (3, 2),
        "a refund alone moves no stock"
    );
    app.deliver_events(&[shipment_cancelled("o1")]).await;
    assert_eq!(app.shelf(&mug).await, (5, 0));
    // A delivery cannot follow a called-off shipment; one that did would move nothing.
    app.deliver_events(&[delivered("o1")]).await;
    assert_eq!(app.shelf(&mug).await, (5, 0));
}
