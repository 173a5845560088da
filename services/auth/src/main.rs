//! The auth service on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run_service(auth_service::NAME, auth_service::start).await
}
