//! The admin's actions: delivering and receiving returns.

use event_contracts::{ShipmentDelivered, ShipmentReturned};

use crate::helpers::{ShippingSteps, history, order_created, return_requested, spawn_app};

#[tokio::test]
async fn an_admin_delivers_an_awaiting_shipment_and_it_is_announced() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    let response = app.deliver(&id, &app.tokens.admin("root")).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["status"], "delivered");
    assert_eq!(
        history(&response.body),
        ["pending", "awaiting", "delivered"]
    );
    assert_eq!(app.shipment_of("o1").await["status"], "delivered");

    let announced = app.announced_once::<ShipmentDelivered>().await;
    assert_eq!(announced.data["shipment_id"], id.as_str());
    assert_eq!(announced.data["order_id"], "o1");
    assert_eq!(announced.data["user_id"], "u1");
    assert_eq!(announced.causation_id, None, "a request started it");
}

#[tokio::test]
async fn delivering_twice_answers_409_and_announces_once() {
    let app = spawn_app().await;
    let id = app.delivered_shipment("o1", "u1").await;
    let again = app.deliver(&id, &app.tokens.admin("root")).await;
    again.assert_error(409, "conflict");
    assert_eq!(again.body["details"]["status"], "delivered");
    app.settled().await;
    assert_eq!(app.published_of::<ShipmentDelivered>().len(), 1);
}

#[tokio::test]
async fn of_two_concurrent_deliveries_one_wins_and_the_other_gets_409() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    let admin = app.tokens.admin("root");
    let (first, second) = tokio::join!(app.deliver(&id, &admin), app.deliver(&id, &admin));
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    app.settled().await;
    assert_eq!(app.published_of::<ShipmentDelivered>().len(), 1);
    assert_eq!(
        history(&app.shipment_of("o1").await),
        ["pending", "awaiting", "delivered"]
    );
}

#[tokio::test]
async fn delivering_an_unpaid_shipment_answers_409() {
    let app = spawn_app().await;
    app.deliver_events(&[order_created("o1", "u1")]).await;
    let id = app.shipment_of("o1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app.deliver(&id, &app.tokens.admin("root")).await;
    assert_eq!(response.status, 409);
    assert_eq!(response.body["details"]["status"], "pending");
}

#[tokio::test]
async fn a_customer_may_neither_deliver_nor_return_even_their_own_shipment() {
    let app = spawn_app().await;
    let id = app.awaiting_shipment("o1", "u1").await;
    let owner = app.tokens.customer("u1");
    let deliver = app.deliver(&id, &owner).await;
    deliver.assert_error(403, "forbidden");
    let returned = app.mark_returned(&id, &owner).await;
    assert_eq!(returned.status, 403);
    // Forbidden before looking anything up, so it does not reveal which ids exist.
    assert_eq!(app.deliver("no-such-id", &owner).await.status, 403);

    assert_eq!(app.shipment_of("o1").await["status"], "awaiting");
    app.settled().await;
    assert!(app.published_of::<ShipmentDelivered>().is_empty());
}

#[tokio::test]
async fn acting_on_a_missing_shipment_answers_404() {
    let app = spawn_app().await;
    let admin = app.tokens.admin("root");
    assert_eq!(app.deliver("no-such-id", &admin).await.status, 404);
    assert_eq!(app.mark_returned("no-such-id", &admin).await.status, 404);
}

#[tokio::test]
async fn the_return_flow_ends_with_a_returned_shipment_and_announces_it() {
    let app = spawn_app().await;
    let id = app.delivered_shipment("o1", "u1").await;
    app.deliver_events(&[return_requested("o1", "u1")]).await;
    assert_eq!(app.shipment_of("o1").await["status"], "return_open");

    let admin = app.tokens.admin("root");
    let response = app.mark_returned(&id, &admin).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["status"], "returned");
    assert_eq!(
        history(&response.body),
        [
            "pending",
            "awaiting",
            "delivered",
            "return_open",
            "returned"
        ]
    );
    let again = app.mark_returned(&id, &admin).await;
    assert_eq!(again.status, 409);

    let announced = app.announced_once::<ShipmentReturned>().await;
    assert_eq!(announced.data["shipment_id"], id.as_str());
    assert_eq!(announced.data["order_id"], "o1");
    assert_eq!(announced.data["user_id"], "u1");
}

#[tokio::test]
async fn marking_returned_without_a_return_request_answers_409() {
    let app = spawn_app().await;
    let id = app.delivered_shipment("o1", "u1").await;
    let response = app.mark_returned(&id, &app.tokens.admin("root")).await;
    assert_eq!(response.status, 409);
    assert_eq!(response.body["details"]["status"], "delivered");
    assert_eq!(app.shipment_of("o1").await["status"], "delivered");
    app.settled().await;
    assert!(app.published_of::<ShipmentReturned>().is_empty());
}
