//! `shop up --distributed`: the nine services as nine processes of this binary
//! (`shop serve <service>`), talking through Kafka. It is the production shape on one
//! machine: no service shares memory, a store or a bus with another.

use std::{process::Stdio, time::Duration};

use nix::{sys::signal::Signal, unistd::Pid};
use service_kit::{ServiceName, Settings};

use crate::SERVICES;
use tokio::process::{Child, Command};

pub struct Processes {
    children: Vec<(ServiceName, Child)>,
}

impl Processes {
    /// Starts every service as `shop serve <name>` with the parent's environment plus
    /// `env`, and waits until each answers `/readyz` (a minute at most).
    pub async fn start(settings: &Settings, env: &[(String, String)]) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut processes = Self {
            children: Vec::new(),
        };
        for name in SERVICES.iter().map(|s| s.name) {
            let child = Command::new(&exe)
                .args(["serve", name.as_str()])
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| anyhow::anyhow!("starting {name}: {e}"))?;
            processes.children.push((name, child));
        }
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        for name in SERVICES.iter().map(|s| s.name) {
            let url = format!("{}/readyz", settings.url(name));
            loop {
                if http
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    break;
                }
                if let Some(exited) = processes.exited().await {
                    processes.stop().await;
                    anyhow::bail!("{exited} exited while starting; see its log above");
                }
                if tokio::time::Instant::now() > deadline {
                    processes.stop().await;
                    anyhow::bail!("{name} was not ready at {url} within a minute");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // A service that died after its probe answered (or whose port answered for
        // someone else) fails the start too.
        if let Some(exited) = processes.exited().await {
            processes.stop().await;
            anyhow::bail!("{exited} exited while starting; see its log above");
        }
        Ok(processes)
    }

    /// The first service that exited, if any did.
    pub async fn exited(&mut self) -> Option<ServiceName> {
        self.children
            .iter_mut()
            .find_map(|(name, child)| child.try_wait().ok().flatten().map(|_| *name))
    }

    /// Resolves when any service exits on its own.
    pub async fn any_exit(&mut self) -> ServiceName {
        loop {
            if let Some(name) = self.exited().await {
                return name;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM to every service (they drain), then waits; SIGKILL after 20 s.
    pub async fn stop(self) {
        for (_, child) in &self.children {
            if let Some(pid) = child.id() {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
            }
        }
        for (name, mut child) in self.children {
            match tokio::time::timeout(Duration::from_secs(20), child.wait()).await {
                Ok(_) => {}
                Err(_) => {
                    eprintln!("{name} did not stop within 20 s; killing it");
                    let _ = child.kill().await;
                }
            }
        }
    }
}
