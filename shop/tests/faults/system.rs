//! The services as separate processes of the `shop` binary, each with its own store
//! file, on a broker of the test's own, in the order of `shop::SERVICES`.

use std::net::SocketAddr;

use local_processes::{Services, free_ports};
use tempfile::TempDir;

use crate::broker::Broker;

pub struct System {
    /// Killed (SIGKILL) when dropped, before their store files are deleted.
    services: Services,
    _data: TempDir,
}

impl System {
    /// Every service on a free loopback port, stores under a fresh directory, events
    /// through `broker`; ready when this returns.
    pub fn start(broker: &Broker) -> Self {
        let exe = env!("CARGO_BIN_EXE_shop");
        let ports = free_ports(shop::SERVICES.len() as u16).expect("free ports for the services");
        let addresses = shop::SERVICES
            .iter()
            .zip(ports)
            .map(|(service, port)| {
                let address = SocketAddr::from(([127, 0, 0, 1], port));
                (service.name.as_str().to_owned(), address)
            })
            .collect();
        let data = tempfile::tempdir().unwrap();
        let brokers = broker.address();
        let data_dir = data.path().display().to_string();
        let env = [
            ("SHOP_BUS", "kafka"),
            ("SHOP_KAFKA_BROKERS", &brokers),
            ("SHOP_KAFKA_FETCH_WAIT_MAX_MS", "20"),
            ("SHOP_STORAGE", "disk"),
            ("SHOP_DATA_DIR", &data_dir),
            ("SHOP_BOOTSTRAP_ADMIN_EMAIL", e2e::ADMIN_EMAIL),
            ("SHOP_BOOTSTRAP_ADMIN_PASSWORD", e2e::ADMIN_PASSWORD),
            ("SHOP_RATE_LIMIT_LOGIN_PER_MINUTE", "10000"),
            ("SHOP_RATE_LIMIT_REGISTER_PER_MINUTE", "10000"),
            ("SHOP_BUS_INITIAL_BACKOFF_MS", "50"),
            // The bus tells when events wait for the ones they follow.
            ("RUST_LOG", "warn,event_bus=info"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let services = Services::start(exe, addresses, &env).expect("every service is ready");
        Self {
            services,
            _data: data,
        }
    }

    /// The services, in start order.
    pub fn names(&self) -> Vec<&str> {
        self.services.names().collect()
    }

    /// Starts `service` again (after [`System::kill`]) and waits until it is ready.
    pub fn restart(&mut self, service: &str) {
        self.services
            .restart(service)
            .unwrap_or_else(|e| panic!("{service} starts again: {e}"));
    }

    /// SIGKILL: no draining, no goodbye, as a crash.
    pub fn kill(&mut self, service: &str) {
        self.services.kill(service);
    }

    pub fn gateway(&self) -> String {
        let gateway = gateway_service::SERVICE.name.as_str();
        format!("http://{}", self.services.address(gateway))
    }
}
