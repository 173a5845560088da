//! The cart service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(cart_service::NAME, cart_service::start).await
}
