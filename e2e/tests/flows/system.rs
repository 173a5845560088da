//! Where a scenario runs: the system at `E2E_BASE_URL`, or the whole system started in
//! this test process, in memory, on free ports. This is the one part of the e2e
//! harness that knows the services (through `shop`); the scenarios see a [`Target`].

use e2e::{ADMIN_EMAIL, ADMIN_PASSWORD, Target};
use event_bus::InProcessBus;

pub struct System {
    pub target: Target,
    /// Kept alive for an in-process system, until [`System::stop`].
    running: Option<shop::RunningSystem>,
}

impl System {
    /// `E2E_BASE_URL` if set, else the embedded system in this process.
    pub async fn from_env() -> anyhow::Result<Self> {
        match Target::from_env() {
            Some(target) => Ok(Self {
                target,
                running: None,
            }),
            None => Self::in_process(&[]).await,
        }
    }

    /// The embedded system, in memory, on free ports, with extra settings applied.
    pub async fn in_process(extra: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut pairs = vec![
            ("storage", "memory"),
            ("bootstrap_admin_email", ADMIN_EMAIL),
            ("bootstrap_admin_password", ADMIN_PASSWORD),
            ("bus_initial_backoff_ms", "10"),
        ];
        pairs.extend_from_slice(extra);
        let settings = service_kit::Settings::from_pairs(pairs)?;
        let running = shop::start(settings, shop::Ports::Ephemeral).await?;
        let mut target = Target::remote(&running.gateway_url());
        target.admin_email = ADMIN_EMAIL.into();
        target.admin_password = ADMIN_PASSWORD.into();
        target.service_urls = running
            .services()
            .map(|(_, addr)| format!("http://{addr}"))
            .collect();
        Ok(Self {
            target,
            running: Some(running),
        })
    }

    /// The bus of an in-process system, for scenarios that inspect or replay events.
    pub fn bus(&self) -> Option<&InProcessBus> {
        self.running.as_ref().map(|s| s.bus())
    }

    pub async fn stop(self) {
        if let Some(running) = self.running {
            running.stop().await;
        }
    }
}
