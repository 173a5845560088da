//! The client side of the full-flow scenarios: a [`Target`] is a running system known
//! only by its gateway's base URL (and an admin to act as), and [`Client`] speaks the
//! public API to it, as a customer, an admin or a load generator would. It never
//! reaches into a service and knows none of them: starting a system is the harness's
//! job (the in-process one in `tests/flows/system.rs`, processes in xtask), so what
//! depends on this crate (the load generator) compiles no service, Kafka or MongoDB.
//!
//! Every client here is a naive one, as a REST consumer following the README would
//! be: each step is sent right after the previous one answered, once. It waits only
//! where the API says to:
//!
//! - an answer with `Retry-After` (a 409 or 503 saying the state is on its way) is sent
//!   again after that long ([`Client::send`]);
//! - what the API documents as following by event is polled ([`Client::follow`]): the
//!   checkout's `Location` (the order), and what an order's change causes elsewhere (a
//!   payment's or shipment's status, the stock, notifications, the admin's lists).
//!
//! So a scenario fails if any step is told something that contradicts what the API
//! just told it: a product it created is unknown, a profile it registered is missing,
//! a return it opened cannot be received.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@shop.test";
pub const ADMIN_PASSWORD: &str = "admin password for e2e";

/// Where the scenarios run, and the admin they may act as.
pub struct Target {
    pub base_url: String,
    pub admin_email: String,
    pub admin_password: String,
    /// Base URLs of the services behind the gateway, when whoever started the system
    /// can reach them (an in-process system); empty otherwise.
    pub service_urls: Vec<String>,
}

impl Target {
    /// The system at `E2E_BASE_URL`, if that is set.
    pub fn from_env() -> Option<Self> {
        std::env::var("E2E_BASE_URL")
            .ok()
            .map(|url| Self::remote(&url))
    }

    /// A running system at `base_url`; the admin from `E2E_ADMIN_EMAIL` and
    /// `E2E_ADMIN_PASSWORD`, or the defaults the test command bootstraps.
    pub fn remote(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            admin_email: std::env::var("E2E_ADMIN_EMAIL").unwrap_or_else(|_| ADMIN_EMAIL.into()),
            admin_password: std::env::var("E2E_ADMIN_PASSWORD")
                .unwrap_or_else(|_| ADMIN_PASSWORD.into()),
            service_urls: Vec::new(),
        }
    }

    pub fn client(&self) -> Client {
        Client {
            base_url: format!("{}/api/v1", self.base_url),
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// A client logged in as the admin.
    pub async fn admin(&self) -> anyhow::Result<Client> {
        let mut client = self.client();
        client
            .login(&self.admin_email, &self.admin_password)
            .await?;
        Ok(client)
    }

    /// The opening of most scenarios: the admin, having put a product on sale; returns
    /// the admin's client and the product's id.
    pub async fn admin_selling(
        &self,
        name: &str,
        price_minor: i64,
        stock: u32,
    ) -> anyhow::Result<(Client, String)> {
        let admin = self.admin().await?;
        let product = admin.create_product(name, price_minor, stock).await?;
        Ok((admin, product))
    }

    /// Registers a fresh customer (unique email) and logs them in.
    pub async fn new_customer(&self) -> anyhow::Result<Customer> {
        let email = format!("c-{}@shop.test", uuid::Uuid::new_v4().simple());
        let password = "customer password 1".to_owned();
        let mut client = self.client();
        let registered = client
            .post(
                "/auth/register",
                json!({"email": email, "password": password}),
            )
            .await?;
        anyhow::ensure!(
            registered.status == StatusCode::CREATED,
            "register: {registered:?}"
        );
        let id = registered.body["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let tokens = client.login(&email, &password).await?;
        Ok(Customer {
            id,
            email,
            password,
            refresh_token: tokens["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            client,
        })
    }
}

pub struct Customer {
    pub id: String,
    pub email: String,
    pub password: String,
    pub refresh_token: String,
    pub client: Client,
}

/// An answer read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `code` of an error body, checking it has the `{code, message, details}` shape.
    pub fn error_code(&self) -> &str {
        let obj = self.body.as_object().expect("error body is an object");
        let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["code", "details", "message"],
            "error shape: {}",
            self.body
        );
        obj["code"].as_str().expect("code is a string")
    }

    /// How many items a page of a list holds; a body that is not a page (an error, say)
    /// fails the test rather than counting as an empty list.
    #[track_caller]
    pub fn listed(&self) -> usize {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a page of a list ({}): {}", self.status, self.body))
            .len()
    }

    /// The text `field` of each element of the body's `list` array (`items`, `history`):
    /// what a scenario looks for an id, a status or a kind in.
    pub fn each(&self, list: &str, field: &str) -> Vec<&str> {
        self.body[list]
            .as_array()
            .unwrap_or_else(|| panic!("no {list} array in {:?}", self.body))
            .iter()
            .filter_map(|element| element[field].as_str())
            .collect()
    }
}

#[derive(Clone)]
pub struct Client {
    base_url: String,
    http: reqwest::Client,
    pub token: Option<String>,
}

impl Client {
    /// Sends a request, and sends it again only when the answer says to: a 409 or 503
    /// with `Retry-After` (the state it needs is on its way), after that long.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Reply> {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let reply = self.send_once(method.clone(), path, body.clone()).await?;
            let retry_after = reply
                .headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let on_its_way = matches!(reply.status.as_u16(), 409 | 503);
            match retry_after {
                Some(secs) if on_its_way && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_secs(secs.min(2))).await;
                }
                _ => return Ok(reply),
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Reply> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!({ "non_json_body": String::from_utf8_lossy(&bytes) }))
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(Method::GET, path, None).await
    }

    /// Every item of a list, read page by page by following each page's `next` link
    /// (a path under `/api/v1`, as the system gives it).
    pub async fn all_pages(&self, first: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut page = self.get(first).await?;
        loop {
            anyhow::ensure!(page.status == StatusCode::OK, "listing {first}: {page:?}");
            items.extend(page.body["items"].as_array().cloned().unwrap_or_default());
            let Some(next) = page.body["next"].as_str() else {
                anyhow::ensure!(page.body["has_more"] == false, "no next but more: {page:?}");
                return Ok(items);
            };
            let path = next
                .strip_prefix("/api/v1")
                .ok_or_else(|| anyhow::anyhow!("a next link outside the API: {next}"))?;
            page = self.get(path).await?;
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Reply> {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> anyhow::Result<Reply> {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(Method::DELETE, path, None).await
    }

    /// Logs in and keeps the access token for later calls; returns the token pair.
    pub async fn login(&mut self, email: &str, password: &str) -> anyhow::Result<Value> {
        let reply = self
            .post("/auth/login", json!({"email": email, "password": password}))
            .await?;
        anyhow::ensure!(
            reply.status == StatusCode::OK,
            "login as {email}: {reply:?}"
        );
        self.token = reply.body["access_token"].as_str().map(str::to_owned);
        Ok(reply.body)
    }

    /// Exchanges a refresh token for a new token pair (without keeping the new access
    /// token: the scenario decides whether to use it).
    pub async fn refresh(&self, refresh_token: &str) -> anyhow::Result<Reply> {
        self.post("/auth/refresh", json!({"refresh_token": refresh_token}))
            .await
    }
}

/// How long a scenario waits for state that arrives by event.
const SETTLE: Duration = Duration::from_secs(15);

impl Client {
    /// Polls `GET path` until `done` holds for the answer: only for what the API
    /// documents as following by event (see the crate's documentation), never for the
    /// answer to a step of the client's own.
    pub async fn follow(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&Reply) -> bool,
    ) -> anyhow::Result<Reply> {
        self.follow_within(SETTLE, path, what, done).await
    }

    /// [`Client::follow`] for up to `within`: for a fault test, where a system that
    /// just lost a process may take longer than a scenario's usual wait.
    pub async fn follow_within(
        &self,
        within: Duration,
        path: &str,
        what: &str,
        done: impl Fn(&Reply) -> bool,
    ) -> anyhow::Result<Reply> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let reply = self.get(path).await?;
            if done(&reply) {
                return Ok(reply);
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "waited for {what} on GET {path}; last answer: {reply:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Puts a product on sale (as whoever this client is) and returns its id.
    pub async fn create_product(
        &self,
        name: &str,
        price_minor: i64,
        stock: u32,
    ) -> anyhow::Result<String> {
        let reply = self
            .post(
                "/products",
                json!({
                    "name": name,
                    "description": "e2e product",
                    "price": {"amount_minor": price_minor, "currency": "EUR"},
                    "stock": stock,
                }),
            )
            .await?;
        anyhow::ensure!(
            reply.status == StatusCode::CREATED,
            "create product: {reply:?}"
        );
        Ok(reply.body["id"].as_str().unwrap_or_default().to_owned())
    }

    pub async fn stock_of(&self, product_id: &str) -> anyhow::Result<u64> {
        let reply = self.get(&format!("/products/{product_id}")).await?;
        reply.body["stock"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no stock in {reply:?}"))
    }

    /// Adds to the cart, at once: a product created a moment ago must be known.
    pub async fn add_to_cart(&self, product_id: &str, quantity: u32) -> anyhow::Result<Reply> {
        let reply = self
            .post(
                "/cart/items",
                json!({"product_id": product_id, "quantity": quantity}),
            )
            .await?;
        anyhow::ensure!(
            reply.status.is_success(),
            "add {product_id} to cart: {reply:?}"
        );
        Ok(reply)
    }

    /// Checks the cart out and returns the order id from the 202 (whose `Location` names
    /// the order, placed by event: [`Client::placed`] follows it).
    pub async fn checkout(&self) -> anyhow::Result<String> {
        let reply = self.post("/cart/checkout", json!({})).await?;
        anyhow::ensure!(reply.status == StatusCode::ACCEPTED, "checkout: {reply:?}");
        let order_id = reply.body["order_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let location = reply.headers.get("location").and_then(|v| v.to_str().ok());
        anyhow::ensure!(
            location == Some(format!("/api/v1/orders/{order_id}").as_str()),
            "checkout Location header: {location:?}"
        );
        Ok(order_id)
    }

    /// Follows a checkout's `Location` until its order is placed.
    pub async fn placed(&self, order_id: &str) -> anyhow::Result<Reply> {
        self.follow(&format!("/orders/{order_id}"), "the order placed", |r| {
            r.status == StatusCode::OK
        })
        .await
    }

    /// As a customer: puts `quantity` of a product in the cart, checks out, and follows
    /// the checkout's `Location` until the order is placed; returns the order id.
    pub async fn order(&self, product_id: &str, quantity: u32) -> anyhow::Result<String> {
        self.add_to_cart(product_id, quantity).await?;
        let order_id = self.checkout().await?;
        self.placed(&order_id).await?;
        Ok(order_id)
    }

    /// Follows the order (the checkout's `Location`) until it is `status`.
    pub async fn order_status(&self, order_id: &str, status: &str) -> anyhow::Result<Reply> {
        self.follow(
            &format!("/orders/{order_id}"),
            &format!("status {status}"),
            |r| r.body["status"] == status,
        )
        .await
    }

    /// The payment of an order, at once: the order is placed, so its payment is found.
    pub async fn payment_of(&self, order_id: &str) -> anyhow::Result<Value> {
        self.first_of_order("/payments", order_id, "the payment")
            .await
    }

    pub async fn shipment_of(&self, order_id: &str) -> anyhow::Result<Value> {
        self.first_of_order("/shipments", order_id, "the shipment")
            .await
    }

    /// The one item `GET {list}?order_id=...` lists, read once.
    async fn first_of_order(
        &self,
        list: &str,
        order_id: &str,
        what: &str,
    ) -> anyhow::Result<Value> {
        let reply = self.get(&format!("{list}?order_id={order_id}")).await?;
        anyhow::ensure!(
            reply.status == StatusCode::OK && reply.listed() == 1,
            "{what} of order {order_id}: {reply:?}"
        );
        Ok(reply.body["items"][0].clone())
    }

    /// Pays an order's payment with a card: sent once (again only after a
    /// `Retry-After`, while the order's stock is not reserved yet).
    pub async fn pay(&self, order_id: &str, card: &str) -> anyhow::Result<Reply> {
        self.placed(order_id).await?;
        let payment = self.payment_of(order_id).await?;
        let id = payment["id"].as_str().unwrap_or_default().to_owned();
        self.post(&format!("/payments/{id}/pay"), json!({"card_number": card}))
            .await
    }
}

impl Client {
    /// As the admin: marks an order's shipment delivered, once the order awaits it, and
    /// waits for the order to say so.
    pub async fn deliver(&self, customer: &Client, order_id: &str) -> anyhow::Result<()> {
        customer.order_status(order_id, "awaiting_shipment").await?;
        let shipment = customer.shipment_of(order_id).await?;
        let id = shipment["id"].as_str().unwrap_or_default();
        let reply = self
            .post(&format!("/shipments/{id}/deliver"), json!({}))
            .await?;
        anyhow::ensure!(reply.status == StatusCode::OK, "deliver {id}: {reply:?}");
        customer.order_status(order_id, "delivered").await?;
        Ok(())
    }

    /// As the admin: right after the customer's return answered, receives the parcel,
    /// and follows the order until it is refunded.
    pub async fn receive_return(&self, customer: &Client, order_id: &str) -> anyhow::Result<()> {
        let shipment = customer.shipment_of(order_id).await?;
        let id = shipment["id"].as_str().unwrap_or_default();
        let reply = self
            .post(&format!("/shipments/{id}/return"), json!({}))
            .await?;
        anyhow::ensure!(reply.status == StatusCode::OK, "receive {id}: {reply:?}");
        customer.order_status(order_id, "refunded").await?;
        Ok(())
    }

    /// Everything the admin and the given customers can see of the system: every order,
    /// payment and shipment, the stock of the given products, and each customer's
    /// notification count. Two equal snapshots mean nothing observable changed.
    pub async fn snapshot(
        &self,
        customers: &[&Client],
        products: &[&str],
    ) -> anyhow::Result<Value> {
        // Every page of a list, without when each item was last touched (not state).
        let list = |path: &'static str| async move {
            let mut items = self.all_pages(path).await?;
            for item in &mut items {
                item.as_object_mut().map(|o| o.remove("updated_at"));
            }
            anyhow::Ok(items)
        };
        let mut stock = Vec::new();
        for product in products {
            stock.push(self.stock_of(product).await?);
        }
        let mut notifications = Vec::new();
        for customer in customers {
            notifications.push(
                customer
                    .all_pages("/notifications?per_page=100")
                    .await?
                    .len(),
            );
        }
        Ok(json!({
            "orders": list("/orders?per_page=100").await?,
            "payments": list("/payments?per_page=100").await?,
            "shipments": list("/shipments?per_page=100").await?,
            "stock": stock,
            "notifications": notifications,
        }))
    }
}
