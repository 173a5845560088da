//! The services as processes of the one binary: `<exe> serve <name>`, each on the port
//! its caller chose, every one told every other's port (`SHOP_<NAME>_PORT`).

use std::{
    io::{self, Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use nix::sys::signal::Signal;

use crate::{
    PATIENCE,
    stopping::{Ending, send, wait_until_or_kill},
};

/// The services `exe` holds, in start order, as `<exe> services` prints them: for
/// launchers that do not link the services and so cannot read their list.
pub fn service_names(exe: &Path) -> io::Result<Vec<String>> {
    let output = Command::new(exe)
        .arg("services")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            io::Error::new(e.kind(), format!("running {} services: {e}", exe.display()))
        })?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{} services failed ({})",
            exe.display(),
            output.status
        )));
    }
    let names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(io::Error::other(format!(
            "{} services listed no service",
            exe.display()
        )));
    }
    Ok(names)
}

/// The variable that tells every service where `service` listens: `SHOP_ORDER_PORT`.
pub fn port_variable(service: &str) -> String {
    format!("SHOP_{}_PORT", service.to_uppercase())
}

/// Service processes, killed (SIGKILL) when dropped; [`Services::stop`] lets them
/// drain first.
pub struct Services {
    exe: PathBuf,
    /// The caller's variables and every service's port, for each process.
    env: Vec<(String, String)>,
    /// Every service, in start order, and where it listens.
    addresses: Vec<(String, SocketAddr)>,
    /// The processes that run (a killed one leaves this list until started again).
    running: Vec<(String, Child)>,
}

impl Services {
    /// Starts every service (in the order given) and waits until each answers
    /// `/readyz`; see [`Services::launch`] and [`Services::wait_ready`].
    pub fn start(
        exe: impl Into<PathBuf>,
        addresses: Vec<(String, SocketAddr)>,
        env: &[(String, String)],
    ) -> io::Result<Self> {
        let mut services = Self::launch(exe, addresses, env)?;
        services.wait_ready()?;
        Ok(services)
    }

    /// Starts every service as `<exe> serve <name>` with this process's environment,
    /// `env`, and `SHOP_<NAME>_PORT` for every service, without waiting for them.
    pub fn launch(
        exe: impl Into<PathBuf>,
        addresses: Vec<(String, SocketAddr)>,
        env: &[(String, String)],
    ) -> io::Result<Self> {
        let mut env = env.to_vec();
        env.extend(
            addresses
                .iter()
                .map(|(name, addr)| (port_variable(name), addr.port().to_string())),
        );
        let mut services = Self {
            exe: exe.into(),
            env,
            addresses,
            running: Vec::new(),
        };
        for i in 0..services.addresses.len() {
            let name = services.addresses[i].0.clone();
            services.spawn(&name)?;
        }
        Ok(services)
    }

    /// Waits (a minute at most, for all) until every running service answers
    /// `/readyz`, in start order; an error if one exits meanwhile.
    pub fn wait_ready(&mut self) -> io::Result<()> {
        let names: Vec<String> = self.running.iter().map(|(n, _)| n.clone()).collect();
        self.wait_ready_of(&names)
    }

    /// Starts `service` again (after [`Services::kill`]) and waits until it is ready.
    pub fn restart(&mut self, service: &str) -> io::Result<()> {
        self.spawn(service)?;
        self.wait_ready_of(&[service.to_owned()])
    }

    /// SIGKILL: no draining, no goodbye, as a crash.
    pub fn kill(&mut self, service: &str) {
        if let Some(i) = self.running.iter().position(|(n, _)| n == service) {
            let (_, mut child) = self.running.remove(i);
            crate::stopping::kill_now(&mut child);
        }
    }

    /// The first service that has exited, if any has (and was not killed by us).
    pub fn exited(&mut self) -> Option<&str> {
        self.running
            .iter_mut()
            .find_map(|(name, child)| child.try_wait().ok().flatten().map(|_| name.as_str()))
    }

    /// SIGTERM to every service, so each finishes its in-flight work, then SIGKILL to
    /// those still running after `grace`. Returns the services that had to be killed.
    pub fn stop(mut self, grace: Duration) -> Vec<String> {
        let mut running = std::mem::take(&mut self.running);
        for (_, child) in &mut running {
            send(child, Signal::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        running
            .into_iter()
            .filter_map(|(name, mut child)| {
                (wait_until_or_kill(&mut child, deadline) == Ending::Killed).then_some(name)
            })
            .collect()
    }

    /// The services, in start order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.addresses.iter().map(|(name, _)| name.as_str())
    }

    /// Where `service` listens. Panics for a service this value did not start.
    pub fn address(&self, service: &str) -> SocketAddr {
        self.addresses
            .iter()
            .find(|(name, _)| name == service)
            .unwrap_or_else(|| panic!("{service} is not one of the services started"))
            .1
    }

    fn spawn(&mut self, service: &str) -> io::Result<()> {
        let child = Command::new(&self.exe)
            .args(["serve", service])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting {service}: {e}")))?;
        self.running.push((service.to_owned(), child));
        Ok(())
    }

    fn wait_ready_of(&mut self, services: &[String]) -> io::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        for service in services {
            let address = self.address(service);
            loop {
                if answers_ok(address, "/readyz") {
                    break;
                }
                if let Some(exited) = self.exited() {
                    return Err(exited_while_starting(exited));
                }
                if Instant::now() > deadline {
                    return Err(io::Error::other(format!(
                        "{service} was not ready at http://{address}/readyz within a minute"
                    )));
                }
                sleep(Duration::from_millis(100));
            }
        }
        // A service that died after its probe answered (or whose port answered for
        // someone else) fails the start too.
        match self.exited() {
            Some(exited) => Err(exited_while_starting(exited)),
            None => Ok(()),
        }
    }
}

fn exited_while_starting(service: &str) -> io::Error {
    io::Error::other(format!(
        "{service} exited while starting; see its log above"
    ))
}

impl Drop for Services {
    fn drop(&mut self) {
        for (_, child) in &mut self.running {
            crate::stopping::kill_now(child);
        }
    }
}

/// A plain HTTP GET of `path` answered 200, without pulling an HTTP client in.
fn answers_ok(address: SocketAddr, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

#[cfg(test)]
mod tests {
    use std::{
        net::TcpListener,
        os::unix::fs::PermissionsExt,
        sync::atomic::{AtomicU32, Ordering},
    };

    use super::*;
    use crate::free_ports;

    /// A stand-in for the `shop` binary in its own directory: `services` lists
    /// `steady` and `flaky`; `serve steady` writes the ports and variable it was given
    /// to a file and runs until told to stop; `serve flaky` exits after half a second.
    /// Readiness is answered by the test itself ([`answer_ready`]). Each command
    /// `exec`s, so killing the process leaves no grandchild behind.
    struct Binary {
        dir: PathBuf,
    }

    impl Binary {
        fn new() -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "local-processes-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let script = dir.join("shop");
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\n\
                     case \"$1 $2\" in\n\
                     'services ') printf 'steady\\n\\nflaky\\n' ;;\n\
                     'serve steady') echo \"$SHOP_STEADY_PORT $SHOP_FLAKY_PORT $GREETING\" \
                        > {dir}/steady.env; exec sleep 30 ;;\n\
                     'serve flaky') exec sleep 0.5 ;;\n\
                     *) exit 2 ;;\n\
                     esac\n",
                    dir = dir.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
            Self { dir }
        }

        fn exe(&self) -> PathBuf {
            self.dir.join("shop")
        }
    }

    impl Drop for Binary {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Answers every request on a free port with 200, as a ready service would.
    fn answer_ready() -> SocketAddr {
        let port = free_ports(1).unwrap()[0];
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
        });
        listener_address(port)
    }

    fn listener_address(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn the_names_are_the_binary_s_list_in_its_order() {
        let binary = Binary::new();
        assert_eq!(service_names(&binary.exe()).unwrap(), ["steady", "flaky"]);
    }

    #[test]
    fn every_service_is_told_every_port_and_the_caller_s_variables() {
        let binary = Binary::new();
        let steady = answer_ready();
        let flaky = listener_address(free_ports(1).unwrap()[0]);
        let env = [("GREETING".to_owned(), "hello".to_owned())];
        let mut services = Services::launch(
            binary.exe(),
            vec![("steady".to_owned(), steady), ("flaky".to_owned(), flaky)],
            &env,
        )
        .unwrap();
        services.kill("flaky");
        services.wait_ready().unwrap();
        let written = binary.dir.join("steady.env");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !written.exists() && Instant::now() < deadline {
            sleep(Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(written).unwrap().trim(),
            format!("{} {} hello", steady.port(), flaky.port())
        );
        assert_eq!(services.stop(Duration::from_secs(10)), Vec::<String>::new());
    }

    #[test]
    fn a_service_that_exits_while_starting_is_named() {
        let binary = Binary::new();
        let never_ready = listener_address(free_ports(1).unwrap()[0]);
        let error = Services::start(binary.exe(), vec![("flaky".to_owned(), never_ready)], &[])
            .err()
            .expect("the start fails");
        assert_eq!(
            error.to_string(),
            "flaky exited while starting; see its log above"
        );
    }

    #[test]
    fn a_service_that_exits_after_starting_is_reported_and_can_be_started_again() {
        let binary = Binary::new();
        let ready = answer_ready();
        let mut services =
            Services::start(binary.exe(), vec![("flaky".to_owned(), ready)], &[]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while services.exited().is_none() {
            assert!(Instant::now() < deadline, "flaky never exited");
            sleep(Duration::from_millis(50));
        }
        assert_eq!(services.exited(), Some("flaky"));
        services.kill("flaky");
        assert_eq!(services.exited(), None);
        services.restart("flaky").unwrap();
        assert_eq!(services.address("flaky"), ready);
        // The listener above answers readiness whatever runs, so only a process that was
        // really started again can be seen exiting again.
        let deadline = Instant::now() + Duration::from_secs(10);
        while services.exited().is_none() {
            assert!(Instant::now() < deadline, "flaky was not started again");
            sleep(Duration::from_millis(50));
        }
    }
}
