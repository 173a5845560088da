//! The notification service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(notification_service::NAME, notification_service::start).await
}
