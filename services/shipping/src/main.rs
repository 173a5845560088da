//! The shipping service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(shipping_service::NAME, shipping_service::start).await
}
