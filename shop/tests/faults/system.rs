//! The services as separate processes of the `shop` binary, each with its own store
//! file (or MongoDB database), on a broker of the test's own, in the order of
//! `shop::SERVICES`.

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
        // On MongoDB when `SHOP_TEST_FAULTS_MONGODB_URI` names one (`cargo xtask test`
        // sets it for the consumer-crash test's MongoDB-compatible pass), each system in
        // databases of its own; on store files otherwise.
        let mongodb = std::env::var("SHOP_TEST_FAULTS_MONGODB_URI").ok();
        // MongoDB allows only some characters in a database name (no `.`, `/`, `$`...).
        let unique: String = data
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let prefix = format!("faults_{}_{unique}_", std::process::id());
        let storage = match &mongodb {
            Some(uri) => vec![
                ("SHOP_STORAGE", "mongodb"),
                ("SHOP_MONGODB_URI", uri.as_str()),
                ("SHOP_MONGODB_DATABASE_PREFIX", prefix.as_str()),
            ],
            None => vec![
                ("SHOP_STORAGE", "disk"),
                ("SHOP_DATA_DIR", data_dir.as_str()),
            ],
        };
        let env = [
            ("SHOP_BUS", "kafka"),
            ("SHOP_KAFKA_BROKERS", &brokers),
            ("SHOP_KAFKA_FETCH_WAIT_MAX_MS", "20"),
            ("SHOP_BOOTSTRAP_ADMIN_EMAIL", e2e::ADMIN_EMAIL),
            ("SHOP_BOOTSTRAP_ADMIN_PASSWORD", e2e::ADMIN_PASSWORD),
            ("SHOP_RATE_LIMIT_LOGIN_PER_MINUTE", "10000"),
            ("SHOP_RATE_LIMIT_REGISTER_PER_MINUTE", "10000"),
            ("SHOP_BUS_INITIAL_BACKOFF_MS", "50"),
            // The bus tells when events wait for the ones they follow.
            ("RUST_LOG", "warn,event_bus=info"),
        ]
        .into_iter()
        .chain(storage)
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect::<Vec<_>>();
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
