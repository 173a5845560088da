use axum::http::Method;
use serde_json::json;

use test_support::{eventually, field_of_each};

use crate::helpers::{ProductSteps, spawn_app};

#[tokio::test]
async fn a_customer_puts_a_product_on_sale_and_owns_it() {
    let app = spawn_app().await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/products",
            Some(&app.tokens.customer("seller")),
            Some(json!({
                "name": "  Blue mug ",
                "price": {"amount_minor": 1999, "currency": "EUR"},
                "stock": 5
            })),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.headers["location"],
        format!("/api/v1/products/{id}")
    );
    assert_eq!(created.body["owner_id"], "seller");
    assert_eq!(created.body["name"], "Blue mug");
    assert_eq!(created.body["stock"], 5);
    let event = &app.wait_for_events("product.created", 1).await[0];
    assert_eq!(event.key, id);
    assert_eq!(event.data["price"]["amount_minor"], 1999);
}

#[tokio::test]
async fn anyone_browses_the_catalog_by_page_and_name() {
    let app = spawn_app().await;
    for name in ["Blue mug", "Red mug", "Teapot"] {
        app.product("seller", name, 1).await;
    }
    let all = app.send(Method::GET, "/api/v1/products", None, None).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.listed(), 3);
    let names = field_of_each(&all.body["items"], "name");
    assert_eq!(names, ["Blue mug", "Red mug", "Teapot"]);

    let mugs = app
        .send(
            Method::GET,
            "/api/v1/products?name=MUG&per_page=1&page=2",
            None,
            None,
        )
        .await;
    assert_eq!(mugs.listed(), 1);
    assert_eq!(mugs.body["items"][0]["name"], "Red mug");
    assert_eq!(mugs.next_page(), None, "the teapot is no mug");

    // Following `next` from the first page keeps the filter and finds the same page.
    let first = app
        .send(
            Method::GET,
            "/api/v1/products?name=MUG&per_page=1",
            None,
            None,
        )
        .await;
    assert_eq!(first.body["items"][0]["name"], "Blue mug");
    let next = first.next_page().expect("a second mug follows");
    let second = app.send(Method::GET, next, None, None).await;
    assert_eq!(second.body["items"], mugs.body["items"]);
    assert_eq!(
        second.body.get("page"),
        None,
        "a page by cursor has no number"
    );

    let missing = app
        .send(Method::GET, "/api/v1/products/nope", None, None)
        .await;
    missing.assert_error(404, "not_found");
}

#[tokio::test]
async fn only_the_owner_or_an_admin_changes_or_removes_a_product() {
    let app = spawn_app().await;
    let id = app.product("seller", "Blue mug", 5).await;
    let uri = format!("/api/v1/products/{id}");
    let other = app.tokens.customer("someone-else");
    let change = json!({"price": {"amount_minor": 999, "currency": "EUR"}});

    let refused = app
        .send(Method::PATCH, &uri, Some(&other), Some(change.clone()))
        .await;
    assert_eq!(refused.status, 403);
    let refused = app.send(Method::DELETE, &uri, Some(&other), None).await;
    assert_eq!(refused.status, 403);
    let anonymous = app
        .send(Method::PATCH, &uri, None, Some(change.clone()))
        .await;
    assert_eq!(anonymous.status, 401);

    let by_owner = app
        .send(
            Method::PATCH,
            &uri,
            Some(&app.tokens.customer("seller")),
            Some(change),
        )
        .await;
    assert_eq!(by_owner.status, 200);
    assert_eq!(by_owner.body["price"]["amount_minor"], 999);
    let by_admin = app
        .send(
            Method::PATCH,
            &uri,
            Some(&app.tokens.admin("root")),
            Some(json!({"stock": 7})),
        )
        .await;
    assert_eq!(by_admin.body["stock"], 7);
    eventually("two product.updated events", || async {
        app.published("product.updated").len() == 2
    })
    .await;

    let removed = app
        .send(Method::DELETE, &uri, Some(&app.tokens.admin("root")), None)
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(app.send(Method::GET, &uri, None, None).await.status, 404);
    eventually("product.removed", || async {
        app.published("product.removed").len() == 1
    })
    .await;
}

#[tokio::test]
async fn invalid_products_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let token = app.tokens.customer("seller");
    for (body, field) in [
        (
            json!({"name": "", "price": {"amount_minor": 1, "currency": "EUR"}, "stock": 1}),
            "name",
        ),
        (
            json!({"name": "x", "price": {"amount_minor": -1, "currency": "EUR"}, "stock": 1}),
            "price.amount_minor",
        ),
        (
            json!({"name": "x", "price": {"amount_minor": 1, "currency": "euro"}, "stock": 1}),
            "price.currency",
        ),
        (
            json!({"name": "x", "price": {"amount_minor": 1, "currency": "EUR"}, "stock": -3}),
            "stock",
        ),
        (
            json!({"name": "x", "price": {"amount_minor": 1, "currency": "EUR"}}),
            "stock",
        ),
        (
            json!({"name": "x", "price": {"amount_minor": 1, "currency": "EUR"}, "stock": 1, "owner_id": "me"}),
            "owner_id",
        ),
    ] {
        let response = app
            .send(
                Method::POST,
                "/api/v1/products",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status, 422, "{body}");
        assert_eq!(response.body["details"]["field"], field, "{body}");
    }
    let listed = app.send(Method::GET, "/api/v1/products", None, None).await;
    assert_eq!(listed.listed(), 0, "nothing half-written");
}
