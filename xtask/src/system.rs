//! The system for the end-to-end passes and the live monitoring check: `shop up
//! --distributed` on the broker, or `shop up` in one process, each service on a free
//! port. The `shop` binary says which services there are; xtask never lists them.

use std::{
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use local_processes::{Signal, free_ports, port_variable, service_names, stop};

use crate::cargo::{cargo, check, workspace_root};

/// The admin the system is started with, for the scenarios to act as: e2e's own
/// defaults (`e2e::ADMIN_EMAIL`, `e2e::ADMIN_PASSWORD`; xtask links no workspace crate).
pub const ADMIN_EMAIL: &str = "admin@shop.test";
pub const ADMIN_PASSWORD: &str = "admin password for e2e";

/// `shop up` (with `--distributed`, the services as processes of their own) and the
/// services it runs; stopped when dropped, with SIGTERM first so that the services
/// drain.
pub struct System {
    child: Child,
    /// Each service and the local port it answers on, the gateway last.
    pub ports: Vec<(String, u16)>,
}

impl System {
    /// The services as processes on the broker, on free ports, with the storage that
    /// `storage` (`SHOP_STORAGE` and what it needs) selects; and the gateway's URL.
    pub fn start(brokers: &str, storage: &[(&str, &str)]) -> anyhow::Result<(Self, String)> {
        Self::launch(
            &["up", "--distributed", "--kafka-brokers", brokers],
            storage,
        )
    }

    /// `shop up`: the whole system in one process, on free ports.
    pub fn in_one_process(storage: &[(&str, &str)]) -> anyhow::Result<(Self, String)> {
        Self::launch(&["up"], storage)
    }

    fn launch(args: &[&str], storage: &[(&str, &str)]) -> anyhow::Result<(Self, String)> {
        let status = cargo().args(["build", "-p", "shop"]).status()?;
        check("cargo build -p shop", status)?;
        let binary = workspace_root().join("target/debug/shop");
        let services = service_names(&binary)?;
        let mut command = Command::new(binary);
        command
            .args(args)
            .envs(storage.iter().copied())
            .env("SHOP_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SHOP_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // Scenarios register and log in many accounts from one address.
            .env("SHOP_RATE_LIMIT_LOGIN_PER_MINUTE", "10000")
            .env("SHOP_RATE_LIMIT_REGISTER_PER_MINUTE", "10000")
            .env("SHOP_BUS_INITIAL_BACKOFF_MS", "50")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        // The broker's port (taken just before) is in use now, so the blocks differ.
        let ports = free_ports(services.len() as u16)?;
        for (service, port) in services.iter().zip(&ports) {
            command.env(port_variable(service), port.to_string());
        }
        // `shop services` lists the gateway, which fronts the others, last.
        let gateway_port = *ports.last().expect("shop holds services");
        let child = command
            .spawn()
            .with_context(|| format!("starting shop {}", args.join(" ")))?;
        let mut system = Self {
            child,
            ports: services.into_iter().zip(ports).collect(),
        };
        system.wait_for_banner()?;
        Ok((system, format!("http://127.0.0.1:{gateway_port}")))
    }

    /// `up` prints its banner once every service answers /readyz; its output is passed
    /// through meanwhile and after.
    fn wait_for_banner(&mut self) -> anyhow::Result<()> {
        let stdout = self.child.stdout.take().expect("stdout is piped");
        let (ready, banner) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                eprintln!("{line}");
                if line.starts_with("shop is up") {
                    let _ = ready.send(());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        while banner.try_recv().is_err() {
            if let Some(status) = self.child.try_wait()? {
                bail!("shop up exited before it was ready ({status})");
            }
            if Instant::now() > deadline {
                bail!("the services were not ready within 90 s");
            }
            sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for System {
    fn drop(&mut self) {
        stop(&mut self.child, Signal::SIGTERM, Duration::from_secs(30));
        eprintln!("xtask: stopped the services");
    }
}
