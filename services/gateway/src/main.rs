use std::sync::Arc;

use anyhow::Context;
use service_kit::{Settings, TokenVerifier};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Arc::new(Settings::load()?);
    service_kit::telemetry::init(settings.log_format);
    let listener = TcpListener::bind((settings.host, settings.gateway_port))
        .await
        .with_context(|| {
            format!(
                "binding the gateway to {}:{}",
                settings.host, settings.gateway_port
            )
        })?;
    let verifier = Arc::new(TokenVerifier::remote(
        settings.jwks_url(),
        &settings.jwt_issuer,
        &settings.jwt_audience,
    ));
    let shutdown = CancellationToken::new();
    let running = gateway_service::start(settings, verifier, listener, shutdown.clone()).await?;
    stop_requested().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    running.stopped().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM from Docker or Kubernetes.
async fn stop_requested() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
