//! The order service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(order_service::NAME, order_service::start).await
}
