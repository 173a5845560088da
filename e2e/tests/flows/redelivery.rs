use std::collections::BTreeMap;

use crate::system::System;
use event_bus::EventBus;
use serde_json::json;

#[tokio::test]
async fn redelivering_every_event_of_a_purchase_changes_nothing() {
    // Needs the in-process bus to replay history; a remote target has none to reach.
    let system = System::in_process(&[]).await.unwrap();
    let target = &system.target;
    let (admin, mug) = target
        .admin_selling("E2E replayed mug", 700, 4)
        .await
        .unwrap();
    let fay = target.new_customer().await.unwrap();
    let order_id = fay.client.order(&mug, 2).await.unwrap();
    fay.client.pay(&order_id, "4242424242424242").await.unwrap();
    admin.deliver(&fay.client, &order_id).await.unwrap();
    fay.client
        .post(&format!("/orders/{order_id}/accept"), json!({}))
        .await
        .unwrap();
    fay.client
        .follow("/notifications", "notifications settled", |r| {
            r.listed() >= 4
        })
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = admin.snapshot(&[&fay.client], &[&mug]).await.unwrap();

    // Every event ever published, delivered once more to every service.
    let bus = system.bus().unwrap();
    let mut replayed = BTreeMap::new();
    for topic in bus.topics().await.unwrap() {
        let events = bus.topic_log(&topic).await.unwrap();
        for event in &events {
            event_contracts::validate(event)
                .unwrap_or_else(|e| panic!("{topic} carried an off-contract event: {e}"));
        }
        replayed.insert(topic.clone(), events.len());
        bus.publish(&events).await.unwrap();
    }
    for topic in [
        "cart.checkout",
        "order.created",
        "stock.reserved",
        "payment.completed",
        "shipment.delivered",
        "product.decrement",
    ] {
        assert!(
            replayed.get(topic).is_some_and(|n| *n > 0),
            "{topic} not replayed: {replayed:?}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = admin.snapshot(&[&fay.client], &[&mug]).await.unwrap();
    assert_eq!(before, after, "a redelivered event changed something");
    for topic in replayed.keys() {
        assert!(
            bus.parked(topic).await.unwrap().is_empty(),
            "{topic} parked events on replay"
        );
    }
    system.stop().await;
}
