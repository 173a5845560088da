//! The gateway on its own, for images and the distributed mode.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_host::run(gateway_service::NAME, |host| {
        gateway_service::start(host.settings, host.verifier, host.listener, host.shutdown)
    })
    .await
}
