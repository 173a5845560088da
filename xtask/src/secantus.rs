//! A MongoDB-compatible server for the MongoDB path on a machine without Docker: the
//! server of the PyPI package SecantusDB (a document database on WiredTiger that speaks
//! MongoDB's wire protocol and runs as a one-member replica set). It is GPL-licensed, so
//! it is only ever installed into a virtual environment under the cache and run as a
//! separate process, never vendored or linked. Real MongoDB runs where Docker does
//! (testcontainers, GitHub's runners).

use std::{
    fs,
    path::PathBuf,
    process::{Child, Stdio},
    time::Duration,
};

use anyhow::Context;
use local_processes::{Signal, free_ports, stop, wait_for_port};

use crate::{artifacts::Venv, cargo::workspace_root};

/// All of SecantusDB's releases are pre-releases: pinned to the one the adapter was
/// checked against.
const PACKAGE: &str = "secantusdb==0.7.0b3";

/// What the passes that run on it are called.
pub const NAME: &str = "MongoDB-compatible (SecantusDB)";

/// The server on a free loopback port, its data in a directory of its own that is
/// deleted when it stops (dropped).
pub struct Secantus {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Secantus {
    pub fn start() -> anyhow::Result<Self> {
        let venv = Venv::ensure("secantus-venv", &[PACKAGE])?;
        let port = free_ports(1)?[0];
        let dir = workspace_root().join(format!("target/secantus-{port}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        // An explicit (empty) config turns off the search for one in the working
        // directory and the home directory.
        let config = dir.join("secantusd.toml");
        fs::write(&config, "")?;
        let mut child = venv
            .bin("secantusd-py")
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--storage-path")
            .arg(dir.join("data"))
            .args(["--log-level", "WARNING"])
            .stdin(Stdio::null())
            .spawn()
            .context("starting secantusd-py")?;
        wait_for_port(port, "secantusd-py", &mut child)?;
        eprintln!("xtask: {NAME} listening on 127.0.0.1:{port}");
        Ok(Self { child, port, dir })
    }

    /// A connection string for the official driver. Direct: the server is its replica
    /// set's only member, and transactions need no discovery.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }
}

impl Drop for Secantus {
    fn drop(&mut self) {
        // It takes up to about five seconds to close WiredTiger on SIGTERM.
        stop(&mut self.child, Signal::SIGTERM, Duration::from_secs(15));
        let _ = fs::remove_dir_all(&self.dir);
        eprintln!("xtask: stopped the {NAME} server");
    }
}
