//! The composition root: the one place that knows every service. It lists them once
//! ([`SERVICES`]), picks the store and bus adapters the settings name ([`host`]), and
//! starts the system in one process ([`start`]), one service alone ([`host::serve`]),
//! or every service as a process of its own ([`distributed`]). It must never add
//! behaviour of its own, so the one-process system answers exactly as the distributed
//! one does.

pub mod distributed;
pub mod host;

use std::{net::SocketAddr, sync::Arc};

use event_bus::InProcessBus;
use service_kit::{Running, ServiceDef, ServiceName, Settings};
use tokio_util::sync::CancellationToken;

use crate::host::open_in_process_bus;

/// Every service of the system, in start order: auth first (it creates the bootstrap
/// admin and serves the keys the others verify tokens with), the gateway last (it
/// fronts the others). Settings, `shop serve`, the launchers and the gateway's routes
/// and OpenAPI document all derive from this list.
pub const SERVICES: &[&ServiceDef] = &[
    &auth_service::SERVICE,
    &user_service::SERVICE,
    &product_service::SERVICE,
    &cart_service::SERVICE,
    &order_service::SERVICE,
    &payment_service::SERVICE,
    &shipping_service::SERVICE,
    &notification_service::SERVICE,
    &gateway_service::SERVICE,
];

/// The service called `name`, if the system has one.
pub fn service(name: &str) -> Option<&'static ServiceDef> {
    SERVICES.iter().copied().find(|s| s.name == name)
}

/// The settings with every service's default port filled in where no layer set one.
/// A port or URL setting for a service the system does not have (a typo such as
/// `SHOP_ODRER_PORT`) is refused rather than ignored.
pub fn settings(settings: Settings) -> anyhow::Result<Settings> {
    for name in settings.ports.keys().chain(settings.urls.keys()) {
        if service(name).is_none() {
            let known: Vec<_> = SERVICES.iter().map(|s| s.name.as_str()).collect();
            anyhow::bail!(
                "the port or URL setting for `{name}` (SHOP_{}_PORT or _URL) names no service; \
                 the services are {}",
                name.to_uppercase(),
                known.join(", ")
            );
        }
    }
    Ok(settings.with_default_ports(SERVICES.iter().map(|s| (s.name, s.default_port))))
}

pub struct RunningSystem {
    pub settings: Arc<Settings>,
    bus: Arc<InProcessBus>,
    shutdown: CancellationToken,
    /// Every service, in start order.
    running: Vec<Running>,
}

impl RunningSystem {
    pub fn gateway_url(&self) -> String {
        let gateway = gateway_service::SERVICE.name;
        let edge = self.running.iter().find(|r| r.name == gateway);
        format!(
            "http://{}",
            edge.expect("the gateway is one of the services").addr
        )
    }

    /// Every service but the gateway, in start order, with the address it answers on.
    pub fn services(&self) -> impl Iterator<Item = (ServiceName, SocketAddr)> + '_ {
        let gateway = gateway_service::SERVICE.name;
        self.running
            .iter()
            .filter(move |r| r.name != gateway)
            .map(|r| (r.name, r.addr))
    }

    /// The event bus every service of this process shares, for inspection in tests.
    pub fn bus(&self) -> &InProcessBus {
        &self.bus
    }

    /// Resolves once a vital task of any service has stopped while the system runs,
    /// with which: the process should then stop and exit non-zero.
    pub async fn failed(&self) -> String {
        let watches = self.running.iter().map(|r| Box::pin(r.failed()));
        futures::future::select_all(watches).await.0
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

/// Every service in this process, on one in-process bus, each in its own store
/// namespace.
pub async fn start(settings: Settings, ports: Ports) -> anyhow::Result<RunningSystem> {
    let mut settings = self::settings(settings)?;
    // Bind every listener before starting anything, so each service knows where the
    // others really are (port 0 resolves here).
    let mut listeners = Vec::new();
    for &service in SERVICES {
        let port = match ports {
            Ports::Configured => settings.port(service.name),
            Ports::Ephemeral => 0,
        };
        let listener = host::listen(&settings, service.name, port).await?;
        settings.set_port(service.name, listener.local_addr()?.port());
        listeners.push((service, listener));
    }
    let settings = Arc::new(settings);
    let shutdown = CancellationToken::new();
    let bus = Arc::new(open_in_process_bus(&settings)?);
    let verifier = host::verifier(&settings);

    let mut running: Vec<Running> = Vec::new();
    for (service, listener) in listeners {
        let shared_bus = async { Ok(bus.clone() as Arc<dyn event_bus::EventBus>) };
        let started = async {
            let ctx = host::context(service, &settings, shared_bus, &verifier, &shutdown).await?;
            service.start(ctx, listener).await
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
                return Err(e.context(format!("starting {}", service.name)));
            }
        }
    }
    Ok(RunningSystem {
        settings,
        bus,
        shutdown,
        running,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_service_has_a_name_and_a_default_port_of_its_own() {
        let names: HashSet<_> = SERVICES.iter().map(|s| s.name).collect();
        let ports: HashSet<_> = SERVICES.iter().map(|s| s.default_port).collect();
        assert_eq!(names.len(), SERVICES.len());
        assert_eq!(ports.len(), SERVICES.len());
    }

    #[test]
    fn every_service_but_the_gateway_owns_exactly_one_prefix() {
        for service in SERVICES {
            let owned = service.public_api.map_or(0, |api| api.prefixes.len());
            let expected = usize::from(service.name != gateway_service::SERVICE.name);
            assert_eq!(owned, expected, "{}", service.name);
        }
    }

    #[test]
    fn auth_starts_first_and_the_gateway_last() {
        // Auth creates the bootstrap admin and serves the keys the others check tokens
        // with; the gateway fronts all the others.
        assert_eq!(SERVICES.first().unwrap().name, "auth");
        assert_eq!(SERVICES.last().unwrap().name, gateway_service::SERVICE.name);
    }

    #[test]
    fn settings_name_every_service_s_port_unless_a_layer_did() {
        let settings = settings(Settings::from_pairs([("order_port", "9005")]).unwrap()).unwrap();
        assert_eq!(settings.port(order_service::SERVICE.name), 9005);
        assert_eq!(settings.port(gateway_service::SERVICE.name), 8080);
        assert_eq!(
            settings.url(auth_service::SERVICE.name),
            "http://127.0.0.1:8081"
        );
    }

    #[test]
    fn a_port_for_a_service_the_system_does_not_have_is_refused_naming_it() {
        let typo = Settings::from_pairs([("odrer_port", "9005")]).unwrap();
        let err = settings(typo).unwrap_err().to_string();
        assert!(err.contains("SHOP_ODRER_PORT"), "{err}");
    }
}
