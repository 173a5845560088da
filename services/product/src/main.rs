//! The product service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(product_service::NAME, product_service::start).await
}
