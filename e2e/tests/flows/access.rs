use crate::system::System;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_customer_cannot_read_or_act_on_another_customers_things() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, mug) = target
        .admin_selling("E2E guarded mug", 1000, 10)
        .await
        .unwrap();
    let owner = target.new_customer().await.unwrap();
    let intruder = target.new_customer().await.unwrap();
    let (owner, intruder) = (&owner.client, &intruder.client);

    let personal = owner.create_product("Owner's bike", 9900, 1).await.unwrap();
    let order_id = owner.order(&mug, 1).await.unwrap();
    owner.order_status(&order_id, "pending").await.unwrap();
    let payment = owner.payment_of(&order_id).await.unwrap();
    let payment_id = payment["id"].as_str().unwrap();
    let shipment = owner.shipment_of(&order_id).await.unwrap();
    let shipment_id = shipment["id"].as_str().unwrap();

    for (what, reply) in [
        (
            "read order",
            intruder.get(&format!("/orders/{order_id}")).await.unwrap(),
        ),
        (
            "cancel order",
            intruder
                .post(&format!("/orders/{order_id}/cancel"), json!({}))
                .await
                .unwrap(),
        ),
        (
            "read payment",
            intruder
                .get(&format!("/payments/{payment_id}"))
                .await
                .unwrap(),
        ),
        (
            "pay",
            intruder
                .post(
                    &format!("/payments/{payment_id}/pay"),
                    json!({"card_number": "4242424242424242"}),
                )
                .await
                .unwrap(),
        ),
        (
            "read shipment",
            intruder
                .get(&format!("/shipments/{shipment_id}"))
                .await
                .unwrap(),
        ),
        (
            "change product",
            intruder
                .send(
                    reqwest::Method::PATCH,
                    &format!("/products/{personal}"),
                    Some(json!({"stock": 0})),
                )
                .await
                .unwrap(),
        ),
        (
            "delete product",
            intruder
                .delete(&format!("/products/{personal}"))
                .await
                .unwrap(),
        ),
        (
            "refund",
            intruder
                .post(&format!("/payments/{payment_id}/refund"), json!({}))
                .await
                .unwrap(),
        ),
        (
            "deliver",
            intruder
                .post(&format!("/shipments/{shipment_id}/deliver"), json!({}))
                .await
                .unwrap(),
        ),
    ] {
        assert!(
            matches!(reply.status.as_u16(), 403 | 404),
            "{what}: {} {:?}",
            reply.status,
            reply.body
        );
        reply.error_code();
    }
    // Lists only ever show the caller's own.
    for path in [
        "/orders".to_owned(),
        format!("/payments?order_id={order_id}"),
        format!("/shipments?order_id={order_id}"),
    ] {
        let listed = intruder.get(&path).await.unwrap();
        assert_eq!(listed.listed(), 0, "{path}: {:?}", listed.body);
    }
    // The cart is per caller: the intruder's is empty, the owner's order untouched.
    let cart = intruder.get("/cart").await.unwrap();
    assert_eq!(cart.body["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        owner
            .order_status(&order_id, "pending")
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );
    assert_eq!(admin.stock_of(&personal).await.unwrap(), 1);
    system.stop().await;
}

#[tokio::test]
async fn an_admin_inspects_every_order_payment_and_shipment() {
    let system = System::from_env().await.unwrap();
    let target = &system.target;
    let (admin, mug) = target
        .admin_selling("E2E admin mug", 1000, 10)
        .await
        .unwrap();
    let mut orders = Vec::new();
    for _ in 0..2 {
        let customer = target.new_customer().await.unwrap();
        let order_id = customer.client.order(&mug, 1).await.unwrap();
        customer.client.payment_of(&order_id).await.unwrap();
        customer.client.shipment_of(&order_id).await.unwrap();
        orders.push(order_id);
    }
    for order_id in &orders {
        let order = admin.get(&format!("/orders/{order_id}")).await.unwrap();
        assert_eq!(order.status, StatusCode::OK);
        for path in [
            format!("/payments?order_id={order_id}"),
            format!("/shipments?order_id={order_id}"),
        ] {
            let listed = admin.get(&path).await.unwrap();
            assert_eq!(listed.listed(), 1, "{path}");
        }
    }
    let all = admin.get("/orders?per_page=100").await.unwrap();
    let ids = all.each("items", "id");
    assert!(orders.iter().all(|o| ids.contains(&o.as_str())), "{ids:?}");
    for path in ["/payments?per_page=100", "/shipments?per_page=100"] {
        let listed = admin.get(path).await.unwrap();
        assert!(listed.listed() >= 2, "{path}");
    }
    system.stop().await;
}
