use std::time::{Duration, Instant};

use e2e::Target;
use serde_json::json;

use crate::{broker::Broker, system::System};

const CHECKOUTS: usize = 16;

/// tansu on its PostgreSQL storage is killed while customers check out and started
/// again a moment later. Checkouts keep answering 202 (each waits in the cart's
/// outbox), every one becomes exactly one order, and every order then runs to a final
/// state: completed, refunded after a return, or cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_the_broker_during_checkouts_loses_no_order() {
    let Ok(postgres) = std::env::var("SHOP_TEST_TANSU_POSTGRES") else {
        eprintln!(
            "SKIPPED: SHOP_TEST_TANSU_POSTGRES (a PostgreSQL database for tansu's storage) \
             is not set; cargo xtask test starts a throwaway cluster and sets it"
        );
        return;
    };
    let Some(mut broker) = Broker::start(&postgres) else {
        return;
    };
    let system = System::start(&broker);
    let target = Target::remote(&system.gateway());
    let admin = target.admin().await.unwrap();
    let product = admin
        .create_product("Outage-proof mug", 500, 100)
        .await
        .unwrap();
    let mut customers = Vec::new();
    for _ in 0..CHECKOUTS {
        let c = target.new_customer().await.unwrap().client;
        c.add_to_cart(&product, 1).await.unwrap();
        customers.push(c);
    }

    // Checkouts one every 100 ms; the broker dies after the third and is back
    // three seconds later, after the last checkout.
    let checkouts = async {
        let mut orders = Vec::new();
        for customer in &customers {
            orders.push(
                customer
                    .checkout()
                    .await
                    .expect("checkout answers 202 while the broker is down"),
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        orders
    };
    let outage = async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        broker.kill();
        tokio::time::sleep(Duration::from_secs(3)).await;
        broker.restart();
    };
    let (orders, ()) = tokio::join!(checkouts, outage);

    // Clients reconnect with backoff, so allow longer than a scenario's usual wait.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let all = admin.get("/orders?per_page=100").await.unwrap();
        if all.listed() == CHECKOUTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "orders after the broker's restart: {} of {CHECKOUTS}",
            all.listed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Then each order runs to one of the lifecycle's ends: every fourth completed,
    // every fourth refunded after a return, the other half cancelled (card declined).
    for (i, (customer, order_id)) in customers.iter().zip(&orders).enumerate() {
        let card = if i % 2 == 0 {
            "4242424242424242"
        } else {
            "4000000000000002"
        };
        customer.pay(order_id, card).await.unwrap();
    }
    for (i, (customer, order_id)) in customers.iter().zip(&orders).enumerate() {
        match i % 4 {
            0 => {
                admin.deliver(customer, order_id).await.unwrap();
                customer
                    .post(&format!("/orders/{order_id}/accept"), json!({}))
                    .await
                    .unwrap();
                customer.order_status(order_id, "completed").await.unwrap();
            }
            2 => {
                admin.deliver(customer, order_id).await.unwrap();
                customer
                    .post(&format!("/orders/{order_id}/return"), json!({}))
                    .await
                    .unwrap();
                admin.receive_return(customer, order_id).await.unwrap();
            }
            _ => {
                customer.order_status(order_id, "cancelled").await.unwrap();
            }
        }
    }

    let all = admin.get("/orders?per_page=100").await.unwrap();
    assert_eq!(all.listed(), CHECKOUTS, "one order per checkout");
    let payments = admin.get("/payments?per_page=100").await.unwrap();
    assert_eq!(payments.listed(), CHECKOUTS, "one payment per order");
    let sold = CHECKOUTS.div_ceil(4) as u64;
    admin
        .follow(&format!("/products/{product}"), "the stock settled", |r| {
            r.body["stock"] == 100 - sold
        })
        .await
        .unwrap();
    let parked: i64 = broker.parked().values().sum();
    assert_eq!(parked, 0, "no event needed a replay: {:?}", broker.parked());
}
