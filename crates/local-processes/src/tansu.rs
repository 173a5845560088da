//! A tansu Kafka broker on a loopback port of its own.

use std::{
    fs::OpenOptions,
    io,
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use crate::{free_ports, wait_for_port};

/// A tansu broker, killed when dropped. It keeps its port and storage across
/// [`Tansu::kill`] and [`Tansu::restart`], so clients reconnect to the same broker.
pub struct Tansu {
    binary: PathBuf,
    storage: String,
    port: u16,
    log_dir: Option<PathBuf>,
    child: Option<Child>,
}

impl Tansu {
    /// Starts `binary` on a free loopback port, storing in `storage` (`memory://tansu/`
    /// or `postgres://…`), and waits until it listens. Its output is appended to
    /// `tansu-<port>.log` in `log_dir`; without one its log (stdout) is discarded and
    /// only what it says on stderr, which is nothing unless it fails, comes through.
    pub fn start(
        binary: impl Into<PathBuf>,
        storage: &str,
        log_dir: Option<PathBuf>,
    ) -> io::Result<Self> {
        let mut tansu = Self {
            binary: binary.into(),
            storage: storage.to_owned(),
            port: free_ports(1)?[0],
            log_dir,
            child: None,
        };
        tansu.restart()?;
        Ok(tansu)
    }

    /// `host:port`, for Kafka clients' `bootstrap.servers`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILL: the broker dies as in a crash, with its connections open.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            crate::stopping::kill_now(&mut child);
        }
    }

    /// Starts the broker again on the same port and storage, and waits until it
    /// listens. Panics if it is running.
    pub fn restart(&mut self) -> io::Result<()> {
        assert!(self.child.is_none(), "the broker is running");
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let (stdout, stderr) = match &self.log_dir {
            Some(dir) => {
                let log = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(format!("tansu-{}.log", self.port)))?;
                (Stdio::from(log.try_clone()?), Stdio::from(log))
            }
            None => (Stdio::null(), Stdio::inherit()),
        };
        let mut child = Command::new(&self.binary)
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            // By environment, not argument: a storage URL may hold a password, and any
            // local user can read a process's arguments.
            .env("STORAGE_ENGINE", &self.storage)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting tansu: {e}")))?;
        if let Err(e) = wait_for_port(self.port, "tansu", &mut child) {
            crate::stopping::kill_now(&mut child);
            return Err(e);
        }
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
    }
}
