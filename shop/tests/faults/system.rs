//! The nine services as separate processes of the `shop` binary, each with its own
//! store file, on a broker of the test's own.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub const SERVICES: [&str; 9] = [
    "auth",
    "user",
    "product",
    "cart",
    "order",
    "payment",
    "shipping",
    "notification",
    "gateway",
];

/// Consecutive free ports below the kernel's ephemeral range (see xtask).
pub fn free_ports(n: u16) -> Vec<u16> {
    let start = 20_000 + (std::process::id() % 500) as u16 * 20;
    for base in (start..30_000)
        .step_by(20)
        .chain((20_000..start).step_by(20))
    {
        let held: Vec<TcpListener> = (base..base + n)
            .map_while(|p| TcpListener::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return (base..base + n).collect();
        }
    }
    panic!("no block of {n} free ports");
}

pub struct System {
    env: Vec<(String, String)>,
    ports: Vec<u16>,
    children: Vec<(&'static str, Child)>,
}

impl System {
    pub fn start(brokers: &str, data_dir: &Path) -> Self {
        let ports = free_ports(SERVICES.len() as u16);
        let mut env = vec![
            ("SHOP_BUS".to_owned(), "kafka".to_owned()),
            ("SHOP_KAFKA_BROKERS".to_owned(), brokers.to_owned()),
            ("SHOP_KAFKA_FETCH_WAIT_MAX_MS".to_owned(), "20".to_owned()),
            ("SHOP_STORAGE".to_owned(), "disk".to_owned()),
            ("SHOP_DATA_DIR".to_owned(), data_dir.display().to_string()),
            (
                "SHOP_BOOTSTRAP_ADMIN_EMAIL".to_owned(),
                e2e::ADMIN_EMAIL.to_owned(),
            ),
            (
                "SHOP_BOOTSTRAP_ADMIN_PASSWORD".to_owned(),
                e2e::ADMIN_PASSWORD.to_owned(),
            ),
            (
                "SHOP_RATE_LIMIT_LOGIN_PER_MINUTE".to_owned(),
                "10000".to_owned(),
            ),
            (
                "SHOP_RATE_LIMIT_REGISTER_PER_MINUTE".to_owned(),
                "10000".to_owned(),
            ),
            ("SHOP_BUS_INITIAL_BACKOFF_MS".to_owned(), "50".to_owned()),
            // The bus tells when events wait for the ones they follow.
            ("RUST_LOG".to_owned(), "warn,event_bus=info".to_owned()),
        ];
        for (service, port) in SERVICES.iter().zip(&ports) {
            env.push((
                format!("SHOP_{}_PORT", service.to_uppercase()),
                port.to_string(),
            ));
        }
        let mut system = Self {
            env,
            ports,
            children: Vec::new(),
        };
        for service in SERVICES {
            system.spawn(service);
        }
        system
    }

    pub fn port(&self, service: &str) -> u16 {
        self.ports[SERVICES.iter().position(|s| *s == service).unwrap()]
    }

    pub fn spawn(&mut self, service: &'static str) {
        let child = Command::new(env!("CARGO_BIN_EXE_shop"))
            .args(["serve", service])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .spawn()
            .expect("a service process starts");
        self.children.push((service, child));
        self.wait_ready(service);
    }

    fn wait_ready(&self, service: &str) {
        let url = format!("http://127.0.0.1:{}/readyz", self.port(service));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http_ok(&url) {
                return;
            }
            assert!(Instant::now() < deadline, "{service} not ready at {url}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no draining, no goodbye, as a crash.
    pub fn kill(&mut self, service: &str) {
        let i = self
            .children
            .iter()
            .position(|(s, _)| *s == service)
            .unwrap();
        let (_, mut child) = self.children.remove(i);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn gateway(&self) -> String {
        format!("http://127.0.0.1:{}", self.port("gateway"))
    }
}

impl Drop for System {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A plain HTTP GET answered 200, without pulling a blocking client in.
fn http_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}
