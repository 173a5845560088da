//! The payment service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(payment_service::NAME, payment_service::start).await
}
