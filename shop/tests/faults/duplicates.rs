use std::time::Duration;

use e2e::Target;
use serde_json::json;

use crate::{broker::Broker, system::System};

const APPROVED: &str = "4242424242424242";
const DECLINED: &str = "4000000000000002";

/// Every event of a completed purchase, a declined one and a refunded return is written
/// to its topic a second time, byte for byte; every service consumes all of them again,
/// and nothing a client can see changes: no second order, payment, shipment,
/// notification or stock movement, and nothing parked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_events_delivered_twice_change_nothing_twice() {
    let Some(broker) = Broker::start("memory://tansu/") else {
        return;
    };
    let system = System::start(&broker);
    let target = Target::remote(&system.gateway());
    let admin = target.admin().await.unwrap();
    let mug = admin
        .create_product("Twice-told mug", 900, 10)
        .await
        .unwrap();

    // Completed: bought, delivered, accepted.
    let ada = target.new_customer().await.unwrap().client;
    ada.add_to_cart(&mug, 2).await.unwrap();
    let completed = ada.checkout().await.unwrap();
    ada.pay(&completed, APPROVED).await.unwrap();
    admin.deliver(&ada, &completed).await.unwrap();
    ada.post(&format!("/orders/{completed}/accept"), json!({}))
        .await
        .unwrap();
    ada.order_status(&completed, "completed").await.unwrap();

    // Cancelled: the card is declined.
    let bob = target.new_customer().await.unwrap().client;
    bob.add_to_cart(&mug, 1).await.unwrap();
    let declined = bob.checkout().await.unwrap();
    bob.pay(&declined, DECLINED).await.unwrap();
    bob.order_status(&declined, "cancelled").await.unwrap();

    // Refunded: delivered, sent back, received.
    let cat = target.new_customer().await.unwrap().client;
    cat.add_to_cart(&mug, 3).await.unwrap();
    let returned = cat.checkout().await.unwrap();
    cat.pay(&returned, APPROVED).await.unwrap();
    admin.deliver(&cat, &returned).await.unwrap();
    cat.post(&format!("/orders/{returned}/return"), json!({}))
        .await
        .unwrap();
    admin.receive_return(&cat, &returned).await.unwrap();

    broker.wait_until_consumed(&system.names()).await;
    let customers = [&ada, &bob, &cat];
    let before = admin.snapshot(&customers, &[&mug]).await.unwrap();
    assert_eq!(
        before["stock"],
        json!([8]),
        "2 sold, 1 released, 3 returned"
    );
    let parked_before = broker.parked();

    let copied = broker.publish_everything_again().await;
    for topic in [
        "cart.checkout",
        "order.created",
        "stock.reserved",
        "payment.completed",
        "payment.failed",
        "payment.refunded",
        "shipment.delivered",
        "shipment.returned",
        "product.decrement",
    ] {
        assert!(
            copied.get(topic).is_some_and(|n| *n > 0),
            "{topic} not delivered again: {copied:?}"
        );
    }
    eprintln!("delivered again: {copied:?}");
    broker.wait_until_consumed(&system.names()).await;
    // Effects of a duplicate would show through the API a moment after its commit.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let after = admin.snapshot(&customers, &[&mug]).await.unwrap();
    assert_eq!(before, after, "a second delivery changed something");
    assert_eq!(
        parked_before,
        broker.parked(),
        "a second delivery was parked"
    );
}
