//! The tansu Kafka broker the tests run on: installed once into a cache outside the
//! checkout, and started in memory on a free port for one `xtask test`.

use std::path::PathBuf;

use anyhow::Context;
use local_processes::Tansu;

use crate::cargo::{cache_dir, cargo, check};

/// The tansu release the tests were written against.
const TANSU_VERSION: &str = "0.6.0";

/// The tansu binary, installed from crates.io on first use (about ten minutes on two
/// cores) into a cache outside the checkout, so later runs and fresh clones reuse it.
pub fn install_tansu() -> anyhow::Result<PathBuf> {
    let root = cache_dir().join(format!("tansu-{TANSU_VERSION}"));
    let binary = root.join("bin/tansu");
    if binary.exists() {
        return Ok(binary);
    }
    eprintln!(
        "xtask: installing the tansu Kafka broker {TANSU_VERSION} into {} (once; about ten minutes)",
        root.display()
    );
    let status = cargo()
        .args(["install", "tansu", "--locked", "--version", TANSU_VERSION])
        .args(["--features", "dynostore,postgres", "--root"])
        .arg(&root)
        .status()
        .context("running cargo install tansu")?;
    check("cargo install tansu", status)?;
    Ok(binary)
}

/// A tansu broker keeping its topics in memory, stopped when dropped.
pub struct Broker {
    tansu: Tansu,
}

impl Broker {
    /// Installs tansu if needed and starts it.
    pub fn start() -> anyhow::Result<Self> {
        let tansu = Tansu::start(install_tansu()?, "memory://tansu/", None)?;
        eprintln!("xtask: tansu broker listening on {}", tansu.address());
        Ok(Self { tansu })
    }

    /// `host:port`, for Kafka clients' bootstrap servers.
    pub fn address(&self) -> String {
        self.tansu.address()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.tansu.kill();
        eprintln!("xtask: stopped the tansu broker");
    }
}
