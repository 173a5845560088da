//! The user service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(user_service::NAME, user_service::start).await
}
