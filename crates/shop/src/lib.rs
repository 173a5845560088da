//! The whole system in one process: every service on its own port, the gateway in
//! front, one embedded store namespace per service and the in-process event bus. This
//! crate only wires services together; it must never add behaviour of its own, so the
//! one-process system answers exactly as the distributed one does.

pub mod distributed;

use std::{net::SocketAddr, sync::Arc};

use event_bus::InProcessBus;
use service_host::{open_in_process_bus, open_store};
use service_kit::{Running, ServiceContext, ServiceName, Settings, TokenVerifier};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The services this runner starts, behind the gateway, in start order (auth first:
/// it creates the bootstrap admin and serves the keys the others verify tokens with).
pub const SERVICES: &[ServiceName] = &[
    ServiceName::Auth,
    ServiceName::User,
    ServiceName::Product,
    ServiceName::Cart,
    ServiceName::Order,
    ServiceName::Payment,
    ServiceName::Shipping,
    ServiceName::Notification,
];

pub struct RunningSystem {
    pub settings: Arc<Settings>,
    pub gateway: SocketAddr,
    pub services: Vec<(ServiceName, SocketAddr)>,
    bus: Arc<InProcessBus>,
    shutdown: CancellationToken,
    running: Vec<Running>,
}

impl RunningSystem {
    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.gateway)
    }

    /// The event bus every service of this process shares, for inspection in tests.
    pub fn bus(&self) -> &InProcessBus {
        &self.bus
    }

    /// Stops accepting requests, lets in-flight work finish, and waits for every task.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for running in self.running {
            running.stopped().await;
        }
    }
}

/// How ports are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ports {
    /// The ports in the settings (8080 for the gateway, 8081.. for the services).
    Configured,
    /// Free ports picked by the OS, for tests that run side by side.
    Ephemeral,
}

pub async fn start(mut settings: Settings, ports: Ports) -> anyhow::Result<RunningSystem> {
    // Bind every listener before starting anything, so each service knows where the
    // others really are (port 0 resolves here).
    let mut listeners = Vec::new();
    for &name in SERVICES.iter().chain([&ServiceName::Gateway]) {
        let port = match ports {
            Ports::Configured => settings.port(name),
            Ports::Ephemeral => 0,
        };
        let listener = TcpListener::bind((settings.host, port))
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot listen on {}:{port} for {name}: {e}", settings.host)
            })?;
        settings.set_port(name, listener.local_addr()?.port());
        listeners.push((name, listener));
    }
    let settings = Arc::new(settings);
    let shutdown = CancellationToken::new();
    let bus = Arc::new(open_in_process_bus(&settings)?);
    let verifier = Arc::new(TokenVerifier::remote(
        settings.jwks_url(),
        &settings.jwt_issuer,
        &settings.jwt_audience,
    ));

    let mut running = Vec::new();
    let mut services = Vec::new();
    let mut gateway = None;
    for (name, listener) in listeners {
        let addr = listener.local_addr()?;
        // The gateway keeps no state of its own.
        let context = || async {
            anyhow::Ok(ServiceContext {
                settings: settings.clone(),
                store: open_store(&settings, name).await?,
                bus: bus.clone() as Arc<dyn event_bus::EventBus>,
                verifier: verifier.clone(),
                shutdown: shutdown.clone(),
            })
        };
        let started = async {
            match name {
                ServiceName::Auth => auth_service::start(context().await?, listener).await,
                ServiceName::User => user_service::start(context().await?, listener).await,
                ServiceName::Product => product_service::start(context().await?, listener).await,
                ServiceName::Cart => cart_service::start(context().await?, listener).await,
                ServiceName::Order => order_service::start(context().await?, listener).await,
                ServiceName::Payment => payment_service::start(context().await?, listener).await,
                ServiceName::Shipping => shipping_service::start(context().await?, listener).await,
                ServiceName::Notification => {
                    notification_service::start(context().await?, listener).await
                }
                ServiceName::Gateway => {
                    gateway = Some(addr);
                    gateway_service::start(
                        settings.clone(),
                        verifier.clone(),
                        listener,
                        shutdown.clone(),
                    )
                    .await
                }
            }
        }
        .await;
        match started {
            Ok(r) => running.push(r),
            Err(e) => {
                // Stop what already runs before reporting, so nothing lingers.
                shutdown.cancel();
                for r in running {
                    r.stopped().await;
                }
                return Err(e.context(format!("starting {name}")));
            }
        }
        if name != ServiceName::Gateway {
            services.push((name, addr));
        }
    }
    Ok(RunningSystem {
        settings,
        gateway: gateway.expect("the gateway is always started"),
        services,
        bus,
        shutdown,
        running,
    })
}
