//! MongoDB and Kafka in containers for the last end-to-end pass, where Docker runs:
//! started by the `e2e-containers` binary (testcontainers), which reports their
//! addresses and removes them when its stdin closes.

use std::{
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use local_processes::{Ending, wait_or_kill};

use crate::cargo::cargo;

pub fn docker_available() -> bool {
    std::env::var_os("DOCKER_HOST").is_some()
        || std::path::Path::new("/var/run/docker.sock").exists()
}

/// A MongoDB replica set and an Apache Kafka broker in containers, started by the
/// `e2e-containers` binary (testcontainers); removed when dropped.
pub struct Containers {
    child: Child,
}

impl Containers {
    /// The containers, the MongoDB URI and the Kafka bootstrap address.
    pub fn start() -> anyhow::Result<(Self, String, String)> {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let mut child = cargo()
            .args(["run", "-q", "-p", "e2e", "--features", "containers"])
            .args(["--bin", "e2e-containers"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Out of the terminal's process group: Ctrl-C stops xtask, whose exit closes
            // the pipe, and e2e-containers then removes the containers instead of dying
            // with them still running.
            .process_group(0)
            .spawn()
            .context("starting e2e-containers")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut containers = Self { child };
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let (mut mongodb, mut kafka) = (None, None);
        // Pulling the images the first time takes a while; a hang must not last forever.
        let deadline = Instant::now() + Duration::from_secs(600);
        while mongodb.is_none() || kafka.is_none() {
            match received.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(uri) = line.strip_prefix("mongodb=") {
                        mongodb = Some(uri.to_owned());
                    } else if let Some(address) = line.strip_prefix("kafka=") {
                        kafka = Some(address.to_owned());
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if containers.child.try_wait()?.is_some() || Instant::now() > deadline {
                        break;
                    }
                }
            }
        }
        match (mongodb, kafka) {
            (Some(mongodb), Some(kafka)) => {
                eprintln!("xtask: MongoDB at {mongodb}, Kafka at {kafka} (containers)");
                Ok((containers, mongodb, kafka))
            }
            _ => {
                bail!(
                    "e2e-containers did not report both containers up within ten minutes (see above)"
                )
            }
        }
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        // Closing its stdin tells e2e-containers to remove them.
        drop(self.child.stdin.take());
        match wait_or_kill(&mut self.child, Duration::from_secs(60)) {
            Ending::Exited => eprintln!("xtask: removed the MongoDB and Kafka containers"),
            Ending::Killed => {
                eprintln!("xtask: e2e-containers did not exit; its containers may remain")
            }
        }
    }
}
