use crate::system::System;

#[tokio::test]
async fn concurrent_checkouts_of_the_last_units_never_oversell() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, last) = target
        .admin_selling("E2E last units", 500, 3)
        .await
        .unwrap();
    let mut customers = Vec::new();
    for _ in 0..8 {
        let c = target.new_customer().await.unwrap();
        c.client.add_to_cart(&last, 1).await.unwrap();
        customers.push(c);
    }
    // Everyone checks out at once.
    let checkouts = customers.iter().map(|c| c.client.checkout());
    let order_ids: Vec<String> = futures::future::try_join_all(checkouts).await.unwrap();

    let mut held = 0;
    let mut cancelled = 0;
    for (customer, order_id) in customers.iter().zip(&order_ids) {
        let order = customer
            .client
            .follow(&format!("/orders/{order_id}"), "a stock decision", |r| {
                r.body["stock_reserved"] == true || r.body["status"] == "cancelled"
            })
            .await
            .unwrap();
        if order.body["status"] == "cancelled" {
            cancelled += 1;
        } else {
            held += 1;
        }
    }
    assert_eq!((held, cancelled), (3, 5));
    assert_eq!(admin.stock_of(&last).await.unwrap(), 0);
    system.stop().await;
}
