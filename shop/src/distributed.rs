//! `shop up --distributed`: the nine services as nine processes of this binary
//! (`shop serve <service>`), talking through Kafka. It is the production shape on one
//! machine: no service shares memory, a store or a bus with another. Starting, watching
//! and stopping the processes is `local_processes`' job, which xtask and the fault tests
//! share; this shell gives it the services in start order and their ports, and runs its
//! blocking calls off the async runtime.

use std::{net::SocketAddr, time::Duration};

use local_processes::Services;
use service_kit::{ServiceName, Settings};

use crate::SERVICES;

/// How long each service may take to finish its in-flight work once told to stop.
const DRAIN: Duration = Duration::from_secs(20);

pub struct Processes {
    services: Services,
}

impl Processes {
    /// Starts every service as `shop serve <name>` with the parent's environment plus
    /// `env`, and waits until each answers `/readyz` (a minute at most).
    pub async fn start(settings: &Settings, env: &[(String, String)]) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let addresses = SERVICES
            .iter()
            .map(|s| {
                let address = SocketAddr::new(settings.host, settings.port(s.name));
                (s.name.as_str().to_owned(), address)
            })
            .collect();
        let env = env.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut services = Services::launch(exe, addresses, &env)?;
            if let Err(e) = services.wait_ready() {
                report_killed(services.stop(DRAIN));
                return Err(e.into());
            }
            Ok(Self { services })
        })
        .await?
    }

    /// The first service that exited, if any did.
    fn exited(&mut self) -> Option<ServiceName> {
        let exited = self.services.exited()?;
        SERVICES.iter().map(|s| s.name).find(|name| *name == exited)
    }

    /// Resolves when any service exits on its own.
    pub async fn any_exit(&mut self) -> ServiceName {
        loop {
            if let Some(name) = self.exited() {
                return name;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM to every service (they drain), then waits; SIGKILL after [`DRAIN`].
    pub async fn stop(self) {
        let services = self.services;
        match tokio::task::spawn_blocking(move || services.stop(DRAIN)).await {
            Ok(killed) => report_killed(killed),
            Err(e) => eprintln!("stopping the services: {e}"),
        }
    }
}

fn report_killed(killed: Vec<String>) {
    for name in killed {
        eprintln!(
            "{name} did not stop within {} s; it was killed",
            DRAIN.as_secs()
        );
    }
}
