//! Starting and stopping the system's processes on this machine, for tests and
//! launchers: free loopback ports, a tansu broker, and the services as processes of the
//! `shop` binary (`<exe> serve <name>`), each waited for until its `/readyz` answers.
//! xtask, the fault tests and `shop up --distributed` all start processes through it,
//! so there is one way to do it. It must stay lean (std and nix, no async runtime, no
//! HTTP client, none of the workspace's service crates, because xtask builds it first),
//! and it must never name a service: the caller says which ones, or asks the binary
//! ([`service_names`]).

mod ports;
mod services;
mod stopping;
mod tansu;

pub use nix::sys::signal::Signal;
pub use ports::{free_ports, wait_for_port};
pub use services::{Services, port_variable, service_names};
pub use stopping::{Ending, stop, wait_or_kill};
pub use tansu::Tansu;

use std::time::Duration;

/// How long a process may take to listen or to become ready. Generous: a debug build
/// of a service on a busy two-core machine takes seconds to answer its first probe.
const PATIENCE: Duration = Duration::from_secs(60);
